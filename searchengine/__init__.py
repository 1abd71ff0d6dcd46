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
    from .errors import ArticleNotFound, BadArticle, IndexCorrupt, IndexLocked, IndexNotFound, NewsearchError
    from .indexing import IndexReport, Progress
    from .searching import Hit, SearchResults

__version__ = "0.1.0"
"""The one place the version is written: packaging metadata and `newsearch --version` read it."""

_HOMES = {
    "Article": "articles",
    "ArticleNotFound": "errors",
    "BadArticle": "errors",
    "Hit": "searching",
    "IndexCorrupt": "errors",
    "IndexInfo": "engine",
    "IndexLocked": "errors",
    "IndexNotFound": "errors",
    "IndexReport": "indexing",
    "NewsearchError": "errors",
    "Progress": "indexing",
    "SearchEngine": "engine",
    "SearchResults": "searching",
}
__all__ = [
    "Article",
    "ArticleNotFound",
    "BadArticle",
    "Hit",
    "IndexCorrupt",
    "IndexInfo",
    "IndexLocked",
    "IndexNotFound",
    "IndexReport",
    "NewsearchError",
    "Progress",
    "SearchEngine",
    "SearchResults",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
