"""The ``state`` column of a segment, written compactly.

Each article's state (:mod:`~searchengine.indexing`) is ``file\\x1frecord\\x1f
fingerprint\\x1fsignature``: which record of which file it is, a 128-bit
fingerprint of its content in hex, and, on a file's last article, the file's
size and time. Kept as Whoosh's ``VarBytesColumn`` keeps bytes, that was 90
bytes an article on a JSON dump, 60 of them the file's absolute path, the same
for every article of the file, and 32 a hex digest. This column gives every
reader exactly those bytes back, but stores each distinct file once per
segment (a table after the records), the fingerprint as its 16 bytes, and a
record that is a line number (a decimal number) not at all where it is one
more than the previous document's: the numbers of a run of documents
follow from its first, kept in a table of runs. 19 bytes an article. A value
of any other shape (no ``\\x1f``, a fingerprint that is not 32 lower-case hex
digits) is stored as it is.

Layout (``NSC2``): the records, as a ``VarBytesColumn`` without offsets (the
column is read in order, when an index is updated); the table of files (each
a varint length and its bytes); the runs, the first document of each
(little-endian 32-bit) then its record number (64-bit); the table's length,
the file count and the run count (32-bit) and ``NSC2``. A record is empty for
no state; else ``0`` and the value itself, or ``1``, the file's varint number
in the table, the 16 bytes of the fingerprint, the record's varint length and
bytes, and the signature; or ``2``, the file's number, the fingerprint and
the signature, its record numbered by its run. Columns of the first layout
(``NSC1``: no runs, offsets after 32,768 records) read as before.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
from whoosh.columns import Column, ColumnReader, ColumnWriter, VarBytesColumn

__all__ = ["StateColumn"]

_MAGIC = b"NSC2"
_FOOTER = struct.Struct("<III4s")
_FIRST_MAGIC = b"NSC1"
_FIRST_FOOTER = struct.Struct("<II4s")
_RAW = b"\x00"
_COMPACT = 1
_NUMBERED = 2
_SEPARATOR = b"\x1f"
_DIGEST = 16
_HEX_DIGITS = frozenset(b"0123456789abcdef")
_LONGEST_NUMBER = 18
"""Digits of the longest record number kept as a number (it fits in 64 bits)."""


def _varint(number: int) -> bytes:
    out = bytearray()
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    number = shift = 0
    while True:
        byte = data[position]
        position += 1
        number |= (byte & 0x7F) << shift
        if byte < 0x80:
            return number, position
        shift += 7


def _number(record: bytes) -> int | None:
    """The line number ``record`` spells exactly (no sign, no leading zero), or None."""
    if 0 < len(record) <= _LONGEST_NUMBER and record.isdigit() and (record[0] != 0x30 or record == b"0"):
        return int(record)
    return None


class StateColumn(Column):
    """Bytes per document, like ``VarBytesColumn`` (``b""`` for none), with
    articles' states stored compactly (see the module). Pickled into the
    schema by name: it stays importable as ``searchengine.statecolumn.StateColumn``."""

    _default = b""

    def writer(self, dbfile: Any) -> StateColumn.Writer:
        return self.Writer(dbfile)

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int) -> StateColumn.Reader:
        return self.Reader(dbfile, basepos, length, doccount)

    class Writer(ColumnWriter):
        def __init__(self, dbfile: Any) -> None:
            self.sink = dbfile
            self._records = VarBytesColumn(allow_offsets=False).writer(dbfile)
            self._files: dict[bytes, int] = {}
            self._runs: list[tuple[int, int]] = []
            self._last = (-2, -2)
            """The document and record number of the last numbered record."""

        def add(self, docnum: int, value: bytes) -> None:
            self._records.add(docnum, self._record(docnum, value) if value else b"")

        def _record(self, docnum: int, value: bytes) -> bytes:
            file, separator, rest = value.partition(_SEPARATOR)
            parts = rest.rsplit(_SEPARATOR, 2)
            if not separator or len(parts) != 3 or len(parts[1]) != 2 * _DIGEST or not _HEX_DIGITS.issuperset(parts[1]):
                return _RAW + value
            record, fingerprint, signature = parts
            file_number = _varint(self._files.setdefault(file, len(self._files)))
            digest = bytes.fromhex(fingerprint.decode("ascii"))
            number = _number(record)
            if number is None:
                return b"".join((bytes((_COMPACT,)), file_number, digest, _varint(len(record)), record, signature))
            if self._last != (docnum - 1, number - 1):
                self._runs.append((docnum, number))
            self._last = (docnum, number)
            return b"".join((bytes((_NUMBERED,)), file_number, digest, signature))

        def finish(self, doccount: int) -> None:
            self._records.finish(doccount)
            table = b"".join(_varint(len(file)) + file for file in self._files)
            self.sink.write(table)
            self.sink.write(np.array([d for d, _ in self._runs], dtype="<u4").tobytes())
            self.sink.write(np.array([n for _, n in self._runs], dtype="<u8").tobytes())
            self.sink.write(_FOOTER.pack(len(table), len(self._files), len(self._runs), _MAGIC))

    class Reader(ColumnReader):
        def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
            super().__init__(dbfile, basepos, length, doccount)
            if length < _FIRST_FOOTER.size:
                raise ValueError("a state column too short to be one")
            runs = 0
            if dbfile.get(basepos + length - 4, 4) == _FIRST_MAGIC:
                size, count, _ = _FIRST_FOOTER.unpack(dbfile.get(basepos + length - _FIRST_FOOTER.size,
                                                                 _FIRST_FOOTER.size))
                footer = _FIRST_FOOTER.size
            else:
                if length < _FOOTER.size:
                    raise ValueError("a state column too short to be one")
                size, count, runs, magic = _FOOTER.unpack(dbfile.get(basepos + length - _FOOTER.size, _FOOTER.size))
                if magic != _MAGIC:
                    raise ValueError("not a state column")
                footer = _FOOTER.size
            records = length - footer - size - 12 * runs
            if records < 0:
                raise ValueError("not a state column")
            table = dbfile.get(basepos + records, size)
            self._run_documents: list[int] = np.frombuffer(dbfile.get(basepos + records + size, 4 * runs),
                                                           dtype="<u4").tolist()
            self._run_numbers: list[int] = np.frombuffer(dbfile.get(basepos + records + size + 4 * runs, 8 * runs),
                                                         dtype="<u8").tolist()
            self._prefixes: list[bytes] = []
            """Each file of the table, with the separator that follows it in a value."""
            position = 0
            for _ in range(count):
                length, position = _read_varint(table, position)
                self._prefixes.append(table[position:position + length] + _SEPARATOR)
                position += length
            self._records = VarBytesColumn().reader(dbfile, basepos, records, doccount)

        def _value(self, record: bytes, docnum: int, run: int) -> bytes:
            """Document ``docnum``'s value from its ``record``; ``run``: the last run that starts at or before it."""
            if not record:
                return b""
            if record[0] == _RAW[0]:
                return record[1:]
            number, position = (record[1], 2) if record[1] < 0x80 else _read_varint(record, 1)
            fingerprint = record[position:position + _DIGEST].hex().encode("ascii")
            position += _DIGEST
            if record[0] == _NUMBERED:
                line = str(self._run_numbers[run] + docnum - self._run_documents[run]).encode("ascii")
                return b"".join((self._prefixes[number], line, _SEPARATOR, fingerprint, _SEPARATOR,
                                 record[position:]))
            length, position = (record[position], position + 1) if record[position] < 0x80 else \
                _read_varint(record, position)
            end = position + length
            return b"".join((self._prefixes[number], record[position:end], _SEPARATOR, fingerprint, _SEPARATOR,
                             record[end:]))

        def __getitem__(self, docnum: int) -> bytes:
            return self._value(self._records[docnum], docnum, bisect.bisect_right(self._run_documents, docnum) - 1)

        def __iter__(self) -> Iterator[bytes]:
            starts, run = self._run_documents, -1
            for docnum, record in enumerate(self._records):
                while run + 1 < len(starts) and starts[run + 1] <= docnum:
                    run += 1
                yield self._value(record, docnum, run)
