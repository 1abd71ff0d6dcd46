"""The query syntax: what each construct finds, and what a malformed query becomes."""

import pytest

from searchengine.queries import Clause, parse_query

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

