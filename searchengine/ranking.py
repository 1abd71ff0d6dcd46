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
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeAlias

import numpy as np

from . import commongrams
from .analysis import fold
from .plan import QueryPlan, Terms
from .queries import FIELDS
from .scoring import IndexArrays
from .snippets import ArticleText

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .scoring import DocIds, Floats, Mask, Ranges

__all__ = ["Filters", "Folding", "Ranked", "Ranking", "RankingSettings", "rank"]

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
    title_alone: float = 0.5
    """A word of the title also adds this share of its BM25 in the title alone,
    saturated apart: combined with the body, a title match weighs no more than
    a word a body repeats (README, *Ranking*)."""
    lede_boost: float = 1.5
    body_boost: float = 1.0
    k1: float = 1.2
    b: float = 0.75
    stop_word_weight: float = 0.2
    """A stop word adds this share of a word's score, and only when reranking."""
    correction_weight: float = 0.5
    """A word found only by forgiving typos weighs this much per typo (times its
    frequency as a share of the closest spelling's, at most 1)."""
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
    prune_postings: int = 50_000
    """A query whose words' lists hold more postings than this scores only the
    windows of articles that can reach the page (see :func:`rank`); a shorter
    one scores every posting, which is as fast. -1 scores every posting always."""
    track_total_hits: int = 1_000
    """Totals are exact up to this many matching articles at least. Past it, a
    query with a phrase whose remaining matches each cost a read of positions
    stops counting them: its total is "at least N" (Lucene's
    ``track_total_hits``; see :func:`_pruned_phrases`). -1 counts every one."""

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
    exclude: tuple[int, ...] = ()
    """Document numbers left out (the article similar ones are sought for, and its duplicates)."""


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
    folded: int = 0
    """Matching articles left out of the ranking as duplicates of a better one."""
    complete: bool = True
    """False where ``matched`` holds only some of the matching articles (at
    least ``RankingSettings.track_total_hits``): ``total`` and ``folded`` are
    then "at least"."""

    @property
    def total(self) -> int:
        return len(self.matched)


@dataclass(frozen=True)
class _Match:
    """Which documents a part of the query matches, and what each one scores."""

    mask: Mask
    scores: Floats


@dataclass(frozen=True)
class _Space:
    """The documents a first pass scores: every one, or some (``docs``,
    ascending, as the ranges ``within`` of consecutive numbers), numbered in order."""

    size: int
    docs: DocIds | None = None
    within: Ranges | None = None
    places: DocIds | None = None
    """Each document's place in ``docs`` (where it is one of them), when at
    hand: looked up rather than bisected for (tens of thousands of documents)."""

    @staticmethod
    def of(windows: DocIds, window: int, size: int) -> _Space:
        """The documents of ``windows`` (numbers of windows of ``window`` documents, ascending)."""
        starts = windows * window
        stops = np.minimum(starts + window, size)
        lengths = stops - starts
        docs = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        return _Space(len(docs), docs, (starts, stops))

    @staticmethod
    def of_docs(docs: DocIds) -> _Space:
        """The documents ``docs`` (ascending, at least one)."""
        breaks = np.flatnonzero(np.diff(docs) != 1) + 1
        starts = docs[np.r_[0, breaks]]
        stops = docs[np.r_[breaks - 1, len(docs) - 1]] + 1
        return _Space(len(docs), docs, (starts, stops))

    def local(self, ids: DocIds) -> DocIds:
        if self.places is not None:
            return self.places[ids]
        return ids if self.docs is None else np.searchsorted(self.docs, ids)


def _terms(arrays: IndexArrays, part: Terms, settings: RankingSettings, into: _Match | None = None,
           space: _Space | None = None) -> _Match:
    """The documents matching ``part``, added to ``into`` when given."""
    space = space or _Space(arrays.size)
    if into is None:
        into = _Match(np.zeros(space.size, dtype=bool), np.zeros(space.size, dtype=np.float64))
    mask, scores = into.mask, into.scores
    boosts = settings.boosts(part.fields)
    only = _phrase(arrays, part.terms, part.fields, space) if part.phrase else None
    for term in part.terms:
        ids, found = arrays.bm25f(term, boosts, k1=settings.k1, b=settings.b, within=space.within, only=only)
        ids = space.local(ids)
        mask[ids] = True
        _add(scores, ids, part.weight * found)
        if settings.title_alone and "title" in boosts and not part.phrase:
            ids, found = arrays.bm25f(term, {"title": 1.0}, k1=settings.k1, b=settings.b, within=space.within)
            _add(scores, space.local(ids), settings.title_alone * part.weight * found)
    return into


def _add(scores: Floats, ids: DocIds, values: Floats) -> None:
    """``scores[ids] += values``, ``ids`` distinct: ``np.add.at`` is twice as
    fast, given values of the scores' own type (float32 takes its slow path)."""
    np.add.at(scores, ids, values.astype(np.float64, copy=False))


def _phrase(arrays: IndexArrays, terms: tuple[str, ...], fields: tuple[str, ...], space: _Space | None = None) -> Mask:
    """Documents where ``terms`` stand one after another in some field
    (through the field's common-word bigrams where it has them). In a
    :class:`_PhraseSpace`, those its :class:`_Phrases` say."""
    if isinstance(space, _PhraseSpace):
        return space.phrases.mask(terms, fields, space.optimistic)
    found = np.zeros(arrays.size, dtype=bool)
    for f in fields:
        found[commongrams.matching(arrays, commongrams.items(arrays.searcher.schema, f, terms))] = True
    return found


def _union(arrays: IndexArrays, parts: Iterable[Terms], settings: RankingSettings,
           union: _Match | None = None, space: _Space | None = None) -> _Match | None:
    """The documents matching any of ``parts`` (added to ``union`` when given)."""
    for part in parts:
        union = _terms(arrays, part, settings, union, space)
    return union


def _first_pass(arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings,
                space: _Space | None = None) -> tuple[NDArray[np.int8], Floats, Mask] | None:
    """Each document's tier (0: no match), its score, and whether it holds
    every required group (of every document, or of those of ``space``)."""
    size = arrays.size if space is None else space.size
    all_exact = np.ones(size, dtype=bool)
    all_loose = np.ones(size, dtype=bool)
    required = np.ones(size, dtype=bool)
    some = np.zeros(size, dtype=bool)
    scores = np.zeros(size, dtype=np.float64)
    covered = np.zeros(size, dtype=np.float64)
    whole = 0.0
    for group in plan.groups:
        exact = _union(arrays, group.exact, settings, space=space)
        copy = _Match(exact.mask.copy(), exact.scores.copy()) if exact is not None and group.corrected else exact
        loose = _union(arrays, group.corrected, settings, copy, space)
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
        np.putmask(tier, all_loose, 2)  # as ``tier[all_loose] = 2``, in a third of the time
        np.putmask(tier, all_exact, 3)
    return tier, scores * _coverage(covered / whole, settings.coverage_exponent), required


def _coverage(share: Floats, exponent: float) -> Floats:
    """``share ** exponent``, the same to the last bit for an article
    whichever documents are scored with it: a vectorised power may differ in
    the last bit with a value's place in the array, so other exponents than
    those of a correctly rounded operation are computed value by value."""
    if exponent == 0.5:
        return np.sqrt(share)
    if exponent == 1:
        return share
    values, where = np.unique(share, return_inverse=True)
    powered: Floats = np.array([v ** exponent for v in values.tolist()], dtype=np.float64)
    return powered[where]


_SLACK = 1e-4
"""Relative margin on the window bounds: scores are partly computed in float32."""
_GIVE_UP_AFTER = 16
_GIVE_UP_SHARE = 0.25
"""Once ``_GIVE_UP_AFTER`` windows are scored, if the windows that may still
reach the page hold more than this share of the index, the articles left
that hold a word able to lift them to the page are scored at once: window
by window would cost more (two common words whose best articles are
everywhere). Where no word is that weak, windows are still taken in order
of their bounds: for one word in a quarter of the articles at 10x
(``Paris``), scoring every document instead took twice as long."""


_FIRST_BATCH = 16
"""Windows scored in the first batch of :meth:`_Pruning._by_windows`, twice
as many in each next one. A batch of up to 16 windows costs about as much
as one of 2 (each word's lists are searched whatever the documents): at ten
times OrangeSum, 2 % less CPU for ledes than starting at 2, 1.5 % for short
queries, the same at 1×."""


Best: TypeAlias = "tuple[list[int], dict[int, int], dict[int, float]]"
"""The first articles of a ranking, with their tiers and scores."""

_SPARSE = 4
"""Documents are scored as ranges of their own unless they are more than a
quarter of the windows they are in."""
_DENSE = 16
"""Scoring more than this share of the index's documents one by one (as
ranges of their own) costs more than scoring every document at once."""


class _Pruning:
    """One query's matching articles and their tiers, read from the document
    numbers alone, and its ``needed`` best on demand (:meth:`best`), scoring
    only articles that can reach them.

    The tiers come first: the page takes every article of the tiers above the
    lowest one it reaches (fewer than ``needed``), and the best of that
    *cut* tier; no article below it is scored. Most queries of a few words
    have a few dozen articles holding them all, and only those are scored.
    Where the cut tier holds more articles than the index has windows, its
    articles holding the rarest words are scored first, then the others window
    by window, best bound first (block-max pruning, as Lucene and Tantivy skip
    blocks): each window's bound on the score of its best article comes from
    the largest length-normalised frequency of each word in it (stored at
    indexing in the score lists) saturated as BM25F saturates, summed over
    the words and multiplied by the coverage of the groups present in it;
    windows are scored until the next bound falls below the ``needed``-th
    best found, or until the articles left that may reach it, those holding
    a word that can lift them there (MaxScore), are few enough to be scored
    at once. Articles are scored by the very code
    that scores every one, and a score does not depend on which are scored
    with it: the page is the one full scoring gives, scores to the last bit.

    With duplicate groups (``groups``, each document's), the page is folded
    as it is found: the bound to beat is the ``needed``-th best *group*'s,
    each group counted once at its best article (as Lucene collapses while
    collecting).
    Folding the ``needed`` best articles afterwards fell short where copies
    of one story filled them (a pasted lede's own story), and asking for
    twice as many lowered the bound to beat so far that most such ledes
    scored every article. An article below the bound cannot enter the page
    nor be its group's best: that group's best scores above it.
    """

    def __init__(self, arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, filters: Filters,
                 groups: NDArray[np.int64] | None = None) -> None:
        self.arrays, self.plan, self.settings, self.groups = arrays, plan, settings, groups
        size = arrays.size
        some = np.zeros(size, dtype=bool)
        required = np.ones(size, dtype=bool)
        all_exact = np.ones(size, dtype=bool)
        all_loose = np.ones(size, dtype=bool)
        for group in plan.groups:
            exact = np.zeros(size, dtype=bool)
            for part in group.exact:
                for term in part.terms:
                    for fieldname in part.fields:
                        exact[arrays.postings(fieldname, term)[0]] = True
            loose = exact.copy() if group.corrected else exact
            for part in group.corrected:
                for term in part.terms:
                    for fieldname in part.fields:
                        loose[arrays.postings(fieldname, term)[0]] = True
            some |= loose
            if group.required:
                required &= loose
            all_exact &= exact
            all_loose &= loose
        self.matched: DocIds = np.flatnonzero(some & required & _allowed(arrays, plan, filters, settings))
        """Every matching article, ascending."""
        self.tier: NDArray[np.int8] = np.ones(len(self.matched), dtype=np.int8)
        """The tier of each of :attr:`matched`, as :func:`_first_pass` gives it."""
        if plan.tiered:
            self.tier += all_loose[self.matched]
            self.tier += all_exact[self.matched]
        self._every: tuple[NDArray[np.int8], Floats] | None = None
        self._bounded: tuple[Floats, list[tuple[float, tuple[str, ...], str]], Mask] | None = None
        self._scored: list[tuple[DocIds, NDArray[np.int8], Floats]] = []
        """The articles :meth:`_by_windows` scored, kept: when folding asks
        for more, a score does not change, and a lede's first batch costs
        as much as the rest of the walk."""

    def best(self, needed: int) -> Best:
        """The ``needed`` best articles in order, with their tiers and scores;
        with groups, the best article of each of the ``needed`` best groups."""
        cut = TIERS[-1]
        for t in TIERS[:-1]:
            if self._groups(self.matched[self.tier >= t]) >= needed:
                cut = t
                break
        if self._every is not None:
            return self._found(*self._all(needed))
        must = self.matched[self.tier > cut]
        pool = self.matched[self.tier == cut]
        windows = -(-self.arrays.size // self.arrays.window)
        if len(pool) <= windows:
            docs = np.union1d(must, pool)
            found: tuple[DocIds, NDArray[np.int8], Floats] = (
                self._score(docs) if len(docs) else (docs, np.zeros(0, dtype=np.int8), np.zeros(0)))
        else:
            found = self._by_windows(must, pool, cut, needed)
        return self._found(*_top(*found, needed, self.groups))

    def _groups(self, docs: DocIds) -> int:
        """How many groups ``docs`` hold (how many articles, without groups)."""
        if self.groups is None or len(docs) < 2:
            return len(docs)
        seen = np.zeros(len(self.groups), dtype=bool)
        seen[self.groups[docs]] = True
        return int(np.count_nonzero(seen))

    @staticmethod
    def _found(docs: DocIds, tier: NDArray[np.int8], scores: Floats) -> Best:
        listed = docs.tolist()
        return listed, dict(zip(listed, tier.tolist(), strict=True)), dict(zip(listed, scores.tolist(), strict=True))

    def _score(self, docs: DocIds, windows: DocIds | None = None) -> tuple[DocIds, NDArray[np.int8], Floats]:
        """``docs`` (ascending) with their tiers and scores. Where they fill
        much of the ``windows`` they are in, the whole windows are scored:
        ranges of documents cost a bisection each."""
        window = self.arrays.window
        whole = windows is not None and len(docs) * _SPARSE > len(windows) * window
        space = _Space.of(windows, window, self.arrays.size) if windows is not None and whole else _Space.of_docs(docs)
        first = _first_pass(self.arrays, self.plan, self.settings, space)
        assert first is not None and space.docs is not None
        if not whole:
            return docs, first[0], first[1]
        inside = np.searchsorted(space.docs, docs)
        return docs, first[0][inside], first[1][inside]

    def _by_windows(self, must: DocIds, pool: DocIds, cut: int, needed: int) -> tuple[DocIds, NDArray[np.int8], Floats]:
        """``must`` and the articles of ``pool`` (ascending, of tier ``cut``) that
        may be among the ``needed`` best: first ``must`` and the articles
        holding the rarest words (a pasted lede's own article holds them all),
        then window by window, best bound first, until the articles left are
        those holding a word that may lift them to the page (:meth:`_essential`)."""
        if self._bounded is None:  # kept: folding may ask for more articles again
            bound, entries = self._bounds()
            self._bounded = bound, entries, self._rarest(entries, len(bound))
        bound, entries, rarest = self._bounded
        window = self.arrays.window
        in_pool = np.zeros(len(bound), dtype=bool)
        in_pool[pool // window] = True
        todo = np.flatnonzero(in_pool)
        todo = todo[np.argsort(-bound[todo], kind="stable")]
        scored = np.zeros(self.arrays.size, dtype=bool)
        for docs, _, _ in self._scored:
            scored[docs] = True
        first = np.union1d(must, pool[rarest[pool]])
        if len(first := first[~scored[first]]):
            self._scored.append(self._score(first))
            scored[first] = True
        best, best_tier, best_score = (_top(*_joined(*self._scored), needed, self.groups) if self._scored else
                                       (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8), np.zeros(0)))
        done, batch = 0, _FIRST_BATCH
        while done < len(todo):
            rest = todo[done:]
            if len(best) >= needed:
                least_tier, least_score = best_tier[needed - 1], best_score[needed - 1]
                # A prefix, as the windows are in order of their bounds; every one is of the pool's tier.
                left = 0 if least_tier > cut else int(np.count_nonzero(bound[rest] >= least_score))
                if not left:
                    break
                rest = rest[:left]
                many = done >= _GIVE_UP_AFTER and left * window > self.arrays.size * _GIVE_UP_SHARE
                holding = self._essential(entries, least_score, self.arrays.size if many else left * window)
                if holding is not None:  # the last batch: every article that may still reach the page
                    chosen = np.sort(rest)
                    picked = _inside(pool, chosen, window)
                    picked = picked[holding[picked] & ~scored[picked]]
                    if len(picked) * _DENSE > self.arrays.size:
                        return self._all(needed)
                    if len(picked):
                        self._scored.append(self._score(picked, chosen))
                        best, best_tier, best_score = _top(*_joined((best, best_tier, best_score),
                                                                    self._scored[-1]), needed, self.groups)
                    break
            chosen = np.sort(rest[:batch])
            done += len(chosen)
            batch *= 2
            picked = _inside(pool, chosen, window)
            picked = picked[~scored[picked]]
            if len(picked):
                self._scored.append(self._score(picked, chosen))
                scored[picked] = True
                best, best_tier, best_score = _top(*_joined((best, best_tier, best_score), self._scored[-1]),
                                                   needed, self.groups)
        return best, best_tier, best_score

    def _rarest(self, entries: list[tuple[float, tuple[str, ...], str]], budget: int) -> Mask:
        """The articles holding the rarest words, at most ``budget`` postings of them."""
        holding = np.zeros(self.arrays.size, dtype=bool)
        counts = [sum(self.arrays.doc_frequency(f, term) for f in fields) for _, fields, term in entries]
        for count, (_, fields, term) in sorted(zip(counts, entries, strict=True), key=lambda x: x[0]):
            budget -= count
            if budget < 0:
                break
            for fieldname in fields:
                holding[self.arrays.postings(fieldname, term)[0]] = True
        return holding

    def _all(self, needed: int) -> tuple[DocIds, NDArray[np.int8], Floats]:
        """The ``needed`` best, every document scored (once a query)."""
        if self._every is None:
            first = _first_pass(self.arrays, self.plan, self.settings)
            assert first is not None
            self._every = first[0], first[1]
        tier, scores = self._every
        wanted = needed
        while True:  # with groups, the best articles until they hold ``needed`` groups
            docs = np.array(_best(self.matched, tier, scores, wanted), dtype=np.int64)
            if self.groups is None:
                return docs, tier[docs], scores[docs]
            found = _top(docs, tier[docs], scores[docs], needed, self.groups)
            if len(found[0]) >= needed or wanted >= len(self.matched):
                return found
            wanted *= 2

    def _essential(self, entries: list[tuple[float, tuple[str, ...], str]], least: float, budget: int) -> Mask | None:
        """Which articles hold a word that may lift them to ``least`` (MaxScore,
        as Lucene skips the non-essential clauses): an article holding only
        words whose largest scores add up to less than that cannot reach the
        page. None where no word is that weak, or where the others' lists hold
        more than ``budget`` postings, more than the windows left to score."""
        bounds = np.array([ub for ub, _, _ in entries], dtype=np.float64)
        order = np.argsort(bounds, kind="stable")
        weak = int(np.searchsorted(np.cumsum(bounds[order]) * (1 + _SLACK), least, side="left"))
        if not weak:
            return None
        strong = [entries[i] for i in order[weak:].tolist()]
        if sum(self.arrays.doc_frequency(f, term) for _, fields, term in strong for f in fields) > budget:
            return None
        holding = np.zeros(self.arrays.size, dtype=bool)
        for _, fields, term in strong:
            for fieldname in fields:
                holding[self.arrays.postings(fieldname, term)[0]] = True
        return holding

    def _bounds(self) -> tuple[Floats, list[tuple[float, tuple[str, ...], str]]]:
        """Each window's bound on the score of its best article (see the
        class), and each word's bound on what it adds to an article's score,
        with its fields (an article's coverage is at most 1)."""
        arrays, plan, settings = self.arrays, self.plan, self.settings
        windows = -(-arrays.size // arrays.window)
        k1 = settings.k1
        bound = np.zeros(windows, dtype=np.float64)
        covered = np.zeros(windows, dtype=np.float64)
        entries = []
        for group in plan.groups:
            here = np.zeros(windows, dtype=bool)
            for part in (*group.exact, *group.corrected):
                boosts = settings.boosts(part.fields)
                for term in part.terms:
                    fields = {f: arrays.window_bounds(f, term, settings.b) for f in boosts}  # the title's twice
                    weighted = np.zeros(windows, dtype=np.float64)
                    for fieldname, boost in boosts.items():
                        if boost:  # nothing of the field counts, and 0 × an unbounded window is NaN
                            weighted += boost * fields[fieldname]
                    adds = part.weight * arrays.idf(term, list(boosts)) * _saturated(weighted, k1)
                    if settings.title_alone and "title" in boosts:  # as _terms adds it
                        adds += (settings.title_alone * part.weight * arrays.idf(term, ["title"])
                                 * _saturated(fields["title"], k1))
                    bound += adds
                    entries.append((float(adds.max(initial=0.0)), part.fields, term))
                    here |= weighted > 0
            covered += group.weight * here
        whole = sum(group.weight for group in plan.groups)
        bound *= (covered / whole) ** settings.coverage_exponent * (1 + _SLACK)
        return bound, entries


def _saturated(weighted: Floats, k1: float) -> Floats:
    """BM25's saturation of window maxima, ``w (k1 + 1) / (w + k1)``, and its
    ceiling ``k1 + 1`` where a maximum is unbounded: past the score lists'
    last step (infinity), where the formula gives NaN, a bound no score
    reaches, and the window was never scored."""
    with np.errstate(invalid="ignore"):
        saturated: Floats = weighted * (k1 + 1) / (weighted + k1)
    saturated[np.isinf(weighted)] = k1 + 1
    return saturated


def _joined(*found: tuple[DocIds, NDArray[np.int8], Floats]) -> tuple[DocIds, NDArray[np.int8], Floats]:
    """Scored documents of several batches, as one."""
    docs, tier, scores = zip(*found, strict=True)
    return np.concatenate(docs), np.concatenate(tier), np.concatenate(scores)


def _inside(docs: DocIds, windows: DocIds, window: int) -> DocIds:
    """Those of ``docs`` (ascending) in ``windows`` (ascending numbers of windows of ``window`` documents)."""
    starts = np.searchsorted(docs, windows * window)
    lengths = np.searchsorted(docs, (windows + 1) * window) - starts
    picked: DocIds = docs[np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())]
    return picked


def _top(docs: DocIds, tier: NDArray[np.int8], scores: Floats, needed: int,
         group: NDArray[np.int64] | None = None) -> tuple[DocIds, NDArray[np.int8], Floats]:
    """The ``needed`` best of ``docs`` by tier, then score, then document
    number; with ``group`` (each document's), only the best of each group."""
    order = np.lexsort((docs, -scores, -tier))
    if group is not None:
        _, first = np.unique(group[docs[order]], return_index=True)
        order = order[np.sort(first)]
    order = order[:needed]
    return docs[order], tier[order], scores[order]


def _prunable(arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, needed: int) -> bool:
    """Whether ranking ``plan`` by :class:`_Pruning` is exact and worth it: a
    query whose words' lists hold few postings, a phrase, and an index with a
    segment without score lists (written by an older newsearch) are scored in full."""
    parts = [(group, part) for group in plan.groups for part in (*group.exact, *group.corrected)]
    whole = sum(group.weight for group in plan.groups)
    if (not parts or needed <= 0 or not whole or settings.coverage_exponent < 0 or settings.prune_postings < 0
            or any(part.phrase or part.weight < 0 or group.weight < 0 for group, part in parts)
            or any(lists is None for lists in arrays.score_lists())):
        return False
    postings = sum(arrays.doc_frequency(f, t) for _, part in parts for t in part.terms for f in part.fields)
    return postings > settings.prune_postings


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
    keep[list(filters.exclude)] = False
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


class Folding(Protocol):
    """Duplicates left out of a ranking (:class:`~searchengine.duplicates.DuplicateGroups`)."""

    def collapse(self, candidates: DocIds, tier: NDArray[np.int8], scores: Floats) -> DocIds:
        """Which of ``candidates`` (ascending; ``tier`` and ``scores`` by
        document number) stay: each the best-ranked of its duplicates among them."""
        ...

    def count_folded(self, matched: DocIds) -> int:
        """How many of ``matched`` (ascending) a ranking of them leaves out as duplicates."""
        ...

    def members(self, doc: int) -> list[int]:
        """The duplicates of ``doc``, itself included."""
        ...

    @property
    def group(self) -> NDArray[np.int64]:
        """Each document's group, by document number: duplicates share one."""
        ...


def rank(arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, filters: Filters, *,
         sort: str, start: int, stop: int, read: Callable[[int], ArticleText],
         folding: Folding | None = None, count_all: bool = False) -> Ranking:
    """Items ``start`` to ``stop`` (excluded) of the ranking of ``plan``;
    ``folding`` leaves duplicates out of it (they stay in ``matched``).
    ``count_all``: ``matched`` must hold every matching article (facets count
    them), never only ``settings.track_total_hits`` of them."""
    if not plan.headline:
        settings = replace(settings, title_alone=0.0)
    depth = settings.rerank_depth if plan.rerank else 0
    needed = max(stop, depth)
    complete = True
    phrased = (_pruned_phrases(arrays, plan, settings, filters, needed, folding)
               if sort == "relevance" and not count_all else None)
    if phrased is not None:
        (matched, order, tiers, base), complete = phrased
    elif sort == "relevance" and _prunable(arrays, plan, settings, needed):
        pruning = _Pruning(arrays, plan, settings, filters, folding.group if folding else None)
        matched = pruning.matched
        order, tiers, base = pruning.best(needed)
    else:
        parts = [part for group in plan.groups for part in (*group.exact, *group.corrected)]
        if parts and _only_phrases(plan):
            phrases = _Phrases(arrays, parts)
            phrases.check(np.flatnonzero(phrases.unchecked))
            first = _phrase_pass(arrays, plan, settings, phrases, optimistic=False)
        else:
            first = _first_pass(arrays, plan, settings)
        if first is None:
            return Ranking(np.zeros(0, dtype=np.int64), (), {})
        tier, scores, required = first
        matched = np.flatnonzero((tier > 0) & required & _allowed(arrays, plan, filters, settings))
        if sort == "date":
            candidates = folding.collapse(matched, tier, scores) if folding else matched
            order = _by_date(arrays, candidates, scores, stop)
            page = tuple(Ranked(d, int(tier[d]), _key(int(tier[d]), float(scores[d]))) for d in order[start:stop])
            return Ranking(matched, page, {}, len(matched) - len(candidates))

        def best(wanted: int) -> Best:
            order = _best(matched, tier, scores, wanted)
            return order, {d: int(tier[d]) for d in order}, {d: float(scores[d]) for d in order}

        order, tiers, base = _folded(best, len(matched), needed, folding, tier, scores)
    folded = folding.count_folded(matched) if folding else 0
    head, tail = order[:depth], order[depth:]
    texts = {d: read(d) for d in head}
    bonus = _rerank(arrays, plan, settings, np.array(sorted(head), dtype=np.int64), texts) if head else {}
    final = {d: base[d] + bonus.get(d, 0.0) for d in order}
    head = sorted(head, key=lambda d: (-tiers[d], -final[d], d))
    page = tuple(Ranked(d, tiers[d], _key(tiers[d], final[d])) for d in (head + tail)[start:stop])
    return Ranking(matched, page, texts, folded, complete)


def _folded(best: Callable[[int], Best], total: int, needed: int, folding: Folding | None,
            tier: NDArray[np.int8], score: Floats) -> Best:
    """The first ``needed`` articles of a ranking of ``total``, duplicates
    left out, from ``best``, its first articles with duplicates (``tier``
    and ``score`` of every document). The first ``needed`` of the folded
    ranking are among the best ``k`` articles as soon as those hold
    ``needed`` that are the best of their duplicates (an article's better
    duplicates rank before it), so ``k`` doubles until they do (or until it
    covers every match): folding sorts a page's worth of articles, not every
    match."""
    wanted = needed
    while True:
        order, tiers, scores = best(wanted)
        if folding is None:
            return order, tiers, scores
        kept = set(folding.collapse(np.array(sorted(order), dtype=np.int64), tier, score).tolist())
        chosen = [d for d in order if d in kept]
        if len(chosen) >= needed or len(order) >= total:
            return chosen[:needed], tiers, scores
        wanted *= 2


# Phrases, top-k: positions are read only where an article may still reach the page.

_Pruned: TypeAlias = "tuple[DocIds, list[int], dict[int, int], dict[int, float]]"
"""The matching articles (those known, when counting stopped early), the best ones in order, their tiers and scores."""
_PhraseKey: TypeAlias = "tuple[tuple[str, ...], tuple[str, ...]]"
"""A phrase: its terms and fields."""


class _Phrases:
    """The phrases of a plan: the documents that may hold each one (those
    holding all its parts, in one of its fields: read from document numbers
    alone), and, of those checked so far, the ones where it stands (read from
    positions, which cost a read per document). Where one bigram covers a
    whole phrase (``"Le Monde"``), the documents holding it hold the phrase."""

    def __init__(self, arrays: IndexArrays, parts: Iterable[Terms]) -> None:
        self.arrays = arrays
        schema = arrays.searcher.schema
        self.ways: dict[_PhraseKey, list[tuple[tuple[commongrams.Item, ...], Mask]]] = {}
        """For each phrase, the parts to find in each field that needs positions, and the documents holding them."""
        self.maybe: dict[_PhraseKey, Mask] = {}
        self.found: dict[_PhraseKey, Mask] = {}
        """Where the phrase stands, for the documents checked (and those of a bigram covering it whole)."""
        self.unchecked = np.zeros(arrays.size, dtype=bool)
        for part in parts:
            key = (part.terms, part.fields)
            if not part.phrase or key in self.ways:
                continue
            maybe = np.zeros(arrays.size, dtype=bool)
            found = np.zeros(arrays.size, dtype=bool)
            ways = []
            for f in part.fields:
                items = commongrams.items(schema, f, part.terms)
                docs = commongrams.holding(arrays, items)
                maybe[docs] = True
                if len(items) == 1:
                    found[docs] = True
                elif len(docs):
                    holding = np.zeros(arrays.size, dtype=bool)
                    holding[docs] = True
                    ways.append((items, holding))
            self.ways[key], self.maybe[key], self.found[key] = ways, maybe, found
            self.unchecked |= maybe & ~found

    @property
    def anywhere(self) -> Mask:
        """The documents that may hold some phrase."""
        found = np.zeros(self.arrays.size, dtype=bool)
        for maybe in self.maybe.values():
            found |= maybe
        return found

    def mask(self, terms: tuple[str, ...], fields: tuple[str, ...], optimistic: bool) -> Mask:
        """The documents that may hold the phrase (``optimistic``), or those found holding it."""
        return (self.maybe if optimistic else self.found)[terms, fields]

    def check(self, docs: DocIds) -> None:
        """Read where each phrase stands in ``docs`` (ascending, unchecked)."""
        for key, ways in self.ways.items():
            found = self.found[key]
            for items, holding in ways:
                some = docs[holding[docs] & ~found[docs]]
                if len(some):
                    found[commongrams.matching(self.arrays, items, some)] = True
        self.unchecked[docs] = False

    def holding_some(self, docs: DocIds) -> Mask:
        """Which of ``docs`` (checked) hold some phrase."""
        some = np.zeros(len(docs), dtype=bool)
        for found in self.found.values():
            some |= found[docs]
        return some

    def missing(self, docs: DocIds) -> Mask:
        """Which of ``docs`` (checked) may hold a phrase they do not hold."""
        wrong = np.zeros(len(docs), dtype=bool)
        for key, maybe in self.maybe.items():
            wrong |= maybe[docs] & ~self.found[key][docs]
        return wrong


@dataclass(frozen=True, kw_only=True)
class _PhraseSpace(_Space):
    """Documents whose phrases :func:`_phrase` takes from ``phrases``: where
    they may stand (``optimistic``), or where they were found."""

    phrases: _Phrases
    optimistic: bool = False


_PHRASE_SHARE = 2
"""A plan of phrases alone is scored only on the documents that may hold one
where they are fewer than the index's documents divided by this: even at a
fifth of the index (``"il y a"``), arrays of their size cost less than the
index's, by a fifth of the first pass."""


def _only_phrases(plan: QueryPlan) -> bool:
    """Whether every part of ``plan`` is a phrase (its documents hold one)."""
    return all(part.phrase for group in plan.groups for part in (*group.exact, *group.corrected))


def _phrase_pass(arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, phrases: _Phrases,
                 optimistic: bool) -> tuple[NDArray[np.int8], Floats, Mask] | None:
    """:func:`_first_pass` of every document, each phrase of ``phrases``
    standing where it may (``optimistic``) or where it was found. A plan of
    phrases alone matches only documents that may hold one: where they are
    few (:data:`_PHRASE_SHARE`), only they are scored, each word where its
    phrase may stand (:func:`_phrase`), and the others are left at tier 0."""
    docs = np.flatnonzero(phrases.anywhere)
    if len(docs) * _PHRASE_SHARE >= arrays.size or not _only_phrases(plan):
        return _first_pass(arrays, plan, settings, _PhraseSpace(arrays.size, phrases=phrases, optimistic=optimistic))
    places = np.zeros(arrays.size, dtype=np.intp)
    places[docs] = np.arange(len(docs))
    space = _PhraseSpace(len(docs), docs, places=places, phrases=phrases, optimistic=optimistic)
    first = _first_pass(arrays, plan, settings, space)
    if first is None:
        return None
    tier = np.zeros(arrays.size, dtype=np.int8)
    score = np.zeros(arrays.size, dtype=np.float64)
    required = np.zeros(arrays.size, dtype=bool)
    tier[docs], score[docs], required[docs] = first
    return tier, score, required


class _PhraseWalk:
    """The ranking of a plan with phrases, read from positions only as far
    as needed. Every document is first scored as if each phrase stood
    wherever it may: a phrase only adds to the tier and score of the
    documents holding it (weights are not negative), so this is a bound on
    each one's place, and its very place for the documents holding every
    phrase they may hold. Documents are then checked in the order of those
    bounds (:meth:`best`), and those missing a phrase scored again, by the
    code that scores every document."""

    def __init__(self, arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, filters: Filters,
                 phrases: _Phrases) -> None:
        self.arrays, self.plan, self.settings, self.phrases = arrays, plan, settings, phrases
        self.only_phrases = _only_phrases(plan)
        first = _phrase_pass(arrays, plan, settings, phrases, optimistic=True)
        assert first is not None
        self.tier, self.score, required = first
        self.allowed = _allowed(arrays, plan, filters, settings)
        self.matching = (self.tier > 0) & required & self.allowed
        """Where the document is known to match, or may (``pending``)."""
        self.pending = self.matching & phrases.unchecked
        """Documents whose tier and score are only bounds."""
        self.known = np.flatnonzero(self.matching & ~self.pending)
        """The documents matching from the start (holding no phrase to check)."""
        self.settled: list[DocIds] = []

    def settle(self, docs: DocIds) -> None:
        """Check ``docs`` (ascending, pending), and score again those missing a phrase."""
        self.phrases.check(docs)
        self.pending[docs] = False
        self.settled.append(docs)
        wrong = docs[self.phrases.missing(docs)]
        if self.only_phrases:  # those holding no phrase hold nothing of the query
            self.matching[wrong[~self.phrases.holding_some(wrong)]] = False
            wrong = wrong[self.phrases.holding_some(wrong)]
        if not len(wrong):
            return
        space = _PhraseSpace(len(wrong), wrong, (wrong, wrong + 1), phrases=self.phrases)
        first = _first_pass(self.arrays, self.plan, self.settings, space)
        assert first is not None
        tier, score, required = first
        self.tier[wrong], self.score[wrong] = tier, score
        self.matching[wrong] = (tier > 0) & required & self.allowed[wrong]

    def _before(self, a: int, b: int) -> bool:
        """Whether ``a`` ranks before ``b``: by tier, then score, then document number."""
        if self.tier[a] != self.tier[b]:
            return bool(self.tier[a] > self.tier[b])
        return bool(self.score[a] > self.score[b] or self.score[a] == self.score[b] and a < b)

    def best(self, k: int) -> list[int]:
        """The ``k`` first matching documents (fewer if fewer match), in order:
        the best bounds are checked, twice as many each time, until the
        ``k``-th document known ranks before every bound left."""
        batch = max(k, 16)
        known = np.array(_best(self.known, self.tier, self.score, k), dtype=np.int64)

        def top() -> list[int]:
            found = np.concatenate([known, *self.settled])
            return _best(found[self.matching[found]], self.tier, self.score, k)

        while True:
            ahead = _best(np.flatnonzero(self.pending), self.tier, self.score, batch + 1)
            first = top()
            if not ahead or len(first) >= k and self._before(first[-1], ahead[0]):
                return first
            self.settle(np.sort(np.array(ahead[:batch], dtype=np.int64)))
            first = top()
            if len(ahead) <= batch or len(first) >= k and self._before(first[-1], ahead[batch]):
                return first  # (ahead[batch] is the best bound left)
            batch *= 2

    def count(self, least: int) -> None:
        """Check documents in the order of their numbers (neighbours share
        posting blocks) until ``least`` are known to match or none is left."""
        while True:
            waiting = np.flatnonzero(self.pending)
            short = least - int(np.count_nonzero(self.matching & ~self.pending))
            if not len(waiting) or short <= 0:
                return
            self.settle(waiting[:short + short // 8 + 16])

    @property
    def matched(self) -> DocIds:
        """The documents known to match (ascending)."""
        return np.flatnonzero(self.matching & ~self.pending)


def _pruned_phrases(arrays: IndexArrays, plan: QueryPlan, settings: RankingSettings, filters: Filters,
                    needed: int, folding: Folding | None) -> tuple[_Pruned, bool] | None:
    """The ``needed`` best articles of a plan with phrases, duplicates left
    out, reading positions only where an article may reach them
    (:class:`_PhraseWalk`), and whether every matching article was counted:
    None where few enough may hold a phrase that checking each costs little.

    The page, scores to the last bit, is the one full scoring gives. The
    count stops once ``settings.track_total_hits`` articles are known to
    match, as Lucene's ``track_total_hits``: the total is then "at least".
    The copies of the best articles are checked, so that each lists every
    matching copy of it."""
    parts = [part for group in plan.groups for part in (*group.exact, *group.corrected)]
    if (needed <= 0 or settings.prune_postings < 0 or settings.track_total_hits < 0
            or not any(part.phrase for part in parts) or settings.coverage_exponent < 0
            or any(part.weight < 0 for part in parts) or any(group.weight < 0 for group in plan.groups)
            or not sum(group.weight for group in plan.groups)):
        return None
    phrases = _Phrases(arrays, parts)
    if np.count_nonzero(phrases.unchecked) <= settings.track_total_hits:
        return None
    walk = _PhraseWalk(arrays, plan, settings, filters, phrases)
    wanted = needed
    while True:
        order = walk.best(wanted)
        chosen = order
        if folding is not None:
            # As in _folded: the first groups are among the best articles once those hold enough.
            kept = set(folding.collapse(np.array(sorted(order), dtype=np.int64), walk.tier, walk.score).tolist())
            chosen = [d for d in order if d in kept]
        if len(chosen) >= needed or len(order) < wanted:
            break
        wanted *= 2
    chosen = chosen[:needed]
    walk.count(settings.track_total_hits)
    if folding is not None:
        members = np.unique(np.array([m for d in chosen for m in folding.members(d)], dtype=np.int64))
        if len(members := members[walk.pending[members]]):
            walk.settle(members)
    tiers = {d: int(walk.tier[d]) for d in chosen}
    scores = {d: float(walk.score[d]) for d in chosen}
    return (walk.matched, chosen, tiers, scores), not walk.pending.any()


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
                       + settings.exact_form_weight * sum(idf[t] for t in sorted(exact)))  # not in hash order
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
