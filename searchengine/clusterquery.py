"""A query plan as OpenSearch queries, the vocabulary planning reads, the exact local keys recovered
from the answers and the window's order; apart from the home because this is the arithmetic of the
cluster path, whose only requests are the vocabulary's.

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

import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis import FrenchAnalyzer
from .clusterclient import Client
from .clusterlayout import GROUP, cut
from .facets import Facets
from .glued import Glued, GluedWords
from .plan import MAX_PREFIX_TERMS, QueryPlan, Terms, typo_count
from .queries import FIELDS
from .ranking import Filters, Ranking, RankingSettings
from .scoring import bm25_idf
from .snippets import ArticleText
from .whooshformat import byte_to_length, quantised_length

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .scoring import DocIds, Floats

CLAUSE_RESERVE = 224
"""Clauses of a query kept for its other words when its prefixes are given theirs: each word of a
prefix is one scoring clause per field, and OpenSearch refuses a query of more clauses than its
``indices.query.bool.max_clause_count`` (1,024 by default), see :meth:`ClusterVocabulary.expand_prefix`."""
BOUND_SLACK = 1.0001
"""OpenSearch's relevance of a hit is at or above the exact one (see :func:`_part`) but for rounding:
Lucene scores in float32, which this factor covers."""


@dataclass(frozen=True)
class Stats:
    """The collection's statistics that BM25 reads: articles, and per field the sum of the lengths
    and how many articles have it (OpenSearch's ``docCount``)."""

    size: int
    total: Mapping[str, int]
    holding: Mapping[str, int]
    longest: Mapping[str, int]

    def lucene_norm(self, name: str, length: int, b: float) -> float:
        """BM25's length normalisation as OpenSearch computes it (its quantised length, its average)."""
        average = self.total[name] / max(1, self.holding[name])
        return (1 - b) + b * _LUCENE_LENGTH[_int_to_byte4(length)] / average

    def whoosh_norm(self, name: str, length: int, b: float) -> float:
        """The same as the local index computes it (``scoring.IndexArrays._norm``)."""
        average = self.total[name] / max(1, self.size) or 1.0
        return (1 - b) + b * float(np.float32(quantised_length(length))) / average

    def norms(self, name: str, b: float) -> tuple[Floats, Floats]:
        """The local and OpenSearch's length normalisations of ``name`` at every length where either
        changes (both are steps of the length), from 1 to the longest held."""
        starts = _STEP_STARTS[(_STEP_STARTS >= 1) & (_STEP_STARTS <= max(1, self.longest.get(name, 0)))]
        local_average = self.total[name] / max(1, self.size) or 1.0
        local = (1 - b) + b * _WHOOSH_ARRAY[np.searchsorted(_WHOOSH_ARRAY, np.minimum(starts, _WHOOSH_ARRAY[-1]))] \
            / local_average
        lucene = (1 - b) + b * _LUCENE_ARRAY[_byte4_array(starts)] / (self.total[name] / max(1, self.holding[name]))
        return local.astype(np.float64), lucene.astype(np.float64)


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


def _byte4_array(values: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.array([_int_to_byte4(int(v)) for v in values.tolist()], dtype=np.int64)


_FREE_VALUES = 24
_LUCENE_LENGTH = [_byte4_to_int(b) for b in range(256)]
_LUCENE_ARRAY = np.array(_LUCENE_LENGTH, dtype=np.float64)
_WHOOSH_ARRAY = np.array(sorted({byte_to_length(b) for b in range(1, 256)}), dtype=np.int64)
"""Every length the local index stores, ascending (lengths past the last are stored as it)."""
_STEP_STARTS = np.array(sorted({0, *(_WHOOSH_ARRAY + 1).tolist(), *_LUCENE_LENGTH}), dtype=np.int64)
"""Where the local or OpenSearch's stored length changes."""


class ClusterVocabulary:
    """What planning reads of the index (``plan.Vocabulary``), asked of the cluster in batches and
    kept for one query: document frequencies by a ``filters`` aggregation, close spellings by the term
    suggester, words under a prefix by a ``terms`` aggregation over each article's distinct terms."""

    def __init__(self, client: Client, index: str, stats: Stats) -> None:
        self.client = client
        self.index = index
        self.stats = stats
        self._size = stats.size
        self._df: dict[tuple[str, str], int] = {}
        self._within: dict[tuple[str, int], dict[str, set[str]]] = {}
        self.glued: GluedSource | None = None
        """The index's glued words, which planning reads (``glued.GluedPlan``)."""
        self._norms: dict[tuple[str, float], tuple[Floats, Floats]] = {}
        self._under: dict[str, list[str]] = {}
        self.preference = uuid.uuid4().hex
        """Sends every search of the query to the same copies of the shards."""
        self.clauses: dict[tuple[Terms, RankingSettings], list[_Clause]] = {}
        """Each part's clauses as :func:`_clauses` boosts them, for this query."""
        self.prefixes = 1
        """How many prefixes the query holds, which share its clauses (see :meth:`expand_prefix`)."""

    @property
    def size(self) -> int:
        return self._size

    def norms(self, name: str, b: float) -> tuple[Floats, Floats]:
        """:meth:`Stats.norms`, computed once a query."""
        if (name, b) not in self._norms:
            self._norms[name, b] = self.stats.norms(name, b)
        return self._norms[name, b]

    def prefetch(self, terms: Iterable[str]) -> None:
        """The document frequency of each term in each field, in one request."""
        wanted = sorted({(f, cut(t)) for t in terms for f in FIELDS} - set(self._df))
        for start in range(0, len(wanted), 900):
            batch = wanted[start:start + 900]
            filters = {str(n): {"term": {f"{f}_terms": t}} for n, (f, t) in enumerate(batch)}
            found = self.client.search(self.index, {"size": 0, "track_total_hits": False,
                                                    "aggs": {"df": {"filters": {"filters": filters}}}})
            buckets = found["aggregations"]["df"]["buckets"]
            for n, pair in enumerate(batch):
                self._df[pair] = int(buckets[str(n)]["doc_count"])

    def doc_frequency(self, fieldname: str, term: str) -> int:
        key = (fieldname, cut(term))
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

    def prefix_words(self) -> int:
        """How many words a prefix may stand for: as locally (``plan.MAX_PREFIX_TERMS``), but the
        query's prefixes share what the cluster's clause limit leaves, a clause per word and field."""
        free = self.client.clause_limit() - CLAUSE_RESERVE
        return max(1, min(MAX_PREFIX_TERMS, free // (len(FIELDS) * max(1, self.prefixes))))

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterator[str]:
        """The most frequent words under ``prefix`` in any field (the same for every field, asked once)."""
        if prefix in self._under:
            yield from self._under[prefix]
            return
        words = self.prefix_words()
        body = {"size": 0, "aggs": {"words": {"terms": {
            "field": "vocab", "include": "".join(ch if ch.isalnum() else "\\" + ch for ch in prefix) + ".*",
            "size": words, "shard_size": 10 * words}}}}
        found = self.client.search(self.index, body)["aggregations"]["words"]["buckets"]
        self._under[prefix] = sorted(bucket["key"] for bucket in found)
        yield from self._under[prefix]


@dataclass(frozen=True)
class GluedSource:
    """What the after-run step stored, whose glued words planning asks for (``glued.GluedFile``'s ``words``)."""

    after: AfterRun

    def words(self) -> GluedWords:
        return self.after.glued


@dataclass(frozen=True)
class AfterRun:
    """What the after-run step stores in the index's ``_meta``: how many groups of duplicates it holds
    (0: none, or an index made before duplicate keys), and its glued words."""

    groups: int = 0
    glued: GluedWords = field(default_factory=GluedWords)

    @classmethod
    def of(cls, meta: Mapping[str, Any]) -> AfterRun:
        table = meta.get("glued") or {}
        return cls(int(meta.get("groups") or 0),
                   GluedWords.of(Glued(term, int(split), str(head), str(tail))
                                 for term, (split, head, tail) in table.items()))


@dataclass(frozen=True)
class _Clause:
    """How one term of a part is asked of the cluster: the boost of its clause in each field that holds
    it, and the most its local score (BM25F, and the title's own) can be."""

    boosts: dict[str, float]
    cap: float


def _clauses(part: Terms, settings: RankingSettings, vocabulary: ClusterVocabulary) -> list[_Clause]:
    """Each term's clauses, boosted so that OpenSearch's score of the term bounds its local one from
    above, and as tightly as a sum of fields allows.

    Locally a term scores ``w·I·f(Σ B_f·x_f)`` with ``f(x) = x(k1+1)/(x+k1)``, ``x_f = tf_f/m_f`` its
    frequency over the field's local length normalisation, ``I`` the local idf, plus ``a·w·I_t·f(x_title)``
    for the title alone. OpenSearch scores a field ``boost·L_f·f(tf_f/n_f)``, with its own idf ``L_f`` and
    normalisation ``n_f``. ``f`` is concave with ``f(0) = 0``, so ``f(Σ y) <= Σ f(y)``: a boost at least
    ``w·(I·f(B_f·tf/m)  [+ a·I_t·f(tf/m)]) / (L_f·f(tf/n))`` for every frequency and length makes the
    fields' sum an upper bound. Each ratio ``f(c·t)/f(d·t)`` is monotonic in ``t`` and tends to 1, so it is
    at most the larger of 1 and its value at ``tf = 1``; ``m`` and ``n`` are steps of the length, checked
    at each step up to the longest held (:meth:`Stats.norms`). ``f`` never exceeds ``k1 + 1``, so
    ``w·(k1+1)·(I + a·I_t)`` is another bound, and the cluster takes the smaller (``function_score`` with
    ``boost_mode: min``). Fields where the term is absent get no clause."""
    known = vocabulary.clauses.get((part, settings))
    if known is not None:
        return known
    stats, k1, b = vocabulary.stats, settings.k1, settings.b

    def f(x: Floats) -> Floats:
        return x * (k1 + 1) / (x + k1)

    fields = settings.boosts(part.fields)
    alone = settings.title_alone if "title" in fields and not part.phrase else 0.0
    found = []
    for term in part.terms:
        frequency = {name: vocabulary.doc_frequency(name, term) for name in fields}
        idf = bm25_idf(stats.size, max(frequency.values(), default=0))
        title = bm25_idf(stats.size, frequency["title"]) if alone else 0.0
        boosts = {}
        for name, boost in fields.items():
            if not frequency[name]:
                continue
            local, lucene = vocabulary.norms(name, b)
            asked = f(1 / lucene)
            needed = idf * np.maximum(f(boost / local) / asked, 1.0)
            if name == "title" and alone:
                needed += alone * title * np.maximum(f(1 / local) / asked, 1.0)
            boosts[name] = part.weight * float(np.max(needed)) / _lucene_idf(frequency[name], stats.holding[name])
        found.append(_Clause(boosts, part.weight * (k1 + 1) * (idf + alone * title)))
    vocabulary.clauses[part, settings] = found
    return found


def _part(part: Terms, settings: RankingSettings, vocabulary: ClusterVocabulary,
          name: str | None = None) -> dict[str, Any]:
    """One part of a plan as a scoring query whose score bounds the part's local score from above (see
    :func:`_clauses`); a phrase only where its terms stand in a row in some field. With ``name``, each
    term's clause in each field is named ``name.k.field`` and the phrase ``name.p``, so that each hit tells
    what it matched and how much each clause scored (see :func:`_part_score`)."""
    scoring = []
    for k, (t, clause) in enumerate(zip(part.terms, _clauses(part, settings, vocabulary), strict=True)):
        fields = []
        for f, boost in clause.boosts.items():
            term: dict[str, Any] = {"value": cut(t), "boost": boost}
            if name:
                term["_name"] = f"{name}.{k}.{f}"
            fields.append({"term": {f"{f}_terms": term}})
        if fields:
            scoring.append({"function_score": {"query": {"bool": {"should": fields}},
                                               "functions": [{"weight": clause.cap}], "boost_mode": "min"}})
    if not scoring:
        return {"match_none": {}}
    if not part.phrase:
        return {"bool": {"should": scoring}}
    where = _phrase(part)
    if name:
        where["bool"]["_name"] = f"{name}.p"
    return {"bool": {"should": scoring, "filter": [where]}}


def _phrase(part: Terms) -> dict[str, Any]:
    phrase = " ".join(cut(t) for t in part.terms)
    return {"bool": {"should": [{"match_phrase": {f"{f}_terms": {"query": phrase}}} for f in part.fields]}}


def _matching(part: Terms) -> dict[str, Any]:
    """The articles a part matches, unscored: one ``terms`` clause a field (OpenSearch counts it as one
    clause however many terms it holds), or the phrase."""
    if part.phrase:
        return _phrase(part)
    terms = sorted({cut(t) for t in part.terms})
    if not terms:
        return {"match_none": {}}
    return {"bool": {"should": [{"terms": {f"{f}_terms": terms}} for f in part.fields]}}


def _cap(part: Terms, settings: RankingSettings, vocabulary: ClusterVocabulary) -> float:
    """The most a part can score locally."""
    return sum(clause.cap for clause in _clauses(part, settings, vocabulary))


def _part_score(part: Terms, name: str, matched: Mapping[str, float], lengths: Mapping[str, int],
                stats: Stats, vocabulary: ClusterVocabulary, settings: RankingSettings) -> float | None:
    """A hit's score for one part as the local index computes it (BM25F, ``scoring.IndexArrays.bm25f``),
    or None when it does not match the part.

    OpenSearch's score of each term in each field is BM25 with its own statistics, times the boost
    :func:`_clauses` gave it; from it, the field's length and the collection's statistics, the term's
    frequency in the field is recovered exactly (it is a whole number), and the frequencies of the
    fields are then combined as BM25F does.
    """
    if part.phrase and f"{name}.p" not in matched:
        return None
    boosts = settings.boosts(part.fields)
    k1, b = settings.k1, settings.b
    total = 0.0
    found = False
    alone = settings.title_alone if "title" in boosts and not part.phrase else 0.0
    for k, (term, clause) in enumerate(zip(part.terms, _clauses(part, settings, vocabulary), strict=True)):
        weighted = title = 0.0
        for f, boost in boosts.items():
            score = matched.get(f"{name}.{k}.{f}")
            if score is None:
                continue
            found = True
            # OpenSearch's BM25 is Lucene's legacy one, which keeps the factor k1 + 1.
            weight = clause.boosts[f] * (k1 + 1) * _lucene_idf(vocabulary.doc_frequency(f, term), stats.holding[f])
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
class Window:
    """The hits OpenSearch ordered first, each with what Python needs to order them exactly."""

    total: int
    complete: bool
    """No hit past the window can be among those needed: every matching hit is in it, or every one
    whose bound says it might be (see :meth:`ClusterHome._window`)."""
    bound: list[float]
    """OpenSearch's relevance of each hit, tier left out: above the exact one, but for rounding."""
    ids: list[str]
    index: list[str]
    tier: list[int]
    score: list[float]
    seq: list[int]
    date: list[str | None]
    facets: Facets | None
    resolution: float = 0.0
    """How far a bound may be off for OpenSearch's float32 sum with the tier markers."""
    tier_one: float = 1.0
    """The most coverage can be in tier 1 (some of the query's groups, not all): its scores are at most
    their bounds times this."""
    group: list[str | None] = field(default_factory=list)
    """Each hit's group of duplicates (None: it has none)."""

    def add(self, hits: Sequence[Mapping[str, Any]], keys: Sequence[tuple[int, float]], tier_boost: float,
            markers: Mapping[int, int]) -> None:
        """Hits in OpenSearch's order, after those already in the window, with their exact keys."""
        for h, (tier, score) in zip(hits, keys, strict=True):
            self.bound.append(float(h["_score"] or 0.0) - tier_boost * markers.get(tier, 0))
            self.ids.append(h["_id"])
            self.index.append(h["_index"])
            self.tier.append(tier)
            self.score.append(score)
            self.seq.append(int(h["fields"]["seq"][0]))
            self.date.append((h["fields"].get("date") or [None])[0])
            self.group.append((h["fields"].get(GROUP) or [None])[0])


def window_query(plan: QueryPlan, settings: RankingSettings, vocabulary: ClusterVocabulary, filters: Filters,
           exclude: Sequence[str]) -> tuple[dict[str, Any], float]:
    """The window's query, and the score each tier's marker adds: a power of two above any relevance,
    so that OpenSearch orders by tier first and the relevance is read back without loss."""
    groups = plan.groups
    loose = [_any(_part(p, settings, vocabulary, f"{i}.{j}") for j, p in enumerate((*g.exact, *g.corrected)))
             for i, g in enumerate(groups)]
    scoring: dict[str, Any] = {"bool": {"should": loose, "minimum_should_match": 1}}
    highest = sum(_cap(p, settings, vocabulary) for g in groups for p in (*g.exact, *g.corrected))
    tier_boost = float(2.0 ** math.ceil(math.log2(2 * highest + 1)))
    should: list[dict[str, Any]] = []
    if plan.tiered and len(groups):
        every_loose = {"bool": {"filter": [_any(_matching(p) for p in (*g.exact, *g.corrected)) for g in groups]}}
        should.append({"constant_score": {"filter": every_loose, "boost": tier_boost}})
        if all(g.exact for g in groups):
            every_exact = {"bool": {"filter": [_any(_matching(p) for p in g.exact) for g in groups]}}
            should.append({"constant_score": {"filter": every_exact, "boost": tier_boost}})
    restrict: list[dict[str, Any]] = [_any(_matching(p) for p in (*g.exact, *g.corrected))
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
    excluded: list[dict[str, Any]] = [_matching(p) for p in plan.excluded]
    if exclude:
        excluded.append({"ids": {"values": list(exclude)}})
    return {"bool": {"must": [scoring], "should": should, "filter": restrict, "must_not": excluded}}, tier_boost


def hit_keys(plan: QueryPlan, settings: RankingSettings, matched: Mapping[str, float], lengths: Mapping[str, int],
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


class HeadArrays:
    """What ``ranking._rerank`` reads of the index, for the head of one ranking: positions and stop
    words' BM25F from the stored texts through the analyser (the cluster indexes the very terms the
    analyser gives), idf from the vocabulary."""

    def __init__(self, analyzer: FrenchAnalyzer, vocabulary: ClusterVocabulary, ids: Mapping[int, str],
                 texts: Mapping[int, ArticleText]) -> None:
        self.analyzer = analyzer
        self.vocabulary = vocabulary
        self.ids = ids
        self.texts = texts
        self._analysed: dict[tuple[int, str], tuple[dict[str, list[int]], int]] = {}

    def _field(self, doc: int, fieldname: str) -> tuple[dict[str, list[int]], int]:
        """Each term's positions in a field of a head article, and the field's length in terms."""
        key = (doc, fieldname)
        if key not in self._analysed:
            where: dict[str, list[int]] = {}
            length = 0
            for t, _, _, pos in self.analyzer.analyse(self.texts[doc].text(fieldname)):
                where.setdefault(t, []).append(pos)
                length += 1
            self._analysed[key] = (where, length)
        return self._analysed[key]

    def bm25f(self, term: str, boosts: Mapping[str, float], docs: DocIds | None = None, *,
              k1: float = 1.2, b: float = 0.75) -> tuple[DocIds, Floats]:
        """As ``scoring.IndexArrays.bm25f``, for head articles: no request to the cluster."""
        stats = self.vocabulary.stats
        found = []
        for doc in sorted(int(d) for d in (docs if docs is not None else self.ids)):
            weighted = 0.0
            for f, boost in boosts.items():
                where, length = self._field(doc, f)
                if term in where:
                    weighted += boost * len(where[term]) / stats.whoosh_norm(f, length, b)
            if weighted:
                found.append((doc, weighted))
        idf = self.idf(term, list(boosts))
        weights = np.array([w for _, w in found], dtype=np.float64)
        return np.array([d for d, _ in found], dtype=np.int64), idf * weights * (k1 + 1) / (weights + k1)

    def positions(self, fieldname: str, term: str, docs: DocIds) -> dict[int, list[int]]:
        found = {}
        for doc in docs.tolist():
            where, _ = self._field(doc, fieldname)
            if term in where:
                found[doc] = where[term]
        return found

    def idf(self, term: str, fieldnames: Sequence[str]) -> float:
        return bm25_idf(self.vocabulary.size, max((self.vocabulary.doc_frequency(f, term) for f in fieldnames),
                                                  default=0))


@dataclass(frozen=True)
class ClusterRanking(Ranking):
    """A page of a ranking whose matching articles the cluster counted (not listed)."""

    count: int = 0
    window: Window | None = None
    """Where the page's documents are, for reading one not read yet."""

    @property
    def total(self) -> int:
        return self.count


def window_order(window: Window, sort: str) -> list[int]:
    """The window's hits (positions) by the exact keys: newest first by date, else by tier and relevance."""
    n = len(window.ids)
    if sort == "date":
        return sorted(range(n), key=lambda d: (window.date[d] is None, _negated(window.date[d]),
                                               -window.score[d], window.seq[d]))
    return sorted(range(n), key=lambda d: (-window.tier[d], -window.score[d], window.seq[d]))


def collapsed(window: Window, order: Sequence[int]) -> list[int]:
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


def settled(window: Window, needed: int, sort: str, folding: bool) -> bool:
    """Whether the window holds the ``needed`` first hits of the ranking (after folding, if ``folding``):
    as for :func:`_enough`, but counting down the exact order to the ``needed``-th hit kept, as the local
    pruned path doubles its ``k`` until its best hold ``needed`` groups."""
    if not folding:
        return sort == "date" or _enough(window, needed)
    order = window_order(window, sort)
    kept = collapsed(window, order)
    if len(kept) < needed:
        return False
    return sort == "date" or _enough(window, order.index(kept[needed - 1]) + 1)


def needed_position(window: Window, needed: int, folding: bool) -> int | None:
    """The window position of the ``needed``-th hit in the exact order (of the ``needed``-th group's best
    hit if ``folding``), or None when the window holds fewer."""
    order = window_order(window, "relevance")
    kept = collapsed(window, order) if folding else order
    return kept[needed - 1] if len(kept) >= needed else None


def _enough(window: Window, needed: int) -> bool:
    """Whether the window holds the ``needed`` best hits by the exact keys: every hit OpenSearch put
    after the window is of a lower tier than the last one in it, or of its tier with a relevance at most
    its bound, so the ``needed``-th best exact key must be above that."""
    keys = sorted(((t, s) for t, s in zip(window.tier, window.score, strict=True)), reverse=True)
    if len(keys) < needed:
        return True
    tier, score = keys[needed - 1]
    last_tier, last_bound = window.tier[-1], window.bound[-1] * (window.tier_one if window.tier[-1] == 1 else 1.0)
    return tier > last_tier or tier == last_tier and score >= BOUND_SLACK * last_bound + window.resolution


def _negated(date: str | None) -> str:
    """A date as a key that sorts newest first."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in date) if date else ""
