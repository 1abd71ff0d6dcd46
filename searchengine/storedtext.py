"""Stored texts: the title, lede, body and path (url, author) of a segment's
articles, compressed in small blocks with a dictionary of the segment's own words.

Whoosh keeps stored fields as one pickled dictionary per document, deflated
alone; a news article of 2 KB shares nothing with its neighbours there, so its
text deflated to half its size, and the stored texts were a third of the
index (a file's path, the same for all its articles, was kept whole in each).
Each segment newsearch writes keeps those fields instead in one file
of its own (``<segment>.nst``, inside the compound segment file like
Whoosh's files, so checksummed, copied and removed with them): consecutive
articles deflated together in blocks of about :data:`BLOCK` bytes of text,
each block alone with a *preset dictionary*, the first :data:`DICTIONARY`
bytes of text of the segment (zlib's ``zdict``, as Lucene's stored fields
share a dictionary across a block). Articles of a segment share its words,
names, turns of phrase and paths: on OrangeSum an article deflated alone
took 51 % of its text, 42 % against the dictionary (the first layout, ``NST1``,
one article a record), and 38 % in blocks of 12 KB at level 5, for the
same CPU (one compressor copied per block, not per article). Reading one
article inflates its block, about five articles (60 µs rather than 20); the
last block read is kept, so a merge reading every article in turn inflates
each block once.

Layout (``NST2``): ``NST2``, each block deflated (raw deflate, no zlib
header), the dictionary, the first document of each block (little-endian
32-bit), the offsets of the blocks (``blocks + 1`` little-endian 64-bit
numbers), the field names joined by newlines, and a footer (dictionary
position and length, document count, block count, names length, ``NST2``).
A block holds one little-endian 32-bit number per document and field (its
UTF-8 length + 1, 0 for a field the document does not hold), then the
fields' UTF-8 bytes in that order; a document with no text here holds none.
Text is encoded with ``surrogatepass``, so any Python string a JSON article
can hold comes back exactly. ``NST1`` files (written before blocks: a zlib
stream per document, a block of one, empty for a document without text, no
table of first documents) read as before.

Ids and dates (in columns of their own) and sources (in Whoosh's stored
fields) stay out of this file, where ids, folding and facets read them
without the texts. A segment without this file (an index written before it,
or by Whoosh) holds its texts there too, and is read as before.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["BLOCK", "DICTIONARY", "EXT", "StoredTextWriter", "StoredTexts"]

EXT = ".nst"
DICTIONARY = 32 * 1024
"""Bytes of the segment's first texts that every block is deflated against (zlib's window)."""
BLOCK = 12 * 1024
"""Bytes of text after which a block is closed. On OrangeSum, against the
dictionary at level 5: 8 KB blocks deflate to 38.5 % of the text, 12 KB to
38.1 %, 16 KB to 37.9 % but take twice as long to inflate as 8 KB."""
BLOCK_DOCUMENTS = 32
"""Documents after which a block is closed, however little text they hold."""
LEVEL = 5
"""zlib's level. On OrangeSum in 12 KB blocks, 4 makes them 4 % larger and
takes a third less time; 6 makes them 2 % smaller and takes 1.6 times as long."""
_MAGIC = b"NST2"
_FOOTER = struct.Struct("<QQQQQ4s")
_FIRST_MAGIC = b"NST1"
_FIRST_FOOTER = struct.Struct("<QQQQ4s")
_ENCODING = "utf-8"
_ERRORS = "surrogatepass"


class _Sink(Protocol):
    def write(self, data: bytes) -> object: ...

    def close(self) -> object: ...


class _Source(Protocol):
    def get(self, position: int, length: int) -> bytes: ...


class StoredTextWriter:
    """Writes one segment's stored texts, a document at a time in document order.

    Until :data:`DICTIONARY` bytes of text have come, documents wait in memory;
    then the dictionary is those bytes, and blocks are deflated against it
    and written as they fill."""

    def __init__(self, sink: _Sink, fieldnames: Sequence[str]) -> None:
        self.sink = sink
        self.fieldnames = tuple(fieldnames)
        self.dictionary: bytes | None = None
        self.primed = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        """A compressor that has read the dictionary and nothing else: each block
        starts from a copy (setting a 32 KB dictionary anew costs more than deflating a block)."""
        self.waiting: list[tuple[list[int], bytes]] = []
        self.waiting_size = 0
        self.lengths: list[int] = []
        self.texts: list[bytes] = []
        self.size = 0
        self.written = 0
        """Documents in the blocks written."""
        self.firsts: list[int] = []
        self.offsets = [len(_MAGIC)]
        self.closed = False
        sink.write(_MAGIC)

    def add(self, docnum: int, texts: Mapping[str, str]) -> None:
        """Document ``docnum``'s texts (those it holds of the writer's fields);
        documents before it that were never added hold none."""
        if docnum < self.count:
            raise ValueError(f"stored texts of document {docnum} come after those of document {self.count - 1}")
        while self.count < docnum:
            self._document([0] * len(self.fieldnames), b"")
        encoded = [texts[name].encode(_ENCODING, _ERRORS) if name in texts else None for name in self.fieldnames]
        self._document([0 if value is None else len(value) + 1 for value in encoded],
                       b"".join(value for value in encoded if value))

    @property
    def count(self) -> int:
        return self.written + len(self.texts) + len(self.waiting)

    def _document(self, lengths: list[int], text: bytes) -> None:
        if self.dictionary is None:
            self.waiting.append((lengths, text))
            self.waiting_size += len(text)
            if self.waiting_size >= DICTIONARY:
                self._fix_dictionary()
            return
        self.lengths += lengths
        self.texts.append(text)
        self.size += len(text)
        if self.size >= BLOCK or len(self.texts) >= BLOCK_DOCUMENTS:
            self._write_block()

    def _fix_dictionary(self) -> None:
        self.dictionary = b"".join(text for _, text in self.waiting)[:DICTIONARY]
        if self.dictionary:
            self.primed = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, zdict=self.dictionary)
        waiting, self.waiting = self.waiting, []
        for lengths, text in waiting:
            self._document(lengths, text)

    def _write_block(self) -> None:
        if not self.texts:
            return
        compressor = self.primed.copy()
        block = compressor.compress(np.array(self.lengths, dtype="<u4").tobytes())
        block += compressor.compress(b"".join(self.texts)) + compressor.flush()
        self.sink.write(block)
        self.firsts.append(self.written)
        self.offsets.append(self.offsets[-1] + len(block))
        self.written += len(self.texts)
        self.lengths, self.texts, self.size = [], [], 0

    def close(self) -> None:
        """Write what waits, the dictionary, the block table and the footer, and close the file."""
        if self.closed:
            return
        self.closed = True
        if self.dictionary is None:
            self._fix_dictionary()
        self._write_block()
        dictionary = self.dictionary or b""
        names = "\n".join(self.fieldnames).encode(_ENCODING)
        self.sink.write(dictionary)
        self.sink.write(np.array(self.firsts, dtype="<u4").tobytes())
        self.sink.write(np.array(self.offsets, dtype="<u8").tobytes())
        self.sink.write(names)
        self.sink.write(_FOOTER.pack(self.offsets[-1], len(dictionary), self.written, len(self.firsts), len(names),
                                     _MAGIC))
        self.sink.close()


class StoredTexts:
    """One segment's stored texts, read in place, a block at a time (the last one kept)."""

    def __init__(self, source: _Source, size: int) -> None:
        if size < len(_MAGIC) + _FIRST_FOOTER.size:
            raise ValueError("a stored-text file too short to be one")
        self.source = source
        self.wbits = -15
        if source.get(size - len(_MAGIC), len(_MAGIC)) == _FIRST_MAGIC:
            where, dictionary, count, names, _ = _FIRST_FOOTER.unpack(source.get(size - _FIRST_FOOTER.size,
                                                                                 _FIRST_FOOTER.size))
            blocks, firsts, footer, self.wbits = count, 0, _FIRST_FOOTER.size, zlib.MAX_WBITS
        else:
            if size < len(_MAGIC) + _FOOTER.size:
                raise ValueError("a stored-text file too short to be one")
            where, dictionary, count, blocks, names, magic = _FOOTER.unpack(source.get(size - _FOOTER.size,
                                                                                       _FOOTER.size))
            if magic != _MAGIC:
                raise ValueError("not a stored-text file")
            firsts, footer = 4 * blocks, _FOOTER.size
        table = where + dictionary
        offsets = table + firsts
        if offsets + 8 * (blocks + 1) + names != size - footer:
            raise ValueError("not a stored-text file")
        self.dictionary = source.get(where, dictionary)
        self.firsts: NDArray[np.uint32] | None = None
        """Each block's first document; None for ``NST1`` (a block per document)."""
        if firsts:
            self.firsts = np.frombuffer(source.get(table, firsts), dtype="<u4")
        self.offsets = np.frombuffer(source.get(offsets, 8 * (blocks + 1)), dtype="<u8")
        self.fieldnames = tuple(source.get(offsets + 8 * (blocks + 1), names).decode(_ENCODING).split("\n"))
        self.count = count
        self.blocks = blocks
        self._last: tuple[int, int, NDArray[np.int64], bytes] = (-1, 0, np.zeros((0, 0), dtype=np.int64), b"")
        """The block read last: its number, first document, each document's field ends, and its bytes."""

    def texts(self, docnum: int) -> dict[str, str]:
        """The texts document ``docnum`` holds here, by field name."""
        if not 0 <= docnum < self.count:
            raise IndexError(f"no stored texts for document {docnum} of {self.count}")
        block = docnum if self.firsts is None else int(np.searchsorted(self.firsts, docnum, side="right")) - 1
        number, first, ends, data = self._last
        if number != block:
            first, ends, data = self._block(block)
            self._last = (block, first, ends, data)
        if docnum - first >= len(ends):
            return {}
        row = ends[docnum - first].tolist()
        position = row[0]
        found = {}
        for name, end in zip(self.fieldnames, row[1:], strict=True):
            if end >= 0:
                found[name] = data[position:end].decode(_ENCODING, _ERRORS)
                position = end
        return found

    def _block(self, block: int) -> tuple[int, NDArray[np.int64], bytes]:
        """Block ``block``'s first document, each of its documents' start and
        field ends (-1 for a field it does not hold), and its inflated bytes."""
        if self.firsts is None:
            first, documents = block, 1
        else:
            if not 0 <= block < self.blocks:
                raise ValueError(f"document of no block of {self.blocks}")
            first = int(self.firsts[block])
            documents = (int(self.firsts[block + 1]) if block + 1 < self.blocks else self.count) - first
        start, end = int(self.offsets[block]), int(self.offsets[block + 1])
        if start == end:
            return first, np.zeros((0, 0), dtype=np.int64), b""
        decompressor = zlib.decompressobj(self.wbits, zdict=self.dictionary) if self.dictionary else \
            zlib.decompressobj(self.wbits)
        data = decompressor.decompress(self.source.get(start, end - start))
        if not decompressor.eof:
            raise zlib.error(f"the stored texts of block {block} are cut short")
        fields = len(self.fieldnames)
        header = 4 * fields * documents
        if documents <= 0 or len(data) < header:
            raise ValueError(f"the stored texts of block {block} do not add up")
        lengths = np.frombuffer(data, dtype="<u4", count=fields * documents).astype(np.int64).reshape(documents, fields)
        ends = (header + np.cumsum(np.maximum(lengths - 1, 0))).reshape(documents, fields)
        if ends[-1, -1] != len(data):
            raise ValueError(f"the stored texts of block {block} do not add up")
        starts = np.concatenate(([header], ends[:-1, -1]))
        return first, np.column_stack((starts, np.where(lengths > 0, ends, -1))), data
