"""From a parsed query to a frozen plan: what to look up in the index, and how.

Planning analyses each clause into terms, expands prefixes, looks for close
spellings of rare words, decides which groups are stop words that only add to
the score, and gathers what the results will highlight. It reads the index's
vocabulary (document frequencies, terms within an edit distance, terms under a
prefix) but no posting list; what it produces is never changed afterwards.

Bounds, whatever is typed: no typo is looked for in a word longer than
``MAX_TYPO_CHARS``; a phrase is matched on its first ``MAX_PHRASE_TERMS``
words; a prefix stands for its ``MAX_PREFIX_TERMS`` most frequent words, and a
query for at most ``MAX_EXPANDED_TERMS`` expanded words in all.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import TYPE_CHECKING, Protocol

from .analysis import fold, stem
from .glued import GluedPlan
from .queries import FIELDS, Clause, Group, ParsedQuery
from .snippets import Highlighter

if TYPE_CHECKING:
    from .ranking import RankingSettings

__all__ = ["QueryPlan", "Terms", "PlannedGroup", "plan_query", "plan_similar", "typo_count",
           "CORRECTION_RATIO", "MAX_TYPO_CHARS", "MAX_PHRASE_TERMS", "MAX_PREFIX_TERMS", "MAX_EXPANDED_TERMS"]

MAX_TYPO_CHARS = 40
"""Longer words are not words anyone mistypes; the typo automaton grows with the word."""
CORRECTION_RATIO = 10
"""A close spelling replaces the word typed ("did you mean") only if titles,
ledes and bodies hold it more than this many times as often: a word typed
rarely is a typo of a common one, not of one as rare."""
MAX_PHRASE_TERMS = 32
MAX_PREFIX_TERMS = 500
MAX_EXPANDED_TERMS = 2_000
_PREFIX_SCAN = 20_000
"""Words read under one prefix before the most frequent are kept."""


class Analyzer(Protocol):
    stop_words: frozenset[str]

    def terms(self, text: str) -> list[str]: ...

    def typed_terms(self, text: str) -> list[tuple[str, str]]: ...

    def is_stop_word(self, word: str) -> bool: ...

    def analyse(self, text: str, query: bool = False) -> Iterator[tuple[str, int, int, int]]: ...


class Vocabulary(Protocol):
    """What planning reads of an index: :class:`~searchengine.scoring.IndexArrays` has it."""

    @property
    def size(self) -> int: ...

    def doc_frequency(self, fieldname: str, term: str) -> int: ...

    def terms_within(self, fieldname: str, term: str, distance: int) -> Iterable[str]: ...

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterable[str]: ...


@dataclass(frozen=True)
class Terms:
    """Articles holding any of ``terms`` in any of ``fields`` (each scored by
    BM25F, times ``weight``), or, for a phrase, all of them in a row."""

    terms: tuple[str, ...]
    fields: tuple[str, ...]
    phrase: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class PlannedGroup:
    """One group of the query: its exact alternatives, those found by
    forgiving typos, and how much it counts towards coverage (the idf of its
    rarest word)."""

    exact: tuple[Terms, ...]
    corrected: tuple[Terms, ...]
    weight: float
    required: bool = False


@dataclass(frozen=True)
class QueryPlan:
    """Everything ranking and results need to know about one query.

    ``tiered``: articles holding every group rank above those holding some
    (a pasted paragraph, and similar articles, have one tier). ``light``: stop
    words, which add to the score of the best articles only. ``words``: the
    words whose positions and typed forms rerank the best articles.
    """

    groups: tuple[PlannedGroup, ...] = ()
    light: tuple[Terms, ...] = ()
    excluded: tuple[Terms, ...] = ()
    sources: tuple[str, ...] = ()
    tiered: bool = True
    rerank: bool = True
    highlighter: Highlighter = field(default_factory=Highlighter)
    corrections: tuple[tuple[str, str], ...] = ()
    """(word as typed, the more frequent close word) for "did you mean"."""
    words: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str, int], ...] = ()
    typed_forms: tuple[tuple[str, frozenset[str]], ...] = ()
    headline: bool = True
    """Whether a word found in a title also scores there on its own
    (``RankingSettings.title_alone``): a reader's words may be a half-remembered
    headline; the words of an article looking for similar ones are not."""


def _typo_distance(word: str) -> int:
    """How many typos are forgiven in a word of this length."""
    n = len(word)
    return 0 if n < 5 else 1 if n < 9 else 2


def typo_count(a: str, b: str) -> int:
    """Typos between two words: letters added, dropped or replaced, and two
    neighbours swapped, each one (Damerau-Levenshtein as optimal string
    alignment, the distance the index's typo search uses)."""
    previous: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, row = previous, row, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]


@dataclass(frozen=True)
class _Correction:
    """The close spellings of a word typed, each weighted, and the one that
    replaces the word ("did you mean"), if any."""

    close: tuple[Terms, ...]
    best: str | None


class _Planner:
    """The state of planning one query; it produces a :class:`QueryPlan` and is dropped."""

    def __init__(self, vocabulary: Vocabulary, analyzer: Analyzer, settings: RankingSettings) -> None:
        self.vocabulary = vocabulary
        self.analyzer = analyzer
        self.settings = settings
        self.terms: set[str] = set()
        self.stop_terms: set[str] = set()
        """Terms of ``terms`` typed as a stop word somewhere in the query."""
        self.plain_terms: set[str] = set()
        """Terms of ``terms`` typed as another word somewhere (``tué`` gives ``tu``, as ``tu`` does)."""
        self.prefixes: set[str] = set()
        self.phrases: set[tuple[str, ...]] = set()
        self.corrections: dict[str, str] = {}
        self.replaced: dict[str, str] = {}
        """Word typed (its term) → the correction that replaces it."""
        self.expanded = 0
        self.typo_searches = 0

    def df(self, term: str) -> int:
        return sum(self.vocabulary.doc_frequency(f, term) for f in FIELDS)

    def exact(self, clause: Clause, highlight: bool = True) -> Terms | None:
        typed = self.analyzer.typed_terms(clause.text)
        terms = [term for term, _ in typed]
        if not terms:
            return None
        fields = (clause.field,) if clause.field else FIELDS
        if clause.kind == "prefix":
            folded = fold(clause.text)
            prefix = os.path.commonprefix([folded, stem(folded)]) if folded.isalpha() else terms[-1]
            prefix = prefix if len(prefix) >= 2 else folded
            if highlight:
                self.prefixes.add(prefix)
            return Terms(self._expand(prefix, fields), fields)
        if len(terms) > 1:
            phrase = tuple(terms[:MAX_PHRASE_TERMS])
            if highlight:
                self.phrases.add(phrase)
            return Terms(phrase, fields, phrase=True)
        ((term, word),) = typed
        stop = self.analyzer.is_stop_word(word)
        if highlight:
            self.terms.add(term)
            (self.stop_terms if stop else self.plain_terms).add(term)
        return Terms((term,), fields, weight=self.settings.stop_word_weight if stop else 1.0)

    def _expand(self, prefix: str, fields: tuple[str, ...]) -> tuple[str, ...]:
        """The most frequent words starting with ``prefix``, within the query's budget."""
        budget = min(MAX_PREFIX_TERMS, MAX_EXPANDED_TERMS - self.expanded)
        if budget <= 0:
            return ()
        found: set[str] = set()
        for f in fields:
            found.update(islice(self.vocabulary.expand_prefix(f, prefix), _PREFIX_SCAN))
        if len(found) > budget:
            found = set(sorted(found, key=lambda t: (-self.df(t), t))[:budget])
        self.expanded += len(found)
        return tuple(sorted(found))

    def corrected(self, clause: Clause, alone: bool = False) -> _Correction | None:
        """Close spellings of a rare single word, among the words that exist
        (stop words aside: a rare word is no typo of ``leur``).

        The closest spelling, the most frequent among equals, is the "did you
        mean" when it is more than ``CORRECTION_RATIO`` times as frequent as
        the word typed. If the word is ``alone`` in the query, it then
        replaces the word; among other words, the word as typed keeps its
        tier, since articles holding it with all of them confirm it (a
        question copies a rare name from its answer). Every close spelling weighs
        ``correction_weight`` per typo, times its frequency as a share of that
        one's (capped at 1), so that a nearer and more frequent spelling, the
        likelier meant, outweighs a rarer one, whose idf is higher."""
        if clause.kind != "word" or not clause.text.isalpha() or len(clause.text) > MAX_TYPO_CHARS:
            return None
        distance = _typo_distance(clause.text)
        terms = self.analyzer.terms(clause.text)
        if distance == 0 or len(terms) != 1 or self.df(terms[0]) >= self.settings.typo_max_df:
            return None
        if self.typo_searches >= self.settings.typo_max_words:
            return None
        self.typo_searches += 1
        (term,) = terms
        fields = (clause.field,) if clause.field else FIELDS
        found: set[str] = set()
        for f in fields:
            found.update(self.vocabulary.terms_within(f, term, distance))
        found = {t for t in found if t != term and not self._stop(t)}
        if not found:
            return None
        typos = {t: typo_count(term, t) for t in found}
        best = min(found, key=lambda t: (typos[t], -self.df(t), t))
        top = max(1, self.df(best))
        self.terms.update(found)
        if self.df(best) <= CORRECTION_RATIO * self.df(term):
            made = False
        else:
            self.corrections[clause.text] = best
            made = alone
        if made:  # the word typed is then one of its close spellings
            self.replaced[term] = best
            typos[term] = typos.pop(best)
        weight = self.settings.correction_weight
        close = tuple(Terms((t,), fields, weight=weight ** typos[t] * min(1.0, self.df(t) / top))
                      for t in sorted(typos))
        return _Correction(close, best if made else None)

    def _stop(self, term: str) -> bool:
        """A term the query holds only as typed stop words: ``tu`` from ``tu``,
        not from ``tué``."""
        return term in self.stop_terms and term not in self.plain_terms

    def stop_clause(self, clause: Clause) -> bool:
        """A single word typed as a stop word (``le``, ``qu’il``), whatever its stem shares."""
        typed = self.analyzer.typed_terms(clause.text)
        return clause.kind == "word" and len(typed) == 1 and self.analyzer.is_stop_word(typed[0][1])

    def light(self, group: Group) -> bool:
        """A group of stop words only (``le``, ``des``): it adds to the score but
        is not required once the query has other words. ``tué`` is no stop
        word though it stems as ``tu``."""
        return all(self.stop_clause(clause) for clause in group.alternatives)

    def weight(self, group: Group) -> float:
        """How much a group counts towards coverage: the idf of its rarest word."""
        dfs = [self.df(self.replaced.get(t, t)) for c in group.alternatives for t in self.analyzer.terms(c.text)]
        return math.log(1 + self.vocabulary.size / (1 + min(dfs, default=0)))

    def highlighter(self) -> Highlighter:
        plain = {t for t in self.terms if not self._stop(t)}
        return Highlighter(frozenset(plain or self.terms), tuple(sorted(self.prefixes)), frozenset(self.phrases))


def plan_query(parsed: ParsedQuery, vocabulary: Vocabulary, analyzer: Analyzer,
               settings: RankingSettings) -> QueryPlan:
    """The plan of a parsed query (names already expanded) over one index.

    Tiers: articles holding every group as typed, then every group once typos
    are forgiven, then some groups. Stop words count only in a query of stop
    words alone; a pasted paragraph (more than ``settings.long_query`` words)
    is scored on its rarest words, in a single tier.
    """
    planner = _Planner(vocabulary, analyzer, settings)
    excluded = tuple(t for c in parsed.excluded if (t := planner.exact(c, highlight=False)) is not None)
    groups = parsed.groups
    if len(groups) > settings.long_query:
        return _plan_paragraph(planner, parsed, excluded)
    heavy = tuple(g for g in groups if not planner.light(g))
    light = tuple(t for g in groups if planner.light(g) for c in g.alternatives
                  if (t := planner.exact(c, highlight=False)) is not None) if heavy else ()
    forgive = len(heavy or groups) <= settings.typo_max_words
    planned = []
    glued = GluedPlan(vocabulary)
    for group in heavy or groups:
        exact: list[Terms] = []
        corrected: list[Terms] = []
        for clause in group.alternatives:
            typed = planner.exact(clause)
            fix = planner.corrected(clause, alone=len(heavy or groups) == 1) \
                if forgive and not group.variants else None
            if typed is not None and fix is not None and fix.best is not None:
                # "Did you mean": the correction ranks as if typed, the word typed as a typo of it.
                exact.append(replace(typed, terms=(fix.best,), weight=1.0))
            elif typed is not None:
                exact.append(typed)
            corrected.extend(fix.close if fix is not None else ())
        exact.extend(glued.alternatives(tuple(exact)))
        if exact or corrected:
            planned.append(PlannedGroup(tuple(exact), tuple(corrected), planner.weight(group), group.required))
    highlighter = planner.highlighter()
    words = tuple(sorted(t for t in highlighter.terms if not planner._stop(t)))
    return QueryPlan(
        groups=tuple(planned), light=light, highlighter=glued.highlighter(highlighter),
        corrections=tuple(planner.corrections.items()), words=words,
        pairs=_pairs(parsed, analyzer, settings.long_query),
        typed_forms=_typed_forms(parsed, analyzer, set(words) - set(planner.replaced)), excluded=excluded,
        sources=parsed.sources,
    )


def _plan_paragraph(planner: _Planner, parsed: ParsedQuery, excluded: tuple[Terms, ...]) -> QueryPlan:
    """A pasted paragraph: the groups of its rarest words carry the ranking, in
    a single tier; every word is highlighted."""
    scored = []
    for number, group in enumerate(parsed.groups):
        plain = [terms[0] for c in group.alternatives if c.kind == "word"
                 and len(terms := planner.analyzer.terms(c.text)) == 1 and not planner.stop_clause(c)]
        if plain:
            scored.append((min(planner.df(t) or 10**9 for t in plain), number, group))
    keep = [g for _, _, g in sorted(scored, key=lambda x: x[:2])[:planner.settings.rare_terms]]
    exact = tuple(t for g in keep for c in g.alternatives if (t := planner.exact(c)) is not None)
    for group in parsed.groups:
        if group not in keep:
            planner.terms.update(t for c in group.alternatives
                                 for t, word in planner.analyzer.typed_terms(c.text)[:MAX_PHRASE_TERMS]
                                 if not planner.analyzer.is_stop_word(word))
    highlighter = planner.highlighter()
    words = tuple(sorted(t for t in highlighter.terms if not planner._stop(t)))
    return QueryPlan(
        groups=(PlannedGroup(exact, (), 1.0),) if exact else (), tiered=False, highlighter=highlighter,
        words=words, typed_forms=_typed_forms(parsed, planner.analyzer, set(words)), excluded=excluded,
        sources=parsed.sources,
    )


def _pairs(parsed: ParsedQuery, analyzer: Analyzer, longest: int) -> tuple[tuple[str, str, int], ...]:
    """Each word of the query and the next one that is not a stop word, with
    how many places further it stands (``prise en charge``: prise, charge, 2)."""
    pairs: set[tuple[str, str, int]] = set()
    if len(parsed.groups) > longest:
        return ()
    previous, gap = None, 0
    for group in parsed.groups:
        if len(group.alternatives) > 1 or group.alternatives[0].kind == "prefix":
            previous = None
            continue
        for term, word in analyzer.typed_terms(group.alternatives[0].text)[:MAX_PHRASE_TERMS]:
            gap += 1
            if analyzer.is_stop_word(word):
                continue
            if previous is not None:
                pairs.add((previous, term, gap))
            previous, gap = term, 0
    return tuple(sorted(pairs))


def _typed_forms(parsed: ParsedQuery, analyzer: Analyzer, terms: set[str]) -> tuple[tuple[str, frozenset[str]], ...]:
    """For each of ``terms``, the folded words of the query that gave it."""
    forms: dict[str, set[str]] = {}
    for clause in parsed.clauses:
        if clause.kind == "prefix":
            continue
        for term, start, end, _ in islice(analyzer.analyse(clause.text, query=True), MAX_PHRASE_TERMS):
            if term in terms:
                forms.setdefault(term, set()).add(fold(clause.text[start:end]))
    return tuple((t, frozenset(f)) for t, f in sorted(forms.items()))


def plan_similar(fields: Mapping[str, str], vocabulary: Vocabulary, analyzer: Analyzer,
                 settings: RankingSettings) -> QueryPlan:
    """Articles sharing the most distinctive words of an article (``fields``:
    its text by field name): its words weighted by frequency times idf, the
    best kept among those some other article holds too (a word only the
    article itself holds, the rarest of all, would find nothing), each
    weighing its share of the best one's weight, as Lucene's MoreLikeThis
    boosts them."""
    counts: Counter[str] = Counter()
    holding: Counter[str] = Counter()
    for text in fields.values():
        found = Counter(t for t, _, _, _ in analyzer.analyse(text)
                        if t not in analyzer.stop_words and len(t) > 2 and not t.isdigit())
        counts.update(found)
        holding.update(found.keys())
    planner = _Planner(vocabulary, analyzer, settings)
    size = max(1, vocabulary.size)
    shared = {t: df for t in counts if (df := planner.df(t)) > holding[t]}
    weights = {t: counts[t] * math.log(1 + size / (1 + df)) for t, df in shared.items()}
    top = tuple(sorted(weights, key=lambda t: (-weights[t], t))[:settings.similar_terms])
    group = PlannedGroup(tuple(Terms((t,), FIELDS, weight=weights[t] / weights[top[0]]) for t in top),
                         (), 1.0) if top else None
    return QueryPlan(groups=(group,) if group else (), tiered=False, rerank=False, headline=False,
                     highlighter=Highlighter(frozenset(top)))
