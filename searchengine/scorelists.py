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

- the document numbers, in the shortest of three codings: Elias–Fano (each
  number's low ``l`` bits packed, its high part in unary in a bitmap: about
  2 + ``l`` bits a posting where ``l`` is about log2 of the mean gap, so a
  word in one article of 400 takes 11 bits a posting, not the 16 of a
  two-byte gap), a bitmap of the segment's documents (the commonest words),
  both read with ``unpackbits``, ``flatnonzero`` and a few shifts; or gaps of
  one or two bytes, deflated where that saves an eighth, read by inflating
  and one ``cumsum`` (words that cluster, which deflate finds);
- the frequencies, one byte each when they are whole numbers under 256, else
  32-bit floats, deflated where that saves an eighth (nearly all are 1, so
  the bytes of most lists shrink fourfold);
- for a list of at least :data:`MIN_MAXIMA` postings, for each window of
  :data:`WINDOW` documents holding the word, the largest
  ``tf / ((1 - b) + b · length / average)`` in it, rounded up to one of 255
  steps of 2.9 % from 1/16 to 96 (one byte: :data:`BOUNDS`, where the last is
  infinity; a bound a few percent high costs pruning little), with the field's average
  length in the segment when it was written; which windows hold it, as a
  bitmap of the segment's windows where that is shorter than their numbers
  (4 bytes each). At query time the average is
  the index's: a larger one raises a document's value by at most the ratio of
  the averages, so ``maximum × max(1, now / then)`` bounds it (see
  :meth:`ScoreLists.window_maxima`). These bounds let ranking skip windows
  that cannot reach the best page (:mod:`~searchengine.ranking`); those of
  a shorter list, whose maxima would take about a byte a posting, are
  computed from the list when asked for (:mod:`~searchengine.scoring`).

The directory at the end of the file (layout ``NSL6``) holds the lists'
keys (the field's number, a byte, then the term) sorted, and one array of
the narrowest integers per property of the lists (:data:`_COLUMNS`; no
windows for a list without maxima), under a CRC-32: opening the file checks it and takes the arrays in place (unpickling
the directory of ``NSL4``, a dictionary per field, cost a fresh query 16 M
instructions), and a lookup is a binary search; nothing is decoded for a
term until it is asked for. Files of the earlier
layouts are read as before: ``NSL5``, the same with every list's maxima, and
those whose directory is a pickle (``NSL2``: nothing deflated, every
window's number; ``NSL3``: maxima as 16-bit floats; ``NSL4``: document
numbers as one- or two-byte gaps, deflated where that saved an eighth).
Whoosh ignores the file; a segment without it (written by an
older newsearch, or by Whoosh itself) is read from its W3 blocks, and
ranking scores every posting. A file that cannot be read is treated as
absent: it only makes queries faster.
"""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

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
MIN_MAXIMA = 4096
"""Shorter lists are written without their window maxima. Their words are in
so few articles that nearly each posting has a window of its own, so the
maxima took about a byte a posting, beside the windows' bitmap: 15 of the
85 MiB of score lists of ten times OrangeSum (84.7 → 69.5 MiB; 8 for lists
under 1,024 postings, 12 under 2,048). Ranking computes their bounds from the list
itself (its document numbers and frequencies, read here in microseconds)."""
_MAGIC = b"NSL6"
_ALL_MAXIMA = b"NSL5"
"""The layout before, the same but with every list's window maxima."""
_HALF_MAXIMA = (b"NSL2", b"NSL3")
"""Earlier layouts, whose window maxima are 16-bit floats."""
_PICKLED = (*_HALF_MAXIMA, b"NSL4")
"""Earlier layouts, whose directory is a pickle and document numbers gaps."""
BOUNDS: NDArray[np.float64] = np.r_[2.0 ** (np.arange(255) / 24 - 4), np.inf]
"""The value of each byte of a window maximum: 2^(byte/24 - 4), infinity for 255."""
_LEVEL = 6
"""zlib's level for the parts it shrinks (inflating costs the same at any level)."""
_FOOTER = struct.Struct("<Q4s")
_HEAD = struct.Struct("<III")
"""Of an ``NSL5`` or ``NSL6`` directory: bytes of its settings (JSON), lists, and the
CRC-32 of the rest (so that damage shows at opening)."""
_COLUMNS = ("offset", "count", "universe", "numbers", "exceptions", "frequencies", "windows", "low", "kind")
"""Of each list in an ``NSL5`` or ``NSL6`` directory, one array each, in the narrowest
unsigned integers that hold it: where it starts, postings, last document + 1,
stored bytes of the document numbers, gaps in the exceptions, stored bytes
of the frequencies, windows, low bits of the Elias–Fano code
(:data:`_BITMAP` for the documents' bitmap, :data:`_GAPS` for gaps) and
kind of frequencies."""
_BITMAP = 255
_LOWS = (2, 4, 8, 16)
"""The low bits an Elias–Fano code may have: those that split bytes evenly
(with fewer, the documents' bitmap is shorter)."""
_SPLIT = {low: (np.arange(256, dtype=np.uint8)[:, None] >> np.arange(8 - low, -1, -low, dtype=np.uint8))
          & np.uint8((1 << low) - 1) for low in _LOWS if low < 8}
"""For low bits under 8: each byte's low parts, most significant first."""
_ESCAPES = {1: 0xFF, 2: 0xFFFF}
"""By width of the gaps (bytes): the value that says "the gap is in the exceptions"."""
_GAPS = {0x81: 1, 0x82: 2}
"""The low bits that say a list's numbers are gaps, and their width in bytes."""
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


def _low_bits(count: int, universe: int) -> int:
    """The low bits of the Elias–Fano code of ``count`` numbers under ``universe``
    that make it shortest, of those NumPy splits without gathering bits across
    bytes (:data:`_LOWS`): 0 to 2 bits more a posting than the best of all."""
    return min(_LOWS, key=lambda low: sum(_elias_fano_sizes(count, universe, low)))


def _elias_fano_sizes(count: int, universe: int, low: int) -> tuple[int, int]:
    """Bytes of the packed low bits and of the high parts' bitmap, each padded."""
    lows = (count * low + 7) // 8
    highs = (count + ((universe - 1) >> low) + 1 + 7) // 8
    return lows + _pad(lows), highs + _pad(highs)


def _elias_fano(ids: NDArray[np.int64], universe: int, low: int) -> bytes:
    """``ids`` (ascending, under ``universe``): their low bits packed, most significant first, then
    the bitmap where number ``i`` sets bit ``(ids[i] >> low) + i``."""
    lows, highs = _elias_fano_sizes(len(ids), universe, low)
    bits = ((ids[:, None] >> np.arange(low - 1, -1, -1)) & 1).astype(np.uint8)
    present = np.zeros(highs * 8, dtype=bool)
    present[(ids >> low) + np.arange(len(ids))] = True
    return _padded(np.packbits(bits).tobytes()) + np.packbits(present).tobytes()


def _gapped(ids: NDArray[np.int64]) -> tuple[bytes, int, int]:
    """``ids`` as the gaps between them, in one or two bytes, whichever is
    shorter (a gap past 254 or 65,534 is stored whole in a list of exceptions),
    deflated where that saves an eighth; their width and exceptions. Deflate
    codes the gaps of a list of clustered documents in fewer bits than
    Elias–Fano, at the cost of inflating them when read."""
    gaps = np.diff(ids, prepend=0)
    width = 1 if len(gaps) + 4 * int(np.count_nonzero(gaps >= _ESCAPES[1])) < 2 * len(gaps) else 2
    big = gaps >= _ESCAPES[width]
    small = np.where(big, _ESCAPES[width], gaps).astype(f"<u{width}")
    return _deflated(_padded(small.tobytes()) + gaps[big].astype("<u4").tobytes()), width, int(np.count_nonzero(big))


def _decoded(data: bytes, count: int, universe: int, low: int) -> NDArray[np.int32] | None:
    """What :func:`_elias_fano` (or, for :data:`_BITMAP`, the documents' bitmap)
    coded in ``data``; None if it does not hold ``count`` numbers (damaged)."""
    if low == _BITMAP:
        present = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=universe).view(bool)
        held = np.flatnonzero(present)
        return held.astype(np.int32) if len(held) == count else None
    lows, highs = _elias_fano_sizes(count, universe, low)
    if len(data) != lows + highs or low not in _LOWS:
        return None
    set_bits = np.flatnonzero(np.unpackbits(np.frombuffer(data, dtype=np.uint8, offset=lows)).view(bool))
    if len(set_bits) != count:
        return None
    ids: NDArray[np.int32] = set_bits.astype(np.int32)
    ids -= np.arange(count, dtype=np.int32)
    ids <<= low
    if low >= 8:
        ids |= np.frombuffer(data, dtype=f">u{low // 8}", count=count)
    else:
        packed = np.frombuffer(data, dtype=np.uint8, count=(count * low + 7) // 8)
        ids |= _SPLIT[low].take(packed, axis=0).reshape(-1)[:count]
    return ids


def _frequencies(stored: bytes, count: int, kind: int) -> NDArray[np.float32]:
    """The ``count`` frequencies of one list stored as ``kind`` says (ValueError if damaged)."""
    return np.frombuffer(_inflated(stored, count if kind == _BYTES else 4 * count),
                         dtype=np.uint8 if kind == _BYTES else "<f4", count=count).astype(np.float32)


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
        self.directory: dict[tuple[str, bytes], tuple[int, ...]] = {}
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
        universe = int(ids[-1]) + 1
        low = _low_bits(len(ids), universe)
        if (universe + 7) // 8 <= sum(_elias_fano_sizes(len(ids), universe, low)):
            present = np.zeros(universe, dtype=bool)
            present[ids] = True
            numbers, low = np.packbits(present).tobytes(), _BITMAP
        else:
            numbers = _elias_fano(ids, universe, low)
        gaps, width, exceptions = _gapped(ids)
        if len(gaps) < len(numbers):
            numbers, low = gaps, next(code for code, size in _GAPS.items() if size == width)
        else:
            exceptions = 0
        whole = bool(np.all((tf == np.round(tf)) & (tf >= 0) & (tf < 256)))
        frequencies = _deflated((tf.astype(np.uint8) if whole else tf.astype("<f4")).tobytes())
        parts = [numbers, frequencies]
        windows = 0
        if len(ids) >= MIN_MAXIMA:
            norm = (1 - self.b) + self.b * lengths[ids] / average
            held, first = np.unique(ids // self.window, return_index=True)
            maxima = _bounding(np.maximum.reduceat(tf.astype(np.float64) / norm, first))
            windows = len(held)
            if _window_bitmap(universe, self.window, windows):
                bitmap = np.zeros(int(held[-1]) + 1, dtype=bool)
                bitmap[held] = True
                parts.append(np.packbits(bitmap).tobytes())
            else:
                parts.append(held.astype("<u4").tobytes())
            parts.append(maxima.tobytes())
        self.directory[fieldname, term] = (self.position, len(ids), universe, len(numbers), exceptions,
                                           len(frequencies), windows, low, _BYTES if whole else _FLOATS)
        for part in parts:
            self._write(_padded(part))

    def close(self) -> None:
        where = self.position
        fields = sorted(self.averages)
        number = {name: bytes([i]) for i, name in enumerate(fields)}
        order = sorted(self.directory)
        keys = [number[fieldname] + term for fieldname, term in order]
        columns = np.array([self.directory[key] for key in order], dtype=np.int64).reshape(len(order), len(_COLUMNS))
        arrays = [_narrowest(np.cumsum([0, *map(len, keys)])), *(_narrowest(column) for column in columns.T)]
        settings = json.dumps({"b": self.b, "window": self.window, "averages": self.averages, "fields": fields,
                               "types": [part.dtype.str for part in arrays]}).encode()
        rest = b"".join((settings, arrays[0].tobytes(), *keys, *(part.tobytes() for part in arrays[1:])))
        self._write(_HEAD.pack(len(settings), len(keys), zlib.crc32(rest)) + rest)
        self._write(_FOOTER.pack(where, _MAGIC))
        self.out.close()


def _narrowest(values: NDArray[np.int64]) -> NDArray[np.unsignedinteger[Any]]:
    """``values`` (not negative) as the narrowest little-endian unsigned integers that hold them."""
    top = int(values.max()) if len(values) else 0
    kind = next(f"<u{size}" for size in (1, 2, 4, 8) if top < 1 << (8 * size))
    narrow: NDArray[np.unsignedinteger[Any]] = values.astype(kind)
    return narrow


_FORMATS: dict[int, Literal["B", "H", "I", "Q"]] = {1: "B", 2: "H", 4: "I", 8: "Q"}
"""``memoryview``'s format of unsigned integers of each size."""


def _indexable(values: NDArray[Any]) -> memoryview:
    """``values`` (little-endian integers) as a view whose items are Python
    integers: read one at a time, 10 times faster than from NumPy."""
    native = values if values.dtype.isnative else values.astype(values.dtype.newbyteorder("="))
    return native.data.cast("B").cast(_FORMATS[native.itemsize])


def _window_bitmap(universe: int, window: int, windows: int) -> bool:
    """Whether the windows holding a list are a bitmap of the segment's windows up to
    its last (shorter than their numbers, 4 bytes each)."""
    return ((universe - 1) // window + 1 + 7) // 8 < 4 * windows


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


@dataclass(slots=True)
class _Entry:
    """Where one list's parts are, whatever the layout (not frozen: one is made at every lookup)."""

    offset: int
    count: int
    numbers: int
    """Stored bytes of the document numbers (and their exceptions)."""
    frequencies: int
    """Stored bytes of the frequencies."""
    kind: int
    windows: int
    bits: int
    """Bits of the windows' bitmap, 0 for their numbers."""
    universe: int = 0
    low: int = 0
    width: int = 0
    """Bytes of each gap, 0 for Elias–Fano or a bitmap."""
    exceptions: int = 0

    @property
    def after_frequencies(self) -> int:
        return self.offset + self.numbers + _pad(self.numbers) + self.frequencies + _pad(self.frequencies)


def _pickled_entry(entry: tuple[int, ...]) -> _Entry:
    """A list of an ``NSL2``–``NSL4`` directory: (offset, postings, width of the gaps,
    exceptions, kind of frequencies, windows[, stored bytes of the gaps, of the
    frequencies, bits of the windows' bitmap]); ``NSL2`` has the first six."""
    offset, count, width, exceptions, kind, windows = entry[:6]
    gaps = width * count + _pad(width * count) + 4 * exceptions
    tf = count if kind == _BYTES else 4 * count
    if len(entry) > 6:
        gaps, tf = entry[6], entry[7]
    return _Entry(offset, count, gaps, tf, kind, windows, entry[8] if len(entry) > 8 else 0,
                  width=width, exceptions=exceptions)


class ScoreLists:
    """One segment's score lists, read in place."""

    def __init__(self, source: _Source, size: int) -> None:
        self.source = source
        if size < _FOOTER.size:
            raise ValueError("too short")
        where, magic = _FOOTER.unpack(source.get(size - _FOOTER.size, _FOOTER.size))
        if magic not in (*_PICKLED, _ALL_MAXIMA, _MAGIC) or where > size - _FOOTER.size:
            raise ValueError("not a score list file")
        self.half_maxima = magic in _HALF_MAXIMA
        self._pickled: dict[str, dict[bytes, tuple[int, ...]]] | None = None
        if magic in _PICKLED:
            directory = pickle.loads(source.get(where, size - _FOOTER.size - where))
            self._pickled = directory["terms"]
        else:
            directory = self._open(where, size - _FOOTER.size - where)
        self.b: float = float(directory["b"])
        self.window: int = int(directory["window"])
        self.averages: dict[str, float] = directory["averages"]

    def _open(self, where: int, size: int) -> dict[str, Any]:
        """Reads an ``NSL5`` or ``NSL6`` directory's arrays in place, leaving its lists to :meth:`_find`."""
        settings_size, self._lists, crc = _HEAD.unpack(self.source.get(where, _HEAD.size))
        rest = self.source.get(where + _HEAD.size, size - _HEAD.size)
        if len(rest) != size - _HEAD.size or zlib.crc32(rest) != crc:
            raise ValueError("damaged directory")
        settings: dict[str, Any] = json.loads(rest[:settings_size])
        types = settings["types"]
        ends = np.frombuffer(rest, dtype=types[0], count=self._lists + 1, offset=settings_size)
        at = settings_size + ends.nbytes
        self._ends = _indexable(ends)
        self._keys = rest[at:at + self._ends[-1]]
        at += len(self._keys)
        self._columns = []
        for kind in types[1:]:
            column = np.frombuffer(rest, dtype=kind, count=self._lists, offset=at)
            self._columns.append(_indexable(column))
            at += column.nbytes
        if at != len(rest) or len(self._columns) != len(_COLUMNS):
            raise ValueError("damaged directory")
        self._fields = {name: bytes([i]) for i, name in enumerate(settings["fields"])}
        return settings

    def _find(self, fieldname: str, term: str) -> _Entry | None:
        if self._pickled is not None:
            found = self._pickled.get(fieldname, {}).get(term.encode("utf-8"))
            return None if found is None else _pickled_entry(found)
        prefix = self._fields.get(fieldname)
        if prefix is None:
            return None
        key = prefix + term.encode("utf-8")
        keys, ends = self._keys, self._ends
        low, high = 0, self._lists
        while low < high:  # the first key not below ``key``
            middle = (low + high) // 2
            if keys[ends[middle]:ends[middle + 1]] < key:
                low = middle + 1
            else:
                high = middle
        if low == self._lists or keys[ends[low]:ends[low + 1]] != key:
            return None
        offset, count, universe, numbers, exceptions, frequencies, windows, low_bits, kind = (
            column[low] for column in self._columns)
        bits = (universe - 1) // self.window + 1 if _window_bitmap(universe, self.window, windows) else 0
        return _Entry(offset, count, numbers, frequencies, kind, windows, bits, universe, low_bits,
                      _GAPS.get(low_bits, 0), exceptions)

    def has(self, fieldname: str, term: str) -> bool:
        return self._find(fieldname, term) is not None

    def postings(self, fieldname: str, term: str) -> tuple[NDArray[np.int32], NDArray[np.float32]] | None:
        """Segment-local document numbers and frequencies, or None if the list
        is not here (or cannot be read: it is then read from its W3 blocks)."""
        found = self._find(fieldname, term)
        if found is None:
            return None
        get = self.source.get
        try:
            data = get(found.offset, found.numbers)
            frequencies = _frequencies(get(found.offset + found.numbers + _pad(found.numbers), found.frequencies),
                                       found.count, found.kind)
            ids = self._gaps(data, found) if found.width else _decoded(data, found.count, found.universe, found.low)
        except (zlib.error, ValueError):
            return None
        return None if ids is None else (ids, frequencies)

    @staticmethod
    def _gaps(data: bytes, found: _Entry) -> NDArray[np.int32]:
        """The document numbers of a list of gaps (:func:`_gapped`)."""
        width, count, exceptions = found.width, found.count, found.exceptions
        size = width * count + _pad(width * count) + 4 * exceptions
        data = _inflated(data, size)
        gaps = np.frombuffer(data, dtype=f"<u{width}", count=count).astype(np.int32)
        if exceptions:
            gaps[gaps == _ESCAPES[width]] = np.frombuffer(data, dtype="<u4", offset=size - 4 * exceptions)
        return np.cumsum(gaps, dtype=np.int32)

    def windows(self, fieldname: str, term: str) -> Windows | None:
        """The term's window maxima in ``fieldname``, or None if the list is
        not here or is here without them (shorter than :data:`MIN_MAXIMA`)."""
        found = self._find(fieldname, term)
        if found is None or not found.windows:
            return None
        offset, nwindows, bits = found.after_frequencies, found.windows, found.bits
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
