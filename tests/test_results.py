"""Results: "did you mean", hits and their fields."""

from searchengine import SearchEngine


def test_did_you_mean_keeps_the_articles_accents(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.txt").write_text(f"Titre {n}\nLa Sécurité sociale et Vladimir Poutine.", encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([folder])
        assert engine.search("Poutinne").suggestion == "Poutine"
        assert engine.search("securitte sociale").suggestion == "Sécurité sociale"
        assert engine.search("Poutine").suggestion is None

