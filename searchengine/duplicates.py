"""Duplicate articles: a small key per article at index time, groups per
snapshot, and folding a query's duplicates into the best-ranked copy.

News collections hold the same story several times: the same dispatch filed
twice, or rewritten a little as it was updated (OrangeSum: about 2,400 pairs of
bodies sharing half their word triples or more). Each article's body gets a
**MinHash signature** of its word triples (lower-cased words between spaces),
cut into ``BANDS`` bands of ``ROWS`` values, each band hashed to 64 bits: the
``dupkeys`` column, 80 bytes an article. Two bodies share a band with
probability 1 - (1 - J⁵)¹⁰ for a Jaccard similarity J of their triples: ~1
for copies (identical normalised bodies have identical keys), 0.84 at J 0.7,
0.27 at 0.5, 0.02 at 0.3. Bodies under ``MIN_WORDS`` words get no key: they
say too little to call two articles one.

A snapshot's groups are the connected articles (sharing a band, directly or
through others), computed from the column in a few array passes after each
commit, and kept beside the index as ``_<index>_<generation>.groups``: the
articles that have a duplicate and their groups, so that a fresh process
reads a file the size of the duplicates, not every article's keys (0.4 s of
CPU for 361,520 articles). An index written by older code, or read between
a commit and its file, has its groups computed on its first query, as
before. A query then folds, among its matching articles, every member of a
group into the best-ranked one: an array lookup and a sort of the matching
grouped articles alone (a few percent of them), so paging, totals and the
rest of the ranking see one collapsed list.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh.columns import FixedBytesColumn

from .errors import IndexCorrupt
from .sidefiles import replace_side_file, side_filename
from .whooshformat import numeric_column

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .scoring import DocIds, Floats, Mask

__all__ = ["BANDS", "COLUMN", "MIN_WORDS", "ROWS", "DuplicateGroups", "column_type", "duplicate_key", "duplicate_keys",
           "group_keys", "groups_filename", "load_groups", "stored_groups", "verify_groups", "write_groups"]

COLUMN = "dupkeys"
"""The schema's column of duplicate keys; an index built before it has none."""
BANDS = 10
ROWS = 5
MIN_WORDS = 20
"""Shorter bodies get no key."""
MAX_BYTES = 200_000
"""Bytes of a body read for its key: news articles are tens of KB, and a key
computed from a body's first 200 KB still tells copies apart."""
_KEY_BYTES = 8 * BANDS
_ROUNDS = (np.uint64(30), np.uint64(0xBF58476D1CE4E5B9), np.uint64(27), np.uint64(0x94D049BB133111EB),
           np.uint64(31))
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(0x100000001B3)
"""The polynomial hash of a word's bytes is a sum of byte × _BASE**i (odd, so invertible modulo 2**64)."""


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: every input bit flips half the output bits."""
    a, m1, b, m2, c = _ROUNDS
    x = x ^ (x >> a)
    x = x * m1
    x = x ^ (x >> b)
    x = x * m2
    return x ^ (x >> c)


def _powers(base: np.uint64, count: int) -> NDArray[np.uint64]:
    powers = np.full(count, base, dtype=np.uint64)
    powers[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(powers, dtype=np.uint64)


@cache
def _power_tables() -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """The powers of ``_BASE`` and of its inverse for every byte a key reads:
    made for the first key, not on import (3 MB, a millisecond or two of every query)."""
    return _powers(_BASE, MAX_BYTES + 1), _powers(np.uint64(pow(int(_BASE), -1, 2**64)), MAX_BYTES + 1)


with np.errstate(over="ignore"):
    _MULTIPLIERS = _mix(np.arange(1, BANDS * ROWS + 1, dtype=np.uint64) * _GOLDEN)[:, None] | np.uint64(1)
    """One hash function per MinHash value, x → x × m (m odd, so a permutation of the
    already mixed triple hashes): fixed, so keys agree across runs and machines."""
    _ROW_WEIGHTS = _mix(np.arange(1, ROWS + 1, dtype=np.uint64) * _BASE)
    """A band's key hashes the weighted sum of its values, so that their order counts."""


def column_type() -> FixedBytesColumn:
    """The column's type in the schema: ``BANDS`` 64-bit keys, zeros when none."""
    return FixedBytesColumn(_KEY_BYTES)


def duplicate_key(body: str) -> bytes:
    """The ``dupkeys`` value of an article's body (``b""``: none, too short)."""
    return duplicate_keys([body])[0]


def duplicate_keys(bodies: Sequence[str]) -> list[bytes]:
    """:func:`duplicate_key` of each body, computed for as many bodies at
    once as fit in ``MAX_BYTES``: a few array passes for the lot rather than
    a score of small ones per article, which cost more than their arithmetic."""
    keys: list[bytes] = []
    group: list[bytes] = []
    size = 0
    for body in bodies:
        data = body.lower().encode("utf-8", "surrogatepass")[:MAX_BYTES]
        if group and size + len(data) + 1 > MAX_BYTES:
            keys += _group_keys(group)
            group, size = [], 0
        group.append(data)
        size += len(data) + 1
    if group:
        keys += _group_keys(group)
    return keys


def _group_keys(texts: list[bytes]) -> list[bytes]:
    """The keys of lower-cased UTF-8 bodies joined by one blank (at most
    ``MAX_BYTES`` in all). A word's hash is a polynomial hash of its bytes
    (words: runs of bytes between spaces, line ends and other control
    characters); a body's MinHash takes its word triples, each band of its
    signature then hashed to 64 bits, zero meaning none."""
    data = np.frombuffer(b" ".join(texts), dtype=np.uint8)
    blank = np.ones(len(data) + 2, dtype=np.int8)
    np.less_equal(data, 32, out=blank[1:-1].view(bool))
    edges = np.flatnonzero(np.diff(blank))  # a word's start, then its end, in turn
    starts, ends = edges[0::2], edges[1::2]
    sums = np.zeros(len(data) + 1, dtype=np.uint64)
    powers, inverse = _power_tables()
    np.cumsum(data * powers[:len(data)], dtype=np.uint64, out=sums[1:])
    h = (sums[ends] - sums[starts]) * inverse[starts]
    # Each word's body, and each body's words.
    firsts = np.cumsum([0] + [len(text) + 1 for text in texts[:-1]])
    owner = np.searchsorted(firsts, starts, side="right") - 1
    words = np.bincount(owner, minlength=len(texts))
    keyed = words >= MIN_WORDS
    keys = [b""] * len(texts)
    if not keyed.any():
        return keys
    triples = _mix((h[:-2] * _GOLDEN + h[1:-1]) * _GOLDEN + h[2:])
    inside = (owner[:-2] == owner[2:]) & keyed[owner[:-2]]
    triples = triples[inside]
    bodies = np.flatnonzero(keyed)
    first_triples = np.searchsorted(owner[:-2][inside], bodies)
    # One hash function at a time: its products stay in the processor's cache,
    # where all of them at once (a 50 × triples array) go through memory, twice as slow.
    signature = np.empty((len(_MULTIPLIERS), len(bodies)), dtype=np.uint64)
    product = np.empty_like(triples)
    for row, multiplier in zip(signature, _MULTIPLIERS[:, 0], strict=True):
        np.multiply(triples, multiplier, out=product)
        np.minimum.reduceat(product, first_triples, out=row)
    signature = signature.T
    band = _mix((signature.reshape(len(bodies), BANDS, ROWS) * _ROW_WEIGHTS).sum(axis=2, dtype=np.uint64))
    band[band == 0] = 1  # zero means "no key"
    raw = band.astype("<u8").tobytes()
    for i, body in enumerate(bodies.tolist()):
        keys[body] = raw[i * _KEY_BYTES:(i + 1) * _KEY_BYTES]
    return keys


def group_keys(keys: NDArray[np.uint64], live: Mask) -> NDArray[np.int64]:
    """Each document's group: the lowest document number among those it is
    connected to by shared band keys (itself, when it shares none). ``keys``
    is (documents, ``BANDS``), 0 for none; deleted documents join no group.
    Counting each band's keys into buckets first leaves only the few
    documents whose bucket another shares to sort. Two to four buckets a
    document: with more, zeroing the counts costs more than the sort they
    spare (this runs on the first query of every fresh process)."""
    size = len(keys)
    label = np.arange(size, dtype=np.int64)
    buckets = 1 << max(10, (2 * size).bit_length())
    runs: list[tuple[DocIds, DocIds]] = []
    for band in range(keys.shape[1] if size else 0):
        column = keys[:, band]
        present = (column != 0) & live
        bucket = (column & np.uint64(buckets - 1)).astype(np.intp)
        docs = np.flatnonzero(present & (np.bincount(bucket[present], minlength=buckets)[bucket] > 1))
        values = column[docs]
        order = np.argsort(values)
        docs, values = docs[order], values[order]
        same = values[1:] == values[:-1]
        shared = np.zeros(len(docs), dtype=bool)
        shared[1:] |= same
        shared[:-1] |= same
        docs, values = docs[shared], values[shared]
        if len(docs):
            runs.append((docs, np.flatnonzero(np.r_[True, values[1:] != values[:-1]])))
    changed = bool(runs)
    while changed:
        changed = False
        for docs, starts in runs:
            lowest = np.repeat(np.minimum.reduceat(label[docs], starts), np.diff(np.r_[starts, len(docs)]))
            if (lowest < label[docs]).any():
                label[docs] = np.minimum(label[docs], lowest)
                changed = True
        label = label[label]
    return label


@dataclass(frozen=True)
class DuplicateGroups:
    """The groups of one snapshot: ``group`` per document, and ``grouped``,
    whether a document has any duplicate at all."""

    group: NDArray[np.int64]
    grouped: Mask

    @classmethod
    def from_keys(cls, keys: NDArray[np.uint64], live: Mask) -> DuplicateGroups:
        group = group_keys(keys, live)
        return cls(group, np.bincount(group, minlength=len(group))[group] > 1)

    @classmethod
    def from_members(cls, size: int, members: DocIds, groups: DocIds) -> DuplicateGroups:
        """The groups of ``size`` documents of which ``members`` (ascending) have duplicates, in ``groups``."""
        group = np.arange(size, dtype=np.int64)
        group[members] = groups
        grouped = np.zeros(size, dtype=bool)
        grouped[members] = True
        return cls(group, grouped)

    def collapse(self, candidates: DocIds, tier: NDArray[np.int8], scores: Floats) -> DocIds:
        """``candidates`` (ascending) less every duplicate of a better-ranked
        one (by tier, then score, then document number)."""
        grouped = candidates[self.grouped[candidates]]
        if not len(grouped):
            return candidates
        groups = self.group[grouped]
        order = np.lexsort((grouped, -scores[grouped], -tier[grouped], groups))
        groups = groups[order]
        later = np.r_[False, groups[1:] == groups[:-1]]
        keep = np.ones(len(candidates), dtype=bool)
        keep[np.searchsorted(candidates, grouped[order][later])] = False
        return candidates[keep]

    def count_folded(self, matched: DocIds) -> int:
        """How many of ``matched`` (ascending) :meth:`collapse` leaves out,
        whatever their ranking: those with duplicates, less one per group.
        Counted without sorting: a query of common words matches most articles."""
        grouped = matched[self.grouped[matched]]
        seen = np.zeros(len(self.group), dtype=bool)
        seen[self.group[grouped]] = True
        return len(grouped) - int(np.count_nonzero(seen))

    def members(self, doc: int) -> list[int]:
        """Every document of ``doc``'s group, itself included (ascending)."""
        if not self.grouped[doc]:
            return [doc]
        found: list[int] = np.flatnonzero(self.group == self.group[doc]).tolist()
        return found

    def folded(self, doc: int, matched: DocIds) -> list[int]:
        """The other members of ``doc``'s group among ``matched`` (ascending)."""
        if not self.grouped[doc]:
            return []
        same = matched[self.group[matched] == self.group[doc]]
        found: list[int] = same[same != doc].tolist()
        return found


def load_groups(searcher: Any, live: Mask) -> DuplicateGroups | None:
    """The groups of the index ``searcher`` reads; None for an index built
    before duplicate keys existed (it searches without folding)."""
    schema = searcher.schema
    if COLUMN not in schema:
        return None
    keys = np.zeros((len(live), BANDS), dtype=np.uint64)
    for leaf, offset in searcher.reader().leaf_readers():
        raw = numeric_column(leaf, COLUMN, schema[COLUMN].column_type)
        rows = np.frombuffer(raw, dtype="<u8", count=len(raw) // 8 // BANDS * BANDS).reshape(-1, BANDS)
        keys[offset:offset + len(rows)] = rows
    return DuplicateGroups.from_keys(keys, live)


_STORED = struct.Struct("<8sIQQII")
"""A groups file's header: its magic, format, generation, documents, members
and the fingerprint of the segments it was made for; then the members
(ascending) and their groups as 32-bit numbers, then the CRC-32 of the rest."""
_MAGIC = b"nsgroups"
_FORMAT = 1
def groups_filename(indexname: str, generation: int) -> str:
    return side_filename(indexname, generation, "groups")


def _segments(searcher: Any) -> int:
    """A fingerprint of the segments a reader reads, in its order: the groups hold its document numbers."""
    reader = searcher.reader()
    parts = [f"{leaf.segment().segment_id()}:{leaf.doc_count_all()}:{leaf.doc_count()}"
             for leaf, _ in reader.leaf_readers()]
    return zlib.crc32(" ".join(parts).encode())


def write_groups(folder: str | os.PathLike[str], indexname: str, searcher: Any, live: Mask) -> int | None:
    """Compute the groups of the index as ``searcher`` sees it (just
    committed; ``live``: its documents not deleted) and write them beside
    its generation; remove the files of other generations. Returns how many
    articles have a duplicate, None for an index without keys (no file). A
    file that cannot be written is left out: queries compute the groups."""
    groups = load_groups(searcher, live)
    generation = searcher.reader().generation()
    data = None
    if groups is not None:
        members = np.flatnonzero(groups.grouped)
        body = (_STORED.pack(_MAGIC, _FORMAT, generation, len(live), len(members), _segments(searcher))
                + members.astype("<i4").tobytes() + groups.group[members].astype("<i4").tobytes())
        data = body + struct.pack("<I", zlib.crc32(body))
    # A file that cannot be written (a full disk, say): queries compute this generation's groups.
    replace_side_file(folder, indexname, generation, "groups", data)
    return None if groups is None else int(groups.grouped.sum())


def _read(folder: str | os.PathLike[str], indexname: str, generation: int,
          searcher: Any | None = None) -> DuplicateGroups | None:
    """The groups ``generation``'s file holds; None if it has none; ValueError
    (or OSError) if it is damaged or unreadable, or, given the ``searcher``
    of that generation, was made for other segments."""
    try:
        raw = (Path(folder) / groups_filename(indexname, generation)).read_bytes()
    except FileNotFoundError:
        return None
    if len(raw) < _STORED.size + 4 or struct.unpack_from("<I", raw, len(raw) - 4)[0] != zlib.crc32(raw[:-4]):
        raise ValueError("its own checksum differs")
    magic, form, written, size, count, segments = _STORED.unpack_from(raw)
    if magic != _MAGIC or form != _FORMAT or written != generation:
        raise ValueError(f"it is of format {form}, generation {written}")
    if len(raw) != _STORED.size + 8 * count + 4:
        raise ValueError(f"it holds {len(raw)} bytes for {count} articles")
    if searcher is not None and (size != searcher.doc_count_all() or segments != _segments(searcher)):
        raise ValueError("it was made for other segments")
    numbers = np.frombuffer(raw, dtype="<i4", count=2 * count, offset=_STORED.size).astype(np.int64)
    members, groups = numbers[:count], numbers[count:]
    if count and (members[0] < 0 or members[-1] >= size or (np.diff(members) <= 0).any()
                  or (groups < 0).any() or (groups > members).any()):
        raise ValueError("its articles are out of order")
    return DuplicateGroups.from_members(size, members, groups)


def stored_groups(folder: str | os.PathLike[str], indexname: str, searcher: Any) -> DuplicateGroups | None:
    """The groups kept beside the generation ``searcher`` reads; None where
    there are none to read (no file yet, or a damaged one: ``newsearch info
    --check`` names it), for the caller to compute them."""
    try:
        return _read(folder, indexname, searcher.reader().generation(), searcher)
    except (OSError, ValueError):
        return None


def verify_groups(folder: str | os.PathLike[str], indexname: str, generation: int) -> bool:
    """Whether ``generation`` has a groups file; IndexCorrupt naming it if it is damaged."""
    name = groups_filename(indexname, generation)
    try:
        return _read(folder, indexname, generation) is not None
    except OSError as exc:
        raise IndexCorrupt(Path(folder), f"cannot read {name}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise IndexCorrupt(Path(folder), f"{name} is damaged: {exc}") from exc
