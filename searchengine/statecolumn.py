"""The ``state`` column of a segment, written compactly.

Each article's state (:mod:`~searchengine.indexing`) is ``file\\x1frecord\\x1f
fingerprint\\x1fsignature``: which record of which file it is, a 128-bit
fingerprint of its content in hex, and, on a file's last article, the file's
size and time. Kept as Whoosh's ``VarBytesColumn`` keeps bytes, that was 90
bytes an article on a JSON dump, 60 of them the file's absolute path, the same
for every article of the file, and 32 a hex digest. This column gives every
reader exactly those bytes back, but stores each distinct file once per
segment (a table after the records) and the fingerprint as its 16 bytes: 27
bytes an article. A value of any other shape (no ``\\x1f``, a fingerprint that is
not 32 lower-case hex digits) is stored as it is.

Layout: the records, as a ``VarBytesColumn``; the table of files (each a
varint length and its bytes); its length and count (little-endian 32-bit) and
``NSC1``. A record is empty for no state; else ``0`` and the value itself, or
``1``, the file's varint number in the table, the 16 bytes of the
fingerprint, the record's varint length and bytes, and the signature.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from whoosh.columns import Column, ColumnReader, ColumnWriter, VarBytesColumn

__all__ = ["StateColumn"]

_MAGIC = b"NSC1"
_FOOTER = struct.Struct("<II4s")
_RAW = b"\x00"
_COMPACT = 1
_SEPARATOR = b"\x1f"
_DIGEST = 16
_HEX_DIGITS = frozenset(b"0123456789abcdef")


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
            self._records = VarBytesColumn().writer(dbfile)
            self._files: dict[bytes, int] = {}

        def add(self, docnum: int, value: bytes) -> None:
            self._records.add(docnum, self._record(value) if value else b"")

        def _record(self, value: bytes) -> bytes:
            file, separator, rest = value.partition(_SEPARATOR)
            parts = rest.rsplit(_SEPARATOR, 2)
            if not separator or len(parts) != 3 or len(parts[1]) != 2 * _DIGEST or not _HEX_DIGITS.issuperset(parts[1]):
                return _RAW + value
            record, fingerprint, signature = parts
            number = self._files.setdefault(file, len(self._files))
            return b"".join((bytes((_COMPACT,)), _varint(number), bytes.fromhex(fingerprint.decode("ascii")),
                             _varint(len(record)), record, signature))

        def finish(self, doccount: int) -> None:
            self._records.finish(doccount)
            table = b"".join(_varint(len(file)) + file for file in self._files)
            self.sink.write(table)
            self.sink.write(_FOOTER.pack(len(table), len(self._files), _MAGIC))

    class Reader(ColumnReader):
        def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
            super().__init__(dbfile, basepos, length, doccount)
            if length < _FOOTER.size:
                raise ValueError("a state column too short to be one")
            size, count, magic = _FOOTER.unpack(dbfile.get(basepos + length - _FOOTER.size, _FOOTER.size))
            if magic != _MAGIC or size > length - _FOOTER.size:
                raise ValueError("not a state column")
            records = length - _FOOTER.size - size
            table = dbfile.get(basepos + records, size)
            self._prefixes: list[bytes] = []
            """Each file of the table, with the separator that follows it in a value."""
            position = 0
            for _ in range(count):
                length, position = _read_varint(table, position)
                self._prefixes.append(table[position:position + length] + _SEPARATOR)
                position += length
            self._records = VarBytesColumn().reader(dbfile, basepos, records, doccount)

        def _value(self, record: bytes) -> bytes:
            if not record:
                return b""
            if record[0] != _COMPACT:
                return record[1:]
            number, position = (record[1], 2) if record[1] < 0x80 else _read_varint(record, 1)
            fingerprint = record[position:position + _DIGEST].hex().encode("ascii")
            position += _DIGEST
            length, position = (record[position], position + 1) if record[position] < 0x80 else \
                _read_varint(record, position)
            end = position + length
            return b"".join((self._prefixes[number], record[position:end], _SEPARATOR, fingerprint, _SEPARATOR,
                             record[end:]))

        def __getitem__(self, docnum: int) -> bytes:
            return self._value(self._records[docnum])

        def __iter__(self) -> Iterator[bytes]:
            return map(self._value, self._records)
