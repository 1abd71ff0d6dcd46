"""newsearch: full-text search for French news, built on Whoosh.

Names are loaded on first use (PEP 562), so that a query in a fresh process
imports the search modules only, not the indexer's.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .articles import Article
    from .engine import IndexInfo, SearchEngine
    from .errors import (
        ArticleNotFound,
        BadArticle,
        BadQuery,
        IndexCorrupt,
        IndexLocked,
        IndexNotFound,
        IndexWriteError,
        NewsearchError,
        UnknownIndexFormat,
    )
    from .facets import Facet, Facets
    from .indexing import IndexReport, Progress
    from .ranking import RankingSettings
    from .results import ArticleView, Hit, SearchResults

__version__ = "0.1.0"
"""The one place the version is written: packaging metadata and `newsearch --version` read it."""

_HOMES = {
    "Article": "articles",
    "ArticleNotFound": "errors",
    "ArticleView": "results",
    "BadArticle": "errors",
    "BadQuery": "errors",
    "Facet": "facets",
    "Facets": "facets",
    "Hit": "results",
    "IndexCorrupt": "errors",
    "IndexInfo": "engine",
    "IndexLocked": "errors",
    "IndexNotFound": "errors",
    "IndexReport": "indexing",
    "IndexWriteError": "errors",
    "NewsearchError": "errors",
    "Progress": "indexing",
    "RankingSettings": "ranking",
    "SearchEngine": "engine",
    "SearchResults": "results",
    "UnknownIndexFormat": "errors",
}
__all__ = [
    "Article",
    "ArticleNotFound",
    "ArticleView",
    "BadArticle",
    "BadQuery",
    "Facet",
    "Facets",
    "Hit",
    "IndexCorrupt",
    "IndexInfo",
    "IndexLocked",
    "IndexNotFound",
    "IndexReport",
    "IndexWriteError",
    "NewsearchError",
    "Progress",
    "RankingSettings",
    "SearchEngine",
    "SearchResults",
    "UnknownIndexFormat",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
