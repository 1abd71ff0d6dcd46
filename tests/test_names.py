"""Name variants: Putin finds Poutine, and a user's own table adds to the shipped one."""

from searchengine import SearchEngine

from .conftest import ids


def test_name_variants(news, tmp_path):
    results = news.search("Putin")
    assert set(ids(results)) == {"kim", "putin"}
    marked = {h.snippet[s:e] for h in results for s, e in h.highlights}
    assert "Poutine" in marked
    assert "putin" in ids(news.search("Beijing"))
    assert "kim" in ids(news.search('"Kim Jong Un"'))
    assert "zelensky" in ids(news.search("Zelenskyy"))
    extra = tmp_path / "names.txt"
    extra.write_text("# mes noms\nSNCF | Société nationale des chemins de fer\n", encoding="utf-8")
    with SearchEngine(news.path, names=extra) as engine:
        assert ids(engine.search("Société nationale des chemins de fer")) == ["greve"]
        assert "putin" in ids(engine.search("Putin"))
    assert news.search("Société nationale des chemins de fer").total == 0 or "greve" not in ids(
        news.search("Société nationale des chemins de fer"))



def test_a_name_variant_searched_is_no_typo_to_correct(news):
    results = news.search("Putin")
    assert results.suggestion is None
    assert "putin" in ids(results)
    assert news.search("Poutinne").suggestion == "Poutine"
