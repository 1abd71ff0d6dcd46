"""Keeping an index in line with a collection, safely."""

import errno
import json
import multiprocessing
import os
import signal
import subprocess
import sys

import pytest
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.writing import IndexingError

from searchengine import IndexCorrupt, IndexLocked, IndexNotFound, IndexWriteError, SearchEngine, indexing
from searchengine.cli import cli
from searchengine.indexing import INDEX_NAME, open_index

from .conftest import wait_for, write_article


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




# Runs in other processes, stopped at a named point by NEWSEARCH_TEST_PAUSE (see
# searchengine.indexing): a test waits for the marker, never for a while.

NEWSEARCH = os.path.join(os.path.dirname(sys.executable), "newsearch")


def newsearch(*args, **kwargs):
    return subprocess.run([NEWSEARCH, *args], capture_output=True, text=True, **kwargs)


def paused(tmp_path, point, *args):
    """A `newsearch` run stopped at ``point``, waiting until killed or released
    (``release(proc)``)."""
    marker = tmp_path / f"paused-{point.replace(':', '-')}"
    env = {**os.environ, "NEWSEARCH_TEST_PAUSE": point, "NEWSEARCH_TEST_MARKER": str(marker)}
    # Ctrl-C's default handler in the child even where this pytest runs with SIGINT ignored (a background job).
    proc = subprocess.Popen([NEWSEARCH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    proc.marker = marker
    wait_for(lambda: marker.exists() or proc.poll() is not None, f"the run to reach {point}")
    if not marker.exists():
        pytest.fail(f"the run ended before {point}: {proc.communicate()[1]}")
    return proc


def release(proc):
    proc.marker.unlink()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, err


def big_collection(folder, count):
    folder.mkdir(parents=True, exist_ok=True)
    body = " ".join(["Le gouvernement annonce une réforme des retraites et des hôpitaux."] * 5)
    with open(folder / "big.jsonl", "w", encoding="utf-8") as fh:
        for i in range(count):
            fh.write(json.dumps({"id": str(i), "title": f"Article {i}", "body": f"{body} numéro{i}"}) + "\n")


def snapshot(folder):
    """Every file of the folder (recursively) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def uncommitted(folder):
    """Files of the index that its table of contents does not list."""
    storage = FileStorage(str(folder))
    toc = TOC.read(storage, INDEX_NAME)
    listed = {segment.segment_id() for segment in toc.segments}
    pattern = TOC._segment_pattern(INDEX_NAME)
    return sorted(name for name in storage.list()
                  if (m := pattern.match(name)) and m.group(1) not in listed
                  or name.startswith(f"_{INDEX_NAME}_")
                  and name not in (TOC._filename(INDEX_NAME, toc.generation), f"_{INDEX_NAME}_{toc.generation}.sums",
                                   f"_{INDEX_NAME}_{toc.generation}.glued", f"_{INDEX_NAME}_{toc.generation}.groups"))


def article_count(ix):
    found = newsearch("info", "--json", "--index-dir", ix)
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout)["articles"]


def test_locked_index_from_another_process_and_wait(tmp_path, articles):
    ix = str(tmp_path / "ix")
    assert newsearch("index", str(articles), "--index-dir", ix).returncode == 0
    write_article(articles, "nouveau.txt", "Nouvel article", "Des élections en Corée.")
    holder = paused(tmp_path, "added:1", "index", str(articles), "--index-dir", ix)
    try:
        second = newsearch("index", str(articles), "--index-dir", ix)
        assert second.returncode == 2
        assert second.stderr.startswith("Error: the index in") and "being updated" in second.stderr
        assert "pass --wait SECONDS" in second.stderr and len(second.stderr.splitlines()) == 1
        during = newsearch("query", "Vladivostok", "--index-dir", ix, "--json")
        assert during.returncode == 0 and json.loads(during.stdout)["total"] == 1
        waiting = subprocess.Popen([NEWSEARCH, "index", str(articles), "--index-dir", ix, "--wait", "120"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        status, err = release(holder)
    assert status == 0, err
    assert "1 added" in err
    _, waited = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, waited
    assert "0 added, 0 updated, 4 unchanged" in waited


POINTS = ["added:100", "commit", "toc", "committed"]


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("point", POINTS)
def test_kill_9_at_any_point_leaves_the_old_or_the_new_index_and_the_next_run_completes(
        tmp_path, articles, point, jobs):
    big_collection(tmp_path / "big", 300)
    ix = str(tmp_path / "ix")
    assert newsearch("index", str(articles), "--index-dir", ix).returncode == 0
    run = ["index", "--jobs", jobs, str(articles), str(tmp_path / "big"), "--index-dir", ix]
    proc = paused(tmp_path, point, *run)
    proc.kill()
    proc.communicate()
    committed = point == "committed"
    assert article_count(ix) == (303 if committed else 3)
    found = newsearch("query", "numéro7", "--index-dir", ix, "--json")
    assert (found.returncode, json.loads(found.stdout)["total"]) == ((0, 1) if committed else (1, 0))
    assert json.loads(newsearch("query", "Vladivostok", "--index-dir", ix, "--json").stdout)["total"] == 1
    done = newsearch(*run, "--wait", "30")  # a worker may outlive its parent by a moment
    assert done.returncode == 0, done.stderr
    added = 0 if committed else 300
    assert f"{added} added, 0 updated, {303 - added} unchanged, 0 removed, 0 failed" in done.stderr
    assert article_count(ix) == 303
    assert uncommitted(tmp_path / "ix") == []


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("point", ["added:100", "commit", "toc"])
def test_a_first_build_killed_before_its_commit_leaves_no_index(tmp_path, articles, point, jobs):
    big_collection(tmp_path / "big", 300)
    ix = str(tmp_path / "ix")
    proc = paused(tmp_path, point, "index", "--jobs", jobs, str(tmp_path / "big"), "--index-dir", ix)
    proc.kill()
    proc.communicate()
    found = newsearch("query", "numéro7", "--index-dir", ix)
    assert found.returncode == 2
    assert found.stderr.startswith("Error: no index in") and "run `newsearch index`" in found.stderr
    done = newsearch("index", str(tmp_path / "big"), "--index-dir", ix, "--wait", "30")
    assert done.returncode == 0, done.stderr
    assert article_count(ix) == 300
    assert uncommitted(tmp_path / "ix") == []


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_say_so_and_leave_the_index_as_it_was(tmp_path, articles, signum, status):
    ix = tmp_path / "ix"
    assert newsearch("index", str(articles), "--index-dir", str(ix)).returncode == 0
    before = snapshot(ix)
    big_collection(tmp_path / "big", 300)
    proc = paused(tmp_path, "added:100", "index", str(articles), str(tmp_path / "big"), "--index-dir", str(ix))
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status
    assert err == "Interrupted: the index keeps its last committed state.\n"
    assert snapshot(ix) == before


class Disk:
    """How many more bytes the (simulated) disk takes; ``used`` counts them, in
    memory shared with the worker processes of ``--jobs 2``."""

    def __init__(self, free):
        self.free = free
        self._used = multiprocessing.Value("q", 0)

    @property
    def used(self):
        return self._used.value

    def take(self, size):
        with self._used.get_lock():
            if self._used.value + size > self.free:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            self._used.value += size


class _CountedFile:
    def __init__(self, fileobj, disk):
        self._file = fileobj
        self._disk = disk

    def write(self, data):
        self._disk.take(len(data))
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


class DiskStorage(FileStorage):
    """A folder on a disk that fills up: writes past ``disk.free`` bytes fail
    with ENOSPC, as on a full file system (temporary runs included)."""

    def __init__(self, path, disk):
        super().__init__(path, supports_mmap=False)
        self.disk = disk

    def create_file(self, name, **kwargs):
        f = super().create_file(name, **kwargs)
        f.file = _CountedFile(f.file, self.disk)
        return f

    def temp_storage(self, name=None):
        return DiskStorage(super().temp_storage(name).folder, self.disk)


def on_disk(monkeypatch, disk):
    monkeypatch.setattr(indexing, "_storage", lambda path: DiskStorage(str(path), disk))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_full_disk_leaves_the_last_commit_and_the_next_run_succeeds(tmp_path, articles, monkeypatch, jobs):
    ix = tmp_path / "ix"
    with SearchEngine(ix) as engine:
        engine.index([articles])
    committed = snapshot(ix)
    big_collection(tmp_path / "big", 200)
    write_article(articles, "meteo.txt", "Un été très chaud", "Canicule et sécheresse en 2023.")
    measure = tmp_path / "measure"
    measure.mkdir()
    for name, data in committed.items():
        (measure / name).write_bytes(data)
    needed = Disk(2**62)
    on_disk(monkeypatch, needed)
    SearchEngine(measure).index([articles, tmp_path / "big"], jobs=jobs)
    assert needed.used > 10_000
    failures = set()
    report = None
    # Up to twice what one run took: with --jobs 2, how the articles fall between
    # the processes changes what a run writes, and so what it needs.
    for free in range(0, 2 * needed.used, needed.used // 12):
        on_disk(monkeypatch, Disk(free))
        try:
            report = SearchEngine(ix).index([articles, tmp_path / "big"], jobs=jobs)
        except IndexWriteError as exc:
            assert "No space left on device" in str(exc) and str(ix) in str(exc)
            assert snapshot(ix) == committed, f"files left behind with {free} bytes free"
            failures.add(free)
            continue
        break
    assert len(failures) >= 10 and report is not None, "no run succeeded with twice the space one run took"
    assert (report.added, report.updated, report.unchanged) == (200, 1, 2)
    with SearchEngine(ix) as engine:
        assert engine.search("canicule").total == 1 and engine.info().articles == 203
    assert uncommitted(ix) == []


def test_a_full_disk_is_one_error_line_from_the_cli(runner, tmp_path, articles, monkeypatch):
    ix = tmp_path / "ix"
    assert runner.invoke(cli, ["index", str(articles), "--index-dir", str(ix)]).exit_code == 0
    committed = snapshot(ix)
    write_article(articles, "nouveau.txt", "Nouvel article", "Des élections en Corée.")
    on_disk(monkeypatch, Disk(100))
    result = runner.invoke(cli, ["index", str(articles), "--index-dir", str(ix)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot update the index in {ix}: No space left on device\n"
    assert snapshot(ix) == committed


class ReadOnlyStorage(FileStorage):
    """A folder on a read-only file system."""

    def create_file(self, name, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(self.folder, name))

    def temp_storage(self, name=None):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.path.join(self.folder, name or "tmp"))


def test_an_index_folder_that_cannot_be_written_is_one_error_line(runner, tmp_path, articles, monkeypatch):
    ix = tmp_path / "ix"
    assert runner.invoke(cli, ["index", str(articles), "--index-dir", str(ix)]).exit_code == 0
    committed = snapshot(ix)
    write_article(articles, "nouveau.txt", "Nouvel article", "Des élections en Corée.")
    modes = {p: p.stat().st_mode for p in [ix, *ix.iterdir()]}
    for p in modes:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        try:
            (ix / "probe").touch()
        except PermissionError:
            expected = "Permission denied"
        else:  # root, as in CI, writes anyway: a read-only file system refuses root too
            (ix / "probe").unlink()
            monkeypatch.setattr(indexing, "_storage", lambda path: ReadOnlyStorage(str(path)))
            expected = "Read-only file system"
        result = runner.invoke(cli, ["index", str(articles), "--index-dir", str(ix)])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"Error: cannot update the index in {ix}: {expected}")
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output
        assert snapshot(ix) == committed
        monkeypatch.undo()
        found = runner.invoke(cli, ["query", "Vladivostok", "--index-dir", str(ix)])
        assert found.exit_code == 0
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def test_a_file_where_the_index_folder_should_be(runner, tmp_path, articles):
    ix = tmp_path / "ix"
    ix.write_text("not an index")
    with pytest.raises(IndexWriteError, match="it is a file, not a folder"):
        SearchEngine(ix).index([articles])
    result = runner.invoke(cli, ["index", str(articles), "--index-dir", str(ix)])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert ix.read_text() == "not an index"


def test_a_failed_writer_is_an_index_write_error(tmp_path, articles, monkeypatch):
    from searchengine import fastwriter

    def fail(self, *args, **kwargs):
        raise IndexingError("an indexing worker failed: MemoryError")

    monkeypatch.setattr(fastwriter.FastWriter, "commit", fail)
    with pytest.raises(IndexWriteError, match="an indexing worker failed"):
        SearchEngine(tmp_path / "ix").index([articles])
    assert not (tmp_path / "ix").exists() or not any(indexing._own_file(p.name)
                                                        for p in (tmp_path / "ix").iterdir())


def damage(folder, how):
    if how == "junk toc":
        for toc in folder.glob("*.toc"):
            toc.write_bytes(b"junk")
    elif how == "empty toc":
        for toc in folder.glob("*.toc"):
            toc.write_bytes(b"")
    elif how == "missing segments":
        for segment in folder.glob(f"{INDEX_NAME}_*.seg"):
            segment.unlink()
    elif how == "empty folder":
        for path in folder.iterdir():
            path.unlink()


@pytest.mark.parametrize("how", ["junk toc", "empty toc", "missing segments", "empty folder"])
def test_rebuild_works_whatever_state_the_old_index_is_in(runner, tmp_path, articles, how):
    ix = tmp_path / "ix"
    assert runner.invoke(cli, ["index", str(articles), "--index-dir", str(ix)]).exit_code == 0
    damage(ix, how)
    strangers = {"notes.txt": b"mine", f"{INDEX_NAME}-backup.tar": b"also mine", "sub/x.toc": b"mine too"}
    for name, data in strangers.items():
        (ix / name).parent.mkdir(exist_ok=True)
        (ix / name).write_bytes(data)
    if how != "empty folder":
        broken = runner.invoke(cli, ["index", str(articles), "--index-dir", str(ix)])
        assert broken.exit_code == 2
        assert broken.stderr.startswith(f"Error: cannot open the index in {ix}")
        assert broken.stderr.rstrip().endswith("run `newsearch index --rebuild PATHS...` to build it again")
    result = runner.invoke(cli, ["index", "--rebuild", str(articles), "--index-dir", str(ix)])
    assert result.exit_code == 0, result.stderr
    assert "3 added, 0 updated, 0 unchanged, 0 removed, 0 failed" in result.stderr
    found = runner.invoke(cli, ["query", "Vladivostok", "--index-dir", str(ix), "--json"])
    assert json.loads(found.stdout)["total"] == 1
    for name, data in strangers.items():
        assert (ix / name).read_bytes() == data
    assert uncommitted(ix) == []


def test_a_segment_failing_without_a_message_is_named_by_its_error(tmp_path, articles, monkeypatch):
    """A damaged segment may fail with an exception that has no message (a
    truncated pickle's EOFError): the error then says which it was."""
    engine = SearchEngine(tmp_path / "ix")
    engine.index([articles])

    def truncated(*args, **kwargs):
        raise EOFError

    monkeypatch.setattr(indexing, "segment_column", truncated)
    with pytest.raises(IndexCorrupt, match="a segment cannot be read: EOFError$"):
        engine.index([articles])


def test_library_messages_say_what_is_wrong_and_the_cli_what_to_do(tmp_path, articles):
    messages = [str(IndexNotFound(tmp_path)), str(IndexLocked(tmp_path)), str(IndexCorrupt(tmp_path, "junk")),
                str(IndexWriteError(tmp_path, "No space left on device"))]
    for message in messages:
        assert "newsearch" not in message and "--" not in message and str(tmp_path) in message


def test_an_article_that_cannot_be_written_costs_itself_only(runner, tmp_path, articles, monkeypatch):
    from searchengine import fastwriter

    ix = str(tmp_path / "ix")
    assert runner.invoke(cli, ["index", str(articles), "--index-dir", ix]).exit_code == 0
    add = fastwriter.FastWriter.add_document

    def refuse_sommet(self, **doc):
        if "sommet" in doc["key"]:
            raise RuntimeError("Whoosh cannot take this one")
        add(self, **doc)

    monkeypatch.setattr(fastwriter.FastWriter, "add_document", refuse_sommet)
    write_article(articles, "sommet.txt", "Sommet à Vladivostok", "Texte changé sur la Corée.")
    write_article(articles, "nouveau.txt", "Nouvel article", "Des élections en Corée.")
    result = runner.invoke(cli, ["index", str(articles), "--index-dir", ix])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"skipped {articles / 'sommet.txt'}: cannot be indexed: Whoosh cannot take this one"
    assert "1 added, 0 updated, 2 unchanged, 0 removed, 1 failed" in lines[1] and len(lines) == 2
    monkeypatch.undo()
    with SearchEngine(ix) as engine:  # the old version stays until the new one can be written
        assert engine.search("Poutine").total == 1 and engine.search("élections").total == 1


def test_text_whoosh_cannot_encode_is_refused_for_that_article(tmp_path):
    from searchengine.articles import Article

    article = Article(id="x", title="Titre", body="Un texte \ud800 cassé", path="x.json", record="x")
    with pytest.raises(ValueError, match="its body holds U\\+D800 at character 10, a lone surrogate"):
        indexing._document(article, "x.json\x1fx", article.fingerprint, "")


def test_file_names_that_are_not_utf8_are_indexed_and_recognised(runner, tmp_path, articles):
    ix = str(tmp_path / "ix")
    odd = os.path.join(os.fsencode(articles), b"caf\xe9.txt")
    with open(odd, "w", encoding="utf-8") as fh:
        fh.write("Le café du coin\n\nUn bistrot parisien ferme ses portes.\n")
    first = runner.invoke(cli, ["index", str(articles), "--index-dir", ix])
    assert first.exit_code == 0, first.stderr
    assert "4 added, 0 updated, 0 unchanged, 0 removed, 0 failed" in first.stderr
    found = runner.invoke(cli, ["query", "bistrot", "--index-dir", ix, "--json"])
    assert json.loads(found.stdout)["hits"][0]["path"].endswith("caf\\xe9.txt")
    again = runner.invoke(cli, ["index", str(articles), "--index-dir", ix])
    assert "0 added, 0 updated, 4 unchanged, 0 removed, 0 failed" in again.stderr
    os.remove(odd)
    gone = runner.invoke(cli, ["index", str(articles), "--index-dir", ix])
    assert "0 added, 0 updated, 3 unchanged, 1 removed, 0 failed" in gone.stderr


def test_incremental_runs_never_merge_big_segments(tmp_path, monkeypatch):
    """An archive grown in pieces: Whoosh's own policy would merge all ten big
    segments into one on the second small update, rewriting the whole index."""
    monkeypatch.setattr(indexing, "MERGE_MAX_DOCS", 50)
    pieces = []
    for number in range(10):
        big_collection(tmp_path / f"piece{number}", 60)
        pieces.append(tmp_path / f"piece{number}")
    news = tmp_path / "news"
    with SearchEngine(tmp_path / "ix") as engine:
        for number in range(10):
            engine.index(pieces[:number + 1])
        big = {s.segment_id() for s in open_index(tmp_path / "ix")._segments()}
        assert len(big) == 10
        for i in range(25):
            write_article(news, f"{i}.txt", f"Dépêche {i}", f"Texte numéro{i}.")
            assert engine.index([*pieces, news]).added == 1
            segments = {s.segment_id() for s in open_index(tmp_path / "ix")._segments()}
            assert big <= segments, f"big segments merged at run {i + 1}"
            assert len(segments - big) <= indexing.MERGE_FACTOR + 2
        assert engine.info().articles == 625
        engine.index([*pieces, news], rebuild=True)
        assert len(open_index(tmp_path / "ix")._segments()) == 1
