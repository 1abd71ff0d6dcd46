"""The array scorer reads Whoosh's own files and gives Whoosh's own BM25F scores."""

import json

import pytest
from whoosh import query as wq

from searchengine import SearchEngine, scoring
from searchengine.scoring import IndexArrays


def write_jsonl(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")


@pytest.fixture
def engine(tmp_path):
    """Two segments and a deleted document: the layout a real index reaches after updates."""
    first = [
        {"id": f"a{i}", "title": f"Grève numéro {i}",
         "body": "La grève continue. " * (i + 1) + "Les trains roulent peu."}
        for i in range(150)
    ]
    write_jsonl(tmp_path / "first.jsonl", first)
    second = [
        {"id": "b1", "title": "Sans date", "body": "Une grève de plus, mais pas de train."},
        {"id": "b2", "title": "Datée", "date": "2023-01-19", "body": "Grève, grève, grève."},
    ]
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "first.jsonl"])
        write_jsonl(tmp_path / "second.jsonl", second)
        engine.index([tmp_path / "first.jsonl", tmp_path / "second.jsonl"])
        first[3]["body"] = "Plus un mot sur la grève."
        write_jsonl(tmp_path / "first.jsonl", first)
        engine.index([tmp_path / "first.jsonl", tmp_path / "second.jsonl"])
        yield engine


def whoosh_scores(searcher, field, term):
    return {hit.docnum: hit.score for hit in searcher.search(wq.Term(field, term), limit=None)}


@pytest.mark.parametrize(("field", "term"), [("body", "grev"), ("body", "train"), ("title", "grev"),
                                              ("body", "la"), ("title", "absent")])
def test_scores_equal_whooshs_bm25f_across_segments(engine, field, term):
    arrays = engine._open_arrays()
    assert len(arrays.reader.leaf_readers()) > 1
    ids, scores = arrays.term_scores(field, term)
    ours = {int(d): float(s) for d, s in zip(ids, scores, strict=True) if arrays.live[d]}
    theirs = whoosh_scores(arrays.searcher, field, term)
    assert ours.keys() == theirs.keys()
    assert all(ours[d] == pytest.approx(theirs[d], rel=1e-5) for d in theirs)


def test_replaced_documents_are_not_live(engine):
    arrays = engine._open_arrays()
    assert arrays.live.sum() == arrays.searcher.doc_count() == 152 < arrays.size
    assert [h.id for h in engine.search('"un mot sur"')] == ["a3"]


def test_dates_column_knows_undated_articles(engine):
    arrays = engine._open_arrays()
    dated = arrays.searcher.document_number(id="b2")
    undated = arrays.searcher.document_number(id="b1")
    assert arrays.dates()[undated] == arrays.undated != arrays.dates()[dated]
    assert [h.id for h in engine.search("grève", sort="date", limit=2)][0] == "b2"
    assert [h.id for h in engine.search("grève", since="2023-01-01")] == ["b2"]


def test_a_tiny_cache_changes_nothing_but_memory(engine, monkeypatch):
    before = [(h.id, h.score) for h in engine.search("grève trains", limit=20)]
    monkeypatch.setattr(scoring, "CACHED_POSTINGS", 10)
    fresh = IndexArrays(engine._open_searcher())
    engine._arrays = fresh
    after = [(h.id, h.score) for h in engine.search("grève trains", limit=20)]
    assert after == before
    assert fresh._cached_postings <= 10 or len(fresh._cache) == 1
