"""Stored texts: the title, lede, body and path (url, author) of a segment's
articles, compressed in blocks with Zstandard against a dictionary trained on
the segment's own first texts.

Whoosh keeps stored fields as one pickled dictionary per document, deflated
alone; a news article of 2 KB shares nothing with its neighbours there, so its
text deflated to half its size, and the stored texts were a third of the
index (a file's path, the same for all its articles, was kept whole in each).
Each segment newsearch writes keeps those fields instead in one file
of its own (``<segment>.nst``, inside the compound segment file like
Whoosh's files, so checksummed, copied and removed with them): consecutive
articles compressed together in blocks of about :data:`BLOCK` bytes of text,
each block a Zstandard frame of its own against a *dictionary* of at most
:data:`DICTIONARY` bytes that Zstandard trains on the segment's first
:data:`SAMPLE` bytes of text (its commonest strings, and the statistics its
entropy coder starts from), as Lucene's stored fields share a dictionary
across blocks. Articles of a segment share its words, names, turns of phrase
and paths: on OrangeSum an article deflated alone took 51 % of its text,
38.2 % in 12 KB blocks deflated against the segment's first 32 KB
(``NST2``), and 31.7 % in these blocks, dictionary included, whose 16 KB
take 0.6 times the CPU to decode; training takes about 2.7 s of CPU per
segment, and the blocks compress in 1.5 times the time zlib took. Reading one
article decodes its block, about six articles; the last block read is kept,
so a merge reading every article in turn decodes each block once.

Layout (``NST3``): ``NST3``, each block (a Zstandard frame with no dictionary
id), the dictionary (Zstandard's format; empty when the segment had too little
text, or too alike, to train one, its blocks then compressed without), the first document
of each block (little-endian 32-bit), the offsets of the blocks (``blocks +
1`` little-endian 64-bit numbers), the field names joined by newlines, and a
footer (dictionary position and length, document count, block count, names
length, ``NST3``). A block holds one little-endian 32-bit number per document
and field (its UTF-8 length + 1, 0 for a field the document does not hold),
then the fields' UTF-8 bytes in that order; a document with no text here
holds none. Text is encoded with ``surrogatepass``, so any Python string a
JSON article can hold comes back exactly. Files of the earlier layouts read
as before: ``NST2`` (the same, but each block raw deflate against a
dictionary of the segment's first 32 KB of text) and ``NST1`` (a zlib stream
per document, a block of one, empty for a document without text, no table of
first documents).

Zstandard is the standard library's ``compression.zstd`` from Python 3.14
and its backport (``backports.zstd``) before; it is imported only where texts
are read or written, not by a query that shows none.

Ids and dates (in columns of their own) and sources (in Whoosh's stored
fields) stay out of this file, where ids, folding and facets read them
without the texts. A segment without this file (an index written before it,
or by Whoosh) holds its texts there too, and is read as before.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from backports.zstd import ZstdCompressor, ZstdDict
    from numpy.typing import NDArray

__all__ = ["BLOCK", "DICTIONARY", "EXT", "SAMPLE", "StoredTextWriter", "StoredTexts"]

EXT = ".nst"
DICTIONARY = 1024 * 1024
"""Largest dictionary trained for a segment. On the segments of OrangeSum at
level 9 in 16 KB blocks, dictionary counted, 256 KB make the texts 26.88 MiB,
512 KB 26.31 and 1 MB 26.26, where a segment holds about 13 MB of text; a
segment of ten times OrangeSum, ten times as much, pays for its dictionary
ten times over."""
SAMPLE = 10 * DICTIONARY
"""Bytes of the segment's first texts (at most :data:`BLOCK` of each) the
dictionary is trained on, ten times its size, as Zstandard advises; on
OrangeSum about 4,000 articles, 2.7 s of CPU (880 articles and 0.7 s for
256 KB). The segment's first bytes as a raw dictionary lose 3 %. A segment with less text gets a dictionary a tenth
of it."""
BLOCK = 16 * 1024
"""Bytes of text after which a block is closed. On OrangeSum with the
dictionary at level 7, 12 KB blocks take 0.5 % more space, 32 KB ones 1 %
less but twice the time to decode."""
BLOCK_DOCUMENTS = 32
"""Documents after which a block is closed, however little text they hold."""
LEVEL = 9
"""Zstandard's level (the reader needs not know it). On the segments of
OrangeSum in 16 KB blocks against a 1 MB dictionary, writing the texts takes
11.0 s of CPU at level 9 (26.26 MiB), 14.4 s at 10 (25.87), and 7.2 s at
level 7 with the 256 KB dictionary used before (27.14); 12 saves 2.5 % more
than 9 for 70 % more time. Blocks decode as fast at any of these levels."""
_SMALLEST_DICTIONARY = 1024
"""A segment whose sample would train a smaller dictionary gets none."""
_MAGIC = b"NST3"
_FOOTER = struct.Struct("<QQQQQ4s")
_DEFLATED_MAGIC = b"NST2"
_FIRST_MAGIC = b"NST1"
_FIRST_FOOTER = struct.Struct("<QQQQ4s")
_ENCODING = "utf-8"
_ERRORS = "surrogatepass"


class _Sink(Protocol):
    def write(self, data: bytes) -> object: ...

    def close(self) -> object: ...


class _Source(Protocol):
    def get(self, position: int, length: int) -> bytes: ...


def _zstd() -> ModuleType:
    """Zstandard, imported on first use: it adds about 2 ms to a fresh process."""
    if sys.version_info >= (3, 14):
        from compression import zstd
    else:
        from backports import zstd
    return zstd


class StoredTextWriter:
    """Writes one segment's stored texts, a document at a time in document order.

    Until :data:`SAMPLE` bytes of text have come, documents wait in memory;
    then the dictionary is trained on them, and blocks are compressed against
    it and written as they fill."""

    def __init__(self, sink: _Sink, fieldnames: Sequence[str]) -> None:
        self.sink = sink
        self.fieldnames = tuple(fieldnames)
        self.dictionary = b""
        self.compressor: ZstdCompressor | None = None
        """Set once the dictionary is trained; one compressor for every block."""
        self.waiting: list[tuple[list[int], bytes]] = []
        self.sampled = 0
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
        if self.compressor is None:
            self.waiting.append((lengths, text))
            self.sampled += min(len(text), BLOCK)
            if self.sampled >= SAMPLE:
                self._train()
            return
        self.lengths += lengths
        self.texts.append(text)
        self.size += len(text)
        if self.size >= BLOCK or len(self.texts) >= BLOCK_DOCUMENTS:
            self._write_block(self.compressor)

    def _train(self) -> ZstdCompressor:
        """Train the dictionary on the documents waiting (the first
        :data:`BLOCK` bytes of each, so that one long article is not the whole
        sample), then compress them."""
        zstd = _zstd()
        size = min(DICTIONARY, self.sampled // 10)
        if size >= _SMALLEST_DICTIONARY:
            try:
                self.dictionary = zstd.train_dict([text[:BLOCK] for _, text in self.waiting if text], size).dict_content
            except zstd.ZstdError:  # too few or too alike to train on: blocks go without
                self.dictionary = b""
        options = {zstd.CompressionParameter.compression_level: LEVEL, zstd.CompressionParameter.dict_id_flag: 0}
        compressor: ZstdCompressor = zstd.ZstdCompressor(
            options=options, zstd_dict=zstd.ZstdDict(self.dictionary) if self.dictionary else None)
        self.compressor = compressor
        waiting, self.waiting = self.waiting, []
        for lengths, text in waiting:
            self._document(lengths, text)
        return compressor

    def _write_block(self, compressor: ZstdCompressor) -> None:
        if not self.texts:
            return
        block = compressor.compress(np.array(self.lengths, dtype="<u4").tobytes() + b"".join(self.texts),
                                    compressor.FLUSH_FRAME)
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
        self._write_block(self._train() if self.compressor is None else self.compressor)
        names = "\n".join(self.fieldnames).encode(_ENCODING)
        self.sink.write(self.dictionary)
        self.sink.write(np.array(self.firsts, dtype="<u4").tobytes())
        self.sink.write(np.array(self.offsets, dtype="<u8").tobytes())
        self.sink.write(names)
        self.sink.write(_FOOTER.pack(self.offsets[-1], len(self.dictionary), self.written, len(self.firsts),
                                     len(names), _MAGIC))
        self.sink.close()


class StoredTexts:
    """One segment's stored texts, read in place, a block at a time (the last
    one kept). Safe to share between threads: each block is decoded by a
    decompressor of its own (a Zstandard decompressor reads one frame and is
    done), and the block kept is replaced whole."""

    def __init__(self, source: _Source, size: int) -> None:
        if size < len(_MAGIC) + _FIRST_FOOTER.size:
            raise ValueError("a stored-text file too short to be one")
        self.source = source
        self.layout = source.get(size - len(_MAGIC), len(_MAGIC))
        """``NST3``, or ``NST2`` and ``NST1`` for files written before (deflated)."""
        if self.layout == _FIRST_MAGIC:
            where, dictionary, count, names, _ = _FIRST_FOOTER.unpack(source.get(size - _FIRST_FOOTER.size,
                                                                                 _FIRST_FOOTER.size))
            blocks, firsts, footer = count, 0, _FIRST_FOOTER.size
        else:
            if self.layout not in (_MAGIC, _DEFLATED_MAGIC) or size < len(_MAGIC) + _FOOTER.size:
                raise ValueError("not a stored-text file")
            where, dictionary, count, blocks, names, _ = _FOOTER.unpack(source.get(size - _FOOTER.size,
                                                                                   _FOOTER.size))
            firsts, footer = 4 * blocks, _FOOTER.size
        table = where + dictionary
        offsets = table + firsts
        if offsets + 8 * (blocks + 1) + names != size - footer:
            raise ValueError("not a stored-text file")
        self.dictionary = source.get(where, dictionary)
        self.trained: ZstdDict | None = None
        """The dictionary, as Zstandard reads it (``NST3``)."""
        if self.layout == _MAGIC and self.dictionary:
            zstd = _zstd()
            try:
                self.trained = zstd.ZstdDict(self.dictionary)
            except zstd.ZstdError as error:
                raise ValueError(f"the stored texts' dictionary is damaged: {error}") from None
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
        field ends (-1 for a field it does not hold), and its decoded bytes."""
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
        data = self._decode(block, self.source.get(start, end - start))
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

    def _decode(self, block: int, compressed: bytes) -> bytes:
        """Block ``block``'s bytes, decompressed as its layout says."""
        if self.layout == _MAGIC:
            zstd = _zstd()
            decompressor = zstd.ZstdDecompressor(zstd_dict=self.trained)
            try:
                data: bytes = decompressor.decompress(compressed)
            except zstd.ZstdError as error:
                raise ValueError(f"the stored texts of block {block} are damaged: {error}") from None
            if not decompressor.eof or decompressor.unused_data:
                raise ValueError(f"the stored texts of block {block} are cut short or run over")
            return data
        wbits = zlib.MAX_WBITS if self.layout == _FIRST_MAGIC else -15
        inflater = zlib.decompressobj(wbits, zdict=self.dictionary) if self.dictionary else zlib.decompressobj(wbits)
        data = inflater.decompress(compressed)
        if not inflater.eof:
            raise zlib.error(f"the stored texts of block {block} are cut short")
        return data
