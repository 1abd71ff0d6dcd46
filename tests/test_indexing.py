"""Keeping an index in line with a collection, safely."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from searchengine import IndexLocked, SearchEngine
from searchengine.indexing import open_index

from .conftest import write_article


def titles(engine, query):
    return sorted(h.title for h in engine.search(query, limit=100))


def test_updates_removals_and_unchanged(tmp_path, articles):
    with SearchEngine(tmp_path / "ix") as engine:
        first = engine.index([articles])
        assert (first.added, first.updated, first.unchanged, first.removed, first.failed) == (3, 0, 0, 0, 0)
        write_article(articles, "meteo.txt", "Un été très chaud", "Canicule et sécheresse en 2023.")
        (articles / "hopitaux.md").unlink()
        write_article(articles, "nouveau.txt", "Nouvel article", "Des élections en Corée.")
        second = engine.index([articles])
        assert (second.added, second.updated, second.unchanged, second.removed) == (1, 1, 1, 1)
        assert titles(engine, "canicule") == ["Un été très chaud"]
        assert engine.search("hôpitaux").total == 0
        assert engine.info().articles == 3


def test_an_open_engine_sees_updates_from_itself_and_from_others(tmp_path, articles):
    with SearchEngine(tmp_path / "ix") as engine, SearchEngine(tmp_path / "ix") as reader:
        engine.index([articles])
        assert engine.search("hôpitaux").total == reader.search("hôpitaux").total == 1
        (articles / "hopitaux.md").unlink()
        write_article(articles, "meteo.txt", "Un été très chaud", "Canicule et sécheresse en 2023.")
        engine.index([articles])
        for seen in (engine, reader):
            assert seen.search("hôpitaux").total == 0
            assert titles(seen, "canicule") == ["Un été très chaud"]
            assert seen.info().articles == 2


def test_indexing_one_path_leaves_other_paths_alone(tmp_path, articles):
    other = tmp_path / "other"
    write_article(other, "x.txt", "Ailleurs", "Un article indexé à part.")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([articles])
        engine.index([other])
        report = engine.index([articles])
        assert (report.unchanged, report.removed) == (3, 0)
        assert engine.info().articles == 4


def test_unreadable_file_keeps_its_articles(tmp_path, articles):
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([articles])
        (articles / "sommet.txt").write_bytes(b"\xff\xfe broken")
        report = engine.index([articles])
        assert report.failed == 1 and report.removed == 0
        assert engine.search("Vladivostok").total == 1


def test_jsonl_records_update_one_by_one(tmp_path):
    path = tmp_path / "dump.jsonl"
    records = [{"id": str(i), "title": f"Dépêche {i}", "body": f"Texte numéro {i}"} for i in range(4)]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        assert engine.index([path]).added == 4
        records[1]["body"] = "Texte modifié"
        del records[3]
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
        report = engine.index([path])
        assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 2, 1)
        assert [h.id for h in engine.search("modifié")] == ["1"]


@pytest.mark.parametrize("bad_line", [2, 4])
def test_a_bad_record_is_reported_again_on_every_run(tmp_path, bad_line):
    lines = [json.dumps({"id": str(i), "title": f"Dépêche {i}", "body": f"Texte {i}"}) for i in range(4)]
    lines[bad_line - 1] = '{"id": "broken", "body": '
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        reports = [engine.index([path]) for _ in range(3)]
        assert [(r.added, r.unchanged, r.failed) for r in reports] == [(3, 0, 1), (0, 3, 1), (0, 3, 1)]
        assert engine.info().articles == 3
        lines[bad_line - 1] = json.dumps({"id": "fixed", "title": "Réparé", "body": "Texte réparé"})
        path.write_text("\n".join(lines), encoding="utf-8")
        fixed = engine.index([path])
        assert (fixed.added, fixed.failed) == (1, 0)
        assert engine.index([path]).unchanged == 4


def test_appending_to_a_dump_writes_only_the_new_article(tmp_path, monkeypatch):
    from searchengine import fastwriter

    written = []
    add = fastwriter.FastWriter.add_document
    monkeypatch.setattr(fastwriter.FastWriter, "add_document",
                        lambda self, **doc: written.append(doc["key"]) or add(self, **doc))
    records = [{"id": str(i), "title": f"Dépêche {i}", "body": f"Texte {i}"} for i in range(200)]
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([path])
        assert len(written) == 200
        written.clear()
        records.append({"id": "new", "title": "Nouvelle", "body": "Texte ajouté"})
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
        report = engine.index([path])
        assert (report.added, report.unchanged) == (1, 200)
        assert [k.rsplit("\x1f", 1)[1] for k in written] == ["new"]
        assert engine.index([path]).unchanged == 201
        assert engine.search("ajouté").total == 1 and engine.info().articles == 201


def test_rebuild_starts_from_scratch(tmp_path, articles):
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([articles])
        report = engine.index([articles], rebuild=True)
        assert report.added == 3 and report.unchanged == 0
        assert engine.info().articles == 3


def test_second_writer_gets_a_clear_error(tmp_path, articles):
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([articles])
    ix = open_index(tmp_path / "ix")
    writer = ix.writer()
    try:
        with pytest.raises(IndexLocked, match="being updated"):
            SearchEngine(tmp_path / "ix").index([articles])
        with SearchEngine(tmp_path / "ix") as reader:
            assert reader.search("Poutine").total == 1
    finally:
        writer.cancel()


def newsearch(*args, **kwargs):
    script = os.path.join(os.path.dirname(sys.executable), "newsearch")
    return subprocess.run([script, *args], capture_output=True, text=True, **kwargs)


def big_collection(folder, count):
    folder.mkdir(parents=True, exist_ok=True)
    body = " ".join(["Le gouvernement annonce une réforme des retraites et des hôpitaux."] * 40)
    with open(folder / "big.jsonl", "w", encoding="utf-8") as fh:
        for i in range(count):
            fh.write(json.dumps({"id": str(i), "title": f"Article {i}", "body": f"{body} numéro{i}"}) + "\n")


def test_locked_index_from_another_process_and_wait(tmp_path, articles):
    big_collection(tmp_path / "big", 15000)
    ix = str(tmp_path / "ix")
    assert newsearch("index", str(articles), "--index-dir", ix).returncode == 0
    slow = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "newsearch"), "index",
                             str(tmp_path / "big"), "--index-dir", ix],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        while not any(p.name.endswith("WRITELOCK") for p in (tmp_path / "ix").iterdir()):
            assert time.time() < deadline
            time.sleep(0.05)
        time.sleep(0.3)
        second = newsearch("index", str(articles), "--index-dir", ix)
        assert second.returncode == 2
        assert second.stderr.startswith("Error: the index in") and "being updated" in second.stderr
        during = newsearch("query", "Vladivostok", "--index-dir", ix, "--json")
        assert during.returncode == 0 and json.loads(during.stdout)["total"] == 1
        waited = newsearch("index", str(articles), "--index-dir", ix, "--wait", "120")
        assert waited.returncode == 0, waited.stderr
    finally:
        slow.wait(timeout=120)
    assert slow.returncode == 0


def test_kill_9_leaves_the_last_commit_and_the_next_run_completes(tmp_path, articles):
    big_collection(tmp_path / "big", 15000)
    ix = str(tmp_path / "ix")
    assert newsearch("index", str(articles), "--index-dir", ix).returncode == 0
    for delay in (0.3, 1.0):
        proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "newsearch"), "index",
                                 str(articles), str(tmp_path / "big"), "--index-dir", ix],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        assert proc.poll() is None, "the run ended before it could be killed: make the collection bigger"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        found = newsearch("query", "Vladivostok", "--index-dir", ix, "--json")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["total"] == 1
    done = newsearch("index", str(articles), str(tmp_path / "big"), "--index-dir", ix)
    assert done.returncode == 0, done.stderr
    assert "15000 added, 0 updated, 3 unchanged, 0 removed, 0 failed" in done.stderr
    info = json.loads(newsearch("info", "--json", "--index-dir", ix).stdout)
    assert info["articles"] == 15003
    again = newsearch("index", str(articles), str(tmp_path / "big"), "--index-dir", ix)
    assert "0 added, 0 updated, 15003 unchanged" in again.stderr


def test_parallel_jobs_write_the_same_index_and_update_it(tmp_path):
    path = tmp_path / "dump.jsonl"
    records = [{"id": str(i), "title": f"Dépêche {i}", "body": f"Texte numéro{i} sur la réforme {i % 7}"}
               for i in range(400)]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "one") as one, SearchEngine(tmp_path / "two") as two:
        assert one.index([path]).added == two.index([path], jobs=2).added == 400
        assert len(open_index(tmp_path / "two")._segments()) > 1
        for query in ("réforme", "numéro399", "dépêche 12"):
            assert sorted(h.id for h in two.search(query, limit=500)) == sorted(
                h.id for h in one.search(query, limit=500))
        for i in (0, 200, 399):  # in the parent's segment and the worker's
            records[i]["body"] = f"Texte modifié {i}"
        del records[300]
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
        report = two.index([path], jobs=2)
        assert (report.added, report.updated, report.unchanged, report.removed) == (0, 3, 396, 1)
    with SearchEngine(tmp_path / "two") as two:
        assert sorted(h.id for h in two.search("modifié")) == ["0", "200", "399"]
        assert two.search("numéro300").total == 0
        assert two.info().articles == 399


def test_kill_9_during_parallel_indexing_leaves_no_worker_holding_the_index(tmp_path, articles):
    big_collection(tmp_path / "big", 15000)
    ix = str(tmp_path / "ix")
    assert newsearch("index", str(articles), "--index-dir", ix).returncode == 0
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "newsearch"), "index", "--jobs", "2",
                             str(articles), str(tmp_path / "big"), "--index-dir", ix],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    assert proc.poll() is None, "the run ended before it could be killed: make the collection bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads(newsearch("query", "Vladivostok", "--index-dir", ix, "--json").stdout)["total"] == 1
    done = newsearch("index", "--jobs", "2", str(articles), str(tmp_path / "big"), "--index-dir", ix,
                     "--wait", "10")
    assert done.returncode == 0, done.stderr
    assert "15000 added, 0 updated, 3 unchanged, 0 removed, 0 failed" in done.stderr
