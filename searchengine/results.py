"""Results: from a page of a ranking to hits with snippets, and "did you mean"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .plan import QueryPlan
from .ranking import Ranking
from .snippets import ArticleText, make_snippet

if TYPE_CHECKING:
    from .articles import Article
    from .facets import Facets

__all__ = ["ArticleView", "Hit", "SearchResults", "build_results", "article_view"]


@dataclass(frozen=True)
class Hit:
    """One matching article; ``highlights`` are [start, end) ranges of ``snippet``.

    ``score`` is the ranking key: its whole part is the tier (3: every word as
    typed, 2: every word once typos are forgiven, 1: some of the words) and it
    never rises down a list ranked by relevance.
    """

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
    duplicates: tuple[str, ...] = ()
    """The ids of the matching articles folded into this one as its duplicates."""


@dataclass(frozen=True)
class SearchResults:
    """The hits of one page. ``total`` counts the articles of the ranking
    that pages cut: every matching article, less the ``folded`` ones,
    duplicates of a better-ranked hit that lists them. Where ``total_exact``
    is False, both are lower bounds ("at least"): counting stopped past
    ``RankingSettings.track_total_hits`` matching articles (a phrase whose
    remaining matches each cost a read of positions)."""

    query: str
    total: int
    hits: list[Hit]
    page: int = 1
    limit: int = 10
    suggestion: str | None = None
    facets: Facets | None = None
    """Counts per year and source of every matching article (duplicates too), when asked for."""
    folded: int = 0
    total_exact: bool = True

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


def _hit(text: ArticleText, score: float, rank: int, fragments: int, fragment_size: int,
         duplicates: tuple[str, ...]) -> Hit:
    body, lede = text.text("body"), text.text("lede")
    shown, spans = body, text.spans("body")
    if lede and (not spans or not body):
        lede_spans = text.spans("lede")
        if lede_spans or not body:
            shown, spans = lede, lede_spans
    snippet, ranges = make_snippet(shown, spans, fragments, fragment_size)
    date = text.stored.get("date")
    return Hit(
        id=text.text("id"),
        path=text.text("path"),
        title=text.text("title"),
        date=date.date() if isinstance(date, dt.datetime) else None,
        score=score,
        snippet=snippet,
        highlights=ranges,
        title_highlights=[(s, e) for s, e, _ in text.spans("title")],
        lede=lede,
        source=text.text("source"),
        url=text.text("url"),
        author=text.text("author"),
        rank=rank,
        duplicates=duplicates,
    )


def build_results(query: str, plan: QueryPlan, ranking: Ranking, *, read: Callable[[int], ArticleText],
                  surface: Callable[[str], str | None], page: int, limit: int, fragments: int,
                  fragment_size: int, facets: Facets | None = None,
                  folded: Callable[[int], tuple[str, ...]] = lambda doc: ()) -> SearchResults:
    """The hits of ``ranking``'s page (texts already read while ranking are
    reused), each with the ids ``folded`` gives of its duplicates, and the
    query with its corrections as the articles spell them."""
    first = (page - 1) * limit + 1
    hits = [_hit(ranking.texts.get(r.doc) or read(r.doc), r.score, rank, fragments, fragment_size, folded(r.doc))
            for rank, r in enumerate(ranking.page, first)]
    return SearchResults(query=query, total=ranking.total - ranking.folded, hits=hits, page=page, limit=limit,
                         suggestion=_suggestion(query, plan.corrections, surface), facets=facets,
                         folded=ranking.folded, total_exact=ranking.complete)


def _suggestion(query: str, corrections: tuple[tuple[str, str], ...],
                surface: Callable[[str], str | None]) -> str | None:
    suggestion = query
    for typed, term in corrections:
        word = surface(term)
        if word:
            suggestion = suggestion.replace(typed, word, 1)
    return suggestion if suggestion != query else None


@dataclass(frozen=True)
class ArticleView:
    """A whole article, with the ranges of each field (``title``, ``lede``,
    ``body``) that a query's words match."""

    article: Article
    highlights: Mapping[str, list[tuple[int, int]]] = field(default_factory=dict)


def article_view(text: ArticleText) -> ArticleView:
    stored = text.stored
    date = stored.get("date")
    from .articles import Article  # the readers' module: not loaded by a query that shows no article

    article = Article(
        id=text.text("id"), title=text.text("title"), body=text.text("body"), path=text.text("path"),
        date=date.date() if isinstance(date, dt.datetime) else None, lede=text.text("lede"),
        source=text.text("source"), url=text.text("url"), author=text.text("author"),
    )
    spans = {name: [(s, e) for s, e, _ in text.spans(name)] for name in ("title", "lede", "body")}
    return ArticleView(article, {name: found for name, found in spans.items() if found})
