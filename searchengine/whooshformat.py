"""Whoosh's private on-disk format: the one module that knows it.

newsearch writes and reads the files of the W3 codec of **whoosh-reloaded
2.7.x** (TOC version -111) more directly than Whoosh's public API allows: it
writes whole posting lists at once (``fastwriter``), and reads whole posting
lists and columns into arrays (``scoring``). Everything that relies on the
layout rather than on Whoosh's API is here, both ways:

- **posting lists**: the header magic, then blocks of (length, pickled block
  info, pickled and maybe compressed ids, weights and values); the term table
  entries (``W3TermInfo``: statistics, then the list's extent or the
  postings themselves when inlined, as lists of one posting are); the value
  of a posting of the text fields (:mod:`~searchengine.postingformat`'s, or
  Whoosh's ``Positions``' in an index written before);
- **the field writer's internals** the posting lists are written through
  (``W3FieldWriter._postfile``, ``_tindex``, ``_fieldid``, ``_codec``);
- **stored texts**: a segment's stored-text file (:mod:`~searchengine.storedtext`)
  and each document's stored fields read with it and with its id and date
  columns (:class:`StoredFields`, :func:`with_stored_texts` for merges);
- **id tables**: a segment's file of its articles by id (:mod:`~searchengine.idtable`),
  written from its ``id`` column (:func:`write_ids`) and read with it
  (:meth:`StoredFields.with_id`);
- **columns**: a numeric column's big-endian values and default, the length
  columns, reading one segment's column without opening its terms, the
  offsets of the values of the id and stored-fields columns (:class:`_SummedOffsets`);
- **files**: segments (compound or not) and the TOC, which :func:`commit_toc`
  writes itself so that a checksum file can precede it; the files' names
  and generations (:func:`latest_generation`, :func:`toc_filename`,
  :func:`is_index_file`), and an index whose TOC is not written yet
  (:class:`NewIndex`);
- **reads in place**: :class:`MappedStorage` maps each file and reads it
  without a shared file position, so one open index serves many threads.

:class:`CheckedIndex` checks at open that the installed Whoosh and the index
are of the versions above (:class:`~searchengine.errors.UnknownIndexFormat`
otherwise), and that every file the commit recorded is there at its size
(see *Checksums* below). A new version of Whoosh means reading this module
against its ``codec/whoosh3.py``, ``filedb/structfile.py``, ``columns.py``
and ``index.py``, then widening :data:`KNOWN_RELEASE`.

**Checksums.** Each commit writes ``_<index>_<generation>.sums`` before the
TOC of that generation: the size and CRC-32 of every file the TOC uses (the
segment files and the TOC itself), as one line of JSON followed by the CRC-32
of that line. A segment file never changes once written, so a commit reuses
the previous generation's sums for the segments it keeps and reads only the
files it wrote. A crash before the TOC is renamed into place leaves the old
TOC with its own ``.sums``; the sums of older generations are deleted after
the commit, with Whoosh's files of those generations. A generation without
``.sums`` (an index last committed before checksums were recorded) opens
unchecked, and :func:`verify_files` says it cannot verify it until its next
commit. Like Whoosh, nothing here calls ``fsync``: the order of the renames
protects an index from a killed process, not from a power cut.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import pickle
import re
import struct
import threading
import time
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from itertools import accumulate, chain
from operator import sub
from pathlib import Path
from typing import Any, cast

import numpy as np
import whoosh
from whoosh import fields as wfields
from whoosh.codec.base import PerDocumentReader
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3Segment,
    W3TermInfo,
    _lenfield,
)
from whoosh.columns import Column, ColumnReader, CompressedBytesColumn, NumericColumn, PickleColumn, VarBytesColumn
from whoosh.filedb.filestore import FileStorage, RamStorage, Storage
from whoosh.filedb.structfile import StructFile
from whoosh.index import _CURRENT_TOC_VERSION, TOC, FileIndex, clean_files
from whoosh.reading import IndexReader, TermNotFound
from whoosh.system import IS_LITTLE, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from . import postingformat, scorelists
from .errors import IndexCorrupt, IndexNotFound, UnknownIndexFormat
from .idtable import EXT as ID_TABLE_EXT
from .idtable import IdTable, write_id_table
from .postingformat import CompactPositions
from .scorelists import EXT as SCORE_LISTS_EXT
from .scorelists import ScoreLists, ScoreListWriter
from .storedtext import EXT as STORED_TEXT_EXT
from .storedtext import StoredTexts, StoredTextWriter

__all__ = [
    "KNOWN_RELEASE", "ONE_POSITION", "TOC_VERSION", "Block", "CheckedIndex", "FlatPostings", "Inlined",
    "MappedFile", "MappedStorage", "NewIndex", "PostingListWriter", "StoredFields", "Verification", "block_index",
    "block_postings", "byte_to_length", "check_whoosh", "column_default", "commit_toc", "decode", "decode_positions",
    "encode_positions", "field_lengths", "id_table", "ids_in_tables", "is_index_file", "latest_generation",
    "length_column", "numeric_column", "numeric_dtype", "part_sizes", "plain_positions", "quantised_length",
    "score_list_writer", "score_lists", "segment_column", "stored_text_writer", "stored_texts", "term_postings",
    "toc_filename", "verify_files", "with_stored_texts", "write_ids", "writes_w3",
]

KNOWN_RELEASE = (2, 7)
"""The whoosh-reloaded release (major, minor) whose format this module knows."""
TOC_VERSION = -111
"""The TOC format of that release (``whoosh.index._CURRENT_TOC_VERSION``)."""

_INSTALLED = whoosh.__version__


def _release(version: Sequence[int]) -> str:
    return ".".join(map(str, version))


def check_whoosh(folder: str | os.PathLike[str]) -> None:
    """Refuse to read or write an index with a Whoosh whose format this module does not know."""
    if tuple(_INSTALLED[:2]) != KNOWN_RELEASE or _CURRENT_TOC_VERSION != TOC_VERSION:
        raise UnknownIndexFormat(
            Path(folder), f"newsearch knows whoosh-reloaded {_release(KNOWN_RELEASE)}.x's format; "
                          f"the installed whoosh-reloaded is {_release(_INSTALLED)}")


# Reading files in place, without a shared position


class _Reader:
    """A file-like view of a :class:`MappedFile` from one position, for pickle."""

    __slots__ = ("end", "file", "position")

    def __init__(self, file: MappedFile, position: int) -> None:
        self.file = file
        self.position = position
        self.end = file._end - file._start

    def read(self, n: int = -1) -> bytes:
        start = self.position
        stop = self.end if n < 0 else min(start + n, self.end)
        self.position = max(stop, start)
        return self.file.get(start, stop - start)

    def readline(self) -> bytes:
        base = self.file._start
        found = self.file._buf.find(b"\n", base + self.position, base + self.end)
        return self.read(self.end - self.position if found < 0 else found - base - self.position + 1)


class MappedFile(StructFile):
    """A read-only Whoosh file in memory (an mmap, or bytes), safe to share
    between threads.

    Whoosh's ``StructFile.get(pos, n)`` is a ``seek`` then a ``read`` of one
    shared file position, so two threads reading the same open file read each
    other's bytes. Here ``get`` and the ``get_*`` methods slice the buffer, and
    the sequential methods (``seek``, ``read``, ``tell``, ``read_pickle`` and
    the ``read_*`` built on them, which Whoosh uses to open files and to step
    through posting blocks) keep one position per thread. ``subset`` (a file
    inside a compound segment) is a window on the same buffer.
    """

    def __init__(self, buf: mmap.mmap | bytes, name: str | None = None,
                 onclose: Callable[[MappedFile], object] | None = None,
                 start: int = 0, end: int | None = None, owner: bool = True) -> None:
        self.file = buf
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_closed = False
        self.is_real = False
        self._start = start
        self._end = len(buf) if end is None else end
        self._owner = owner
        self._cursor = threading.local()

    def get(self, position: int, length: int) -> bytes:
        start = self._start + position
        return self._buf[start:min(start + length, self._end)]

    def get_array(self, position: int, typecode: str, length: int) -> array[int] | array[float]:
        values = array(typecode)
        values.frombytes(self.get(position, length * values.itemsize))
        if IS_LITTLE:
            values.byteswap()
        return values

    def subset(self, position: int, length: int, name: str | None = None) -> MappedFile:
        start = self._start + position
        return MappedFile(self._buf, name=name or self._name, start=start, end=min(start + length, self._end),
                          owner=False)

    def tell(self) -> int:
        return getattr(self._cursor, "position", 0)

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            position += self.tell()
        elif whence == os.SEEK_END:
            position += self._end - self._start
        self._cursor.position = position
        return position

    def read(self, n: int | None = -1) -> bytes:
        position = self.tell()
        data = self.get(position, self._end - self._start - position if n is None or n < 0 else n)
        self._cursor.position = position + len(data)
        return data

    def readline(self) -> bytes:
        reader = _Reader(self, self.tell())
        line = reader.readline()
        self._cursor.position = reader.position
        return line

    def read_pickle(self) -> Any:
        reader = _Reader(self, self.tell())
        value = pickle.Unpickler(reader).load()
        self._cursor.position = reader.position
        return value

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def flush(self) -> None:
        """Nothing to flush: the file is read-only."""

    def close(self) -> None:
        if self.is_closed:
            raise ValueError(f"{self._name} is already closed")
        if self.onclose:
            self.onclose(self)
        if self._owner and isinstance(self._buf, mmap.mmap):
            self._buf.close()
        self.is_closed = True


class MappedStorage(FileStorage):
    """Whoosh's folder storage, reading each file in place through mmap,
    position-free (:class:`MappedFile`), and opening indexes as :class:`CheckedIndex`.

    With Whoosh's own mmap support every segment file is copied into memory
    when it is opened (0.1 s and the index's size in RAM for a query); without
    it, every small read is a system call (a few milliseconds a query).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(str(path), supports_mmap=False)

    def open_file(self, name: str, **kwargs: Any) -> MappedFile:
        with open(os.path.join(self.folder, name), "rb") as fh:
            try:
                mapped: mmap.mmap | bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped
                mapped = b""
        return MappedFile(mapped, name=name, **kwargs)

    def open_index(self, indexname: str = "MAIN", schema: wfields.Schema | None = None,
                   indexclass: type[FileIndex] | None = None) -> FileIndex:
        return super().open_index(indexname, schema=schema, indexclass=indexclass or CheckedIndex)


class CheckedIndex(FileIndex):
    """A Whoosh index whose format and files are checked when it is opened.

    ``FileIndex`` reads its TOC once when opened, to see that it can; this
    reads it in its place, after the TOC's header has said which format it
    is, then checks each segment's codec and the files the commit recorded
    (:func:`_check_files`: existence and sizes, no file read). So the checks
    cost an open one small file and a ``stat`` per segment file, and queries
    nothing.
    """

    def __init__(self, storage: Storage, schema: wfields.Schema | None = None, indexname: str = "MAIN") -> None:
        self.storage = storage
        self._schema = schema
        self.indexname = indexname
        folder = Path(storage.folder)
        check_whoosh(folder)
        for attempt in range(_OPEN_ATTEMPTS):
            generation = latest_generation(storage, indexname)
            try:
                if generation >= 0:  # else Whoosh's TOC.read raises EmptyIndexError
                    _check_toc_sum(storage, indexname, generation, folder)
                    _check_toc_header(storage, indexname, generation, folder)
                toc = TOC.read(storage, indexname, generation, schema=schema)
            except FileNotFoundError:
                # A commit since the generation was listed removed its TOC.
                if attempt + 1 == _OPEN_ATTEMPTS or latest_generation(storage, indexname) == generation:
                    raise
                continue
            for segment in toc.segments:
                if not isinstance(segment, W3Segment) or not isinstance(segment.codec(), W3Codec):
                    raise UnknownIndexFormat(
                        folder, f"newsearch knows whoosh-reloaded {_release(KNOWN_RELEASE)}.x's W3 codec; "
                                f"segment {segment.segment_id()} is {type(segment).__name__}")
            try:
                _check_files(storage, indexname, toc.generation, folder)
                return
            except IndexCorrupt:
                # A commit since the TOC was read removes the files it no longer uses.
                if attempt + 1 == _OPEN_ATTEMPTS or latest_generation(storage, indexname) == generation:
                    raise


_OPEN_ATTEMPTS = 3


def _check_toc_sum(storage: Storage, indexname: str, generation: int, folder: Path) -> None:
    """The TOC against the checksum its commit recorded, before a byte of it
    is unpickled: a damaged TOC is reported as damage, not as whatever
    unpickling garbage raises (or as a format of another version)."""
    name = toc_filename(indexname, generation)
    recorded = (_read_sums(storage, indexname, generation) or {}).get(name)
    if recorded is None:
        return
    try:
        with open(os.path.join(storage.folder, name), "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return  # a newer commit removed it: the caller reads the newer one
    if [len(data), zlib.crc32(data)] != recorded:
        raise IndexCorrupt(folder, f"{name} is damaged: it differs from the checksum its commit recorded")


def _check_toc_header(storage: Storage, indexname: str, generation: int, folder: Path) -> None:
    """The format a TOC declares, read from its header (what ``TOC.read`` reads first)."""
    name = toc_filename(indexname, generation)
    stream = storage.open_file(name)
    try:
        sizes = [stream.read_varint() for _ in range(3)]
        stream.read_int()  # -12345: byte order
        version = stream.read_int()
        release = tuple(stream.read_varint() for _ in range(3))
    except (struct.error, IndexError, ValueError) as exc:
        raise IndexCorrupt(folder, f"{name} is damaged: {exc}") from exc
    finally:
        stream.close()
    if version != TOC_VERSION or release[:2] != KNOWN_RELEASE:
        raise UnknownIndexFormat(
            folder, f"newsearch knows whoosh-reloaded {_release(KNOWN_RELEASE)}.x's format (TOC version "
                    f"{TOC_VERSION}); this index declares TOC version {version}, written by whoosh "
                    f"{_release(release)}")
    if sizes != [4, 8, 4]:
        raise UnknownIndexFormat(folder, f"this index was written on a machine with other sizes of numbers {sizes}")


# The index's files and generations


def latest_generation(storage: Storage, indexname: str) -> int:
    """The generation of the newest TOC in ``storage`` (-1 if there is none),
    read from the file names alone: the TOC itself may be damaged."""
    return int(TOC._latest_generation(storage, indexname))


def toc_filename(indexname: str, generation: int) -> str:
    """The name of the TOC of ``generation``."""
    return str(TOC._filename(indexname, generation))


def is_index_file(name: str, indexname: str) -> bool:
    """Whether a file name is one an index writes (TOCs, checksum files and
    their temporary files, segment files), not one someone else put in the
    folder: the names Whoosh's clean-up after a commit matches too."""
    return name.startswith(f"_{indexname}_") or TOC._segment_pattern(indexname).match(name) is not None


class NewIndex(FileIndex):
    """An index written from nothing, whose TOC (no segments yet) lives in
    memory until the first commit writes one.

    So a first build killed before its commit leaves no TOC, and the folder
    reads as "no index", not as an empty one. And since its generation is
    that of the newest TOC in the folder (a writer commits the next one), a
    rebuild commits over the old index without reading a byte of it, whatever
    state it is in (a damaged TOC, missing segments); until that commit,
    searches see the old index. The commit then deletes the old index's
    files, and only those (:func:`is_index_file`).
    """

    def __init__(self, storage: Storage, schema: wfields.Schema, indexname: str) -> None:
        # Not FileIndex.__init__, which reads the TOC on disk to check it.
        self.storage = storage
        self.indexname = indexname
        self._schema = schema
        self._generation = latest_generation(storage, indexname)

    def _read_toc(self) -> TOC:
        """What Whoosh's writers read to start from: no segments."""
        return TOC(self._schema, [], self._generation)


# Writing posting lists

_BLOCK_PICKLE = 4
"""Posting blocks are pickled with protocol 4, not Whoosh's 2: protocol 2 turns
each value (bytes) into a call to _codecs.encode on a latin-1 string. With 4
a block pickles ~9x faster, is half the size before zlib and a third after,
and unpickles ~9x faster when searching; Whoosh's reader takes any protocol."""

_BLOCK_LEVEL = 6
"""zlib's level for posting blocks, not the W3 codec's 3: on OrangeSum the
blocks come out 0.8 % smaller (39.97 → 39.64 MiB of the 1× index's 44.4) in
the same time (5.2 s of CPU either way), and inflating costs the same; level
9 saves nothing more. Each block records its level, which Whoosh's reader
only tests for zero."""

_COMPRESS_MIN_BYTES = 120
"""Smaller blocks (most terms occur in a few documents) are written
uncompressed: deflate makes them longer, or shorter by a few bytes, and a
call costs about as much whatever the size under a few KB (60 µs on this
project's build host, most of it setting up). On the first 10,000 articles of
OrangeSum, from 60 bytes to 120 saves a quarter of the 35,400 calls (about
0.7 s of the build's 37 s of CPU) for 7.7 KB more of 14 MB of postings."""

_COMPACT_PICKLE = 3
"""Blocks of :class:`~searchengine.postingformat.CompactPositions` fields, all
blocks' info and inlined postings are pickled with protocol 3 without a memo
and without the protocol header (:class:`_CompactPickler`): protocol 4 adds a 9-byte
frame to every block, the memo a 2-byte entry after every value and tuple,
which nothing reads back, and the header 2 bytes that an unpickler does not
need (it reads any opcode): 4 of a block info's 20 or so bytes."""

_PACKED_MIN_POSTINGS = 8
"""Blocks of :class:`~searchengine.postingformat.CompactPositions` fields of
at least this many postings are pickled as one call of
:func:`~searchengine.postingformat.block` (:func:`_packed_call`): smaller ones,
a few bytes shorter packed, unpickle several times faster as Whoosh's tuple
(1 µs against 6 for 8 postings), and most lists are that short."""

_PACKED_CALL = b"\x82" + bytes((postingformat.BLOCK_CODE,))
"""Pickle's EXT1 opcode naming :func:`~searchengine.postingformat.block` by its
extension code (:data:`~searchengine.postingformat.BLOCK_CODE`): 2 bytes, not
the 35 of its module and name (GLOBAL, which blocks written before hold)."""


def _packed_call(data: bytes) -> bytes:
    """The pickle of ``postingformat.block(data)``: EXT1, the bytes (SHORT_BINBYTES or BINBYTES),
    TUPLE1, REDUCE, STOP; unpickled by any Python 3 that imported :mod:`~searchengine.postingformat`
    (as unpickling the schema does)."""
    size = len(data)
    length = b"C" + bytes((size,)) if size < 256 else b"B" + size.to_bytes(4, "little")
    return b"".join((_PACKED_CALL, length, data, b"\x85R."))


_QUANTISED = [byte_to_length(b) for b in range(256)]
ONE_POSITION: dict[int, bytes] = {}
"""``encode_positions([p])`` of each position ``p`` met so far: most terms occur
once in a document, and one shared value per position saves making it again."""


def writes_w3(codec: object) -> bool:
    """Whether :class:`PostingListWriter` can write for this codec."""
    return isinstance(codec, W3Codec)


def plain_positions(field: wfields.FieldType) -> bool:
    """Whether a field's postings are :class:`~searchengine.postingformat.CompactPositions`
    with no boost: what :func:`encode_positions` makes. The ``Positions`` fields of an
    index written before it are indexed through Whoosh's own ``FieldType.index``."""
    return type(field.format) is CompactPositions and field.format.field_boost == 1.0


def encode_positions(positions: list[int]) -> bytes:
    """``CompactPositions.encode``: the positions' varint gaps."""
    encoded = postingformat.encode(positions)
    if len(positions) == 1:
        ONE_POSITION[positions[0]] = encoded
    return encoded


class _CompactPickler:
    """Pickles as :data:`_COMPACT_PICKLE` says, with one pickler and buffer
    for all the calls: making them took two thirds of each call (1.4 µs a
    block info, not 3.8), and a writer pickles two or three things a term.
    Without a memo, a pickler keeps nothing from one call to the next; each
    writer has its own (not shared between threads)."""

    def __init__(self) -> None:
        self.out = BytesIO()
        self.pickler = pickle.Pickler(self.out, _COMPACT_PICKLE)
        self.pickler.fast = True  # no memo: a block holds no object twice

    def __call__(self, data: object) -> bytes:
        out = self.out
        out.seek(0)
        out.truncate()
        self.pickler.dump(data)
        return out.getvalue()[2:]  # without PROTO 3


def field_lengths(perdoc: PerDocumentReader, fieldname: str) -> list[int] | None:
    """Each document's length in ``fieldname`` as the byte the index stores
    (None if the field is not scored)."""
    name = _lenfield(fieldname)
    if not perdoc.has_column(name):
        return None
    return list(perdoc.column_reader(name, LENGTHS_COLUMN))


FlatPostings = list[int | float | bytes]
"""One term's postings in one list, ``[docnum, weight, value, docnum, ...]``:
an int, a float (or an int) and bytes (``b""`` for none) for each posting."""


class _TermTable:
    """Adds a field's entries to the segment's term table (the W3 field
    writer's ``OrderedHashWriter``) exactly as ``OrderedHashWriter.add``
    does, but keeps the file position itself: Whoosh asks the file for it
    twice per term, a system call each, and hashes each key through a hex
    string. The table's hash tables are written with fewer empty slots
    (:func:`_write_hash_tables`)."""

    def __init__(self, tindex: Any) -> None:
        self.tindex = tindex
        self.dbfile = tindex.dbfile
        self.position: int = tindex.dbfile.tell()
        self.md5 = tindex.hashtype == 0
        """Whoosh's default hash (MD5's last 32 bits), computed here from the digest."""
        tindex._write_hashes = partial(_write_hash_tables, tindex)

    def add(self, key: bytes, value: bytes) -> None:
        tindex = self.tindex
        if key <= tindex.lastkey:
            raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{key!r}")
        position = self.position
        tindex.index.append(position)
        self.dbfile.write(_KEY_VALUE_LENGTHS.pack(len(key), len(value)) + key + value)
        self.position = position + _KEY_VALUE_LENGTHS.size + len(key) + len(value)
        hashed = (int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[12:], "big") if self.md5
                  else tindex.hashfn(key))
        tindex.buckets[hashed & 255].append((hashed, position))
        tindex.lastkey = key


_KEY_VALUE_LENGTHS = struct.Struct("!ii")
"""``filetables._lengths``: a term table entry's key and value lengths."""
_TERM_INFO = W3TermInfo._struct
_SLOT = struct.Struct("!Iq")
"""``filetables._pointer``: a hash table slot, the key's hash and its entry's position (0, 0 when empty)."""
_EMPTY_SLOT = _SLOT.pack(0, 0)
_SPARE_SLOTS = 4
"""A hash table of ``n`` entries has ``n + ceil(n / 4)`` slots, not Whoosh's
``2n``: 12 bytes a slot, so at ten times OrangeSum (341,000 terms) the term
tables are 2.9 MiB smaller. Whoosh reads any number of slots (it probes from
``(hash >> 8) % slots`` to the key or an empty slot); a lookup probes more:
on the 170,000 terms of a segment of that index, through Whoosh's reader,
15.1 µs a term found rather than 12.8, 25.6 µs a term not found rather
than 8.6."""


def _write_hash_tables(tindex: Any) -> None:
    """``HashWriter._write_hashes`` with :data:`_SPARE_SLOTS`: the 256 hash
    tables of a term table, linear probing from ``(hash >> 8) % slots``."""
    dbfile = tindex.dbfile
    for entries in tindex.buckets:
        slots = len(entries) + -(-len(entries) // _SPARE_SLOTS)
        tindex.directory.append((dbfile.tell(), slots))
        table: list[bytes] = [_EMPTY_SLOT] * slots
        for hashed, position in entries:
            slot = (hashed >> 8) % slots
            while table[slot] is not _EMPTY_SLOT:
                slot = (slot + 1) % slots
            table[slot] = _SLOT.pack(hashed, position)
        dbfile.write(b"".join(table))


class PostingListWriter:
    """Writes a field's posting lists a term at a time, in the layout of the W3
    codec of whoosh-reloaded 2.7 (``W3PostingsWriter._write_block`` and
    ``finish_postings``, ``W3FieldWriter.finish_term``), which would otherwise
    take them a posting at a time.

    Departures, all read back unchanged by Whoosh: blocks are deflated at
    :data:`_BLOCK_LEVEL` and the term table's hash tables have fewer empty
    slots (:func:`_write_hash_tables`); blocks are pickled with
    ``_BLOCK_PICKLE`` (those of ``CompactPositions`` fields, with whole
    frequencies as integers, by :class:`_CompactPickler`), their info by
    :class:`_CompactPickler`, and those under
    ``_COMPRESS_MIN_BYTES`` are stored uncompressed (each block says whether
    it is), which saves a zlib call for most terms for 0.05 % more
    postings; a list of one posting is kept in its term's entry (:meth:`_inline`);
    blocks of at least ``_PACKED_MIN_POSTINGS`` postings of those fields are
    pickled as one call of :func:`~searchengine.postingformat.block` on their
    packed bytes (:func:`_packed_call`), which unpickles to the same tuple.

    Most terms are in a few documents, so a list of one block (up to 128
    postings) takes a path of its own with the same bytes, and the term's
    entry (``W3TermInfo.to_bytes``) is packed here rather than through an
    object.
    """

    def __init__(self, fieldwriter: W3FieldWriter, fieldname: str, fieldobj: wfields.FieldType,
                 lengths: list[int] | None, scores: ScoreListWriter | None = None) -> None:
        fieldwriter.start_field(fieldname, fieldobj)
        self.fieldwriter = fieldwriter
        self.fieldname = fieldname
        self.level = _BLOCK_LEVEL if fieldwriter._codec._compression else 0
        self.blocksize = fieldwriter._codec._blocklimit
        self.fixedsize = fieldobj.format.fixed_value_size()
        self.variable = self.fixedsize is None or self.fixedsize < 0
        """Whether values are pickled as a tuple (as ``Positions``' are), not joined."""
        self.postfile = fieldwriter._postfile
        self.offset = self.postfile.tell()
        self.prefix = pack_ushort(fieldwriter._fieldid)
        self.terms = _TermTable(fieldwriter._tindex)
        self.lengths = lengths
        """Each document's length in this field, as the byte the index stores (None if unscored)."""
        self.scores = scores if lengths is not None else None
        """Where the field's long lists also go as score lists (:mod:`~searchengine.scorelists`)."""
        self.quantised = (np.array(_QUANTISED, dtype=np.float64)[np.array(lengths, dtype=np.intp)]
                          if self.scores is not None and lengths else np.zeros(0))
        self.compact = isinstance(fieldobj.format, CompactPositions)
        """Whether blocks take whole frequencies as integers and are pickled by :class:`_CompactPickler`."""
        self.pickled = _CompactPickler()

    def _values(self, values: list[bytes]) -> tuple[bytes, ...] | bytes | None:
        """A block's values as ``W3PostingsWriter._write_block`` pickles them."""
        if self.variable:
            return tuple(values)
        return b"".join(values) if self.fixedsize else None

    def write(self, tbytes: bytes, postings: FlatPostings) -> None:
        """One term's flat posting list, in document order."""
        count = len(postings) // 3
        if count > self.blocksize or self.scores is not None and count >= scorelists.MIN_POSTINGS:
            self._write_blocks(tbytes, postings)
            return
        if count == 1:
            self._inline(tbytes, *cast("tuple[int, float, bytes]", postings))
            return
        ids = cast("list[int]", postings[0::3])
        chunk = array("f", cast("list[float]", postings[1::3]))
        values = cast("list[bytes]", postings[2::3])
        if not all(values):  # as add_posting, which keeps only non-empty values
            values = [value for value in values if value]
        info, data, blockmax, low, high = self._block(ids, chunk, values)
        blob = b"".join((WHOOSH3_HEADER_MAGIC, pack_int(-(len(info) + len(data))), info, data))
        self.postfile.write(blob)
        self._add_term(tbytes, 0.0 + sum(chunk), count, low, high, max(0, blockmax), ids[0], ids[-1], len(blob))

    def _block(self, ids: Sequence[int], chunk: array[float], values: list[bytes]
               ) -> tuple[bytes, bytes, float, int, int]:
        """One block as ``W3PostingsWriter._write_block`` writes it: its info and data (delta-coded ids;
        weights None when all 1, one when all equal; values), and its largest weight and shortest and
        longest lengths (as bytes, 0 for none) for the term's statistics."""
        count = len(ids)
        low = high = 0
        if self.lengths is not None:
            known = list(map(self.lengths.__getitem__, ids))
            if 0 in known:
                known = [length for length in known if length]
            if known:
                low = min(known)
                high = max(known)
        blockmax: float = max(max(chunk), 0)
        mini_weights: tuple[float, ...] | float | None
        if chunk.count(1.0) == count:
            mini_weights = None
        elif chunk.count(chunk[0]) == count:
            mini_weights = chunk[0]  # Whoosh reads one float as "all equal"
        else:
            mini_weights = tuple(chunk)
        gaps = tuple(map(sub, ids, chain((0,), ids)))
        whole = self.compact and (mini_weights is None or all(map(float.is_integer, chunk)))
        if not whole:
            data = pickle.dumps((gaps, mini_weights, self._values(values)), _BLOCK_PICKLE)
        else:  # whole frequencies as integers (2 or 3 bytes pickled, not 9), read back as equal numbers
            blockmax = int(blockmax)
            frequencies = (1,) * count if mini_weights is None else tuple(map(int, chunk))
            packed = (postingformat.pack_block(gaps, frequencies, values)
                      if count >= _PACKED_MIN_POSTINGS and len(values) == count else None)
            if packed is not None:
                data = _packed_call(packed)
            else:
                if isinstance(mini_weights, tuple):
                    mini_weights = frequencies
                data = self.pickled((gaps, mini_weights, self._values(values)))
        comp = self.level if len(data) >= _COMPRESS_MIN_BYTES else 0
        if comp:
            data = zlib.compress(data, comp)
        info = self.pickled((count, ids[-1], blockmax, comp, low, high))
        return info, data, blockmax, low, high

    def _inline(self, tbytes: bytes, docnum: int, weight: float, value: bytes) -> None:
        """A list of one posting, kept in its term's entry (``W3TermInfo``'s inlined postings,
        which Whoosh reads but its writer never makes): about 40 bytes less than a list of
        one block, whose header, length and block info alone take 30."""
        length = self.lengths[docnum] if self.lengths is not None else 0
        whole = float(weight).is_integer()
        # No value is None, as Whoosh's block reader gives it (its list reader gives "" for none).
        postings = self.pickled(((docnum,), (int(weight) if whole else weight,), (value or None,)))
        entry = _TERM_INFO.pack(True, weight, 1, length, length, max(0, weight), docnum, docnum)
        self.terms.add(self.prefix + tbytes, entry + postings)

    def _add_term(self, tbytes: bytes, weight: float, count: int, minlength: int, maxlength: int,
                  maxweight: float, first: int, last: int, size: int) -> None:
        """The term's entry, as ``W3TermInfo.to_bytes`` packs it (lengths as bytes), then its list's extent."""
        entry = _TERM_INFO.pack(False, weight, count, minlength, maxlength, maxweight, first, last)
        self.terms.add(self.prefix + tbytes, entry + pack_long(self.offset) + pack_int(size))
        self.offset += size

    def _write_blocks(self, tbytes: bytes, postings: FlatPostings) -> None:
        """A list of several blocks (and any list long enough for a score list)."""
        docs = array("I", cast("list[int]", postings[0::3]))
        weights = array("f", cast("list[float]", postings[1::3]))
        values = cast("list[bytes]", postings[2::3])
        if not all(values):  # as add_posting, which keeps only non-empty values
            values = [value for value in values if value]
        count = len(docs)
        blocksize = self.blocksize
        parts = [WHOOSH3_HEADER_MAGIC]
        weight = 0.0
        minlength = 0  # as length bytes, 0 for none
        maxlength = 0
        maxweight: float = 0
        for begin in range(0, count, blocksize):
            end = begin + blocksize
            ids = docs[begin:end]
            chunk = weights[begin:end]
            info, data, blockmax, low, high = self._block(ids, chunk, values[begin:end])
            # The term's statistics, as W3TermInfo.add_block gathers them.
            weight += sum(chunk)
            if low and (not minlength or low < minlength):
                minlength = low
            maxlength = max(maxlength, high)
            maxweight = max(maxweight, blockmax)
            blocklength = len(info) + len(data)
            parts += (pack_int(blocklength if end < count else -blocklength), info, data)
        blob = b"".join(parts)
        self.postfile.write(blob)
        self._add_term(tbytes, weight, count, minlength, maxlength, maxweight, docs[0], docs[-1], len(blob))
        if self.scores is not None:
            self.scores.add(self.fieldname, tbytes, docs, weights, self.quantised)

    def finish(self) -> None:
        self.fieldwriter.finish_field()


# Reading posting lists

Block = tuple[int, int, int, int, int]
"""Where one block of a posting list is: (posting count, last document number,
compression, start and end of its data)."""

_BLOCK_LENGTH = struct.Struct("!i")


Inlined = tuple[tuple[int, ...], tuple[float, ...], tuple[bytes, ...]]
"""A short posting list, kept in its term's entry: (ids, weights, values)."""


def term_postings(leaf: IndexReader, fieldname: str, term: str) -> Inlined | bytes | None:
    """One segment's postings of ``term``: inlined in the term's entry, the
    bytes of its posting list (see :func:`block_index`), or None if the
    segment does not hold it."""
    try:
        info = leaf.term_info(fieldname, term)
    except TermNotFound:
        return None
    if info.is_inlined():
        inlined: Inlined = info.inlined_postings()
        return inlined
    position, length = info.extent()
    if isinstance(length, tuple):  # whoosh-reloaded 2.7 reads the length back as a 1-tuple
        (length,) = length
    data: bytes = leaf._terms._postfile.get(position, length)
    return data


def score_lists(leaf: IndexReader) -> ScoreLists | None:
    """The score lists of one segment (:mod:`~searchengine.scorelists`), or
    None if it has none, or none that can be read (it is then read from its
    W3 blocks alone)."""
    segment = leaf._segment
    storage = leaf._storage
    name = segment.make_filename(SCORE_LISTS_EXT)
    try:
        if not storage.file_exists(name):
            return None
        return ScoreLists(storage.open_file(name), storage.file_length(name))
    except (OSError, ValueError, KeyError, TypeError, EOFError, pickle.UnpicklingError, struct.error,
            OverflowError, MemoryError, AttributeError, IndexError, ImportError):  # what unpickling garbage raises
        return None


def score_list_writer(storage: Storage, segment: W3Segment, b: float) -> ScoreListWriter:
    """A writer of the score lists of a segment being written."""
    return ScoreListWriter(segment.create_file(storage, SCORE_LISTS_EXT), b)


def stored_text_writer(storage: Storage, segment: W3Segment, fieldnames: Sequence[str]) -> StoredTextWriter:
    """A writer of the stored texts (:mod:`~searchengine.storedtext`) of a segment being written."""
    return StoredTextWriter(segment.create_file(storage, STORED_TEXT_EXT), fieldnames)


def stored_texts(leaf: IndexReader) -> StoredTexts | None:
    """The stored texts of one segment, or None if it keeps them in Whoosh's
    stored fields (written by an older newsearch, or by Whoosh). A file that
    cannot be read raises: the articles' text is in it."""
    name = leaf._segment.make_filename(STORED_TEXT_EXT)
    storage = leaf._storage
    if not storage.file_exists(name):
        return None
    return StoredTexts(storage.open_file(name), storage.file_length(name))


_IN_COLUMNS = ("id", "date")
"""Fields an index made by newsearch keeps in their columns rather than among
Whoosh's stored fields (``stored=False, sortable=True``): a pickled dictionary
per document, deflated alone, cost 110 bytes an article for an id and a date."""


class _SummedOffsets(VarBytesColumn.Reader):
    """Whoosh's reader of a column of variable-length values, but where the
    column holds only their lengths (a segment of at most 32,768 documents),
    each value's offset is summed by NumPy rather than in a Python loop, which
    for the ids and stored fields was 6 % of a fresh query on OrangeSum (36 M
    instructions of 653 M)."""

    def _read_offsets_and_lengths(self) -> None:
        lastbyte = self._basepos + self._length - 1
        code = chr(self._dbfile.get_byte(lastbyte))
        if code == "X":  # offsets written too: Whoosh reads them without a loop
            super()._read_offsets_and_lengths()
            return
        count = self._doccount
        lengths = self._dbfile.get_array(lastbyte - np.dtype(code).itemsize * count, code, count)
        offsets = np.zeros(count, dtype=np.int64)
        np.cumsum(np.frombuffer(lengths, dtype=code)[:-1], dtype=np.int64, out=offsets[1:])
        self._offsets = array("q", offsets.tobytes())
        self._lengths = lengths


class _SummedCompressed(_SummedOffsets, CompressedBytesColumn.Reader):
    """Whoosh's reader of a deflated column (its stored fields'), offsets summed as :class:`_SummedOffsets`."""


class _SummedVarBytesColumn(VarBytesColumn):
    def reader(self, dbfile: StructFile, basepos: int, length: int, doccount: int) -> ColumnReader:
        return _SummedOffsets(dbfile, basepos, length, doccount)


class _SummedCompressedColumn(CompressedBytesColumn):
    def reader(self, dbfile: StructFile, basepos: int, length: int, doccount: int) -> ColumnReader:
        return _SummedCompressed(dbfile, basepos, length, doccount, self._module)


_SUMMED_STORED = PickleColumn(_SummedCompressedColumn())
"""Whoosh's column of stored fields (W3's ``STORED_COLUMN``), read with :class:`_SummedCompressed`."""


def _read_stored_column(reader: IndexReader) -> None:
    """Open the segment's stored-fields column, if not yet, as Whoosh would on
    its first ``stored_fields``, offsets summed by :class:`_SummedCompressed`,
    into the cache Whoosh reads it from (where the codec is Whoosh's W3)."""
    perdoc = getattr(reader, "_perdoc", None)
    if isinstance(perdoc, W3PerDocReader) and "_stored" not in perdoc._readers:
        perdoc._cached_reader("_stored", _SUMMED_STORED)


def _column_values(reader: IndexReader) -> list[tuple[str, Any, Callable[[Any], Any], Any]]:
    """For each field of :data:`_IN_COLUMNS` that the reader's schema keeps in a
    column only: its name, its column (raw values, offsets summed as
    :class:`_SummedOffsets` for Whoosh's plain column of bytes), what turns a
    raw value into the field's value, and the raw value of a document without one."""
    found = []
    schema = reader.schema
    for name in _IN_COLUMNS:
        field = schema[name] if name in schema else None
        if field is None or field.stored or not field.column_type or not reader.has_column(name):
            continue
        summed = _SummedVarBytesColumn() if type(field.column_type) is VarBytesColumn else None
        found.append((name, reader.column_reader(name, summed, translate=False), field.from_column_value,
                      field.column_type.default_value()))
    return found


class StoredFields:
    """Each document's stored fields across the segments of one reader, its
    texts read from the segment's stored-text file where it has one, and its
    id and date from their columns where the schema keeps them there: what
    Whoosh's ``stored_fields`` gave before they moved. Also finds documents
    by id (:meth:`with_id`), where the schema gives ids no terms."""

    def __init__(self, reader: IndexReader) -> None:
        leaves = reader.leaf_readers()
        self.starts = [offset for _, offset in leaves]
        self.leaves = [(leaf, stored_texts(leaf), _column_values(leaf)) for leaf, _ in leaves]
        self._id_tables: list[tuple[int, IdTable | None, Any]] | None = None

    def with_id(self, article_id: str) -> list[int]:
        """The documents whose id is ``article_id`` (deleted ones too), in
        increasing order, in an index whose ids are in id tables
        (:func:`ids_in_tables`): each segment's table gives the documents of
        the id's hash, and the ``id`` column the ones of that very id. A
        segment without a table (merged by stock Whoosh) has every id of its
        column compared."""
        value = article_id.encode("utf-8", "surrogatepass")
        found: list[int] = []
        if not value:
            return found
        tables = self._id_tables
        if tables is None:  # opened on the first lookup: a query without hits needs none
            tables = self._id_tables = [(start, id_table(leaf), column)
                                        for start, (leaf, _, columns) in zip(self.starts, self.leaves, strict=True)
                                        for name, column, _, _ in columns if name == "id"]
        for start, table, column in tables:
            candidates = range(len(column)) if table is None else table.candidates(value)
            found.extend(start + docnum for docnum in candidates if column[docnum] == value)
        return found

    def __call__(self, docnum: int, texts: bool = True) -> dict[str, Any]:
        """The stored fields of ``docnum`` (a document number of the reader);
        without ``texts``, the texts a stored-text file holds are not read."""
        index = bisect_right(self.starts, docnum) - 1
        leaf, found, columns = self.leaves[index]
        local = docnum - self.starts[index]
        _read_stored_column(leaf)  # on a segment's first document read, as Whoosh opens it
        stored: dict[str, Any] = leaf.stored_fields(local)
        for name, column, translate, default in columns:
            raw = column[local]
            if raw != default:
                stored[name] = translate(raw)
        if texts and found is not None:
            stored.update(found.texts(local))
        return stored


class _WithStoredTexts:
    """A segment reader whose documents' stored fields include the texts of
    its stored-text file, for Whoosh's merge (``write_per_doc``), which copies
    ``iter_docs``; everything else is the reader's own."""

    def __init__(self, reader: IndexReader, texts: StoredTexts) -> None:
        self._reader = reader
        self._texts = texts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def iter_docs(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for docnum, stored in self._reader.iter_docs():
            yield docnum, {**stored, **self._texts.texts(docnum)}

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        return {**self._reader.stored_fields(docnum), **self._texts.texts(docnum)}


def with_stored_texts(reader: IndexReader) -> IndexReader:
    """``reader`` (one segment's, as merges add them) with its stored texts
    among its stored fields, as a writer merging it must copy them."""
    found = stored_texts(reader)
    return reader if found is None else cast("IndexReader", _WithStoredTexts(reader, found))


# Id tables


def ids_in_tables(schema: wfields.Schema) -> bool:
    """Whether an index of ``schema`` finds articles by id through id tables
    (:mod:`~searchengine.idtable`): its ``id`` field has a column and no terms.
    An index written before them keeps its schema, its id terms, and no tables."""
    if "id" not in schema:
        return False
    field = schema["id"]
    return not field.indexed and not field.stored and field.column_type is not None


def write_ids(storage: Storage, segment: W3Segment, perdoc: PerDocumentReader, column_type: Column) -> None:
    """Write the id table of a segment being written, from its ``id`` column
    read back through ``perdoc`` (so merged documents are in it too)."""
    ids = perdoc.column_reader("id", column_type) if perdoc.has_column("id") else ()
    write_id_table(segment.create_file(storage, ID_TABLE_EXT), ids)


def id_table(leaf: IndexReader) -> IdTable | None:
    """The id table of one segment, or None if it has none."""
    name = leaf._segment.make_filename(ID_TABLE_EXT)
    storage = leaf._storage
    if not storage.file_exists(name):
        return None
    return IdTable(storage.open_file(name), storage.file_length(name))


_USUAL_INFOS = {b"(K\x80J": struct.Struct("<4si10s"), b"(K\x80M": struct.Struct("<4sH10s")}
"""The info of nearly every block newsearch writes, by its first 4 bytes:
128 postings, the last document number in 4 or 2 bytes, then (checked) a
weight, compression and lengths of one byte each, ``t.``."""
_BLOCK_INFO = re.compile(
    rb"(?:\x80\x02)?\((?:K(.)|M(..)|J(....))(?:K(.)|M(..)|J(....))(?:K.|M..|J....|G.{8})K(.)K.K.t(?:q.)?\.",
    re.DOTALL)
"""Any other block info as newsearch pickles it (no header, no memo) and as
Whoosh does (protocol 2): small integers (BININT1, BININT2 or BININT, 1, 2
or 4 bytes, little-endian) but the weight, which may be a float (BINFLOAT)."""


def block_index(data: bytes) -> list[Block]:
    """The blocks of one W3 posting list: a header, then blocks of length,
    pickled block info and pickled, maybe compressed, data.

    The infos are unpacked (:data:`_USUAL_INFOS`) or matched
    (:data:`_BLOCK_INFO`) rather than unpickled, which took twice as many
    instructions: a fresh query at 10× OrangeSum walks 6,800 blocks of the
    lists of its common words to reach ten articles' positions. Any other
    pickle is unpickled."""
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("not a W3 posting list")
    usual = _USUAL_INFOS.get
    match = _BLOCK_INFO.match
    length_at = _BLOCK_LENGTH.unpack_from
    number = int.from_bytes
    stream = None
    blocks: list[Block] = []
    position = 4
    end = len(data)
    while position < end:
        (length,) = length_at(data, position)
        start = position + _BLOCK_LENGTH.size
        position = start + abs(length)
        shape = usual(data[start:start + 4])
        if shape is not None:
            _, last, tail = shape.unpack_from(data, start)
            if tail[0::2] == b"KKKKt" and tail[9] == 0x2E:  # weight, compression, lengths, TUPLE, STOP
                blocks.append((128, last, tail[3], start + shape.size, position))
                if length < 0:
                    break
                continue
        if info := match(data, start):
            c1, c2, c4, l1, l2, l4, compression = info.groups()
            blocks.append((c1[0] if c1 else number(c2 or c4, "little", signed=c4 is not None),
                           l1[0] if l1 else number(l2 or l4, "little", signed=l4 is not None),
                           compression[0], info.end(), position))
        else:
            stream = stream or BytesIO(data)
            stream.seek(start)
            count, last, _, compression, _, _ = pickle.load(stream)
            blocks.append((count, last, compression, stream.tell(), position))
        if length < 0:
            break
    return blocks


def _weights(stored: object, count: int) -> Sequence[float]:
    """A block's frequencies, which W3 stores as None when all are 1 and as
    one float when all are equal."""
    if stored is None:
        return [1.0] * count
    if isinstance(stored, float):
        return [stored] * count
    return stored  # type: ignore[return-value]


def block_postings(data: bytes, block: Block) -> tuple[Iterator[int], Sequence[float], Sequence[bytes]]:
    """The document numbers, frequencies and values of one block."""
    _, _, compression, start, end = block
    raw = data[start:end]
    deltas, stored, values = pickle.loads(zlib.decompress(raw) if compression else raw)
    return accumulate(deltas), _weights(stored, block[0]), values


def decode(data: bytes, ids: list[int], weights: list[float]) -> None:
    """Append the document numbers and frequencies of one posting list."""
    for block in block_index(data):
        some, stored, _ = block_postings(data, block)
        ids.extend(some)
        weights.extend(stored)


def decode_positions(value: bytes) -> list[int]:
    """The positions of a posting's value, :class:`~searchengine.postingformat.CompactPositions`'
    or, in an index written before it, Whoosh's ``Positions``' (:func:`~searchengine.postingformat.positions`)."""
    return postingformat.positions(value)


# Columns


def length_column(fieldname: str) -> tuple[str, NumericColumn]:
    """The column of each document's length in ``fieldname``: one byte each,
    which :func:`byte_to_length` turns back into a (quantised) length."""
    return _lenfield(fieldname), LENGTHS_COLUMN


def quantised_length(length: int) -> int:
    """A field's length as its length column keeps it (one byte, :func:`length_column`)."""
    quantised: int = byte_to_length(length_to_byte(length))
    return quantised


def column_default(column_type: NumericColumn) -> int | float:
    """The value a numeric column gives a document it holds nothing for."""
    default: int | float = column_type._default
    return default


def numeric_dtype(column_type: NumericColumn) -> str:
    """The NumPy dtype of a numeric column's values as stored (big-endian)."""
    typecode: str = column_type._typecode
    return ">" + typecode


def numeric_column(leaf: IndexReader, name: str, column_type: NumericColumn) -> bytes:
    """The written part of one segment's numeric column (``b""`` if it has
    none): documents past it have :func:`column_default`."""
    perdoc = leaf._perdoc
    if not perdoc.has_column(name):
        return b""
    column = perdoc.column_reader(name, column_type)
    count = min(column._count, leaf.doc_count_all())
    data: bytes = column._dbfile.get(column._basepos, count * column._fixedlen)
    return data


def segment_column(storage: Storage, segment: W3Segment, name: str, column_type: Column) -> list[Any]:
    """Each document's value of one column of one segment (empty if it has
    none), read without opening the segment's terms and postings."""
    files = segment.open_compound_file(storage) if segment.is_compound() else storage
    reader = segment.codec().per_document_reader(files, segment)
    try:
        if not reader.has_column(name):
            return []
        column = reader.column_reader(name, column_type)
        return list(column)
    finally:
        reader.close()
        if files is not storage:
            files.close()


def part_sizes(path: str | os.PathLike[str], indexname: str) -> dict[str, int]:
    """Bytes of each part of the index's segments, for size reports: by
    extension (``.pst`` postings, ``.trm`` terms, ``.nsl`` score lists,
    ``.nst`` stored texts, ``.nid`` id tables), columns by name (``stored.col`` for Whoosh's
    stored fields, ``body_len.col``...), inside compound segment files too."""
    storage = FileStorage(str(path))
    sizes: dict[str, int] = {}
    for segment in TOC.read(storage, indexname).segments:
        files = segment.open_compound_file(storage) if segment.is_compound() else storage
        try:
            for name in files.list():
                if not name.startswith(segment.segment_id()):
                    continue
                part = name[len(segment.segment_id()):].lstrip("._")
                part = part if part.endswith(".col") else "." + part
                sizes[part] = sizes.get(part, 0) + files.file_length(name)
        finally:
            if files is not storage:
                files.close()
    return sizes


# Commits and checksums

_SUMS_FORMAT = 1
_CHUNK = 1 << 20


def _sums_name(indexname: str, generation: int) -> str:
    return f"_{indexname}_{generation}.sums"


def _crc(path: str) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def _write_atomically(storage: FileStorage, name: str, data: bytes) -> None:
    """Write a whole file under a temporary name, then rename it into place."""
    temporary = f"{name}.{time.time_ns()}.tmp"
    with open(os.path.join(storage.folder, temporary), "wb") as fh:
        fh.write(data)
    os.replace(os.path.join(storage.folder, temporary), os.path.join(storage.folder, name))


def _read_sums(storage: Storage, indexname: str, generation: int) -> dict[str, list[int]] | None:
    """The recorded [size, crc32] of each file of ``generation``, or None if it
    has no checksum file; IndexCorrupt if the checksum file is damaged."""
    name = _sums_name(indexname, generation)
    path = os.path.join(storage.folder, name)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorrupt(Path(storage.folder), f"cannot read {name}: {exc.strerror or exc}") from exc
    body, _, check = raw.rstrip(b"\n").rpartition(b"\n")
    try:
        if int(check, 16) != zlib.crc32(body):
            raise ValueError("its own checksum differs")
        sums = json.loads(body)
        if sums["format"] != _SUMS_FORMAT or sums["generation"] != generation:
            raise ValueError(f"it is of format {sums['format']}, generation {sums['generation']}")
        return {file: [int(size), int(crc)] for file, (size, crc) in sums["files"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(Path(storage.folder), f"{name} is damaged: {exc}") from exc


def commit_toc(storage: FileStorage, indexname: str, schema: wfields.Schema, segments: list[W3Segment],
               generation: int) -> None:
    """Make ``segments`` the index's new generation: the checksum file, then
    the TOC (each written whole and renamed into place), then remove the files
    of older generations. ``SegmentWriter._commit_toc`` with checksums, for
    every newsearch writer."""
    ram = RamStorage()
    TOC(schema, segments, generation).write(ram, indexname)
    tocname = toc_filename(indexname, generation)
    toc = ram.files[tocname]
    previous = {}
    try:
        previous = _read_sums(storage, indexname, generation - 1) or {}
    except IndexCorrupt:
        pass  # the damaged sums are recomputed from the files
    sums = {tocname: [len(toc), zlib.crc32(toc)]}
    for segment in segments:
        for name in segment.list_files(storage):
            sums[name] = previous.get(name) or [storage.file_length(name), _crc(os.path.join(storage.folder, name))]
    body = json.dumps({"format": _SUMS_FORMAT, "generation": generation, "files": sums}, sort_keys=True).encode()
    _write_atomically(storage, _sums_name(indexname, generation), body + b"\n%08x\n" % zlib.crc32(body))
    _write_atomically(storage, tocname, toc)
    clean_files(storage, indexname, generation, segments)
    stale = re.compile(rf"^_{re.escape(indexname)}_(\d+)\.(?:sums|toc)(?:\.\d+\.tmp)?$")
    for name in storage.list():
        found = stale.match(name)
        if found and (int(found.group(1)) != generation or name.endswith(".tmp")):
            try:
                storage.delete_file(name)
            except OSError:
                pass  # removed by the next commit


def _check_files(storage: Storage, indexname: str, generation: int, folder: Path) -> None:
    """Every file the commit of ``generation`` recorded is there at its size
    (no file is read). An index committed before checksums were recorded has
    nothing to check."""
    sums = _read_sums(storage, indexname, generation)
    for name, (size, _) in (sums or {}).items():
        try:
            actual = os.path.getsize(os.path.join(storage.folder, name))
        except FileNotFoundError:
            raise IndexCorrupt(folder, f"{name} is missing") from None
        if actual != size:
            raise IndexCorrupt(folder, f"{name} is {actual} bytes long, not the {size} it had when committed")


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_files` read."""

    generation: int
    files: int
    size_bytes: int
    verified: bool
    """False for an index last committed before checksums were recorded: nothing
    could be checked (``files`` and ``size_bytes`` are 0) until its next commit."""


def verify_files(path: str | os.PathLike[str], indexname: str) -> Verification:
    """Read every file of the index's current generation and compare it with
    the size and CRC-32 its commit recorded.

    Raises :class:`~searchengine.errors.IndexCorrupt` naming the first file
    that is missing, of another size or of another checksum (or the checksum
    file itself, if it is damaged), and
    :class:`~searchengine.errors.IndexNotFound` if there is no index. An index
    last committed before checksums were recorded (no ``.sums`` file for its
    generation) is not an error: the result says ``verified=False``, and the
    next ``newsearch index`` records the checksums of every file it keeps.
    """
    folder = Path(path)
    storage = FileStorage(str(folder))
    attempts = 1
    while True:
        generation = latest_generation(storage, indexname) if folder.is_dir() else -1
        if generation < 0:
            raise IndexNotFound(folder)
        try:
            return _verify_generation(storage, indexname, generation, folder)
        except IndexCorrupt:
            # A commit meanwhile removes the files of the generation being read.
            if attempts == _OPEN_ATTEMPTS or latest_generation(storage, indexname) == generation:
                raise
            attempts += 1


def _verify_generation(storage: FileStorage, indexname: str, generation: int, folder: Path) -> Verification:
    sums = _read_sums(storage, indexname, generation)
    if sums is None:
        return Verification(generation, 0, 0, verified=False)
    _check_files(storage, indexname, generation, folder)
    for name, (_, crc) in sorted(sums.items()):
        try:
            actual = _crc(os.path.join(folder, name))
        except OSError as exc:
            raise IndexCorrupt(folder, f"cannot read {name}: {exc.strerror or exc}") from exc
        if actual != crc:
            raise IndexCorrupt(folder, f"{name} is damaged: its checksum is not the one recorded when it was committed")
    return Verification(generation, len(sums), sum(size for size, _ in sums.values()), verified=True)
