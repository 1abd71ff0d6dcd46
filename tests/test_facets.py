"""Facets: the matching articles counted per year and per source."""


def test_facets_count_matching_articles_per_year_and_source(news):
    results = news.search("missiles OR Poutine OR syndicats", facets=True)
    assert [(f.value, f.count) for f in results.facets.years] == [("2023", 3), ("2022", 1), ("2019", 1)]
    assert [(f.value, f.count) for f in results.facets.sources] == [("AFP", 3), ("Reuters", 1)]
    narrowed = news.search("missiles OR Poutine OR syndicats", source="AFP", facets=True)
    assert [(f.value, f.count) for f in narrowed.facets.sources] == [("AFP", 3)]
    assert news.search("Poutine").facets is None


def test_years_are_counted_to_the_last_instant_of_the_newest_one(tmp_path):
    import json

    from searchengine import SearchEngine

    dates = ["1999-12-31", "2000-01-01", "2000-12-31", "2023-01-01", "2023-12-31", None]
    records = [{"id": str(n), "body": "Poutine parle.", **({"date": d} if d else {})} for n, d in enumerate(dates)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index(tmp_path / "a.jsonl")
        facets = engine.search("Poutine", facets=True).facets
        assert [(f.value, f.count) for f in facets.years] == [("2023", 2), ("2000", 2), ("1999", 1)]
