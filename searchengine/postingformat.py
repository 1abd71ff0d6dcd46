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
high bytes), then every value, a zero byte between two (a value holds none:
its gaps are 1 or more, and a varint's last byte is zero only for 0), so
that one ``split`` reads them. A block pickled as a call of :func:`block` on
that string (:mod:`~searchengine.whooshformat` writes it) unpickles to the
very tuple Whoosh reads, in stock Whoosh too, as the schema's pickle imports
this module before any posting is read; the call names :func:`block` by the
extension code :data:`BLOCK_CODE` (``copyreg``), registered when this module
is imported, in 2 bytes rather than 35. With Whoosh's deflate over them,
packed blocks take 10 % less room than the first packed layout (whole numbers,
no flag, the function named in full; both are read), and queries are as
fast. (Without the zero bytes, 11 % less again, but cutting the values out
in Python, or with NumPy, made reading a block 2 to 5 times slower, and lede
queries 18 % slower, phrases 49 %.)
"""

from __future__ import annotations

import copyreg
import struct
from collections.abc import Iterable, Sequence
from itertools import accumulate, chain
from typing import TYPE_CHECKING

import numpy as np
from whoosh import formats

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["BLOCK_CODE", "CompactPositions", "block", "decode", "encode", "frequency", "pack_block", "positions",
           "positions_of"]


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


def positions_of(values: Sequence[bytes]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """How many positions each of ``values`` holds, and all their positions
    one value after another: :func:`positions` of each, decoded together in a
    few array operations (a phrase checks hundreds of articles, and a value
    read alone costs a Python call, several where a gap is over 127). Values
    of Whoosh's ``Positions`` (an older index's) are read one by one."""
    if not values:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    data = np.frombuffer(b"".join(values), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    if not lengths.all() or not data[starts].all():  # Whoosh's values start with a zero byte
        each = [positions(value) for value in values]
        return (np.fromiter(map(len, each), dtype=np.int64, count=len(each)),
                np.fromiter(chain.from_iterable(each), dtype=np.int64))
    last = data < 0x80  # the bytes that end a varint
    if last.all():  # every gap under 128: the common case
        gaps = data.astype(np.int64)
        counts = lengths
    else:
        ends = np.flatnonzero(last)
        firsts = np.concatenate(([0], ends[:-1] + 1))
        varint: NDArray[np.int64] = np.cumsum(last, dtype=np.int64) - last
        shifts = 7 * (np.arange(len(data)) - firsts[varint])
        gaps = np.add.reduceat((data & 0x7F).astype(np.int64) << shifts, firsts)
        before = np.concatenate(([0], np.cumsum(last)))
        counts = before[starts + lengths] - before[starts]
    summed = np.cumsum(gaps)
    ahead = np.concatenate(([0], summed))[np.cumsum(counts) - counts]  # the gaps of the values before each
    return counts, summed - np.repeat(ahead, counts) - 1


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
"""The flag, in a packed block's byte of widths, of numbers in byte planes
(:func:`pack_block`); blocks written before hold them whole."""


def _width(numbers: Sequence[int]) -> int:
    """The code of the narrowest width that holds ``numbers`` (not negative)."""
    largest = max(numbers, default=0)
    return 0 if largest < 0x100 else 1 if largest < 0x10000 else 2


def _planes(numbers: Sequence[int], code: int) -> bytes:
    """``numbers`` at width ``code``: every low byte, then every next one..."""
    if code == 0:
        return bytes(numbers)
    width, letter = _WIDTHS[code]
    whole = struct.pack(f"<{len(numbers)}{letter}", *numbers)
    return b"".join(whole[plane::width] for plane in range(width))


def pack_block(gaps: Sequence[int], frequencies: Sequence[int], values: Sequence[bytes]) -> bytes | None:
    """A block's document number gaps, whole frequencies and values (those
    :func:`encode` makes, one for each posting) as :func:`block` reads them:
    a byte of widths, the count, the gaps, the frequencies unless all are 1,
    each in byte planes, then the values with a zero byte between two; None
    if a value holds a zero byte (a position twice)."""
    joined = b"\0".join(values)
    if joined.count(0) != len(values) - 1:
        return None
    ones = frequencies.count(1) == len(frequencies)
    gap_width = _width(gaps)
    frequency_width = 0 if ones else 1 + _width(frequencies)
    parts = [bytes((gap_width | frequency_width << 2 | _PLANES,)), encode((len(gaps) - 1,)), _planes(gaps, gap_width)]
    if not ones:
        parts.append(_planes(frequencies, frequency_width - 1))
    return b"".join((*parts, joined))


def _numbers(data: bytes, at: int, count: int, code: int, planes: bool) -> tuple[int, ...]:
    """``count`` numbers of width ``code`` from ``data[at:]``, in byte planes or whole."""
    width, letter = _WIDTHS[code]
    if planes and width > 1:
        whole = bytearray(count * width)
        for plane in range(width):
            whole[plane::width] = data[at + plane * count:at + (plane + 1) * count]
        return struct.unpack(f"<{count}{letter}", whole)
    return struct.unpack_from(f"<{count}{letter}", data, at)


def block(data: bytes) -> tuple[tuple[int, ...], tuple[int, ...] | None, tuple[bytes, ...]]:
    """The block :func:`pack_block` made ``data`` of, as Whoosh's W3 blocks
    unpickle: gaps, frequencies (None when all are 1) and values."""
    widths = data[0]
    planes = bool(widths & _PLANES)
    count = at = 0
    for shift, byte in enumerate(data[1:6]):  # the count, as encode() wrote it (from -1)
        count |= (byte & 0x7F) << 7 * shift
        if byte < 0x80:
            at = shift + 2
            break
    gaps = _numbers(data, at, count, widths & 3, planes)
    at += _WIDTHS[widths & 3][0] * count
    frequencies: tuple[int, ...] | None = None
    if widths >> 2 & 3:
        code = (widths >> 2 & 3) - 1
        frequencies = _numbers(data, at, count, code, planes)
        at += _WIDTHS[code][0] * count
    return gaps, frequencies, tuple(data[at:].split(b"\0"))


BLOCK_CODE = 0xF1
"""The ``copyreg`` extension code of :func:`block`, of the range PEP 307
leaves to private use (240-255): a pickled block names the function by it."""
copyreg.add_extension(__name__, block.__qualname__, BLOCK_CODE)
