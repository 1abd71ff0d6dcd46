"""The OpenAPI 3.1 description of `newsearch serve`'s API, written by hand so
that it says exactly what the endpoints answer (tests check each response
against it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["openapi_document"]

_NULLABLE_TEXT = {"type": ["string", "null"]}
_SPANS = {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": 0},
                                     "minItems": 2, "maxItems": 2},
          "description": "[start, end) character ranges of the text they belong to, one per highlighted word or phrase"}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": list(properties),
              "additionalProperties": False}
    return {**schema, "description": description} if description else schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _integer(name: str, bounds: tuple[int, int], default: int, description: str) -> dict[str, Any]:
    least, most = bounds
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "integer", "minimum": least, "maximum": most, "default": default}}


def openapi_document(bounds: Mapping[str, tuple[int, int]], max_query: int, max_text: int) -> dict[str, Any]:
    """The document served at ``/openapi.json``; ``bounds`` are the integer
    parameters' inclusive bounds, ``max_query`` and ``max_text`` the longest
    ``q`` and other text parameter."""
    hit = _object({
        "rank": {"type": "integer", "minimum": 1, "description": "place in the whole ranking"},
        "id": {"type": "string", "description": "the article's id, for /api/articles/{id}"},
        "path": {"type": "string"}, "title": {"type": "string"},
        "date": {"type": ["string", "null"], "format": "date"},
        "source": _NULLABLE_TEXT, "author": _NULLABLE_TEXT, "url": _NULLABLE_TEXT, "lede": _NULLABLE_TEXT,
        "score": {"type": "number", "description": "tier (whole part) and relevance within it (fraction)"},
        "snippet": {"type": "string"}, "highlights": _SPANS, "title_highlights": _SPANS,
        "duplicates": _object({
            "count": {"type": "integer", "minimum": 0},
            "ids": {"type": "array", "items": {"type": "string"}},
        }, "the matching articles folded into this hit as its duplicates (none with collapse=false)"),
    })
    facet = _object({"value": {"type": "string", "description": "what the filter takes (a year, a source)"},
                     "count": {"type": "integer", "minimum": 1}})
    results = {
        "query": {"type": "string"},
        "total": {"type": "integer", "minimum": 0,
                  "description": "the hits of every page: the matching articles less the folded duplicates"},
        "total_exact": {"type": "boolean",
                        "description": "false where total and folded are lower bounds ('at least'): the "
                                       "count of a phrase's matches stopped past 1,000 (Lucene's "
                                       "track_total_hits); never with facets, so always true here"},
        "folded": {"type": "integer", "minimum": 0,
                   "description": "matching articles folded into a better-ranked hit as its duplicates"},
        "page": {"type": "integer", "minimum": 1}, "limit": {"type": "integer", "minimum": 1},
        "suggestion": {"type": ["string", "null"], "description": "the 'did you mean' query"},
        "hits": {"type": "array", "items": _ref("Hit")},
    }
    schemas = {
        "Hit": hit,
        "Facet": facet,
        "Facets": _object({"years": {"type": "array", "items": _ref("Facet"), "description": "newest first"},
                           "sources": {"type": "array", "items": _ref("Facet"),
                                       "description": "most articles first"}}),
        "SearchResults": _object({**results, "facets": _ref("Facets")}, "newsearch query --json, plus facets"),
        "SimilarResults": _object(results, "newsearch similar --json"),
        "Article": _object({
            "id": {"type": "string"}, "path": {"type": "string"}, "title": {"type": "string"},
            "date": {"type": ["string", "null"], "format": "date"},
            "source": _NULLABLE_TEXT, "author": _NULLABLE_TEXT, "url": _NULLABLE_TEXT, "lede": _NULLABLE_TEXT,
            "body": {"type": "string"},
            "highlights": _object({"title": _SPANS, "lede": _SPANS, "body": _SPANS}),
        }, "newsearch show --json"),
        "Info": _object({
            "articles": {"type": "integer", "minimum": 0}, "terms": {"type": "integer", "minimum": 0},
            "size_bytes": {"type": "integer", "minimum": 0},
            "last_update": {"type": ["string", "null"],
                            "description": "the last commit, in the server's local time: 2023-09-12T08:30:00"},
            "analyzer": {"type": "string"},
        }, "newsearch info --json, without the index's path"),
        "Health": _object({"status": {"const": "ok"}}),
        "Error": _object({"error": {"type": "string", "description": "what was wrong, in one line"}}),
    }
    error = _ref("Error")
    bad, unknown = _json(error, "a parameter is missing, malformed or out of bounds"), _json(error, "unknown id")
    unavailable = _json(error, "the index is missing or cannot be read")
    text = {"type": "string", "maxLength": max_text}
    date = {**text, "format": "date",
            "description": "2023-09-12; 12/09/2023 (day first) and 12 septembre 2023 are read too"}
    output = [
        _integer("fragments", bounds["fragments"], 1, "passages per snippet"),
        _integer("fragment_size", bounds["fragment_size"], 200, "characters per passage"),
    ]
    article_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
                  "description": "an id as hits show it, percent-encoded whole ('/' as %2F)"}
    highlight = {"name": "q", "in": "query", "required": False,
                 "schema": {"type": "string", "maxLength": max_query},
                 "description": "a query whose words to highlight"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "newsearch", "version": "1",
                 "description": "Full-text search over French news articles. Errors are {\"error\": \"...\"}."},
        "paths": {
            "/api/search": {"get": {
                "operationId": "search", "summary": "A page of hits for a query, with facets",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "description": "the query (README: syntax)",
                     "schema": {"type": "string", "minLength": 1, "maxLength": max_query}},
                    _integer("limit", bounds["limit"], 10, "hits per page"),
                    _integer("page", bounds["page"], 1, "page of results"),
                    {"name": "since", "in": "query", "required": False, "schema": date,
                     "description": "only articles from this date on"},
                    {"name": "until", "in": "query", "required": False, "schema": date,
                     "description": "only articles up to this date"},
                    {"name": "source", "in": "query", "required": False, "schema": text,
                     "description": "only articles from this source (case and accents ignored)"},
                    {"name": "sort", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["relevance", "date"], "default": "relevance"}},
                    {"name": "collapse", "in": "query", "required": False,
                     "description": "false: list duplicates as hits of their own instead of folding them",
                     "schema": {"type": "string", "enum": ["true", "false"], "default": "true"}},
                    *output,
                ],
                "responses": {"200": _json(_ref("SearchResults"), "the hits"), "400": bad, "503": unavailable},
            }},
            "/api/articles/{id}": {"get": {
                "operationId": "article", "summary": "A whole article",
                "parameters": [article_id, highlight],
                "responses": {"200": _json(_ref("Article"), "the article"), "400": bad, "404": unknown,
                              "503": unavailable},
            }},
            "/api/articles/{id}/similar": {"get": {
                "operationId": "similar", "summary": "The articles closest to one article, itself excluded",
                "parameters": [article_id, _integer("limit", bounds["limit"], 10, "hits"), *output],
                "responses": {"200": _json(_ref("SimilarResults"), "the hits"), "400": bad, "404": unknown,
                              "503": unavailable},
            }},
            "/api/info": {"get": {
                "operationId": "info", "summary": "What the index holds",
                "responses": {"200": _json(_ref("Info"), "the index"), "503": unavailable},
            }},
            "/health": {"get": {
                "operationId": "health", "summary": "Whether the index answers queries",
                "responses": {"200": _json(_ref("Health"), "ready"), "503": unavailable},
            }},
        },
        "components": {"schemas": schemas},
    }
