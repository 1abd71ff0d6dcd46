"""Our writer's files are Whoosh's: stock Whoosh reads them as it reads its own,
and IndexArrays reads them as stock Whoosh does. Format versions and
checksums are checked when an index is opened or verified. And no module but
whooshformat touches Whoosh's private names."""

import ast
import datetime as dt
import functools
import importlib
import inspect
import io
import json
import os
import pickle
import random
import shutil
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import whoosh
from whoosh import fields, formats
from whoosh import index as windex
from whoosh import query as wquery
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.matching import FilterMatcher
from whoosh.writing import SegmentWriter

from searchengine import SearchEngine, indexing, postingformat, whooshformat
from searchengine.analysis import fold
from searchengine.errors import IndexCorrupt, IndexNotFound, IndexWriteError, UnknownIndexFormat
from searchengine.fastwriter import FastWriter, ParallelWriter, PostingBuffer
from searchengine.indexing import INDEX_NAME, make_schema, open_index, verify_index
from searchengine.postingformat import CompactPositions
from searchengine.scoring import IndexArrays

from .generated import articles
from .test_postingformat import first_layout

TEXT_FIELDS = ("title", "lede", "body")


def documents(records):
    """The documents newsearch's indexer makes of these records, fields missing where the record has none."""
    docs = []
    for r in records:
        doc = {"key": f"gen.jsonl\x1f{r['id']}", "state": f"gen.jsonl\x1f{r['id']}\x1f{hash(r['body'])}\x1f".encode(),
               "id": r["id"], "path": "gen.jsonl", "title": r["title"], "body": r["body"]}
        if "lede" in r:
            doc["lede"] = r["lede"]
        if "date" in r:
            doc["date"] = dt.datetime.fromisoformat(r["date"])
        for name in ("source", "url", "author"):
            if name in r:
                doc[name] = r[name]
        if "source" in r:
            doc["source_id"] = fold(r["source"])
        docs.append(doc)
    return docs


RECORDS = articles(320)
DOCS = documents(RECORDS)
FIRST, SECOND = DOCS[:250], DOCS[250:]
REPLACED = [dict(d, body=d["body"] + " Une correction : le ministre a démenti.") for d in DOCS[10:40:3]]


def build(folder: Path, make_writer, optimize=False, schema=None):
    """Two commits, the second replacing a few documents and adding others
    (two segments and deletions), and maybe a third merging everything."""
    folder.mkdir(parents=True, exist_ok=True)
    ix = windex.create_in(str(folder), schema or make_schema(), indexname=INDEX_NAME)
    writer = make_writer(ix)
    for doc in FIRST:
        writer.add_document(**doc)
    writer.commit()
    ix = open_index(folder)
    writer = make_writer(ix)
    with ix.reader() as reader:
        ids = list(reader.column_reader("id"))  # ids have no terms: a column, and an id table per segment
        for doc in REPLACED:
            writer.delete_document(ids.index(doc["id"]))
    for doc in REPLACED + SECOND:
        writer.add_document(**doc)
    writer.commit(merge=False)
    if optimize:
        writer = make_writer(open_index(folder))
        writer.commit(optimize=True)
    return folder


def contents(folder: Path, blocks: bool = True):
    """Everything stock Whoosh's own reader sees in the index at ``folder``:
    each term's postings (document, weight, value, and block statistics unless
    ``blocks`` is false) and statistics in each segment, stored fields, field
    lengths and columns."""
    ix = windex.open_dir(str(folder), indexname=INDEX_NAME)
    with ix.reader() as reader:
        terms = {}
        for leaf, offset in reader.leaf_readers():
            for fieldname, term in leaf.all_terms():
                info = leaf.term_info(fieldname, term)
                matcher = leaf.postings(fieldname, term)
                if isinstance(matcher, FilterMatcher):  # deleted documents: the file's list is whole
                    matcher = matcher.child
                seen = []
                while matcher.is_active():
                    posting = (matcher.id() + offset, matcher.weight(), matcher.value())
                    if blocks:
                        posting += (matcher.block_max_weight(), matcher.block_min_length(),
                                    matcher.block_max_length())
                    seen.append(posting)
                    matcher.next()
                terms.setdefault((fieldname, term), []).append(
                    (seen, info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                     info.max_weight(), info.min_id(), info.max_id()))
        docs = range(reader.doc_count_all())
        stored = whooshformat.StoredFields(reader)
        return {
            "terms": terms,
            "deleted": [d for d in docs if reader.is_deleted(d)],
            "stored": [stored(d) for d in docs],
            "lengths": {f: [reader.doc_field_length(d, f) for d in docs] for f in TEXT_FIELDS},
            "totals": {f: reader.field_length(f) for f in TEXT_FIELDS},
            "columns": {name: list(reader.column_reader(name, translate=False)) for name in ("state", "date", "id")},
        }


def by_key(found):
    """``contents`` with documents named by their key rather than numbered, and
    segments merged: the same for any split into segments (block and segment
    statistics, which depend on the split, left out)."""
    keys = [state.rsplit(b"\x1f", 2)[0] for state in found["columns"]["state"]]
    live = [d not in set(found["deleted"]) for d in range(len(keys))]
    return {
        "terms": {term: sorted((keys[p[0]], *p[1:3]) for seen, *_ in leaves for p in seen if live[p[0]])
                  for term, leaves in found["terms"].items()},
        "stored": sorted((keys[d], sorted(s.items())) for d, s in enumerate(found["stored"]) if live[d]),
        "lengths": {f: sorted((keys[d], n) for d, n in enumerate(v) if live[d]) for f, v in found["lengths"].items()},
        "columns": {c: sorted((keys[d], x) for d, x in enumerate(v) if live[d]) for c, v in found["columns"].items()},
    }


@pytest.fixture(scope="module")
def stock(tmp_path_factory):
    return build(tmp_path_factory.mktemp("stock"), SegmentWriter)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    return build(tmp_path_factory.mktemp("ours"), FastWriter)


def test_stock_whoosh_reads_what_fastwriter_writes_as_its_own(stock, ours):
    theirs, mine = contents(stock), contents(ours)
    assert len(open_index(ours)._segments()) == 2
    lists = [seen for leaves in mine["terms"].values() for seen, *_ in leaves]
    assert any(len(seen) > 200 for seen in lists)  # lists of several blocks
    assert any(max(p[1] for p in seen) > 100 for seen in lists)  # terms repeated in a document
    assert mine["deleted"] == theirs["deleted"] != []
    for part in theirs:
        assert mine[part] == theirs[part], part
    # Whoosh's own stored fields hold all but the texts, which the segments' stored-text files hold,
    # and the ids and dates, which stock Whoosh reads from their columns.
    apart = {*TEXT_FIELDS, "path", "url", "author"}
    in_columns = {"id", "date"}
    for folder in (stock, ours):
        with windex.open_dir(str(folder), indexname=INDEX_NAME).reader() as reader:
            found = [reader.stored_fields(d) for d in range(reader.doc_count_all())]
            ids, dates = reader.column_reader("id"), reader.column_reader("date")
            assert [ids[d] for d in range(len(found))] == [s["id"] for s in theirs["stored"]]
            assert [dates[d] for d in range(len(found)) if "date" in theirs["stored"][d]] == [
                s["date"] for s in theirs["stored"] if "date" in s] != []
        kept = in_columns | apart if folder == ours else in_columns
        assert found == [{k: v for k, v in s.items() if k not in kept} for s in theirs["stored"]]


def test_term_tables_have_five_slots_for_four_terms_and_stock_whoosh_finds_each_term(ours, stock):
    """Whoosh writes each of a term table's 256 hash tables with two slots a
    term; ours have ``n + ceil(n / 4)`` (12 bytes a slot). Stock Whoosh finds
    every term in them, with its entry, and no term that is not there."""
    for folder, spare in ((ours, 4), (stock, 1)):
        with windex.open_dir(str(folder), indexname=INDEX_NAME).reader() as reader:
            for leaf, _ in reader.leaf_readers():
                table = leaf._terms._tindex
                entries = dict(table.items())
                counts = np.bincount([table.hashfn(key) & 255 for key in entries], minlength=256)
                assert [slots for _, slots in table.tables] == [n + -(-n // spare) for n in counts.tolist()]
                assert len(entries) > 400
                for key, value in entries.items():
                    assert table[key] == value and key + b"\0" not in table


def test_postings_spilled_to_disk_and_merged_are_the_same(stock, tmp_path, monkeypatch):
    spills = []
    spill = PostingBuffer.spill
    make = FastWriter.__init__

    def tiny(self, ix, **kwargs):
        make(self, ix, **{**kwargs, "limitmb": 0.05})

    def counted(self):
        spills.append(self.size)
        spill(self)

    monkeypatch.setattr(FastWriter, "__init__", tiny)
    monkeypatch.setattr(PostingBuffer, "spill", counted)
    found = contents(build(tmp_path / "spilled", FastWriter))
    assert len(spills) > 10
    assert not list((tmp_path / "spilled").rglob("*.run"))  # every run was read back and removed
    assert found == contents(stock)


@pytest.fixture(scope="module")
def older(tmp_path_factory):
    """``ours`` with its posting blocks in the first packed layout: numbers whole, and
    the pickle naming ``postingformat.block`` in full (GLOBAL), not by extension code."""
    named = b"csearchengine.postingformat\nblock\n"
    calls = []

    def packed_call(data):
        calls.append(len(data))
        size = b"C" + bytes((len(data),)) if len(data) < 256 else b"B" + len(data).to_bytes(4, "little")
        return b"".join((named, size, data, b"\x85R."))

    def pack_block(gaps, frequencies, values):
        return None if b"\0".join(values).count(0) != len(values) - 1 else first_layout(gaps, frequencies, values)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postingformat, "pack_block", pack_block)
        patch.setattr(whooshformat, "_packed_call", packed_call)
        folder = build(tmp_path_factory.mktemp("older"), FastWriter)
    assert any(size > 255 for size in calls)
    return folder


def test_an_index_of_the_first_packed_layout_reads_and_merges_the_same(older, ours, tmp_path):
    assert contents(older) == contents(ours)
    merged = shutil.copytree(older, tmp_path / "merged")
    FastWriter(open_index(merged)).commit(optimize=True)  # the older blocks read, and written anew
    assert by_key(contents(merged, blocks=False)) == by_key(contents(ours, blocks=False))


def test_stock_whoosh_in_a_fresh_process_reads_the_packed_blocks(ours):
    """The blocks name their reader by an extension code, which importing
    searchengine.postingformat registers: unpickling the schema does."""
    script = textwrap.dedent(f"""
        import sys
        from whoosh import index
        with index.open_dir({str(ours)!r}, indexname={INDEX_NAME!r}).reader() as reader:
            found = sorted((f, t, list(reader.postings(f, t).items_as("positions")))
                           for f, t in reader.all_terms() if f in {TEXT_FIELDS!r} and reader.doc_frequency(f, t) > 8)
        print(repr(found))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    with windex.open_dir(str(ours), indexname=INDEX_NAME).reader() as reader:
        here = sorted((f, t, list(reader.postings(f, t).items_as("positions")))
                      for f, t in reader.all_terms() if f in TEXT_FIELDS and reader.doc_frequency(f, t) > 8)
    assert here and done.stdout.strip() == repr(here)


def test_merged_segments_are_the_same(tmp_path):
    theirs = contents(build(tmp_path / "stock", SegmentWriter, optimize=True))
    mine = contents(build(tmp_path / "ours", FastWriter, optimize=True))
    assert len(open_index(tmp_path / "ours")._segments()) == 1
    assert mine == theirs


def test_parallel_writer_writes_the_same_documents(stock, tmp_path):
    folder = build(tmp_path / "parallel", lambda ix: ParallelWriter(ix, procs=2, batchsize=16))
    assert len(open_index(folder)._segments()) > 2
    assert by_key(contents(folder, blocks=False)) == by_key(contents(stock, blocks=False))


@pytest.mark.parametrize("layout", ["ours", "older", "stock"])
def test_index_arrays_read_what_stock_whoosh_reads(layout, request):
    ours = request.getfixturevalue(layout)
    with SearchEngine(ours) as engine:
        arrays: IndexArrays = engine._current().arrays
        found = contents(ours, blocks=False)
        ix = windex.open_dir(str(ours), indexname=INDEX_NAME)
        with ix.reader() as reader:
            assert arrays.live.tolist() == [not reader.is_deleted(d) for d in range(arrays.size)]
            everyone = np.arange(arrays.size, dtype=np.int32)
            for (fieldname, term), leaves in found["terms"].items():
                if fieldname not in TEXT_FIELDS:
                    continue
                text = term.decode()
                seen = [p for found_in_leaf, *_ in leaves for p in found_in_leaf if arrays.live[p[0]]]
                ids, tf = arrays.postings(fieldname, text)
                assert [(int(d), float(w)) for d, w in zip(ids, tf, strict=True) if arrays.live[d]] == \
                    [(d, w) for d, w, _ in seen], (fieldname, text)
                fmt = reader.schema[fieldname].format
                assert arrays.positions(fieldname, text, everyone[arrays.live]) == \
                    {d: fmt.decode_positions(v) for d, _, v in seen}, (fieldname, text)
                assert arrays.doc_frequency(fieldname, text) == reader.doc_frequency(fieldname, text)
            for f in TEXT_FIELDS:
                assert arrays.lengths(f).tolist() == [n or 0 for n in found["lengths"][f]]
            dates = found["columns"]["date"]
            assert arrays.dates().tolist() == dates
            assert dates.count(arrays.undated) == sum("date" not in d for d in DOCS + REPLACED) > 0


BLOCK_INFOS = [(128, 70_000, 3, 6, 10, 20), (128, 40_000, 1, 0, 5, 6), (128, 200, 3, 1, 10, 20),
               (128, 70_000, 2.5, 0, 0, 255), (128, 2**31 - 1, 65_536, 6, 1, 2), (100, 2**40, 1.0, 0, 3, 3),
               (7, 2**40 + 9, 250, 6, 4, 9)]


@pytest.mark.parametrize("pickled", [
    lambda info: pickle.dumps(info, 2),  # Whoosh's
    lambda info: pickle.dumps(info, 3)[2:],  # newsearch's: no header
    lambda info: pickle.dumps(info, 4),
    lambda info: pickle.dumps(info, 0),
], ids=["whoosh", "newsearch", "protocol-4", "protocol-0"])
def test_the_blocks_of_a_posting_list_are_where_their_infos_say(pickled):
    """Each block's count, last document, compression and data, whatever
    pickled its info (integers of 1, 2, 4 bytes and more, float weights)."""
    parts, expected, position = [WHOOSH3_HEADER_MAGIC], [], 4
    for number, info in enumerate(BLOCK_INFOS):
        head, data = pickled(info), bytes(range(number * 10, number * 10 + 30))
        size = len(head) + len(data)
        parts += [struct.pack("!i", size if number < len(BLOCK_INFOS) - 1 else -size), head, data]
        start = position + 4 + len(head)
        position = start + len(data)
        expected.append((info[0], info[1], info[3], start, position))
    listed = b"".join(parts)
    assert whooshformat.block_index(listed) == expected


def test_an_unknown_whoosh_is_refused_with_what_newsearch_knows(ours, monkeypatch):
    monkeypatch.setattr(whooshformat, "_INSTALLED", (2, 8, 1))
    with pytest.raises(UnknownIndexFormat, match=r"knows whoosh-reloaded 2\.7\.x's format; "
                                                 r"the installed whoosh-reloaded is 2\.8\.1"):
        open_index(ours)
    with pytest.raises(UnknownIndexFormat), SearchEngine(ours) as engine:
        engine.search("grève")


@pytest.mark.parametrize(("attribute", "value", "message"), [
    ("__version__", (2, 9, 0), r"declares TOC version -111, written by whoosh 2\.9\.0"),
    ("_CURRENT_TOC_VERSION", -112, r"declares TOC version -112, written by whoosh 2\.7\.\d"),
])
def test_an_index_of_an_unknown_format_is_refused(tmp_path, monkeypatch, attribute, value, message):
    folder = build(tmp_path / "ix", FastWriter)
    writer = FastWriter(open_index(folder))
    monkeypatch.setattr(windex, attribute, value)  # what TOC.write writes in the header
    writer.commit()
    monkeypatch.undo()
    with pytest.raises(UnknownIndexFormat, match=message):
        open_index(folder)


# Checksums


def segment_file(folder: Path) -> Path:
    """The largest file of the index: a segment's."""
    return max((f for f in folder.iterdir() if f.is_file()), key=lambda f: f.stat().st_size)


@pytest.fixture
def fresh(tmp_path):
    records = articles(60, seed=11)
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[:40]),
                                      encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[40:]),
                                      encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        engine.index([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    return tmp_path / "ix"


def sums_files(folder: Path) -> list[str]:
    return sorted(f.name for f in folder.glob("*.sums"))


def test_a_commit_records_every_file_of_its_generation(fresh):
    result = verify_index(fresh)
    assert result.verified
    assert sums_files(fresh) == [f"_{INDEX_NAME}_{result.generation}.sums"]  # older ones are gone
    index_files = [f for f in fresh.iterdir() if f.is_file() and f.suffix in (".seg", ".toc")]
    assert result.files == len(index_files) > 2
    assert result.size_bytes == sum(f.stat().st_size for f in index_files)


def test_verify_names_a_file_with_a_flipped_byte(fresh):
    damaged = segment_file(fresh)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x10
    damaged.write_bytes(bytes(data))
    open_index(fresh)  # same size: only a full read sees it
    with pytest.raises(IndexCorrupt, match=rf"{damaged.name} is damaged"):
        verify_index(fresh)


def test_verify_names_a_damaged_toc(fresh):
    toc = next(fresh.glob("*.toc"))
    data = bytearray(toc.read_bytes())
    data[-3] ^= 0x01
    toc.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=rf"{toc.name} is damaged"):
        verify_index(fresh)


def test_opening_names_a_truncated_file(fresh):
    damaged = segment_file(fresh)
    size = damaged.stat().st_size
    with open(damaged, "r+b") as fh:
        fh.truncate(size - 100)
    with pytest.raises(IndexCorrupt, match=rf"{damaged.name} is {size - 100} bytes long, not the {size}"):
        open_index(fresh)
    with pytest.raises(IndexCorrupt, match=damaged.name), SearchEngine(fresh) as engine:
        engine.search("grève")
    with pytest.raises(IndexCorrupt, match=damaged.name):
        verify_index(fresh)


def test_opening_names_a_deleted_file(fresh):
    damaged = segment_file(fresh)
    damaged.unlink()
    with pytest.raises(IndexCorrupt, match=rf"{damaged.name} is missing"):
        open_index(fresh)
    with pytest.raises(IndexCorrupt, match=rf"{damaged.name} is missing"):
        verify_index(fresh)


def test_a_damaged_checksum_file_is_named(fresh):
    (sums,) = fresh.glob("*.sums")
    sums.write_bytes(sums.read_bytes().replace(b'"format": 1', b'"format": 7'))
    with pytest.raises(IndexCorrupt, match=rf"{sums.name} is damaged"):
        verify_index(fresh)
    with pytest.raises(IndexCorrupt, match=rf"{sums.name} is damaged"):
        open_index(fresh)


def test_an_index_without_checksums_opens_and_is_verified_after_its_next_commit(fresh, tmp_path):
    """As an index written before checksums were recorded."""
    for sums in fresh.glob("*.sums"):
        sums.unlink()
    with SearchEngine(fresh) as engine:
        assert engine.search("grève").total > 0
    assert not verify_index(fresh).verified
    with SearchEngine(fresh) as engine:
        engine.index([tmp_path / "a.jsonl"])  # removes b.jsonl's articles: a commit
    assert verify_index(fresh).verified


def test_a_commit_that_dies_before_its_toc_leaves_the_last_one_whole(fresh, tmp_path, monkeypatch):
    before = verify_index(fresh)
    write = whooshformat._write_atomically

    def die_at_toc(storage, name, data):
        if name.endswith(".toc"):
            raise OSError(28, "No space left on device")
        write(storage, name, data)

    monkeypatch.setattr(whooshformat, "_write_atomically", die_at_toc)
    with pytest.raises(IndexWriteError), SearchEngine(fresh) as engine:
        engine.index([tmp_path / "a.jsonl"])
    monkeypatch.undo()
    assert verify_index(fresh) == before
    with SearchEngine(fresh) as engine:
        assert engine.info().articles == 60


def test_verify_needs_an_index(tmp_path):
    with pytest.raises(IndexNotFound):
        verify_index(tmp_path)


def test_reads_of_one_file_from_two_threads_do_not_share_a_position(ours):
    """The file layer itself: a position set by one thread is not another's."""
    import threading

    storage = whooshformat.MappedStorage(ours)
    name = next(n for n in os.listdir(ours) if n.endswith(".seg"))
    shared = storage.open_file(name)
    shared.seek(10)
    seen = []
    reader = threading.Thread(target=lambda: seen.append((shared.tell(), shared.read(4))))
    reader.start()
    reader.join()
    assert seen == [(0, shared.get(0, 4))]
    assert shared.tell() == 10 and shared.read(2) == shared.get(10, 2)
    inner = shared.subset(8, 16)
    assert inner.get(0, 4) == shared.get(8, 4) and inner.read() == shared.get(8, 16)
    shared.close()


def commit_once_after(monkeypatch, name, folder, sources):
    """Have another process commit a new generation as ``whooshformat.name`` first returns."""
    original = getattr(whooshformat, name)
    done = []

    def hooked(*args, **kwargs):
        found = original(*args, **kwargs)
        if not done:
            done.append(True)
            with SearchEngine(folder) as other:
                other.index(sources, rebuild=True)  # every segment file replaced
        return found

    monkeypatch.setattr(whooshformat, name, hooked)
    return done


def test_a_commit_while_the_index_opens_is_no_damage(fresh, tmp_path, monkeypatch):
    before = verify_index(fresh).generation
    done = commit_once_after(monkeypatch, "_read_sums", fresh, [tmp_path / "a.jsonl"])
    assert open_index(fresh).latest_generation() == before + 1
    assert done


def test_a_commit_while_the_index_is_verified_is_no_damage(fresh, tmp_path, monkeypatch):
    before = verify_index(fresh).generation
    done = commit_once_after(monkeypatch, "_read_sums", fresh, [tmp_path / "a.jsonl"])
    assert verify_index(fresh).generation == before + 1
    assert done


# What stays outside whooshformat.py on purpose: a subclass of a Whoosh class
# using, through ``self`` or ``super()``, what its Whoosh base keeps for
# subclasses (overriding a step of the base's own work, calling one, setting
# the state it reads). That is ordinary subclassing. Anything else private to
# Whoosh (another object's private attribute, a private function, class, module
# or parameter) belongs in whooshformat.py. Each entry says why it stays.
SUBCLASS_USES = {
    "FastWriter": {
        "_lk": "its own lock=False, passed to SegmentWriter.__init__",
        "_tempstorage": "the temporary folder SegmentWriter makes, where the posting buffer spills",
        "_check_state": "add_document refuses a closed writer, as SegmentWriter.add_document does",
        "_check_fields": "add_document refuses unknown fields, as SegmentWriter.add_document does",
        "_added": "add_document records that there is a segment to write, as SegmentWriter's does",
        "_flush_segment": "overridden: the posting lists written whole, through whooshformat",
        "_commit_toc": "overridden: the TOC with its checksums (whooshformat.commit_toc)",
        "_finalize_segment": "finish_segment: a worker writes its segment without a commit",
        "_close_segment": "finish_segment and discard_segment: a worker closes its segment",
    },
    "ParallelWriter": {
        "_check_state": "add_document and commit refuse a closed writer, before they involve the workers",
        "_commit_toc": "overridden: the workers' segments join this process's in the one TOC",
    },
}


def _private(name):
    return name.startswith("_") and name != "_" and not (name.startswith("__") and name.endswith("__"))


def _names_in(tree):
    """Private names a piece of source defines or uses: attributes, functions,
    classes, parameters, variables."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = node.name
        elif isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.Name):
            name = node.id
        else:
            continue
        if _private(name):
            yield name


def _parse(source):
    with warnings.catch_warnings():  # Whoosh's source has invalid escape sequences
        warnings.simplefilter("ignore")
        return ast.parse(source)


WHOOSH_PRIVATE = {name for path in Path(whoosh.__file__).parent.rglob("*.py")
                  for name in _names_in(_parse(path.read_text(encoding="utf-8")))}


@functools.cache
def _whoosh_members(cls):
    """The private names of ``cls``'s Whoosh base classes: their attributes,
    parameters, and whatever their methods keep on ``self``."""
    names = set()
    for base in getattr(cls, "__mro__", ()):
        if base.__module__.partition(".")[0] == "whoosh":
            names |= {name for name in vars(base) if _private(name)}
            names |= set(_names_in(_parse(textwrap.dedent(inspect.getsource(base)))))
    return frozenset(names)


def _private_whoosh_uses(path, module):
    """(line, our class or None, name) for each private Whoosh name ``path``
    uses: the class where it is a Whoosh subclass's use of its own base."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = set()  # private names our own classes and functions define (not overrides)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            members = _whoosh_members(getattr(module, node.name, None))
            ours |= set(_names_in(node)) - members
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _private(node.name):
            ours.add(node.name)
    found = []

    def visit(node, cls):
        members = _whoosh_members(cls) if cls is not None else set()
        if isinstance(node, ast.ClassDef):
            cls = getattr(cls if cls is not None else module, node.name, None)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.partition(".")[0] == "whoosh":
            found.extend((node.lineno, None, f"{node.module}.{alias.name}") for alias in node.names
                         if _private(alias.name) or any(map(_private, node.module.split("."))))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, None, alias.name) for alias in node.names
                         if alias.name.partition(".")[0] == "whoosh" and any(map(_private, alias.name.split("."))))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in members:
            found.append((node.lineno, cls.__name__, node.name))  # an override of the base's own step
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            own = (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
                   or isinstance(node.value, ast.Call) and ast.unparse(node.value.func) == "super")
            if own and node.attr in members:
                found.append((node.lineno, cls.__name__, node.attr))
            elif not own and node.attr in WHOOSH_PRIVATE and node.attr not in ours:
                found.append((node.lineno, None, node.attr))
        elif isinstance(node, ast.Call):
            to_base = isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) == "super()"
            for keyword in node.keywords:
                if keyword.arg and _private(keyword.arg) and keyword.arg in WHOOSH_PRIVATE:
                    own = to_base and keyword.arg in members
                    found.append((node.lineno, cls.__name__ if own else None, keyword.arg))
        for child in ast.iter_child_nodes(node):
            visit(child, cls)

    visit(tree, None)
    return found


def test_only_whooshformat_uses_private_whoosh_names():
    package = Path(importlib.import_module("searchengine").__file__).parent
    unexpected = []
    used = set()
    for path in sorted(package.glob("*.py")):
        if path.name == "whooshformat.py":
            continue
        module = importlib.import_module(f"searchengine.{path.stem}")
        for line, cls, name in _private_whoosh_uses(path, module):
            if cls is not None and name in SUBCLASS_USES.get(cls, {}):
                used.add((cls, name))
            else:
                where = f"{cls}'s use of its Whoosh base's {name}" if cls else f"Whoosh's private {name}"
                unexpected.append(f"{path.name}:{line}: {where}")
    assert not unexpected, "\n".join(["move these into whooshformat.py (or allow a subclass's use in SUBCLASS_USES):",
                                        *unexpected])
    allowed = {(cls, name) for cls, names in SUBCLASS_USES.items() for name in names}
    assert allowed - used == set(), "SUBCLASS_USES allows what no module uses any more"


@pytest.mark.parametrize("damage", ["random bytes", "empty", "one byte flipped"])
def test_a_damaged_toc_is_reported_as_damage_before_it_is_unpickled(fresh, damage):
    (toc,) = fresh.glob("*.toc")
    data = bytearray(toc.read_bytes())
    if damage == "random bytes":
        data = bytearray(random.Random(7).randbytes(len(data)))
    elif damage == "empty":
        data = bytearray()
    else:
        data[len(data) // 2] ^= 0x01
    toc.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match=f"{toc.name} is damaged"):
        open_index(fresh)



def _score_list_index(tmp_path, monkeypatch):
    """An index of 100 articles whose 'grève' (50 of them) has a score list:
    its hits for 'grève', and the first 40 bytes of the score lists' directory."""
    from searchengine import scorelists

    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 16)
    records = [{"id": f"a{i}", "title": f"Article {i}",
                "body": "La grève continue ici." if i % 2 == 0 else "Le train roule encore."} for i in range(100)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        (lists,) = engine._current().arrays.score_lists()
        data = lists.source.get(0, 1 << 30)
        where, _ = scorelists._FOOTER.unpack(data[-scorelists._FOOTER.size:])
        return [h.id for h in engine.search("grève", limit=60)], data[where:where + 40]


def _damage(folder, old, new):
    """Replace the one occurrence of ``old`` in the index's files by ``new`` (as long)."""
    (holder,) = [p for p in folder.iterdir() if p.is_file() and old in p.read_bytes()]
    data = holder.read_bytes()
    assert data.count(old) == 1 and len(old) == len(new)
    holder.write_bytes(data.replace(old, new))


def test_a_damaged_score_list_directory_is_no_score_list(tmp_path, monkeypatch):
    """A byte of the score lists' directory changed (in its settings, JSON): its
    CRC-32 no longer matches, and the segment is read from its W3 blocks, as
    one without score lists (a directory that unpickled to an error, in the
    layout before, traced back)."""
    expected, directory = _score_list_index(tmp_path, monkeypatch)
    assert directory[12:13] == b"{"  # the settings follow three 4-byte numbers
    _damage(tmp_path / "ix", directory, directory[:20] + bytes([directory[20] ^ 0x01]) + directory[21:])
    with SearchEngine(tmp_path / "ix") as engine:
        assert [h.id for h in engine.search("grève", limit=60)] == expected


def session_six_schema():
    """The schema of an index written before CompactPositions: Whoosh's ``Positions`` on the text fields."""
    schema = make_schema()
    for _, field in schema.items():
        if isinstance(field.format, CompactPositions):
            field.format = formats.Positions()
    return schema


def session_nine_schema():
    """The schema of an index written before id tables: a term per id, beside the ``id`` column."""
    schema = make_schema()
    schema.remove("id")
    schema.add("id", fields.ID(sortable=True))
    return schema


def decoded(found):
    """``by_key`` terms with each value as its positions: the same whichever format wrote them."""
    return {term: [(key, weight, whooshformat.decode_positions(value) if value else value)
                   for key, weight, value in postings] for term, postings in by_key(found)["terms"].items()}


def test_text_fields_are_compact_and_stock_whoosh_searches_them_as_whoosh_positions(ours, tmp_path):
    old = build(tmp_path / "old", SegmentWriter, schema=session_six_schema())
    mine, theirs = contents(ours), contents(old)
    values = [p[2] for (field, _), leaves in mine["terms"].items() if field in TEXT_FIELDS
              for seen, *_ in leaves for p in seen]
    assert values and all(value[0] != 0 for value in values)  # no Whoosh Positions value (a zero byte first)
    assert all(value[0] == 0 for (field, _), leaves in theirs["terms"].items() if field in TEXT_FIELDS
               for seen, *_ in leaves for p in seen for value in [p[2]])
    assert decoded(mine) == decoded(theirs)
    assert sum(whooshformat.part_sizes(ours, INDEX_NAME).values()) < sum(
        whooshformat.part_sizes(build(tmp_path / "old-ours", FastWriter, schema=session_six_schema()),
                                INDEX_NAME).values())
    phrases = [["le", "gouvernement"], ["de", "la"], ["grève", "des"], ["président", "a"]]
    for folder, found in ((ours, []), (old, [])):
        with windex.open_dir(str(folder), indexname=INDEX_NAME).searcher() as searcher:
            ids = searcher.reader().column_reader("id")  # ids are a column, not stored fields
            for words in phrases:
                for field in TEXT_FIELDS:
                    hits = searcher.search(wquery.Phrase(field, words), limit=None)
                    found.append(sorted(ids[hit.docnum] for hit in hits))
        if folder == ours:
            mine_found = found
    assert mine_found == found and any(found)


def test_an_index_written_before_compact_positions_opens_searches_updates_and_rebuilds(tmp_path, monkeypatch):
    first, later = tmp_path / "first.jsonl", tmp_path / "later.jsonl"
    first.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS[:200]), encoding="utf-8")
    later.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS[200:]), encoding="utf-8")
    queries = ["grève gouvernement", '"réforme des retraites"', '"le président"', "Kim Poutine", "football match",
               '"de la"', "retraites -grève"]

    def answers(folder):
        with SearchEngine(folder) as engine:
            return [[(hit.id, hit.score, hit.snippet) for hit in engine.search(q, limit=20)] for q in queries]

    def formats_of(folder):
        return {type(field.format) for name, field in open_index(folder).schema.items() if name in TEXT_FIELDS}

    with monkeypatch.context() as patched:  # what an older newsearch made of a new index
        patched.setattr(indexing, "make_schema", session_six_schema)
        SearchEngine(tmp_path / "old").index([first])
    SearchEngine(tmp_path / "new").index([first])
    assert formats_of(tmp_path / "old") == {formats.Positions}
    assert formats_of(tmp_path / "new") == {CompactPositions}
    assert answers(tmp_path / "old") == answers(tmp_path / "new")
    # An update keeps the index's own format, in new segments and in merges.
    for folder in (tmp_path / "old", tmp_path / "new"):
        SearchEngine(folder).index([first, later])
        writer = FastWriter(open_index(folder))
        writer.commit(optimize=True)
    assert formats_of(tmp_path / "old") == {formats.Positions}
    assert decoded(contents(tmp_path / "old")) == decoded(contents(tmp_path / "new"))
    assert answers(tmp_path / "old") == answers(tmp_path / "new")
    assert any(answers(tmp_path / "new"))
    # A rebuild writes the new format.
    for folder in (tmp_path / "old", tmp_path / "new"):
        SearchEngine(folder).index([first, later], rebuild=True)
    assert formats_of(tmp_path / "old") == {CompactPositions}
    assert answers(tmp_path / "old") == answers(tmp_path / "new")


def test_a_list_of_one_posting_lives_in_the_term_table_and_stock_whoosh_merges_it(tmp_path):
    terms = build(tmp_path / "terms", FastWriter, schema=session_nine_schema())  # ids with terms: no values
    with windex.open_dir(str(terms), indexname=INDEX_NAME).reader() as reader:
        leaf, _ = reader.leaf_readers()[0]
        single = [(f, t) for f, t in leaf.all_terms() if leaf.doc_frequency(f, t) == 1]
        assert {f for f, _ in single} >= {"id", "title"}  # no value, and positions
        assert all(leaf.term_info(f, t).is_inlined() for f, t in single)
        assert not any(leaf.term_info(f, t).is_inlined() for f, t in leaf.all_terms() if leaf.doc_frequency(f, t) > 1)
    merged = tmp_path / "merged"
    shutil.copytree(terms, merged)
    writer = SegmentWriter(windex.open_dir(str(merged), indexname=INDEX_NAME))
    writer.commit(optimize=True)  # Whoosh's own merge reads every posting and writes them again
    assert len(windex.open_dir(str(merged), indexname=INDEX_NAME)._segments()) == 1
    assert by_key(contents(merged, blocks=False))["terms"] == by_key(contents(terms, blocks=False))["terms"]


def test_only_blocks_too_small_to_gain_from_deflate_are_stored_uncompressed(ours):
    """Each block of the index is deflated exactly when its data takes at
    least ``_COMPRESS_MIN_BYTES`` (stock Whoosh reads both kinds: see above)."""
    kinds = {0: 0, 1: 0}
    ix = windex.open_dir(str(ours), indexname=INDEX_NAME)
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            for fieldname, term in leaf.all_terms():
                listed = whooshformat.term_postings(leaf, fieldname, term)
                if not isinstance(listed, bytes):
                    continue  # inlined in the term table
                for _, _, compression, start, end in whooshformat.block_index(listed):
                    data = listed[start:end]
                    raw = zlib.decompress(data) if compression else data
                    assert (len(raw) >= whooshformat._COMPRESS_MIN_BYTES) == bool(compression)
                    kinds[bool(compression)] += 1
    assert kinds[0] and kinds[1]


def test_a_writer_pickles_each_value_alone_with_one_pickler():
    """Pickles made one after the other by one pickler are those a fresh
    pickler makes, without the protocol header, and read back as the values."""
    values = [(128, 70_000, 3, 6, 10, 20), ((1, 5, 300), (1, 2, 1), (b"\x05", b"\x07\x10", b"\x0a")),
              ((7,), (2.5,), (None,)), (128, 70_000, 3, 6, 10, 20), ((1,), None, (b"\x01" * 300,))]
    pickled = whooshformat._CompactPickler()
    for value in values:
        fresh = pickle.Pickler(out := io.BytesIO(), 3)
        fresh.fast = True
        fresh.dump(value)
        made = pickled(value)
        assert made == out.getvalue()[2:]
        assert pickle.loads(made) == value
