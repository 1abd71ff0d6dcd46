"""Score lists: a segment's long posting lists as NumPy reads them, with the
best score each could give in every window of documents.

Whoosh's W3 blocks pickle each posting's positions beside its document number
and frequency, and compress the three together, so scoring a common word
means decompressing and unpickling every position of it (half a microsecond a
posting: 0.1 s for a word in 200,000 articles). So each segment newsearch
writes also holds one file of its own (``<segment>.nsl``, inside the compound
segment file like Whoosh's own files, so checksummed, copied and removed with
them) with, for every list of at least :data:`MIN_POSTINGS` postings of a
scored field:

- the document numbers, as gaps of one or two bytes, whichever is shorter
  for the list (a gap past 254 or 65,534 is stored whole in a list of
  exceptions), and the frequencies (one byte each when they are
  whole numbers under 256, else 32-bit floats): read with ``frombuffer``
  and one ``cumsum``. Each of the two is deflated where that saves an
  eighth of it or more (the gaps and frequencies of a word in most articles,
  nearly all 1, shrink tenfold; those of rarer words by a quarter): inflating
  costs a common word's first read a fraction of a millisecond;
- for each window of :data:`WINDOW` documents holding the word, the largest
  ``tf / ((1 - b) + b · length / average)`` in it, rounded up to one of 255
  steps of 2.9 % from 1/16 to 96 (one byte: :data:`BOUNDS`, where the last is
  infinity; a bound a few percent high costs pruning little), with the field's average
  length in the segment when it was written; which windows hold it, as a
  bitmap of the segment's windows where that is shorter than their numbers
  (4 bytes each). At query time the average is
  the index's: a larger one raises a document's value by at most the ratio of
  the averages, so ``maximum × max(1, now / then)`` bounds it (see
  :meth:`ScoreLists.window_maxima`). These bounds let ranking skip windows
  that cannot reach the best page (:mod:`~searchengine.ranking`).

Files of the earlier layouts (``NSL2``: nothing deflated, every window's
number; ``NSL3``: maxima as 16-bit floats) are read as before. Whoosh
ignores the file; a segment without it (written by an older newsearch,
or by Whoosh itself) is read from its W3 blocks, and ranking scores every
posting. A file that cannot be read is treated as absent: it only makes
queries faster.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["BOUNDS", "EXT", "MIN_POSTINGS", "WINDOW", "ScoreListWriter", "ScoreLists", "Windows"]

EXT = ".nsl"
MIN_POSTINGS = 256
"""Shorter lists decode from their W3 blocks in a fraction of a millisecond."""
WINDOW = 128
"""Documents per window of the score bounds (segment-local document number //
WINDOW), as written; each file records its own."""
_MAGIC = b"NSL4"
_HALF_MAXIMA = (b"NSL2", b"NSL3")
"""Earlier layouts, whose window maxima are 16-bit floats."""
_MAGICS = (*_HALF_MAXIMA, _MAGIC)
"""What this module reads: the earlier layouts and this one (see the module)."""
BOUNDS: NDArray[np.float64] = np.r_[2.0 ** (np.arange(255) / 24 - 4), np.inf]
"""The value of each byte of a window maximum: 2^(byte/24 - 4), infinity for 255."""
_LEVEL = 6
"""zlib's level for the parts it shrinks (inflating costs the same at any level)."""
_FOOTER = struct.Struct("<Q4s")
_ESCAPES = {1: 0xFF, 2: 0xFFFF}
"""By width of the stored gaps (bytes): the value that says "the gap is in the exceptions"."""
_BYTES, _FLOATS = 0, 1
"""How frequencies are stored: one byte each, or a float32 each."""


class _Output(Protocol):
    def write(self, data: bytes) -> Any: ...

    def close(self) -> Any: ...


def _padded(data: bytes) -> bytes:
    return data + b"\0" * _pad(len(data))


def _pad(length: int) -> int:
    """Every part starts at a multiple of 4 bytes."""
    return -length % 4


def _deflated(raw: bytes) -> bytes:
    """``raw`` deflated if that saves an eighth of it, else ``raw`` (told apart by its length)."""
    packed = zlib.compress(raw, _LEVEL)
    return packed if 8 * len(packed) <= 7 * len(raw) else raw


def _inflated(stored: bytes, size: int) -> bytes:
    """What :func:`_deflated` made ``stored`` of, ``size`` bytes long."""
    return stored if len(stored) == size else zlib.decompress(stored)


Entry = tuple[int, ...]
"""A list's place in the file: (offset, postings, width of the gaps, exceptions,
kind of frequencies, windows, stored bytes of the gaps, of the frequencies,
and the bits of the windows' bitmap or 0 for their numbers); ``NSL2`` has the first six."""


def _sizes(entry: Entry) -> tuple[int, int, int, int]:
    """Of one list: the bytes of its gaps and exceptions, and of its frequencies, as
    written and before deflating, as laid out in the file."""
    offset, count, width, exceptions, kind, _ = entry[:6]
    gaps = width * count + _pad(width * count) + 4 * exceptions
    tf = count if kind == _BYTES else 4 * count
    if len(entry) == 6:
        return gaps, tf, gaps, tf
    return entry[6], entry[7], gaps, tf


def _bounding(maxima: NDArray[np.float64]) -> NDArray[np.uint8]:
    """For each of ``maxima`` (positive), the byte of the least of :data:`BOUNDS` at least as large."""
    with np.errstate(divide="ignore"):
        steps = np.ceil((np.log2(maxima) + 4) * 24)
    found = np.clip(steps, 0, 255).astype(np.intp)
    found[BOUNDS[found] < maxima] += 1  # where the logarithm rounded down
    found[(found > 0) & (BOUNDS[found - 1] >= maxima)] -= 1  # or up
    packed: NDArray[np.uint8] = np.minimum(found, 255).astype(np.uint8)
    return packed


class ScoreListWriter:
    """Writes one segment's score lists as its posting lists are written, then the directory."""

    def __init__(self, out: _Output, b: float) -> None:
        self.out = out
        self.b = b
        self.window = WINDOW
        self.position = 0
        self.directory: dict[str, dict[bytes, Entry]] = {}
        self.averages: dict[str, float] = {}

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)

    def add(self, fieldname: str, term: bytes, docs: array[int], weights: array[float],
            lengths: NDArray[np.float64]) -> None:
        """One term's list (``docs`` ascending, segment-local) and each
        document's length in the field (quantised, as ranking reads it)."""
        if len(docs) < MIN_POSTINGS:
            return
        average = self.averages.get(fieldname)
        if average is None:
            average = self.averages[fieldname] = float(np.mean(lengths)) or 1.0
        ids = np.frombuffer(docs, dtype=np.uint32).astype(np.int64)
        tf = np.frombuffer(weights, dtype=np.float32)
        gaps = np.diff(ids, prepend=0)
        width = 1 if len(gaps) + 4 * int(np.count_nonzero(gaps >= _ESCAPES[1])) < 2 * len(gaps) else 2
        escape = _ESCAPES[width]
        big = gaps >= escape
        small = np.where(big, escape, gaps).astype(f"<u{width}")
        exceptions = gaps[big].astype("<u4")
        whole = bool(np.all((tf == np.round(tf)) & (tf >= 0) & (tf < 256)))
        stored = tf.astype(np.uint8) if whole else tf.astype("<f4")
        norm = (1 - self.b) + self.b * lengths[ids] / average
        windows, first = np.unique(ids // self.window, return_index=True)
        maxima = np.maximum.reduceat(tf.astype(np.float64) / norm, first)
        rounded = _bounding(maxima)
        offset = self.position
        packed = _deflated(_padded(small.tobytes()) + exceptions.tobytes())
        frequencies = _deflated(stored.tobytes())
        bits = int(windows[-1]) + 1
        if (bits + 7) // 8 < 4 * len(windows):
            present = np.zeros(bits, dtype=bool)
            present[windows] = True
            numbers = np.packbits(present).tobytes()
        else:
            bits, numbers = 0, windows.astype("<u4").tobytes()
        for part in (packed, frequencies, numbers, rounded.tobytes()):
            self._write(_padded(part))
        self.directory.setdefault(fieldname, {})[term] = (
            offset, len(ids), width, len(exceptions), _BYTES if whole else _FLOATS, len(windows),
            len(packed), len(frequencies), bits)

    def close(self) -> None:
        where = self.position
        self._write(pickle.dumps({"b": self.b, "window": self.window, "averages": self.averages,
                                  "terms": self.directory}, 4))
        self._write(_FOOTER.pack(where, _MAGIC))
        self.out.close()


class _Source(Protocol):
    """What a score list file is read through: a Whoosh file (``MappedFile``)."""

    def get(self, position: int, length: int) -> bytes: ...


@dataclass(frozen=True)
class Windows:
    """One term's windows in one field of one segment: their numbers
    (segment-local document // the segment's window, ascending) and the largest length-normalised
    frequency in each, at the segment's average length ``average``."""

    numbers: NDArray[np.int64]
    maxima: NDArray[np.float64]
    average: float


class ScoreLists:
    """One segment's score lists, read in place."""

    def __init__(self, source: _Source, size: int) -> None:
        self.source = source
        if size < _FOOTER.size:
            raise ValueError("too short")
        where, magic = _FOOTER.unpack(source.get(size - _FOOTER.size, _FOOTER.size))
        if magic not in _MAGICS or where > size - _FOOTER.size:
            raise ValueError("not a score list file")
        self.half_maxima = magic in _HALF_MAXIMA
        directory = pickle.loads(source.get(where, size - _FOOTER.size - where))
        self.b: float = float(directory["b"])
        self.window: int = int(directory["window"])
        self.averages: dict[str, float] = directory["averages"]
        self.terms: dict[str, dict[bytes, Entry]] = directory["terms"]

    def has(self, fieldname: str, term: str) -> bool:
        return term.encode("utf-8") in self.terms.get(fieldname, {})

    def _parts(self, fieldname: str, term: str) -> Entry | None:
        return self.terms.get(fieldname, {}).get(term.encode("utf-8"))

    def postings(self, fieldname: str, term: str) -> tuple[NDArray[np.int32], NDArray[np.float32]] | None:
        """Segment-local document numbers and frequencies, or None if the list is not here."""
        found = self._parts(fieldname, term)
        if found is None:
            return None
        offset, count, width, exceptions, kind = found[:5]
        gaps_stored, tf_stored, gaps_size, tf_size = _sizes(found)
        get = self.source.get
        try:
            data = _inflated(get(offset, gaps_stored), gaps_size)
            frequencies = _inflated(get(offset + gaps_stored + _pad(gaps_stored), tf_stored), tf_size)
        except zlib.error:  # damaged: the list is read from its W3 blocks instead
            return None
        gaps = np.frombuffer(data, dtype=f"<u{width}", count=count).astype(np.int32)
        if exceptions:
            gaps[gaps == _ESCAPES[width]] = np.frombuffer(data, dtype="<u4", offset=gaps_size - 4 * exceptions)
        ids = np.cumsum(gaps, dtype=np.int32)
        tf = np.frombuffer(frequencies, dtype=np.uint8 if kind == _BYTES else "<f4", count=count).astype(np.float32)
        return ids, tf

    def windows(self, fieldname: str, term: str) -> Windows | None:
        """The term's window maxima in ``fieldname``, or None if the list is not here."""
        found = self._parts(fieldname, term)
        if found is None:
            return None
        offset, nwindows = found[0], found[5]
        gaps_stored, tf_stored, _, _ = _sizes(found)
        offset += gaps_stored + _pad(gaps_stored) + tf_stored + _pad(tf_stored)
        bits = found[8] if len(found) > 8 else 0
        get = self.source.get
        if bits:
            size = (bits + 7) // 8
            present = np.unpackbits(np.frombuffer(get(offset, size), dtype=np.uint8), count=bits)
            numbers = np.flatnonzero(present).astype(np.int64)
            offset += size + _pad(size)
        else:
            numbers = np.frombuffer(get(offset, 4 * nwindows), dtype="<u4").astype(np.int64)
            offset += 4 * nwindows
        if self.half_maxima:
            maxima = np.frombuffer(get(offset, 2 * nwindows), dtype="<f2").astype(np.float64)
        else:
            maxima = BOUNDS[np.frombuffer(get(offset, nwindows), dtype=np.uint8)]
        return Windows(numbers, maxima, self.averages[fieldname])
