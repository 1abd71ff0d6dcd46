"""Stored texts: kept apart from Whoosh's stored fields, deflated against a
dictionary of the segment's texts, and given back exactly; indexes written
before them read and merge as before."""

import json
import random
import zlib

import pytest
from whoosh import index as windex

from searchengine import SearchEngine, fastwriter, whooshformat
from searchengine.indexing import INDEX_NAME, open_index
from searchengine.storedtext import DICTIONARY, StoredTexts, StoredTextWriter

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
    with SearchEngine(tmp_path / "ix") as engine:
        for record in first + second:
            article = engine.article(record["id"]).article
            assert (article.title, article.lede, article.body) == tuple(record[n] for n in TEXTS)
        after = [(h.id, h.title, h.snippet) for h in engine.search("grève Marseille", limit=20).hits
                 if h.id.startswith("a")]
    assert after[:5] == before[:5]
