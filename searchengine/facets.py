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
    values, counts = np.unique(dates[dates != arrays.undated], return_counts=True)
    years: dict[int, int] = {}
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        year = to_datetime(value).year
        years[year] = years.get(year, 0) + count
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
