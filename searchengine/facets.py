"""Facets: how the articles a query matches spread over years and sources,
so a reader can narrow the results with one click."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .scoring import IndexArrays

if TYPE_CHECKING:
    from .scoring import DocIds

__all__ = ["Facet", "Facets", "count_facets"]


@dataclass(frozen=True)
class Facet:
    """One value to filter on: ``value`` is what the filter takes (a year, a
    source's name), ``count`` how many matching articles have it."""

    value: str
    count: int


@dataclass(frozen=True)
class Facets:
    years: tuple[Facet, ...] = ()
    """Newest first; undated articles are not counted."""
    sources: tuple[Facet, ...] = ()
    """Most articles first."""


def count_facets(arrays: IndexArrays, docs: DocIds, source_terms: list[str],
                 source_name: Callable[[int], str], to_datetime: Callable[[int], dt.datetime]) -> Facets:
    """The facets of ``docs``: dates come from the date column, sources from
    the postings of each source's folded name (``source_terms``); a source is
    shown as the first article holding it writes it."""
    dates = arrays.dates()[docs]
    dates = np.sort(dates[dates != arrays.undated])
    years: dict[int, int] = {}
    if len(dates):
        # Counted between the first instants of consecutive years: one
        # conversion a year, however many articles and days there are.
        first, last = to_datetime(int(dates[0])).year, to_datetime(int(dates[-1])).year
        bounds = [arrays.date_value(dt.datetime(year, 1, 1)) for year in range(first, last + 1)]
        bounds.append(int(dates[-1]) + 1)
        counts = np.diff(np.searchsorted(dates, np.array(bounds, dtype=dates.dtype)))
        years = {first + n: int(count) for n, count in enumerate(counts.tolist()) if count}
    chosen = np.zeros(arrays.size, dtype=bool)
    chosen[docs] = True
    sources = []
    for term in source_terms:
        holders = arrays.postings("source_id", term)[0]
        inside = holders[chosen[holders]]
        if len(inside):
            sources.append(Facet(source_name(int(inside[0])), len(inside)))
    return Facets(
        years=tuple(Facet(str(y), c) for y, c in sorted(years.items(), reverse=True)),
        sources=tuple(sorted(sources, key=lambda f: (-f.count, f.value))),
    )
