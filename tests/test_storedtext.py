"""Stored texts: kept apart from Whoosh's stored fields, compressed in blocks
against a dictionary trained on the segment's texts, and given back exactly,
to many threads at once; indexes written before them, with a record per
article (NST1) or deflated blocks (NST2), read and merge as before."""

import json
import random
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from whoosh import index as windex

from searchengine import SearchEngine, fastwriter, storedtext, whooshformat
from searchengine.indexing import INDEX_NAME, open_index
from searchengine.storedtext import BLOCK, BLOCK_DOCUMENTS, DICTIONARY, SAMPLE, StoredTexts, StoredTextWriter

TEXTS = ("title", "lede", "body")
WORDS = "grève réforme Marseille ministre élection trains syndicats hôpital Pékin climat".split()
SENTENCES = [f"Le {a} a annoncé {b} la {c}, selon {d}." for a in ("ministre", "président", "syndicat")
             for b in ("mardi", "jeudi soir", "dans un communiqué") for c in ("grève", "réforme", "hausse des prix")
             for d in ("l'AFP", "Le Monde", "nos informations")]


class _Sink:
    def __init__(self):
        self.data = b""
        self.closed = False

    def write(self, data):
        self.data += data

    def close(self):
        self.closed = True


class _Source:
    def __init__(self, data):
        self.data = data

    def get(self, position, length):
        return self.data[position:position + length]


class _FirstLayoutWriter:
    """The writer of newsearch's first stored-text layout (NST1, session 7): a
    zlib stream per document against the dictionary, empty for no text."""

    def __init__(self, sink, fieldnames):
        self.sink, self.fieldnames = sink, tuple(fieldnames)
        self.header = struct.Struct(f"<{len(self.fieldnames)}I")
        self.records, self.closed = [], False

    def add(self, docnum, texts):
        self.records += [(b"", b"")] * (docnum - len(self.records))
        encoded = [texts[n].encode("utf-8", "surrogatepass") if n in texts else None for n in self.fieldnames]
        text = b"".join(value for value in encoded if value)
        header = self.header.pack(*(0 if value is None else len(value) + 1 for value in encoded))
        self.records.append((b"", b"") if all(value is None for value in encoded) else (header + text, text))

    def close(self):
        if self.closed:
            return
        self.closed = True
        dictionary = b"".join(text for _, text in self.records)[:DICTIONARY]
        primed = zlib.compressobj(3, zdict=dictionary) if dictionary else zlib.compressobj(3)
        offsets, data = [4], [b"NST1"]
        for record, _ in self.records:
            if record:
                compressor = primed.copy()
                data.append(compressor.compress(record) + compressor.flush())
            offsets.append(offsets[-1] + len(data[-1]) if record else offsets[-1])
        names = "\n".join(self.fieldnames).encode()
        self.sink.write(b"".join(data) + dictionary + struct.pack(f"<{len(offsets)}Q", *offsets) + names
                        + struct.pack("<QQQQ4s", offsets[-1], len(dictionary), len(self.records), len(names), b"NST1"))
        self.sink.close()


class _DeflatedBlocksWriter:
    """The writer of newsearch's second stored-text layout (NST2, session 8, as
    at commit bffcb2c): blocks of about 12 KB of text, raw deflate at level 5
    against the segment's first 32 KB of text."""

    def __init__(self, sink, fieldnames):
        self.sink, self.fieldnames = sink, tuple(fieldnames)
        self.documents, self.closed = [], False

    def add(self, docnum, texts):
        self.documents += [([0] * len(self.fieldnames), b"")] * (docnum - len(self.documents))
        encoded = [texts[n].encode("utf-8", "surrogatepass") if n in texts else None for n in self.fieldnames]
        self.documents.append(([0 if v is None else len(v) + 1 for v in encoded], b"".join(v for v in encoded if v)))

    def close(self):
        if self.closed:
            return
        self.closed = True
        dictionary = b"".join(text for _, text in self.documents)[:32 * 1024]
        blocks, firsts, block, size = [], [], [], 0
        for docnum, (lengths, text) in enumerate(self.documents):
            firsts += [] if block else [docnum]
            block.append((lengths, text))
            size += len(text)
            if size >= 12 * 1024 or len(block) >= 32 or docnum == len(self.documents) - 1:
                compressor = zlib.compressobj(5, zlib.DEFLATED, -15, zdict=dictionary) if dictionary else \
                    zlib.compressobj(5, zlib.DEFLATED, -15)
                data = struct.pack(f"<{len(block) * len(self.fieldnames)}I", *(n for ls, _ in block for n in ls))
                blocks.append(compressor.compress(data + b"".join(t for _, t in block)) + compressor.flush())
                block, size = [], 0
        offsets = [4]
        for data in blocks:
            offsets.append(offsets[-1] + len(data))
        names = "\n".join(self.fieldnames).encode()
        self.sink.write(b"NST2" + b"".join(blocks) + dictionary + struct.pack(f"<{len(firsts)}I", *firsts)
                        + struct.pack(f"<{len(offsets)}Q", *offsets) + names
                        + struct.pack("<QQQQQ4s", offsets[-1], len(dictionary), len(self.documents), len(blocks),
                                      len(names), b"NST2"))
        self.sink.close()


def _records(count, seed=7):
    rng = random.Random(seed)
    return [{"id": f"a{i}", "title": " ".join(rng.choices(WORDS, k=6)), "lede": " ".join(rng.choices(WORDS, k=20)),
             "body": " ".join(rng.choices(SENTENCES, k=rng.randint(5, 30)))} for i in range(count)]


def _write(folder, name, records):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def _whoosh_stored(folder):
    with windex.open_dir(str(folder), indexname=INDEX_NAME).reader() as reader:
        return [reader.stored_fields(d) for d in range(reader.doc_count_all())]


def test_texts_come_back_exactly_and_whoosh_keeps_the_rest(tmp_path):
    odd = [
        {"id": "ctl", "title": "Contrôle\x01\x1f\x7f\x9f fin", "lede": "tab\tet\rretour\u2028ligne",
         "body": "Un corps\x00 avec\x0b\x0c des caractères de contrôle 🦊 et 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 grève."},
        {"id": "long", "title": "Très long", "lede": "", "body": " ".join(f"mot{i} grève" for i in range(60_000))},
        {"id": "nolede", "title": "Sans chapeau", "body": "Le corps seul, sans chapeau : la grève."},
    ]
    records = odd[:1] + _records(300) + odd[1:]
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([_write(tmp_path / "in", "news.jsonl", records)])
        for record in records:
            article = engine.article(record["id"]).article
            assert (article.title, article.lede, article.body) == (
                record["title"], record.get("lede", ""), record["body"]), record["id"]
        hits = engine.search("caractères contrôle", limit=3)
        assert hits.hits[0].id == "ctl"
    stored = _whoosh_stored(tmp_path / "ix")
    assert len(stored) == len(records)
    assert stored == [{}] * len(records)  # ids in their column; no source in these records


def test_a_segment_s_texts_are_compressed_against_a_dictionary_trained_on_them(tmp_path):
    records = _records(400)
    sink = _Sink()
    writer = StoredTextWriter(sink, TEXTS)
    for docnum, record in enumerate(records):
        writer.add(docnum, {name: record[name] for name in TEXTS})
    writer.close()
    assert sink.closed
    texts = StoredTexts(_Source(sink.data), len(sink.data))
    assert [texts.texts(d) for d in range(len(records))] == [{n: r[n] for n in TEXTS} for r in records]
    assert texts.layout == b"NST3" and sink.data[:4] == b"NST3"
    assert texts.dictionary[:4] == b"\x37\xa4\x30\xec"  # Zstandard's dictionary format
    assert 0 < len(texts.dictionary) <= DICTIONARY
    records_size = int(texts.offsets[-1] - texts.offsets[0])
    alone = sum(len(zlib.compress("".join(r[n] for n in TEXTS).encode(), 6)) for r in records)
    assert records_size < 0.6 * alone


def test_absent_fields_gaps_lone_surrogates_and_a_small_segment_come_back(tmp_path):
    sink = _Sink()
    writer = StoredTextWriter(sink, TEXTS)
    writer.add(0, {"title": "", "body": "corps \ud800 seul"})
    writer.add(3, {"lede": "chapeau"})  # documents 1 and 2 came by another way, with no text here
    writer.add(4, {})
    writer.close()
    texts = StoredTexts(_Source(sink.data), len(sink.data))
    assert [texts.texts(d) for d in range(5)] == [{"title": "", "body": "corps \ud800 seul"}, {}, {},
                                                  {"lede": "chapeau"}, {}]
    assert texts.dictionary == b""  # too little text to train one
    with pytest.raises(IndexError):
        texts.texts(5)
    with pytest.raises(ValueError):
        StoredTexts(_Source(sink.data[:-3]), len(sink.data) - 3)
    writer = StoredTextWriter(_Sink(), TEXTS)
    writer.add(2, {"title": "t"})
    with pytest.raises(ValueError):
        writer.add(1, {"title": "t"})


def test_an_index_written_before_stored_texts_reads_and_merges_with_a_new_one(tmp_path, monkeypatch):
    first, second = _records(120, seed=1), [dict(r, id=f"b{i}") for i, r in enumerate(_records(80, seed=2))]
    source = tmp_path / "in"
    with monkeypatch.context() as old:  # the writer of an earlier newsearch: texts in Whoosh's stored fields
        old.setattr(fastwriter, "_TextsApart", lambda perdoc, texts: perdoc)
        old.setattr(whooshformat, "stored_text_writer", lambda *args: None)
        with SearchEngine(tmp_path / "ix") as engine:
            engine.index([_write(source, "first.jsonl", first)])
    assert all(set(TEXTS) <= set(s) for s in _whoosh_stored(tmp_path / "ix"))
    with SearchEngine(tmp_path / "ix") as engine:
        before = [(h.id, h.title, h.snippet) for h in engine.search("grève Marseille", limit=20).hits]
        assert engine.article("a5").article.body == first[5]["body"]
        _write(source, "second.jsonl", second)
        engine.index([source])
    assert not any(set(TEXTS) & set(s) for s in _whoosh_stored(tmp_path / "ix")[len(first):])
    fastwriter.FastWriter(open_index(tmp_path / "ix")).commit(optimize=True)  # the old segment merged with the new
    assert len(windex.open_dir(str(tmp_path / "ix"), indexname=INDEX_NAME)._segments()) == 1
    assert not any(set(TEXTS) & set(s) for s in _whoosh_stored(tmp_path / "ix"))
    _every_text_back_first_hits_alike(tmp_path / "ix", first + second, before)


def _every_text_back_first_hits_alike(folder, records, before):
    """Every record's texts come back exactly, and the first run's articles still rank first as ``before``."""
    with SearchEngine(folder) as engine:
        for record in records:
            article = engine.article(record["id"]).article
            assert (article.title, article.lede, article.body) == tuple(record[n] for n in TEXTS)
        after = [(h.id, h.title, h.snippet) for h in engine.search("grève Marseille", limit=20).hits
                 if h.id.startswith("a")]
    assert after[:5] == before[:5]


def _write_texts(writer_type, documents):
    sink = _Sink()
    writer = writer_type(sink, TEXTS)
    for docnum, texts in documents.items():
        writer.add(docnum, texts)
    writer.close()
    return StoredTexts(_Source(sink.data), len(sink.data)), len(sink.data)


def test_blocks_of_documents_come_back_in_any_order_and_beat_a_record_per_document():
    records = _records(600, seed=3)
    documents = {d: {n: r[n] for n in TEXTS} for d, r in enumerate(records) if d % 7}  # gaps: no text
    documents[600] = {"title": "\ud800 seul"}
    documents |= {d: {} for d in range(700, 700 + 3 * BLOCK_DOCUMENTS)}  # many documents without text
    documents[800] = {"body": "après le vide"}
    expected = [documents.get(d, {}) for d in range(801)]
    texts, size = _write_texts(StoredTextWriter, documents)
    first, first_size = _write_texts(_FirstLayoutWriter, documents)
    deflated, deflated_size = _write_texts(_DeflatedBlocksWriter, documents)
    assert texts.blocks < len(expected) / 3 and 0 < len(texts.dictionary) <= DICTIONARY
    order = list(range(len(expected)))
    random.Random(5).shuffle(order)
    assert {d: texts.texts(d) for d in order} == dict(enumerate(expected))
    assert [texts.texts(d) for d in range(len(expected))] == expected == [first.texts(d) for d in range(801)]
    assert [deflated.texts(d) for d in range(len(expected))] == expected
    assert (first.layout, deflated.layout, texts.layout) == (b"NST1", b"NST2", b"NST3")
    assert size < 0.95 * deflated_size < 0.95 * first_size
    with pytest.raises(IndexError):
        texts.texts(801)


def _layouts(folder):
    """The layouts of the index's stored-text files."""
    with windex.open_dir(str(folder), indexname=INDEX_NAME).reader() as reader:
        return {whooshformat.stored_texts(leaf).layout for leaf, _ in reader.leaf_readers()}


@pytest.mark.parametrize(("layout", "writer"), [(b"NST1", _FirstLayoutWriter), (b"NST2", _DeflatedBlocksWriter)])
def test_an_index_of_an_earlier_layout_reads_updates_and_merges(tmp_path, monkeypatch, layout, writer):
    first, second = _records(150, seed=4), [dict(r, id=f"b{i}") for i, r in enumerate(_records(90, seed=5))]
    source = tmp_path / "in"
    with monkeypatch.context() as old:
        old.setattr(storedtext, "StoredTextWriter", writer)
        old.setattr(whooshformat, "StoredTextWriter", writer)
        with SearchEngine(tmp_path / "ix") as engine:
            engine.index([_write(source, "first.jsonl", first)])
    assert _layouts(tmp_path / "ix") == {layout}
    with SearchEngine(tmp_path / "ix") as engine:
        before = [(h.id, h.title, h.snippet) for h in engine.search("grève Marseille", limit=20).hits]
        assert engine.article("a5").article.body == first[5]["body"]
        _write(source, "second.jsonl", second)
        assert engine.index([source]).added == len(second)
        assert engine.article("b7").article.lede == second[7]["lede"]
    assert _layouts(tmp_path / "ix") == {layout, b"NST3"}
    fastwriter.FastWriter(open_index(tmp_path / "ix")).commit(optimize=True)  # both merged into NST3
    assert _layouts(tmp_path / "ix") == {b"NST3"}
    _every_text_back_first_hits_alike(tmp_path / "ix", first + second, before)


ODD = ["", "\x00", "nul\x00au milieu\x00", "\ud800", "a\udfffb\udc80", "🦊 émoji 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\ufeff\u2028\u2029",
       "\x01\x1f\x7f\x9f", "é" * (3 * BLOCK), "x"]


def test_any_string_comes_back_exactly_whether_or_not_a_dictionary_was_trained():
    records = _records(1_500, seed=9)
    rng = random.Random(11)
    huge = " ".join(rng.choice(SENTENCES) for _ in range(SAMPLE // 30))  # more than the whole sample
    documents = {0: {"body": huge, "title": "\ud83e"}}
    for d, record in enumerate(records, start=1):
        documents[d] = {n: rng.choice(ODD) if rng.random() < 0.2 else record[n] for n in TEXTS if rng.random() < 0.9}
    documents[len(records) + 5] = {"title": huge[::-1], "lede": "", "body": "\x00"}
    expected = [documents.get(d, {}) for d in range(len(records) + 6)]
    for subset in (documents, {d: texts for d, texts in documents.items() if d in (1, 2, 3)}):
        texts, _ = _write_texts(StoredTextWriter, subset)
        assert [texts.texts(d) for d in range(texts.count)] == [subset.get(d, {}) for d in range(texts.count)]
    texts, _ = _write_texts(StoredTextWriter, documents)
    assert texts.dictionary  # trained, though the first article alone holds more than the whole sample
    assert [texts.texts(d) for d in range(len(expected))] == expected


def test_many_threads_reading_one_segment_s_texts_get_them_exactly():
    records = _records(2_000, seed=12)
    documents = {d: {n: r[n] for n in TEXTS} for d, r in enumerate(records)}
    texts, _ = _write_texts(StoredTextWriter, documents)
    assert texts.blocks > 100

    def read(seed):
        order = list(range(len(records)))
        random.Random(seed).shuffle(order)
        return all(texts.texts(d) == documents[d] for d in order)

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(read, range(16)))


def test_a_damaged_or_cut_stored_text_file_raises_a_value_error():
    documents = {d: {n: r[n] for n in TEXTS} for d, r in enumerate(_records(600, seed=13))}
    sink = _Sink()
    writer = StoredTextWriter(sink, TEXTS)
    for docnum, text in documents.items():
        writer.add(docnum, text)
    writer.close()
    data = sink.data
    texts = StoredTexts(_Source(data), len(data))
    start, end = int(texts.offsets[3]), int(texts.offsets[4])
    for broken in (data[:start] + bytes(end - start) + data[end:],  # a block zeroed
                   data[:start + 1] + bytes([data[start + 1] ^ 0xFF]) + data[start + 2:],  # its frame header
                   data[:start] + data[start:end][:(end - start) // 2] + bytes(end - start - (end - start) // 2)
                   + data[end:]):  # its second half lost
        damaged = StoredTexts(_Source(broken), len(broken))
        first = int(damaged.firsts[3])
        with pytest.raises(ValueError, match="block 3"):
            damaged.texts(first)
        assert damaged.texts(0) == documents[0]
    where = int(texts.offsets[-1])
    broken = data[:where] + b"garbage!" + data[where + 8:]  # the dictionary
    with pytest.raises(ValueError, match="dictionary"):
        StoredTexts(_Source(broken), len(broken))
    for cut in (1, 4, 41, len(data) // 2):
        with pytest.raises(ValueError):
            StoredTexts(_Source(data[:-cut]), len(data) - cut)
