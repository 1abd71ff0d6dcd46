"""Posting lists read whole into arrays, and BM25F computed over them at once.

Whoosh's matchers walk postings one document at a time in Python, so a query
of a few common words, which touches tens of thousands of postings, takes
tens of milliseconds before a single snippet is made. Here each posting list
is decoded block by block into NumPy arrays and scored in one vector
operation. The files are the ones Whoosh writes (codec W3 of whoosh-reloaded
2.7, whose private layout this module reads, as ``fastwriter`` writes it).

The score is BM25F as Robertson and Zaragoza define it, not Whoosh's sum of
one BM25 per field: a word's frequencies in the title and the body, each
weighted by its field's boost and normalised by that field's length, add up
before they saturate, so a word in both title and body is not counted twice
over. The idf is Lucene's, which keeps rare words further apart from common
ones than Whoosh's does.
"""

from __future__ import annotations

import datetime as dt
import pickle
import struct
import zlib
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from io import BytesIO
from itertools import accumulate

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC
from whoosh.columns import NumericColumn
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

__all__ = ["B", "K1", "IndexArrays"]

B = 0.75
K1 = 1.2
CACHED_POSTINGS = 4_000_000
"""Decoded postings kept per open index (8 bytes each)."""
CACHED_FREQUENCIES = 100_000
"""Document frequencies and block directories kept per open index (each)."""
_BLOCK_LENGTH = struct.Struct("!i")
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


class IndexArrays:
    """The posting lists, field lengths and columns of one searcher, as arrays
    indexed by document number (all segments of the index, one after another)."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = self.reader.doc_count_all()
        self._leaves = [(leaf, offset) for leaf, offset in self.reader.leaf_readers()]
        self.live = np.ones(self.size, dtype=bool)
        for leaf, offset in self._leaves:
            if leaf.has_deletions():
                self.live[np.fromiter(leaf.deleted_docs_set, dtype=np.int64) + offset] = False
        self._lengths: dict[str, np.ndarray] = {}
        self._avg_length: dict[str, float] = {}
        self._norms: dict[str, np.ndarray] = {}
        self._dates: np.ndarray | None = None
        self._cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._cached_postings = 0
        self._frequencies: dict[tuple[str, str], int] = {}
        self._directories: dict[tuple[str, str, int], list[Block]] = {}

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

    def postings(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers (ascending) and term frequencies of one term.

        Kept in a small LRU cache: the words of news queries recur (names, the
        topics of the day), and decoding a common word's list costs more than
        the rest of the query.
        """
        key = (fieldname, term)
        cached = self._cache.pop(key, None)
        if cached is None:
            cached = self._read_postings(fieldname, term)
            self._cached_postings += len(cached[0])
            while self._cached_postings > CACHED_POSTINGS and self._cache:
                self._cached_postings -= len(self._cache.pop(next(iter(self._cache)))[0])
        self._cache[key] = cached
        return cached

    def _term_data(self, fieldname: str, term: str) -> Iterator[tuple[int, int, tuple | bytes]]:
        """For each segment holding ``term``: its first document number, its
        size, and its postings (inlined in the term's entry, as a tuple of ids,
        weights and values) or the bytes of its posting list."""
        for leaf, offset in self._leaves:
            try:
                info = leaf.term_info(fieldname, term)
            except TermNotFound:
                continue
            if info.is_inlined():
                yield offset, leaf.doc_count_all(), info.inlined_postings()
                continue
            position, length = info.extent()
            if isinstance(length, tuple):  # whoosh-reloaded 2.7 reads the length back as a 1-tuple
                (length,) = length
            yield offset, leaf.doc_count_all(), leaf._terms._postfile.get(position, length)

    def _read_postings(self, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        ids: list[int] = []
        weights: list[float] = []
        for offset, _, data in self._term_data(fieldname, term):
            start = len(ids)
            if isinstance(data, tuple):
                ids.extend(data[0])
                weights.extend(data[1])
            else:
                _decode(data, ids, weights)
            if offset:
                ids[start:] = [d + offset for d in ids[start:]]
        return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)

    def _postings_in(self, fieldname: str, term: str, docs: np.ndarray) -> Iterator[tuple[int, float, bytes]]:
        """(document, frequency, value) of ``term`` for those of ``docs`` (ascending)
        that hold it. Only the blocks holding one of ``docs`` are decompressed,
        which for a common word and a page of articles is a small share."""
        for offset, size, data in self._term_data(fieldname, term):
            local = docs[(docs >= offset) & (docs < offset + size)] - offset
            if not len(local):
                continue
            wanted = set(local.tolist())
            if isinstance(data, tuple):
                for d, w, v in zip(*data, strict=True):
                    if d in wanted:
                        yield d + offset, w, v
                continue
            blocks = self._directory(fieldname, term, offset, data)
            lasts = [block[1] for block in blocks]
            for number in sorted({bisect_left(lasts, d) for d in wanted} - {len(blocks)}):
                deltas, weights, values = pickle.loads(_block_data(data, blocks[number]))
                for d, w, v in zip(accumulate(deltas), _weights(weights, blocks[number][0]), values, strict=True):
                    if d in wanted:
                        yield d + offset, w, v

    def _directory(self, fieldname: str, term: str, offset: int, data: bytes) -> list[Block]:
        """The blocks of one term's list in one segment, kept: the common words
        a page is reranked on recur in every query."""
        key = (fieldname, term, offset)
        found = self._directories.get(key)
        if found is None:
            if len(self._directories) >= CACHED_FREQUENCIES:
                self._directories.clear()
            found = self._directories[key] = _block_index(data)
        return found

    def positions(self, fieldname: str, term: str, docs: np.ndarray) -> dict[int, list[int]]:
        """Where ``term`` stands in each of ``docs`` (ascending), for the ones holding it."""
        return {d: _positions(v) for d, _, v in self._postings_in(fieldname, term, docs)}

    def frequencies_in(self, fieldname: str, term: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`postings` restricted to ``docs`` (ascending): cheap for a
        stop word, whose full list holds nearly every article."""
        found = [(d, w) for d, w, _ in self._postings_in(fieldname, term, docs)]
        return (np.array([d for d, _ in found], dtype=np.int32),
                np.array([w for _, w in found], dtype=np.float32))

    def lengths(self, fieldname: str) -> np.ndarray:
        """Each document's length in ``fieldname``, quantised as Whoosh stores it."""
        if fieldname not in self._lengths:
            codes = self._column(f"_{fieldname}_len", LENGTHS_COLUMN)
            self._lengths[fieldname] = _LENGTH_OF_BYTE[codes.astype(np.intp)]
            self._avg_length[fieldname] = self.searcher.avg_field_length(fieldname) or 1.0
        return self._lengths[fieldname]

    def _norm(self, fieldname: str) -> np.ndarray:
        """BM25's length normalisation of every document in ``fieldname``."""
        if fieldname not in self._norms:
            lengths = self.lengths(fieldname)
            self._norms[fieldname] = (1 - B) + B * lengths / self._avg_length[fieldname]
        return self._norms[fieldname]

    def idf(self, term: str, fieldnames: Sequence[str]) -> float:
        """Lucene's BM25 idf; the document frequency is the largest of the
        fields', as Lucene's CombinedFieldQuery counts it. Like Whoosh's
        frequencies, the count of documents includes deleted ones."""
        df = max((self.doc_frequency(f, term) for f in fieldnames), default=0)
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    def bm25f(self, term: str, boosts: Mapping[str, float],
              docs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The documents holding ``term`` in any of the fields of ``boosts``
        (only those of ``docs``, ascending, if given) and their scores. The
        fields' lists are merged by sorting when they are short, through an
        array over every document when they are long."""
        found = []
        for fieldname, boost in boosts.items():
            ids, tf = self.postings(fieldname, term) if docs is None else self.frequencies_in(fieldname, term, docs)
            if len(ids):
                found.append((ids, boost * tf / self._norm(fieldname)[ids]))
        if not found:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64)
        if len(found) == 1:
            ids, tf = found[0]
        elif sum(len(some) for some, _ in found) * 8 < self.size:
            ids, where = np.unique(np.concatenate([some for some, _ in found]), return_inverse=True)
            tf = np.bincount(where, weights=np.concatenate([weighted for _, weighted in found]))
        else:
            dense = np.zeros(self.size, dtype=np.float64)
            for some, weighted in found:
                dense[some] += weighted
            ids = np.flatnonzero(dense)
            tf = dense[ids]
        return ids, self.idf(term, list(boosts)) * tf * (K1 + 1) / (tf + K1)

    def term_mask(self, fieldname: str, term: str) -> np.ndarray:
        """Which documents hold ``term`` in ``fieldname``."""
        mask = np.zeros(self.size, dtype=bool)
        mask[self.postings(fieldname, term)[0]] = True
        return mask

    def dates(self) -> np.ndarray:
        """Each document's date as Whoosh's sortable integer (``undated`` when it has none)."""
        if self._dates is None:
            self._dates = self._column("date", self.searcher.schema["date"].column_type)
        return self._dates

    @property
    def undated(self) -> int:
        return self.searcher.schema["date"].column_type._default

    def date_value(self, moment: dt.datetime) -> int:
        return self.searcher.schema["date"].to_column_value(moment)

    def _column(self, name: str, column_type: NumericColumn) -> np.ndarray:
        """A numeric column for every document; documents past its written part get its default."""
        dtype = np.dtype(">" + column_type._typecode)
        values = np.full(self.size, column_type._default, dtype=dtype.newbyteorder("="))
        for leaf, offset in self._leaves:
            if not leaf._perdoc.has_column(name):
                continue
            column = leaf._perdoc.column_reader(name, column_type)
            count = min(column._count, leaf.doc_count_all())
            raw = column._dbfile.get(column._basepos, count * dtype.itemsize)
            values[offset:offset + count] = np.frombuffer(raw, dtype=dtype)
        return values


Block = tuple[int, int, int, int, int]
"""Where one block of a posting list is: (posting count, last document number,
compression, start and end of its data)."""


def _block_index(data: bytes) -> list[Block]:
    """The blocks of one W3 posting list: a header, then blocks of length,
    pickled block info and pickled, maybe compressed, data."""
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("not a W3 posting list")
    stream = BytesIO(data)
    blocks = []
    position = 4
    end = len(data)
    while position < end:
        (length,) = _BLOCK_LENGTH.unpack_from(data, position)
        start = position + _BLOCK_LENGTH.size
        stream.seek(start)
        count, last, _, compression, _, _ = pickle.load(stream)
        position = start + abs(length)
        blocks.append((count, last, compression, stream.tell(), position))
        if length < 0:
            break
    return blocks


def _block_data(data: bytes, block: Block) -> bytes:
    _, _, compression, start, end = block
    return zlib.decompress(data[start:end]) if compression else data[start:end]


def _weights(stored: object, count: int) -> Sequence[float]:
    """A block's frequencies, which W3 stores as None when all are 1 and as
    one float when all are equal."""
    if stored is None:
        return [1.0] * count
    if isinstance(stored, float):
        return [stored] * count
    return stored  # type: ignore[return-value]


def _decode(data: bytes, ids: list[int], weights: list[float]) -> None:
    """Append the document numbers and frequencies of one posting list."""
    for block in _block_index(data):
        deltas, stored, _ = pickle.loads(_block_data(data, block))
        ids.extend(accumulate(deltas))
        weights.extend(_weights(stored, block[0]))


def _positions(value: bytes) -> list[int]:
    """``whoosh.formats.Positions.decode_positions``: a count, then pickled deltas."""
    return list(accumulate(pickle.loads(value[4:])))
