"""The index on disk: its schema, and bringing it up to date with a collection.

Updates are incremental. Each document carries a small column, ``state``,
with its key (file and record), a fingerprint of its content and, for the
last article of a file, the size and time of the file, so a run re-reads only
files that changed and rewrites only articles that did. Everything happens in one Whoosh writer and one commit:
a run that is killed leaves the index as it was at the last commit, and one
that fails (a full disk, a folder it may not write) deletes what it wrote
before it reports. The writer is :class:`~searchengine.fastwriter.FastWriter`
(or, with ``jobs`` > 1, its :class:`~searchengine.fastwriter.ParallelWriter`):
Whoosh's files, written with a fraction of the per-posting work.

Two seams exist for tests only. :func:`_storage` makes every storage the
index is read and written through, so a test can substitute one whose writes
fail (a full disk). ``NEWSEARCH_TEST_PAUSE=POINT[:N]`` (read once, at import)
makes an indexing run stop at a named point, write its process id to the file
named by ``NEWSEARCH_TEST_MARKER`` and wait until that file is deleted (or the
process killed), so that a test kills a run exactly where it means to. The
points are ``added:N`` (the run's Nth document was added), ``commit`` (all
documents added, nothing committed), ``toc`` (the new segments are written,
the table of contents is not) and ``committed`` (the commit is done, the lock
still held). Unset, it costs one test of an empty string per document.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from whoosh import fields, formats, index, writing
from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage, StorageError
from whoosh.index import EmptyIndexError
from whoosh.reading import SegmentReader
from whoosh.util.filelock import LockBase, try_for
from whoosh.writing import IndexingError

from .analysis import FrenchAnalyzer, fold
from .commongrams import gram_fields, with_grams
from .duplicates import COLUMN as DUPLICATE_COLUMN
from .duplicates import column_type as duplicate_column
from .duplicates import duplicate_keys
from .errors import BadArticle, IndexCorrupt, IndexLocked, IndexNotFound, IndexWriteError, NewsearchError
from .postingformat import CompactPositions
from .statecolumn import StateColumn
from .whooshformat import (
    MappedStorage,
    NewIndex,
    Verification,
    is_index_file,
    latest_generation,
    segment_column,
    toc_filename,
    verify_files,
)

if TYPE_CHECKING:
    from .articles import Article
    from .fastwriter import FastWriter

__all__ = ["IndexReport", "Progress", "make_schema", "open_index", "update_index", "verify_index"]

INDEX_NAME = "newsearch"

MERGE_FACTOR = 10
"""An incremental run merges segments of one size class once this many of them have piled up."""
MERGE_MAX_DOCS = 1_000
"""An incremental run merges fewer documents than this (see :func:`merge_small_segments`)."""

_KEY_BATCH = 64
"""Changed articles queued before they are written, so that their duplicate keys are computed together."""

_PAUSE = os.environ.get("NEWSEARCH_TEST_PAUSE", "")
_PAUSE_DEADLINE = 600.0
"""Seconds a paused writer waits for its test before giving up, so that none hangs for ever."""
"""The test-only pause point (see the module docstring); empty when unused."""


def _unindexed(field: fields.FieldType) -> fields.FieldType:
    """``field`` with no terms: nothing searches them. An article's key is in its
    ``state`` column (the field only takes the value, which the cluster's documents
    keep), dates are filtered and sorted on their column, and articles are
    found by id through each segment's id table (:mod:`~searchengine.idtable`)
    and the ``id`` column."""
    field.indexed = False
    return field


def make_schema(analyzer: FrenchAnalyzer | None = None) -> fields.Schema:
    """Title, lede and body are searched; the original text is stored for
    snippets. ``analyzer`` (default: ``FrenchAnalyzer()``) analyses all three
    and is pickled into the index with the schema. Each of the three has a
    companion field of common-word bigrams, for phrases (:mod:`~searchengine.commongrams`).
    Ids and dates are kept in columns (read with the stored fields by
    :class:`~searchengine.whooshformat.StoredFields`), not in Whoosh's pickled
    stored fields, and ids have no terms (see :func:`_unindexed`); an index
    made by an earlier newsearch keeps its own schema."""
    french = FrenchAnalyzer() if analyzer is None else analyzer
    schema = fields.Schema(
        key=_unindexed(fields.ID()),
        state=fields.COLUMN(StateColumn()),
        id=_unindexed(fields.ID(sortable=True)),
        path=fields.STORED(),
        title=fields.TEXT(analyzer=french, stored=True),
        lede=fields.TEXT(analyzer=french, stored=True),
        body=fields.TEXT(analyzer=french, stored=True),
        date=_unindexed(fields.DATETIME(sortable=True)),
        source=fields.STORED(),
        source_id=fields.ID(),
        url=fields.STORED(),
        author=fields.STORED(),
        dupkeys=fields.COLUMN(duplicate_column()),
        **gram_fields(french, ("title", "lede", "body")),
    )
    for _, fieldtype in schema.items():  # the text and bigram fields: positions as varints (postingformat.py)
        if type(fieldtype.format) is formats.Positions:
            fieldtype.format = CompactPositions(field_boost=fieldtype.format.field_boost)
    return schema


@dataclass
class IndexReport:
    """What one indexing run did; ``problems`` holds one entry per failure, or per
    several (``BadArticle.count``) where a file's many bad lines are summed up."""

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


def _storage(path: Path) -> FileStorage:
    """The storage every index in ``path`` is read and written through: the one
    place a test substitutes another (one whose writes fail, say)."""
    return MappedStorage(path)


def _os_reason(exc: OSError) -> str:
    """The system's words for a failure, and the file it concerns."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason} ({os.path.basename(exc.filename)})" if exc.filename else reason


def open_index(path: Path) -> index.Index:
    """Open an existing index, translating Whoosh's failures into ours."""
    if not path.is_dir():
        raise IndexNotFound(path)
    try:
        storage = _storage(path)
        if latest_generation(storage, INDEX_NAME) < 0:
            raise IndexNotFound(path)
        return storage.open_index(INDEX_NAME)
    except EmptyIndexError as exc:
        raise IndexNotFound(path) from exc
    except PermissionError as exc:
        raise IndexCorrupt(path, "permission denied") from exc
    except NewsearchError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged table of contents fails in many ways inside Whoosh
        raise IndexCorrupt(path, str(exc) or type(exc).__name__) from exc


def verify_index(path: str | os.PathLike[str]) -> Verification:
    """Read every file of the index in ``path`` and compare it with the size
    and checksum recorded when it was committed.

    Raises ``IndexCorrupt`` naming the first damaged, truncated or missing
    file, ``IndexNotFound`` if there is no index. An index last committed
    before checksums were recorded cannot be verified: the result says
    ``verified=False``, and the next ``newsearch index`` records them (see
    :func:`~searchengine.whooshformat.verify_files`).
    """
    from .duplicates import verify_groups
    from .glued import verify_glued

    verification = verify_files(path, INDEX_NAME)
    verify_glued(path, INDEX_NAME, verification.generation)
    verify_groups(path, INDEX_NAME, verification.generation)
    return verification


def _create_index(path: Path) -> index.Index:
    """An index to build from nothing in ``path``: until its first commit, the
    folder keeps the old index, if any (see :class:`~searchengine.whooshformat.NewIndex`)."""
    if path.exists() and not path.is_dir():
        raise IndexWriteError(path, "it is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexWriteError(path, _os_reason(exc)) from exc
    return NewIndex(_storage(path), make_schema(), INDEX_NAME)


def _has_index(path: Path) -> bool:
    """Whether ``path`` holds a committed table of contents (readable or not)."""
    return path.is_dir() and latest_generation(_storage(path), INDEX_NAME) >= 0


def _own_file(name: str) -> bool:
    """Whether a file name is one the index writes, not one someone else put in the folder."""
    return is_index_file(name, INDEX_NAME)


def _key(file: str, record: str) -> str:
    return f"{file}\x1f{record}"


def _signature(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _printable(text: str) -> str:
    """``text`` as valid Unicode: the undecodable bytes of a file name
    (``os.fsdecode``'s surrogates) as ``\\xNN``, other lone surrogates as ``\\uNNNN``."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_text(name: str, text: str) -> None:
    """Whoosh encodes every indexed word as UTF-8; the writer would fail at commit,
    for the whole run, on a lone surrogate (a JSON ``\\ud800``). Refuse it here, for
    this article alone."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"its {name} holds U+{ord(text[exc.start]):04X} at character {exc.start + 1}, "
            "a lone surrogate, not a character"
        ) from None


def _document(article: Article, key: str, fingerprint: str, signature: str,
              dupkeys: bytes = b"") -> dict[str, object]:
    """The fields of one article's document. ``key`` and ``state`` keep a file
    name's undecodable bytes (surrogates) exactly, so the next run recognises
    the file; the fields shown to users get a printable form of them.
    ``dupkeys``: the body's duplicate keys (:func:`~searchengine.duplicates.duplicate_keys`),
    empty for none or where the schema has no column for them (an index built
    before it). Raises ValueError for text that cannot be indexed."""
    for name in ("title", "lede", "body", "source", "url", "author"):
        _check_text(name, getattr(article, name))
    state = "\x1f".join((key, fingerprint, signature)).encode("utf-8", "surrogatepass")
    doc: dict[str, object] = {
        "key": _printable(key),
        "state": state,
        "id": _printable(article.id),
        "path": _printable(article.path),
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
    if dupkeys:
        doc[DUPLICATE_COLUMN] = dupkeys
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
        for docnum, raw in enumerate(segment_column(writer.storage, segment, "state", column_type)):
            if raw and not segment.is_deleted(docnum):
                key, fingerprint, signature = raw.decode("utf-8", "surrogatepass").rsplit("\x1f", 2)
                known.state[key] = (fingerprint, signature)
                known.docnums[key].append(base + docnum)
        base += segment.doc_count_all()
    return known


def merge_small_segments(writer: writing.SegmentWriter, segments: list[Segment]) -> list[Segment]:
    """The merge policy of incremental runs: Whoosh's, bounded.

    Whoosh's own policy (``MERGE_SMALL``) now and then merges every segment
    into one, so that one small update in many rewrites the whole index (265 s
    on OrangeSum grown in 19 runs, on a busy machine, for a 0.5 s update:
    merging costs several times what indexing does, a posting at a time). Here segments are
    grouped by size class (under 10, 100, 1,000 documents); once
    ``MERGE_FACTOR`` segments of one class have piled up, the smallest of
    them are merged into the run's new segment, as many as make fewer than
    ``MERGE_MAX_DOCS`` documents, the smallest class first, one class a run.
    So a run merges fewer than ``MERGE_MAX_DOCS`` documents; segments that
    size or bigger stay as they are (with their deleted documents) until
    ``--rebuild``.
    """
    classes: dict[int, list[Segment]] = defaultdict(list)
    for segment in segments:
        count = segment.doc_count_all()
        if count < MERGE_MAX_DOCS:
            classes[len(str(count))].append(segment)
    for size in sorted(classes):
        if len(classes[size]) < MERGE_FACTOR:
            continue
        group: list[Segment] = []
        total = 0
        for segment in sorted(classes[size], key=lambda s: s.doc_count_all()):
            if total + segment.doc_count_all() >= MERGE_MAX_DOCS:
                break
            group.append(segment)
            total += segment.doc_count_all()
        if len(group) < 2:
            continue
        for segment in group:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
        merged = {id(segment) for segment in group}
        return [segment for segment in segments if id(segment) not in merged]
    return segments


def _pause(point: str, count: int = 1) -> None:
    """The test-only pause (see the module docstring): at ``point`` (and its
    ``count``-th time, for ``added``), write the marker and wait for its removal."""
    name, _, at = _PAUSE.partition(":")
    if name != point or int(at or 1) != count:
        return
    marker = Path(os.environ["NEWSEARCH_TEST_MARKER"])
    marker.write_text(str(os.getpid()), encoding="ascii")
    end = time.monotonic() + _PAUSE_DEADLINE
    while marker.exists():  # the test removes it (or kills this process): a hook, polled with a deadline
        if time.monotonic() > end:
            raise RuntimeError(f"the test pause at {point!r} was not released within {_PAUSE_DEADLINE:.0f} s")
        time.sleep(0.01)


def _lock(ix: index.Index, path: Path, wait: float) -> LockBase:
    """The index's write lock, waited for up to ``wait`` seconds."""
    lock = ix.lock("WRITELOCK")
    try:
        acquired = try_for(lock.acquire, timeout=wait, delay=0.25)
    except OSError as exc:
        raise IndexWriteError(path, _os_reason(exc)) from exc
    if not acquired:
        raise IndexLocked(path)
    return lock


def _writer(ix: index.Index, jobs: int, memory_mb: int) -> FastWriter:
    """A writer for a run that holds the lock already."""
    from .fastwriter import FastWriter, ParallelWriter

    if jobs > 1:
        writer: FastWriter = ParallelWriter(ix, procs=jobs, limitmb=memory_mb, lock=False)
    else:
        writer = FastWriter(ix, limitmb=memory_mb, lock=False)
    if _PAUSE.startswith("toc"):
        writer.before_toc = lambda: _pause("toc")
    return writer


def _abandon(writer: FastWriter | None, storage: FileStorage, before: set[str]) -> None:
    """Undo a run that failed before its commit: stop the writer (and its worker
    processes), then delete what the run wrote (segment files, a table of
    contents it had begun, temporary runs), so that a full disk is not left
    full, and the folder holds what the last commit left in it. Files that
    were there before the run, or that are not the index's, stay."""
    if writer is not None and not writer.is_closed:
        try:
            writer.cancel()
        except (OSError, IndexingError):
            pass  # closing flushes buffers, which a full disk refuses again: the files go below
    written = set(storage.list()) - before
    if writer is not None and toc_filename(INDEX_NAME, writer.generation) in written:
        return  # the run failed after its commit, which is the index now
    for name in written:
        if _own_file(name):
            try:
                storage.delete_file(name)
            except OSError:
                pass  # gone already, or the folder became unwritable: the next commit deletes it
    shutil.rmtree(os.path.join(storage.folder, f"{INDEX_NAME}.tmp"), ignore_errors=True)


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
    could not be read, or an article that could not be indexed, keeps what
    the index had of it. ``rebuild`` writes a new index without reading the
    old one, whatever its state.

    Raises :class:`IndexLocked`, :class:`IndexCorrupt` (an incremental run
    over an index that cannot be read) or :class:`IndexWriteError`; after
    any failure, or an interruption, the folder is as the last commit left it.
    """
    # Imported here, not above: a query opens the index without loading the indexer.
    from .articles import find_files, read_file
    from .fastwriter import collecting_rarely

    started = time.perf_counter()
    path = Path(index_dir)
    report = IndexReport()

    def problem(exc: BadArticle) -> None:
        report.failed += exc.count
        report.problems.append(exc)
        if on_problem:
            on_problem(exc)

    given = [Path(p) for p in paths]
    roots = [os.path.abspath(p) for p in given]
    files = list(find_files(given, problem))
    exists = _has_index(path)
    if not files and not exists:
        # Nothing to index (a mistyped path, say): no empty index that would
        # later answer "no match" where "no index" is the truth.
        report.seconds = time.perf_counter() - started
        return report
    ix = _create_index(path) if rebuild or not exists else open_index(path)
    storage = ix.storage
    lock = _lock(ix, path, wait)
    writer: FastWriter | None = None
    try:
        before = set(storage.list())
        try:
            writer = _writer(ix, jobs, memory_mb)
            with collecting_rarely():
                current = _KnownState() if rebuild else _read_known_state(writer, path)
                _write_changes(writer, current, files, roots, fields, report, problem, progress, read_file,
                               DUPLICATE_COLUMN in writer.schema)
                if _PAUSE:
                    _pause("commit")
                writer.commit(mergetype=writing.CLEAR if rebuild else merge_small_segments)
                if _PAUSE:
                    _pause("committed")
                _after_commit(path)
        except BaseException:
            _abandon(writer, storage, before)
            raise
    except OSError as exc:
        raise IndexWriteError(path, _os_reason(exc)) from exc
    except (IndexingError, StorageError) as exc:
        raise IndexWriteError(path, str(exc) or type(exc).__name__) from exc
    finally:
        lock.release()
    report.seconds = time.perf_counter() - started
    return report


def _after_commit(path: Path) -> None:
    """What needs the committed collection as a whole: its glued words and its groups of duplicates."""
    from .duplicates import write_groups
    from .glued import write_glued
    from .scoring import IndexArrays

    ix = open_index(path)
    with ix.searcher() as searcher:
        write_glued(path, INDEX_NAME, searcher, ix.schema["body"].analyzer)
        write_groups(path, INDEX_NAME, searcher, IndexArrays(searcher).live)


def _read_known_state(writer: FastWriter, path: Path) -> _KnownState:
    """:func:`_known_state`, a segment that cannot be read making the index corrupt."""
    try:
        return _known_state(writer)
    except OSError as exc:
        raise IndexCorrupt(path, f"a segment cannot be read: {_os_reason(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - a damaged segment fails in many ways inside Whoosh
        raise IndexCorrupt(path, f"a segment cannot be read: {str(exc) or type(exc).__name__}") from exc


class _ReadFile(Protocol):
    """:func:`~searchengine.articles.read_file`, passed in so that a query need not import it."""

    def __call__(self, path: Path, fields: Mapping[str, str] | None = None, *,
                 on_problem: Callable[[BadArticle], None]) -> Iterable[Article]: ...


def _write_changes(
    writer: FastWriter,
    current: _KnownState,
    files: list[Path],
    roots: list[str],
    fields: Mapping[str, str] | None,
    report: IndexReport,
    problem: Callable[[BadArticle], None],
    progress: Callable[[Progress], None] | None,
    read_file: _ReadFile,
    duplicates: bool,
) -> None:
    """Add, replace and delete documents so the writer holds what ``files`` say;
    ``duplicates``: with each article's duplicate keys (the schema has their column)."""
    known = current.state
    by_file: dict[str, set[str]] = defaultdict(set)
    for key in known:
        by_file[key.split("\x1f", 1)[0]].add(key)
    articles_seen = 0
    written = 0

    queued: list[tuple[Article, str, str, str, tuple[str, str] | None]] = []
    """Changed articles of the current file not yet written: their duplicate
    keys are computed together. All are written before the file's last
    article is stored (its signature is given only if every other article of
    the file was written), and that one before the file's removed articles
    are deleted (only if all of it was)."""

    def store(article: Article, key: str, signature: str) -> None:
        """Queue what changed; ``signature`` is the file's for its last article only."""
        before = known.get(key)
        try:
            fingerprint = article.fingerprint
        except (OSError, IndexingError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - as in write_queued
            where = f"article {_printable(article.id)!r}: " if article.record else ""
            problem(BadArticle(_printable(article.path), f"{where}cannot be indexed: {exc}"))
            return
        if before is not None and before[0] == fingerprint and not (signature and before[1] != signature):
            report.unchanged += 1
            return
        queued.append((article, key, fingerprint, signature, before))
        if len(queued) >= _KEY_BATCH:
            write_queued()

    def write_queued() -> None:
        """Write the queued articles in order. An article that cannot be written
        costs itself only (the index keeps what it had of it); a failure of the
        writer or the disk ends the run."""
        nonlocal written
        keys = duplicate_keys([article.body for article, *_ in queued]) if duplicates else [b""] * len(queued)
        for (article, key, fingerprint, signature, before), dupkeys in zip(queued, keys, strict=True):
            try:
                writer.add_document(**with_grams(getattr(writer, "schema", None),
                                                 _document(article, key, fingerprint, signature, dupkeys)))
            except (OSError, IndexingError, MemoryError):
                raise
            except Exception as exc:  # noqa: BLE001 - whatever Whoosh's fields make of one article's values
                where = f"article {_printable(article.id)!r}: " if article.record else ""
                problem(BadArticle(_printable(article.path), f"{where}cannot be indexed: {exc}"))
                continue
            if before is None:
                report.added += 1
            else:
                if before[0] == fingerprint:
                    report.unchanged += 1
                else:
                    report.updated += 1
                current.delete(writer, key)
            written += 1
            if _PAUSE:
                _pause("added", written)
        queued.clear()

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
            write_queued()
            if pending:
                # The file's signature goes with its last article only, so that a
                # changed file rewrites only its changed articles. A file with
                # problems gets none: the next run reads it again and reports them.
                store(*pending, signature if report.failed == failures else "")
                write_queued()
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
