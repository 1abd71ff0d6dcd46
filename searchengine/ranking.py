"""Ranking a plan over the index's arrays: tiers, BM25F × coverage, then a
rerank of the best few by what only their positions and text show.

1. **Tiers**: articles holding every group as typed, then every group once
   typos are forgiven, then some groups.
2. **Score**: BM25F (title, lede and body weighted, combined before
   saturation) times the square root of coverage, the share of the query's idf
   the article holds.
3. **Rerank** of the ``rerank_depth`` best (never more, never fewer, whatever
   the page): stop words, how close the query's words stand, the words found
   in the very form typed, and pairs of words side by side as in the query.

One query gives one ranking: page N of L hits is its items (N-1)·L to N·L-1.
The reranked articles only gain score, so they stay above every other one.
The score shown is the ranking key, ``tier + s / (1 + s)``: its whole part is
the tier, and it never rises down the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING

import numpy as np

from . import commongrams
from .analysis import fold
from .plan import QueryPlan, Terms
from .queries import FIELDS
from .scoring import IndexArrays
from .snippets import ArticleText

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .scoring import DocIds, Floats, Mask

__all__ = ["Filters", "Ranked", "Ranking", "RankingSettings", "rank"]

EXACT_FORM_FIELDS = ("title", "body")
"""The fields read for exact forms: a lede mostly repeats them."""
PROXIMITY_FIELD = "body"
"""The field where proximity and word pairs are read (positions cost a read each)."""
MAX_POSITIONS = 256
"""Positions of one word in one article that proximity looks at."""
TIERS = (3, 2, 1)


@dataclass(frozen=True)
class RankingSettings:
    """The ranking's knobs, with the defaults measured best (README, *Ranking*)."""

    title_boost: float = 2.0
    lede_boost: float = 1.5
    body_boost: float = 1.0
    k1: float = 1.2
    b: float = 0.75
    stop_word_weight: float = 0.2
    """A stop word adds this share of a word's score, and only when reranking."""
    correction_weight: float = 0.5
    """A word found only by forgiving a typo weighs this much."""
    typo_max_df: int = 3
    """A word in fewer articles than this may be a typo, so close spellings are tried too."""
    typo_max_words: int = 8
    """Longer queries are pasted, not typed: no typo is looked for."""
    long_query: int = 20
    """Past this many words, only the ``rare_terms`` rarest are scored, in one tier."""
    rare_terms: int = 10
    coverage_exponent: float = 0.5
    proximity_weight: float = 2.0
    exact_form_weight: float = 0.5
    """A word held in the very form typed adds this share of its idf."""
    word_pair_weight: float = 0.5
    """Each pair of words standing in the body as in the query adds this."""
    rerank_depth: int = 10
    similar_terms: int = 15

    def boosts(self, fields: Iterable[str]) -> dict[str, float]:
        known = {"title": self.title_boost, "lede": self.lede_boost, "body": self.body_boost}
        return {f: known[f] for f in fields}


@dataclass(frozen=True)
class Filters:
    """Which articles may be found at all."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    sources: tuple[str, ...] = ()
    """Folded source names; an article from any of them passes."""
    exclude: int | None = None
    """A document number left out (the article similar ones are sought for)."""


@dataclass(frozen=True)
class Ranked:
    doc: int
    tier: int
    score: float
    """The ranking key: the tier plus the relevance squashed into [0, 1)."""


@dataclass(frozen=True)
class Ranking:
    """The page of a ranking, the articles that match (ascending), and the
    texts read while reranking (for the snippets)."""

    matched: DocIds
    page: tuple[Ranked, ...]
    texts: dict[int, ArticleText]

    @property
    def total(self) -> int:
        return len(self.matched)


@dataclass(frozen=True)
class _Match:
    """Which documents a part of the query matches, and what each one scores."""

    mask: Mask
    scores: Floats


def _terms(arrays: IndexArrays, part: Terms, settings: RankingSettings, into: _Match | None = None) -> _Match:
    """The documents matching ``part``, added to ``into`` when given."""
    if into is None:
        into = _Match(np.zeros(arrays.size, dtype=bool), np.zeros(arrays.size, dtype=np.float64))
    mask, scores = into.mask, into.scores
    boosts = settings.boosts(part.fields)
    only = _phrase(arrays, part.terms, part.fields) if part.phrase else None
    for term in part.terms:
        ids, found = arrays.bm25f(term, boosts, k1=settings.k1, b=settings.b)
        if only is not None:
            keep = only[ids]
            ids, found = ids[keep], found[keep]
        mask[ids] = True
        scores[ids] += part.weight * found
    return into


def _phrase(arrays: IndexArrays, terms: tuple[str, ...], fields: tuple[str, ...]) -> Mask:
    """Documents where ``terms`` stand one after another in some field
    (through the field's common-word bigrams where it has them)."""
    found = np.zeros(arrays.size, dtype=bool)
    for f in fields:
        grams = commongrams.cover(arrays.searcher.schema, f, terms)
        if grams is not None:
            found[commongrams.matching(arrays, grams)] = True
            continue
        holding = [arrays.postings(f, t)[0] for t in set(terms)]
        candidates = reduce(np.intersect1d, sorted(holding, key=len))
        if not len(candidates):
            continue
        where = {t: arrays.positions(f, t, candidates) for t in set(terms)}
        for doc in candidates.tolist():
            starts = where[terms[0]][doc]
            for k, term in enumerate(terms[1:], 1):
                following = set(where[term][doc])
                starts = [p for p in starts if p + k in following]
            found[doc] |= bool(starts)
    return found


def _union(arrays: IndexArrays, parts: Iterable[Terms], settings: RankingSettings,
           union: _Match | None = None) -> _Match | None:
    """The documents matching any of ``parts`` (added to ``union`` when given)."""
    for part in parts:
        union = _terms(arrays, part, settings, union)
    return union


def _first_pass(arrays: IndexArrays, plan: QueryPlan,
                settings: RankingSettings) -> tuple[NDArray[np.int8], Floats, Mask] | None:
    """Each document's tier (0: no match), its score, and whether it holds
    every required group."""
    size = arrays.size
    all_exact = np.ones(size, dtype=bool)
    all_loose = np.ones(size, dtype=bool)
    required = np.ones(size, dtype=bool)
    some = np.zeros(size, dtype=bool)
    scores = np.zeros(size, dtype=np.float64)
    covered = np.zeros(size, dtype=np.float64)
    whole = 0.0
    for group in plan.groups:
        exact = _union(arrays, group.exact, settings)
        copy = _Match(exact.mask.copy(), exact.scores.copy()) if exact is not None and group.corrected else exact
        loose = _union(arrays, group.corrected, settings, copy)
        assert loose is not None
        scores += loose.scores
        all_exact &= exact.mask if exact is not None else False
        all_loose &= loose.mask
        some |= loose.mask
        if group.required:
            required &= loose.mask
        covered += group.weight * loose.mask
        whole += group.weight
    if not whole:
        return None
    tier = some.astype(np.int8)
    if plan.tiered:
        tier[all_loose] = 2
        tier[all_exact] = 3
    return tier, scores * (covered / whole) ** settings.coverage_exponent, required


def _allowed(arrays: IndexArrays, plan: QueryPlan, filters: Filters, settings: RankingSettings) -> Mask:
    keep = arrays.live.copy()
    excluded = _union(arrays, plan.excluded, settings)
    if excluded is not None:
        keep &= ~excluded.mask
    if filters.since is not None or filters.until is not None:
        dates = arrays.dates()
        keep &= dates != arrays.undated
        if filters.since is not None:
            keep &= dates >= arrays.date_value(filters.since)
        if filters.until is not None:
            keep &= dates <= arrays.date_value(filters.until)
    for sources in (filters.sources, tuple(fold(s) for s in plan.sources)):
        if sources:
            keep &= np.logical_or.reduce([arrays.term_mask("source_id", s) for s in sources])
    if filters.exclude is not None:
        keep[filters.exclude] = False
    return keep


def _best(candidates: DocIds, tier: NDArray[np.int8], scores: Floats, needed: int) -> list[int]:
    """The first ``needed`` candidates by tier, then score, then document number."""
    chosen: list[int] = []
    for t in TIERS:
        if len(chosen) >= needed:
            break
        inside = candidates[tier[candidates] == t]
        room = needed - len(chosen)
        if len(inside) > room:
            cut = np.partition(-scores[inside], room - 1)[room - 1]
            inside = inside[-scores[inside] <= cut]
        order = np.lexsort((inside, -scores[inside]))
        chosen.extend(inside[order[:room]].tolist())
    return chosen


def _by_date(arrays: IndexArrays, candidates: DocIds, scores: Floats, needed: int) -> list[int]:
    """Newest first (undated last), then by score, then document number."""
    dates = arrays.dates()[candidates].astype(np.int64)
    newest = np.where(dates == arrays.undated, 1, -dates)
    order = np.lexsort((candidates, -scores[candidates], newest))
    chosen: list[int] = candidates[order[:needed]].tolist()
    return chosen


def _key(tier: int, score: float) -> float:
    return tier + score / (1 + score)


def rank(arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, filters: Filters, *,
         sort: str, start: int, stop: int, read: Callable[[int], ArticleText]) -> Ranking:
    """Items ``start`` to ``stop`` (excluded) of the ranking of ``plan``."""
    first = _first_pass(arrays, plan, settings)
    if first is None:
        return Ranking(np.zeros(0, dtype=np.int64), (), {})
    tier, scores, required = first
    candidates = np.flatnonzero((tier > 0) & required & _allowed(arrays, plan, filters, settings))
    if sort == "date":
        order = _by_date(arrays, candidates, scores, stop)
        page = tuple(Ranked(d, int(tier[d]), _key(int(tier[d]), float(scores[d]))) for d in order[start:stop])
        return Ranking(candidates, page, {})
    depth = settings.rerank_depth if plan.rerank else 0
    order = _best(candidates, tier, scores, max(stop, depth))
    head, tail = order[:depth], order[depth:]
    texts = {d: read(d) for d in head}
    bonus = _rerank(arrays, plan, settings, np.array(sorted(head), dtype=np.int64), texts) if head else {}
    final = {d: float(scores[d]) + bonus.get(d, 0.0) for d in order}
    head = sorted(head, key=lambda d: (-tier[d], -final[d], d))
    page = tuple(Ranked(d, int(tier[d]), _key(int(tier[d]), final[d])) for d in (head + tail)[start:stop])
    return Ranking(candidates, page, texts)


def _rerank(arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, docs: DocIds,
            texts: dict[int, ArticleText]) -> dict[int, float]:
    """What each of the best articles (``docs``, ascending) gains from what is
    only worth reading for a few: its stop words, how close together its query
    words stand, which it holds in the form typed, and which pairs of query
    words it holds side by side."""
    bonus = dict.fromkeys(docs.tolist(), 0.0)
    for light in plan.light:
        ids, found = arrays.bm25f(light.terms[0], settings.boosts(light.fields), docs, k1=settings.k1, b=settings.b)
        for doc, value in zip(ids.tolist(), found.tolist(), strict=True):
            bonus[doc] += light.weight * value
    needed = {*plan.words, *(t for a, b, _ in plan.pairs for t in (a, b))}
    where = {t: arrays.positions(PROXIMITY_FIELD, t, docs) for t in needed}
    typed = dict(plan.typed_forms)
    idf = {t: arrays.idf(t, FIELDS) for t in typed}
    for doc in bonus:
        lists = [where[t][doc][:MAX_POSITIONS] for t in plan.words if doc in where[t]]
        near = sum(1 / max(_closest(a, b), 1) for i, a in enumerate(lists) for b in lists[i + 1:])
        side_by_side = sum(_adjacent(where[a].get(doc), where[b].get(doc), gap) for a, b, gap in plan.pairs)
        text = texts[doc]
        exact = {t for f in EXACT_FORM_FIELDS for t, start, end, _ in text.tokens(f)
                 if fold(text.text(f)[start:end]) in typed.get(t, ())}
        bonus[doc] += (settings.proximity_weight * near + settings.word_pair_weight * side_by_side
                       + settings.exact_form_weight * sum(idf[t] for t in exact))
    return bonus


def _adjacent(first: list[int] | None, second: list[int] | None, gap: int) -> bool:
    if not first or not second:
        return False
    following = set(second[:MAX_POSITIONS])
    return any(p + gap in following for p in first[:MAX_POSITIONS])


def _closest(a: list[int], b: list[int]) -> int:
    """The smallest distance between a position of ``a`` and one of ``b`` (both ascending)."""
    i = j = 0
    best = abs(a[0] - b[0])
    while i < len(a) and j < len(b):
        best = min(best, abs(a[i] - b[j]))
        if a[i] < b[j]:
            i += 1
        else:
            j += 1
    return best
