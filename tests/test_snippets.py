"""Snippets: passages where the hits are densest, cut on words."""

from searchengine import SearchEngine


def test_snippets_start_and_end_on_words_with_ellipses(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    filler = " ".join(f"mot{n}" for n in range(200))
    (folder / "long.txt").write_text(f"Titre\n{filler} Vladivostok accueille le sommet. {filler} Poutine arrive.",
                                     encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([folder])
        one = engine.search("Vladivostok Poutine", fragment_size=60).hits[0]
        assert one.snippet.startswith("…") and one.snippet.endswith("…")
        assert all(w.startswith("mot") or w.strip("….") for w in one.snippet.split())
        two = engine.search("Vladivostok Poutine", fragments=2, fragment_size=60).hits[0]
        assert [two.snippet[s:e] for s, e in two.highlights] == ["Vladivostok", "Poutine"]
        assert two.snippet.startswith("…") and "mot199 Poutine arrive." in two.snippet
        assert "… " in two.snippet.strip("…")



def test_a_huge_article_is_read_for_highlights_up_to_a_word_boundary(tmp_path):
    from searchengine.snippets import MAX_ANALYSED_CHARS

    folder = tmp_path / "a"
    folder.mkdir()
    filler = ("mot " * MAX_ANALYSED_CHARS)[:MAX_ANALYSED_CHARS - 6]
    # "sénateurs" straddles the limit: its first five letters must not be read as "sénat".
    (folder / "long.txt").write_text(f"Titre\n{filler} sénateurs au sénat", encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([folder])
        hit = engine.search("sénat", fragment_size=40).hits[0]
        assert not [(s, e) for s, e in hit.highlights if hit.snippet[e:e + 3] == "eur"]
