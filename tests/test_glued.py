"""Glued words (issue 14, point 4): ``Poutinecomme`` found and highlighted by ``Poutine``."""

import json
import shutil
from pathlib import Path

import pytest

from searchengine import SearchEngine
from searchengine.analysis import FrenchAnalyzer
from searchengine.cli import cli
from searchengine.errors import IndexCorrupt
from searchengine.glued import find_glued

from .conftest import SEEDS, write_article

SEED = "000_aa2ef83bf32b1372.txt"


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    """The seed (``Poutinecomme``, ``Vladivostokdans``), four articles that
    make its words well known, and one whose only ``Vladivostok`` is glued."""
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEEDS / SEED, folder / SEED)
    for n in range(4):
        write_article(folder, f"sommet{n}.txt", f"Sommet numéro {n}",
                      "Vladimir Poutine a reçu ses invités à Vladivostok, comme chaque année, "
                      "dans la ville portuaire. La semaine dernière, le président russe était à Moscou.")
    write_article(folder, "train.txt", "Le train blindé", "Le convoi est arrivé à Vladivostokdans la nuit de lundi.")
    return folder


@pytest.fixture
def glued_engine(tmp_path: Path, collection: Path) -> SearchEngine:
    with SearchEngine(tmp_path / "index") as engine:
        engine.index([collection])
        yield engine


def marked(text: str, ranges) -> list[str]:
    return [text[s:e] for s, e in ranges]


def test_a_glued_word_is_found_by_its_first_part_and_only_that_part_is_highlighted(glued_engine):
    results = glued_engine.search("Vladivostok", limit=10)
    hits = {Path(h.path).name: h for h in results}
    assert "train.txt" in hits
    hit = hits["train.txt"]
    assert marked(hit.snippet, hit.highlights) == ["Vladivostok"]
    assert "Vladivostokdans" in hit.snippet


def test_the_seed_highlights_poutine_inside_poutinecomme(glued_engine, collection):
    view = glued_engine.article(str(collection / SEED), highlight="Poutine")
    body = view.article.body
    start = body.index("Poutinecomme")
    assert (start, start + len("Poutine")) in view.highlights["body"]


def test_a_glued_word_is_found_by_its_second_part_too(glued_engine):
    results = glued_engine.search("Vladivostokdans")  # the glued word itself still finds it
    assert any(Path(h.path).name == "train.txt" for h in results)
    view = glued_engine.article(next(h.id for h in glued_engine.search("Vladivostok")
                                     if Path(h.path).name == "train.txt"), highlight="dans")
    body = view.article.body
    start = body.index("Vladivostokdans") + len("Vladivostok")
    assert (start, start + len("dans")) in view.highlights["body"]


def test_a_phrase_ending_with_the_first_part_matches_the_glued_word(glued_engine):
    results = glued_engine.search('"arrivé à Vladivostok"')
    assert [Path(h.path).name for h in results] == ["train.txt"]
    hit = results.hits[0]
    assert marked(hit.snippet, hit.highlights) == ["arrivé à Vladivostok"]


def test_a_glued_word_ranks_below_an_article_with_the_word_itself(glued_engine):
    names = [Path(h.path).name for h in glued_engine.search("Vladivostok", limit=10)]
    assert names.index("train.txt") > 0


def test_the_index_keeps_the_glued_words_it_found_beside_it(glued_engine, tmp_path):
    (name,) = glued_files(tmp_path / "index")
    line = (tmp_path / "index" / name).read_text(encoding="utf-8").splitlines()[0]
    glued = json.loads(line)["glued"]
    assert glued["poutinecomm"] == [7, "poutin", "comm"]
    assert glued["vladivostokdan"] == [11, "vladivostok", "dan"]
    # ``Oussouriiskce``: ``ce`` is common, but ``Oussouriisk`` is no word of the collection.
    assert "oussouriiskce" not in glued


def test_cli_query_highlights_the_part_in_the_glued_word(runner, tmp_path, collection):
    ix = str(tmp_path / "ix")
    assert runner.invoke(cli, ["index", str(collection), "--index-dir", ix]).exit_code == 0
    result = runner.invoke(cli, ["query", "Vladivostok", "--index-dir", ix, "--color", "never", "--limit", "10"])
    assert result.exit_code == 0
    assert "**Vladivostok**dans" in result.stdout
    shown = runner.invoke(cli, ["show", str(collection / SEED), "--index-dir", ix, "--highlight", "Poutine",
                                "--color", "never"])
    assert shown.exit_code == 0
    assert "**Poutine**comme" in shown.stdout


def glued_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".glued"))


def test_the_glued_file_goes_with_its_generation(tmp_path, collection):
    index = tmp_path / "index"
    with SearchEngine(index) as engine:
        engine.index([collection])
        first = glued_files(index)
        write_article(collection, "autre.txt", "Autre", "Une dépêche de plus.")
        engine.index([collection])
        second = glued_files(index)
        assert len(first) == len(second) == 1 and first != second
        engine.index([collection], rebuild=True)
        assert len(glued_files(index)) == 1
        assert any(Path(h.path).name == "train.txt" for h in engine.search("Vladivostok"))


def test_a_damaged_glued_file_turns_the_feature_off_and_check_names_it(runner, tmp_path, collection):
    index = tmp_path / "index"
    with SearchEngine(index) as engine:
        engine.index([collection])
    (name,) = glued_files(index)
    data = (index / name).read_bytes()
    (index / name).write_bytes(data.replace(b"vladivostokdan", b"vladivostokdax"))
    with SearchEngine(index) as engine:
        assert not any(Path(h.path).name == "train.txt" for h in engine.search("Vladivostok"))
        with pytest.raises(IndexCorrupt, match=name):
            engine.check()
    result = runner.invoke(cli, ["info", "--check", "--index-dir", str(index)])
    assert result.exit_code == 2
    assert name in result.output and "Traceback" not in result.output


def test_an_index_without_the_file_searches_as_before_until_its_next_commit(tmp_path, collection):
    index = tmp_path / "index"
    with SearchEngine(index) as engine:
        engine.index([collection])
    for name in glued_files(index):
        (index / name).unlink()
    with SearchEngine(index) as engine:
        results = engine.search("Vladivostok", collapse=False)  # some of the collection are near duplicates
        assert results.total == 5
        assert not any(Path(h.path).name == "train.txt" for h in results)
        assert engine.check().verified
        assert engine.index([collection]).unchanged == 6
        assert any(Path(h.path).name == "train.txt" for h in engine.search("Vladivostok"))


@pytest.mark.parametrize(("term", "expected"), [
    ("poutinecomm", ("poutin", "comm")),  # a name and the next word
    ("parentsil", ("parent", "il")),  # a two-letter word that starts a clause
    ("campbon", None),  # a head of four letters: mostly names (Campbon)
    ("antiisrael", None),  # a compound with a prefix
    ("programmeur", None),  # a word and a suffix
    ("mallarm", None),  # a head shorter than four letters
])
def test_which_rare_terms_split(term, expected):
    common = {"poutin": 500, "comm": 5000, "parent": 300, "il": 9000, "camp": 900, "bon": 4000, "anti": 400,
              "israel": 600, "programm": 700, "eur": 300, "mal": 2000, "larm": 300}
    analyzer = FrenchAnalyzer()
    frequencies = {**common, term: 1}
    found = find_glued(frequencies, lambda t: frequencies.get(t, 0), 36_000, lambda word: analyzer.terms(word)[0],
                       analyzer.stop_words)
    assert {g.term: (g.head, g.tail) for g in found}.get(term) == expected


def test_json_highlights_cover_the_part_only(runner, tmp_path, collection):
    ix = str(tmp_path / "ix")
    runner.invoke(cli, ["index", str(collection), "--index-dir", ix])
    result = runner.invoke(cli, ["query", "Vladivostok", "--index-dir", ix, "--json", "--limit", "10"])
    doc = json.loads(result.stdout)
    (hit,) = [h for h in doc["hits"] if h["path"].endswith("train.txt")]
    assert [hit["snippet"][s:e] for s, e in hit["highlights"]] == ["Vladivostok"]


def glued_terms(folder: Path) -> dict:
    (name,) = glued_files(folder)
    return json.loads((folder / name).read_text(encoding="utf-8").splitlines()[0])["glued"]


def test_a_small_update_finds_the_glued_words_a_whole_pass_finds(tmp_path, collection):
    for n in range(10):
        write_article(collection, f"breve{n}.txt", f"Brève {n}", "Une courte dépêche sans rapport.")
    index = tmp_path / "index"
    with SearchEngine(index) as engine:
        engine.index([collection])
        assert "vladivostokdan" in glued_terms(index)
        write_article(collection, "cadeau.txt", "Cadeau", "Un cadeau pour Vladimir Poutinedans la soirée.")
        assert engine.index([collection]).added == 1
        updated = glued_terms(index)
        assert {"poutinedan", "poutinecomm", "vladivostokdan"} <= set(updated)
        assert any(Path(h.path).name == "cadeau.txt" for h in engine.search("Poutine", limit=20))
        engine.index([collection], rebuild=True)
        assert glued_terms(index) == updated


def test_a_search_opened_before_the_file_was_written_uses_it_once_it_is(tmp_path, collection):
    index = tmp_path / "index"
    with SearchEngine(index) as engine:
        engine.index([collection])
    (name,) = glued_files(index)
    saved = (index / name).read_bytes()
    (index / name).unlink()
    with SearchEngine(index) as engine:
        assert not any(Path(h.path).name == "train.txt" for h in engine.search("Vladivostok"))
        (index / name).write_bytes(saved)  # as the indexer does, just after its commit
        assert any(Path(h.path).name == "train.txt" for h in engine.search("Vladivostok"))


def test_a_glued_file_of_the_wrong_shape_with_its_checksum_turns_the_feature_off(runner, tmp_path, collection):
    """A file whose checksum matches but whose table is a list (hand-edited, or
    written by a faulty version) traced back with AttributeError, in queries
    and in ``info --check``: it is a damaged file like any other."""
    import zlib

    index = tmp_path / "index"
    with SearchEngine(index) as engine:
        engine.index([collection])
    (name,) = glued_files(index)
    data = json.loads((index / name).read_bytes().splitlines()[0])
    line = json.dumps({**data, "glued": list(data["glued"])}).encode()
    (index / name).write_bytes(line + b"\n%08x\n" % zlib.crc32(line))
    with SearchEngine(index) as engine:
        assert not any(Path(h.path).name == "train.txt" for h in engine.search("Vladivostok"))
        with pytest.raises(IndexCorrupt, match=name):
            engine.check()
    result = runner.invoke(cli, ["info", "--check", "--index-dir", str(index)])
    assert result.exit_code == 2
    assert name in result.output and "Traceback" not in result.output


def test_a_query_makes_only_the_glued_words_of_its_own_words(glued_engine):
    """A fresh query reads the whole file but makes the glued words of the
    words it searches only: an index of news has thousands of them."""
    import gc

    from searchengine.glued import Glued

    assert any(Path(h.path).name == "train.txt" for h in glued_engine.search("Vladivostok"))
    made = sorted(o.term for o in gc.get_objects() if isinstance(o, Glued))
    assert made == ["vladivostokdan"]
    assert "poutinecomm" in glued_terms(glued_engine.path)


def test_a_query_of_common_words_leaves_the_glued_file_unread(tmp_path, collection):
    """Words in more than ``COMMON_PART_DF`` articles get no glued
    alternatives, so a query of such words does not read the file (a fresh
    query of an archive spares parsing it whole); one with a rarer word
    reads it, and finds the glued word."""
    from searchengine.glued import COMMON_PART_DF

    for n in range(COMMON_PART_DF):
        write_article(collection, f"breve{n}.txt", f"Brève {n}", "Le président russe a parlé.")
    with SearchEngine(tmp_path / "index") as engine:
        engine.index([collection])
        assert engine.search("président russe").total > COMMON_PART_DF
        snapshot = engine._current()
        assert snapshot.glued._words is None
        assert any(Path(h.path).name == "train.txt" for h in engine.search("Vladivostok"))
        assert snapshot.glued._words is not None and len(snapshot.glued._words) > 0
