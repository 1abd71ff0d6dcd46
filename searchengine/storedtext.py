"""Stored texts: the title, lede, body and path (url, author) of a segment's
articles, compressed with a dictionary of the segment's own words.

Whoosh keeps stored fields as one pickled dictionary per document, deflated
alone; a news article of 2 KB shares nothing with its neighbours there, so its
text deflated to half its size, and the stored texts were a third of the
index (a file's path, the same for all its articles, was kept whole in each).
Each segment newsearch writes keeps those fields instead in one file
of its own (``<segment>.nst``, inside the compound segment file like
Whoosh's files, so checksummed, copied and removed with them): each article's
texts deflated with a *preset dictionary*, the first :data:`DICTIONARY` bytes
of text of the segment (zlib's ``zdict``, as Lucene's stored fields share a
dictionary across a block). Articles of a segment share its words, names,
turns of phrase and paths, so on OrangeSum each deflates to 42 % of its text
rather than 51 %, and one article still decompresses alone (a page of hits
reads ten articles, not ten blocks).

Layout: ``NST1``, each document's deflated record, the dictionary, the
offsets of the records (``n + 1`` little-endian 64-bit numbers), the field
names joined by newlines, and a footer (dictionary position and length,
document count, names length, ``NST1``). A record is one little-endian 32-bit
number per field (its UTF-8 length + 1, 0 for a field the document does not
hold), then the fields' UTF-8 bytes; a document with no text here has an
empty record. Text is encoded with ``surrogatepass``, so any Python string a
JSON article can hold comes back exactly.

Ids and dates (in columns of their own) and sources (in Whoosh's stored
fields) stay out of this file, where ids, folding and facets read them
without the texts. A segment without this file (an index written before it,
or by Whoosh) holds its texts there too, and is read as before.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

__all__ = ["DICTIONARY", "EXT", "StoredTextWriter", "StoredTexts"]

EXT = ".nst"
DICTIONARY = 32 * 1024
"""Bytes of the segment's first texts that every record is deflated against (zlib's window)."""
LEVEL = 3
"""zlib's level. On OrangeSum, 1 makes records 9 % larger and takes a third less
time; 6 makes them 6 % smaller and takes twice the time."""
_MAGIC = b"NST1"
_FOOTER = struct.Struct("<QQQQ4s")
_ENCODING = "utf-8"
_ERRORS = "surrogatepass"


class _Sink(Protocol):
    def write(self, data: bytes) -> object: ...

    def close(self) -> object: ...


class _Source(Protocol):
    def get(self, position: int, length: int) -> bytes: ...


class StoredTextWriter:
    """Writes one segment's stored texts, a document at a time in document order.

    Until :data:`DICTIONARY` bytes of text have come, records wait in memory;
    then the dictionary is those bytes, and every record is deflated against
    it and written as it comes."""

    def __init__(self, sink: _Sink, fieldnames: Sequence[str]) -> None:
        self.sink = sink
        self.fieldnames = tuple(fieldnames)
        self.header = struct.Struct(f"<{len(self.fieldnames)}I")
        self.dictionary: bytes | None = None
        self.primed = zlib.compressobj(LEVEL)
        """A compressor that has read the dictionary and nothing else: each record
        starts from a copy (setting a 32 KB dictionary anew costs more than deflating a record)."""
        self.waiting: list[bytes] = []
        self.waiting_text: list[bytes] = []
        self.waiting_size = 0
        self.offsets = [len(_MAGIC)]
        self.closed = False
        sink.write(_MAGIC)

    def add(self, docnum: int, texts: Mapping[str, str]) -> None:
        """Document ``docnum``'s texts (those it holds of the writer's fields);
        documents before it that were never added hold none."""
        if docnum < self.count:
            raise ValueError(f"stored texts of document {docnum} come after those of document {self.count - 1}")
        while self.count < docnum:
            self._record(b"", b"")
        encoded = [texts[name].encode(_ENCODING, _ERRORS) if name in texts else None for name in self.fieldnames]
        if all(value is None for value in encoded):
            self._record(b"", b"")
            return
        text = b"".join(value for value in encoded if value)
        record = self.header.pack(*(0 if value is None else len(value) + 1 for value in encoded)) + text
        self._record(record, text)

    @property
    def count(self) -> int:
        return len(self.offsets) - 1 + len(self.waiting)

    def _record(self, record: bytes, text: bytes) -> None:
        if self.dictionary is None:
            self.waiting.append(record)
            self.waiting_text.append(text)
            self.waiting_size += len(text)
            if self.waiting_size >= DICTIONARY:
                self._fix_dictionary()
            return
        self._write(record)

    def _fix_dictionary(self) -> None:
        self.dictionary = b"".join(self.waiting_text)[:DICTIONARY]
        if self.dictionary:
            self.primed = zlib.compressobj(LEVEL, zdict=self.dictionary)
        waiting, self.waiting, self.waiting_text = self.waiting, [], []
        for record in waiting:
            self._write(record)

    def _write(self, record: bytes) -> None:
        if record:
            compressor = self.primed.copy()
            record = compressor.compress(record) + compressor.flush()
            self.sink.write(record)
        self.offsets.append(self.offsets[-1] + len(record))

    def close(self) -> None:
        """Write what waits, the dictionary, the offsets and the footer, and close the file."""
        if self.closed:
            return
        self.closed = True
        if self.dictionary is None:
            self._fix_dictionary()
        dictionary = self.dictionary or b""
        names = "\n".join(self.fieldnames).encode(_ENCODING)
        count = len(self.offsets) - 1
        self.sink.write(dictionary)
        self.sink.write(np.array(self.offsets, dtype="<u8").tobytes())
        self.sink.write(names)
        self.sink.write(_FOOTER.pack(self.offsets[-1], len(dictionary), count, len(names), _MAGIC))
        self.sink.close()


class StoredTexts:
    """One segment's stored texts, read in place, a document at a time."""

    def __init__(self, source: _Source, size: int) -> None:
        if size < len(_MAGIC) + _FOOTER.size:
            raise ValueError("a stored-text file too short to be one")
        self.source = source
        where, dictionary, count, names, magic = _FOOTER.unpack(source.get(size - _FOOTER.size, _FOOTER.size))
        offsets = where + dictionary
        if magic != _MAGIC or offsets + 8 * (count + 1) + names != size - _FOOTER.size:
            raise ValueError("not a stored-text file")
        self.dictionary = source.get(where, dictionary)
        self.offsets = np.frombuffer(source.get(offsets, 8 * (count + 1)), dtype="<u8")
        self.fieldnames = tuple(source.get(offsets + 8 * (count + 1), names).decode(_ENCODING).split("\n"))
        self.header = struct.Struct(f"<{len(self.fieldnames)}I")
        self.count = count

    def texts(self, docnum: int) -> dict[str, str]:
        """The texts document ``docnum`` holds here, by field name."""
        if not 0 <= docnum < self.count:
            raise IndexError(f"no stored texts for document {docnum} of {self.count}")
        start, end = int(self.offsets[docnum]), int(self.offsets[docnum + 1])
        if start == end:
            return {}
        decompressor = zlib.decompressobj(zdict=self.dictionary) if self.dictionary else zlib.decompressobj()
        record = decompressor.decompress(self.source.get(start, end - start))
        if not decompressor.eof:
            raise zlib.error(f"the stored texts of document {docnum} are cut short")
        lengths = self.header.unpack_from(record)
        found = {}
        position = self.header.size
        for name, length in zip(self.fieldnames, lengths, strict=True):
            if length:
                found[name] = record[position:position + length - 1].decode(_ENCODING, _ERRORS)
                position += length - 1
        if position != len(record):
            raise ValueError(f"the stored texts of document {docnum} do not add up")
        return found
