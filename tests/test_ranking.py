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


# Pruning: the windows that cannot reach the page are skipped, and the page is the one full scoring gives.

_PRUNE_WORDS = ("grève gouvernement réforme retraites syndicats président ministre élection budget hôpital "
                "école police justice enquête incendie forêt canicule inondation prix inflation salaires "
                "entreprise banque énergie nucléaire climat transport Macron Marseille football musée festival "
                "Noël plage montagne village").split()


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """Generated articles in two segments, some replaced, some copied: common words hold
    lists of several hundred postings (several W3 blocks) over 180 windows of
    8 articles (as 361,000 articles make 2,800 windows of 128)."""

    from searchengine import scorelists

    from .generated import articles, index_twice

    patch = pytest.MonkeyPatch()
    patch.setattr(scorelists, "WINDOW", 8)
    patch.setattr(scorelists, "MIN_MAXIMA", 400)  # bounds stored for the commonest words, computed for the others

    folder = tmp_path_factory.mktemp("pruning")
    records = articles(1400, seed=11)
    # Copies under other ids and titles: duplicates to fold, on both paths.
    records += [{**r, "id": f"copy-{n}", "title": r["title"] + " (suite)"}
                for n, r in enumerate(records[:1400:20]) if len(r["body"].split()) >= 40]
    index = index_twice(folder, records, 900, 37, " La grève de plus.")
    patch.undo()
    return index


def _queries(count, seed):
    import random

    rng = random.Random(seed)
    for _ in range(count):
        words = rng.sample(_PRUNE_WORDS, rng.randint(1, 4))
        if rng.random() < 0.15:  # a typo, forgiven
            word = words[0]
            words[0] = word[:2] + word[3:] if len(word) > 5 else word
        if rng.random() < 0.1:
            words.append("+" + rng.choice(_PRUNE_WORDS))
        if rng.random() < 0.1:
            words.append("-" + rng.choice(_PRUNE_WORDS))
        if rng.random() < 0.1:
            words.append("le la des")  # stop words: they only rerank
        if rng.random() < 0.05:
            words = [" ".join(rng.choice(_PRUNE_WORDS) for _ in range(25))]  # a pasted paragraph
        options = {"limit": rng.choice((1, 3, 10, 10, 20)), "page": rng.choice((1, 1, 1, 2, 4))}
        if rng.random() < 0.15:
            options["since"] = "2020-01-01"
        if rng.random() < 0.1:
            options["source"] = "AFP"
        yield " ".join(words), options


def _compare(path, queries):
    """(query, options) whose pages or totals differ between pruned and full scoring."""
    from searchengine import RankingSettings

    differ = []
    with (SearchEngine(path, settings=RankingSettings(prune_postings=0)) as pruned,
          SearchEngine(path, settings=RankingSettings(prune_postings=-1)) as full):
        for query, options in queries:
            a, b = pruned.search(query, **options), full.search(query, **options)
            if ([(h.id, h.score) for h in a], a.total, a.folded) != ([(h.id, h.score) for h in b], b.total, b.folded):
                differ.append((query, options))
    return differ


def test_pruned_pages_equal_full_scoring(collection, monkeypatch):
    from searchengine import RankingSettings, ranking

    scored = []
    first_pass = ranking._first_pass

    def counting(arrays, plan, settings, space=None):
        if space is not None and scored:
            scored[-1] += space.size
        return first_pass(arrays, plan, settings, space)

    monkeypatch.setattr(ranking, "_first_pass", counting)
    queries = list(_queries(300, seed=5))
    assert _compare(collection, queries) == []
    with SearchEngine(collection) as engine:  # duplicates were folded on the way, by both paths
        assert sum(engine.search(query, **options).folded > 0 for query, options in queries) > 10
    with SearchEngine(collection, settings=RankingSettings(prune_postings=0)) as engine:
        arrays = engine._current().arrays
        assert len(arrays.reader.leaf_readers()) == 2
        assert all(lists is not None and lists.has("body", "grev") for lists in arrays.score_lists())
        # The pruned path ran, and skipped windows: many queries scored under half the articles.
        for query, options in queries:
            scored.append(0)
            engine.search(query, **options)
    assert sum(0 < n < arrays.size / 2 for n in scored) > len(queries) / 4


def test_folded_pages_are_the_whole_ranking_less_the_worse_copies(collection):
    """Folding, pruned or not, gives what a reader derives from the whole
    unfolded list: walk it, skip each article that a hit kept before it lists
    as its duplicate, and cut pages; the total counts what is left. (Without
    the rerank, which lifts the best ten of each list.)"""
    from searchengine import RankingSettings

    folded_somewhere = 0
    with (SearchEngine(collection, settings=RankingSettings(prune_postings=0, rerank_depth=0)) as pruned,
          SearchEngine(collection, settings=RankingSettings(prune_postings=-1, rerank_depth=0)) as full):
        for query, options in list(_queries(25, seed=8)):
            options.pop("page")
            limit = options.pop("limit")
            every = full.search(query, limit=2000, collapse=False, **options)
            copies_of = {h.id: h.duplicates for h in full.search(query, limit=2000, **options)}
            expected, copies = [], set()
            for hit in every:
                if hit.id not in copies:
                    expected.append(hit)
                    copies.update(copies_of[hit.id])
            assert every.total == len(every.hits) and len(copies_of) == len(expected)
            for page in (1, 2):
                results = pruned.search(query, page=page, limit=limit, **options)
                assert [(h.id, h.score) for h in results] == [
                    (h.id, h.score) for h in expected[(page - 1) * limit:page * limit]], (query, options, page)
                assert (results.total, results.folded) == (len(expected), every.total - len(expected))
            folded_somewhere += len(expected) < every.total
    assert folded_somewhere > 3


def test_ledes_of_copied_stories_fold_as_full_scoring(collection):
    """Pasted ledes of stories that have a copy: the pruned walk folds
    copies as it goes, to the page full scoring folds."""
    from .generated import articles

    copied = [r for r in articles(1400, seed=11)[:1400:20] if len(r["body"].split()) >= 40]
    queries = [(" ".join(r["body"].split()[:30]), {"limit": (10, 3, 20)[n % 3]}) for n, r in enumerate(copied)]
    assert len(queries) > 30
    assert _compare(collection, queries) == []
    with SearchEngine(collection) as engine:  # a copy was left out of many of those pages
        pages = [engine.search(query, **options) for query, options in queries]
    assert sum(any(hit.duplicates for hit in page) for page in pages) > len(queries) / 2


def test_a_bound_too_low_changes_pages(collection, monkeypatch):
    """The comparison above can fail: with every window's bound halved, pages differ."""
    from searchengine.scoring import IndexArrays

    bounds = IndexArrays.window_bounds
    monkeypatch.setattr(IndexArrays, "window_bounds", lambda self, *args: bounds(self, *args) * 0.5)
    assert _compare(collection, list(_queries(100, seed=5)))


def test_an_index_without_score_lists_ranks_the_same(tmp_path, monkeypatch):
    """An index written before score lists existed (no ``.nsl`` in its
    segments) is read from its W3 blocks and ranked in full, with the same pages."""
    import json

    from searchengine import RankingSettings, whooshformat

    from .generated import articles

    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in articles(400, seed=2)), encoding="utf-8")
    with SearchEngine(tmp_path / "new") as engine:
        engine.index([source])

    class Nothing:
        def add(self, *args):
            pass

        def close(self):
            pass

    monkeypatch.setattr(whooshformat, "score_list_writer", lambda *args: Nothing())
    with SearchEngine(tmp_path / "old") as engine:
        engine.index([source])
    settings = RankingSettings(prune_postings=0)
    with (SearchEngine(tmp_path / "new", settings=settings) as new,
          SearchEngine(tmp_path / "old", settings=settings) as old):
        assert old._current().arrays.score_lists() == [None]
        assert new._current().arrays.score_lists()[0] is not None
        for query in ("grève", "président réforme", "Macron -budget", "école police justice"):
            a, b = new.search(query), old.search(query)
            assert [(h.id, h.score) for h in a] == [(h.id, h.score) for h in b] and a.total == b.total > 0


def test_a_word_repeated_past_the_last_step_of_the_score_lists_still_reaches_the_page(tmp_path, monkeypatch):
    """A body chanting one word a hundred times holds it past 96 times its
    length-normalised share, the largest window maximum the score lists
    store short of "unbounded" (infinity): that window's bound is BM25's
    ceiling, and pruned scoring finds the article as full scoring does."""
    import json

    from searchengine import RankingSettings, scorelists

    from .generated import articles

    monkeypatch.setattr(scorelists, "WINDOW", 8)
    monkeypatch.setattr(scorelists, "MIN_MAXIMA", 100)
    records = articles(400, seed=3)
    records.insert(150, {"id": "chant", "title": "Grève générale", "body": "Grève ! " * 100})
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([source])
    monkeypatch.undo()
    with (SearchEngine(tmp_path / "ix", settings=RankingSettings(prune_postings=0)) as pruned,
          SearchEngine(tmp_path / "ix", settings=RankingSettings(prune_postings=-1)) as full):
        windows = pruned._current().arrays.score_lists()[0].windows("body", "grev")
        assert windows is not None and windows.maxima.max() == float("inf")
        assert full.search("grève générale").hits[0].id == "chant"
        for query in ("grève", "grève générale", "grève gouvernement"):
            a, b = pruned.search(query, limit=40), full.search(query, limit=40)
            assert [(h.id, h.score) for h in a] == [(h.id, h.score) for h in b], query
        assert "chant" in [h.id for h in pruned.search("grève", limit=40)]  # the 37th, and its neighbours


def test_exact_copies_tie_and_the_first_indexed_stands_for_them_pruned_as_in_full(tmp_path, monkeypatch):
    """A dispatch and ten copies of it, spread over the windows, score the
    same to the last bit: of those still there (the very first copy was
    removed), the first indexed is the hit and lists the others, pruned as
    in full scoring."""
    import json

    from searchengine import RankingSettings, scorelists

    from .generated import articles

    monkeypatch.setattr(scorelists, "WINDOW", 8)
    monkeypatch.setattr(scorelists, "MIN_MAXIMA", 100)
    records = articles(300, seed=4)
    story = next(r for r in records if 100 <= len(r["body"].split()) <= 400)
    for n in range(10):
        records.insert(19 * n, {**story, "id": f"dup-{n}"})
    source = tmp_path / "articles.jsonl"
    with SearchEngine(tmp_path / "ix") as engine:
        for kept in (records, [r for r in records if r["id"] != "dup-0"]):  # dup-0 removed: a second segment
            source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in kept), encoding="utf-8")
            engine.index([source])
    monkeypatch.undo()
    lede = " ".join(story["body"].split()[:30])
    copies = {f"dup-{n}" for n in range(1, 10)} | {story["id"]}
    with (SearchEngine(tmp_path / "ix", settings=RankingSettings(prune_postings=0)) as pruned,
          SearchEngine(tmp_path / "ix", settings=RankingSettings(prune_postings=-1)) as full):
        hit = next(h for h in full.search(lede) if h.id in copies)
        assert hit.id == next(r["id"] for r in records if r["id"] in copies)
        assert {hit.id, *hit.duplicates} == copies
        for limit in (1, 3, 10):
            for page in (1, 2):
                a, b = pruned.search(lede, limit=limit, page=page), full.search(lede, limit=limit, page=page)
                assert ([(h.id, h.score, h.duplicates) for h in a], a.total, a.folded) == (
                    [(h.id, h.score, h.duplicates) for h in b], b.total, b.folded), (limit, page)
