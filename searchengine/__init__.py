"""newsearch: full-text search for French news, built on Whoosh."""

from .articles import Article
from .engine import IndexInfo, SearchEngine
from .errors import (
    ArticleNotFound,
    BadArticle,
    IndexCorrupt,
    IndexLocked,
    IndexNotFound,
    NewsearchError,
)
from .indexing import IndexReport, Progress
from .searching import Hit, SearchResults

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
