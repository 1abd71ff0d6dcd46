"""Searching as news readers expect: syntax, ranking tiers, filters, suggestions."""

import contextlib
import datetime as dt
import json

import pytest

from searchengine import ArticleNotFound, NewsearchError, SearchEngine
from searchengine.queries import Clause, parse_query


@pytest.fixture
def news(tmp_path):
    records = [
        {"id": "kim", "title": "Kim Jong-un rencontre Vladimir Poutine", "date": "2019-04-25", "source": "AFP",
         "body": "Le sommet de Vladivostok réunit Kim Jong-un et Vladimir Poutine. Les missiles sont au menu."},
        {"id": "putin", "title": "Poutine en visite en Chine", "date": "2023-03-20", "source": "Reuters",
         "body": "Vladimir Poutine est arrivé à Pékin pour rencontrer Xi Jinping."},
        {"id": "kim-only", "title": "Nouveaux tirs de missiles", "date": "2022-11-02", "source": "AFP",
         "body": "Pyongyang a tiré des missiles balistiques, Kim Jong-un supervisait les essais."},
        {"id": "macron", "title": "Macron et la réforme des retraites", "date": "2023-01-10", "source": "AFP",
         "body": "Emmanuel Macron défend la réforme des retraites devant les syndicats."},
        {"id": "greve", "title": "Grève à la SNCF", "date": "2023-01-19",
         "body": "Les syndicats appellent à la grève contre la réforme. Les trains sont à l'arrêt."},
        {"id": "zelensky", "title": "Zelensky s'adresse au Parlement", "date": "2022-03-23",
         "body": "Le président ukrainien Volodymyr Zelensky a parlé aux députés français."},
    ]
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([path])
        yield engine


def ids(results):
    return [h.id for h in results]


def test_all_words_rank_first_then_some(news):
    results = news.search("Kim Poutine")
    assert ids(results)[0] == "kim"
    assert set(ids(results)[1:]) == {"putin", "kim-only"}
    assert results.total == 3


def test_one_missing_word_never_empties_the_results(news):
    assert ids(news.search("Poutine zanzibar")) == ["putin", "kim"] or ids(news.search("Poutine zanzibar"))[0] in {
        "putin", "kim"}
    assert news.search("Poutine zanzibar").total == 2


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
    assert parsed.groups == [
        [Clause("Kim")], [Clause("Corée du Nord", "phrase")], [Clause("Putin"), Clause("Poutine")],
        [Clause("sommet", "word", "title")], [Clause("nucl", "prefix")],
    ]
    assert parsed.excluded == [Clause("Trump")]


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
    assert [c.text for g in parse_query(query).groups for c in g] == words


def test_stop_words_alone_never_make_a_match(news):
    results = news.search("la réforme des retraites")
    assert ids(results) == ["macron", "greve"]
    assert results.total == 2
    assert {"kim-only", "macron"} <= set(ids(news.search("des")))


def stems(results):
    return [h.path.rsplit("/", 1)[-1].removesuffix(".txt") for h in results]


def write_records(folder, records):
    folder.mkdir()
    for name, title, body in records:
        (folder / f"{name}.txt").write_text(f"{title}\n\n{body}", encoding="utf-8")


@contextlib.contextmanager
def indexed(tmp_path, records):
    """An engine over text files written from (name, title, body) records."""
    write_records(tmp_path / "a", records)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a"])
        yield engine


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
    with pytest.raises(NewsearchError, match="since"):
        news.search("Poutine", since="hier")


def test_similar_articles_exclude_the_article_itself(news):
    results = news.similar("kim")
    assert "kim" not in ids(results)
    assert ids(results)[0] in {"kim-only", "putin"}
    with pytest.raises(ArticleNotFound):
        news.similar("nope")


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
