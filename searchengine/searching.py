"""Running a query: from the parsed syntax to ranked hits with snippets.

Ranking is tiered, as readers expect from web search: articles holding every
word as typed come first, then those holding every word once typos are
forgiven, then those holding only some of the words. Within a tier, BM25F
orders them, a match in the title weighing more than one in the body. The
best few are then reordered by what only their positions and text show: how
close the words stand, whether they appear in the form typed and side by
side as in the query.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
from whoosh.searching import Searcher

from .analysis import STOP_WORDS, analyse, fold, stem
from .names import NameTable
from .queries import FIELDS, Clause, ParsedQuery, parse_query
from .scoring import IndexArrays
from .snippets import Highlighter, make_snippet

__all__ = ["Hit", "SearchResults", "FIELD_BOOSTS", "run_search", "run_similar"]

FIELD_BOOSTS = {"title": 2.0, "lede": 1.5, "body": 1.0}
STOP_WORD_BOOST = 0.2
CORRECTION_BOOST = 0.5
"""A word found only by forgiving a typo weighs half as much."""
LONG_QUERY = 20
"""Past this many words, only the rarest ones are scored."""
RARE_TERMS = 10
TYPO_MAX_DF = 3
"""A word in fewer articles than this may be a typo, so close spellings are tried too."""
TYPO_MAX_WORDS = 8
"""Longer queries are pasted, not typed: no typo is looked for (measured: no loss)."""
SIMILAR_TERMS = 15
PROXIMITY_WEIGHT = 2.0
PROXIMITY_FIELD = "body"
"""The field where proximity and word pairs are read (positions cost a read each)."""
EXACT_FORM_WEIGHT = 0.5
"""A query word that an article's title or body holds in the very form typed
(``élections``, not only ``élection``) adds this share of its idf."""
BIGRAM_WEIGHT = 0.5
"""Each pair of words that stand in the body as in the query (``prise en
charge``, not ``charge en prise``) adds this."""
EXACT_FORM_FIELDS = ("title", "body")
"""The fields read for exact forms: a lede mostly repeats them."""
COVERAGE_EXPONENT = 0.5
RERANKED = 10
"""Stop words, proximity, exact forms and word pairs reorder this many best
articles (or the whole page, if longer)."""


@dataclass
class Hit:
    """One matching article; ``highlights`` are [start, end) ranges of ``snippet``."""

    id: str
    path: str
    title: str
    date: dt.date | None
    score: float
    snippet: str
    highlights: list[tuple[int, int]]
    title_highlights: list[tuple[int, int]] = field(default_factory=list)
    lede: str = ""
    source: str = ""
    url: str = ""
    author: str = ""
    rank: int = 0


@dataclass
class SearchResults:
    """The hits of one page; ``total`` counts every matching article."""

    query: str
    total: int
    hits: list[Hit]
    page: int = 1
    limit: int = 10
    suggestion: str | None = None

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


@dataclass
class _Match:
    """Which documents a clause matches, and what each one scores."""

    mask: np.ndarray
    scores: np.ndarray

    def __ior__(self, other: _Match) -> _Match:
        self.mask |= other.mask
        self.scores += other.scores
        return self


def _query_terms(text: str) -> list[str]:
    return [t for t, _, _, _ in analyse(text, query=True)]


def _typo_distance(word: str) -> int:
    n = len(word)
    return 0 if n < 5 else 1 if n < 9 else 2


class _Planner:
    """Turns parsed clauses into matches over the arrays of one index."""

    def __init__(self, arrays: IndexArrays, fields: tuple[str, ...] = FIELDS) -> None:
        self.arrays = arrays
        self.reader = arrays.reader
        self.fields = fields
        self.highlighter = Highlighter()
        self.corrections: dict[str, str] = {}
        """Typed word -> the more frequent close term, for "did you mean"."""

    def df(self, term: str) -> int:
        return sum(self.arrays.doc_frequency(f, term) for f in self.fields)

    def _fields(self, clause: Clause) -> tuple[str, ...]:
        return (clause.field,) if clause.field else self.fields

    def _empty(self) -> _Match:
        size = self.arrays.size
        return _Match(np.zeros(size, dtype=bool), np.zeros(size, dtype=np.float64))

    def _terms(self, fields: tuple[str, ...], terms: list[str], weight: float,
               only: np.ndarray | None = None) -> _Match:
        """Documents holding any of ``terms`` in any of ``fields`` (or just those of ``only``)."""
        match = self._empty()
        boosts = {f: FIELD_BOOSTS.get(f, 1.0) for f in fields}
        for term in terms:
            ids, scores = self.arrays.bm25f(term, boosts)
            if only is not None:
                keep = only[ids]
                ids, scores = ids[keep], scores[keep]
            match.mask[ids] = True
            match.scores[ids] += weight * scores
        return match

    def _phrase(self, fields: tuple[str, ...], terms: list[str]) -> _Match:
        """Documents where ``terms`` stand one after another in some field; the words' scores add up."""
        arrays = self.arrays
        found = np.zeros(arrays.size, dtype=bool)
        for f in fields:
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
        return self._terms(fields, terms, 1.0, only=found)

    def exact(self, clause: Clause) -> _Match | None:
        terms = _query_terms(clause.text)
        if not terms:
            return None
        fields = self._fields(clause)
        if clause.kind == "prefix":
            folded = fold(clause.text)
            stemmed = stem(folded)
            prefix = os.path.commonprefix([folded, stemmed]) if folded.isalpha() else terms[-1]
            prefix = prefix if len(prefix) >= 2 else folded
            self.highlighter.prefixes.add(prefix)
            match = self._empty()
            for f in fields:
                match |= self._terms((f,), list(self.reader.expand_prefix(f, prefix)), 1.0)
            return match
        if len(terms) > 1:
            self.highlighter.phrases.add(tuple(terms))
            return self._phrase(fields, terms)
        term = terms[0]
        self.highlighter.terms.add(term)
        return self._terms(fields, [term], STOP_WORD_BOOST if term in STOP_WORDS else 1.0)

    def corrected(self, clause: Clause) -> _Match | None:
        """Close spellings of a rare single word, among the terms that exist."""
        if clause.kind != "word" or not clause.text.isalpha():
            return None
        distance = _typo_distance(clause.text)
        terms = _query_terms(clause.text)
        if distance == 0 or len(terms) != 1 or self.df(terms[0]) >= TYPO_MAX_DF:
            return None
        found: set[str] = set()
        for f in self._fields(clause):
            found.update(self.reader.terms_within(f, terms[0], distance, prefix=1))
        found.discard(terms[0])
        if not found:
            return None
        best = max(sorted(found), key=self.df)
        if self.df(best) > self.df(terms[0]):
            self.corrections[clause.text] = best
        self.highlighter.terms.update(found)
        return self._terms(self._fields(clause), sorted(found), CORRECTION_BOOST)

    def any_of(self, clauses: list[Clause]) -> _Match | None:
        """Documents matching any of ``clauses`` exactly (an excluded item, say)."""
        saved = self.highlighter
        self.highlighter = Highlighter()
        match = None
        for clause in clauses:
            found = self.exact(clause)
            if found is not None:
                match = found if match is None else match.__ior__(found)
        self.highlighter = saved
        return match


def _union(matches: list[_Match | None]) -> _Match | None:
    present = [m for m in matches if m is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    union = _Match(present[0].mask.copy(), present[0].scores.copy())
    for m in present[1:]:
        union |= m
    return union


def _light(group: list[Clause]) -> bool:
    """A group of stop words only (``le``, ``des``): it adds to the score but
    is not required once the query has other words."""
    for clause in group:
        terms = _query_terms(clause.text)
        if clause.kind != "word" or len(terms) != 1 or terms[0] not in STOP_WORDS:
            return False
    return True


def _weight(planner: _Planner, group: list[Clause]) -> float:
    """How much a group counts towards coverage: the idf of its rarest word."""
    dfs = [planner.df(t) for c in group for t in _query_terms(c.text)]
    return math.log(1 + planner.arrays.size / (1 + min(dfs, default=0)))


def _tiers(planner: _Planner, parsed: ParsedQuery) -> tuple[np.ndarray, np.ndarray, list[Clause]] | None:
    """Each document's tier (0: no match) and score, and the stop words left
    to score on the best articles only; a higher tier ranks first.

    Tier 3 holds every word as typed, tier 2 every word once typos are
    forgiven, tier 1 some of the words. Stop words count only in a query of
    stop words alone. The score is BM25F times the square root of coverage,
    the share of the query's idf that the document holds, so that within
    tier 1 an article missing only a common word ranks above one holding only it.
    """
    groups = parsed.groups
    if len(groups) > LONG_QUERY and all(len(g) == 1 for g in groups):
        return _long_query(planner, [g[0] for g in groups])
    heavy = [g for g in groups if not _light(g)]
    light = [c for g in groups if _light(g) for c in g] if heavy else []
    groups = heavy or groups
    size = planner.arrays.size
    all_exact = np.ones(size, dtype=bool)
    all_loose = np.ones(size, dtype=bool)
    some = np.zeros(size, dtype=bool)
    scores = np.zeros(size, dtype=np.float64)
    covered = np.zeros(size, dtype=np.float64)
    whole = 0.0
    forgive = len(groups) <= TYPO_MAX_WORDS
    for group in groups:
        exact = _union([planner.exact(c) for c in group])
        loose = _union([exact, *(planner.corrected(c) for c in group)]) if forgive else exact
        if loose is None:
            continue
        scores += loose.scores
        all_exact &= exact.mask if exact is not None else False
        all_loose &= loose.mask
        some |= loose.mask
        weight = _weight(planner, group)
        covered += weight * loose.mask
        whole += weight
    if not whole:
        return None
    tier = some.astype(np.int8)
    tier[all_loose] = 2
    tier[all_exact] = 3
    return tier, scores * (covered / whole) ** COVERAGE_EXPONENT, light


def _long_query(planner: _Planner, words: list[Clause]) -> tuple[np.ndarray, np.ndarray, list[Clause]] | None:
    """A pasted paragraph: the rarest words carry the ranking, in a single tier."""
    scored = []
    for clause in words:
        terms = _query_terms(clause.text)
        if terms and clause.kind == "word" and len(terms) == 1 and terms[0] not in STOP_WORDS:
            scored.append((planner.df(terms[0]) or 10**9, clause))
    keep = {c for _, c in sorted(scored, key=lambda x: x[0])[:RARE_TERMS]}
    for clause in words:
        if clause not in keep:
            planner.highlighter.terms.update(t for t in _query_terms(clause.text) if t not in STOP_WORDS)
    match = _union([planner.exact(c) for c in words if c in keep])
    if match is None:
        return None
    return match.mask.astype(np.int8), match.scores, []


def _ranked(candidates: np.ndarray, keys: tuple[np.ndarray, ...], needed: int) -> np.ndarray:
    """The first ``needed`` candidates by ``keys`` (most significant last, as
    for ``np.lexsort``), ties broken by document number."""
    if len(candidates) > needed:
        primary = keys[-1][candidates]
        cut = np.partition(primary, needed - 1)[needed - 1]
        candidates = candidates[primary <= cut]
    order = np.lexsort((candidates, *(k[candidates] for k in keys)))
    return candidates[order[:needed]]


@dataclass
class _Article:
    """An article's stored fields, and the analysed words of each that the
    highlighter looks at, found once for ranking and snippets both."""

    stored: dict
    highlighter: Highlighter
    _tokens: dict[str, list[tuple[str, int, int, int]]] = field(default_factory=dict)

    def tokens(self, name: str) -> list[tuple[str, int, int, int]]:
        if name not in self._tokens:
            text = self.stored.get(name, "")
            self._tokens[name] = self.highlighter.locate(text) if text else []
        return self._tokens[name]

    def spans(self, name: str) -> list[tuple[int, int, str]]:
        return self.highlighter.spans(self.stored.get(name, ""), self.tokens(name))


def _rerank(planner: _Planner, parsed: ParsedQuery, light: list[Clause], scores: np.ndarray,
            docs: np.ndarray) -> dict[int, _Article]:
    """Add to the scores of the best articles (``docs``, ascending) what is only
    worth reading for a few: their stop words, how close together their query
    words stand, which words they hold in the form typed, and which pairs of
    query words they hold side by side. Returns the fields read, for snippets."""
    arrays = planner.arrays
    for clause in light:
        (term,) = _query_terms(clause.text)
        boosts = {f: FIELD_BOOSTS.get(f, 1.0) for f in planner._fields(clause)}
        ids, found = arrays.bm25f(term, boosts, docs)
        scores[ids] += STOP_WORD_BOOST * found
    pairs = _pairs(parsed)
    words = sorted({t for t in planner.highlighter.terms if t not in STOP_WORDS})
    where = {t: arrays.positions(PROXIMITY_FIELD, t, docs) for t in {*words, *(t for a, b, _ in pairs for t in (a, b))}}
    typed = _typed_forms(parsed, set(words))
    idf = {t: arrays.idf(t, planner.fields) for t in typed}
    read: dict[int, _Article] = {}
    for doc in docs.tolist():
        lists = [where[t][doc] for t in words if doc in where[t]]
        near = sum(1 / max(_closest(a, b), 1) for i, a in enumerate(lists) for b in lists[i + 1:])
        side_by_side = sum(_adjacent(where[a].get(doc), where[b].get(doc), gap) for a, b, gap in pairs)
        article = read[doc] = _Article(arrays.searcher.stored_fields(doc), planner.highlighter)
        exact = {t for f in EXACT_FORM_FIELDS for t, start, end, _ in article.tokens(f)
                 if fold(article.stored[f][start:end]) in typed.get(t, ())}
        scores[doc] += (PROXIMITY_WEIGHT * near + BIGRAM_WEIGHT * side_by_side
                        + EXACT_FORM_WEIGHT * sum(idf[t] for t in exact))
    return read


def _pairs(parsed: ParsedQuery) -> set[tuple[str, str, int]]:
    """Each word of the query and the next one that is not a stop word, with
    how many places further it stands (``prise en charge``: prise, charge, 2).
    None for a pasted paragraph, whose every pair would be looked up for little."""
    pairs: set[tuple[str, str, int]] = set()
    if len(parsed.groups) > LONG_QUERY:
        return pairs
    previous, gap = None, 0
    for group in parsed.groups:
        if len(group) > 1 or group[0].kind == "prefix":
            previous = None
            continue
        for term in _query_terms(group[0].text):
            gap += 1
            if term in STOP_WORDS:
                continue
            if previous is not None:
                pairs.add((previous, term, gap))
            previous, gap = term, 0
    return pairs


def _adjacent(first: list[int] | None, second: list[int] | None, gap: int) -> bool:
    if not first or not second:
        return False
    following = set(second)
    return any(p + gap in following for p in first)


def _typed_forms(parsed: ParsedQuery, terms: set[str]) -> dict[str, set[str]]:
    """For each of ``terms``, the folded words of the query that gave it."""
    forms: dict[str, set[str]] = {}
    for clause in parsed.clauses:
        if clause.kind == "prefix":
            continue
        for term, start, end, _ in analyse(clause.text, query=True):
            if term in terms:
                forms.setdefault(term, set()).add(fold(clause.text[start:end]))
    return forms


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


def run_search(
    arrays: IndexArrays,
    text: str,
    *,
    limit: int = 10,
    page: int = 1,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    source: str | None = None,
    sort: str = "relevance",
    fragments: int = 1,
    fragment_size: int = 200,
    names: NameTable | None = None,
) -> SearchResults:
    parsed = parse_query(text)
    if names:
        parsed = names.expand(parsed)
    planner = _Planner(arrays)
    ranked = _tiers(planner, parsed)
    highlighter = planner.highlighter
    plain = {t for t in highlighter.terms if t not in STOP_WORDS}
    if plain:
        highlighter.terms = plain
    read: dict[int, _Article] = {}
    if ranked is None and parsed.excluded:
        ranked = np.ones(arrays.size, dtype=np.int8), np.zeros(arrays.size, dtype=np.float64), []
    needed = page * limit
    found: list[tuple[int, float]] = []
    total = 0
    if ranked is not None:
        tier, scores, light = ranked
        keep = (tier > 0) & arrays.live
        excluded = planner.any_of(parsed.excluded)
        if excluded is not None:
            keep &= ~excluded.mask
        if since is not None or until is not None:
            dates = arrays.dates()
            keep &= dates != arrays.undated
            if since is not None:
                keep &= dates >= arrays.date_value(since)
            if until is not None:
                keep &= dates <= arrays.date_value(until)
        if source is not None:
            keep &= arrays.term_mask("source_id", source)
        candidates = np.flatnonzero(keep)
        total = len(candidates)
        if sort == "date":
            dates = arrays.dates()
            keys = (-scores, np.where(dates == arrays.undated, 1, -dates.astype(np.int64)))
            chosen = _ranked(candidates, keys, needed)
        else:
            chosen = _ranked(candidates, (-scores, -tier * 1e9 - scores), max(needed, RERANKED))
            if len(chosen):
                read = _rerank(planner, parsed, light, scores, np.sort(chosen))
            chosen = _ranked(chosen, (-scores, -tier * 1e9 - scores), needed)
        found = [(int(d), float(scores[d])) for d in chosen]
    searcher = arrays.searcher
    hits = [
        _hit(read.get(docnum) or _Article(searcher.stored_fields(docnum), highlighter), score, fragments, fragment_size)
        for docnum, score in found[(page - 1) * limit:needed]
    ]
    for rank, hit in enumerate(hits, (page - 1) * limit + 1):
        hit.rank = rank
    return SearchResults(query=text, total=total, hits=hits, page=page, limit=limit,
                         suggestion=_suggestion(searcher, text, planner.corrections))


def _surface(searcher: Searcher, term: str) -> str | None:
    """The word as an article writes it (accents, case) for an index term."""
    reader = searcher.reader()
    for name in ("title", "lede", "body"):
        if not reader.doc_frequency(name, term):
            continue
        docnum = reader.postings(name, term).id()
        text = searcher.stored_fields(docnum).get(name, "")
        for found, start, end, _ in analyse(text):
            if found == term:
                return text[start:end]
    return None


def _suggestion(searcher: Searcher, text: str, corrections: dict[str, str]) -> str | None:
    suggestion = text
    for typed, term in corrections.items():
        word = _surface(searcher, term)
        if word:
            suggestion = suggestion.replace(typed, word, 1)
    return suggestion if suggestion != text else None


def run_similar(
    arrays: IndexArrays, docnum: int, *, limit: int = 10, fragments: int = 1, fragment_size: int = 200,
) -> SearchResults:
    """Articles sharing the most distinctive words of one article, itself excluded."""
    searcher = arrays.searcher
    stored = searcher.stored_fields(docnum)
    text = "\n".join(stored.get(f, "") for f in FIELDS)
    counts = Counter(t for t, _, _, _ in analyse(text) if t not in STOP_WORDS and len(t) > 2 and not t.isdigit())
    planner = _Planner(arrays)
    total_docs = max(1, arrays.size)
    weights = {t: tf * math.log(1 + total_docs / (1 + planner.df(t))) for t, tf in counts.items()}
    top = sorted(weights, key=lambda t: (-weights[t], t))[:SIMILAR_TERMS]
    planner.highlighter.terms.update(top)
    match = planner._terms(FIELDS, top, 1.0)
    keep = match.mask & arrays.live
    keep[docnum] = False
    candidates = np.flatnonzero(keep)
    chosen = _ranked(candidates, (-match.scores,), limit)
    hits = [_hit(_Article(searcher.stored_fields(int(d)), planner.highlighter), float(match.scores[d]),
                 fragments, fragment_size) for d in chosen]
    for rank, hit in enumerate(hits, 1):
        hit.rank = rank
    return SearchResults(query=f"similar to {stored.get('id', '')}", total=len(candidates), hits=hits, limit=limit)


def _hit(article: _Article, score: float, fragments: int, fragment_size: int) -> Hit:
    stored = article.stored
    body = stored.get("body", "")
    lede = stored.get("lede", "")
    text, spans = body, article.spans("body")
    if lede and (not spans or not body):
        lede_spans = article.spans("lede")
        if lede_spans or not body:
            text, spans = lede, lede_spans
    snippet, ranges = make_snippet(text, article.highlighter, fragments, fragment_size, spans)
    date = stored.get("date")
    return Hit(
        id=stored.get("id", ""),
        path=stored.get("path", ""),
        title=stored.get("title", ""),
        date=date.date() if isinstance(date, dt.datetime) else None,
        score=round(float(score), 4),
        snippet=snippet,
        highlights=ranges,
        title_highlights=[(s, e) for s, e, _ in article.spans("title")],
        lede=lede,
        source=stored.get("source", ""),
        url=stored.get("url", ""),
        author=stored.get("author", ""),
    )
