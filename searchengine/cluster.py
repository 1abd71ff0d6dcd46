"""newsearch on an OpenSearch cluster: the same engine, with the index in another home.

:class:`ClusterHome` is what the engine calls; it reads, checks and writes the index through one
module per concern: ``clusterclient`` (the client), ``clusterlayout`` (the index's mapping and the
terms each field sends), ``clusterquery`` (a plan as OpenSearch queries whose scores bound the local
ones, the vocabulary planning reads, the window of hits and its order), ``clusterwrite`` (the bulk
writer, the writers' lock, orphan indices), ``clusterafter`` (duplicate groups and glued words after
each run) and ``clustercheck`` (``info --check``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis import FrenchAnalyzer
from .clusterafter import glued_words, regroup
from .clustercheck import ClusterCheck, check_index
from .clusterclient import Client
from .clusterlayout import (
    DUPKEYS,
    FORMAT,
    GROUP,
    alias_problem,
    cluster_terms,
    cut,
    decode_state,
    format_problem,
    mapping,
)
from .clusterquery import (
    BOUND_SLACK,
    AfterRun,
    ClusterRanking,
    ClusterVocabulary,
    GluedSource,
    HeadArrays,
    Stats,
    Window,
    collapsed,
    hit_keys,
    needed_position,
    settled,
    window_order,
    window_query,
)
from .clusterwrite import LOCKS_INDEX, BulkWriter, Lock, orphans, planned_groups
from .errors import ArticleNotFound, BadArticle, ClusterError, ClusterIndexCorrupt, ClusterIndexNotFound
from .facets import Facet, Facets
from .glued import _FULL_PASS_SHARE
from .plan import QueryPlan, plan_query, plan_similar
from .queries import FIELDS, ParsedQuery
from .ranking import Filters, Ranked, Ranking, RankingSettings, _key, _rerank
from .results import ArticleView, SearchResults, article_view, build_results
from .snippets import ArticleText, Highlighter

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from .indexing import IndexReport, Progress
    from .names import NameTable

__all__ = ["ClusterCheck", "ClusterHome", "ClusterVocabulary", "cluster_terms", "parse_urls"]

SHARDS = 2
REPLICAS = 1
WINDOW_MARGIN = 50
"""Hits fetched past the page (and the reranked head) at first; see :meth:`ClusterHome._window`."""
MAX_WINDOW = 5_000
"""The window stops growing here: past it, OpenSearch's order is taken as it is."""
MAX_RESULT_WINDOW = 1_000_000
MAX_MEMBERS = 10_000
"""Matching copies fetched to list under the hits that fold them."""
_MEMBERS_PATH = ",".join(["_shards", "aggregations.folded", *(f"hits.hits.{k}" for k in (
    "_id", "_index", "_score", "fields", "matched_queries"))])
"""The members query's answer without its buckets, which only their count and sum are needed of."""
MAX_GROUP_BUCKETS = 60_000
"""Groups counted per query to tell how many matching articles fold (OpenSearch's search.max_buckets
is 65,535): a query matching more groups than this counts the first ones only."""


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


def _after_of(vocabulary: ClusterVocabulary) -> AfterRun:
    return vocabulary.glued.after if vocabulary.glued is not None else AfterRun()


class ClusterHome:
    """A newsearch index on an OpenSearch cluster: ``index`` is an alias to the concrete index, so
    ``--rebuild`` builds a new one and switches the alias when it is complete."""

    def __init__(self, urls: str | Sequence[str], index: str, names_file: str | os.PathLike[str] | None,
                 settings: RankingSettings) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,200}", index):
            raise ValueError(f"OpenSearch index name {index!r}: lower-case letters, digits, _ . - only")
        if index == LOCKS_INDEX:
            raise ValueError(f"OpenSearch index name {index!r}: newsearch keeps its writers' locks there")
        self.client = Client(parse_urls(urls))
        self.index = index
        self.analyzer = FrenchAnalyzer()
        self.settings = settings
        self._names_file = names_file
        self._names: NameTable | None = None
        self._after_cache: tuple[str, AfterRun] | None = None

    @property
    def where(self) -> str:
        return f"{self.index!r} on {self.client.urls}"

    def names(self) -> NameTable:
        if self._names is None:
            from .names import load_names

            self._names = load_names(self.analyzer, self._names_file)
        return self._names

    def _aliased(self) -> list[str]:
        """The indices the alias points to: one, or none before the first build."""
        from opensearchpy.exceptions import NotFoundError

        def aliased(c: OpenSearch) -> dict[str, Any]:
            try:
                found: dict[str, Any] = c.indices.get_alias(name=self.index)
                return found
            except NotFoundError:
                return {}

        return sorted(self.client.call(aliased))

    def _concrete(self) -> str | None:
        """The index the alias points to, or None when there is none; an alias naming several is refused
        (a query would search them all, a run would update one at random)."""
        names = self._aliased()
        problem = alias_problem(names)
        if problem:
            raise ClusterIndexCorrupt(self.where, problem)
        return names[0] if names else None

    def _opened(self) -> str:
        concrete = self._concrete()
        if concrete is None:
            raise ClusterIndexNotFound(self.where)
        return concrete

    def _stats(self) -> Stats:
        aggs: dict[str, Any] = {}
        for f in FIELDS:
            aggs[f"total_{f}"] = {"sum": {"field": f"{f}_length"}}
            aggs[f"holding_{f}"] = {"filter": {"range": {f"{f}_length": {"gt": 0}}}}
            aggs[f"longest_{f}"] = {"max": {"field": f"{f}_length"}}
        found = self.client.search(self.index, {"size": 0, "track_total_hits": True, "aggs": aggs})
        got = found["aggregations"]
        return Stats(size=int(found["hits"]["total"]["value"]),
                      total={f: int(got[f"total_{f}"]["value"]) for f in FIELDS},
                      holding={f: int(got[f"holding_{f}"]["doc_count"]) for f in FIELDS},
                      longest={f: int(got[f"longest_{f}"]["value"] or 0) for f in FIELDS})

    # --- reading

    def vocabulary(self) -> ClusterVocabulary:
        """What planning reads of the index, with what the last after-run step stored (its glued words)."""
        concrete = self._opened()
        vocabulary = ClusterVocabulary(self.client, self.index, self._stats())
        vocabulary.glued = GluedSource(self._after(concrete))
        return vocabulary

    def _after(self, concrete: str) -> AfterRun:
        """What the last run's after-run step stored (nothing for an index made before it): read when
        its stamp changes, so a query asks only for the stamp."""
        def meta(path: str) -> dict[str, Any]:
            found = self.client.call(lambda c: c.indices.get_mapping(index=self.index, params={"filter_path": path}))
            values: dict[str, Any] = next(iter(found.values()), {}) if isinstance(found, dict) else {}
            got: dict[str, Any] = values.get("mappings", {}).get("_meta", {}).get("newsearch", {})
            return got

        # The format is read with the stamp, in the one request a query makes for it.
        head = meta("*.mappings._meta.newsearch.after,*.mappings._meta.newsearch.format")
        problem = format_problem(concrete, head)
        if problem:
            raise ClusterIndexCorrupt(self.where, problem)
        stamp = head.get("after")
        if stamp is None:
            return AfterRun()
        if self._after_cache is None or self._after_cache[0] != stamp:
            stored = meta("*.mappings._meta.newsearch.after,*.mappings._meta.newsearch.groups,"
                          "*.mappings._meta.newsearch.glued")
            self._after_cache = stamp, AfterRun.of(stored)
        return self._after_cache[1]

    def search(self, query: str, parsed: ParsedQuery, filters: Filters, sort: str, page: int, limit: int,
               fragments: int, fragment_size: int, facets: bool, collapse: bool = True) -> SearchResults:
        vocabulary = self.vocabulary()
        expanded = self.names().expand(parsed)
        vocabulary.prefixes = sum(c.kind == "prefix" for c in expanded.clauses)
        vocabulary.prefetch(t for c in expanded.clauses for t in self.analyzer.terms(c.text))
        plan = plan_query(expanded, vocabulary, self.analyzer, self.settings)
        groups = _after_of(vocabulary).groups if collapse else 0
        return self._results(vocabulary, query, plan, filters, (), sort, page, limit, fragments, fragment_size,
                             facets, groups)

    def _window(self, vocabulary: ClusterVocabulary, plan: QueryPlan, filters: Filters, exclude: Sequence[str],
                sort: str, size: int, facets: bool, needed: int = 0, folding: bool = False) -> Window:
        """The first ``size`` hits in OpenSearch's order, then, when some hit past them might still be among
        the ``needed`` best by the exact keys (the ``needed`` best groups' first hits if ``folding``), in one
        more request every hit whose bound says it might (``min_score``, after the last one), up to
        ``MAX_WINDOW`` hits in all."""
        # As ranking.rank: only a reader's words may be a headline.
        settings = self.settings if plan.headline else replace(self.settings, title_alone=0.0)
        query, tier_boost = window_query(plan, settings, vocabulary, filters, exclude)
        body: dict[str, Any] = {
            "size": size, "_source": False, "track_total_hits": True,
            "docvalue_fields": ["seq", "date", *(f"{f}_length" for f in FIELDS), GROUP],
            "query": query,
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
        # The same copies of the shards for every request of a query, so that scores agree between them.
        preference = vocabulary.preference
        found = self.client.search(self.index, body, search_type="dfs_query_then_fetch",
                                   include_named_queries_score="true", preference=preference)
        hits = found["hits"]["hits"]
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
        whole = sum(g.weight for g in plan.groups)
        least = min((g.weight for g in plan.groups), default=0.0)
        tier_one = ((whole - least) / whole) ** settings.coverage_exponent \
            if plan.tiered and whole > 0 and settings.coverage_exponent >= 0 else 1.0
        window = Window(total=int(found["hits"]["total"]["value"]), complete=len(hits) < size,
                         bound=[], ids=[], index=[], tier=[], score=[], seq=[], date=[], facets=counted,
                         resolution=3 * tier_boost * 2.0 ** -23, tier_one=tier_one)
        window.add(hits, [hit_keys(plan, settings, h.get("matched_queries") or {}, _lengths(h), vocabulary)
                          for h in hits], tier_boost, markers)
        if window.complete or sort == "date" or not needed or len(hits) >= MAX_WINDOW \
                or settled(window, needed, sort, folding):
            return window
        last = needed_position(window, needed, folding)
        if last is None:  # fewer groups than the page needs: the caller asks for a larger first batch
            return window
        tier, score = window.tier[last], window.score[last]
        lowest = (score - window.resolution) / BOUND_SLACK / (tier_one if tier == 1 else 1.0) - window.resolution
        rest = {**body, "size": MAX_WINDOW - len(hits), "track_total_hits": False, "search_after": hits[-1]["sort"],
                "min_score": tier_boost * markers.get(tier, 0) + max(0.0, lowest)}
        rest.pop("aggs", None)
        more = self.client.search(self.index, rest, search_type="dfs_query_then_fetch",
                                  include_named_queries_score="true", preference=preference)["hits"]["hits"]
        window.add(more, [hit_keys(plan, settings, h.get("matched_queries") or {}, _lengths(h), vocabulary)
                          for h in more], tier_boost, markers)
        return replace(window, complete=len(more) < rest["size"])

    def _texts(self, window: Window, docs: Iterable[int], highlighter: Highlighter) -> dict[int, ArticleText]:
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
            ranking: Ranking = ClusterRanking(np.zeros(0, dtype=np.int64), (), {}, count=0)
            counted = Facets() if facets else None
        else:
            needed = max(stop, depth)
            size = needed + WINDOW_MARGIN
            while True:
                window = self._window(vocabulary, plan, filters, exclude, sort, size, facets, needed, bool(groups))
                if window.complete or size >= MAX_WINDOW or settled(window, needed, sort, bool(groups)):
                    break
                size = min(MAX_WINDOW, size * 4)
            folded = 0
            if groups:
                window, members, folded = self._members(vocabulary, plan, filters, exclude, window, sort, needed,
                                                        groups)
            ranking = self._rank(vocabulary, plan, window, sort, start, stop, depth, folded, bool(groups))
            counted = window.facets

        def read(doc: int) -> ArticleText:
            assert isinstance(ranking, ClusterRanking) and ranking.window is not None
            return self._texts(ranking.window, [doc], plan.highlighter)[doc]

        def duplicates(doc: int) -> tuple[str, ...]:
            assert isinstance(ranking, ClusterRanking) and ranking.window is not None
            group = ranking.window.group[doc] if members else None
            others = [d for d in members.get(group or "", []) if d != doc]
            return self._shown_ids(ranking.window, others) if others else ()

        return build_results(query, plan, ranking, read=read, surface=self._surface, page=page, limit=limit,
                             fragments=fragments, fragment_size=fragment_size, facets=counted, folded=duplicates)

    def _members(self, vocabulary: ClusterVocabulary, plan: QueryPlan, filters: Filters, exclude: Sequence[str],
                 window: Window, sort: str, needed: int, groups: int) -> tuple[Window, dict[str, list[int]], int]:
        """The window with every matching member of the groups folding needs (those of the ``needed`` first
        hits kept; by date, every group in the window, whose best-ranked copy may be older), each group's
        matching members (window positions, oldest first), and how many matching articles fold: those of
        every group past its first, counted by the cluster over every match."""
        order = window_order(window, sort)
        kept = collapsed(window, order)
        chosen = kept[:needed] if sort == "relevance" else order
        wanted = sorted({g for g in (window.group[d] for d in chosen) if g is not None})
        settings = self.settings if plan.headline else replace(self.settings, title_alone=0.0)
        query, _ = window_query(plan, settings, vocabulary, filters, exclude)
        body: dict[str, Any] = {
            "size": MAX_MEMBERS if wanted else 0, "_source": False, "track_total_hits": False,
            "docvalue_fields": ["seq", "date", *(f"{f}_length" for f in FIELDS), GROUP],
            "query": query,
            "post_filter": {"terms": {GROUP: wanted}},
            "aggs": {"groups": {"terms": {"field": GROUP, "size": max(1, min(groups, MAX_GROUP_BUCKETS)),
                                          "min_doc_count": 2}},
                     "folded": {"stats_bucket": {"buckets_path": "groups>_count"}}},
        }
        found = self.client.search(self.index, body, search_type="dfs_query_then_fetch",
                                   include_named_queries_score="true", filter_path=_MEMBERS_PATH,
                                   preference=vocabulary.preference)
        stats = found.get("aggregations", {}).get("folded", {})
        folded = int(stats.get("sum") or 0) - int(stats.get("count") or 0)
        at = {i: d for d, i in enumerate(window.ids)}
        extra = [h for h in found.get("hits", {}).get("hits", []) if h["_id"] not in at]
        if extra:
            keys = [hit_keys(plan, settings, h.get("matched_queries") or {}, _lengths(h), vocabulary) for h in extra]
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

    def _shown_ids(self, window: Window, docs: Sequence[int]) -> tuple[str, ...]:
        """The ids of ``docs`` (window positions) as hits show them."""
        highlighter = Highlighter()
        texts = self._texts(window, docs, highlighter)
        return tuple(texts[d].text("id") for d in docs)

    def _rank(self, vocabulary: ClusterVocabulary, plan: QueryPlan, window: Window, sort: str, start: int,
              stop: int, depth: int, folded: int = 0, fold: bool = False) -> Ranking:
        order = window_order(window, sort)
        if fold:
            order = collapsed(window, order)
        head, tail = order[:depth], order[depth:]
        shown = (head + tail)[start:stop]
        texts = self._texts(window, [*head, *shown], plan.highlighter)
        final = {d: window.score[d] for d in order}
        if head:
            arrays = HeadArrays(self.analyzer, vocabulary, dict(enumerate(window.ids)), texts)
            bonus = _rerank(arrays, plan, self.settings, np.array(sorted(head), dtype=np.int64),  # type: ignore[arg-type]
                            {d: texts[d] for d in head})
            for d, extra in bonus.items():
                final[d] += extra
            head = sorted(head, key=lambda d: (-window.tier[d], -final[d], window.seq[d]))
        page = tuple(Ranked(d, window.tier[d], _key(window.tier[d], final[d])) for d in (head + tail)[start:stop])
        return ClusterRanking(np.zeros(0, dtype=np.int64), page, texts, folded, count=window.total, window=window)

    def _surface(self, term: str) -> str | None:
        """The word as an article writes it, for an index term."""
        for name in ("title", "lede", "body"):
            found = self.client.search(self.index, {"size": 1, "_source": [f"article.{name}"],
                                                    "query": {"term": {f"{name}_terms": cut(term)}}})
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
        described = self.client.call(lambda c: c.indices.get_mapping(index=concrete))
        meta = described[concrete]["mappings"].get("_meta", {}).get("newsearch", {})
        updated = meta.get("updated")
        return (self._stats().size, int(found["aggregations"]["terms"]["value"]),
                int(stats["_all"]["primaries"]["store"]["size_in_bytes"]),
                dt.datetime.fromisoformat(updated) if updated else None)

    def check(self) -> ClusterCheck:
        """Read the whole index as the cluster holds it: the alias names one index, of this newsearch's
        format and mapping, whose every primary shard is started, and whose every document decodes and
        has its fields (in one snapshot, from every shard, as many as the cluster counts). Raises
        :class:`ClusterIndexCorrupt` with the first problem, :class:`ClusterIndexNotFound` for no index."""
        return check_index(self.client, self.where, self._aliased())

    # --- writing

    def _create(self) -> str:
        """A new concrete index, ``NAME-<20 digits of UTC time>``, its mapping naming the alias it is for."""
        name = f"{self.index}-{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%S%f')}"
        mappings = mapping()
        mappings["_meta"]["newsearch"]["alias"] = self.index
        body = {"settings": {"number_of_shards": SHARDS, "number_of_replicas": REPLICAS,
                             "max_result_window": MAX_RESULT_WINDOW},
                "mappings": mappings}
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
            key, fingerprint, signature = decode_state(hit["_source"]["state"])
            state[key] = (fingerprint, signature)
            ids.append(hit["_id"])
            seq = max(seq, int(hit["_source"].get("seq", 0)))
        return state, ids, seq

    def update(self, paths: list[Path], *, rebuild: bool, fields: Mapping[str, str] | None,
               on_problem: Callable[[BadArticle], None] | None,
               progress: Callable[[Progress], None] | None, wait: float = 0.0, jobs: int = 1,
               memory_mb: int = 256) -> IndexReport:
        """Bring the cluster index in line with ``paths``, as ``indexing.update_index`` does locally:
        one run at a time (the lock, waited for up to ``wait`` seconds), leftovers of killed runs
        removed, and a new index that a failed run created removed again. ``jobs`` and ``memory_mb``
        are the local writer's: here this process analyses the articles and the cluster buffers them."""
        from .articles import find_files
        from .indexing import _PAUSE, IndexReport, _pause

        if jobs != 1:
            raise ValueError("jobs applies to the local index only: on OpenSearch, this process analyses the "
                             "articles")
        if memory_mb != 256:
            raise ValueError("memory_mb applies to the local index only: on OpenSearch, the cluster buffers "
                             "what it is sent")
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
        if not files and self._concrete() is None:
            report.seconds = time.perf_counter() - started
            return report
        lock = Lock(self.client, self.index, self.where)
        lock.acquire(wait)
        try:
            previous = self._concrete()
            unreadable = format_problem(previous, self._meta(previous)) if previous and not rebuild else None
            if unreadable:  # written into, it would hold documents of two layouts
                raise ClusterIndexCorrupt(self.where, unreadable)
            for orphan in orphans(self.client, self.index):
                self.client.call(lambda c: c.indices.delete(index=orphan))  # noqa: B023 - called at once
            concrete = self._create() if rebuild or previous is None else previous
            try:
                writer = self._fill(concrete, previous, files, roots, fields, report, problem, progress, lock)
                if _PAUSE:
                    _pause("commit")
                lock.confirm()
                self._switch(concrete, previous)
            except BaseException:
                if concrete != previous:  # as a failed local run deletes what it wrote
                    self._drop(concrete)
                raise
            # The alias names the new index now: a failure here leaves it searchable, and the next run redoes this.
            self._after_run(concrete, writer)
        finally:
            lock.release()
        report.seconds = time.perf_counter() - started
        return report

    def _fill(self, concrete: str, previous: str | None, files: list[Path], roots: list[str],
               fields: Mapping[str, str] | None, report: IndexReport, problem: Callable[[BadArticle], None],
               progress: Callable[[Progress], None] | None, lock: Lock) -> BulkWriter:
        """Every change of the run, acknowledged by the cluster; the writer, which knows what it sent."""
        from .articles import read_file
        from .indexing import _KnownState, _write_changes

        current = _KnownState()
        ids: list[str] = []
        seq = 0
        if concrete == previous:
            state, ids, seq = self._known(concrete)
            current.state = state
            for number, key in enumerate(state):
                current.docnums[key].append(number)
        duplicates = self._mapped(concrete, DUPKEYS)
        writer = BulkWriter(self.client, self.analyzer, concrete, ids, set(current.state), report, problem, seq,
                            lock=lock, duplicates=duplicates, watch=len(current.state) // _FULL_PASS_SHARE,
                            groups=planned_groups(files, fields, read_file) if duplicates and not ids else {})
        _write_changes(writer, current, files, roots, fields, report, problem, progress, read_file,  # type: ignore[arg-type]
                       duplicates=writer.duplicates)
        writer.flush()
        return writer

    def _switch(self, concrete: str, previous: str | None) -> None:
        """Stamp the index, make its documents visible and, for a new one, point the alias to it."""
        stamp = {"_meta": {"newsearch": {**self._meta(concrete), "format": FORMAT, "alias": self.index,
                                         "updated": dt.datetime.now().isoformat()}}}
        self.client.call(lambda c: c.indices.put_mapping(index=concrete, body=stamp))
        self.client.call(lambda c: c.indices.refresh(index=concrete))
        if concrete != previous:
            actions: list[dict[str, Any]] = [{"add": {"index": concrete, "alias": self.index}}]
            if previous is not None:
                actions.append({"remove_index": {"index": previous}})
            self.client.call(lambda c: c.indices.update_aliases(body={"actions": actions}))

    def _drop(self, concrete: str) -> None:
        """Delete the new index of a failed run; a cluster out of reach leaves it to the next run."""
        try:
            self.client.call(lambda c: c.indices.delete(index=concrete))
        except ClusterError:
            pass  # the next run, holding the lock, removes it as an orphan

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

    def _after_run(self, concrete: str, writer: BulkWriter) -> None:
        """What needs the whole collection once a run is in, as ``indexing._after_commit`` locally: the
        groups of duplicates (on the articles, for queries to fold by) and the glued words (in the
        index's ``_meta``, with a new stamp that tells queries to read them again)."""
        meta = self._meta(concrete)
        groups = regroup(self.client, concrete) if self._mapped(concrete, GROUP) else 0
        glued = glued_words(self.client, self.analyzer, concrete, self._stats(), writer,
                            AfterRun.of(meta) if "after" in meta else None)
        meta.update(groups=groups, glued={g.term: [g.split, g.head, g.tail] for g in glued},
                    after=f"{time.time_ns()}-{os.getpid()}")
        self.client.call(lambda c: c.indices.put_mapping(index=concrete, body={"_meta": {"newsearch": meta}}))


def _lengths(hit: Mapping[str, Any]) -> dict[str, int]:
    """A hit's length in each field (its number of terms), from its doc values."""
    values = hit.get("fields", {})
    return {f: int((values.get(f"{f}_length") or [0])[0]) for f in FIELDS}


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
