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
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import accumulate

from whoosh import formats

__all__ = ["CompactPositions", "decode", "encode", "frequency", "positions"]


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
