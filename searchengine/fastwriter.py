"""A Whoosh segment writer that does less work per posting.

Whoosh's ``SegmentWriter`` turns every token into an object, every posting into
a tuple for an external merge sort (pickled one by one to disk when memory runs
out), and at commit looks up each posting's field length on disk. For text
fields analysed by :class:`~searchengine.analysis.FrenchAnalyzer` this writer
instead groups a document's terms in one pass
(:meth:`~searchengine.analysis.FrenchAnalyzer.term_positions`), keeps postings in memory grouped
by field and term (spilling sorted runs of whole posting lists to disk past
``limitmb``), and writes each term's postings whole at commit.

The files are those of Whoosh's W3 codec, read by stock Whoosh: the same terms,
postings, weights, positions, lengths and statistics, written through
:mod:`~searchengine.whooshformat` (posting lists, and the TOC with its
checksums). The stored values of the text fields (and paths, urls, authors)
go to the segment's stored-text file instead (:mod:`~searchengine.storedtext`,
:class:`_TextsApart`), merges included, and each segment's id table
(:mod:`~searchengine.idtable`) is written from its ``id`` column, ids having
no terms. Segments, deletions and merges are ``SegmentWriter``'s own, and the
commit writes the new TOC last, so a killed run leaves the last committed
index. :class:`ParallelWriter` shares the work with worker processes.

As subclasses, the writers use what ``SegmentWriter`` keeps for subclasses
(its ``_check_state``, ``_added``, ``_tempstorage``, steps of its commit), and
no other Whoosh internals: those are :mod:`~searchengine.whooshformat`'s.
"""

from __future__ import annotations

import ctypes
import gc
import heapq
import multiprocessing
import os
import queue
import signal
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from operator import itemgetter
from pickle import HIGHEST_PROTOCOL, dump, load
from typing import Any, Literal, Protocol, TypeVar, cast

from whoosh import fields as wfields
from whoosh.codec.base import PerDocumentWriter, Segment
from whoosh.filedb.filestore import Storage
from whoosh.index import Index
from whoosh.reading import IndexReader
from whoosh.util import random_name
from whoosh.writing import IndexingError, SegmentWriter

from . import whooshformat
from .analysis import FrenchAnalyzer
from .commongrams import CommonGrams
from .scoring import B
from .storedtext import StoredTextWriter
from .whooshformat import FlatPostings

__all__ = ["FastWriter", "ParallelWriter", "collecting_rarely"]

# Rough bytes of memory per term (dict slot, key, list) and per posting (three
# list slots): what --memory counts.
_TERM_BYTES = 200
_POSTING_BYTES = 27
_BYTES_OBJECT = 33

_PR_SET_PDEATHSIG = 1
_NUMBERS_CACHED = 10_000
_APART = ("path", "url", "author")
"""Stored fields that go with the texts to the stored-text file, besides the
analysed ones: a path is the same long string for every article of a file
(Whoosh deflates each document alone, so it kept it whole each time), and urls
and authors repeat too. Ids (in their column) and sources (in Whoosh's stored
fields) stay out, where folding, facets and ids read them without the texts."""
_RUN_CHUNK = 1024
"""Terms pickled together in a spilled run: one pickle call per chunk, not per term."""


TermPostings = tuple[str, bytes, FlatPostings]
"""One term's postings: (field name, term bytes, flat postings)."""
_Indexed = list[tuple[bytes, int, float, bytes | None]]
"""What ``FieldType.index`` makes of a value: (term bytes, frequency, weight, value bytes) each."""

MergePolicy = Callable[[SegmentWriter, list[Segment]], list[Segment]]
"""What ``commit(mergetype=...)`` takes: the segments to keep, given the
writer (into which it adds those it merges) and the index's segments."""
_Batch = list[dict[str, object]]
"""Documents sent to a worker at once, each as ``add_document``'s keywords."""
_Result = tuple[Literal["segment"], Segment | None] | tuple[Literal["error"], str]
"""What a worker hands back: its segment (None if it got no document), or its error."""
_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class _Timed(Protocol[_T_co]):
    """A queue operation with a timeout in seconds (``get``, or a bound ``put``)."""

    def __call__(self, *, timeout: float) -> _T_co: ...


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """Run the cyclic garbage collector rarely. Indexing keeps millions of
    small lists alive (the posting buffer, the analyser's caches) that every
    full collection would walk again for nothing: about a tenth of the time."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _fast_field(field: wfields.FieldType) -> bool:
    """Text fields whose postings :meth:`PostingBuffer.add_positions` can make."""
    return (
        field.indexed
        and whooshformat.plain_positions(field)
        and isinstance(getattr(field, "analyzer", None), (FrenchAnalyzer, CommonGrams))
        and type(field).index is wfields.FieldType.index
    )



def _term_positions(analyzer: FrenchAnalyzer | CommonGrams, text: str,
                    words: dict[int, tuple[FrenchAnalyzer | CommonGrams, dict[str, list[int]]]]
                    ) -> dict[str, list[int]]:
    """``analyzer.term_positions(text)``. A bigram field's text is also its
    text field's (sorted first: ``body`` < ``body_grams``): its bigrams are
    paired from the terms analysed there (kept in ``words`` by the text's
    identity), not from a second analysis."""
    if isinstance(analyzer, CommonGrams):
        known = words.get(id(text))
        if known is not None and known[0] is analyzer.analyzer:
            return analyzer.from_positions(known[1])
        return analyzer.term_positions(text)
    found = analyzer.term_positions(text)
    words[id(text)] = (analyzer, found)
    return found


class _TextsApart:
    """A segment's per-document writer that keeps the stored values of some
    text fields out of Whoosh's stored column and writes them to the
    segment's stored-text file (:mod:`~searchengine.storedtext`), for every
    way a document comes in: added here, by Whoosh's own ``add_document``, or
    copied by a merge."""

    def __init__(self, perdoc: PerDocumentWriter, texts: StoredTextWriter) -> None:
        self._perdoc = perdoc
        self._texts = texts
        self._fields = frozenset(texts.fieldnames)
        self._docnum = 0
        self._values: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._perdoc, name)

    def start_doc(self, docnum: int) -> None:
        self._perdoc.start_doc(docnum)
        self._docnum = docnum
        self._values = {}

    def add_field(self, fieldname: str, fieldobj: wfields.FieldType, value: object, length: int) -> None:
        if fieldname in self._fields and isinstance(value, str):
            self._values[fieldname] = value
            value = None
        self._perdoc.add_field(fieldname, fieldobj, value, length)

    def finish_doc(self) -> None:
        self._perdoc.finish_doc()
        self._texts.add(self._docnum, self._values)
        self._values = {}

    def cancel_doc(self) -> None:
        self._perdoc.cancel_doc()
        self._values = {}

    def close(self) -> None:
        self._perdoc.close()
        self._texts.close()


class PostingBuffer:
    """The postings of one segment, grouped by field and term.

    Each term has one flat list, ``[docnum, weight, value, docnum, ...]`` in
    document order: one list operation per posting. In memory up to
    ``limitmb``, then spilled to a sorted run on disk; runs hold whole posting
    lists, so a spill costs one record per term rather than one per posting.
    Also takes ``PostingPool.add`` items, as merged segments come in.
    """

    def __init__(self, tempstore: Storage, limitmb: float, text_fields: set[str]) -> None:
        self.tempstore = tempstore
        self.limit = limitmb * 2**20
        self.text_fields = text_fields
        """Fields keyed by term text rather than UTF-8 bytes (encoded when written)."""
        self.fields: dict[str, dict[str | bytes, FlatPostings]] = {}
        self.size = 0
        self.runs: list[str] = []

    def _terms(self, fieldname: str) -> dict[str | bytes, FlatPostings]:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        return terms

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """One posting: (fieldname, term bytes, docnum, weight, value bytes)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        terms = self._terms(fieldname)
        key = tbytes.decode("utf-8") if fieldname in self.text_fields else tbytes
        postings = terms.get(key)
        if postings is None:
            postings = terms[key] = []
            self.size += _TERM_BYTES
        postings += (docnum, weight, vbytes or b"")
        self.size += _POSTING_BYTES + (_BYTES_OBJECT + len(vbytes) if vbytes else 0)
        if self.size > self.limit:
            self.spill()

    def add_positions(self, fieldname: str, docnum: int, positions: Mapping[str, list[int]]) -> int:
        """The postings of one document's field, from the analyser's ``term_positions``
        (weight: the term's count, as ``formats.Positions`` with no boost);
        returns the field's length (its number of terms)."""
        terms = self._terms(fieldname)
        found = terms.get
        one = whooshformat.ONE_POSITION.get
        encode = whooshformat.encode_positions
        size = _POSTING_BYTES * len(positions)
        for term, where in positions.items():
            postings = found(term)
            if postings is None:
                postings = terms[term] = []
                size += _TERM_BYTES
            # An int weight is a shared object; Whoosh's float(count) is the same number.
            if len(where) == 1:
                postings += (docnum, 1, one(where[0]) or encode(where))
            else:
                vbytes = encode(where)
                size += _BYTES_OBJECT + len(vbytes)
                postings += (docnum, len(where), vbytes)
        self.size += size
        if self.size > self.limit:
            self.spill()
        return sum(map(len, positions.values()))

    def _sorted(self) -> Iterator[TermPostings]:
        for fieldname in sorted(self.fields):
            if fieldname in self.text_fields:
                text = cast("dict[str, FlatPostings]", self.fields[fieldname])
                for key in sorted(text):  # code point order is UTF-8 byte order
                    yield fieldname, key.encode("utf-8"), text[key]
            else:
                terms = cast("dict[bytes, FlatPostings]", self.fields[fieldname])
                for tbytes in sorted(terms):
                    yield fieldname, tbytes, terms[tbytes]

    def spill(self) -> None:
        """Write the buffered postings to a new sorted run and empty the buffer."""
        name = f"{random_name()}.run"
        records = self._sorted()
        with self.tempstore.create_file(name).raw_file() as fh:
            while chunk := list(islice(records, _RUN_CHUNK)):
                dump(chunk, fh, HIGHEST_PROTOCOL)
        self.runs.append(name)
        self.fields = {}
        self.size = 0

    def _read_run(self, name: str) -> Iterator[TermPostings]:
        with self.tempstore.open_file(name).raw_file() as fh:
            while True:
                try:
                    chunk = load(fh)
                except EOFError:
                    break
                yield from chunk
        self.tempstore.delete_file(name)

    def postings(self) -> Iterator[TermPostings]:
        """Each term's postings by field and term, in document order (runs
        are in document order)."""
        if not self.runs:
            yield from self._sorted()
            return
        sources = [self._read_run(name) for name in self.runs] + [self._sorted()]
        merged = heapq.merge(*sources, key=itemgetter(0, 1))
        current = next(merged, None)
        if current is None:
            return
        for item in merged:
            if item[0] == current[0] and item[1] == current[1]:
                current[2].extend(item[2])
            else:
                yield current
                current = item
        yield current

    def cleanup(self) -> None:
        for name in self.runs:
            try:
                self.tempstore.delete_file(name)
            except OSError:
                pass
        self.runs = []
        self.fields = {}


class FastWriter(SegmentWriter):
    """A ``SegmentWriter`` with a faster path for our text fields (see the module).

    ``lock=False`` is for a caller that holds the index's write lock already.
    """

    before_toc: Callable[[], None] | None = None
    """Called at commit once every segment is written, before the TOC that
    makes them the index (a test stops a run there)."""

    def __init__(self, ix: Index, limitmb: float = 128, lock: bool = True, **kwargs: Any) -> None:
        whooshformat.check_whoosh(ix.storage.folder)
        super().__init__(ix, limitmb=limitmb, _lk=lock, **kwargs)
        if not whooshformat.writes_w3(self.codec):
            self.cancel()
            raise IndexingError(f"FastWriter writes the W3 codec, not {self.codec!r}")
        if any(f.vector or f.separate_spelling() for _, f in self.schema.items()):
            self.cancel()
            raise IndexingError("FastWriter does not write term vectors or spelling fields")
        self._fast = {name for name, f in self.schema.items() if _fast_field(f)}
        texts = sorted({name for name in self._fast if self.schema[name].stored}
                       | {name for name in _APART if name in self.schema and self.schema[name].stored})
        if texts:
            perdoc: PerDocumentWriter = getattr(self, "perdocwriter")  # noqa: B009 - typed here, not by Whoosh
            self.perdocwriter = _TextsApart(
                perdoc, whooshformat.stored_text_writer(self.storage, self.get_segment(), texts))
        self.pool = PostingBuffer(self._tempstorage, limitmb, self._fast)
        self._numbers: dict[tuple[str, Hashable], _Indexed] = {}
        """Whoosh indexes a number or a date as several terms, computed in Python; news dates repeat."""

    def _index_number(self, name: str, field: wfields.NUMERIC, value: Hashable) -> _Indexed:
        postings = self._numbers.get((name, value))
        if postings is None:
            postings = list(field.index(value))
            if len(self._numbers) >= _NUMBERS_CACHED:
                self._numbers.clear()
            self._numbers[name, value] = postings
        return postings

    def add_document(self, **fields: object) -> None:
        if any(name.startswith("_") for name in fields):
            # Boosts and custom stored values: Whoosh's own path handles them.
            super().add_document(**fields)
            return
        self._check_state()
        schema = self.schema
        names = sorted(fields)
        self._check_fields(schema, names)
        pool = self.pool
        docnum = self.docnum
        # Analyse everything first: a value that fails leaves nothing behind.
        analysed: list[tuple[str, wfields.FieldType, object, dict[str, list[int]] | _Indexed | None]] = []
        words: dict[int, tuple[FrenchAnalyzer | CommonGrams, dict[str, list[int]]]] = {}
        for name in names:
            value = fields[name]
            if value is None:
                continue
            field = schema[name]
            if name in self._fast and isinstance(value, str):
                analysed.append((name, field, value, _term_positions(field.analyzer, value, words)))
            elif field.indexed and isinstance(field, wfields.NUMERIC) and isinstance(value, Hashable):
                analysed.append((name, field, value, self._index_number(name, field, value)))
            elif field.indexed:
                analysed.append((name, field, value, list(field.index(value))))
            else:
                analysed.append((name, field, value, None))
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        try:
            for name, field, value, postings in analysed:
                length = 0
                if isinstance(postings, dict):
                    length = pool.add_positions(name, docnum, postings)
                elif postings is not None:
                    for tbytes, freq, weight, vbytes in postings:
                        length += freq
                        pool.add((name, tbytes, docnum, weight, vbytes))
                perdoc.add_field(name, field, value if field.stored else None,
                                 length if field.scorable else 0)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader: IndexReader) -> None:
        """Merge segments, their stored texts copied with their other stored fields."""
        for leaf, _ in reader.leaf_readers():
            super().add_reader(whooshformat.with_stored_texts(leaf))

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader()
        try:
            fieldwriter = self.fieldwriter
            scores = whooshformat.score_list_writer(self.storage, self.get_segment(), B)
            current: whooshformat.PostingListWriter | None = None
            for fieldname, tbytes, postings in self.pool.postings():
                if current is None or fieldname != current.fieldname:
                    if current is not None:
                        current.finish()
                    if fieldname not in self.schema:
                        raise IndexingError(f"postings for unknown field {fieldname!r}")
                    current = whooshformat.PostingListWriter(fieldwriter, fieldname, self.schema[fieldname],
                                                             whooshformat.field_lengths(pdr, fieldname), scores)
                current.write(tbytes, postings)
            if current is not None:
                current.finish()
            fieldwriter.close()
            scores.close()
            if whooshformat.ids_in_tables(self.schema):
                whooshformat.write_ids(self.storage, self.get_segment(), pdr, self.schema["id"].column_type)
        finally:
            pdr.close()

    def _commit_toc(self, segments: list[Segment]) -> None:
        """The one commit of every newsearch writer: checksums, then the TOC."""
        if self.before_toc is not None:
            self.before_toc()
        whooshformat.commit_toc(self.storage, self.indexname, self.schema, segments, self.generation)

    def finish_segment(self) -> Segment | None:
        """Write this writer's segment and close it, without a commit (a worker
        hands it to the writer that commits): the segment, or None if no
        document was added."""
        if self._added:
            return self._finalize_segment()
        self._close_segment()
        return None

    def discard_segment(self) -> None:
        """Close this writer's segment files, and drop its buffered postings,
        without writing the segment (a worker giving up; the files it wrote
        are deleted by the run that failed)."""
        self._close_segment()


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies (Linux). A parent
    killed while sending a batch leaves it half-written in the pipe, and a
    worker blocked reading the rest would hold the index's lock for ever."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the worker polls for its parent instead
        pass
    if os.getppid() != parent:
        os._exit(1)


def _worker(ix: Index, writerargs: dict[str, Any], jobs: Queue[_Batch | None], results: Queue[_Result],
            parent: int) -> None:
    """One worker of a :class:`ParallelWriter`: index batches until told to stop,
    then hand back the finished segment (or the error). It gets the parent's
    index object, not a folder to open: a first build has no table of contents
    on disk until it commits."""
    _die_with_parent(parent)
    writer = None
    gc.set_threshold(100_000, 50, 100)  # as collecting_rarely(), for this whole process
    try:
        writer = FastWriter(ix, lock=False, **writerargs)
        while True:
            try:
                batch = jobs.get(timeout=0.5)
            except queue.Empty:
                if os.getppid() != parent:  # the parent was killed: give up quietly
                    writer.discard_segment()
                    return
                continue
            if batch is None:
                break
            for fields in batch:
                writer.add_document(**fields)
        results.put(("segment", writer.finish_segment()))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        if writer is not None and not writer.perdocwriter.is_closed:
            try:
                writer.discard_segment()
            except OSError:  # a full disk refuses the flush again; the parent deletes the files
                pass
        results.put(("error", f"{type(exc).__name__}: {exc}"))


class ParallelWriter(FastWriter):
    """Shares added documents between this process and ``procs - 1`` worker
    processes, each writing its own segment with a :class:`FastWriter`.

    Batches go to the workers while they keep up and are indexed here when
    they do not, so a busy machine degrades to one process rather than
    waiting. The commit (here) lists every new segment in one new TOC: until
    then the index is unchanged. Deletions and merges happen here, as in a
    plain writer.

    Two processes do about 10 % more work than one (each segment writes its
    own copy of the common vocabulary, each process warms its own analyser
    caches); reading and shipping the articles costs the parent
    about a tenth of its time. So two free cores index about 1.8 times as
    fast, but on a busy machine there is no gain: Linux (``sched_autogroup``)
    shares CPU time between sessions first, and workers stay in the caller's
    session, so ``procs`` processes get the same share of the machine as one.
    """

    def __init__(self, ix: Index, procs: int = 2, batchsize: int = 64, limitmb: float = 128,
                 **kwargs: Any) -> None:
        if procs < 2:
            raise ValueError(f"a ParallelWriter needs at least 2 processes, not {procs}")
        self._procs: list[BaseProcess] = []
        self._index = ix
        super().__init__(ix, limitmb=limitmb, **kwargs)
        context = multiprocessing.get_context()
        self._context = context
        self._workers = procs - 1
        self._jobs: Queue[_Batch | None] = context.Queue(2 * self._workers)
        # Never wait at exit to flush batches no worker will read (after a failure);
        # a commit has seen every worker take its last batch.
        self._jobs.cancel_join_thread()
        self._results: Queue[_Result] = context.Queue()
        self._batch: _Batch = []
        self._batchsize = batchsize
        self._limitmb = limitmb

    def add_document(self, **fields: object) -> None:
        self._check_state()
        self._batch.append(fields)
        if len(self._batch) >= self._batchsize:
            self._dispatch()

    def _dispatch(self) -> None:
        batch, self._batch = self._batch, []
        if len(self._procs) < self._workers:
            proc = self._context.Process(
                target=_worker, daemon=True,
                args=(self._index, {"limitmb": self._limitmb}, self._jobs, self._results, os.getpid()),
            )
            proc.start()
            self._procs.append(proc)
        self._raise_worker_error()
        try:
            self._jobs.put_nowait(batch)
        except queue.Full:
            for fields in batch:
                FastWriter.add_document(self, **fields)

    def _raise_worker_error(self) -> None:
        """Workers report before they are told to stop only when they fail."""
        try:
            _, error = self._results.get_nowait()
        except queue.Empty:
            return
        raise IndexingError(f"an indexing worker failed: {error}")

    def _wait_for(self, operation: _Timed[_T]) -> _T:
        """Retry a queue operation while some worker is alive."""
        while True:
            try:
                return operation(timeout=1)
            except (queue.Empty, queue.Full):
                if not any(proc.is_alive() for proc in self._procs):
                    self._raise_worker_error()
                    raise IndexingError("an indexing worker died") from None

    def _stop_workers(self) -> None:
        for fields in self._batch:
            FastWriter.add_document(self, **fields)
        self._batch = []
        for _ in self._procs:
            self._wait_for(lambda timeout: self._jobs.put(None, timeout=timeout))

    def _collect(self) -> list[Segment]:
        """The workers' segments, once they have written them."""
        results = [self._wait_for(self._results.get) for _ in self._procs]
        for proc in self._procs:
            proc.join()
        self._procs = []
        errors = [value for kind, value in results if kind == "error"]
        if errors:
            raise IndexingError(f"an indexing worker failed: {errors[0]}")
        return [value for _, value in results if value is not None]

    def commit(self, mergetype: MergePolicy | None = None, optimize: bool | None = None,
               merge: bool | None = None) -> None:
        self._check_state()
        self._stop_workers()
        # This process's own segment is written while the workers write theirs.
        super().commit(mergetype, optimize, merge)

    def _commit_toc(self, segments: list[Segment]) -> None:
        """This process's segments and the workers' in one TOC."""
        super()._commit_toc(segments + self._collect())

    def cancel(self) -> None:
        for proc in self._procs:
            proc.kill()
            proc.join()
        self._procs = []
        super().cancel()
