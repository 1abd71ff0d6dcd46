"""Id tables: where a segment's articles are, by id, without a term per id.

An article is found by its id (``newsearch show``, ``similar``, the shown id
of a hit whose id other articles share). Whoosh found it through a term per
id: at ten times OrangeSum, 30 MB of term tables and postings that held
nothing the ``id`` column does not (4 MB). Each segment newsearch writes
keeps instead one small file (``<segment>.nid``, inside the compound segment
file like Whoosh's files, so checksummed, copied and removed with them): a
32-bit hash (CRC-32) of each article's id, sorted, and the article's document
number beside it. A lookup hashes the id, finds its run of equal hashes by
binary search, and compares each of those articles' ids in the column with
the one asked for, so that two ids of one hash are told apart: 32 bits rather
than 64 cost a few such pairs in a segment of 100,000 articles, one more
column value read when they are met, and 4 bytes an article less.

Layout (``NID1``): ``NID1``, the number of documents listed (little-endian
32-bit), their hashes in increasing order (little-endian 32-bit), then their
document numbers in the same order (little-endian 32-bit, increasing among
equal hashes). Documents without an id are not listed.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from typing import Protocol

import numpy as np

__all__ = ["EXT", "IdTable", "id_hash", "write_id_table"]

EXT = ".nid"
_MAGIC = b"NID1"
_HEADER = struct.Struct("<4sI")


class _Sink(Protocol):
    def write(self, data: bytes) -> object: ...

    def close(self) -> object: ...


class _Source(Protocol):
    def get(self, position: int, length: int) -> bytes: ...


def id_hash(value: bytes) -> int:
    """The hash an id table sorts an id's UTF-8 bytes by."""
    return zlib.crc32(value)


def write_id_table(sink: _Sink, ids: Iterable[bytes]) -> None:
    """Write the table of a segment whose documents have ``ids`` (in document
    order, ``b""`` for a document without one) to ``sink``, and close it."""
    docnums = []
    hashes = []
    for docnum, value in enumerate(ids):
        if value:
            docnums.append(docnum)
            hashes.append(id_hash(value))
    keys = np.array(hashes, dtype="<u4")
    order = np.argsort(keys, kind="stable")
    sink.write(_HEADER.pack(_MAGIC, len(order)))
    sink.write(keys[order].tobytes())
    sink.write(np.array(docnums, dtype="<u4")[order].tobytes())
    sink.close()


class IdTable:
    """One segment's id table, read in place; :meth:`candidates` may be
    called by many threads at once."""

    def __init__(self, source: _Source, size: int) -> None:
        magic, count = _HEADER.unpack(source.get(0, _HEADER.size))
        if magic != _MAGIC or size != _HEADER.size + 8 * count:
            raise ValueError(f"not an id table of {count} documents in {size} bytes")
        self._source = source
        self._count = count
        self._hashes = array("I", source.get(_HEADER.size, 4 * count))
        """Python's array rather than NumPy's: ``bisect`` searches it in C, 4 times as fast for one id."""
        if sys.byteorder != "little":
            self._hashes.byteswap()

    def candidates(self, value: bytes) -> list[int]:
        """The documents whose id has the hash of ``value``, in increasing
        order: those with id ``value``, and maybe a few others."""
        hashes = self._hashes
        key = id_hash(value)
        first = last = bisect_left(hashes, key)
        while last < self._count and hashes[last] == key:  # a run of one, but for ids shared or of one hash
            last += 1
        if last == first:
            return []
        found = self._source.get(_HEADER.size + 4 * (self._count + first), 4 * (last - first))
        return list(struct.unpack(f"<{last - first}I", found))
