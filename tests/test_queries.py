"""The query syntax: what each construct finds, and what a malformed query becomes."""

import pytest

from searchengine.queries import MAX_CLAUSES, Clause, Group, parse_query

from .conftest import ids


def test_phrase_exclusion_or_field_and_prefix(news):
    assert ids(news.search('"réforme des retraites"')) == ["macron"]
    assert set(ids(news.search("réforme -retraites"))) == {"greve"}
    assert set(ids(news.search('syndicats -"réforme des retraites"'))) == {"greve"}
    assert set(ids(news.search("SNCF OR Zelensky"))) == {"greve", "zelensky"}
    assert ids(news.search("title:missiles")) == ["kim-only"]
    assert set(ids(news.search("missiles"))) == {"kim", "kim-only"}
    assert set(ids(news.search("synd*"))) == {"macron", "greve"}
    assert set(ids(news.search("retrait*"))) == {"macron"}


@pytest.mark.parametrize("query", ['"Poutine', "Poutine)", "(Poutine", "- Poutine", "title: Poutine", "Poutine -",
                                   '"', "OR Poutine", "Poutine OR", "***"])
def test_malformed_queries_are_plain_words(news, query):
    results = news.search(query)
    if any(c.isalpha() for c in query):
        assert "putin" in ids(results)


def test_parser_structure():
    parsed = parse_query('Kim "Corée du Nord" -Trump Putin OR Poutine title:sommet nucl*')
    assert parsed.groups == (
        Group((Clause("Kim"),)), Group((Clause("Corée du Nord", "phrase"),)),
        Group((Clause("Putin"), Clause("Poutine"))), Group((Clause("sommet", "word", "title"),)),
        Group((Clause("nucl", "prefix"),)),
    )
    assert parsed.excluded == (Clause("Trump"),)


@pytest.mark.parametrize(("query", "words"), [
    ("Macron a-t-il démissionné", ["Macron", "a", "il", "démissionné"]),
    ("Qui remporte-t-il", ["Qui", "remporte", "il"]),
    ("peut-on voir", ["peut", "on", "voir"]),
    ("sont-ils partis", ["sont", "ils", "partis"]),
    ("Qu'est-ce que", ["Qu'est", "ce", "que"]),
    ("Kim Jong-il", ["Kim", "Jong-il"]),
    ("kim jong-il", ["kim", "jong-il"]),
    ("rendez-vous", ["rendez-vous"]),
    ("Jean-Luc", ["Jean-Luc"]),
])
def test_a_questions_inverted_subject_is_a_word_of_its_own(query, words):
    assert [c.text for c in parse_query(query).clauses] == words



@pytest.mark.parametrize(("query", "words"), [
    ("Macron:remaniement", ["Macron", "remaniement"]),
    ("Covid-19:bilan", ["Covid-19", "bilan"]),
    ("titre:sommet", ["titre", "sommet"]),
    ("title: Poutine", ["title", "Poutine"]),
])
def test_an_unknown_field_is_two_words(query, words):
    assert [c.text for c in parse_query(query).clauses] == words
    assert all(c.field is None for c in parse_query(query).clauses)


def test_unknown_fields_are_searched_as_words(news):
    assert ids(news.search("Macron:retraites")) == ["macron"]
    assert ids(news.search("Poutine:Pékin"))[0] == "putin"


def test_source_field_filters_on_the_source(news):
    assert set(ids(news.search("missiles source:AFP"))) == {"kim", "kim-only"}
    assert ids(news.search("Poutine source:reuters")) == ["putin"]
    assert parse_query("Poutine source:AFP").sources == ("AFP",)


def test_lucene_operators(news):
    assert parse_query("Kim AND Poutine").groups == (Group((Clause("Kim"),), True), Group((Clause("Poutine"),), True))
    assert ids(news.search("Kim AND Poutine")) == ["kim"]
    assert ids(news.search("+missiles Poutine")) == ["kim", "kim-only"]
    assert set(ids(news.search("Kim NOT Poutine"))) == {"kim-only"}
    assert set(ids(news.search("missiles NOT Poutine"))) == set(ids(news.search("missiles -Poutine")))
    # Lower case, they are words: "not" is not an operator, and NOT never matches "noté".
    assert parse_query("Poutine not Kim").excluded == ()
    assert parse_query("Poutine NOT Kim").excluded == (Clause("Kim"),)


def test_a_query_that_only_excludes_is_a_clear_error(news):
    from searchengine import BadQuery

    with pytest.raises(BadQuery, match="only excludes"):
        news.search("-Trump")
    with pytest.raises(BadQuery):
        news.search('NOT "Le Monde"')


def test_a_query_is_bounded_however_long(news):
    parsed = parse_query(" ".join(f"mot{n}" for n in range(5 * MAX_CLAUSES)))
    assert len(parsed.groups) == MAX_CLAUSES
    assert news.search("Poutine " * 3000).total >= 1


@pytest.mark.parametrize(("query", "words"), [
    ("Macron^10", ["Macron"]),
    ("Macron~2", ["Macron"]),
    ("Macron/Philippe", ["Macron", "Philippe"]),
    ("Macron|Philippe", ["Macron", "Philippe"]),
    ("Macron_Philippe", ["Macron", "Philippe"]),
    ("Mac*ron", ["Mac", "ron"]),
    ("Macron\x1b[31m rouge", ["Macron", "31m", "rouge"]),
    ("https://www.lemonde.fr/a_b", ["https://www.lemonde.fr/a_b"]),
])
def test_punctuation_that_joins_words_by_accident_separates_them(query, words):
    assert [c.text for c in parse_query(query).clauses] == words


def test_lucene_modifiers_and_glued_words_still_find_the_articles(news):
    assert ids(news.search("Macron^10")) == ["macron"]
    assert ids(news.search("Poutine~1"))[:2] == ids(news.search("Poutine"))[:2]
    assert ids(news.search("Macron/retraites"))[0] == "macron"
