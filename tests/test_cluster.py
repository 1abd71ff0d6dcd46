"""newsearch on a real OpenSearch cluster (the ``opensearch_cluster`` fixture, never mocked): the same
collection indexed locally and on the cluster answers every kind of query with the same articles in the
same order, the same totals, snippets, highlights and "did you mean"."""

from __future__ import annotations

import json
import math
import os
import subprocess
import uuid

import httpx
import pytest

from searchengine import SearchEngine
from searchengine.cli import cli
from searchengine.errors import ArticleNotFound
from tests import generated
from tests.conftest import SEEDS
from tests.test_duplicates import OTHER, STORY, UPDATE
from tests.test_glued import SEED
from tests.test_indexing import NEWSEARCH, newsearch, paused, release

RECORDS = [
    {"id": "kim", "title": "Kim Jong-un rencontre Vladimir Poutine", "date": "2019-04-25", "source": "AFP",
     "body": "Le sommet de Vladivostok réunit Kim Jong-un et Vladimir Poutine. Les missiles sont au menu."},
    {"id": "putin", "title": "Poutine en visite en Chine", "date": "2023-03-20", "source": "Reuters",
     "body": "Vladimir Poutine est arrivé à Pékin pour rencontrer Xi Jinping. Trump n'a rien dit."},
    {"id": "kim-only", "title": "Nouveaux tirs de missiles", "date": "2022-11-02", "source": "AFP",
     "body": "Pyongyang a tiré des missiles balistiques, Kim Jong-un supervisait les essais en Corée du Nord."},
    {"id": "macron", "title": "Macron et la réforme des retraites", "date": "2023-01-10", "source": "AFP",
     "body": "Emmanuel Macron défend la réforme des retraites devant les syndicats. Le gouvernement tient bon."},
    {"id": "zelensky", "title": "Zelensky s'adresse au Parlement", "date": "2022-03-23",
     "body": "Le président ukrainien Volodymyr Zelensky a parlé aux députés français de l'agence nucléaire."},
]

QUERIES = [
    ("Kim Poutine", {}), ("grève", {}), ("réforme retraites", {}), ("gouvernement président", {}),
    ('"Corée du Nord"', {}), ('"réforme des retraites"', {}), ("Poutine -Trump", {}), ("grève NOT SNCF", {}),
    ("gouvernemnt", {}), ("Poutinne", {}), ("missilles Kim", {}), ("Vladivostock", {}), ("Putin", {}),
    ("Zelenskyy", {}), ("+Kim Poutine", {}), ("source:AFP grève", {}),
    ("title:grève", {}), ("nucl*", {}), ("hôpi*", {}), ("le la les", {}), ("Macron OR Poutine", {}),
    ("grève", {"since": "2020-01-01", "until": "2021-06-30"}), ("grève", {"sort": "date"}),
    ("grève salaires", {"sort": "date", "page": 2, "limit": 5}), ("été chaleur", {"page": 2, "limit": 5}),
    ("été chaleur", {"page": 3, "limit": 7}), ("grève", {"source": "Le Monde"}), ("zzzqqq", {}),
]


@pytest.fixture(scope="module")
def both(opensearch_cluster, tmp_path_factory):
    """The seed, a few news records and 300 generated articles, indexed locally and on the cluster."""
    folder = tmp_path_factory.mktemp("collection")
    (folder / "seed.txt").write_text((next(SEEDS.iterdir())).read_text("utf-8"), encoding="utf-8")
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), "utf-8")
    (folder / "generated.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in generated.articles(300)), "utf-8")
    name = f"test-{uuid.uuid4().hex[:8]}"
    local = SearchEngine(tmp_path_factory.mktemp("local") / "ix")
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    reports = local.index([folder]), cluster.index([folder])
    yield local, cluster, reports, name
    local.close()


def same_hits(a, b, scores=True):
    """The same page of the same ranking; ``scores``: the same scores too (not after updates, where each
    engine counts the replaced and removed articles in its statistics until it merges them away)."""
    assert (a.total, a.suggestion, a.page, a.limit) == (b.total, b.suggestion, b.page, b.limit)
    assert [h.id for h in a] == [h.id for h in b]
    for x, y in zip(a, b, strict=True):
        assert (x.snippet, x.highlights, x.title_highlights, x.date, x.source) == \
               (y.snippet, y.highlights, y.title_highlights, y.date, y.source)
        assert not scores or math.isclose(x.score, y.score, rel_tol=1e-5), (x.id, x.score, y.score)


def test_the_cluster_reports_the_same_indexing_run(both):
    local, cluster, (mine, theirs), _ = both
    assert (theirs.added, theirs.updated, theirs.unchanged, theirs.removed, theirs.failed) == \
           (mine.added, mine.updated, mine.unchanged, mine.removed, mine.failed) == (306, 0, 0, 0, 0)


@pytest.mark.parametrize("query,options", QUERIES, ids=[f"{q} {o}" for q, o in QUERIES])
def test_the_same_query_gives_the_same_results(both, query, options):
    local, cluster, _, _ = both
    same_hits(local.search(query, **options), cluster.search(query, **options))


def test_did_you_mean_and_name_variants_reach_the_cluster(both):
    _, cluster, _, _ = both
    assert cluster.search("Poutinne").suggestion == "Poutine"
    assert cluster.search("Vladivostock").suggestion == "Vladivostok"
    putin = cluster.search("Putin")
    assert {"kim", "putin"} <= {h.id for h in putin}
    assert putin.suggestion is None


def test_similar_and_show_are_the_same(both):
    local, cluster, _, _ = both
    same_hits(local.similar("kim"), cluster.similar("kim"))
    assert local.article("macron", highlight="retraite") == cluster.article("macron", highlight="retraite")


def test_the_cli_prints_the_same_json_and_exit_statuses(both, opensearch_cluster, runner):
    local, _, _, name = both
    home = ["--opensearch", ",".join(opensearch_cluster.urls), "--opensearch-index", name]
    here = ["--index-dir", str(local.path)]
    for args, status in ((["query", "Kim", "Poutine", "--json"], 0), (["query", "zzzqqq", "--json"], 1),
                         (["similar", "kim", "--json"], 0), (["show", "putin", "--json"], 0),
                         (["show", "nobody"], 2), (["query", "-Trump"], 2)):
        mine = runner.invoke(cli, [*args, *here], env={"NEWSEARCH_OPENSEARCH": None})
        theirs = runner.invoke(cli, [*args, *home])
        assert (mine.exit_code, theirs.exit_code) == (status, status), theirs.output
        if status == 0:
            a, b = json.loads(mine.output), json.loads(theirs.output)
            for hit in a.get("hits", []) + b.get("hits", []):
                hit["score"] = round(hit["score"], 4)
            assert a == b
        else:
            assert theirs.output == mine.output
    info = runner.invoke(cli, ["info", "--json", *home])
    assert info.exit_code == 0
    described = json.loads(info.output)
    assert (described["path"], described["articles"]) == (f"{name} on {','.join(opensearch_cluster.urls)}", 306)


def test_an_unknown_index_says_how_to_build_it(opensearch_cluster, runner):
    done = runner.invoke(cli, ["query", "Kim", "--opensearch", ",".join(opensearch_cluster.urls),
                               "--opensearch-index", "never-built"])
    assert done.exit_code == 2
    assert done.output == (f"Error: no index 'never-built' on {','.join(opensearch_cluster.urls)}: "
                           "run `newsearch index` to build one\n")


def test_an_unreachable_cluster_is_one_line(runner):
    done = runner.invoke(cli, ["query", "Kim", "--opensearch", "http://127.0.0.1:9"])
    assert done.exit_code == 2
    assert done.output == "Error: OpenSearch at http://127.0.0.1:9: cannot connect (is the cluster running?)\n"


def test_a_malformed_url_is_a_usage_error(runner):
    done = runner.invoke(cli, ["query", "Kim", "--opensearch", "localhost:9200"])
    assert done.exit_code == 2
    assert done.output.startswith("Error: not an OpenSearch node URL: 'localhost:9200'")


def write(folder, name, title, body):
    path = folder / name
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


def test_incremental_updates_match_the_local_index(opensearch_cluster, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    for i in range(6):
        write(folder, f"{i}.txt", f"Grève numéro {i}", f"Les cheminots de la ligne {i} sont en grève.")
    local = SearchEngine(tmp_path / "ix")
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=f"test-{uuid.uuid4().hex[:8]}")
    assert local.index([folder]).added == cluster.index([folder]).added == 6
    write(folder, "1.txt", "Grève levée", "Les cheminots reprennent le travail.")        # updated
    (folder / "2.txt").unlink()                                                              # removed
    write(folder, "9.txt", "Nouvelle grève", "Les contrôleurs rejoignent les cheminots.")   # added
    stat = (folder / "3.txt").stat()
    os.utime(folder / "3.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))            # touched: unchanged
    mine, theirs = local.index([folder]), cluster.index([folder])
    assert (theirs.added, theirs.updated, theirs.unchanged, theirs.removed) == \
           (mine.added, mine.updated, mine.unchanged, mine.removed) == (1, 1, 4, 1)
    for query in ("grève", "cheminots travail", "contrôleurs"):
        same_hits(local.search(query), cluster.search(query), scores=False)
    again = cluster.index([folder])
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 6, 0)
    assert local.index([folder], rebuild=True).added == cluster.index([folder], rebuild=True).added == 6
    same_hits(local.search("grève"), cluster.search("grève"))


def test_a_killed_node_loses_nothing(opensearch_cluster, tmp_path):
    """node2 is killed while a run indexes: the run completes through node1, nothing is lost, and
    queries answer completely (every article, from every shard)."""
    folder = tmp_path / "a"
    folder.mkdir()
    records = generated.articles(1200, seed=11)
    for part in range(4):
        (folder / f"{part}.jsonl").write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in records[part * 300:(part + 1) * 300]), "utf-8")
    local = SearchEngine(tmp_path / "ix")
    local.index([folder])
    name = f"test-{uuid.uuid4().hex[:8]}"
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    killed = []

    def progress(done):
        if done.files_done == 2 and not killed:  # about half the articles are written, the rest is not
            url = opensearch_cluster.urls[0]
            httpx.post(f"{url}/{name}-*/_refresh", timeout=60)
            killed.append(httpx.get(f"{url}/{name}-*/_count", timeout=60).json()["count"])
            opensearch_cluster.control("stop", "--node", "node2", "--kill")

    try:
        report = cluster.index([folder], progress=progress)
        assert 0 < killed[0] < 1200 and (report.added, report.failed) == (1200, 0)
        for query in ("grève", "été chaleur", "le"):
            same_hits(local.search(query), cluster.search(query))
    finally:
        opensearch_cluster.control("start", "--node", "node2")
    same_hits(local.search("grève gouvernement"), cluster.search("grève gouvernement"))


def test_an_id_two_files_share_is_shown_with_its_path(opensearch_cluster, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    for name in ("one", "two"):
        (folder / f"{name}.jsonl").write_text(json.dumps({"id": "dup", "title": f"Grève {name}", "body": "Grève."}),
                                              "utf-8")
    local = SearchEngine(tmp_path / "ix")
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=f"test-{uuid.uuid4().hex[:8]}")
    local.index([folder]), cluster.index([folder])
    same_hits(local.search("grève"), cluster.search("grève"))
    shown = f"{folder / 'two.jsonl'}#dup"
    assert shown in [h.id for h in cluster.search("grève")]
    assert local.article(shown) == cluster.article(shown)
    with pytest.raises(ArticleNotFound, match="2 articles have the id 'dup'"):
        cluster.article("dup")


def test_a_prefix_of_a_handle_is_literal(both):
    local, cluster, _, _ = both
    same_hits(local.search("@mac*"), cluster.search("@mac*"))


def test_serve_answers_from_the_cluster(both, opensearch_cluster, tmp_path):
    """`newsearch serve --opensearch`: the page and the API over the cluster's index, as the library answers."""
    from tests.test_server import serving

    local, cluster, _, name = both
    options = ("--workers", "1", "--opensearch", ",".join(opensearch_cluster.urls), "--opensearch-index", name)
    with serving(tmp_path / "no-local-index", tmp_path / "serve.log", *options) as url:
        api = httpx.get(f"{url}/api/search", params={"q": "Kim Poutine", "limit": "3"}, timeout=60).json()
        page = httpx.get(f"{url}/", params={"q": "Kim Poutine"}, timeout=60).text
        article = httpx.get(f"{url}/api/articles/kim", timeout=60).json()
    expected = cluster.search("Kim Poutine", limit=3)
    assert [h["id"] for h in api["hits"]] == [h.id for h in expected] == [h.id for h in local.search("Kim Poutine",
                                                                                                    limit=3)]
    assert api["total"] == expected.total
    assert "<mark>Poutine</mark>" in page or "<mark>Kim</mark>" in page
    assert article["id"] == "kim" and article["source"] == "AFP"


# --- duplicates and glued words (the `copies` fixture) ------------------------------------------------

COPIES = [
    {"id": "story", "title": "Un policier tué à Rambouillet", "date": "2020-06-01", "body": STORY},
    {"id": "copy", "title": "Policier tué : l'agresseur interpellé", "date": "2020-06-01",
     "body": "  " + STORY.upper().replace(" ", "\n  ")},
    {"id": "update", "title": "Policier tué à Rambouillet", "date": "2020-06-02", "body": UPDATE},
    {"id": "other", "title": "Les policiers manifestent", "date": "2020-06-03", "body": OTHER},
    *({"id": f"sommet{n}", "title": f"Sommet numéro {n}", "date": f"2021-0{n + 1}-15",
       "body": "Vladimir Poutine a reçu ses invités à Vladivostok, comme chaque année, dans la ville portuaire. "
               f"La semaine dernière, le président russe était à Moscou, pour la {n + 1}e fois."} for n in range(4)),
    {"id": "train", "title": "Le train blindé", "date": "2021-09-01",
     "body": "Le convoi est arrivé à Vladivostokdans la nuit de lundi."},
]
COPY_QUERIES = [("policier tué", {}), ("policier", {}), ("policier", {"limit": 1}),
                ("policier", {"page": 2, "limit": 1}), ("policier", {"sort": "date"}), ("Rambouillet procureur", {}),
                ("Vladivostok", {}), ("Poutine", {}), ('"à Vladivostok"', {})]


@pytest.fixture(scope="module")
def copies(opensearch_cluster, tmp_path_factory):
    """Copies (exact, re-spaced, updated) of one story, glued words (the seed's ``Poutinecomme``, a
    ``Vladivostokdans``) and 60 generated articles, indexed locally and on the cluster."""
    folder = tmp_path_factory.mktemp("copies")
    (folder / SEED).write_text((SEEDS / SEED).read_text("utf-8"), encoding="utf-8")
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in COPIES), "utf-8")
    (folder / "generated.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in generated.articles(60)), "utf-8")
    name = f"test-{uuid.uuid4().hex[:8]}"
    local = SearchEngine(tmp_path_factory.mktemp("local") / "ix")
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    local.index([folder]), cluster.index([folder])
    yield local, cluster, name, folder
    local.close()


@pytest.mark.parametrize("query,options", COPY_QUERIES)
def test_copies_fold_and_glued_words_match_on_the_cluster_as_locally(copies, query, options):
    local, cluster, _, _ = copies
    mine, theirs = local.search(query, **options), cluster.search(query, **options)
    same_hits(mine, theirs)
    assert mine.folded == theirs.folded
    assert [h.duplicates for h in mine] == [h.duplicates for h in theirs]


def test_the_cluster_folds_the_story_and_finds_the_glued_word(copies):
    local, cluster, _, _ = copies
    for query in ("policier", "agresseur"):  # --all: every copy a hit of its own, as locally
        same_hits(local.search(query, collapse=False), cluster.search(query, collapse=False))
    folded = cluster.search("policier tué")
    first = folded.hits[0]
    assert (folded.total, folded.folded) == (2, 2)
    assert sorted([first.id, *first.duplicates]) == ["copy", "story", "update"]
    assert len(cluster.search("policier tué", collapse=False)) == 4
    train = {h.id: h for h in cluster.search("Vladivostok")}["train"]
    assert [train.snippet[s:e] for s, e in train.highlights] == ["Vladivostok"]


def test_the_seed_highlights_poutine_inside_poutinecomme_on_the_cluster(copies):
    local, cluster, _, folder = copies
    theirs = cluster.article(str(folder / SEED), highlight="Poutine")
    assert theirs == local.article(str(folder / SEED), highlight="Poutine")
    start = theirs.article.body.index("Poutinecomme")
    assert (start, start + len("Poutine")) in theirs.highlights["body"]


def test_similar_skips_the_source_group_on_the_cluster(copies):
    local, cluster, _, _ = copies
    assert not {"story", "copy", "update"} & {h.id for h in cluster.similar("copy")}
    for article_id in ("story", "copy", "update", "other", "sommet0"):
        mine, theirs = local.similar(article_id), cluster.similar(article_id)
        same_hits(mine, theirs)
        assert [h.duplicates for h in mine] == [h.duplicates for h in theirs]
    assert not {"story", "copy", "update"} & {h.id for h in cluster.similar("copy")}


def test_the_cli_json_folds_as_locally(copies, opensearch_cluster, runner):
    local, _, name, _ = copies
    home = ["--opensearch", ",".join(opensearch_cluster.urls), "--opensearch-index", name]
    for args in (["query", "policier", "tué", "--json"], ["query", "policier", "--all", "--json"],
                 ["query", "Vladivostok", "--json"], ["similar", "other", "--json"]):
        mine = runner.invoke(cli, [*args, "--index-dir", str(local.path)], env={"NEWSEARCH_OPENSEARCH": None})
        theirs = runner.invoke(cli, [*args, *home])
        assert (mine.exit_code, theirs.exit_code) == (0, 0), theirs.output
        a, b = json.loads(mine.output), json.loads(theirs.output)
        for hit in a["hits"] + b["hits"]:
            hit["score"] = round(hit["score"], 4)
        assert a == b
    assert json.loads(runner.invoke(cli, ["query", "policier", "tué", "--json", *home]).output)["folded"] == 2


def test_a_copy_added_later_folds_on_the_cluster_as_locally(opensearch_cluster, tmp_path):
    """An update run that makes a group (a copy of an article indexed before) writes the new group by
    partial updates: folding and the duplicates listed still match the local index."""
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in COPIES[3:]), "utf-8")
    local = SearchEngine(tmp_path / "ix")
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=f"test-{uuid.uuid4().hex[:8]}")
    local.index([folder]), cluster.index([folder])
    (folder / "b.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in COPIES[:3]), "utf-8")
    local.index([folder]), cluster.index([folder])
    for query, options in (("policier tué", {}), ("policier", {"collapse": False}), ("Vladivostok", {})):
        mine, theirs = local.search(query, **options), cluster.search(query, **options)
        same_hits(mine, theirs, scores=False)
        assert (mine.folded, [h.duplicates for h in mine]) == (theirs.folded, [h.duplicates for h in theirs])
    assert cluster.search("policier tué").folded == 2
    local.close()


def test_an_index_built_before_duplicates_and_glued_words_still_searches(opensearch_cluster, tmp_path, monkeypatch):
    """A cluster index made by session 5's code (no duplicate keys or groups in its mapping, no after-run
    step) opens and searches without folding or glued words; a run of this code over it adds the glued
    words, and folding waits for --rebuild, as locally."""
    from searchengine import cluster as home
    from searchengine import clusterlayout as layout

    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in COPIES), "utf-8")
    plain = layout.mapping

    def older() -> dict:
        mapping = plain()
        for name in (layout.DUPKEYS, layout.GROUP):
            del mapping["properties"][name]
        return mapping

    monkeypatch.setattr(home, "mapping", older)  # where ClusterHome._create reads it
    monkeypatch.setattr(home.ClusterHome, "_after_run", lambda self, concrete, writer: None)
    name = f"test-{uuid.uuid4().hex[:8]}"
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    assert cluster.index([folder]).added == len(COPIES)
    monkeypatch.undo()
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    found = cluster.search("policier tué")
    assert (found.total, found.folded, len(found)) == (4, 0, 4)
    assert "train" not in {h.id for h in cluster.search("Vladivostok")}
    write(folder, "late.txt", "Un autre sommet", "Vladimir Poutine reçoit encore à Vladivostok.")
    assert cluster.index([folder]).added == 1
    assert "train" in {h.id for h in cluster.search("Vladivostok")}
    assert cluster.search("policier tué").folded == 0
    assert cluster.search("policier tué", collapse=False).total == 4


def test_folding_grows_the_window_until_it_holds_enough_groups(opensearch_cluster, tmp_path):
    """70 near copies of one story rank above every other article, 10 short ones well above the
    rest: the first batch of hits is certainly the best 60, but holds one group, so the cluster must
    fetch more to fill the page, as the local pruned path doubles its k (without it: 2 hits, not 10)."""
    story = ("Les cheminots continuent la grève, les cheminots votent, les cheminots manifestent et les "
             "cheminots attendent la direction de la compagnie nationale ce lundi matin selon les syndicats.")
    records = [{"id": f"copy{n}", "title": "Grève reconduite", "body": story + (" encore" * 400 if n >= 10 else "")}
               for n in range(70)]
    others = generated.articles(115)
    records += others[:100]
    records += [{**r, "id": f"other{n}", "body": r["body"] + " Les cheminots aussi."}
                for n, r in enumerate(others[100:])]
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    local = SearchEngine(tmp_path / "ix")
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=f"test-{uuid.uuid4().hex[:8]}")
    local.index([folder]), cluster.index([folder])
    for options in ({}, {"page": 2, "limit": 5}):
        mine, theirs = local.search("cheminots", **options), cluster.search("cheminots", **options)
        same_hits(mine, theirs)
        assert (mine.folded, [h.duplicates for h in mine]) == (theirs.folded, [h.duplicates for h in theirs])
    first = cluster.search("cheminots")
    assert (first.total, first.folded, len(first)) == (16, 69, 10)
    local.close()


@pytest.fixture(scope="module")
def prefixed(opensearch_cluster, tmp_path_factory):
    """Articles with 250 distinct words under one prefix and 120 under each of two others, in both homes."""
    letters = "bcdfghjklmnpqrstvz"
    pairs = [a + b for a in letters for b in letters]
    records = [{"id": f"q{n}", "title": f"Note {n}", "body": f"La quix{pair} du jour."}
               for n, pair in enumerate(pairs[:250])]
    records += [{"id": f"v{n}", "title": f"Fiche {n}", "body": f"Un vorp{pair} ici."}
                for n, pair in enumerate(pairs[:120])]
    records += [{"id": f"z{n}", "title": f"Carte {n}", "body": f"Une zelb{pair} ici."}
                for n, pair in enumerate(pairs[:120])]
    folder = tmp_path_factory.mktemp("prefixed")
    (folder / "words.jsonl").write_text("\n".join(json.dumps(r) for r in records), "utf-8")
    local = SearchEngine(tmp_path_factory.mktemp("prefixed-local") / "ix")
    cluster = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=f"test-{uuid.uuid4().hex[:8]}")
    local.index([folder]), cluster.index([folder])
    yield local, cluster
    local.close()


@pytest.mark.parametrize("query,words", [("quix*", 250), ("vorp* zelb*", 240), ("zelb* ici vorp*", 240)])
def test_a_prefix_stands_for_as_many_words_as_locally(prefixed, query, words):
    """More than the 100 words a prefix stood for on the cluster before, and two prefixes in one query
    (which went over OpenSearch's 1,024 clauses): within the cluster's clause limit (README)."""
    local, cluster = prefixed
    expected = local.search(query, limit=20)
    assert expected.total == words
    same_hits(expected, cluster.search(query, limit=20))


@pytest.mark.parametrize("query,options", [("grève", {}), ("gouvernement président", {}),
                                           ("été chaleur", {"page": 2, "limit": 5}), ("missilles Kim", {})])
def test_the_window_takes_at_most_two_requests(both, monkeypatch, query, options):
    """Past a first window too short for the page, one more request fetches every hit whose bound says
    it might reach the page (it grew by fourfold steps before, each one a request): the same hits."""
    from searchengine import cluster as cluster_module
    from searchengine.clusterclient import Client

    local, cluster, _, _ = both
    windows = []
    search = Client.search

    def counted(self, index, body, **params):
        if "seq" in body.get("docvalue_fields", ()):
            windows.append(body["size"])
        return search(self, index, body, **params)

    monkeypatch.setattr(cluster_module, "WINDOW_MARGIN", 1)
    monkeypatch.setattr(Client, "search", counted)
    same_hits(local.search(query, **options), cluster.search(query, **options))
    assert 1 <= len(windows) <= 2, windows


@pytest.mark.parametrize("query", ["la réforme des retraites", "le sommet de Vladivostok", "les missiles de Kim"])
def test_stop_words_rerank_as_locally(both, query):
    """Stop words add their BM25F to the reranked head as locally: the title's own weight, which only
    words of the query's groups get, is not added to them."""
    local, cluster, _, _ = both
    same_hits(local.search(query), cluster.search(query))


# --- the writing side: one run at a time, killed runs' leftovers, check, options (issue 16) -----------------
# Other runs are other processes, stopped at a named point by NEWSEARCH_TEST_PAUSE (see searchengine.indexing).

def on(cluster, name):
    return ["--opensearch", ",".join(cluster.urls), "--opensearch-index", name]


def concrete_indices(cluster, pattern):
    """The names of the concrete indices matching ``pattern``, and the aliases of each."""
    found = httpx.get(f"{cluster.urls[0]}/{pattern}/_alias", params={"ignore_unavailable": "true"}, timeout=60)
    return {index: sorted(about["aliases"]) for index, about in found.json().items()}


def lock_of(cluster, name):
    found = httpx.get(f"{cluster.urls[0]}/newsearch-locks/_doc/{name}", timeout=60).json()
    return found.get("_source") if found.get("found") else None


def lapse_lock(cluster, name):
    """What a minute without renewal does to the lock of a killed run: its lease ends (moved, not waited for)."""
    lock = lock_of(cluster, name)
    assert lock is not None
    lock["expires"] = 0
    httpx.put(f"{cluster.urls[0]}/newsearch-locks/_doc/{name}", json=lock, timeout=60).raise_for_status()


def few_articles(folder, count=3):
    folder.mkdir(exist_ok=True)
    for i in range(count):
        write(folder, f"{i}.txt", f"Grève numéro {i}", f"Les cheminots de la ligne {i} sont en grève.")


def test_a_second_run_into_a_cluster_index_is_refused_as_locally_and_waits(opensearch_cluster, tmp_path):
    from searchengine.errors import IndexLocked

    folder = tmp_path / "a"
    few_articles(folder)
    name = f"test-{uuid.uuid4().hex[:8]}"
    home = on(opensearch_cluster, name)
    assert newsearch("index", str(folder), *home).returncode == 0
    write(folder, "new.txt", "Nouvelle grève", "Les contrôleurs rejoignent les cheminots.")
    holder = paused(tmp_path, "added:1", "index", str(folder), *home)
    try:
        second = newsearch("index", str(folder), *home)
        assert second.returncode == 2
        assert second.stderr.startswith(f"Error: the index '{name}' on {','.join(opensearch_cluster.urls)} is being "
                                         f"updated by another process (pid {holder.pid} on "), second.stderr
        assert "pass --wait SECONDS" in second.stderr and len(second.stderr.splitlines()) == 1
        with pytest.raises(IndexLocked, match="being updated by another process"):
            SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name).index([folder])
        during = newsearch("query", "grève", *home, "--json")
        assert during.returncode == 0 and json.loads(during.stdout)["total"] == 3
        waiting = subprocess.Popen([NEWSEARCH, "index", str(folder), *home, "--wait", "120"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        status, err = release(holder)
    assert status == 0, err
    assert "1 added" in err
    _, waited = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, waited
    assert "0 added, 0 updated, 4 unchanged" in waited
    assert lock_of(opensearch_cluster, name) is None


@pytest.fixture
def decoys(opensearch_cluster):
    """An index name, and indices a run of it must leave alone: a user's index that only looks like ours,
    and another newsearch index's leftover (NAME-x's own indices are NAME-x-<digits>). A replica each: a
    later test kills a node and expects no index to lose its only copy."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    url = opensearch_cluster.urls[0]
    settings = {"settings": {"number_of_shards": 1, "number_of_replicas": 1}}
    httpx.put(f"{url}/{name}-20000101000000000000", json=settings, timeout=60).raise_for_status()
    httpx.put(f"{url}/{name}-x-20000101000000000000", timeout=60, json={
        **settings, "mappings": {"_meta": {"newsearch": {"format": 1}}}}).raise_for_status()
    yield name, {f"{name}-20000101000000000000", f"{name}-x-20000101000000000000"}
    httpx.delete(f"{url}/{name}-20000101000000000000,{name}-x-20000101000000000000", timeout=60)


def test_a_killed_first_build_leaves_a_lock_that_lapses_and_an_orphan_the_next_run_removes(opensearch_cluster,
                                                                                          tmp_path, decoys):

    folder = tmp_path / "a"
    few_articles(folder)
    name, others = decoys
    home = on(opensearch_cluster, name)
    proc = paused(tmp_path, "added:1", "index", str(folder), *home)
    proc.kill()
    proc.communicate()
    left = set(concrete_indices(opensearch_cluster, f"{name}-*")) - others
    assert len(left) == 1 and concrete_indices(opensearch_cluster, f"{name}-*")[left.pop()] == []
    refused = newsearch("index", str(folder), *home)
    assert refused.returncode == 2 and f"being updated by another process (pid {proc.pid} on " in refused.stderr
    lapse_lock(opensearch_cluster, name)
    done = newsearch("index", str(folder), *home)
    assert done.returncode == 0, done.stderr
    assert "3 added, 0 updated, 0 unchanged" in done.stderr
    now = concrete_indices(opensearch_cluster, f"{name}-*")
    assert sorted(now.values()) == [[], [], [name]]
    assert others < set(now)
    assert json.loads(newsearch("info", "--json", *home).stdout)["articles"] == 3
    assert lock_of(opensearch_cluster, name) is None


def test_a_killed_rebuild_leaves_an_orphan_the_next_run_removes_and_sigterm_leaves_none(opensearch_cluster,
                                                                                        tmp_path):
    import signal


    folder = tmp_path / "a"
    few_articles(folder)
    name = f"test-{uuid.uuid4().hex[:8]}"
    home = on(opensearch_cluster, name)
    assert newsearch("index", str(folder), *home).returncode == 0
    first = concrete_indices(opensearch_cluster, f"{name}-*")
    proc = paused(tmp_path, "commit", "index", "--rebuild", str(folder), *home)
    proc.kill()
    proc.communicate()
    proc.marker.unlink()  # the next run pauses at the same point
    assert len(concrete_indices(opensearch_cluster, f"{name}-*")) == 2  # the old one, aliased, and the orphan
    assert json.loads(newsearch("info", "--json", *home).stdout)["articles"] == 3
    lapse_lock(opensearch_cluster, name)
    done = newsearch("index", str(folder), *home)
    assert done.returncode == 0, done.stderr
    assert "0 added, 0 updated, 3 unchanged" in done.stderr
    assert concrete_indices(opensearch_cluster, f"{name}-*") == first
    # SIGTERM (as Ctrl-C) undoes the run: its new index deleted, its lock let go of.
    proc = paused(tmp_path, "commit", "index", "--rebuild", str(folder), *home)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and err == "Interrupted: the index keeps its last committed state.\n"
    assert concrete_indices(opensearch_cluster, f"{name}-*") == first
    assert lock_of(opensearch_cluster, name) is None


def test_info_check_reads_a_healthy_cluster_index(both, opensearch_cluster, runner):
    _, cluster, _, name = both
    done = runner.invoke(cli, ["info", "--check", "--json", *on(opensearch_cluster, name)])
    assert done.exit_code == 0, done.output
    check = json.loads(done.output)["check"]
    assert (check["verified"], check["documents"], check["shards"], check["copies"], check["copies_expected"]) == \
           (True, 306, 2, 4, 4)
    assert check["index"] == cluster.check().index and check["index"].startswith(f"{name}-")
    text = runner.invoke(cli, ["info", "--check", *on(opensearch_cluster, name)])
    assert text.exit_code == 0
    assert "Check:       306 documents read, 2 shards, 4 of 4 copies started, all as written\n" in text.output


def test_info_check_finds_a_damaged_cluster_index(opensearch_cluster, tmp_path, runner):
    import base64

    from searchengine.errors import IndexCorrupt

    folder = tmp_path / "a"
    few_articles(folder)
    name = f"test-{uuid.uuid4().hex[:8]}"
    engine = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    engine.index([folder])
    url, urls = opensearch_cluster.urls[0], ",".join(opensearch_cluster.urls)
    concrete = engine.check().index
    victim = httpx.post(f"{url}/{name}/_search", json={"size": 1, "sort": ["seq"]}, timeout=60).json()
    victim = victim["hits"]["hits"][0]["_id"]

    def damage(change):
        httpx.post(f"{url}/{concrete}/_update/{victim}", params={"refresh": "true"}, json={"doc": change},
                   timeout=60).raise_for_status()

    def checked():
        done = runner.invoke(cli, ["info", "--check", *on(opensearch_cluster, name)])
        assert done.exit_code == 2 and len(done.output.splitlines()) == 1
        return done.output

    damage({"state": base64.b64encode(b"not a state").decode()})
    assert checked() == (f"Error: cannot open the index '{name}' on {urls}: document {victim}: its state cannot be "
                         "decoded; run `newsearch index --rebuild PATHS...` to build it again\n")
    with pytest.raises(IndexCorrupt, match="its state cannot be decoded"):
        engine.check()
    engine.index([folder], rebuild=True)
    assert engine.check().documents == 3
    concrete = engine.check().index
    damage({"body_length": 1000})
    assert checked().endswith(f"document {victim}: its body length is not the number of its terms; run "
                              "`newsearch index --rebuild PATHS...` to build it again\n")
    httpx.put(f"{url}/{name}-extra", timeout=60).raise_for_status()
    httpx.put(f"{url}/{name}-extra/_alias/{name}", timeout=60).raise_for_status()
    assert f": its alias points to 2 indices ({concrete}, {name}-extra), not one;" in checked()
    for command in (["query", "grève"], ["index", str(folder)]):  # searched or written, neither is taken at random
        done = runner.invoke(cli, [*command, *on(opensearch_cluster, name)])
        assert done.exit_code == 2 and len(done.output.splitlines()) == 1, done.output
        assert f": its alias points to 2 indices ({concrete}, {name}-extra), not one;" in done.output
    httpx.delete(f"{url}/{name}-extra", timeout=60).raise_for_status()
    httpx.delete(f"{url}/{concrete}/_alias/{name}", timeout=60).raise_for_status()
    assert checked() == f"Error: no index '{name}' on {urls}: run `newsearch index` to build one\n"


def test_an_index_of_another_cluster_format_is_refused_until_rebuilt(opensearch_cluster, tmp_path, runner):
    """As a local index of another Whoosh version: queries and updates get one line, --rebuild makes it anew."""
    folder = tmp_path / "a"
    few_articles(folder)
    name = f"test-{uuid.uuid4().hex[:8]}"
    engine = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    engine.index([folder])
    concrete = engine.check().index
    httpx.put(f"{opensearch_cluster.urls[0]}/{concrete}/_mapping", timeout=60,
              json={"_meta": {"newsearch": {"format": 99}}}).raise_for_status()
    home = on(opensearch_cluster, name)
    for command in (["query", "grève"], ["index", str(folder)]):
        done = runner.invoke(cli, [*command, *home])
        assert done.exit_code == 2, done.output
        assert done.output == (f"Error: cannot open the index '{name}' on {','.join(opensearch_cluster.urls)}: "
                               f"{concrete} is of newsearch's cluster format 99; this newsearch reads format 1; "
                               "run `newsearch index --rebuild PATHS...` to build it again\n")
    done = runner.invoke(cli, ["index", "--rebuild", str(folder), *home])
    assert done.exit_code == 0, done.output
    found = runner.invoke(cli, ["query", "--json", "grève", *home])
    assert found.exit_code == 0 and json.loads(found.output)["total"] == 3


def test_jobs_and_memory_are_refused_on_a_cluster(opensearch_cluster, runner, tmp_path):
    """Not ignored: refused (--wait works there, see the test of two runs)."""
    home = on(opensearch_cluster, f"test-{uuid.uuid4().hex[:8]}")
    for option, value in (("--jobs", "2"), ("--memory", "64")):
        done = runner.invoke(cli, ["index", str(tmp_path), option, value, *home])
        assert done.exit_code == 2
        assert done.output.startswith(f"Error: Invalid value for '{option}': only for the local index: with "
                                      "--opensearch, ")
    engine = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index="never-built")
    with pytest.raises(ValueError, match="jobs applies to the local index only"):
        engine.index([tmp_path], jobs=2)
    with pytest.raises(ValueError, match="memory_mb applies to the local index only"):
        engine.index([tmp_path], memory_mb=64)


def test_a_run_whose_lock_was_taken_over_writes_no_more(opensearch_cluster):
    """A run that could not renew its lease for a minute (the cluster out of its reach) may find, when it
    renews again, that another run took the lock over: it stops before its next batch."""
    from searchengine.clusterwrite import Lock
    from searchengine.errors import IndexLocked

    name = f"test-{uuid.uuid4().hex[:8]}"
    home = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)._cluster
    lock = Lock(home.client, home.index, home.where)
    lock.acquire(0)
    try:
        lapse_lock(opensearch_cluster, name)
        other = Lock(home.client, home.index, home.where)
        other.acquire(0)  # another run takes the lapsed lock over
        with lock._mutex:
            lock._renew()  # the renewing thread's next beat
        with pytest.raises(IndexLocked, match=f"it took over the lock of this run: pid {os.getpid()} on "):
            lock.confirm()
        lock.release()
        assert lock_of(opensearch_cluster, name)["expires"] > 0  # the other run's lock stays
        other.release()
        assert lock_of(opensearch_cluster, name) is None
    finally:
        lock.release()
