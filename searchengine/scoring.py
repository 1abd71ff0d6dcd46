"""Posting lists read whole into arrays, and BM25F computed over them at once.

Whoosh's matchers walk postings one document at a time in Python, so a query
of a few common words, which touches tens of thousands of postings, takes
tens of milliseconds before a single snippet is made. Here each posting list
is decoded block by block into NumPy arrays and scored in one vector
operation. The files are the ones Whoosh writes, read through
:mod:`~searchengine.whooshformat`, which knows their private layout.
An ``IndexArrays`` may be shared by many threads: its caches are filled
under a lock, and the files it reads have no shared position.

The score is BM25F as Robertson and Zaragoza define it, not Whoosh's sum of
one BM25 per field: a word's frequencies in the title and the body, each
weighted by its field's boost and normalised by that field's length, add up
before they saturate, so a word in both title and body is not counted twice
over. The idf is Lucene's, which keeps rare words further apart from common
ones than Whoosh's does.
"""

from __future__ import annotations

import datetime as dt
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, cast

import numpy as np
from whoosh.columns import NumericColumn
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from . import postingformat, whooshformat
from .scorelists import WINDOW, ScoreLists
from .whooshformat import Block, Inlined

if TYPE_CHECKING:
    from numpy.typing import NDArray

    DocIds: TypeAlias = NDArray[np.signedinteger[Any]]
    """Document numbers: int32 as read from postings, intp where NumPy computes them."""
    Floats: TypeAlias = NDArray[np.floating[Any]]
    """Numbers such as frequencies, lengths or scores: float32 as read, float64 where summed."""
    Mask: TypeAlias = NDArray[np.bool_]
    """A flag for every document of the index."""
    Column: TypeAlias = NDArray[np.number[Any]]
    """A numeric column's value for every document, in the column's own type."""

__all__ = ["B", "K1", "IndexArrays", "bm25_idf"]

V = TypeVar("V")

B = 0.75
K1 = 1.2
CACHED_POSTINGS = 4_000_000
"""Decoded postings kept per open index (8 bytes each)."""
CACHED_LIST_BYTES = 32 << 20
"""Bytes of posting lists (as stored, positions included) kept per open index."""
FEW = 32
"""Documents are few against a posting list (:meth:`IndexArrays.among`)
when this many times as many would still be fewer than its postings."""
CACHED_FREQUENCIES = 100_000
"""Document frequencies and block directories kept per open index (each)."""
_LENGTH_OF_BYTE = np.array([whooshformat.byte_to_length(b) for b in range(256)], dtype=np.float32)


def _agrees(leaf: Any, fieldname: str, term: str, ids: DocIds) -> bool:
    """Whether a score list's documents agree with the segment's term table
    (count, first, last): a damaged gap shifts every later document of the
    list onto others, the last one too; its W3 blocks are read instead."""
    try:
        info = leaf.term_info(fieldname, term)
    except TermNotFound:
        return False
    return bool(len(ids) == info.doc_frequency() and int(ids[0]) == info.min_id() and int(ids[-1]) == info.max_id())


class _Recent(Generic[V]):
    """A least-recently-used cache bounded by the summed sizes of its values,
    shared by threads: a value is read outside the lock (two threads may both
    read it; the first one kept is the one every later caller gets)."""

    def __init__(self, limit: int, size: Callable[[V], int]) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], V] = {}
        self._limit = limit
        self._size = size
        self.total = 0
        """The summed sizes of the values kept."""

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)

    def peek(self, key: tuple[str, str]) -> V | None:
        """The value kept for ``key``, if any, left where it is in the order:
        read without the lock (a value :meth:`get` is moving reads as absent)."""
        return self._values.get(key)

    def get(self, key: tuple[str, str], read: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``read()``'s, kept."""
        with self._lock:
            value = self._values.pop(key, None)
            if value is not None:
                self._values[key] = value
                return value
        fresh = read()
        with self._lock:
            value = self._values.pop(key, None)
            if value is None:  # else another thread read it meanwhile
                value = fresh
                self.total += self._size(value)
                while self.total > self._limit and self._values:
                    self.total -= self._size(self._values.pop(next(iter(self._values))))
            self._values[key] = value
        return value


def _stored_bytes(lists: list[tuple[int, int, Inlined | bytes]]) -> int:
    """What one term's stored lists count for in the cache of :meth:`IndexArrays._term_data`:
    their bytes, and 100 for each short list inlined in its term's entry and for the entry
    itself, so that terms found nowhere or in a few articles do not fill it unbounded."""
    return 100 + sum(len(data) if isinstance(data, bytes) else 100 for _, _, data in lists)


def bm25_idf(size: int, df: int) -> float:
    """Lucene's BM25 idf of a word held by ``df`` of ``size`` documents: the
    one formula every part of newsearch that scores uses."""
    return float(np.log(1 + (size - df + 0.5) / (df + 0.5)))


class IndexArrays:
    """The posting lists, field lengths and columns of one searcher, as arrays
    indexed by document number (all segments of the index, one after another).

    Safe to share between threads: the files are read without a shared
    position (:class:`~searchengine.whooshformat.MappedFile`), the LRU cache
    of posting lists is kept under a lock (decoding happens outside it), and
    the other caches are filled by single dictionary operations, each atomic.
    """

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size: int = self.reader.doc_count_all()
        self._leaves = [(leaf, offset) for leaf, offset in self.reader.leaf_readers()]
        self.live = np.ones(self.size, dtype=bool)
        for leaf, offset in self._leaves:
            if leaf.has_deletions():
                self.live[np.fromiter(leaf.deleted_docs_set, dtype=np.int64) + offset] = False
        self._lengths: dict[str, tuple[Floats, float]] = {}
        self._norms: dict[tuple[str, float], Floats] = {}
        self._dates: Column | None = None
        self._postings: _Recent[tuple[DocIds, Floats]] = _Recent(CACHED_POSTINGS, lambda read: len(read[0]))
        self._lists: _Recent[list[tuple[int, int, Inlined | bytes]]] = _Recent(CACHED_LIST_BYTES, _stored_bytes)
        self._frequencies: dict[tuple[str, str], int] = {}
        self._directories: dict[tuple[str, str, int], tuple[list[Block], DocIds]] = {}
        self._score_lists: list[ScoreLists | None] | None = None

    def doc_frequency(self, fieldname: str, term: str) -> int:
        """Cached: ranking asks for it several times a word, and each time is a
        look-up in every segment's term table."""
        key = (fieldname, term)
        found = self._frequencies.get(key)
        if found is None:
            if len(self._frequencies) >= CACHED_FREQUENCIES:
                self._frequencies.clear()
            found = self._frequencies[key] = self.reader.doc_frequency(fieldname, term)
        return found

    def postings(self, fieldname: str, term: str) -> tuple[DocIds, Floats]:
        """Document numbers (ascending) and term frequencies of one term.

        Kept in a small LRU cache: the words of news queries recur (names, the
        topics of the day), and decoding a common word's list costs more than
        the rest of the query.
        """
        return self._postings.get((fieldname, term), lambda: self._read_postings(fieldname, term))

    def _term_data(self, fieldname: str, term: str) -> list[tuple[int, int, Inlined | bytes]]:
        """For each segment holding ``term``: its first document number, its
        size, and its postings (see :func:`~searchengine.whooshformat.term_postings`).
        Kept in an LRU cache: a phrase checked in batches reads the lists of
        its words several times a query, and each read copies the whole list
        out of the file (800 KB for ``de la`` at ten times OrangeSum)."""
        return self._lists.get((fieldname, term), lambda: [
            (offset, leaf.doc_count_all(), data) for leaf, offset in self._leaves
            if (data := whooshformat.term_postings(leaf, fieldname, term)) is not None])

    def score_lists(self) -> list[ScoreLists | None]:
        """Each segment's score lists (:mod:`~searchengine.scorelists`), None
        for a segment without: read on first use, as a fresh process answering
        one rare word needs none."""
        found = self._score_lists
        if found is None:
            found = self._score_lists = [whooshformat.score_lists(leaf) for leaf, _ in self._leaves]
        return found

    def _read_postings(self, fieldname: str, term: str) -> tuple[DocIds, Floats]:
        """From each segment's score lists where they hold the term, else from its W3 blocks."""
        parts: list[tuple[DocIds, Floats]] = []
        for (leaf, offset), lists in zip(self._leaves, self.score_lists(), strict=True):
            listed = lists.postings(fieldname, term) if lists is not None else None
            if listed is not None and _agrees(leaf, fieldname, term, listed[0]):
                ids, weights = listed
                parts.append((ids + np.int32(offset) if offset else ids, weights))
                continue
            data = whooshformat.term_postings(leaf, fieldname, term)
            if data is None:
                continue
            some: list[int] = []
            stored: list[float] = []
            if isinstance(data, tuple):
                some.extend(data[0])
                stored.extend(data[1])
            else:
                whooshformat.decode(data, some, stored)
            parts.append((np.array(some, dtype=np.int32) + np.int32(offset),
                          np.array(stored, dtype=np.float32)))
        if not parts:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _postings_in(self, fieldname: str, term: str, docs: DocIds) -> Iterator[tuple[int, float, bytes]]:
        """(document, frequency, value) of ``term`` for those of ``docs`` (ascending)
        that hold it. Only the blocks holding one of ``docs`` are decompressed,
        which for a common word and a page of articles is a small share, and
        each of ``docs`` is found in its block by bisection: a phrase checks
        a tenth of the postings of the blocks it reads, or less. Where the
        term's document numbers are cached (the words ranking scored), only
        the blocks of the documents holding it are: half the blocks the
        rerank of a lede decompressed held none of its articles."""
        held = self._postings.peek((fieldname, term))
        if held is not None:
            if not len(listed := held[0]):
                return
            docs = docs[listed[np.minimum(np.searchsorted(listed, docs), len(listed) - 1)] == docs]
            if not len(docs):
                return
        for offset, size, data in self._term_data(fieldname, term):
            local = docs[(docs >= offset) & (docs < offset + size)] - offset
            if not len(local):
                continue
            if isinstance(data, tuple):
                wanted = set(local.tolist())
                for d, w, v in zip(*data, strict=True):
                    if d in wanted:
                        yield d + offset, w, v
                continue
            blocks, lasts = self._directory(fieldname, term, offset, data)
            # Each document's block, walked in Python: the rerank asks for ten
            # documents, where array calls cost more than the loop.
            numbers = np.searchsorted(lasts, local).tolist()
            wanted = local.tolist()
            i, count = 0, len(wanted)
            while i < count and (number := numbers[i]) < len(blocks):
                found, weights, values = whooshformat.block_postings(data, blocks[number])
                ids = list(found)
                at = 0
                while i < count and numbers[i] == number:
                    d = wanted[i]
                    i += 1
                    at = bisect_left(ids, d, at)
                    if at < len(ids) and ids[at] == d:
                        yield d + offset, weights[at], values[at]

    def _directory(self, fieldname: str, term: str, offset: int, data: bytes) -> tuple[list[Block], DocIds]:
        """The blocks of one term's list in one segment, and the last document
        of each, kept: the common words a page is reranked on recur in every query."""
        key = (fieldname, term, offset)
        found = self._directories.get(key)
        if found is None:
            if len(self._directories) >= CACHED_FREQUENCIES:
                self._directories.clear()
            blocks = whooshformat.block_index(data)
            found = self._directories[key] = blocks, np.array([block[1] for block in blocks], dtype=np.int64)
        return found

    def positions(self, fieldname: str, term: str, docs: DocIds) -> dict[int, list[int]]:
        """Where ``term`` stands in each of ``docs`` (ascending), for the ones holding it."""
        return {d: whooshformat.decode_positions(v) for d, _, v in self._postings_in(fieldname, term, docs)}

    def positions_of(self, fieldname: str, term: str, docs: DocIds) -> tuple[DocIds, DocIds]:
        """Where ``term`` stands in those of ``docs`` (ascending) that hold it,
        as two arrays: the document of each position, and the position, by
        document then position. Decoded together, in a few array operations
        (:func:`~searchengine.postingformat.positions_of`)."""
        found = list(self._postings_in(fieldname, term, docs))
        counts, where = postingformat.positions_of([value for _, _, value in found])
        return np.repeat(np.array([doc for doc, _, _ in found], dtype=np.int64), counts), where

    def among(self, fieldname: str, term: str, docs: DocIds) -> DocIds:
        """Those of ``docs`` (ascending) that hold ``term``. Where they are few
        against its list (:data:`FEW`), and the list is neither cached nor in
        score lists (which read fast), only the blocks holding them are read:
        a bigram's list, which no score list holds, costs a decompression per
        block to read whole (100,000 articles at ten times OrangeSum for ``de
        fair``), where a phrase's rarer word has left a few hundred. Else the
        whole list is searched for them, by bisection, or through a flag per
        document when they are many."""
        if (len(docs) * FEW < self.doc_frequency(fieldname, term) and (fieldname, term) not in self._postings
                and not any(lists is not None and lists.has(fieldname, term) for lists in self.score_lists())):
            return self.frequencies_in(fieldname, term, docs)[0]
        ids = self.postings(fieldname, term)[0]
        if not len(ids):
            return ids
        if len(docs) * 32 > self.size:
            flags = np.zeros(self.size, dtype=bool)
            flags[ids] = True
            held: DocIds = docs[flags[docs]]
            return held
        where = np.minimum(np.searchsorted(ids, docs), len(ids) - 1)
        held = docs[ids[where] == docs]
        return held

    def frequencies_in(self, fieldname: str, term: str, docs: DocIds) -> tuple[DocIds, Floats]:
        """:meth:`postings` restricted to ``docs`` (ascending): cheap for a
        stop word, whose full list holds nearly every article."""
        found = [(d, w) for d, w, _ in self._postings_in(fieldname, term, docs)]
        return (np.array([d for d, _ in found], dtype=np.int32),
                np.array([w for _, w in found], dtype=np.float32))

    def _field_lengths(self, fieldname: str) -> tuple[Floats, float]:
        """Each document's length in ``fieldname``, and their average: set
        together, so that no thread sees one without the other."""
        found = self._lengths.get(fieldname)
        if found is None:
            name, column_type = whooshformat.length_column(fieldname)
            lengths = _LENGTH_OF_BYTE[self._column(name, column_type).astype(np.intp)]
            found = self._lengths[fieldname] = (lengths, self.searcher.avg_field_length(fieldname) or 1.0)
        return found

    def lengths(self, fieldname: str) -> Floats:
        """Each document's length in ``fieldname``, quantised as Whoosh stores it."""
        return self._field_lengths(fieldname)[0]

    def _norm(self, fieldname: str, b: float) -> Floats:
        """BM25's length normalisation of every document in ``fieldname``."""
        norm = self._norms.get((fieldname, b))
        if norm is None:
            lengths, average = self._field_lengths(fieldname)
            norm = self._norms[fieldname, b] = (1 - b) + b * lengths / average
        return norm

    def idf(self, term: str, fieldnames: Sequence[str]) -> float:
        """Lucene's BM25 idf; the document frequency is the largest of the
        fields', as Lucene's CombinedFieldQuery counts it. Like Whoosh's
        frequencies, the count of documents includes deleted ones."""
        return bm25_idf(self.size, max((self.doc_frequency(f, term) for f in fieldnames), default=0))

    def bm25f(self, term: str, boosts: Mapping[str, float], docs: DocIds | None = None, *,
              k1: float = K1, b: float = B, within: Ranges | None = None,
              only: Mask | None = None) -> tuple[DocIds, Floats]:
        """The documents holding ``term`` in any of the fields of ``boosts``
        (only those of ``docs``, ascending, if given, or of the ranges
        ``within``, and of those only the ones ``only`` flags) and their
        scores. The fields' lists are merged by sorting when they are short,
        through an array over every document when they are long; either way a
        document's score is the same to the last bit. ``only`` is applied to
        each list before anything is computed: a phrase of common words keeps
        a fifth of its words' postings, or less."""
        found = []
        for fieldname, boost in boosts.items():
            ids, tf = self.postings(fieldname, term) if docs is None else self.frequencies_in(fieldname, term, docs)
            if not len(ids):
                continue
            # Kept when emptied: whether the fields are combined (in float64) depends
            # on the term, not on which documents are scored.
            if only is not None:  # first: it leaves the ranges' bisections a short list
                keep = np.flatnonzero(only[ids])  # taking by index is 3 times as fast as by flag
                ids, tf = ids.take(keep), tf.take(keep)
            if within is not None:
                keep = _in_ranges(ids, within)
                ids, tf = ids.take(keep), tf.take(keep)
            found.append((ids, boost * tf / self._norm(fieldname, b)[ids]))
        if not found:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        if len(found) == 1:
            ids, tf = found[0]
        elif within is not None or sum(len(some) for some, _ in found) * 8 < self.size:
            ids, where = _merged([some for some, _ in found])
            # With weights, bincount sums them as float64 (NumPy's stub says intp).
            tf = cast("Floats", np.bincount(where, weights=np.concatenate([weighted for _, weighted in found])))
        else:
            dense = np.zeros(self.size, dtype=np.float64)
            for some, weighted in found:
                # A list's documents are distinct, so as ``+=``, but faster (in float64 alone).
                np.add.at(dense, some, weighted.astype(np.float64))
            ids = np.flatnonzero(dense != 0)  # 4 times as fast as on the floats themselves
            tf = dense[ids]
        return ids, self.idf(term, list(boosts)) * tf * (k1 + 1) / (tf + k1)

    def window_bounds(self, fieldname: str, term: str, b: float) -> Floats:
        """For each window of :attr:`window` documents (document number //
        window, over the whole index), a bound on
        ``tf / norm`` of ``term`` in ``fieldname`` for the documents in it (0
        where none holds it): from the score lists where each segment holding
        the term has them for ``b``, else computed from the term's postings
        (:meth:`postings`, cached: ranking has read them already, where
        decoding the segment's score list again and checking it against the
        term table cost more than the bounds)."""
        window = self.window
        bounds = np.zeros(-(-self.size // window), dtype=np.float64)
        average = self._field_lengths(fieldname)[1]
        listed: tuple[DocIds, Floats] | None = None
        for (leaf, offset), lists in zip(self._leaves, self.score_lists(), strict=True):
            windows = lists.windows(fieldname, term) if lists is not None and lists.b == b else None
            if lists is not None and windows is not None:
                values = windows.maxima * max(1.0, average / windows.average)
                size = lists.window
                first = (offset + windows.numbers * size) // window
                spans = (offset + windows.numbers * size + size - 1) // window - first + 1
                where = np.repeat(first, spans) + np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans)
                keep = where < len(bounds)
                _maxima_into(bounds, where[keep], np.repeat(values, spans)[keep])
                continue
            ids, tf = listed = listed or self.postings(fieldname, term)
            inside = slice(*np.searchsorted(ids, [offset, offset + leaf.doc_count_all()]).tolist())
            ids, tf = ids[inside], tf[inside]
            _maxima_into(bounds, ids // window, tf.astype(np.float64) / self._norm(fieldname, b)[ids])
        return bounds

    @property
    def window(self) -> int:
        """Documents per window of :meth:`window_bounds`: those of the score lists, if any."""
        for lists in self.score_lists():
            if lists is not None:
                return lists.window
        return WINDOW

    def term_mask(self, fieldname: str, term: str) -> Mask:
        """Which documents hold ``term`` in ``fieldname``."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.postings(fieldname, term)[0]] = True
        return mask

    def dates(self) -> Column:
        """Each document's date as Whoosh's sortable integer (``undated`` when it has none)."""
        if self._dates is None:
            self._dates = self._column("date", self.searcher.schema["date"].column_type)
        return self._dates

    @property
    def undated(self) -> int:
        return int(whooshformat.column_default(self.searcher.schema["date"].column_type))

    def date_value(self, moment: dt.datetime) -> int:
        value: int = self.searcher.schema["date"].to_column_value(moment)
        return value

    def _column(self, name: str, column_type: NumericColumn) -> Column:
        """A numeric column for every document; documents past its written part get its default."""
        dtype = np.dtype(whooshformat.numeric_dtype(column_type))
        values = np.full(self.size, whooshformat.column_default(column_type), dtype=dtype.newbyteorder("="))
        for leaf, offset in self._leaves:
            raw = whooshformat.numeric_column(leaf, name, column_type)
            values[offset:offset + len(raw) // dtype.itemsize] = np.frombuffer(raw, dtype=dtype)
        return values


Ranges: TypeAlias = "tuple[DocIds, DocIds]"
"""Ranges of document numbers: their starts and their ends (excluded), ascending and apart."""


def _merged(lists: list[DocIds]) -> tuple[DocIds, DocIds]:
    """``np.unique(np.concatenate(lists), return_inverse=True)`` for lists each
    ascending: a stable sort merges their runs (``np.unique`` sorts the whole
    anew), a third faster."""
    merged = np.concatenate(lists)
    order = np.argsort(merged, kind="stable")
    ordered = merged[order]
    new = np.empty(len(ordered), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    where = np.empty(len(ordered), dtype=np.intp)
    where[order] = np.cumsum(new) - 1
    return ordered[new], where


def _maxima_into(bounds: Floats, where: DocIds, values: Floats) -> None:
    """``np.maximum.at(bounds, where, values)`` for ``where`` ascending
    (repeats allowed), by runs: a reduction per run and one assignment."""
    if not len(where):
        return
    starts = np.flatnonzero(np.r_[True, where[1:] != where[:-1]])
    at = where[starts]
    bounds[at] = np.maximum(bounds[at], np.maximum.reduceat(values, starts))


def _in_ranges(ids: DocIds, ranges: Ranges) -> DocIds:
    """Where in ``ids`` (ascending) those that fall in one of ``ranges`` are:
    found by bisection, so a long list costs no more than a short one, the
    shorter of the two sought in the longer (a lede's first batches score
    thousands of single documents, as ranges, on lists of a few hundred)."""
    starts, stops = ranges
    if len(ids) < len(starts):
        which = np.minimum(np.searchsorted(stops, ids, side="right"), len(stops) - 1)
        return np.flatnonzero((starts[which] <= ids) & (ids < stops[which]))
    first = np.searchsorted(ids, starts)
    counts = np.searchsorted(ids, stops) - first
    where: DocIds = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    return where
