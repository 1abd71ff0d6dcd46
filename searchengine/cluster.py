"""newsearch on an OpenSearch cluster: the same engine, with the index in another home.

Analysis stays in Python. Each article's title, lede and body are analysed
by the index's :class:`~searchengine.analysis.FrenchAnalyzer` and sent as
their terms, separated by spaces, to fields with OpenSearch's prebuilt
``whitespace`` analyser, so the cluster indexes exactly the terms the local
index holds (README, *An OpenSearch cluster*). The terms of a field are sent
as two values: the words in order, whose positions are the local ones (so
phrases match as they do locally), then the joined forms of hyphenated words
(``nordcoreen``), which locally share the position of the word's last part
and here stand after the text, where no phrase reaches them.

A query goes down the local path: ``queries`` → ``names`` → ``plan`` over a
:class:`ClusterVocabulary`; the plan becomes one OpenSearch query whose every
clause (a word in a field, a phrase) is named, so each hit comes back with
each clause's BM25. OpenSearch 2.19 has no query that adds a word's field
frequencies before they saturate (BM25F) and the cluster runs no scripts, so
the word's frequency in each field is recovered from its BM25 (a whole number,
so exactly), and Python computes BM25F, coverage, tiers and keys as
``ranking`` does, reranks the best ten with ``ranking._rerank`` and builds
hits with ``results.build_results``. OpenSearch orders hits by each field's
BM25 summed, which bounds BM25F from above: the window of hits grows until
the best ones by the exact keys are certainly in it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis import FrenchAnalyzer
from .duplicates import BANDS, DuplicateGroups, duplicate_key
from .errors import ArticleNotFound, BadArticle, ClusterError, ClusterIndexNotFound, NewsearchError
from .facets import Facet, Facets
from .glued import _FULL_PASS_SHARE, MAX_GLUED_DF, MIN_HEAD, Glued, GluedWords, find_glued
from .plan import MAX_PREFIX_TERMS, QueryPlan, Terms, plan_query, plan_similar, typo_count
from .queries import FIELDS, ParsedQuery
from .ranking import Filters, Ranked, Ranking, RankingSettings, _key, _rerank
from .results import ArticleView, SearchResults, article_view, build_results
from .scoring import bm25_idf
from .snippets import ArticleText, Highlighter
from .whooshformat import quantised_length

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from .indexing import IndexReport, Progress
    from .names import NameTable
    from .scoring import DocIds, Floats

__all__ = ["ClusterHome", "ClusterVocabulary", "cluster_terms", "parse_urls"]

SHARDS = 2
REPLICAS = 1
MAX_TERM_CHARS = 255
"""OpenSearch's ``whitespace`` analyser cuts longer tokens in pieces: longer terms are sent cut here."""
CLUSTER_PREFIX_TERMS = 100
"""A prefix stands for at most this many words on the cluster: each is one clause per field, and
OpenSearch refuses a query of more than 1,024 clauses."""
WINDOW_MARGIN = 50
"""Hits fetched past the page (and the reranked head) at first; see :meth:`ClusterHome._window`."""
MAX_WINDOW = 5_000
"""The window stops growing here: past it, OpenSearch's order is taken as it is."""
BOUND_SLACK = 1.2
"""OpenSearch's score of a hit (each field's BM25 summed) is above its BM25F but for the two
engines' rounding of field lengths and statistics, which this factor covers."""
TIER_BOOST = 10_000.0
"""Added by each tier's marker clause, above any relevance, so OpenSearch orders the window by tier first."""
BATCH_ACTIONS = 500
BATCH_BYTES = 8_000_000
RETRY_SECONDS = 300.0
"""How long a bulk batch is retried while the cluster answers 429 (busy) or 5xx (a node lost)."""
MAX_RESULT_WINDOW = 1_000_000
MAX_MEMBERS = 10_000
"""Matching copies fetched to list under the hits that fold them."""
_MEMBERS_PATH = ",".join(["_shards", "aggregations.folded", *(f"hits.hits.{k}" for k in (
    "_id", "_index", "_score", "fields", "matched_queries"))])
"""The members query's answer without its buckets, which only their count and sum are needed of."""
DUPKEYS = "dupkeys"
"""Each article's duplicate keys (``duplicates.duplicate_key``, as signed 64-bit numbers), in its
source only: read back by the after-run step alone. An index made before them has no such field."""
GROUP = "dup_group"
"""The group of an article that has duplicates (the ``_id`` of its first-written member), absent
for the others: what queries fold by, count by and filter on."""
MAX_GROUP_BUCKETS = 60_000
"""Groups counted per query to tell how many matching articles fold (OpenSearch's search.max_buckets
is 65,535): a query matching more groups than this counts the first ones only."""
_FORMAT = 1
"""The layout of the cluster index (mappings, fields); an index of another layout is refused."""


def parse_urls(urls: str | Sequence[str]) -> tuple[str, ...]:
    """``http://a:9200,http://b:9200`` (or a list) as a tuple of node URLs."""
    given = urls.split(",") if isinstance(urls, str) else list(urls)
    found = tuple(u.strip().rstrip("/") for u in given if u.strip())
    if not found:
        raise ValueError("no OpenSearch URL given")
    for url in found:
        if not re.fullmatch(r"https?://[^\s/]+", url):
            raise ValueError(f"not an OpenSearch node URL: {url!r} (expected http://HOST:PORT)")
    return found


def _cut(term: str) -> str:
    return term if len(term) <= MAX_TERM_CHARS else term[:MAX_TERM_CHARS]


def cluster_terms(analyzer: FrenchAnalyzer, text: str) -> list[str]:
    """What a text field sends to the cluster: the terms at their positions, then the joined
    forms of hyphenated words (sharing a position locally), each a string of terms."""
    words: list[str] = []
    joined: list[str] = []
    last = -1
    for term, _, _, pos in analyzer.analyse(text):
        (joined if pos == last else words).append(_cut(term))
        last = pos
    values = [" ".join(words)]
    if joined:
        values.append(" ".join(joined))
    return values


def _mapping() -> dict[str, Any]:
    text = {"type": "text", "analyzer": "whitespace", "position_increment_gap": 100}
    return {
        "dynamic": "strict",
        "_meta": {"newsearch": {"format": _FORMAT}},
        "properties": {
            "key": {"type": "keyword"},
            "state": {"type": "binary"},
            "seq": {"type": "long"},
            "id": {"type": "keyword"},
            "path": {"type": "keyword", "index": False},
            "date": {"type": "date", "format": "strict_date"},
            "source_id": {"type": "keyword"},
            **{f"{name}_terms": dict(text) for name in FIELDS},
            **{f"{name}_length": {"type": "integer"} for name in FIELDS},
            "vocab": {"type": "keyword", "index": False, "doc_values": True},
            "article": {"type": "object", "enabled": False},
            DUPKEYS: {"type": "long", "index": False, "doc_values": False},
            GROUP: {"type": "keyword"},
        },
    }


def _exception_reason(exc: Exception) -> str:
    from opensearchpy.exceptions import ConnectionError as OSConnectionError
    from opensearchpy.exceptions import TransportError

    if isinstance(exc, OSConnectionError):
        return "cannot connect (is the cluster running?)"
    if isinstance(exc, TransportError):
        info = exc.info if isinstance(exc.info, dict) else {}
        error = info.get("error")
        if isinstance(error, dict):
            cause = error.get("root_cause") or [error]
            first = cause[0] if isinstance(cause, list) and cause else error
            return f"{exc.status_code} {first.get('type', '')}: {first.get('reason', '')}".strip()
        return f"{exc.status_code} {exc.error}"
    return f"{type(exc).__name__}: {exc}"


class _Client:
    """The cluster's client: every call's failure becomes one :class:`ClusterError` line."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        try:
            from opensearchpy import OpenSearch
        except ImportError as exc:
            raise NewsearchError(
                "the OpenSearch home needs the package opensearch-py: pip install 'newsearch[opensearch]'") from exc
        self.urls = ",".join(urls)
        # Failover: a node that fails a request is marked dead and the request goes to the next one.
        self.os: OpenSearch = OpenSearch(list(urls), max_retries=3, retry_on_timeout=True,
                                         retry_on_status=(502, 503, 504), timeout=60)

    def call(self, what: Callable[[OpenSearch], Any]) -> Any:
        from opensearchpy.exceptions import ImproperlyConfigured, OpenSearchException

        try:
            return what(self.os)
        except (OpenSearchException, ImproperlyConfigured) as exc:
            raise ClusterError(self.urls, _exception_reason(exc)) from exc

    def search(self, index: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        """A search that answers from every shard, or fails: a red cluster is an error, never fewer hits."""
        found: dict[str, Any] = self.call(lambda c: c.search(
            index=index, body=body, params={"allow_partial_search_results": "false", **params}))
        shards = found.get("_shards", {})
        if shards.get("failed"):
            raise ClusterError(self.urls, f"{shards['failed']} of {shards.get('total')} shards failed to answer")
        return found


@dataclass(frozen=True)
class _Stats:
    """The collection's statistics that BM25 reads: articles, and per field the sum of the lengths
    and how many articles have it (OpenSearch's ``docCount``)."""

    size: int
    total: Mapping[str, int]
    holding: Mapping[str, int]

    def lucene_norm(self, name: str, length: int, b: float) -> float:
        """BM25's length normalisation as OpenSearch computes it (its quantised length, its average)."""
        average = self.total[name] / max(1, self.holding[name])
        return (1 - b) + b * _LUCENE_LENGTH[_int_to_byte4(length)] / average

    def whoosh_norm(self, name: str, length: int, b: float) -> float:
        """The same as the local index computes it (``scoring.IndexArrays._norm``)."""
        average = self.total[name] / max(1, self.size) or 1.0
        return (1 - b) + b * float(np.float32(quantised_length(length))) / average


def _int_to_byte4(value: int) -> int:
    """Lucene's ``SmallFloat.intToByte4``: how OpenSearch stores a field's length in one byte."""
    if value < _FREE_VALUES:
        return value
    rest = value - _FREE_VALUES
    bits = rest.bit_length()
    if bits < 4:
        return _FREE_VALUES + rest
    shift = bits - 4
    return _FREE_VALUES + (((rest >> shift) & 0x07) | ((shift + 1) << 3))


def _byte4_to_int(byte: int) -> int:
    if byte < _FREE_VALUES:
        return byte
    code = byte - _FREE_VALUES
    bits, shift = code & 0x07, (code >> 3) - 1
    return _FREE_VALUES + (bits if shift == -1 else (bits | 0x08) << shift)


_FREE_VALUES = 24
_LUCENE_LENGTH = [_byte4_to_int(b) for b in range(256)]


class ClusterVocabulary:
    """What planning reads of the index (``plan.Vocabulary``), asked of the cluster in batches and
    kept for one query: document frequencies by a ``filters`` aggregation, close spellings by the term
    suggester, words under a prefix by a ``terms`` aggregation over each article's distinct terms."""

    def __init__(self, client: _Client, index: str, stats: _Stats) -> None:
        self.client = client
        self.index = index
        self.stats = stats
        self._size = stats.size
        self._df: dict[tuple[str, str], int] = {}
        self._within: dict[tuple[str, int], dict[str, set[str]]] = {}
        self.glued: _GluedSource | None = None
        """The index's glued words, which planning reads (``glued.GluedPlan``)."""

    @property
    def size(self) -> int:
        return self._size

    def prefetch(self, terms: Iterable[str]) -> None:
        """The document frequency of each term in each field, in one request."""
        wanted = sorted({(f, _cut(t)) for t in terms for f in FIELDS} - set(self._df))
        for start in range(0, len(wanted), 900):
            batch = wanted[start:start + 900]
            filters = {str(n): {"term": {f"{f}_terms": t}} for n, (f, t) in enumerate(batch)}
            found = self.client.search(self.index, {"size": 0, "track_total_hits": False,
                                                    "aggs": {"df": {"filters": {"filters": filters}}}})
            buckets = found["aggregations"]["df"]["buckets"]
            for n, pair in enumerate(batch):
                self._df[pair] = int(buckets[str(n)]["doc_count"])

    def doc_frequency(self, fieldname: str, term: str) -> int:
        key = (fieldname, _cut(term))
        if key not in self._df:
            self.prefetch([term])
        return self._df[key]

    def terms_within(self, fieldname: str, term: str, distance: int) -> Iterable[str]:
        """Words within ``distance`` edits of ``term`` (first letter kept, as locally): the term
        suggester's candidates, checked by their typo count (a swap of neighbours is one, as locally)."""
        key = (term, distance)
        if key not in self._within:
            suggest = {f: {"text": term, "term": {
                "field": f"{f}_terms", "suggest_mode": "always", "max_edits": distance, "prefix_length": 1,
                "size": 100, "min_word_length": 1, "max_term_freq": 0.99, "max_inspections": 20,
                "string_distance": "damerau_levenshtein"}} for f in FIELDS}
            found = self.client.search(self.index, {"size": 0, "suggest": suggest})["suggest"]
            by_field = {f: {o["text"] for entry in found[f] for o in entry["options"]
                            if typo_count(o["text"], term) <= distance} for f in FIELDS}
            self._within[key] = by_field
            self.prefetch(t for words in by_field.values() for t in words)
        return sorted(self._within[key][fieldname])

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterator[str]:
        """The most frequent words under ``prefix`` in any field (the same for every field)."""
        body = {"size": 0, "aggs": {"words": {"terms": {
            "field": "vocab", "include": "".join(ch if ch.isalnum() else "\\" + ch for ch in prefix) + ".*",
            "size": min(MAX_PREFIX_TERMS, CLUSTER_PREFIX_TERMS), "shard_size": 10 * CLUSTER_PREFIX_TERMS}}}}
        found = self.client.search(self.index, body)["aggregations"]["words"]["buckets"]
        yield from sorted(bucket["key"] for bucket in found)


@dataclass(frozen=True)
class _GluedSource:
    """What the after-run step stored, whose glued words planning asks for (``glued.GluedFile``'s ``words``)."""

    after: _AfterRun

    def words(self) -> GluedWords:
        return self.after.glued


def _after_of(vocabulary: ClusterVocabulary) -> _AfterRun:
    return vocabulary.glued.after if vocabulary.glued is not None else _AfterRun()


@dataclass(frozen=True)
class _AfterRun:
    """What the after-run step stores in the index's ``_meta``: how many groups of duplicates it holds
    (0: none, or an index made before duplicate keys), and its glued words."""

    groups: int = 0
    glued: GluedWords = field(default_factory=GluedWords)

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> _AfterRun:
        table = meta.get("glued") or {}
        return cls(int(meta.get("groups") or 0),
                   GluedWords.of(Glued(term, int(split), str(head), str(tail))
                                 for term, (split, head, tail) in table.items()))


# --- queries ----------------------------------------------------------------------------------------------

def _part(part: Terms, settings: RankingSettings, name: str | None = None) -> dict[str, Any]:
    """One part of a plan as a scoring query: each term in each field, its BM25 times the field's
    boost and the part's weight; a phrase only where its terms stand in a row in some field. With
    ``name``, each term's clause in each field is named ``name.k.field`` and the phrase ``name.p``, so
    that each hit tells what it matched and how much each clause scored (see :func:`_part_score`)."""
    boosts = settings.boosts(part.fields)
    if settings.title_alone and "title" in boosts and not part.phrase:
        # The title's own BM25 is added locally (RankingSettings.title_alone): the cluster's sum of
        # fields must stay at or above the local score for the batch bound to hold.
        boosts["title"] += settings.title_alone
    scoring = []
    for k, t in enumerate(part.terms):
        for f, boost in boosts.items():
            clause: dict[str, Any] = {"value": _cut(t), "boost": boost * part.weight}
            if name:
                clause["_name"] = f"{name}.{k}.{f}"
            scoring.append({"term": {f"{f}_terms": clause}})
    if not scoring:
        return {"match_none": {}}
    if not part.phrase:
        return {"bool": {"should": scoring}}
    phrase = " ".join(_cut(t) for t in part.terms)
    where: dict[str, Any] = {"bool": {"should": [{"match_phrase": {f"{f}_terms": {"query": phrase}}}
                                                 for f in part.fields]}}
    if name:
        where["bool"]["_name"] = f"{name}.p"
    return {"bool": {"should": scoring, "filter": [where]}}


def _part_score(part: Terms, name: str, matched: Mapping[str, float], lengths: Mapping[str, int],
                stats: _Stats, vocabulary: ClusterVocabulary, settings: RankingSettings) -> float | None:
    """A hit's score for one part as the local index computes it (BM25F, ``scoring.IndexArrays.bm25f``),
    or None when it does not match the part.

    OpenSearch's score of each term in each field is BM25 with its own statistics; from it, the
    field's length and the collection's statistics, the term's frequency in the field is recovered
    exactly (it is a whole number), and the frequencies of the fields are then combined as BM25F does.
    """
    if part.phrase and f"{name}.p" not in matched:
        return None
    boosts = settings.boosts(part.fields)
    k1, b = settings.k1, settings.b
    total = 0.0
    found = False
    alone = settings.title_alone if "title" in boosts and not part.phrase else 0.0
    for k, term in enumerate(part.terms):
        weighted = title = 0.0
        for f, boost in boosts.items():
            score = matched.get(f"{name}.{k}.{f}")
            if score is None:
                continue
            found = True
            # OpenSearch's BM25 is Lucene's legacy one, which keeps the factor k1 + 1; the query
            # boosted the title by title_alone more (see _part).
            asked = boost + alone if f == "title" else boost
            weight = asked * part.weight * (k1 + 1) * _lucene_idf(vocabulary.doc_frequency(f, term), stats.holding[f])
            tf = round(score * k1 * stats.lucene_norm(f, lengths[f], b) / max(weight - score, 1e-12)) \
                if weight > 0 else 0
            weighted += boost * tf / stats.whoosh_norm(f, lengths[f], b)
            if f == "title":
                title = tf / stats.whoosh_norm(f, lengths[f], b)
        if weighted:
            idf = bm25_idf(stats.size, max(vocabulary.doc_frequency(f, term) for f in part.fields))
            total += part.weight * idf * weighted * (k1 + 1) / (weighted + k1)
        if alone and title:
            idf = bm25_idf(stats.size, vocabulary.doc_frequency("title", term))
            total += alone * part.weight * idf * title * (k1 + 1) / (title + k1)
    return total if found else None


def _lucene_idf(df: int, holding: int) -> float:
    return float(np.float32(np.log(1 + (holding - df + 0.5) / (df + 0.5))))


def _any(parts: Iterable[dict[str, Any]], name: str | None = None) -> dict[str, Any]:
    found = list(parts)
    query: dict[str, Any] = {"bool": {"should": found}} if found else {"match_none": {}}
    if name and found:
        query["bool"]["_name"] = name
    return query


@dataclass(frozen=True)
class _Window:
    """The hits OpenSearch ordered first, each with what Python needs to order them exactly."""

    total: int
    complete: bool
    """Every matching hit is in the window."""
    bound: list[float]
    """OpenSearch's relevance of each hit, tier left out: above the exact one, but for rounding."""
    ids: list[str]
    index: list[str]
    tier: list[int]
    score: list[float]
    seq: list[int]
    date: list[str | None]
    facets: Facets | None
    group: list[str | None] = field(default_factory=list)
    """Each hit's group of duplicates (None: it has none)."""


def _query(plan: QueryPlan, settings: RankingSettings, filters: Filters, exclude: Sequence[str]) -> dict[str, Any]:
    groups = plan.groups
    loose = [_any(_part(p, settings, f"{i}.{j}") for j, p in enumerate((*g.exact, *g.corrected)))
             for i, g in enumerate(groups)]
    scoring: dict[str, Any] = {"bool": {"should": loose, "minimum_should_match": 1}}
    should: list[dict[str, Any]] = []
    if plan.tiered and len(groups):
        every_loose = {"bool": {"filter": [_any(_part(p, settings) for p in (*g.exact, *g.corrected))
                                           for g in groups]}}
        should.append({"constant_score": {"filter": every_loose, "boost": TIER_BOOST}})
        if all(g.exact for g in groups):
            every_exact = {"bool": {"filter": [_any(_part(p, settings) for p in g.exact) for g in groups]}}
            should.append({"constant_score": {"filter": every_exact, "boost": TIER_BOOST}})
    restrict: list[dict[str, Any]] = [_any(_part(p, settings) for p in (*g.exact, *g.corrected))
                                      for g in groups if g.required]
    if filters.since is not None or filters.until is not None:
        bounds = {}
        if filters.since is not None:
            bounds["gte"] = filters.since.date().isoformat()
        if filters.until is not None:
            bounds["lte"] = filters.until.date().isoformat()
        restrict.append({"range": {"date": bounds}})
    from .analysis import fold

    for sources in (filters.sources, tuple(fold(s) for s in plan.sources)):
        if sources:
            restrict.append({"terms": {"source_id": list(sources)}})
    excluded: list[dict[str, Any]] = [_part(p, settings) for p in plan.excluded]
    if exclude:
        excluded.append({"ids": {"values": list(exclude)}})
    return {"bool": {"must": [scoring], "should": should, "filter": restrict, "must_not": excluded}}


def _keys(plan: QueryPlan, settings: RankingSettings, matched: Mapping[str, float], lengths: Mapping[str, int],
          vocabulary: ClusterVocabulary) -> tuple[int, float]:
    """A hit's tier and score, from its named clauses' scores, as ``ranking._first_pass`` computes them."""
    whole = covered = raw = 0.0
    every_exact = every_loose = True
    some = False
    for i, group in enumerate(plan.groups):
        whole += group.weight
        exact = loose = False
        for j, part in enumerate((*group.exact, *group.corrected)):
            score = _part_score(part, f"{i}.{j}", matched, lengths, vocabulary.stats, vocabulary, settings)
            if score is not None:
                raw += score
                loose = True
                exact |= j < len(group.exact)
        if loose:
            covered += group.weight
            some = True
        every_loose &= loose
        every_exact &= exact
    tier = int(some)
    if plan.tiered and some:
        tier = 3 if every_exact else 2 if every_loose else 1
    return tier, raw * (covered / whole) ** settings.coverage_exponent if whole else 0.0


class _HeadArrays:
    """What ``ranking._rerank`` reads of the index, for the head of one ranking: stop words' BM25 from
    the cluster, positions from the stored bodies through the analyser, idf from the vocabulary."""

    def __init__(self, home: ClusterHome, vocabulary: ClusterVocabulary, ids: Mapping[int, str],
                 texts: Mapping[int, ArticleText]) -> None:
        self.home = home
        self.vocabulary = vocabulary
        self.ids = ids
        self.texts = texts
        self._positions: dict[int, dict[str, list[int]]] = {}

    def bm25f(self, term: str, boosts: Mapping[str, float], docs: DocIds | None = None, *,
              k1: float = 1.2, b: float = 0.75) -> tuple[DocIds, Floats]:
        chosen = [int(d) for d in (docs if docs is not None else self.ids)]
        part = Terms((term,), tuple(boosts))
        body = {"size": len(chosen), "_source": False,
                "docvalue_fields": [f"{f}_length" for f in FIELDS],
                "query": {"bool": {"must": [_part(part, self.home.settings, "h")],
                                   "filter": [{"ids": {"values": [self.ids[d] for d in chosen]}}]}}}
        hits = self.home.client.search(self.home.index, body, search_type="dfs_query_then_fetch",
                                       include_named_queries_score="true")["hits"]["hits"]
        number = {self.ids[d]: d for d in chosen}
        found = []
        for hit in hits:
            score = _part_score(part, "h", hit.get("matched_queries") or {}, _lengths(hit), self.vocabulary.stats,
                                self.vocabulary, self.home.settings)
            if score is not None:
                found.append((number[hit["_id"]], score))
        found.sort()
        return (np.array([d for d, _ in found], dtype=np.int64), np.array([s for _, s in found], dtype=np.float64))

    def positions(self, fieldname: str, term: str, docs: DocIds) -> dict[int, list[int]]:
        found = {}
        for doc in docs.tolist():
            where = self._positions.get(doc)
            if where is None:
                where = {}
                for t, _, _, pos in self.home.analyzer.analyse(self.texts[doc].text(fieldname)):
                    where.setdefault(t, []).append(pos)
                self._positions[doc] = where
            if term in where:
                found[doc] = where[term]
        return found

    def idf(self, term: str, fieldnames: Sequence[str]) -> float:
        return bm25_idf(self.vocabulary.size, max((self.vocabulary.doc_frequency(f, term) for f in fieldnames),
                                                  default=0))


@dataclass(frozen=True)
class _ClusterRanking(Ranking):
    """A page of a ranking whose matching articles the cluster counted (not listed)."""

    count: int = 0
    window: _Window | None = None
    """Where the page's documents are, for reading one not read yet."""

    @property
    def total(self) -> int:
        return self.count


# --- indexing ---------------------------------------------------------------------------------------------

@dataclass
class _Pending:
    action: dict[str, Any]
    source: dict[str, Any] | None
    key: str
    path: str = ""
    record: str = ""
    known: bool = False


@dataclass
class _BulkWriter:
    """What ``indexing._write_changes`` writes through, as bulk requests to the cluster.

    One batch is in flight at a time, so reading and analysing files waits for the cluster (back-
    pressure); items the cluster could not take for now (429, or 5xx while a node is lost) are sent
    again with growing pauses for up to ``RETRY_SECONDS``; an item it refuses (4xx) costs its article
    only. A file's signature, which lets the next run skip it, goes with its last article, sent only
    once every other article of the file is acknowledged, so a run that dies half-way is completed by
    the next one, and one whose article was refused reads the file again.
    """

    home: ClusterHome
    index: str
    ids: list[str]
    """Document ids of the known state's document numbers."""
    known: set[str]
    report: IndexReport
    problem: Callable[[BadArticle], None]
    seq: int
    duplicates: bool = False
    """Whether the index holds duplicate keys (one made before them holds none)."""
    groups: Mapping[str, str] = field(default_factory=dict)
    """The group of each article key, when known before the run (:func:`_planned_groups`)."""
    watch: int = 0
    """Up to how many articles sent the run's terms are kept for the glued words' small pass."""
    sent: int = 0
    terms: set[str] | None = field(default_factory=set)
    """The terms sent in any field (None once over ``watch`` articles: the after-run step reads all)."""
    body_terms: set[str] = field(default_factory=set)
    written: set[str] = field(default_factory=set)
    batch: list[_Pending] = field(default_factory=list)
    batch_bytes: int = 0
    failed_files: set[str] = field(default_factory=set)

    def add_document(self, **doc: Any) -> None:
        from .analysis import fold

        state = doc["state"].decode("utf-8", "surrogatepass")
        key, fingerprint, signature = state.rsplit("\x1f", 2)
        file = key.split("\x1f", 1)[0]
        doc_id = _doc_id(key)
        self.seq += 1
        article = {name: doc[name] for name in ("id", "path", "title", "lede", "body", "source", "url", "author")
                   if doc.get(name)}
        date = doc.get("date")
        if isinstance(date, dt.datetime):
            article["date"] = date.date().isoformat()
        analyzer = self.home.analyzer
        source: dict[str, Any] = {
            "key": doc["key"], "seq": self.seq, "id": doc["id"],
            "path": doc["path"], "article": article,
        }
        vocab: set[str] = set()
        for name in FIELDS:
            values = cluster_terms(analyzer, doc.get(name) or "")
            source[f"{name}_terms"] = values
            terms = [t for v in values for t in v.split()]
            source[f"{name}_length"] = len(terms)
            vocab.update(terms)
            if name == "body" and self.terms is not None:
                self.body_terms.update(terms)
        source["vocab"] = sorted(vocab)
        self.sent += 1
        if self.terms is not None:
            self.terms.update(vocab)
            if self.sent > self.watch:
                self.terms, self.body_terms = None, set()
        if self.duplicates and doc.get(DUPKEYS):
            source[DUPKEYS] = np.frombuffer(doc[DUPKEYS], dtype="<i8").tolist()
        if key in self.groups:
            source[GROUP] = self.groups[key]
        if "date" in article:
            source["date"] = article["date"]
        if doc.get("source_id"):
            source["source_id"] = doc["source_id"]
        elif doc.get("source"):
            source["source_id"] = fold(doc["source"])
        if signature and any(p.key.split("\x1f", 1)[0] == file for p in self.batch):
            # The signature lets the next run skip the file: it goes only after every other article of
            # the file is acknowledged, and not at all if one was refused.
            self.flush()
        if file in self.failed_files:
            signature = ""
        source["state"] = _encode_state(key, fingerprint, signature)
        self.written.add(doc_id)
        self._queue(_Pending({"index": {"_index": self.index, "_id": doc_id}}, source, key,
                             doc.get("path", ""), doc.get("id", ""), key in self.known))

    def delete_document(self, docnum: int) -> None:
        doc_id = self.ids[docnum]
        if doc_id not in self.written:  # rewritten under the same id: the new version stays
            self._queue(_Pending({"delete": {"_index": self.index, "_id": doc_id}}, None, doc_id))

    def _queue(self, pending: _Pending) -> None:
        self.batch.append(pending)
        self.batch_bytes += len(str(pending.source or "")) + 100
        if len(self.batch) >= BATCH_ACTIONS or self.batch_bytes >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        deadline = time.monotonic() + RETRY_SECONDS
        pause = 0.5
        while batch:
            lines: list[dict[str, Any]] = []
            for pending in batch:
                lines.append(pending.action)
                if pending.source is not None:
                    lines.append(pending.source)
            answer = self.home.client.call(partial(_bulk, lines))
            again = []
            for pending, item in zip(batch, answer["items"], strict=True):
                (op, result), = item.items()
                status = int(result.get("status", 500))
                if 200 <= status < 300 or op == "delete" and status == 404:
                    continue
                if status == 429 or status >= 500:
                    again.append(pending)
                    continue
                self._refused(pending, result)
            batch = again
            if batch:
                if time.monotonic() > deadline:
                    raise ClusterError(self.home.client.urls,
                                       f"{len(batch)} documents still refused after {RETRY_SECONDS:.0f} s")
                time.sleep(pause)  # the cluster said it is busy or lost a node: give it time
                pause = min(pause * 2, 10.0)

    def _refused(self, pending: _Pending, result: Mapping[str, Any]) -> None:
        """An article the cluster refused: it costs itself, and its file is read again next run."""
        error = result.get("error") or {}
        reason = error.get("reason", "") if isinstance(error, dict) else str(error)
        self.failed_files.add(pending.key.split("\x1f", 1)[0])
        if pending.source is None:
            raise ClusterError(self.home.client.urls, f"cannot delete a document: {reason}")
        if pending.known:
            self.report.updated -= 1
        else:
            self.report.added -= 1
        where = f"article {pending.record!r}: " if pending.record else ""
        self.problem(BadArticle(pending.path, f"{where}refused by OpenSearch: {reason}"))

def _bulk(lines: list[dict[str, Any]], client: OpenSearch) -> dict[str, Any]:
    """One bulk request; it waits up to 2 minutes for a shard that has lost its primary."""
    answer: dict[str, Any] = client.bulk(body=lines, params={"timeout": "2m", "request_timeout": 180})
    return answer


def _planned_groups(files: Sequence[Path], fields: Mapping[str, str] | None,
                    read_file: Callable[..., Iterable[Any]]) -> dict[str, str]:
    """The group of each article of ``files`` that has duplicates among them (named after its first
    member's document id), from a first pass over the files that computes duplicate keys only.

    A run into an empty index sends each article with its group, so the after-run step finds nothing
    to change: a partial update would leave the article's old version, which Lucene counts in its
    statistics (and so in the scores the exact ones are recovered from) until a merge drops it."""
    from .indexing import _key

    order: list[str] = []
    keys: list[bytes] = []
    seen: set[str] = set()
    for file in files:
        name = os.path.abspath(file)
        try:
            for article in read_file(file, fields, on_problem=lambda exc: None):
                record = _key(name, article.record)
                if record not in seen:
                    seen.add(record)
                    order.append(record)
                    keys.append(duplicate_key(article.body))
        except OSError:
            continue  # reported by the run itself
    table = np.zeros((len(order), BANDS), dtype=np.uint64)
    for n, found in enumerate(keys):
        if found:
            table[n] = np.frombuffer(found, dtype="<u8")
    groups = DuplicateGroups.from_keys(table, np.ones(len(order), dtype=bool))
    return {order[n]: _doc_id(order[int(groups.group[n])]) for n in np.flatnonzero(groups.grouped).tolist()}


def _listed(scan: Iterable[dict[str, Any]], client: OpenSearch) -> list[dict[str, Any]]:
    """A scan's hits, read inside the client's call (so its failures are a ClusterError)."""
    return list(scan)


def _body(index: str, doc_id: str, client: OpenSearch) -> dict[str, Any]:
    found: dict[str, Any] = client.get(index=index, id=doc_id, params={"_source": "article.body"})
    return found


def _doc_id(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


def _encode_state(key: str, fingerprint: str, signature: str) -> str:
    return base64.b64encode("\x1f".join((key, fingerprint, signature)).encode("utf-8", "surrogatepass")).decode()


def _decode_state(state: str) -> tuple[str, str, str]:
    key, fingerprint, signature = base64.b64decode(state).decode("utf-8", "surrogatepass").rsplit("\x1f", 2)
    return key, fingerprint, signature


# --- the home ---------------------------------------------------------------------------------------------

class ClusterHome:
    """A newsearch index on an OpenSearch cluster: ``index`` is an alias to the concrete index, so
    ``--rebuild`` builds a new one and switches the alias when it is complete."""

    def __init__(self, urls: str | Sequence[str], index: str, names_file: str | os.PathLike[str] | None,
                 settings: RankingSettings) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,200}", index):
            raise ValueError(f"OpenSearch index name {index!r}: lower-case letters, digits, _ . - only")
        self.client = _Client(parse_urls(urls))
        self.index = index
        self.analyzer = FrenchAnalyzer()
        self.settings = settings
        self._names_file = names_file
        self._names: NameTable | None = None
        self._after_cache: tuple[str, _AfterRun] | None = None

    @property
    def where(self) -> str:
        return f"{self.index!r} on {self.client.urls}"

    def names(self) -> NameTable:
        if self._names is None:
            from .names import load_names

            self._names = load_names(self.analyzer, self._names_file)
        return self._names

    def _concrete(self) -> str | None:
        """The index the alias points to, or None when there is none."""
        from opensearchpy.exceptions import NotFoundError

        def aliased(c: OpenSearch) -> dict[str, Any]:
            try:
                found: dict[str, Any] = c.indices.get_alias(name=self.index)
                return found
            except NotFoundError:
                return {}

        names = sorted(self.client.call(aliased))
        return names[0] if names else None

    def _opened(self) -> str:
        concrete = self._concrete()
        if concrete is None:
            raise ClusterIndexNotFound(self.where)
        return concrete

    def _stats(self) -> _Stats:
        aggs: dict[str, Any] = {}
        for f in FIELDS:
            aggs[f"total_{f}"] = {"sum": {"field": f"{f}_length"}}
            aggs[f"holding_{f}"] = {"filter": {"range": {f"{f}_length": {"gt": 0}}}}
        found = self.client.search(self.index, {"size": 0, "track_total_hits": True, "aggs": aggs})
        got = found["aggregations"]
        return _Stats(size=int(found["hits"]["total"]["value"]),
                      total={f: int(got[f"total_{f}"]["value"]) for f in FIELDS},
                      holding={f: int(got[f"holding_{f}"]["doc_count"]) for f in FIELDS})

    # --- reading

    def vocabulary(self) -> ClusterVocabulary:
        """What planning reads of the index, with what the last after-run step stored (its glued words)."""
        self._opened()
        vocabulary = ClusterVocabulary(self.client, self.index, self._stats())
        vocabulary.glued = _GluedSource(self._after())
        return vocabulary

    def _after(self) -> _AfterRun:
        """What the last run's after-run step stored (nothing for an index made before it): read when
        its stamp changes, so a query asks only for the stamp."""
        def meta(path: str) -> dict[str, Any]:
            found = self.client.call(lambda c: c.indices.get_mapping(index=self.index, params={"filter_path": path}))
            values: dict[str, Any] = next(iter(found.values()), {}) if isinstance(found, dict) else {}
            got: dict[str, Any] = values.get("mappings", {}).get("_meta", {}).get("newsearch", {})
            return got

        stamp = meta("*.mappings._meta.newsearch.after").get("after")
        if stamp is None:
            return _AfterRun()
        if self._after_cache is None or self._after_cache[0] != stamp:
            stored = meta("*.mappings._meta.newsearch.after,*.mappings._meta.newsearch.groups,"
                          "*.mappings._meta.newsearch.glued")
            self._after_cache = stamp, _AfterRun.of(stored)
        return self._after_cache[1]

    def search(self, query: str, parsed: ParsedQuery, filters: Filters, sort: str, page: int, limit: int,
               fragments: int, fragment_size: int, facets: bool, collapse: bool = True) -> SearchResults:
        vocabulary = self.vocabulary()
        expanded = self.names().expand(parsed)
        vocabulary.prefetch(t for c in expanded.clauses for t in self.analyzer.terms(c.text))
        plan = plan_query(expanded, vocabulary, self.analyzer, self.settings)
        groups = _after_of(vocabulary).groups if collapse else 0
        return self._results(vocabulary, query, plan, filters, (), sort, page, limit, fragments, fragment_size,
                             facets, groups)

    def _window(self, vocabulary: ClusterVocabulary, plan: QueryPlan, filters: Filters, exclude: Sequence[str],
                sort: str, size: int, facets: bool) -> _Window:
        # As ranking.rank: only a reader's words may be a headline.
        settings = self.settings if plan.headline else replace(self.settings, title_alone=0.0)
        body: dict[str, Any] = {
            "size": size, "_source": False, "track_total_hits": True,
            "docvalue_fields": ["seq", "date", *(f"{f}_length" for f in FIELDS), GROUP],
            "query": _query(plan, settings, filters, exclude),
            "sort": ([{"date": {"order": "desc", "missing": "_last"}}] if sort == "date" else [])
                    + ["_score", {"seq": "asc"}],
        }
        if sort == "date":
            body["track_scores"] = True
        if facets:
            body["aggs"] = {
                "years": {"date_histogram": {"field": "date", "calendar_interval": "year", "min_doc_count": 1,
                                             "format": "yyyy"}},
                "sources": {"terms": {"field": "source_id", "size": 1000},
                            "aggs": {"first": {"top_hits": {"size": 1, "sort": [{"seq": "asc"}],
                                                            "_source": ["article.source"]}}}},
            }
        found = self.client.search(self.index, body, search_type="dfs_query_then_fetch",
                                   include_named_queries_score="true")
        hits = found["hits"]["hits"]
        keys = [_keys(plan, settings, h.get("matched_queries") or {}, _lengths(h), vocabulary) for h in hits]
        counted = None
        if facets:
            aggs = found["aggregations"]
            years = tuple(Facet(b["key_as_string"], b["doc_count"])
                          for b in sorted(aggs["years"]["buckets"], key=lambda b: -b["key"]))
            sources = tuple(sorted(
                (Facet(b["first"]["hits"]["hits"][0]["_source"]["article"].get("source", b["key"]), b["doc_count"])
                 for b in aggs["sources"]["buckets"]), key=lambda f: (-f.count, f.value)))
            counted = Facets(years=years, sources=sources)
        markers = {3: 2, 2: 1} if plan.tiered else {}
        return _Window(
            total=int(found["hits"]["total"]["value"]), complete=len(hits) < size,
            bound=[float(h["_score"] or 0.0) - TIER_BOOST * markers.get(k[0], 0)
                   for h, k in zip(hits, keys, strict=True)],
            ids=[h["_id"] for h in hits],
            index=[h["_index"] for h in hits], tier=[k[0] for k in keys], score=[k[1] for k in keys],
            seq=[int(h["fields"]["seq"][0]) for h in hits],
            date=[(h["fields"].get("date") or [None])[0] for h in hits], facets=counted,
            group=[(h["fields"].get(GROUP) or [None])[0] for h in hits])

    def _texts(self, window: _Window, docs: Iterable[int], highlighter: Highlighter) -> dict[int, ArticleText]:
        """The stored articles of ``docs`` (window positions), an id shared by several shown as path#id."""
        docs = sorted(set(docs))
        if not docs:
            return {}
        got = self.client.call(lambda c: c.mget(body={"docs": [
            {"_index": window.index[d], "_id": window.ids[d], "_source": ["article"]} for d in docs]}))
        articles = {d: (g.get("_source") or {}).get("article", {}) for d, g in zip(docs, got["docs"], strict=True)}
        own = sorted({a.get("id", "") for a in articles.values()})
        shared = self.client.search(self.index, {"size": 0, "query": {"terms": {"id": own}}, "aggs": {"dup": {
            "terms": {"field": "id", "min_doc_count": 2, "size": max(1, len(own))}}}})
        several = {b["key"] for b in shared["aggregations"]["dup"]["buckets"]}
        return {d: ArticleText(_stored(a, several), highlighter, self.analyzer) for d, a in articles.items()}

    def _results(self, vocabulary: ClusterVocabulary, query: str, plan: QueryPlan, filters: Filters,
                 exclude: Sequence[str], sort: str, page: int, limit: int, fragments: int, fragment_size: int,
                 facets: bool = False, groups: int = 0) -> SearchResults:
        """``groups``: how many groups of duplicates the index holds, folded as locally (0: none, or not asked)."""
        start, stop = (page - 1) * limit, page * limit
        depth = self.settings.rerank_depth if plan.rerank and sort == "relevance" else 0
        members: dict[str, list[int]] = {}
        if not plan.groups:
            ranking: Ranking = _ClusterRanking(np.zeros(0, dtype=np.int64), (), {}, count=0)
            counted = Facets() if facets else None
        else:
            needed = max(stop, depth)
            size = needed + WINDOW_MARGIN
            while True:
                window = self._window(vocabulary, plan, filters, exclude, sort, size, facets)
                if window.complete or size >= MAX_WINDOW or _settled(window, needed, sort, bool(groups)):
                    break
                size = min(MAX_WINDOW, size * 4)
            folded = 0
            if groups:
                window, members, folded = self._members(vocabulary, plan, filters, exclude, window, sort, needed,
                                                        groups)
            ranking = self._rank(vocabulary, plan, window, sort, start, stop, depth, folded, bool(groups))
            counted = window.facets

        def read(doc: int) -> ArticleText:
            assert isinstance(ranking, _ClusterRanking) and ranking.window is not None
            return self._texts(ranking.window, [doc], plan.highlighter)[doc]

        def duplicates(doc: int) -> tuple[str, ...]:
            assert isinstance(ranking, _ClusterRanking) and ranking.window is not None
            group = ranking.window.group[doc] if members else None
            others = [d for d in members.get(group or "", []) if d != doc]
            return self._shown_ids(ranking.window, others) if others else ()

        return build_results(query, plan, ranking, read=read, surface=self._surface, page=page, limit=limit,
                             fragments=fragments, fragment_size=fragment_size, facets=counted, folded=duplicates)

    def _members(self, vocabulary: ClusterVocabulary, plan: QueryPlan, filters: Filters, exclude: Sequence[str],
                 window: _Window, sort: str, needed: int, groups: int) -> tuple[_Window, dict[str, list[int]], int]:
        """The window with every matching member of the groups folding needs (those of the ``needed`` first
        hits kept; by date, every group in the window, whose best-ranked copy may be older), each group's
        matching members (window positions, oldest first), and how many matching articles fold: those of
        every group past its first, counted by the cluster over every match."""
        order = _order(window, sort)
        kept = _collapsed(window, order)
        chosen = kept[:needed] if sort == "relevance" else order
        wanted = sorted({g for g in (window.group[d] for d in chosen) if g is not None})
        settings = self.settings if plan.headline else replace(self.settings, title_alone=0.0)
        body: dict[str, Any] = {
            "size": MAX_MEMBERS if wanted else 0, "_source": False, "track_total_hits": False,
            "docvalue_fields": ["seq", "date", *(f"{f}_length" for f in FIELDS), GROUP],
            "query": _query(plan, settings, filters, exclude),
            "post_filter": {"terms": {GROUP: wanted}},
            "aggs": {"groups": {"terms": {"field": GROUP, "size": max(1, min(groups, MAX_GROUP_BUCKETS)),
                                          "min_doc_count": 2}},
                     "folded": {"stats_bucket": {"buckets_path": "groups>_count"}}},
        }
        found = self.client.search(self.index, body, search_type="dfs_query_then_fetch",
                                   include_named_queries_score="true", filter_path=_MEMBERS_PATH)
        stats = found.get("aggregations", {}).get("folded", {})
        folded = int(stats.get("sum") or 0) - int(stats.get("count") or 0)
        at = {i: d for d, i in enumerate(window.ids)}
        extra = [h for h in found.get("hits", {}).get("hits", []) if h["_id"] not in at]
        if extra:
            keys = [_keys(plan, settings, h.get("matched_queries") or {}, _lengths(h), vocabulary) for h in extra]
            window = replace(
                window, ids=[*window.ids, *(h["_id"] for h in extra)],
                index=[*window.index, *(h["_index"] for h in extra)],
                tier=[*window.tier, *(k[0] for k in keys)], score=[*window.score, *(k[1] for k in keys)],
                bound=[*window.bound, *(0.0 for _ in extra)],
                seq=[*window.seq, *(int(h["fields"]["seq"][0]) for h in extra)],
                date=[*window.date, *((h["fields"].get("date") or [None])[0] for h in extra)],
                group=[*window.group, *((h["fields"].get(GROUP) or [None])[0] for h in extra)])
        members: dict[str, list[int]] = {}
        for d in sorted(range(len(window.ids)), key=lambda d: window.seq[d]):
            group = window.group[d]
            if group is not None and group in wanted:
                members.setdefault(group, []).append(d)
        return window, members, folded

    def _shown_ids(self, window: _Window, docs: Sequence[int]) -> tuple[str, ...]:
        """The ids of ``docs`` (window positions) as hits show them."""
        highlighter = Highlighter()
        texts = self._texts(window, docs, highlighter)
        return tuple(texts[d].text("id") for d in docs)

    def _rank(self, vocabulary: ClusterVocabulary, plan: QueryPlan, window: _Window, sort: str, start: int,
              stop: int, depth: int, folded: int = 0, fold: bool = False) -> Ranking:
        order = _order(window, sort)
        if fold:
            order = _collapsed(window, order)
        head, tail = order[:depth], order[depth:]
        shown = (head + tail)[start:stop]
        texts = self._texts(window, [*head, *shown], plan.highlighter)
        final = {d: window.score[d] for d in order}
        if head:
            arrays = _HeadArrays(self, vocabulary, dict(enumerate(window.ids)), texts)
            bonus = _rerank(arrays, plan, self.settings, np.array(sorted(head), dtype=np.int64),  # type: ignore[arg-type]
                            {d: texts[d] for d in head})
            for d, extra in bonus.items():
                final[d] += extra
            head = sorted(head, key=lambda d: (-window.tier[d], -final[d], window.seq[d]))
        page = tuple(Ranked(d, window.tier[d], _key(window.tier[d], final[d])) for d in (head + tail)[start:stop])
        return _ClusterRanking(np.zeros(0, dtype=np.int64), page, texts, folded, count=window.total, window=window)

    def _surface(self, term: str) -> str | None:
        """The word as an article writes it, for an index term."""
        for name in ("title", "lede", "body"):
            found = self.client.search(self.index, {"size": 1, "_source": [f"article.{name}"],
                                                    "query": {"term": {f"{name}_terms": _cut(term)}}})
            for hit in found["hits"]["hits"]:
                text = hit["_source"].get("article", {}).get(name, "")
                for t, start, end, _ in self.analyzer.analyse(text):
                    if t == term:
                        return str(text[start:end])
        return None

    def _find(self, article_id: str) -> tuple[dict[str, Any], bool]:
        """The stored hit of an id as a hit shows it (the article's own id, or ``path#id``), and
        whether several articles have its own id."""
        self._opened()

        def holding(own: str) -> list[dict[str, Any]]:
            hits: list[dict[str, Any]] = self.client.search(self.index, {
                "size": 20, "query": {"term": {"id": own}}, "sort": [{"seq": "asc"}]})["hits"]["hits"]
            return hits

        docs = holding(article_id)
        if len(docs) == 1:
            return docs[0], False
        if len(docs) > 1:
            places = ", ".join(f"{d['_source']['path']}#{article_id}" for d in docs[:5])
            raise ArticleNotFound(article_id, f"{len(docs)} articles have the id {article_id!r}: name one as {places}")
        path, sep, own = article_id.rpartition("#")
        if sep:
            docs = holding(own)
            for doc in docs:
                if doc["_source"]["path"] == path:
                    return doc, len(docs) > 1
        raise ArticleNotFound(article_id)

    def article(self, article_id: str, highlight: str | None) -> ArticleView:
        from .queries import parse_query

        hit, shared = self._find(article_id)
        highlighter = Highlighter()
        if highlight:
            vocabulary = self.vocabulary()
            parsed = self.names().expand(parse_query(highlight))
            vocabulary.prefetch(t for c in parsed.clauses for t in self.analyzer.terms(c.text))
            highlighter = plan_query(parsed, vocabulary, self.analyzer, self.settings).highlighter
        article = hit["_source"]["article"]
        several = {article.get("id", "")} if shared else set()
        return article_view(ArticleText(_stored(article, several), highlighter, self.analyzer))

    def similar(self, article_id: str, limit: int, fragments: int, fragment_size: int) -> SearchResults:
        hit, _ = self._find(article_id)
        article = hit["_source"]["article"]
        fields = {f: article.get(f, "") for f in FIELDS}
        vocabulary = self.vocabulary()
        vocabulary.prefetch({t for text in fields.values() for t, _, _, _ in self.analyzer.analyse(text)})
        plan = plan_similar(fields, vocabulary, self.analyzer, self.settings)
        itself = [hit["_id"]]
        group = hit["_source"].get(GROUP)
        groups = _after_of(vocabulary).groups
        if group and groups:
            # As locally, the article's own duplicates are not "similar" to it.
            found = self.client.search(self.index, {"size": MAX_MEMBERS, "_source": False,
                                                    "query": {"term": {GROUP: group}}})
            itself = sorted({hit["_id"], *(h["_id"] for h in found["hits"]["hits"])})
        return self._results(vocabulary, f"similar to {article_id}", plan, Filters(), itself, "relevance", 1,
                             limit, fragments, fragment_size, groups=groups)

    def info(self) -> tuple[int, int, int, dt.datetime | None]:
        """Articles, distinct terms (approximate past 40,000), bytes on the primaries, last update."""
        concrete = self._opened()
        found = self.client.search(self.index, {"size": 0, "aggs": {
            "terms": {"cardinality": {"field": "vocab", "precision_threshold": 40_000}}}})
        stats = self.client.call(lambda c: c.indices.stats(index=concrete, metric="store"))
        mapping = self.client.call(lambda c: c.indices.get_mapping(index=concrete))
        meta = mapping[concrete]["mappings"].get("_meta", {}).get("newsearch", {})
        updated = meta.get("updated")
        return (self._stats().size, int(found["aggregations"]["terms"]["value"]),
                int(stats["_all"]["primaries"]["store"]["size_in_bytes"]),
                dt.datetime.fromisoformat(updated) if updated else None)

    # --- writing

    def _create(self) -> str:
        name = f"{self.index}-{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%S%f')}"
        body = {"settings": {"number_of_shards": SHARDS, "number_of_replicas": REPLICAS,
                             "max_result_window": MAX_RESULT_WINDOW},
                "mappings": _mapping()}
        self.client.call(lambda c: c.indices.create(index=name, body=body, params={"wait_for_active_shards": "all"}))
        return name

    def _known(self, concrete: str) -> tuple[dict[str, tuple[str, str]], list[str], int]:
        """Every document's key, fingerprint and signature, their ids, and the last sequence number."""
        from opensearchpy import helpers

        state: dict[str, tuple[str, str]] = {}
        ids: list[str] = []
        seq = 0
        scan = helpers.scan(self.client.os, index=concrete, query={"_source": ["state", "seq"]}, size=2000)
        for hit in self.client.call(lambda c: list(scan)):
            key, fingerprint, signature = _decode_state(hit["_source"]["state"])
            state[key] = (fingerprint, signature)
            ids.append(hit["_id"])
            seq = max(seq, int(hit["_source"].get("seq", 0)))
        return state, ids, seq

    def update(self, paths: list[Path], *, rebuild: bool, fields: Mapping[str, str] | None,
               on_problem: Callable[[BadArticle], None] | None,
               progress: Callable[[Progress], None] | None) -> IndexReport:
        """Bring the cluster index in line with ``paths``, as ``indexing.update_index`` does locally."""
        from .articles import find_files, read_file
        from .indexing import IndexReport, _KnownState, _write_changes

        started = time.perf_counter()
        report = IndexReport()

        def problem(exc: BadArticle) -> None:
            report.failed += exc.count
            report.problems.append(exc)
            if on_problem:
                on_problem(exc)

        roots = [os.path.abspath(p) for p in paths]
        files = list(find_files(paths, problem))
        health = self.client.call(lambda c: c.cluster.health(
            params={"wait_for_status": "yellow", "timeout": "30s", "request_timeout": 60, "ignore": 408}))
        if health.get("status") == "red":
            raise ClusterError(self.client.urls, "the cluster is red: some shard has no copy on a running node")
        previous = self._concrete()
        if not files and previous is None:
            report.seconds = time.perf_counter() - started
            return report
        concrete = self._create() if rebuild or previous is None else previous
        current = _KnownState()
        ids: list[str] = []
        seq = 0
        if concrete == previous:
            state, ids, seq = self._known(concrete)
            current.state = state
            for number, key in enumerate(state):
                current.docnums[key].append(number)
        duplicates = self._mapped(concrete, DUPKEYS)
        writer = _BulkWriter(self, concrete, ids, set(current.state), report, problem, seq,
                             duplicates=duplicates, watch=len(current.state) // _FULL_PASS_SHARE,
                             groups=_planned_groups(files, fields, read_file) if duplicates and not ids else {})
        _write_changes(writer, current, files, roots, fields, report, problem, progress, read_file,  # type: ignore[arg-type]
                       duplicates=writer.duplicates)
        writer.flush()
        stamp = {"_meta": {"newsearch": {**self._meta(concrete), "format": _FORMAT,
                                         "updated": dt.datetime.now().isoformat()}}}
        self.client.call(lambda c: c.indices.put_mapping(index=concrete, body=stamp))
        self.client.call(lambda c: c.indices.refresh(index=concrete))
        if concrete != previous:
            actions: list[dict[str, Any]] = [{"add": {"index": concrete, "alias": self.index}}]
            if previous is not None:
                actions.append({"remove_index": {"index": previous}})
            self.client.call(lambda c: c.indices.update_aliases(body={"actions": actions}))
        self._after_run(concrete, writer)
        report.seconds = time.perf_counter() - started
        return report

    # --- after each run: duplicate groups and glued words over the whole index

    def _meta(self, concrete: str) -> dict[str, Any]:
        """The index's ``_meta.newsearch``: putting ``_meta`` replaces all of it, so writers merge into this."""
        found = self.client.call(lambda c: c.indices.get_mapping(
            index=concrete, params={"filter_path": "*.mappings._meta.newsearch"}))
        meta: dict[str, Any] = found.get(concrete, {}).get("mappings", {}).get("_meta", {}).get("newsearch", {})
        return meta

    def _mapped(self, concrete: str, name: str) -> bool:
        """Whether the index maps the field ``name`` (an index made by older code may not)."""
        found = self.client.call(lambda c: c.indices.get_mapping(
            index=concrete, params={"filter_path": f"*.mappings.properties.{name}.type"}))
        return bool(found)

    def _after_run(self, concrete: str, writer: _BulkWriter) -> None:
        """What needs the whole collection once a run is in, as ``indexing._after_commit`` locally: the
        groups of duplicates (on the articles, for queries to fold by) and the glued words (in the
        index's ``_meta``, with a new stamp that tells queries to read them again)."""
        meta = self._meta(concrete)
        groups = self._regroup(concrete) if self._mapped(concrete, GROUP) else 0
        glued = self._glued(concrete, writer, _AfterRun.of(meta) if "after" in meta else None)
        meta.update(groups=groups, glued={g.term: [g.split, g.head, g.tail] for g in glued},
                    after=f"{time.time_ns()}-{os.getpid()}")
        self.client.call(lambda c: c.indices.put_mapping(index=concrete, body={"_meta": {"newsearch": meta}}))

    def _regroup(self, concrete: str) -> int:
        """Group the articles by their duplicate keys, with ``duplicates.py``'s own code, over every
        article's keys (read alone, oldest first, so a group is named after its first-written member),
        and write the group of only those articles whose group changed, by partial updates. Returns how
        many groups of two or more there are."""
        from opensearchpy import helpers

        scan = helpers.scan(self.client.os, index=concrete, size=5000,
                            query={"_source": [DUPKEYS, GROUP, "seq"]})
        hits = sorted(self.client.call(lambda c: list(scan)), key=lambda h: int(h["_source"].get("seq", 0)))
        keys = np.zeros((len(hits), BANDS), dtype=np.uint64)
        for n, hit in enumerate(hits):
            found = hit["_source"].get(DUPKEYS)
            if found:
                keys[n] = np.array(found, dtype=np.int64).view(np.uint64)
        groups = DuplicateGroups.from_keys(keys, np.ones(len(hits), dtype=bool))
        lines: list[dict[str, Any]] = []
        for n, hit in enumerate(hits):
            group = hits[int(groups.group[n])]["_id"] if groups.grouped[n] else None
            if hit["_source"].get(GROUP) != group:
                lines += [{"update": {"_index": concrete, "_id": hit["_id"]}}, {"doc": {GROUP: group}}]
        for start in range(0, len(lines), 2 * BATCH_ACTIONS):
            answer = self.client.call(partial(_bulk, lines[start:start + 2 * BATCH_ACTIONS]))
            for item in answer["items"]:
                (_, result), = item.items()
                status = int(result.get("status", 500))
                if not 200 <= status < 300 and status != 404:
                    reason = (result.get("error") or {}).get("reason", status)
                    raise ClusterError(self.client.urls, f"cannot store a group of duplicates: {reason}")
        if lines:
            self.client.call(lambda c: c.indices.refresh(index=concrete))
        return len(np.unique(groups.group[groups.grouped]))

    def _glued(self, concrete: str, writer: _BulkWriter, previous: _AfterRun | None) -> list[Glued]:
        """The glued words of the whole index, as ``glued.write_glued`` finds them locally. A run that
        wrote under a tenth of the articles examines the body terms it sent only, with the whole index's
        frequencies asked of the cluster, and keeps the previous run's other glued words; any other run
        reads every article's terms (their source) for each field's document frequencies."""
        def term_of(word: str) -> str | None:
            terms = self.analyzer.terms(word)
            return terms[0] if len(terms) == 1 else None

        stats = self._stats()
        stop_words = self.analyzer.stop_words
        if previous is None or writer.terms is None:
            frequencies, body = self._frequencies(concrete)
            found = find_glued(body, lambda t: frequencies.get(t, 0), stats.size, term_of, stop_words)
            kept: list[Glued] = []
        else:
            vocabulary = ClusterVocabulary(self.client, concrete, stats)

            def df(term: str) -> int:
                return max(vocabulary.doc_frequency(f, term) for f in FIELDS)

            shaped = [t for t in writer.body_terms if len(t) >= MIN_HEAD + 2 and t.isascii() and t.isalpha()]
            vocabulary.prefetch(shaped)
            rare = [t for t in shaped if 0 < df(t) <= MAX_GLUED_DF]
            vocabulary.prefetch({p for t in rare for k in range(MIN_HEAD, len(t) - 1)
                                 for p in (term_of(t[:k]), t[k:], term_of(t[k:])) if p})
            found = find_glued(rare, df, stats.size, term_of, stop_words)
            kept = [g for g in previous.glued.glued.values() if g.term not in writer.terms]
        joined = self._joined(concrete, found)
        return sorted([*kept, *(g for g in found if g.term not in joined)], key=lambda g: g.term)

    def _frequencies(self, concrete: str) -> tuple[dict[str, int], set[str]]:
        """Each term with the most articles holding it in one field, and the body's terms
        (``glued.vocabulary``), from every article's terms as sent."""
        from opensearchpy import helpers

        fields: dict[str, dict[str, int]] = {name: {} for name in FIELDS}
        scan = helpers.scan(self.client.os, index=concrete, size=1000,
                            query={"_source": [f"{name}_terms" for name in FIELDS]})

        def count(c: OpenSearch) -> None:
            for hit in scan:
                for name, counts in fields.items():
                    for term in {t for value in hit["_source"].get(f"{name}_terms") or () for t in value.split()}:
                        counts[term] = counts.get(term, 0) + 1

        self.client.call(count)
        body = set(fields["body"])
        frequencies = fields["body"]
        for name in ("title", "lede"):
            for term, held in fields[name].items():
                if held > frequencies.get(term, 0):
                    frequencies[term] = held
        return frequencies, body

    def _joined(self, concrete: str, found: list[Glued]) -> set[str]:
        """Those of ``found`` that stand where their tail does in the body of an article holding them
        (``glued._joined_forms``): the joined form of a hyphenated word. Only such forms share a place
        with another term, and the cluster holds those apart (a field's second value), so only the
        articles where the glued term or its tail is one are analysed again."""
        from opensearchpy import helpers

        by_term = {g.term: g for g in found}
        joined: set[str] = set()
        for start in range(0, len(found), 500):
            batch = [g.term for g in found[start:start + 500]]
            scan = helpers.scan(self.client.os, index=concrete, size=500, query={
                "_source": ["body_terms"], "query": {"terms": {"body_terms": batch}}})
            again: list[tuple[str, list[Glued]]] = []
            hits: list[dict[str, Any]] = self.client.call(partial(_listed, scan))
            for hit in hits:
                values = hit["_source"].get("body_terms") or []
                sharing = set(values[1].split()) if len(values) > 1 else set()
                held = [by_term[t] for t in {t for v in values for t in v.split()} if t in by_term]
                doubtful = [g for g in held if g.term not in joined and (g.term in sharing or g.tail in sharing)]
                if doubtful:
                    again.append((hit["_id"], doubtful))
            for doc_id, doubtful in again:
                got: dict[str, Any] = self.client.call(partial(_body, concrete, doc_id))
                places: dict[str, set[int]] = {}
                for term, _, _, pos in self.analyzer.analyse((got.get("_source") or {}).get("article", {})
                                                             .get("body", "")):
                    places.setdefault(term, set()).add(pos)
                joined.update(g.term for g in doubtful if places.get(g.term, set()) & places.get(g.tail, set()))
        return joined


def _order(window: _Window, sort: str) -> list[int]:
    """The window's hits (positions) by the exact keys: newest first by date, else by tier and relevance."""
    n = len(window.ids)
    if sort == "date":
        return sorted(range(n), key=lambda d: (window.date[d] is None, _negated(window.date[d]),
                                               -window.score[d], window.seq[d]))
    return sorted(range(n), key=lambda d: (-window.tier[d], -window.score[d], window.seq[d]))


def _collapsed(window: _Window, order: Sequence[int]) -> list[int]:
    """``order`` less every duplicate of a better-ranked one, by tier, relevance, then first written
    (``DuplicateGroups.collapse``: by date too, the copy kept is the best-ranked one)."""
    best: dict[str, int] = {}
    for d in order:
        group = window.group[d]
        if group is not None:
            mine = (-window.tier[d], -window.score[d], window.seq[d])
            held = best.get(group)
            if held is None or mine < (-window.tier[held], -window.score[held], window.seq[held]):
                best[group] = d
    return [d for d in order if (group := window.group[d]) is None or best[group] == d]


def _settled(window: _Window, needed: int, sort: str, folding: bool) -> bool:
    """Whether the window holds the ``needed`` first hits of the ranking (after folding, if ``folding``):
    as for :func:`_enough`, but counting down the exact order to the ``needed``-th hit kept, as the local
    pruned path doubles its ``k`` until its best hold ``needed`` groups."""
    if not folding:
        return sort == "date" or _enough(window, needed)
    order = _order(window, sort)
    kept = _collapsed(window, order)
    if len(kept) < needed:
        return False
    return sort == "date" or _enough(window, order.index(kept[needed - 1]) + 1)


def _enough(window: _Window, needed: int) -> bool:
    """Whether the window holds the ``needed`` best hits by the exact keys: every hit OpenSearch put
    after the window is of a lower tier than the last one in it, or of its tier with a relevance at most
    its bound, so the ``needed``-th best exact key must be above that."""
    keys = sorted(((t, s) for t, s in zip(window.tier, window.score, strict=True)), reverse=True)
    if len(keys) < needed:
        return True
    tier, score = keys[needed - 1]
    last_tier, last_bound = window.tier[-1], window.bound[-1]
    return tier > last_tier or tier == last_tier and score >= BOUND_SLACK * last_bound


def _lengths(hit: Mapping[str, Any]) -> dict[str, int]:
    """A hit's length in each field (its number of terms), from its doc values."""
    values = hit.get("fields", {})
    return {f: int((values.get(f"{f}_length") or [0])[0]) for f in FIELDS}


def _negated(date: str | None) -> str:
    """A date as a key that sorts newest first."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in date) if date else ""


def _stored(article: Mapping[str, Any], several: set[str]) -> dict[str, Any]:
    """An article's stored fields as the local index gives them (``date`` a datetime)."""
    stored = dict(article)
    date = stored.pop("date", None)
    if date:
        stored["date"] = dt.datetime.combine(dt.date.fromisoformat(date), dt.time())
    own = stored.get("id", "")
    if own in several:
        stored["id"] = f"{stored.get('path', '')}#{own}"
    return stored
