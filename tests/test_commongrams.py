"""Phrases with common words are matched on common-word bigrams, and find
exactly the articles that checking every word's positions finds."""

import json
import random

import numpy as np
import pytest
from whoosh import index as windex
from whoosh.writing import SegmentWriter

from searchengine import SearchEngine, commongrams, indexing, ranking
from searchengine.analysis import FrenchAnalyzer
from searchengine.cli import cli
from searchengine.commongrams import with_grams
from searchengine.fastwriter import FastWriter
from searchengine.indexing import INDEX_NAME, make_schema
from searchengine.queries import FIELDS

from .generated import articles
from .test_whooshformat import DOCS, contents

RECORDS = articles(400, seed=15)
RARE = ("zygomatique", "quetzalcoatl")
"""Words in no generated article."""


def phrases(records, count, seed):
    """``count`` runs of 2 to 4 words of the articles' texts, as typed."""
    rng = random.Random(seed)
    texts = [r[f] for r in records for f in ("title", "lede", "body") if f in r]
    found = []
    while len(found) < count:
        words = rng.choice(texts).split()
        size = rng.randint(2, 4)
        if len(words) >= size:
            start = rng.randrange(len(words) - size + 1)
            found.append(" ".join(words[start:start + size]))
    return found


def nowhere(records, count, seed):
    """Runs of 2 to 4 words of the texts that stand in no text in that order
    (shuffled runs, runs with a word found nowhere, common words in a row)."""
    rng = random.Random(seed)
    found = []
    for phrase in phrases(records, count, seed):
        words = phrase.split()
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words) + 1), rng.choice(RARE))
        else:
            words.reverse()
        found.append(" ".join(words))
    return found + ["il ne le", "de de la", "la de", "le la les"]


def vocabulary(records):
    """Every term of the records' texts."""
    analyzer = FrenchAnalyzer()
    return {term for r in records for f in ("title", "lede", "body") if f in r
            for term in analyzer.term_positions(r[f])}


@pytest.fixture(scope="module", params=["shipped", "every"])
def generated(request, tmp_path_factory):
    """The generated articles indexed with the shipped list of frequent terms
    (some pairs of a common word are bigrams, others not), or with every term
    paired (a phrase's common words are all read as bigrams)."""
    folder = tmp_path_factory.mktemp("grams")
    path = folder / "gen.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "every":
            every = frozenset(vocabulary(RECORDS))
            patch.setattr(commongrams, "frequent_terms", lambda: every)
        engine = SearchEngine(folder / "ix")
        engine.index([path])
    with engine:
        yield engine


def word_by_word(arrays, terms, fields, monkeypatch):
    """The documents ``ranking._phrase`` finds checking every word's positions."""
    with monkeypatch.context() as patch:
        patch.setattr(commongrams, "cover", lambda *args: None)
        return ranking._phrase(arrays, terms, fields)


def test_bigram_phrases_find_exactly_what_word_positions_find(generated, monkeypatch, request):
    arrays = generated._current().arrays
    analyzer = generated._current().analyzer
    typed = phrases(RECORDS, 300, seed=1) + nowhere(RECORDS, 100, seed=2)
    typed += [p.replace("-", "") for p in typed if "-" in p]  # a hyphenated word typed whole
    through_grams = found_some = 0
    for phrase in typed:
        terms = tuple(analyzer.terms(phrase))
        if len(terms) < 2:
            continue
        for fields in (FIELDS, ("title",), ("body",)):
            through_grams += any(commongrams.cover(arrays.searcher.schema, f, terms) for f in fields)
            expected = word_by_word(arrays, terms, fields, monkeypatch)
            found = ranking._phrase(arrays, terms, fields)
            assert np.flatnonzero(found).tolist() == np.flatnonzero(expected).tolist(), (phrase, fields)
            found_some += bool(expected.any())
    # Most phrases of these texts hold a common word before their last; with
    # the shipped list, fewer before a frequent term.
    assert through_grams > (700 if request.node.callspec.params["generated"] == "every" else 300)
    assert 600 < found_some < 1150  # phrases found, and phrases found nowhere


def test_searches_of_phrases_give_the_same_results_through_bigrams(generated, monkeypatch, request):
    queries = [f'"{p}"' for p in phrases(RECORDS, 40, seed=3) + nowhere(RECORDS, 10, seed=4)]
    queries += ['"président de la République"', '"il y a"', 'title:"le la"', '"de la" ministre -"à la"',
                '"Kim Jong-un" "de la"', '"l’agence de"', '"qu’il a"']
    matched = []
    spy = commongrams.matching

    def counted(arrays, items, candidates=None):
        matched.append(items)
        return spy(arrays, items, candidates)

    monkeypatch.setattr(commongrams, "matching", counted)
    for query in queries:
        results = generated.search(query, limit=20)
        with monkeypatch.context() as patch:
            patch.setattr(commongrams, "cover", lambda *args: None)
            expected = generated.search(query, limit=20)
        assert (results.total, [(h.id, h.score) for h in results]) == \
            (expected.total, [(h.id, h.score) for h in expected]), query
    assert len(matched) > (100 if request.node.callspec.params["generated"] == "every" else 50)


def test_a_phrase_is_covered_by_its_common_pairs_and_its_other_words():
    schema = make_schema()
    assert commongrams.cover(schema, "body", ("il", "y", "a")) == (("body_grams", "il y", 0), ("body_grams", "y a", 1))
    assert commongrams.cover(schema, "title", ("la", "franc", "insoumis")) == \
        (("title_grams", "la franc", 0), ("title", "insoumis", 2))
    assert commongrams.cover(schema, "body", ("kim", "jong", "un", "president")) == \
        (("body_grams", "un president", 2), ("body", "kim", 0), ("body", "jong", 1))
    assert commongrams.cover(schema, "body", ("kim", "jong", "un", "poutin")) is None  # Poutine: not frequent
    assert commongrams.cover(schema, "body", ("le", "mond", "a")) == (("body_grams", "le mond", 0), ("body", "a", 2))
    assert commongrams.cover(schema, "body", ("kim", "poutin")) is None
    assert commongrams.cover(schema, "body", ("macron", "a")) is None


def test_the_fast_writer_writes_the_bigrams_whoosh_writes(tmp_path):
    found = {}
    for name, make_writer in (("stock", SegmentWriter), ("ours", FastWriter)):
        folder = tmp_path / name
        folder.mkdir()
        ix = windex.create_in(str(folder), make_schema(), indexname=INDEX_NAME)
        writer = make_writer(ix)
        for doc in DOCS[:120]:
            writer.add_document(**with_grams(ix.schema, doc))
        writer.commit()
        found[name] = contents(folder)
    grams = {term: postings for term, postings in found["ours"]["terms"].items() if term[0].endswith("_grams")}
    assert {f for f, _ in grams} == {"title_grams", "lede_grams", "body_grams"}
    assert ("body_grams", b"de la") in grams
    assert found["ours"] == found["stock"]


SUMMIT = [
    {"id": "ilya", "title": "Sommet", "body": "Il y a trois jours, Kim Jong-un est arrivé. Il y a eu des missiles."},
    {"id": "yail", "title": "Questions", "body": "Y a-t-il un accord ? Il a dit qu'il y en a un."},
    {"id": "later", "title": "Il y a un an", "body": "Le train est reparti vers Pyongyang."},
]


def test_the_cli_finds_and_highlights_a_phrase_of_stop_words(tmp_path, runner, monkeypatch):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in SUMMIT), encoding="utf-8")
    assert runner.invoke(cli, ["index", str(path), "--index-dir", str(tmp_path / "ix")]).exit_code == 0
    matched = []
    spy = commongrams.matching
    monkeypatch.setattr(commongrams, "matching",
                        lambda arrays, items, *some: matched.append(items) or spy(arrays, items, *some))
    result = runner.invoke(cli, ["query", '"il y a"', "--index-dir", str(tmp_path / "ix"), "--color", "never"])
    assert result.exit_code == 0, result.output
    assert "2 articles match" in result.output
    assert "**Il y a** trois jours" in result.output
    assert "**Il y a** un an" in result.output
    assert "Questions" not in result.output
    assert any(("body_grams", "il y", 0) in items for items in matched)


def test_an_index_without_bigrams_still_answers_phrases(tmp_path, monkeypatch):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in SUMMIT), encoding="utf-8")
    queries = ('"il y a"', '"y a"', '"Kim Jong-un est"', '"il a"', "il y a", '"a il"')
    with SearchEngine(tmp_path / "grams") as engine:
        engine.index([path])
        expected = [[h.id for h in engine.search(q)] for q in queries]
    with monkeypatch.context() as older:
        older.setattr(indexing, "gram_fields", lambda *args: {})  # the schema of older code
        with SearchEngine(tmp_path / "old") as engine:
            engine.index([path])
    with SearchEngine(tmp_path / "old") as engine:
        assert not [name for name in engine._current().arrays.searcher.schema.names() if name.endswith("_grams")]
        assert [[h.id for h in engine.search(q)] for q in queries] == expected
        assert sorted(expected[0]) == ["ilya", "later"]
        path.write_text(path.read_text(encoding="utf-8") + "\n" + json.dumps(
            {"id": "new", "title": "Encore", "body": "Il y a du nouveau."}), encoding="utf-8")
        report = engine.index([path])
        assert (report.added, report.failed) == (1, 0)
        assert sorted(h.id for h in engine.search('"il y a"')) == ["ilya", "later", "new"]


def test_bigrams_paired_from_analysed_terms_are_the_bigrams_of_the_text():
    analyzer = FrenchAnalyzer()
    texts = [r[f] for r in RECORDS[:200] for f in ("title", "lede", "body") if f in r]
    texts += ["Il y a un an, le nord-coréen y a dit qu’il y a la France insoumise.", "y a-t-il", "", "de"]
    for following in (commongrams.frequent_terms(), vocabulary(RECORDS)):
        grams = commongrams.CommonGrams(analyzer, analyzer.stop_words, following)
        paired = 0
        for text in texts:
            expected = grams.term_positions(text)
            assert grams.from_positions(analyzer.term_positions(text)) == expected, text
            paired += len(expected)
        assert paired > 1000


def test_a_position_holding_two_common_words_pairs_each_with_the_next_term():
    # ``afin-a`` stands for ``afin``, ``a`` and its joined form ``afina`` (the
    # term ``afin``): ``afin`` and ``a`` share the second position.
    analyzer = FrenchAnalyzer()
    grams = commongrams.CommonGrams(analyzer, analyzer.stop_words, commongrams.frequent_terms())
    words = analyzer.term_positions("afin-a la France")
    assert words == {"afin": [0, 1], "a": [1], "la": [2], "franc": [3]}
    assert grams.from_positions(words) == grams.term_positions("afin-a la France") == {
        "afin a": [0], "afin afin": [0], "afin la": [1], "a la": [1], "la franc": [2]}


def test_the_fast_writer_pairs_the_terms_it_analysed_without_analysing_again(tmp_path, monkeypatch):
    def again(self, text):
        raise AssertionError("a bigram field's text analysed a second time")

    ix = windex.create_in(str(tmp_path), make_schema(), indexname=INDEX_NAME)
    writer = FastWriter(ix)
    monkeypatch.setattr(commongrams.CommonGrams, "term_positions", again)
    for doc in DOCS[:60]:
        writer.add_document(**with_grams(ix.schema, doc))
    writer.commit()
    terms = contents(tmp_path)["terms"]
    assert ("body_grams", b"de la") in terms


def test_only_pairs_of_a_common_word_and_a_frequent_term_are_bigrams():
    schema = make_schema()
    grams = schema["body_grams"].analyzer
    assert {"il", "y", "a", "de", "la", "le"} <= grams.common
    assert {"mond", "franc", "ete"} <= grams.following
    assert "quetzalcoatl" not in grams.following
    assert commongrams.cover(schema, "body", ("le", "quetzalcoatl")) is None
    assert grams.term_positions("Le quetzalcoatl et le Monde") == {"et le": [2], "le mond": [3]}
