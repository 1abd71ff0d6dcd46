"""The posting value of newsearch's text fields: positions as varints.

Whoosh's ``Positions`` format stores each posting's positions as a 4-byte
count followed by a whole pickle of their gaps (about 15 bytes of framing for
a word found once), and its W3 blocks pickle every frequency as a 9-byte float.
:class:`CompactPositions` stores the gaps alone, each a varint (7 bits a
byte, the high bit set on all but a number's last byte), the first one
counted from -1 so that a value never starts with a zero byte, as a
``Positions`` value always does (its count's high byte): one function reads
both (:func:`positions`). The frequency is the number of varints, so it is
not stored in the value; :mod:`~searchengine.whooshformat` writes the
blocks' frequencies as small integers.

It is a Whoosh ``Format``: pickled by name into the index's schema (keep
the class and module names), and stock Whoosh reads, searches and merges
its fields through it as through its own formats.

**Blocks.** A W3 block of postings is a pickled tuple (document number gaps,
frequencies, values), one pickled object per posting: 2 bytes of framing for
each number and each value. :func:`pack_block` lays out a block of these
fields as one byte string instead: the count, every gap, every frequency
(unless all are 1), each of the narrowest of 1, 2 or 4 bytes and in byte
planes (every low byte, then every next one: deflate finds the runs of zero
high bytes), then every value, one after the other. A value ends after as
many varints as its frequency, and a varint after its one byte under 0x80,
so NumPy finds every value's end at once (:func:`select` cuts out only
those of the documents asked for, as a page is reranked). A block pickled as
a call of :func:`block` on that string (:mod:`~searchengine.whooshformat`
writes it) unpickles to the very tuple Whoosh reads, in stock Whoosh too, as
the schema's pickle imports this module before any posting is read. With
Whoosh's deflate over it, a long list's blocks take a third less room than
Whoosh's tuple (the first packed layout, still read, had whole numbers and a
zero byte between two values, which ``split`` read: 22 % more than this).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from itertools import accumulate, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import formats

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["CompactPositions", "block", "decode", "encode", "frequency", "numbers", "pack_block", "positions", "select"]


def encode(where: Iterable[int]) -> bytes:
    """Ascending positions as varint gaps, the first from -1."""
    out = bytearray()
    previous = -1
    for position in where:
        gap = position - previous
        previous = position
        while gap > 0x7F:
            out.append(gap & 0x7F | 0x80)
            gap >>= 7
        out.append(gap)
    return bytes(out)


def decode(value: bytes) -> list[int]:
    """The positions :func:`encode` made ``value`` of."""
    if not value or max(value) < 0x80:  # every gap under 128: the common case
        return list(accumulate(value, initial=-1))[1:]
    gaps = []
    gap = shift = 0
    for byte in value:
        if byte & 0x80:
            gap |= (byte & 0x7F) << shift
            shift += 7
        else:
            gaps.append(gap | byte << shift)
            gap = shift = 0
    return list(accumulate(gaps, initial=-1))[1:]


def frequency(value: bytes) -> int:
    """How many positions ``value`` holds: its bytes without the high bit."""
    return len(value) - sum(byte >> 7 for byte in value)


_OLD = formats.Positions()


def positions(value: bytes) -> list[int]:
    """The positions of a :class:`CompactPositions` value or of a Whoosh
    ``Positions`` one (which starts with a zero byte: its count's high byte)."""
    if value[:1] == b"\0":
        found: list[int] = _OLD.decode_positions(value)
        return found
    return decode(value)


class CompactPositions(formats.Positions):
    """Whoosh's ``Positions`` with values of varint gaps and no count (see the module)."""

    def encode(self, poslist: Iterable[int]) -> bytes:
        return encode(poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return decode(valuestring)

    def decode_frequency(self, valuestring: bytes) -> int:
        return frequency(valuestring)


_WIDTHS = ((1, "B"), (2, "H"), (4, "I"))
"""Widths (bytes) of a packed block's numbers, by code, and their ``struct`` letters."""
_PLANES = 0x10
"""The flag of a block's widths byte for the layout :func:`pack_block` writes:
numbers in byte planes, values not separated. Blocks written before it (no
flag) hold numbers whole and a zero byte between two values; both are read."""
_ONE_BYTE = tuple(bytes((byte,)) for byte in range(256))


def _width(numbers: Sequence[int]) -> int:
    """The code of the narrowest width that holds ``numbers`` (not negative)."""
    largest = max(numbers, default=0)
    return 0 if largest < 0x100 else 1 if largest < 0x10000 else 2


def _planes(numbers: Sequence[int], code: int) -> bytes:
    """``numbers`` at width ``code``, their low bytes first, then the next ones..."""
    width, letter = _WIDTHS[code]
    whole = struct.pack(f"<{len(numbers)}{letter}", *numbers)
    return whole if width == 1 else b"".join(whole[plane::width] for plane in range(width))


def pack_block(gaps: Sequence[int], frequencies: Sequence[int], values: Sequence[bytes]) -> bytes | None:
    """A block's document number gaps, whole frequencies and values (those
    :func:`encode` makes, one for each posting) as :func:`block` reads them:
    a byte of widths, the count, the gaps, the frequencies unless all are 1,
    each in byte planes, then the values one after the other; None if the
    values do not hold as many positions as the frequencies say (a boosted
    field's)."""
    joined = b"".join(values)
    if len(joined.translate(None, _HIGH)) != sum(frequencies):
        return None
    ones = sum(frequencies) == len(frequencies)  # frequencies are 1 or more
    gap_width = _width(gaps)
    frequency_width = 0 if ones else 1 + _width(frequencies)
    parts = [bytes((gap_width | frequency_width << 2 | _PLANES,)), encode((len(gaps) - 1,)), _planes(gaps, gap_width)]
    if not ones:
        parts.append(_planes(frequencies, frequency_width - 1))
    parts.append(joined)
    return b"".join(parts)


_HIGH = bytes(range(0x80, 0x100))
"""The bytes of a varint that are not its last."""


def _numbers(data: bytes, at: int, count: int, code: int, planes: bool) -> NDArray[np.uint32]:
    """``count`` numbers of width ``code`` from ``data[at:]``, in byte planes or whole."""
    width = _WIDTHS[code][0]
    if width == 1:
        return np.frombuffer(data, np.uint8, count, at).astype(np.uint32)
    if not planes:
        return np.frombuffer(data, f"<u{width}", count, at).astype(np.uint32)
    split = np.frombuffer(data, np.uint8, count * width, at).reshape(width, count)
    return split.T.copy().view(f"<u{width}").ravel().astype(np.uint32)


Numbers = tuple["NDArray[np.uint32]", "NDArray[np.uint32] | None", int]
"""A packed block's gaps, frequencies (None when all are 1), and where its values start."""


def numbers(data: bytes) -> Numbers:
    """The gaps and frequencies of a packed block (of either layout), and where its values start."""
    widths = data[0]
    planes = bool(widths & _PLANES)
    count, at = _count(data)
    gaps = _numbers(data, at, count, widths & 3, planes)
    at += _WIDTHS[widths & 3][0] * count
    frequencies = None
    if widths >> 2 & 3:
        code = (widths >> 2 & 3) - 1
        frequencies = _numbers(data, at, count, code, planes)
        at += _WIDTHS[code][0] * count
    return gaps, frequencies, at


def _count(data: bytes) -> tuple[int, int]:
    """A packed block's posting count, as encode() wrote it (from -1), and where its gaps start."""
    count = 0
    for shift, byte in enumerate(data[1:6]):
        count |= (byte & 0x7F) << 7 * shift
        if byte < 0x80:
            return count, shift + 2
    raise ValueError("not a packed block")


def _stops(data: bytes, at: int, frequencies: NDArray[np.uint32] | None) -> NDArray[np.intp]:
    """Where each value of a block :func:`pack_block` made ends, from ``at``:
    after its frequency's count of last varint bytes (under 0x80)."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8, offset=at) < 0x80) + 1
    return ends if frequencies is None else ends[np.cumsum(frequencies) - 1]


def block(data: bytes) -> tuple[tuple[int, ...], tuple[int, ...] | None, tuple[bytes, ...]]:
    """The block :func:`pack_block` made ``data`` of, as Whoosh's W3 blocks
    unpickle: gaps, frequencies (None when all are 1) and values."""
    gaps, frequencies, at = numbers(data)
    values = data[at:]
    if not data[0] & _PLANES:
        found = tuple(values.split(b"\0"))
    elif frequencies is None and len(values) == len(gaps):
        found = tuple(map(_ONE_BYTE.__getitem__, values))
    else:
        stops = _stops(data, at, frequencies).tolist()
        found = tuple(map(values.__getitem__, map(slice, [0, *stops[:-1]], stops)))
    return tuple(gaps.tolist()), None if frequencies is None else tuple(frequencies.tolist()), found


def select(data: bytes, wanted: NDArray[np.integer[Any]]) -> list[tuple[int, int, bytes]]:
    """(document number, frequency, value) of the postings of ``wanted``
    (ascending document numbers) in a packed block: of the layout
    :func:`pack_block` writes, only their values are cut out of the block."""
    gaps, frequencies, at = numbers(data)
    ids = np.cumsum(gaps, dtype=np.int64)
    hits = np.flatnonzero(wanted[np.minimum(np.searchsorted(wanted, ids), len(wanted) - 1)] == ids)
    if not len(hits):
        return []
    counts = repeat(1) if frequencies is None else frequencies[hits].tolist()
    if not data[0] & _PLANES:
        values = data[at:].split(b"\0")
        return [(d, f, values[i]) for d, f, i in zip(ids[hits].tolist(), counts, hits.tolist(), strict=False)]
    stops = _stops(data, at, frequencies)
    starts = np.where(hits > 0, stops[hits - 1], 0) + at
    ends = stops[hits] + at
    return [(d, f, data[s:e]) for d, f, s, e in zip(ids[hits].tolist(), counts, starts.tolist(), ends.tolist(),
                                                     strict=False)]
