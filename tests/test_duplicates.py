"""Duplicates as readers meet them: one hit per story with "N more like this"
in text, JSON and HTML, every copy still findable, pages cut from the
collapsed ranking, and similar articles that are not the article again."""

import asyncio
import json
import random
import zlib

import httpx
import numpy as np
import pytest

from searchengine import SearchEngine
from searchengine.cli import cli
from searchengine.duplicates import (
    BANDS,
    MAX_BYTES,
    duplicate_key,
    duplicate_keys,
    group_keys,
    load_groups,
    stored_groups,
)
from searchengine.indexing import INDEX_NAME
from searchengine.server import create_app

from .conftest import ids

STORY = ("Un policier a été tué dans la nuit de samedi à dimanche lors d'une intervention à Rambouillet, "
         "dans les Yvelines. L'agresseur, un homme de trente ans connu des services, a été interpellé par "
         "les gendarmes peu après les faits, selon le parquet qui a ouvert une enquête pour meurtre.")
UPDATE = STORY.replace("trente ans", "trente-deux ans") + " Le procureur de Versailles s'exprimera lundi."
OTHER = ("Les syndicats de policiers appellent à manifester mardi devant les préfectures pour réclamer "
         "davantage de moyens, après une année marquée par la hausse des violences contre les forces de "
         "l'ordre et le manque d'effectifs dans les commissariats de banlieue.")


def _news(tmp_path, records):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    return path


def police_records():
    """One story three times (a copy with other spacing and case, and an
    update), and another story on the police."""
    return [
        {"id": "story", "title": "Un policier tué à Rambouillet", "date": "2020-06-01", "body": STORY},
        {"id": "copy", "title": "Policier tué : l'agresseur interpellé", "date": "2020-06-01",
         "body": "  " + STORY.upper().replace(" ", "\n  ")},
        {"id": "update", "title": "Policier tué à Rambouillet", "date": "2020-06-02", "body": UPDATE},
        {"id": "other", "title": "Les policiers manifestent", "date": "2020-06-03", "body": OTHER},
    ]


@pytest.fixture
def police(tmp_path):
    index_dir = tmp_path / "ix"
    with SearchEngine(index_dir) as engine:
        engine.index([_news(tmp_path, police_records())])
    return index_dir


def served(index_dir, *requests):
    """The answers of the app of `newsearch serve` to (path, params) requests."""
    async def get():
        transport = httpx.ASGITransport(create_app(index_dir))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return [await c.get(path, params=params) for path, params in requests]

    return asyncio.run(get())


def query(runner, index_dir, *args):
    return runner.invoke(cli, ["query", *args, "--index-dir", str(index_dir), "--color", "never"])


# --- keys -------------------------------------------------------------------------------------------------


def test_a_copy_has_the_same_key_an_update_shares_a_band_a_short_body_has_none():
    same = duplicate_key(STORY)
    assert len(same) == 8 * BANDS
    assert duplicate_key("  " + STORY.upper().replace(" ", "\n  ")) == same
    keys = [np.frombuffer(duplicate_key(text), dtype="<u8") for text in (STORY, UPDATE, OTHER)]
    assert (keys[0] == keys[1]).any() and not (keys[0] == keys[1]).all()
    assert not (keys[0] == keys[2]).any()
    assert duplicate_key("Un policier a été tué à Rambouillet.") == b""


def test_a_body_has_the_key_it_always_had():
    """Keys are kept in the index and compared with those of articles added
    later, by later code: a body's key never changes."""
    text = " ".join(f"Le mot numéro {i} de cet article de presse, écrit à Paris." for i in range(4))
    assert duplicate_key(text).hex() == (
        "6982b9fda7067aa623b7e25e0941f118aa76a65d7c4670cb7b03243e73698d1e3be0d0bffa0a689d"
        "68a2a511d3f69dd4ecde1793d1b689ccb33a330acf19b5436a19c9262a7bb901c67cc0c9a93bb70b")


def test_keys_computed_together_are_each_bodys_own_key():
    """Indexing computes the keys of many bodies in one array pass: each must be
    the key the body gets alone, whatever its neighbours (short, empty, past
    MAX_BYTES, with control characters), and the key the index always had."""
    rnd = random.Random(7)
    words = ["Le", "policier", "été", "tué", "\t", "\x00", "ﬁn", "😀", "Rambouillet.", "à", "\n"]
    bodies = [STORY, UPDATE, OTHER, "", "court", "x" * (MAX_BYTES + 10), (STORY + " ") * 400]
    bodies += [" ".join(rnd.choice(words) for _ in range(rnd.randrange(0, 60))) for _ in range(300)]
    rnd.shuffle(bodies)
    together = duplicate_keys(bodies)
    assert together == [duplicate_keys([body])[0] for body in bodies]
    assert sum(map(bool, together)) > 100
    # The keys of d5e35ec's one-body-at-a-time code, where the keys were introduced.
    assert zlib.crc32(b"".join(duplicate_keys([STORY, UPDATE, OTHER, (STORY + " ") * 400]))) == 1385500415


def test_groups_join_through_shared_bands_and_leave_deleted_articles_out():
    keys = np.array([[1, 2], [3, 2], [3, 4], [5, 6], [7, 6], [0, 0]], dtype=np.uint64)
    live = np.array([True, True, True, True, False, True])
    assert group_keys(keys, live).tolist() == [0, 0, 0, 3, 4, 5]


# --- what users see ---------------------------------------------------------------------------------------


def test_copies_fold_into_the_best_hit_with_more_like_this(runner, police):
    result = query(runner, police, "policier", "tué")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "2 articles match 'policier tué' (showing 1-2), and 2 duplicates folded into them"
    kept = lines[3].split("(id ")[1].split(")")[0]
    assert kept in ("story", "copy", "update") and lines[2].startswith("1. ")
    others = ", ".join(sorted({"story", "copy", "update"} - {kept}))
    assert lines[5] == f"   + 2 more like this: {others}"
    assert lines[7].startswith("2. Les **policiers** manifestent")
    assert sum(line[:3] in ("1. ", "2. ", "3. ") for line in lines) == 2


def test_json_gives_the_count_and_ids_of_the_duplicates(runner, police):
    result = query(runner, police, "policier", "tué", "--json")
    document = json.loads(result.stdout)
    assert (document["total"], document["folded"]) == (2, 2)
    first, second = document["hits"]
    assert first["id"] in ("story", "copy", "update")
    assert first["duplicates"] == {"count": 2, "ids": sorted({"story", "copy", "update"} - {first["id"]})}
    assert second["id"] == "other" and second["duplicates"] == {"count": 0, "ids": []}


def test_all_lists_every_copy_as_a_hit(runner, police):
    result = query(runner, police, "policier", "tué", "--all", "--json")
    document = json.loads(result.stdout)
    assert (document["total"], document["folded"]) == (4, 0)
    assert sorted(h["id"] for h in document["hits"]) == ["copy", "other", "story", "update"]
    assert all(h["duplicates"]["count"] == 0 for h in document["hits"])
    assert "more like this" not in query(runner, police, "policier", "tué", "--all").stdout


def test_a_duplicate_stays_findable_by_its_id_and_by_a_word_only_it_holds(runner, police):
    shown = runner.invoke(cli, ["show", "copy", "--index-dir", str(police)])
    assert shown.exit_code == 0 and "Policier tué : l'agresseur interpellé" in shown.stdout
    assert "update" not in ids(SearchEngine(police).search("policier tué"))
    result = query(runner, police, "Versailles")
    assert result.stdout.splitlines()[0] == "1 article matches 'Versailles' (showing 1-1)"
    assert "(id update)" in result.stdout and "more like this" not in result.stdout


def test_pages_are_slices_of_the_collapsed_ranking(tmp_path):
    """Eight stories, each filed three times: every limit cuts the same eight
    hits into pages, and each copy is listed under exactly one of them."""
    def words(story, count=30):
        letters = random.Random(story)
        return " ".join("".join(letters.choices("abcdefghijklmnopqrstuvwxyz", k=6)) for _ in range(count))

    records = []
    for story in range(8):
        body = f"Le marché {words(story)} ouvre ce matin."
        for copy in range(3):
            records.append({"id": f"s{story}c{copy}", "title": f"Marché {story}",
                            "body": body + " Ajout." * copy})
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([_news(tmp_path, records)])
        whole = engine.search("marché", limit=50)
        assert (whole.total, whole.folded, len(whole.hits)) == (8, 16, 8)
        listed = [h.id for h in whole] + [d for h in whole for d in h.duplicates]
        assert sorted(listed) == sorted(r["id"] for r in records)
        assert len({h.id[:2] for h in whole}) == 8
        for limit in (1, 3, 5):
            pages = []
            for page in range(1, 8 // limit + 2):
                results = engine.search("marché", limit=limit, page=page)
                assert (results.total, results.folded) == (8, 16)
                pages += [(h.id, h.duplicates) for h in results]
            assert pages == [(h.id, h.duplicates) for h in whole], limit
        by_date = engine.search("marché", sort="date", limit=50)
        assert sorted(ids(by_date)) == sorted(ids(whole))


def test_the_search_page_shows_more_like_this_with_links_and_a_way_to_show_them(police):
    page, every = (r.text for r in served(police, ("/", {"q": "policier tué"}),
                                          ("/", {"q": "policier tué", "collapse": "false"})))
    assert "2 more like this" in page
    assert page.count('class="duplicate-link"') == 2
    assert "2 duplicates folded into the hits they repeat" in page
    assert 'href="/?q=policier+tu%C3%A9&amp;collapse=false"' in page
    assert "more like this" not in every and every.count('class="hit"') == 4
    assert 'name="collapse" type="checkbox" value="false" checked' in every


def test_the_api_gives_duplicates_and_takes_collapse(police):
    document, every, bad = served(police, ("/api/search", {"q": "policier tué"}),
                                  ("/api/search", {"q": "policier tué", "collapse": "false"}),
                                  ("/api/search", {"q": "policier", "collapse": "non"}))
    document, every = document.json(), every.json()
    assert (document["total"], document["folded"]) == (2, 2)
    assert document["hits"][0]["duplicates"]["count"] == 2
    assert (every["total"], every["folded"], len(every["hits"])) == (4, 0, 4)
    assert bad.status_code == 400 and bad.json() == {"error": "collapse: 'true' or 'false', not 'non'"}


# --- similar ----------------------------------------------------------------------------------------------


def test_similar_skips_the_articles_own_duplicates(police):
    with SearchEngine(police) as engine:
        for article_id in ("story", "copy", "update"):
            assert ids(engine.similar(article_id)) == ["other"]


def test_similar_finds_articles_sharing_words_in_a_small_collection(tmp_path):
    """Each of the two health articles has more than 15 words no other
    article holds; they share only "grippe" and "soignants"."""
    records = [
        {"id": "vaccin", "title": "Les pharmacies vaccinent dès octobre",
         "body": "Les pharmaciens vaccineront contre la grippe dès octobre, annonce le ministère. Les personnes "
                 "âgées, les soignants et les femmes enceintes restent prioritaires. Une campagne d'affichage "
                 "rappellera les gestes barrières dans les écoles, les mairies et les transports."},
        {"id": "grippe", "title": "L'épidémie progresse",
         "body": "La grippe saisonnière touche désormais toutes les régions, selon Santé publique France. Les "
                 "urgences pédiatriques sont saturées à Lyon, Lille et Bordeaux, et les soignants "
                 "réclament des renforts avant les fêtes de fin d'année."},
        {"id": "tour", "title": "Le Tour de France part de Nice", "body": "Les coureurs s'élanceront samedi."},
        {"id": "bourse", "title": "La Bourse de Paris recule", "body": "Le CAC 40 a perdu deux pour cent."},
        {"id": "meteo", "title": "Orages dans le Sud-Ouest",
         "body": "Météo-France place six départements en vigilance."},
        {"id": "vin", "title": "Vendanges précoces en Bourgogne", "body": "Les viticulteurs récoltent dès août."},
        {"id": "train", "title": "Grève à la SNCF", "body": "Le trafic sera perturbé jeudi sur les TGV."},
    ]
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([_news(tmp_path, records)])
        assert ids(engine.similar("vaccin"))[:1] == ["grippe"]
        assert ids(engine.similar("grippe"))[:1] == ["vaccin"]


# --- groups kept beside the index -------------------------------------------------------------------------


def _groups_files(index_dir):
    return sorted(p.name for p in index_dir.glob("*.groups*"))


def _kept_and_computed(index_dir):
    """The groups a query reads from the file beside the index, and those the keys give."""
    with SearchEngine(index_dir) as engine:
        snapshot = engine._current()
        kept = stored_groups(index_dir, INDEX_NAME, snapshot.searcher)
        computed = load_groups(snapshot.searcher, snapshot.arrays.live)
    assert kept is not None
    return (kept.group.tolist(), kept.grouped.tolist()), (computed.group.tolist(), computed.grouped.tolist())


def test_each_commit_keeps_the_groups_its_keys_give_after_index_update_and_removal(tmp_path, runner):
    records = police_records()
    news = _news(tmp_path, records)
    index_dir = tmp_path / "ix"
    with SearchEngine(index_dir) as engine:
        engine.index([news])
    assert _groups_files(index_dir) == ["_newsearch_0.groups"]
    kept, computed = _kept_and_computed(index_dir)
    assert kept == computed and kept[1] == [True, True, True, False]
    # An update brings one more copy; then the story and the update go: the copy is alone.
    copy = {**records[0], "id": "again", "title": "Rambouillet : un policier tué"}
    news.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [*records, copy]), encoding="utf-8")
    with SearchEngine(index_dir) as engine:
        engine.index([news])
    assert _groups_files(index_dir) == ["_newsearch_1.groups"]
    kept, computed = _kept_and_computed(index_dir)
    assert kept == computed and sum(kept[1]) == 4
    assert query(runner, index_dir, "policier", "tué").stdout.splitlines()[0] == (
        "2 articles match 'policier tué' (showing 1-2), and 3 duplicates folded into them")
    news.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [records[1], records[3]]),
                    encoding="utf-8")
    with SearchEngine(index_dir) as engine:
        engine.index([news])
    assert _groups_files(index_dir) == ["_newsearch_2.groups"]
    kept, computed = _kept_and_computed(index_dir)
    assert kept == computed and not any(kept[1])
    assert query(runner, index_dir, "policier", "tué").stdout.splitlines()[0] == (
        "2 articles match 'policier tué' (showing 1-2)")


def test_a_query_reads_the_groups_kept_beside_the_index_not_every_articles_keys(police, runner, monkeypatch):
    from searchengine import engine

    def computed(*args):
        raise AssertionError("the groups were computed from the keys")

    monkeypatch.setattr(engine, "load_groups", computed)
    result = query(runner, police, "policier", "tué")
    assert result.exit_code == 0, result.output
    assert "and 2 duplicates folded into them" in result.stdout.splitlines()[0]


def test_without_its_groups_file_or_with_a_damaged_one_an_index_folds_as_before(police, runner):
    """An index written by older code has no groups file: its queries compute
    the groups, and its next commit writes the file. A damaged file is
    named by ``info --check``, and queries compute the groups meanwhile."""
    before = query(runner, police, "policier", "tué")
    (kept,) = police.glob("*.groups")
    kept.unlink()
    assert query(runner, police, "policier", "tué").stdout == before.stdout
    with SearchEngine(police) as engine:
        engine.index([police.parent / "news.jsonl"])
    (kept,) = police.glob("*.groups")
    before = query(runner, police, "policier", "tué")
    data = bytearray(kept.read_bytes())
    data[-12] ^= 0xFF
    kept.write_bytes(bytes(data))
    assert query(runner, police, "policier", "tué").stdout == before.stdout
    result = runner.invoke(cli, ["info", "--check", "--index-dir", str(police)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot open the index in {police}") and kept.name in result.stderr
    assert len(result.stderr.splitlines()) == 1


# --- older indexes ----------------------------------------------------------------------------------------


def test_an_index_built_without_duplicate_keys_searches_and_updates_without_folding(tmp_path, monkeypatch, runner):
    from searchengine import indexing

    plain = indexing.make_schema

    def older_schema(analyzer=None):
        schema = plain(analyzer)
        schema.remove("dupkeys")
        return schema

    monkeypatch.setattr(indexing, "make_schema", older_schema)
    records = police_records()
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([_news(tmp_path, records[:3])])
    monkeypatch.setattr(indexing, "make_schema", plain)
    with SearchEngine(tmp_path / "ix") as engine:
        report = engine.index([_news(tmp_path, records)])
        assert (report.added, report.failed) == (1, 0)
    result = query(runner, tmp_path / "ix", "policier", "tué")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "4 articles match 'policier tué' (showing 1-4)"
    assert "more like this" not in result.stdout
