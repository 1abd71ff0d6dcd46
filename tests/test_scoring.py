"""The array scorer reads Whoosh's own files, and scores them with BM25F as Robertson and Zaragoza define it."""

import json
import math

import numpy as np
import pytest

from searchengine import SearchEngine, scoring

FIELDS_BOOSTS = {"title": 2.0, "lede": 1.5, "body": 1.0}


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


def whoosh_postings(arrays, field, term):
    """Live document -> frequency, through Whoosh's own reader."""
    reader = arrays.reader
    if (field, term) not in reader:
        return {}
    return {d: w for d, w in reader.postings(field, term).items_as("weight") if arrays.live[d]}


@pytest.mark.parametrize(("field", "term"), [("body", "grev"), ("body", "train"), ("title", "grev"),
                                              ("body", "la"), ("title", "absent")])
def test_postings_equal_whooshs_across_segments(engine, field, term):
    arrays = engine._current().arrays
    assert len(arrays.reader.leaf_readers()) > 1
    ids, tf = arrays.postings(field, term)
    ours = {int(d): float(w) for d, w in zip(ids, tf, strict=True) if arrays.live[d]}
    assert ours == whoosh_postings(arrays, field, term)


def expected_bm25f(arrays, term, boosts):
    """BM25F written out from Whoosh's reader: boosted, length-normalised
    frequencies add up over the fields, then saturate once; Lucene's idf."""
    searcher, reader = arrays.searcher, arrays.reader
    n = reader.doc_count_all()
    df = max(reader.doc_frequency(f, term) for f in boosts)
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    combined = {}
    for f, boost in boosts.items():
        average = searcher.avg_field_length(f)
        for d, w in whoosh_postings(arrays, f, term).items():
            norm = 1 - scoring.B + scoring.B * reader.doc_field_length(d, f) / average
            combined[d] = combined.get(d, 0.0) + boost * w / norm
    return {d: idf * tf * (scoring.K1 + 1) / (tf + scoring.K1) for d, tf in combined.items()}


@pytest.mark.parametrize("term", ["grev", "train", "la", "absent"])
def test_bm25f_combines_fields_before_saturating(engine, term):
    arrays = engine._current().arrays
    boosts = {"title": 2.0, "body": 1.0}
    ids, scores = arrays.bm25f(term, boosts)
    ours = {int(d): float(s) for d, s in zip(ids, scores, strict=True) if arrays.live[d]}
    expected = expected_bm25f(arrays, term, boosts)
    assert ours.keys() == expected.keys()
    assert all(ours[d] == pytest.approx(expected[d], rel=1e-5) for d in expected)


def test_scores_of_a_few_documents_equal_the_full_lists(engine):
    arrays = engine._current().arrays
    docs = np.array(sorted(engine._current().find(i) for i in ("a0", "a7", "b1", "b2")))
    full = dict(zip(*arrays.bm25f("grev", FIELDS_BOOSTS), strict=True))
    ids, scores = arrays.bm25f("grev", FIELDS_BOOSTS, docs)
    assert ids.tolist() == docs.tolist()
    assert scores.tolist() == pytest.approx([full[d] for d in docs.tolist()])


def test_scores_where_a_phrase_may_stand_are_the_full_scores_there(engine):
    arrays = engine._current().arrays
    only = np.zeros(arrays.size, dtype=bool)
    only[::3] = True
    for term in ("grev", "la", "absent"):
        ids, scores = arrays.bm25f(term, FIELDS_BOOSTS)
        some, theirs = arrays.bm25f(term, FIELDS_BOOSTS, only=only)
        assert some.tolist() == ids[only[ids]].tolist()
        assert theirs.tolist() == scores[only[ids]].tolist()  # to the last bit


@pytest.mark.parametrize(("step", "every"), [(1, 1), (1, 3), (7, 21), (40, 120)])  # more ranges than postings, or fewer
def test_scores_within_ranges_are_the_full_scores_there(engine, step, every):
    """Ranges are found in a list, or a list's documents in the ranges, whichever is shorter: the same
    documents, and the fields merged to the same scores, to the last bit."""
    arrays = engine._current().arrays
    starts = np.arange(0, arrays.size, every)
    within = (starts, np.minimum(starts + step, arrays.size))
    inside = np.zeros(arrays.size, dtype=bool)
    for start, stop in zip(*within, strict=True):
        inside[start:stop] = True
    for term in ("grev", "la", "train", "mot", "absent"):
        ids, scores = arrays.bm25f(term, FIELDS_BOOSTS)
        some, theirs = arrays.bm25f(term, FIELDS_BOOSTS, within=within)
        assert some.tolist() == ids[inside[ids]].tolist()
        assert theirs.tolist() == scores[inside[ids]].tolist()


@pytest.mark.parametrize(("field", "term"), [("body", "grev"), ("body", "la"), ("title", "grev"),
                                              ("body", "train"), ("body", "absent")])
def test_positions_are_the_same_once_the_words_list_is_cached(engine, field, term):
    """Once a word's document numbers are cached, only the blocks of the documents holding it are read."""
    with SearchEngine(engine.path) as fresh:
        arrays = fresh._current().arrays
        docs = np.arange(arrays.size)[1::3]
        before = arrays.positions(field, term, docs), arrays.frequencies_in(field, term, docs)
        held = arrays.postings(field, term)[0]
        after = arrays.positions(field, term, docs), arrays.frequencies_in(field, term, docs)
    assert after[0] == before[0] and sorted(after[0]) == [d for d in docs.tolist() if d in set(held.tolist())]
    assert [a.tolist() for a in after[1]] == [b.tolist() for b in before[1]]


@pytest.mark.parametrize(("field", "term"), [("body", "grev"), ("body", "la"), ("title", "grev"),
                                              ("body", "absent")])
def test_positions_read_together_are_those_read_one_by_one(engine, field, term):
    arrays = engine._current().arrays
    docs = np.arange(arrays.size)[::2]
    where = arrays.positions(field, term, docs)
    owners, positions = arrays.positions_of(field, term, docs)
    assert owners.tolist() == [d for d in sorted(where) for _ in where[d]]
    assert positions.tolist() == [p for d in sorted(where) for p in where[d]]


@pytest.mark.parametrize("few", [10**9, 1])  # only the blocks holding the documents are read, or the whole list
def test_the_documents_holding_a_word_among_some_are_found_in_its_list(engine, monkeypatch, few):
    monkeypatch.setattr(scoring, "FEW", few)
    rng = np.random.default_rng(1)
    with SearchEngine(engine.path) as fresh:
        arrays = fresh._current().arrays
        for field, term in (("body", "grev"), ("body", "train"), ("title", "grev"), ("body", "absent")):
            docs = np.sort(rng.choice(arrays.size, 40, replace=False))
            found = arrays.among(field, term, docs).tolist()
            held = set(arrays.postings(field, term)[0].tolist())
            assert found == [d for d in docs.tolist() if d in held]


def test_replaced_documents_are_not_live(engine):
    arrays = engine._current().arrays
    assert arrays.live.sum() == arrays.searcher.doc_count() == 152 < arrays.size
    assert [h.id for h in engine.search('"un mot sur"')] == ["a3"]


def test_dates_column_knows_undated_articles(engine):
    arrays = engine._current().arrays
    dated = engine._current().find("b2")
    undated = engine._current().find("b1")
    assert arrays.dates()[undated] == arrays.undated != arrays.dates()[dated]
    assert [h.id for h in engine.search("grève", sort="date", limit=2)][0] == "b2"
    assert [h.id for h in engine.search("grève", since="2023-01-01")] == ["b2"]


def test_a_tiny_cache_changes_nothing_but_memory(engine, monkeypatch):
    queries = ("grève trains", '"la grève" train')
    before = [[(h.id, h.score) for h in engine.search(q, limit=20)] for q in queries]
    monkeypatch.setattr(scoring, "CACHED_POSTINGS", 10)
    monkeypatch.setattr(scoring, "CACHED_LIST_BYTES", 100)
    with SearchEngine(engine.path) as again:
        after = [[(h.id, h.score) for h in again.search(q, limit=20)] for q in queries]
        fresh = again._current().arrays
    assert after == before
    assert fresh._postings.total <= 10 or len(fresh._postings) == 1
    assert fresh._lists.total <= 100 or len(fresh._lists) == 1


@pytest.fixture
def mixed(tmp_path, monkeypatch):
    """A segment written without score lists (as by an older newsearch), then
    one with them, whose articles are shorter: the average lengths of the
    index are longer than those its score lists were written with."""
    from searchengine import scorelists

    from .generated import articles

    records = articles(700, seed=3)
    for record in records[:350]:
        record["body"] += " " + record["body"]
    write_jsonl(tmp_path / "first.jsonl", records[:350])
    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 10**9)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "first.jsonl"])
        monkeypatch.setattr(scorelists, "MIN_POSTINGS", 64)
        monkeypatch.setattr(scorelists, "MIN_MAXIMA", 200)  # the commonest words' lists with their maxima
        monkeypatch.setattr(scorelists, "WINDOW", 16)
        write_jsonl(tmp_path / "second.jsonl", records[350:])
        engine.index([tmp_path / "first.jsonl", tmp_path / "second.jsonl"])
        yield engine


@pytest.mark.parametrize(("field", "term"), [("body", "grev"), ("body", "le"), ("title", "grev"), ("lede", "de")])
def test_score_lists_read_as_whooshs_postings_and_bound_every_score(mixed, field, term):
    arrays = mixed._current().arrays
    lists = arrays.score_lists()
    assert len(lists) == 2
    assert not lists[0].has(field, term) and lists[1].has(field, term)
    # Bounds from the maxima stored for a common word, else from the list itself.
    assert (lists[1].windows(field, term) is None) == (len(lists[1].postings(field, term)[0]) < 200)
    ids, tf = arrays.postings(field, term)
    assert {int(d): float(w) for d, w in zip(ids, tf, strict=True) if arrays.live[d]} == whoosh_postings(
        arrays, field, term)
    # Every document's length-normalised frequency is within its window's bound.
    bounds = arrays.window_bounds(field, term, scoring.B)
    actual = tf / (1 - scoring.B + scoring.B * arrays.lengths(field)[ids] / arrays.searcher.avg_field_length(field))
    assert lists[1].window == 16  # mapped onto the index's windows, of the first segment's size
    assert np.all(bounds[ids // arrays.window] >= actual * (1 - 1e-6))


def test_bounds_computed_from_a_list_are_each_windows_largest_normalised_frequency(mixed):
    """Where no segment stores a word's maxima, its bounds are exact: the largest ``tf / norm`` of each window."""
    arrays = mixed._current().arrays
    computed = 0
    for field in ("title", "lede", "body"):
        norm = 1 - scoring.B + scoring.B * arrays.lengths(field) / arrays.searcher.avg_field_length(field)
        for term in ("grev", "le", "de", "la", "train", "absent"):
            if any(lists is not None and lists.windows(field, term) is not None for lists in arrays.score_lists()):
                continue
            ids, tf = arrays.postings(field, term)
            expected = np.zeros(-(-arrays.size // arrays.window))
            np.maximum.at(expected, ids // arrays.window, tf.astype(np.float64) / norm[ids])
            assert arrays.window_bounds(field, term, scoring.B).tolist() == expected.tolist(), (field, term)
            computed += len(ids) > 0
    assert computed >= 3


def test_a_damaged_score_list_is_read_from_the_w3_blocks_instead(tmp_path, monkeypatch):
    """One byte of a score list changed on disk (its first document one later)
    puts the list onto other articles: queries found the wrong ones, and a
    phrase query could trace back (KeyError) looking for their positions.
    The list disagrees with the segment's term table, so its W3 blocks are
    read instead."""
    from searchengine import scorelists

    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 16)
    monkeypatch.setattr(scorelists, "_deflated", lambda raw: raw)  # nothing deflated: the list is a bitmap
    records = [{"id": f"a{i}", "title": f"Article {i}",
                "body": "La grève continue ici." if i % 2 == 0 else "Le train roule encore."} for i in range(100)]
    write_jsonl(tmp_path / "a.jsonl", records)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        expected = [[h.id for h in engine.search(q, limit=60)] for q in ('"grève continue"', "grève")]
        (lists,) = engine._current().arrays.score_lists()
        entry = lists._find("body", "grev")
        raw = lists.source.get(entry.offset, 40)
        assert entry.low == scorelists._BITMAP and raw[:12] == b"\xaa" * 12  # documents 0, 2, 4...
    damaged = b"\x6a" + raw[1:]  # 1, 2, 4...
    (holder,) = [p for p in (tmp_path / "ix").iterdir() if p.is_file() and raw in p.read_bytes()]
    holder.write_bytes(holder.read_bytes().replace(raw, damaged, 1))
    with SearchEngine(tmp_path / "ix") as engine:
        assert [[h.id for h in engine.search(q, limit=60)] for q in ('"grève continue"', "grève")] == expected
