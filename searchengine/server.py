"""The search page and the JSON API of `newsearch serve`, as an ASGI app.

`create_app(index_dir)` builds a Starlette app over one `SearchEngine`, shared
by the threads Starlette runs the endpoints in (search is CPU-bound and
synchronous, so the endpoints are plain functions); `newsearch serve` runs one
such app per worker process under uvicorn. The index folder is fixed when the
app is made: no part of a request names a file, and the only file served is
the packaged stylesheet, read once at start. Pages are Jinja2 templates with
autoescape; the API answers errors as ``{"error": "..."}`` with 400 (bad
parameter), 404 (unknown id or path), 503 (index unavailable), and 500 (a bug:
logged, never shown).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import logging
import math
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .articles import parse_date
from .engine import SearchEngine
from .errors import ArticleNotFound, BadQuery, IndexCorrupt, IndexLocked, IndexNotFound
from .openapi import openapi_document
from .render import article_dict, facets_dict, info_dict, linkable, mark, results_dict

__all__ = ["BOUNDS", "BadParameter", "SearchParams", "app_from_environment", "create_app", "environment",
           "article_url"]

log = logging.getLogger("newsearch.server")

MAX_QUERY = 2_000
"""Characters of ``q``; a longer one is refused (400), never cut silently."""
MAX_TEXT = 200
"""Characters of the other text parameters (``source``, dates)."""
BOUNDS = {"limit": (1, 100), "page": (1, 1_000), "fragments": (1, 10), "fragment_size": (20, 2_000)}
"""Inclusive bounds of the integer parameters: the CLI's least values, and a most one."""

_INDEX_ENV, _CORS_ENV = "NEWSEARCH_SERVE_INDEX", "NEWSEARCH_SERVE_CORS"
_CLUSTER_ENV, _CLUSTER_INDEX_ENV = "NEWSEARCH_SERVE_OPENSEARCH", "NEWSEARCH_SERVE_OPENSEARCH_INDEX"
_UNAVAILABLE = (IndexNotFound, IndexLocked, IndexCorrupt)
_DIGITS = re.compile(r"[0-9]{1,9}")
_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'")


class BadParameter(ValueError):
    """A request parameter that is missing, malformed or out of bounds: 400."""


@dataclass(frozen=True)
class SearchParams:
    """What ``/`` and ``/api/search`` take; the defaults are the CLI's."""

    q: str = ""
    limit: int = 10
    page: int = 1
    since: dt.date | None = None
    until: dt.date | None = None
    source: str | None = None
    sort: str = "relevance"
    fragments: int = 1
    fragment_size: int = 200
    collapse: bool = True
    """False lists duplicates as hits of their own (``collapse=false``)."""

    @classmethod
    def parse(cls, values: Mapping[str, str], *, form: bool = False) -> SearchParams:
        """The parameters of a query string. ``form``: an empty value (as an
        empty form field sends) counts as absent. Raises :class:`BadParameter`."""
        given = {name: value for name, value in values.items() if value != "" or not form}
        found: dict[str, Any] = {}
        q = given.get("q", "")
        if len(q) > MAX_QUERY:
            raise BadParameter(f"q: at most {MAX_QUERY} characters, not {len(q)}")
        found["q"] = q
        for name, (least, most) in BOUNDS.items():
            if name in given:
                found[name] = _integer(name, given[name], least, most)
        for name in ("since", "until"):
            if name in given:
                found[name] = _date(name, given[name])
        if "source" in given:
            if len(given["source"]) > MAX_TEXT:
                raise BadParameter(f"source: at most {MAX_TEXT} characters")
            found["source"] = given["source"]
        if "sort" in given:
            if given["sort"] not in ("relevance", "date"):
                raise BadParameter(f"sort: 'relevance' or 'date', not {given['sort']!r}")
            found["sort"] = given["sort"]
        if "collapse" in given:
            if given["collapse"] not in ("true", "false"):
                raise BadParameter(f"collapse: 'true' or 'false', not {given['collapse'][:40]!r}")
            found["collapse"] = given["collapse"] == "true"
        return cls(**found)

    def search_options(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`SearchEngine.search`."""
        options = dataclasses.asdict(self)
        del options["q"]
        return options

    def url(self, path: str = "/", **changes: Any) -> str:
        """This search with ``changes`` as a URL; defaults are left out, so URLs stay short."""
        params = dataclasses.replace(self, **changes)
        default = SearchParams()
        pairs = []
        for f in dataclasses.fields(self):
            value = getattr(params, f.name)
            if value != getattr(default, f.name) and value is not None:
                pairs.append((f.name, _query_value(value)))
        return f"{path}?{urlencode(pairs)}" if pairs else path


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _integer(name: str, value: str, least: int, most: int) -> int:
    if not _DIGITS.fullmatch(value):
        raise BadParameter(f"{name}: expected a whole number from {least} to {most}, not {value[:40]!r}")
    number = int(value)
    if not least <= number <= most:
        raise BadParameter(f"{name}: expected a whole number from {least} to {most}, not {number}")
    return number


def _date(name: str, value: str) -> dt.date:
    parsed = parse_date(value) if len(value) <= MAX_TEXT else None
    if parsed is None:
        raise BadParameter(f"{name}: cannot read {value[:40]!r} as a date (try 2023-09-12 or 12/09/2023)")
    return parsed


def article_url(article_id: str, query: str = "", *, prefix: str = "/articles/") -> str:
    """The page of an article: every character of the id that is not a letter,
    digit or ``_.-~`` is percent-encoded, ``/`` included, so any id round-trips."""
    url = prefix + quote(article_id, safe="")
    return f"{url}?{urlencode({'q': query})}" if query else url


def _article_id(request: Request, prefix: str, suffix: str = "") -> str:
    """The id in a request's path, decoded from the raw path so that an
    encoded ``/`` (``%2F``) stays part of the id, apart from a literal ``suffix``."""
    raw = request.scope.get("raw_path")
    path = raw.decode("ascii", "replace") if raw else quote(request.url.path)
    encoded = path.removeprefix(prefix).removesuffix(suffix)
    try:
        article_id = unquote(encoded, errors="strict")
    except UnicodeDecodeError as exc:
        raise BadParameter("id: not valid UTF-8 once percent-decoded") from exc
    if not article_id:
        raise HTTPException(404)
    return article_id


class _SecurityHeaders:
    """Headers on every response that keep a browser from running or framing
    anything the page did not mean to, and from leaking the query to the sites
    articles link to."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []),
                                      (b"content-security-policy", _CSP.encode()),
                                      (b"x-content-type-options", b"nosniff"),
                                      (b"referrer-policy", b"no-referrer")]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def _marked(text: str, spans: Any) -> Markup:
    """Text with each highlighted range in ``<mark>``, everything else escaped."""
    return Markup(mark(text, [tuple(s) for s in spans], "<mark>", "</mark>", html.escape))


def _templates() -> Environment:
    env = Environment(loader=PackageLoader("searchengine", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["marked"] = _marked
    env.globals.update(article_url=article_url, linkable=linkable)
    return env


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/health", "/openapi.json")


def _pages(params: SearchParams, total: int) -> list[dict[str, Any]]:
    """Links to the first, last and nearby pages (``None`` for a gap)."""
    last = min(max(1, math.ceil(total / params.limit)), BOUNDS["page"][1])
    shown = sorted({1, last, *range(max(1, params.page - 2), min(last, params.page + 2) + 1)})
    out: list[dict[str, Any]] = []
    for number in shown:
        if out and number > out[-1]["number"] + 1:
            out.append({"number": None})
        out.append({"number": number, "url": params.url(page=number), "current": number == params.page})
    return out


def create_app(index_dir: str | os.PathLike[str], *, cors_origins: tuple[str, ...] | list[str] = (),
               engine: SearchEngine | None = None) -> Starlette:
    """The app serving the index in ``index_dir``; CORS is allowed for
    ``cors_origins`` only (none by default). ``engine``: one to share
    (by default the app makes its own)."""
    engine = engine or SearchEngine(Path(index_dir))
    templates = _templates()
    stylesheet = resources.files("searchengine").joinpath("static", "style.css").read_bytes()
    schema = openapi_document(BOUNDS, MAX_QUERY, MAX_TEXT)

    def page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**context), status_code=status_code)

    def error(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return page("error.html", status, status=status, message=message, params=SearchParams())

    def search_page(request: Request) -> Response:
        params = SearchParams.parse(request.query_params, form=True)
        if not params.q.strip():
            return page("search.html", params=params, results=None, defaults=SearchParams())
        results = engine.search(params.q, facets=True, **params.search_options())
        return page("search.html", params=params, results=results, pages=_pages(params, results.total),
                    first=(params.page - 1) * params.limit + 1, defaults=SearchParams())

    def article_page(request: Request) -> Response:
        article_id = _article_id(request, "/articles/")
        params = SearchParams.parse({"q": request.query_params.get("q", "")})
        view = engine.article(article_id, highlight=params.q or None)
        similar = engine.similar(article_id, limit=5)
        return page("article.html", params=params, article=view.article, highlights=view.highlights,
                    similar=similar)

    def api_search(request: Request) -> Response:
        params = SearchParams.parse(request.query_params)
        if not params.q.strip():
            raise BadParameter("q: a query is required")
        results = engine.search(params.q, facets=True, **params.search_options())
        assert results.facets is not None
        return JSONResponse({**results_dict(results), "facets": facets_dict(results.facets)})

    def api_article(request: Request) -> Response:
        if request.scope.get("raw_path", b"").endswith(b"/similar"):
            article_id = _article_id(request, "/api/articles/", "/similar")
            values = request.query_params
            options = {name: _integer(name, values[name], *BOUNDS[name])
                       for name in ("limit", "fragments", "fragment_size") if name in values}
            return JSONResponse(results_dict(engine.similar(article_id, **options)))
        article_id = _article_id(request, "/api/articles/")
        params = SearchParams.parse({"q": request.query_params.get("q", "")})
        return JSONResponse(article_dict(engine.article(article_id, highlight=params.q or None)))

    def api_info(request: Request) -> Response:
        values = info_dict(engine.info())
        del values["path"]
        return JSONResponse(values)

    def health(request: Request) -> Response:
        engine.search("", limit=1)
        return JSONResponse({"status": "ok"})

    def openapi(request: Request) -> Response:
        return JSONResponse(schema)

    def style(request: Request) -> Response:
        return Response(stylesheet, media_type="text/css", headers={"cache-control": "public, max-age=3600"})

    def bad_parameter(request: Request, exc: Exception) -> Response:
        return error(request, 400, str(exc))

    def not_found(request: Request, exc: Exception) -> Response:
        return error(request, 404, str(exc))

    def unavailable(request: Request, exc: Exception) -> Response:
        log.warning("index unavailable: %s", exc)
        return error(request, 503, f"the index is unavailable: {exc}")

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "no such page" if exc.status_code == 404 else str(exc.detail)
        response = error(request, exc.status_code, message)
        response.headers.update(exc.headers or {})
        return response

    def internal_error(request: Request, exc: Exception) -> Response:
        # Starlette re-raises the exception after this answer, and uvicorn logs its traceback.
        return error(request, 500, "internal error")

    handlers: dict[Any, Callable[[Request, Exception], Response]] = {
        BadParameter: bad_parameter, BadQuery: bad_parameter, ArticleNotFound: not_found,
        **dict.fromkeys(_UNAVAILABLE, unavailable), HTTPException: http_error, Exception: internal_error,
    }
    middleware = [Middleware(_SecurityHeaders)]
    if cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET"]))
    routes = [
        Route("/", search_page),
        Route("/articles/{id:path}", article_page),
        Route("/static/style.css", style),
        Route("/api/search", api_search),
        Route("/api/articles/{id:path}", api_article),
        Route("/api/info", api_info),
        Route("/health", health),
        Route("/openapi.json", openapi),
    ]
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


def environment(index_dir: str | os.PathLike[str], cors_origins: tuple[str, ...] | list[str] = (), *,
                opensearch: str | None = None, opensearch_index: str = "newsearch") -> dict[str, str]:
    """The variables that carry `newsearch serve`'s options to each worker
    process, where :func:`app_from_environment` reads them; ``opensearch``:
    the cluster's node URLs, when the index lives there."""
    return {_INDEX_ENV: os.path.abspath(index_dir), _CORS_ENV: "\n".join(cors_origins),
            _CLUSTER_ENV: opensearch or "", _CLUSTER_INDEX_ENV: opensearch_index}


class NoDelayProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every
    connection. asyncio turns it off itself only on sockets it knows are TCP,
    and a worker process of ``uvicorn --workers N`` gets its listening socket
    in a form it does not recognise: each keep-alive answer, written as headers
    then body, then waited for the client's delayed acknowledgement, 40 ms."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def app_from_environment() -> Starlette:
    """The app of one worker process of `newsearch serve` (uvicorn's factory)."""
    origins = [o for o in os.environ.get(_CORS_ENV, "").split("\n") if o]
    index_dir = os.environ.get(_INDEX_ENV, "index")
    cluster = os.environ.get(_CLUSTER_ENV)
    engine = SearchEngine(index_dir, opensearch=cluster,
                          opensearch_index=os.environ.get(_CLUSTER_INDEX_ENV) or "newsearch") if cluster else None
    return create_app(index_dir, cors_origins=origins, engine=engine)
