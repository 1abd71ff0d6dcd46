"""Id tables: articles are found by id through a small table per segment and
the ``id`` column, not a term per id; shared ids, ids of one hash, updates,
deletions, merges and parallel builds find what they found, and an index
written with id terms still opens, shows and updates as before."""

import json
import shutil
import zlib

import pytest
from whoosh import index as windex
from whoosh.writing import SegmentWriter

from searchengine import SearchEngine, indexing, whooshformat
from searchengine.cli import cli
from searchengine.errors import ArticleNotFound
from searchengine.fastwriter import FastWriter
from searchengine.idtable import IdTable, write_id_table
from searchengine.indexing import INDEX_NAME, open_index

from .test_storedtext import _Sink, _Source
from .test_whooshformat import session_nine_schema

COLLIDING = ("dépêche-29685295", "dépêche-32060020")
"""Two ids of one CRC-32: a table gives both for either, the column tells them apart."""


def test_a_table_gives_the_documents_of_an_ids_hash_in_order():
    a, b = (value.encode() for value in COLLIDING)
    assert a != b and zlib.crc32(a) == zlib.crc32(b)
    ids = [b"un", b"", a, "été".encode(), b"un", b, b"deux", a] + [f"n{i}".encode() for i in range(500)]
    sink = _Sink()
    write_id_table(sink, ids)
    assert sink.closed and len(sink.data) == 8 + 8 * (len(ids) - 1)  # no entry for the document without id
    table = IdTable(_Source(sink.data), len(sink.data))
    assert table.candidates(b"un") == [0, 4]
    assert table.candidates(a) == table.candidates(b) == [2, 5, 7]
    assert table.candidates("été".encode()) == [3]
    assert table.candidates(b"n499") == [len(ids) - 1]
    assert table.candidates(b"absent") == table.candidates(b"") == []
    with pytest.raises(ValueError, match="not an id table"):
        IdTable(_Source(sink.data[:-4]), len(sink.data) - 4)


def _write(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def _records(count, start=0):
    return [{"id": f"a{i}", "title": f"Grève numéro {i} à Marseille",
             "body": f"Les syndicats appellent à la grève {i}. Le ministre répond mardi à Marseille."}
            for i in range(start, start + count)]


def _news(folder):
    """Two files: many articles, two of one CRC-32, and an id each file uses."""
    first = _write(folder / "a.jsonl", [*_records(150), {"id": COLLIDING[0], "title": "Tempête", "body": "Vent."},
                                        {"id": "même", "title": "Sommet à Pékin", "body": "Poutine à Pékin."}])
    second = _write(folder / "b.jsonl", [*_records(60, 150), {"id": COLLIDING[1], "title": "Crue", "body": "Pluie."},
                                         {"id": "même", "title": "Sommet à Moscou", "body": "Poutine à Moscou."}])
    return first, second


def _seen(engine):
    """What a user sees of the articles by their ids: hits' ids, ``show`` of each, and ``similar``
    of some (as a set: the order of equals depends on how the articles were split into segments)."""
    hits = sorted(h.id for h in engine.search("grève OR Poutine OR tempête OR crue", limit=500).hits)
    shown = {i: (engine.article(i).article.title,
                 sorted(h.id for h in engine.similar(i, limit=500).hits) if n % 50 == 0 or "a" not in i[:1] else [])
             for n, i in enumerate(hits)}
    return hits, shown


def _id_terms(folder):
    with windex.open_dir(str(folder), indexname=INDEX_NAME).reader() as reader:
        return sum(1 for field, _ in reader.all_terms() if field == "id")


def _tables(folder):
    """Each segment's id table, or None."""
    with windex.open_dir(str(folder), indexname=INDEX_NAME).reader() as reader:
        return [whooshformat.id_table(leaf) for leaf, _ in reader.leaf_readers()]


def _update(engine, first, second, jobs):
    """Re-index after article a5 changed, a9 went, and ``first``'s "même" gave way to
    another article: the updated and removed counts."""
    records = _records(150)
    records[5]["title"] = "Grève levée à Marseille"
    del records[9]
    _write(first, [*records, {"id": COLLIDING[0], "title": "Tempête", "body": "Vent."}])
    report = engine.index([first, second], jobs=jobs)
    return report.updated, report.removed


@pytest.mark.parametrize("jobs", [1, 2])
def test_ids_are_found_through_tables_through_updates_deletions_and_merges(tmp_path, jobs):
    first, second = _news(tmp_path)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([first, second], jobs=jobs)
        hits, shown = _seen(engine)
        assert _id_terms(tmp_path / "ix") == 0
        assert all(_tables(tmp_path / "ix")) and ".nid" in whooshformat.part_sizes(tmp_path / "ix", INDEX_NAME)
        assert {*COLLIDING, "a3", "a170"} <= set(hits)  # two ids of one hash: each is its own
        assert shown[COLLIDING[0]][0] == "Tempête" and shown[COLLIDING[1]][0] == "Crue"
        assert shown[f"{first}#même"][0] == "Sommet à Pékin" and shown[f"{second}#même"][0] == "Sommet à Moscou"
        assert f"{second}#même" in shown[f"{first}#même"][1]
        with pytest.raises(ArticleNotFound, match="2 articles have the id 'même'"):
            engine.article("même")
        # An update: a changed article, one deleted, and "même" left to one file.
        assert _update(engine, first, second, jobs) == (1, 2)
        assert engine.article("a5").article.title == "Grève levée à Marseille"
        assert engine.article("même").article.title == engine.article(f"{second}#même").article.title == \
            "Sommet à Moscou"
        assert "même" in {h.id for h in engine.search("Poutine").hits}
        for gone in ("a9", f"{first}#même"):
            with pytest.raises(ArticleNotFound):
                engine.article(gone)
        before = _seen(engine)
        FastWriter(open_index(tmp_path / "ix")).commit(optimize=True)  # one segment, deleted documents left out
        assert len(_tables(tmp_path / "ix")) == 1 and all(_tables(tmp_path / "ix"))
        assert _seen(engine) == before
        with pytest.raises(ArticleNotFound):
            engine.article("a9")


def test_show_by_id_prints_the_article_and_names_a_shared_id(tmp_path, runner):
    first, second = _news(tmp_path)
    index = str(tmp_path / "ix")
    assert runner.invoke(cli, ["index", "--index-dir", index, str(first), str(second)]).exit_code == 0
    shown = runner.invoke(cli, ["show", "--index-dir", index, COLLIDING[1]])
    assert shown.exit_code == 0 and "Crue" in shown.stdout and "Tempête" not in shown.stdout
    shared = runner.invoke(cli, ["show", "--index-dir", index, "même"])
    assert shared.exit_code == 2 and f"{first}#même" in shared.stderr
    assert "Sommet à Moscou" in runner.invoke(cli, ["show", "--index-dir", index, f"{second}#même"]).stdout


def test_a_segment_merged_by_stock_whoosh_has_no_table_and_its_articles_are_still_found_by_id(tmp_path):
    first, second = _news(tmp_path)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([first, second], jobs=2)
        expected = _seen(engine)
    shutil.copytree(tmp_path / "ix", tmp_path / "stock")
    SegmentWriter(windex.open_dir(str(tmp_path / "stock"), indexname=INDEX_NAME)).commit(optimize=True)
    assert _tables(tmp_path / "stock") == [None]
    own = [i for i in expected[0] if "#" not in i]  # stock Whoosh's merge leaves the stored texts behind, paths too
    with SearchEngine(tmp_path / "stock") as engine:
        assert len(own) == 212 and [engine.article(i).article.id for i in own] == own


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_index_with_id_terms_opens_shows_and_updates_as_before_and_a_rebuild_drops_them(tmp_path, monkeypatch,
                                                                                             jobs):
    first, second = _news(tmp_path)
    with monkeypatch.context() as old:  # what the previous newsearch wrote
        old.setattr(indexing, "make_schema", session_nine_schema)
        with SearchEngine(tmp_path / "old") as engine:
            engine.index([first, second], jobs=jobs)
    with SearchEngine(tmp_path / "new") as engine:
        engine.index([first, second], jobs=jobs)
        expected = _seen(engine)
    assert _id_terms(tmp_path / "old") >= 213 and _tables(tmp_path / "old") == [None] * len(_tables(tmp_path / "old"))
    with SearchEngine(tmp_path / "old") as engine:
        assert _seen(engine) == expected
        assert _update(engine, first, second, jobs) == (1, 2)
        assert engine.article("a5").article.title == "Grève levée à Marseille"
        assert engine.article("même").article.title == "Sommet à Moscou"
        with pytest.raises(ArticleNotFound):
            engine.article("a9")
        assert not any(_tables(tmp_path / "old"))  # the index keeps its own layout
        updated = _seen(engine)
        engine.index([first, second], rebuild=True, jobs=jobs)
        assert _seen(engine) == updated
    assert _id_terms(tmp_path / "old") == 0 and all(_tables(tmp_path / "old"))
    sizes = whooshformat.part_sizes(tmp_path / "old", INDEX_NAME)
    assert sizes[".nid"] == 8 * len(_tables(tmp_path / "old")) + 8 * 212
