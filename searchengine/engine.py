"""SearchEngine: the one object embedders need, and the one the CLI uses."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .analysis import fold
from .errors import ArticleNotFound, IndexCorrupt, NewsearchError
from .indexing import open_index
from .names import NameTable, load_names
from .scoring import IndexArrays
from .searching import SearchResults, run_search, run_similar

if TYPE_CHECKING:
    from .errors import BadArticle
    from .indexing import IndexReport, Progress

__all__ = ["IndexInfo", "SearchEngine"]


@dataclass
class IndexInfo:
    path: str
    articles: int
    terms: int
    size_bytes: int
    last_update: dt.datetime | None
    analyzer: str


def _as_date(value: dt.date | str | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    from .articles import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise NewsearchError(f"{name}: cannot read {value!r} as a date (try 2023-09-12 or 12/09/2023)")
    return parsed


class SearchEngine:
    """A French news index in one folder.

    >>> with SearchEngine("index") as engine:
    ...     engine.index(["seeds"])
    ...     for hit in engine.search("Kim Poutine"):
    ...         print(hit.title)
    """

    def __init__(self, path: str | os.PathLike[str] = "index", *,
                 names: str | os.PathLike[str] | None = None) -> None:
        """``names``: a file of extra name variants, added to the shipped table."""
        self.path = Path(path)
        self._names_file = names
        self._names: NameTable | None = None
        self._index = None
        self._searcher = None
        self._arrays: IndexArrays | None = None

    def __enter__(self) -> SearchEngine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._index = None
        self._arrays = None

    def _open_searcher(self):  # noqa: ANN202 - a Whoosh searcher stays private
        if self._searcher is not None and not self._searcher.up_to_date():
            # Not Whoosh's refresh(): it reuses the readers of unchanged segments,
            # whose lists of deleted articles are then out of date.
            self.close()
        if self._searcher is None:
            self._index = open_index(self.path)
            try:
                self._searcher = self._index.searcher()
            except (OSError, ValueError, EOFError) as exc:
                raise IndexCorrupt(self.path, str(exc)) from exc
        return self._searcher

    def _open_arrays(self) -> IndexArrays:
        """The searcher's arrays, made anew only when the index has changed."""
        searcher = self._open_searcher()
        if self._arrays is None or self._arrays.searcher is not searcher:
            self._arrays = IndexArrays(searcher)
        return self._arrays

    def index(
        self,
        paths: Iterable[str | os.PathLike[str]] = ("seeds",),
        *,
        rebuild: bool = False,
        fields: Mapping[str, str] | None = None,
        wait: float = 0.0,
        memory_mb: int = 256,
        jobs: int = 1,
        on_problem: Callable[[BadArticle], None] | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> IndexReport:
        """Add, update and remove articles so the index matches ``paths``."""
        from .indexing import update_index

        report = update_index(
            self.path, paths, rebuild=rebuild, fields=fields, wait=wait, memory_mb=memory_mb,
            jobs=jobs, on_problem=on_problem, progress=progress,
        )
        self.close()
        return report

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        source: str | None = None,
        sort: str = "relevance",
        fragments: int = 1,
        fragment_size: int = 200,
    ) -> SearchResults:
        """Ranked hits for ``query`` (see the README for the syntax)."""
        if sort not in ("relevance", "date"):
            raise NewsearchError(f"sort must be 'relevance' or 'date', not {sort!r}")
        if limit < 1 or page < 1:
            raise NewsearchError("limit and page must be at least 1")
        start, end = _as_date(since, "since"), _as_date(until, "until")
        if self._names is None:
            self._names = load_names(self._names_file)
        return run_search(
            self._open_arrays(), query, limit=limit, page=page,
            since=dt.datetime.combine(start, dt.time()) if start else None,
            until=dt.datetime.combine(end, dt.time.max) if end else None,
            source=fold(source) if source else None, sort=sort,
            fragments=fragments, fragment_size=fragment_size, names=self._names,
        )

    def similar(self, article_id: str, *, limit: int = 10, fragments: int = 1,
                fragment_size: int = 200) -> SearchResults:
        """The articles closest to one article, itself excluded."""
        arrays = self._open_arrays()
        docnum = arrays.searcher.document_number(id=article_id)
        if docnum is None:
            raise ArticleNotFound(article_id)
        return run_similar(arrays, docnum, limit=limit, fragments=fragments, fragment_size=fragment_size)

    def info(self) -> IndexInfo:
        """What is in the index and how big it is."""
        searcher = self._open_searcher()
        reader = searcher.reader()
        terms = sum(1 for _ in reader.all_terms() if _[0] in ("title", "lede", "body"))
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
        mtime = max((f.stat().st_mtime for f in self.path.glob("*.toc")), default=None)
        analyzer = type(searcher.schema["body"].analyzer)
        return IndexInfo(
            path=str(self.path),
            articles=searcher.doc_count(),
            terms=terms,
            size_bytes=size,
            last_update=dt.datetime.fromtimestamp(mtime) if mtime else None,
            analyzer=f"{analyzer.__module__}.{analyzer.__qualname__}",
        )
