"""SearchEngine as embedders use it: filters, sort, similar articles, input checks, threads."""

import datetime as dt

import pytest

from searchengine import ArticleNotFound

from .conftest import ids


def test_filters_sort_and_pages(news):
    assert set(ids(news.search("missiles OR Poutine", since="2022-01-01"))) == {"putin", "kim-only"}
    assert ids(news.search("missiles OR Poutine", until=dt.date(2020, 1, 1))) == ["kim"]
    assert set(ids(news.search("syndicats", source="afp"))) == {"macron"}
    by_date = news.search("missiles OR Poutine OR syndicats", sort="date")
    assert ids(by_date) == ["putin", "greve", "macron", "kim-only", "kim"]
    page2 = news.search("missiles OR Poutine OR syndicats", sort="date", limit=2, page=2)
    assert ids(page2) == ["macron", "kim-only"] and page2.total == 5
    relevance = ids(news.search("missiles OR Poutine OR syndicats", limit=2)) + ids(
        news.search("missiles OR Poutine OR syndicats", limit=2, page=2)) + ids(
        news.search("missiles OR Poutine OR syndicats", limit=2, page=3))
    assert sorted(relevance) == sorted(ids(by_date))
    with pytest.raises(ValueError, match="since"):
        news.search("Poutine", since="hier")


def test_similar_articles_exclude_the_article_itself(news):
    results = news.similar("kim")
    assert "kim" not in ids(results)
    assert ids(results)[0] in {"kim-only", "putin"}
    with pytest.raises(ArticleNotFound):
        news.similar("nope")

