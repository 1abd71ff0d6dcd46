"""Stored texts: kept apart from Whoosh's stored fields, deflated in blocks
against a dictionary of the segment's texts, and given back exactly; indexes
written before them, or with a record per article (NST1), read and merge as before."""

import json
import random
import struct
import zlib

import pytest
from whoosh import index as windex

from searchengine import SearchEngine, fastwriter, storedtext, whooshformat
from searchengine.indexing import INDEX_NAME, open_index
from searchengine.storedtext import BLOCK_DOCUMENTS, DICTIONARY, StoredTexts, StoredTextWriter

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


def test_a_segment_s_texts_are_deflated_against_its_own_dictionary(tmp_path):
    records = _records(400)
    sink = _Sink()
    writer = StoredTextWriter(sink, TEXTS)
    for docnum, record in enumerate(records):
        writer.add(docnum, {name: record[name] for name in TEXTS})
    writer.close()
    assert sink.closed
    texts = StoredTexts(_Source(sink.data), len(sink.data))
    assert [texts.texts(d) for d in range(len(records))] == [{n: r[n] for n in TEXTS} for r in records]
    assert len(texts.dictionary) == DICTIONARY
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
    assert texts.blocks < len(expected) / 3 and len(texts.dictionary) == DICTIONARY
    order = list(range(len(expected)))
    random.Random(5).shuffle(order)
    assert {d: texts.texts(d) for d in order} == dict(enumerate(expected))
    assert [texts.texts(d) for d in range(len(expected))] == expected == [first.texts(d) for d in range(801)]
    assert size < 0.95 * first_size
    with pytest.raises(IndexError):
        texts.texts(801)


def _layouts(folder):
    """The layouts of the index's stored-text files: NST1 reads a block per document."""
    with windex.open_dir(str(folder), indexname=INDEX_NAME).reader() as reader:
        return {b"NST1" if whooshformat.stored_texts(leaf).firsts is None else b"NST2"
                for leaf, _ in reader.leaf_readers()}


def test_an_index_with_a_record_per_article_reads_updates_and_merges(tmp_path, monkeypatch):
    first, second = _records(150, seed=4), [dict(r, id=f"b{i}") for i, r in enumerate(_records(90, seed=5))]
    source = tmp_path / "in"
    with monkeypatch.context() as old:
        old.setattr(storedtext, "StoredTextWriter", _FirstLayoutWriter)
        old.setattr(whooshformat, "StoredTextWriter", _FirstLayoutWriter)
        with SearchEngine(tmp_path / "ix") as engine:
            engine.index([_write(source, "first.jsonl", first)])
    assert _layouts(tmp_path / "ix") == {b"NST1"}
    with SearchEngine(tmp_path / "ix") as engine:
        before = [(h.id, h.title, h.snippet) for h in engine.search("grève Marseille", limit=20).hits]
        assert engine.article("a5").article.body == first[5]["body"]
        _write(source, "second.jsonl", second)
        assert engine.index([source]).added == len(second)
        assert engine.article("b7").article.lede == second[7]["lede"]
    assert _layouts(tmp_path / "ix") == {b"NST1", b"NST2"}
    fastwriter.FastWriter(open_index(tmp_path / "ix")).commit(optimize=True)  # NST1 and NST2 merged into NST2
    assert _layouts(tmp_path / "ix") == {b"NST2"}
    _every_text_back_first_hits_alike(tmp_path / "ix", first + second, before)
