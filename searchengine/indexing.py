"""The index on disk: its schema, and bringing it up to date with a collection.

Updates are incremental. Each document carries a small column, ``state``,
with its key (file and record), a fingerprint of its content and, for the
last article of a file, the size and time of the file, so a run re-reads only
files that changed and rewrites only articles that did. Everything happens in one Whoosh writer and one commit:
a run that is killed leaves the index as it was at the last commit. The
writer is :class:`~searchengine.fastwriter.FastWriter` (or, with ``jobs`` > 1,
its :class:`~searchengine.fastwriter.ParallelWriter`): Whoosh's files, written
with a fraction of the per-posting work.
"""

from __future__ import annotations

import datetime as dt
import mmap
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import fields, index, writing
from whoosh.columns import VarBytesColumn
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import EmptyIndexError, LockError

from .analysis import FrenchAnalyzer, fold
from .errors import BadArticle, IndexCorrupt, IndexLocked, IndexNotFound

if TYPE_CHECKING:
    from .articles import Article
    from .fastwriter import FastWriter

__all__ = ["IndexReport", "Progress", "make_schema", "open_index", "update_index"]

INDEX_NAME = "newsearch"


def make_schema(analyzer: FrenchAnalyzer | None = None) -> fields.Schema:
    """Title, lede and body are searched; the original text is stored for
    snippets. ``analyzer`` (default: ``FrenchAnalyzer()``) analyses all three
    and is pickled into the index with the schema."""
    french = FrenchAnalyzer() if analyzer is None else analyzer
    return fields.Schema(
        key=fields.ID(unique=True),
        state=fields.COLUMN(VarBytesColumn()),
        id=fields.ID(stored=True),
        path=fields.STORED(),
        title=fields.TEXT(analyzer=french, stored=True),
        lede=fields.TEXT(analyzer=french, stored=True),
        body=fields.TEXT(analyzer=french, stored=True),
        date=fields.DATETIME(stored=True, sortable=True),
        source=fields.STORED(),
        source_id=fields.ID(),
        url=fields.STORED(),
        author=fields.STORED(),
    )


@dataclass
class IndexReport:
    """What one indexing run did; ``problems`` holds one entry per failure."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    seconds: float = 0.0
    problems: list[BadArticle] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


@dataclass
class Progress:
    """Passed to the progress callback after each file."""

    files_done: int
    files_total: int
    articles: int
    path: str


class _MappedStorage(FileStorage):
    """Whoosh's folder storage, reading each file in place through mmap.

    With Whoosh's own mmap support every segment file is copied into memory
    when it is opened (0.1 s and the index's size in RAM for a query); without
    it, every small read is a system call (a few milliseconds a query).
    """

    def __init__(self, path: str) -> None:
        super().__init__(path, supports_mmap=False)

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        with open(os.path.join(self.folder, name), "rb") as fh:
            try:
                mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped
                return super().open_file(name, **kwargs)
        return StructFile(mapped, name=name, **kwargs)


def open_index(path: Path) -> index.Index:
    """Open an existing index, translating Whoosh's failures into ours."""
    if not path.is_dir():
        raise IndexNotFound(path)
    try:
        if not index.exists_in(str(path), indexname=INDEX_NAME):
            raise IndexNotFound(path)
        return _MappedStorage(str(path)).open_index(INDEX_NAME)
    except EmptyIndexError as exc:
        raise IndexNotFound(path) from exc
    except PermissionError as exc:
        raise IndexCorrupt(path, "permission denied") from exc
    except IndexNotFound:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged table of contents fails in many ways inside Whoosh
        raise IndexCorrupt(path, str(exc) or type(exc).__name__) from exc


def _create_index(path: Path) -> index.Index:
    try:
        path.mkdir(parents=True, exist_ok=True)
        return FileStorage(str(path)).create_index(make_schema(), indexname=INDEX_NAME)
    except OSError as exc:
        raise IndexCorrupt(path, f"cannot create it: {exc.strerror or exc}") from exc


def _key(file: str, record: str) -> str:
    return f"{file}\x1f{record}"


def _signature(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _document(article: Article, key: str, signature: str) -> dict[str, object]:
    state = "\x1f".join((key, article.fingerprint, signature)).encode()
    doc: dict[str, object] = {
        "key": key,
        "state": state,
        "id": article.id,
        "path": article.path,
        "title": article.title,
        "lede": article.lede,
        "body": article.body,
    }
    if article.date:
        doc["date"] = dt.datetime.combine(article.date, dt.time())
    for name in ("source", "url", "author"):
        value = getattr(article, name)
        if value:
            doc[name] = value
    if article.source:
        doc["source_id"] = fold(article.source)
    return doc


@dataclass
class _KnownState:
    """What the index holds: key -> (fingerprint, file signature) for every live
    document, and key -> its document numbers, to delete them by."""

    state: dict[str, tuple[str, str]] = field(default_factory=dict)
    docnums: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def delete(self, writer: FastWriter, key: str) -> None:
        for docnum in self.docnums.get(key, ()):
            writer.delete_document(docnum)


def _known_state(writer: FastWriter) -> _KnownState:
    """Read from each segment's ``state`` column alone: a full reader (or the
    searcher ``delete_by_term`` opens) would load every segment's terms and
    postings into memory first."""
    known = _KnownState()
    column_type = writer.schema["state"].column_type
    base = 0
    for segment in writer.segments:
        count = segment.doc_count_all()
        storage = segment.open_compound_file(writer.storage) if segment.is_compound() else writer.storage
        reader = writer.codec.per_document_reader(storage, segment)
        try:
            if reader.has_column("state"):
                column = reader.column_reader("state", column_type)
                for docnum in range(count):
                    raw = column[docnum]
                    if raw and not segment.is_deleted(docnum):
                        key, fingerprint, signature = raw.decode().rsplit("\x1f", 2)
                        known.state[key] = (fingerprint, signature)
                        known.docnums[key].append(base + docnum)
        finally:
            reader.close()
            if storage is not writer.storage:
                storage.close()
        base += count
    return known


def update_index(
    index_dir: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    *,
    rebuild: bool = False,
    fields: Mapping[str, str] | None = None,
    wait: float = 0.0,
    memory_mb: int = 256,
    jobs: int = 1,
    on_problem: Callable[[BadArticle], None] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> IndexReport:
    """Bring the index in ``index_dir`` in line with the articles under ``paths``.

    New articles are added, changed ones replaced, and those whose file is gone
    from ``paths`` removed; nothing else in the index is touched. A file that
    could not be read keeps its articles as they were.
    """
    # Imported here, not above: a query opens the index without loading the indexer.
    from .articles import find_files, read_file
    from .fastwriter import FastWriter, ParallelWriter, collecting_rarely

    started = time.perf_counter()
    path = Path(index_dir)
    report = IndexReport()

    def problem(exc: BadArticle) -> None:
        report.failed += 1
        report.problems.append(exc)
        if on_problem:
            on_problem(exc)

    given = [Path(p) for p in paths]
    roots = [os.path.abspath(p) for p in given]
    files = list(find_files(given, problem))
    exists = path.is_dir() and any(path.glob(f"_{INDEX_NAME}_*.toc"))
    if not files and not exists:
        # Nothing to index (a mistyped path, say): no empty index that would
        # later answer "no match" where "no index" is the truth.
        report.seconds = time.perf_counter() - started
        return report
    ix = open_index(path) if exists else _create_index(path)
    try:
        if jobs > 1:
            writer: FastWriter = ParallelWriter(ix, procs=jobs, limitmb=memory_mb, timeout=wait, delay=0.25)
        else:
            writer = FastWriter(ix, limitmb=memory_mb, timeout=wait, delay=0.25)
    except LockError as exc:
        raise IndexLocked(path) from exc
    with collecting_rarely():
        try:
            current = _KnownState() if rebuild else _known_state(writer)
            known = current.state
            by_file: dict[str, set[str]] = defaultdict(set)
            for key in known:
                by_file[key.split("\x1f", 1)[0]].add(key)
            articles_seen = 0

            def store(article: Article, key: str, signature: str) -> None:
                """Write what changed; ``signature`` is the file's for its last article only."""
                before = known.get(key)
                if before is None:
                    writer.add_document(**_document(article, key, signature))
                    report.added += 1
                elif before[0] != article.fingerprint or (signature and before[1] != signature):
                    if before[0] == article.fingerprint:
                        report.unchanged += 1
                    else:
                        report.updated += 1
                    current.delete(writer, key)
                    writer.add_document(**_document(article, key, signature))
                else:
                    report.unchanged += 1

            for done, file in enumerate(files, 1):
                name = os.path.abspath(file)
                try:
                    signature = _signature(file)
                except OSError:
                    signature = ""
                old_keys = by_file.pop(name, set())
                if signature and any(known[k][1] == signature for k in old_keys):
                    report.unchanged += len(old_keys)
                    articles_seen += len(old_keys)
                else:
                    failures = report.failed
                    seen: set[str] = set()
                    pending: tuple[Article, str] | None = None
                    for article in read_file(file, fields, on_problem=problem):
                        key = _key(name, article.record)
                        if key in seen:
                            problem(BadArticle(article.path, f"duplicate id {article.id!r} in the same file"))
                            continue
                        seen.add(key)
                        articles_seen += 1
                        if pending:
                            store(*pending, "")
                        pending = article, key
                    if pending:
                        # The file's signature goes with its last article only, so that a
                        # changed file rewrites only its changed articles. A file with
                        # problems gets none: the next run reads it again and reports them.
                        store(*pending, signature if report.failed == failures else "")
                    if report.failed == failures:
                        for key in old_keys - seen:
                            current.delete(writer, key)
                            report.removed += 1
                if progress:
                    progress(Progress(done, len(files), articles_seen, str(file)))
            for name, keys in by_file.items():
                inside = any(name == root or name.startswith(root.rstrip(os.sep) + os.sep) for root in roots)
                if inside and not os.path.lexists(name):
                    for key in keys:
                        current.delete(writer, key)
                        report.removed += 1
            writer.commit(mergetype=writing.CLEAR if rebuild else None)
        except BaseException:
            writer.cancel()
            raise
    report.seconds = time.perf_counter() - started
    return report
