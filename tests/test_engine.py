"""SearchEngine as embedders use it: filters, sort, similar articles, input checks, threads."""

import datetime as dt
import json
import subprocess
import sys
import threading

import pytest

from searchengine import ArticleNotFound, IndexCorrupt, SearchEngine

from .conftest import ids, wait_for


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
    with pytest.raises(ValueError, match="since"):
        news.search("Poutine", since="hier")


def test_similar_articles_exclude_the_article_itself(news):
    results = news.similar("kim")
    assert "kim" not in ids(results)
    assert ids(results)[0] in {"kim-only", "putin"}
    with pytest.raises(ArticleNotFound):
        news.similar("nope")



def test_a_string_or_pathlike_is_one_path(tmp_path, articles, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SearchEngine(tmp_path / "ix") as engine:
        report = engine.index(str(articles))
        assert report.added == 3 and report.failed == 0
        assert engine.index(articles).unchanged == 3


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda e: e.similar(2114), TypeError, "article_id must be a string"),
    (lambda e: e.search(None), TypeError, "query must be a string"),
    (lambda e: e.search("Poutine", fragments=0), ValueError, "fragments must be at least 1"),
    (lambda e: e.search("Poutine", limit="10"), TypeError, "limit must be an integer"),
    (lambda e: e.search("Poutine", page=0), ValueError, "page must be at least 1"),
    (lambda e: e.search("Poutine", sort="newest"), ValueError, "sort must be"),
    (lambda e: e.search("Poutine", since=2023), TypeError, "since must be a date"),
    (lambda e: e.index(["x"], fields={"titel": "headline"}), ValueError, "unknown field 'titel'"),
    (lambda e: e.index([3]), TypeError, "paths must be paths"),
])
def test_bad_arguments_raise_type_or_value_errors(engine, call, error, message):
    with pytest.raises(error, match=message):
        call(engine)


def test_the_same_id_in_two_files_gives_two_reachable_articles(tmp_path):
    for name, title in (("a", "Sommet à Vladivostok"), ("b", "Poutine à Pékin")):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"id": "1", "title": title, "body": f"{title}, Poutine."}),
                                                encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
        found = {h.id: h.title for h in engine.search("Poutine")}
        assert found == {f"{tmp_path / 'a.jsonl'}#1": "Sommet à Vladivostok",
                         f"{tmp_path / 'b.jsonl'}#1": "Poutine à Pékin"}
        for article_id, title in found.items():
            assert [h.title for h in engine.similar(article_id)] == [t for t in found.values() if t != title]
        with pytest.raises(ArticleNotFound, match="2 articles have the id '1'"):
            engine.similar("1")


def test_one_engine_shared_by_threads_while_another_process_commits(tmp_path):
    """8 threads query one engine while a writer process keeps adding and
    removing a file, rebuilding now and then: no exception, and every answer is the serial answer of
    one of the two contents the index alternates between."""
    folder = tmp_path / "news"
    folder.mkdir()
    for n in range(60):
        (folder / f"{n:02}.txt").write_text(
            f"Dépêche {n}\nVladimir Poutine et Kim Jong-un à Vladivostok, numéro {n}. "
            + "La réforme des retraites divise. " * (n % 4) + ("Le nucléaire iranien. " if n % 3 else ""),
            encoding="utf-8")
    extra = tmp_path / "extra.txt"
    extra_text = "Extra\nPoutine, Vladivostok et la réforme nucléaire, encore une fois.\n"
    queries = ["Poutinne", "Vladivostock nucléaire", '"réforme des retraites"', "nucl*", "Poutine Kim",
               "Putin OR Macron", "retraites -nucléaire", "Vladivostok"]
    index = tmp_path / "ix"

    def answer(engine, query):
        results = engine.search(query, limit=1000)
        return results.total, frozenset(h.id for h in results)

    expected = {}
    with SearchEngine(index) as engine:
        for present in (False, True):
            if present:
                extra.write_text(extra_text, encoding="utf-8")
            elif extra.exists():
                extra.unlink()
            engine.index([folder, extra] if present else [folder])
            for query in queries:
                expected.setdefault(query, set()).add(answer(engine, query))
    marker, stop = tmp_path / "commits", tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(index), str(folder), str(extra), extra_text,
                               str(marker), str(stop)])
    try:
        wait_for(lambda: marker.exists() and int(marker.read_text() or 0) >= 1, "the writer's first commit")
        shared = SearchEngine(index)
        errors, mismatches = [], []
        barrier = threading.Barrier(8)
        start = int(marker.read_text())

        def work(n):
            barrier.wait()
            rounds = 0
            while rounds < 400 and (rounds < 20 or int(marker.read_text() or 0) < start + 3):
                query = queries[(n + rounds) % len(queries)]
                try:
                    got = answer(shared, query)
                except Exception as exc:  # noqa: BLE001 - every failure is the finding
                    errors.append(f"{query}: {type(exc).__name__}: {exc}")
                else:
                    if got not in expected[query]:
                        mismatches.append((query, got))
                rounds += 1

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert mismatches == []
        assert int(marker.read_text()) >= start + 3
    finally:
        stop.write_text("stop")
        writer.wait(timeout=120)


WRITER = """
import pathlib, sys
from searchengine import SearchEngine
index, folder, extra, text, marker, stop = sys.argv[1:]
extra, marker, stop = pathlib.Path(extra), pathlib.Path(marker), pathlib.Path(stop)
with SearchEngine(index) as engine:
    for n in range(1, 500):
        if stop.exists():
            break
        if n % 2:
            extra.unlink(missing_ok=True)
        else:
            extra.write_text(text, encoding="utf-8")
        # Every third commit rebuilds: the old segments' files are deleted under running queries.
        engine.index([folder, extra] if extra.exists() else [folder], wait=30, rebuild=n % 3 == 0)
        # Written aside and renamed, so that a reader never sees it half written.
        marker.with_suffix(".new").write_text(str(n))
        marker.with_suffix(".new").replace(marker)
"""



def test_an_article_whole_with_a_querys_words_marked(news):
    view = news.article("kim", highlight="missiles Poutine")
    article = view.article
    assert (article.id, article.source, article.date) == ("kim", "AFP", dt.date(2019, 4, 25))
    assert article.body.startswith("Le sommet de Vladivostok")
    assert [article.body[s:e] for s, e in view.highlights["body"]] == ["Poutine", "missiles"]
    assert [article.title[s:e] for s, e in view.highlights["title"]] == ["Poutine"]
    assert news.article("kim").highlights == {}
    with pytest.raises(ArticleNotFound):
        news.article("nope")


def test_damaged_index_files_are_reported_as_damage(tmp_path, articles):
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([articles])
    for segment in (tmp_path / "ix").glob("*.seg"):
        data = bytearray(segment.read_bytes())
        data[len(data) // 10:len(data) * 9 // 10] = bytes(len(data) * 8 // 10)
        segment.write_bytes(bytes(data))
    with SearchEngine(tmp_path / "ix") as engine, pytest.raises(IndexCorrupt):
        for query in ("hôpitaux", "grève", "Poutine", "été", "sal*", "salaires chaleur"):
            engine.search(query)


def test_a_bug_is_not_disguised_as_damage(engine, monkeypatch):
    from searchengine import ranking

    def broken(*args, **kwargs):
        raise ValueError("a bug in ranking")

    monkeypatch.setattr(ranking, "_first_pass", broken)
    with pytest.raises(ValueError, match="a bug in ranking"):
        engine.search("Poutine")


def test_a_score_list_directory_with_a_wrong_value_is_no_score_list(tmp_path, monkeypatch):
    """A byte of the score lists' directory changed among the lists' values (a
    changed width of gaps traced back from NumPy in the pickled directory of
    the layout before): its CRC-32 no longer matches, so the segment is read
    from its W3 blocks, with the same hits."""
    from searchengine import scorelists

    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 16)
    records = [{"id": f"a{i}", "title": f"Article {i}", "body": "La grève continue ici."} for i in range(40)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        expected = [h.id for h in engine.search("grève", limit=60)]
        (lists,) = engine._current().arrays.score_lists()
        values = lists.source.get(0, 1 << 30)[-scorelists._FOOTER.size - 40:-scorelists._FOOTER.size]
    (holder,) = [p for p in (tmp_path / "ix").iterdir() if p.is_file() and p.read_bytes().count(values) == 1]
    holder.write_bytes(holder.read_bytes().replace(values, values[:-5] + bytes([values[-5] ^ 0x02]) + values[-4:]))
    with SearchEngine(tmp_path / "ix") as engine:
        assert engine._current().arrays.score_lists() == [None]
        assert [h.id for h in engine.search("grève", limit=60)] == expected
