"""Ranking as news readers expect: tiers, coverage, proximity, typed forms, typos, pages."""

import pytest

from searchengine import SearchEngine

from .conftest import ids, indexed, stems


def test_all_words_rank_first_then_some(news):
    results = news.search("Kim Poutine")
    assert ids(results)[0] == "kim"
    assert set(ids(results)[1:]) == {"putin", "kim-only"}
    assert results.total == 3


def test_one_missing_word_never_empties_the_results(news):
    assert ids(news.search("Poutine zanzibar")) == ["putin", "kim"] or ids(news.search("Poutine zanzibar"))[0] in {
        "putin", "kim"}
    assert news.search("Poutine zanzibar").total == 2


def test_stop_words_alone_never_make_a_match(news):
    results = news.search("la réforme des retraites")
    assert ids(results) == ["macron", "greve"]
    assert results.total == 2
    assert {"kim-only", "macron"} <= set(ids(news.search("des")))


def test_missing_a_common_word_ranks_above_missing_a_rare_one(tmp_path):
    filler = [(f"f{n}", f"Dépêche {n}", "Le gouvernement a parlé ce matin.") for n in range(8)]
    with indexed(tmp_path, [
        *filler,
        ("rare", "Dépêche", "Le glyphosate est au menu ce matin."),
        ("common", "Le gouvernement", "Le gouvernement se tait ce matin."),
    ]) as engine:
        assert stems(engine.search("gouvernement glyphosate"))[0] == "rare"


def test_words_standing_together_rank_first(tmp_path):
    padding = " ".join(["Le conseil a siégé longtemps."] * 6)
    with indexed(tmp_path, [
        ("scattered", "Dépêche", f"La cour a statué. {padding} Elle suspend la loi."),
        ("together", "Dépêche", f"{padding} La cour suspend la loi."),
    ]) as engine:
        assert stems(engine.search("cour suspend")) == ["together", "scattered"]


def test_a_question_finds_its_verb(tmp_path):
    with indexed(tmp_path, [
        ("won", "Hockey", "Martin Brodeur remporte le trophée Vézina en 2003."),
        ("award", "Hockey", "Le trophée Vézina récompense le meilleur gardien."),
    ]) as engine:
        hit = engine.search("Quand remporte-t-il le trophée ?").hits[0]
        assert stems([hit]) == ["won"]
        assert "remporte" in [hit.snippet[s:e] for s, e in hit.highlights]


@pytest.mark.parametrize(("query", "first"), [("élections", "plural"), ("élection", "singular")])
def test_the_form_typed_ranks_first(tmp_path, query, first):
    with indexed(tmp_path, [
        ("plural", "Dépêche", "Les élections ont eu lieu hier."),
        ("singular", "Dépêche", "L'élection a eu lieu hier soir."),
    ]) as engine:
        assert stems(engine.search(query)) == [first, "plural" if first == "singular" else "singular"]


def test_words_side_by_side_as_in_the_query_rank_first(tmp_path):
    with indexed(tmp_path, [
        ("a-reversed", "Dépêche", "Une charge en prise directe sur les patients."),
        ("b-as-typed", "Dépêche", "Une prise en charge directe sur les patients."),
    ]) as engine:
        assert stems(engine.search("prise en charge")) == ["b-as-typed", "a-reversed"]


@pytest.mark.parametrize("typo", ["Poutinne", "Poutime", "Vladivostock"])
def test_typos_are_forgiven(news, typo):
    assert news.search(typo).total >= 1


def test_no_typo_under_five_letters(news):
    assert news.search("Kym").total == 0


def test_exact_spelling_ranks_above_a_corrected_one(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "typo.txt").write_text("Dépêche\nLe président Poutinne, écrit ainsi.", encoding="utf-8")
    for n in range(3):
        (folder / f"ok{n}.txt").write_text(f"Dépêche {n}\nVladimir Poutine Poutine Poutine.", encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([folder])
        results = engine.search("Poutinne")
        assert results.hits[0].path.endswith("typo.txt")
        assert results.total == 4



def test_pages_are_slices_of_one_ranking_and_scores_never_rise(tmp_path):
    """Reranking moves articles within the best ten only: whatever the page
    size, page N holds items (N-1)·L to N·L-1 of one single ranking."""
    records = []
    for n in range(24):
        gap = " ".join(["remplissage"] * (n % 7))
        records.append((f"a{n:02}", f"Dépêche {n}",
                        f"La cour {gap} suspend la loi. " + "Le conseil a siégé. " * (n % 5)))
    records += [(f"b{n}", "Dépêche", "La cour a siégé longtemps.") for n in range(6)]
    with indexed(tmp_path, records) as engine:
        whole = engine.search("cour suspend", limit=100, collapse=False)  # near duplicates, all listed
        assert whole.total == 30
        assert [h.rank for h in whole] == list(range(1, 31))
        scores = [h.score for h in whole]
        assert scores == sorted(scores, reverse=True)
        assert [int(s) for s in scores] == [3] * 24 + [1] * 6
        for limit in range(1, 8):
            pages = []
            for page in range(1, 31 // limit + 2):
                results = engine.search("cour suspend", limit=limit, page=page, collapse=False)
                pages += [(h.id, h.score) for h in results]
            assert pages == [(h.id, h.score) for h in whole], limit


def test_settings_are_values_passed_in(tmp_path):
    from searchengine import RankingSettings

    records = [("title", "Glyphosate", "Un texte sur autre chose, puis encore autre chose."),
               ("body", "Dépêche", "Le glyphosate revient au Parlement cette semaine.")]
    with indexed(tmp_path, records) as engine:
        assert stems(engine.search("glyphosate"))[0] == "title"
        with SearchEngine(engine.path, settings=RankingSettings(title_boost=0.1)) as other:
            assert stems(other.search("glyphosate"))[0] == "body"
        assert stems(engine.search("glyphosate"))[0] == "title"


def test_bm25_parameters_are_settings_too(tmp_path):
    from searchengine import RankingSettings

    records = [("short", "Dépêche", "La grève continue."),
               ("long", "Dépêche", "La grève, la grève, la grève. " + "Le conseil a siégé longtemps. " * 30)]
    with indexed(tmp_path, records) as engine:
        scores = {}
        for k1, b in ((1.2, 0.75), (2.0, 0.75), (1.2, 0.0)):
            with SearchEngine(engine.path, settings=RankingSettings(k1=k1, b=b)) as other:
                scores[k1, b] = {h.id.rsplit("/", 1)[-1]: h.score for h in other.search("grève")}
        assert len({tuple(sorted(s.items())) for s in scores.values()}) == 3
        # Without length normalisation the long article's three mentions win.
        assert max(scores[1.2, 0.0], key=scores[1.2, 0.0].get) == "long.txt"
