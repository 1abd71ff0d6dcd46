"""Running a query: from the parsed syntax to ranked hits with snippets.

Ranking is tiered, as readers expect from web search: articles holding every
word as typed come first, then those holding every word once typos are
forgiven, then those holding only some of the words. Within a tier, BM25F
orders them, a match in the title weighing more than one in the body.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.searching import Searcher

from .analysis import STOP_WORDS, analyse, fold, stem
from .names import NameTable
from .queries import FIELDS, Clause, ParsedQuery, parse_query
from .snippets import Highlighter, make_snippet

__all__ = ["Hit", "SearchResults", "FIELD_BOOSTS", "run_search", "run_similar"]

FIELD_BOOSTS = {"title": 2.0, "lede": 1.5, "body": 1.0}
STOP_WORD_BOOST = 0.2
LONG_QUERY = 12
"""Past this many words, only the rarest ones are scored."""
RARE_TERMS = 10
TYPO_MAX_DF = 3
"""A word in fewer articles than this may be a typo, so close spellings are tried too."""
SIMILAR_TERMS = 15


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


class _ArrayOr(wq.Or):
    """Or that preloads its matches: far faster than Whoosh's union tree for
    long queries on large indexes."""

    matcher_type = wq.Or.ARRAY_MATCHER


def _typo_distance(word: str) -> int:
    n = len(word)
    return 0 if n < 5 else 1 if n < 9 else 2


class _Planner:
    """Turns parsed clauses into Whoosh queries against one searcher."""

    def __init__(self, searcher: Searcher, fields: tuple[str, ...] = FIELDS) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.fields = fields
        self.highlighter = Highlighter()
        self.corrections: dict[str, str] = {}
        """Typed word -> the more frequent close term, for "did you mean"."""

    def df(self, term: str) -> int:
        return sum(self.reader.doc_frequency(f, term) for f in self.fields)

    def _fields(self, clause: Clause) -> tuple[str, ...]:
        return (clause.field,) if clause.field else self.fields

    def _per_field(self, clause: Clause, make: Callable[[str], wq.Query | None]) -> wq.Query | None:
        subs = [q for f in self._fields(clause) if (q := make(f)) is not None]
        if not subs:
            return None
        return subs[0] if len(subs) == 1 else wq.Or(subs)

    def exact(self, clause: Clause) -> wq.Query | None:
        terms = [t for t, _, _, _ in analyse(clause.text, query=True)]
        if not terms:
            return None
        if clause.kind == "prefix":
            folded = fold(clause.text)
            stemmed = stem(folded)
            prefix = os.path.commonprefix([folded, stemmed]) if folded.isalpha() else terms[-1]
            prefix = prefix if len(prefix) >= 2 else folded
            self.highlighter.prefixes.add(prefix)
            return self._per_field(clause, lambda f: wq.Prefix(f, prefix, boost=FIELD_BOOSTS.get(f, 1.0)))
        if len(terms) > 1:
            self.highlighter.phrases.add(tuple(terms))
            return self._per_field(clause, lambda f: wq.Phrase(f, terms, boost=FIELD_BOOSTS.get(f, 1.0)))
        term = terms[0]
        self.highlighter.terms.add(term)
        weight = STOP_WORD_BOOST if term in STOP_WORDS else 1.0
        return self._per_field(clause, lambda f: wq.Term(f, term, boost=weight * FIELD_BOOSTS.get(f, 1.0)))

    def corrected(self, clause: Clause) -> wq.Query | None:
        """Close spellings of a rare single word, as Or of the terms that exist."""
        if clause.kind != "word" or not clause.text.isalpha():
            return None
        distance = _typo_distance(clause.text)
        terms = [t for t, _, _, _ in analyse(clause.text, query=True)]
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
        return wq.Or([
            wq.Term(f, t, boost=0.5 * FIELD_BOOSTS.get(f, 1.0))
            for t in sorted(found) for f in self._fields(clause)
        ])


def _group(queries: list[wq.Query | None]) -> wq.Query | None:
    subs = [q for q in queries if q is not None]
    if not subs:
        return None
    return subs[0] if len(subs) == 1 else wq.Or(subs)


def plan_tiers(planner: _Planner, parsed: ParsedQuery) -> list[wq.Query]:
    """The queries to run in order; each tier's articles rank above the next's."""
    groups = parsed.groups
    if len(groups) > LONG_QUERY and all(len(g) == 1 for g in groups):
        words = [g[0] for g in groups]
        scored = []
        for clause in words:
            terms = [t for t, _, _, _ in analyse(clause.text, query=True)]
            if terms and clause.kind == "word" and len(terms) == 1 and terms[0] not in STOP_WORDS:
                scored.append((planner.df(terms[0]) or 10**9, clause))
        keep = {c for _, c in sorted(scored, key=lambda x: x[0])[:RARE_TERMS]}
        for clause in words:
            if clause not in keep:
                terms = analyse(clause.text, query=True)
                planner.highlighter.terms.update(t for t, _, _, _ in terms if t not in STOP_WORDS)
        subs = [q for c in keep if (q := planner.exact(c)) is not None]
        return [_ArrayOr(subs)] if subs else []
    exact = [_group([planner.exact(c) for c in g]) for g in groups]
    loose = [_group([planner.exact(c) for c in g] + [planner.corrected(c) for c in g]) for g in groups]
    exact_present = [q for q in exact if q is not None]
    loose_present = [q for q in loose if q is not None]
    tiers: list[wq.Query] = []
    if exact_present:
        tiers.append(wq.And(exact_present) if len(exact_present) > 1 else exact_present[0])
    if loose_present != exact_present and loose_present:
        tiers.append(wq.And(loose_present) if len(loose_present) > 1 else loose_present[0])
    if len(loose_present) > 1:
        tiers.append(wq.Or(loose_present))
    return tiers


def _exclude(q: wq.Query, planner: _Planner, excluded: list[Clause]) -> wq.Query:
    saved = planner.highlighter
    planner.highlighter = Highlighter()
    negatives = [n for c in excluded if (n := planner.exact(c)) is not None]
    planner.highlighter = saved
    return wq.AndNot(q, wq.Or(negatives)) if negatives else q


def run_search(
    searcher: Searcher,
    text: str,
    *,
    limit: int = 10,
    page: int = 1,
    filter: wq.Query | None = None,
    sort: str = "relevance",
    fragments: int = 1,
    fragment_size: int = 200,
    names: NameTable | None = None,
) -> SearchResults:
    parsed = parse_query(text)
    if names:
        parsed = names.expand(parsed)
    planner = _Planner(searcher)
    tiers = plan_tiers(planner, parsed)
    if not tiers and parsed.excluded:
        tiers = [wq.Every()]
    tiers = [_exclude(t, planner, parsed.excluded) for t in tiers]
    needed = page * limit
    found: list[tuple[int, float]] = []
    total = 0
    if tiers:
        loosest = tiers[-1]
        if sort == "date":
            results = searcher.search(loosest, limit=needed, filter=filter, sortedby="date", reverse=True)
            found = [(r.docnum, r.score or 0.0) for r in results]
            total = len(results)
        else:
            earlier: set[int] = set()
            for number, tier in enumerate(tiers):
                last = number == len(tiers) - 1
                if len(found) < needed:
                    results = searcher.search(tier, limit=needed - len(found), filter=filter,
                                              mask=earlier or None)
                    found.extend((r.docnum, r.score) for r in results)
                    if last:
                        total = len(results) + len(earlier)
                elif last:
                    total = len(searcher.search(tier, limit=1, filter=filter))
                if not last and len(found) < needed:
                    earlier.update(searcher.docs_for_query(tier, for_deletion=False))
                    if filter is not None:
                        earlier &= set(searcher.docs_for_query(filter))
    highlighter = planner.highlighter
    plain = {t for t in highlighter.terms if t not in STOP_WORDS}
    if plain:
        highlighter.terms = plain
    hits = [
        _hit(searcher, docnum, score, highlighter, fragments, fragment_size)
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
    searcher: Searcher, docnum: int, *, limit: int = 10, fragments: int = 1, fragment_size: int = 200,
) -> SearchResults:
    """Articles sharing the most distinctive words of one article, itself excluded."""
    stored = searcher.stored_fields(docnum)
    text = "\n".join(stored.get(f, "") for f in FIELDS)
    counts = Counter(t for t, _, _, _ in analyse(text) if t not in STOP_WORDS and len(t) > 2 and not t.isdigit())
    planner = _Planner(searcher)
    total_docs = max(1, searcher.doc_count_all())
    weights = {t: tf * math.log(1 + total_docs / (1 + planner.df(t))) for t, tf in counts.items()}
    top = sorted(weights, key=lambda t: (-weights[t], t))[:SIMILAR_TERMS]
    planner.highlighter.terms.update(top)
    subs = [wq.Term(f, t, boost=FIELD_BOOSTS[f]) for t in top for f in FIELDS]
    found: list[tuple[int, float]] = []
    total = 0
    if subs:
        results = searcher.search(_ArrayOr(subs), limit=limit, mask={docnum})
        found = [(r.docnum, r.score) for r in results]
        total = len(results)
    hits = [_hit(searcher, d, sc, planner.highlighter, fragments, fragment_size) for d, sc in found]
    for rank, hit in enumerate(hits, 1):
        hit.rank = rank
    return SearchResults(query=f"similar to {stored.get('id', '')}", total=total, hits=hits, limit=limit)


def _hit(
    searcher: Searcher, docnum: int, score: float, highlighter: Highlighter,
    fragments: int, fragment_size: int,
) -> Hit:
    stored = searcher.stored_fields(docnum)
    title = stored.get("title", "")
    body = stored.get("body", "")
    lede = stored.get("lede", "")
    text, spans = body, highlighter.spans(body)
    if lede and (not spans or not body):
        lede_spans = highlighter.spans(lede)
        if lede_spans or not body:
            text, spans = lede, lede_spans
    snippet, ranges = make_snippet(text, highlighter, fragments, fragment_size, spans)
    date = stored.get("date")
    return Hit(
        id=stored.get("id", ""),
        path=stored.get("path", ""),
        title=title,
        date=date.date() if isinstance(date, dt.datetime) else None,
        score=round(float(score), 4),
        snippet=snippet,
        highlights=ranges,
        title_highlights=[(s, e) for s, e, _ in highlighter.spans(title)],
        lede=lede,
        source=stored.get("source", ""),
        url=stored.get("url", ""),
        author=stored.get("author", ""),
    )
