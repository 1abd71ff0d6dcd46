"""What an index keeps per article besides its texts: ids and dates in columns
rather than Whoosh's pickled stored fields, no terms for keys and dates, and
the state column written compactly; all read back exactly, and an index of the
previous format still opens, searches and updates."""

import datetime as dt
import json
import struct

import pytest
from whoosh import fields
from whoosh import index as windex
from whoosh.columns import VarBytesColumn
from whoosh.filedb.filestore import RamStorage

from searchengine import SearchEngine, fastwriter, indexing, whooshformat
from searchengine.analysis import FrenchAnalyzer
from searchengine.commongrams import gram_fields
from searchengine.duplicates import column_type as duplicate_column
from searchengine.indexing import INDEX_NAME
from searchengine.statecolumn import StateColumn

FILE = "/srv/archives/2023/dépêches-\udce9té.jsonl".encode("utf-8", "surrogatepass")
FINGERPRINT = b"0123456789abcdef0123456789abcdef"
STATES = [
    FILE + b"\x1f17\x1f" + FINGERPRINT + b"\x1f",
    FILE + b"\x1f18\x1f" + FINGERPRINT[::-1] + b"\x1f12345:1690000000123456789",
    b"/srv/a.txt\x1f\x1f" + FINGERPRINT + b"\x1f",  # a one-article file: no record
    FILE + b"\x1fid\x1favec\x1fdes\x1fs\xc3\xa9parateurs\x1f" + FINGERPRINT + b"\x1f",
    b"",  # a document without state
    b"gen.jsonl\x1fart-1\x1f-4213\x1f",  # not a hex fingerprint: kept as it is
    FILE + b"\x1f19\x1f" + FINGERPRINT.upper() + b"\x1f",  # upper case would not come back as it was
    FILE + b"\x1f20\x1f" + FINGERPRINT[:30] + b"\x1f",
    b"no separator at all",
    b"\x1f\x1f\x1f",
]


def _column(column, values, gaps=()):
    """``values`` written through ``column`` (documents in ``gaps`` given none), and a reader of them."""
    storage = RamStorage()
    out = storage.create_file("column")
    writer = column.writer(out)
    docnum = 0
    for value in values:
        while docnum in gaps:
            docnum += 1
        writer.add(docnum, value)
        docnum += 1
    writer.finish(docnum)
    size = out.tell()
    out.close()
    return column.reader(storage.open_file("column"), 0, size, docnum), size


class _FirstLayoutState(StateColumn):
    """The state column as session 7 wrote it (NSC1): every record with its
    number, no runs, Whoosh's offsets after 32,768 records."""

    class Writer(StateColumn.Writer):
        def __init__(self, dbfile):
            super().__init__(dbfile)
            self._records = VarBytesColumn().writer(dbfile)

        def _record(self, docnum, value):
            record = super()._record(docnum, value)
            if record[:1] != b"\x02":
                return record
            file, _, rest = value.partition(b"\x1f")
            line, fingerprint, signature = rest.rsplit(b"\x1f", 2)
            return b"".join((b"\x01", record[1:18], bytes((len(line),)), line, signature))

        def finish(self, doccount):
            self._records.finish(doccount)
            table = b"".join(bytes((len(file),)) + file for file in self._files)
            self.sink.write(table + struct.pack("<II4s", len(table), len(self._files), b"NSC1"))


def _numbered(count, first=0):
    return [FILE + f"\x1f{i}\x1f".encode() + FINGERPRINT + b"\x1f" for i in range(first, first + count)]


def test_the_state_column_gives_back_every_value_exactly_and_keeps_each_file_once():
    lines = [b"/srv/b.jsonl\x1f" + line + b"\x1f" + FINGERPRINT + b"\x1f" for line in
             (b"0", b"1", b"007", b"8", b"9", b"18446744073709551616000", b"3", b"4", b"-5", b"\xd9\xa1", b"12")]
    values = STATES + lines + _numbered(40, 7) + STATES[::-1] + _numbered(3, 47) + _numbered(2, 2)
    gaps = {2, 5, len(STATES) + 3, len(STATES) + len(lines) + 20}
    expected = list(values)
    for gap in sorted(gaps):
        expected.insert(gap, b"")
    for column in (StateColumn(), _FirstLayoutState()):
        reader, _ = _column(column, values, gaps=gaps)
        assert [reader[d] for d in range(len(expected))] == expected
        assert list(reader) == expected
    states = _numbered(40_000)
    _, compact = _column(StateColumn(), states)
    _, first = _column(_FirstLayoutState(), states)
    _, plain = _column(VarBytesColumn(), states)
    assert compact < 0.75 * first < 0.35 * plain * 0.75


def test_an_index_of_first_layout_states_updates_only_what_changed(tmp_path, monkeypatch):
    source = _write(tmp_path / "news.jsonl", _records(120))
    with monkeypatch.context() as old:
        old.setattr(StateColumn, "writer", _FirstLayoutState.writer)
        old.setattr(StateColumn, "Writer", _FirstLayoutState.Writer)
        with SearchEngine(tmp_path / "ix") as engine:
            engine.index([source])
    with SearchEngine(tmp_path / "ix") as engine:
        assert engine.index([source]).unchanged == 121
        records = _records(130)
        records[4]["body"] += " Un correctif."
        report = engine.index([_write(source, records)])
        assert (report.added, report.updated, report.unchanged) == (10, 1, 120)
        assert engine.index([source]).unchanged == 131
        fastwriter.FastWriter(indexing.open_index(tmp_path / "ix")).commit(optimize=True)
        assert engine.index([source]).unchanged == 131
        assert engine.article("4").article.body.endswith("Un correctif.")


def _records(count, start=0):
    return [{"id": str(i), "title": f"Grève numéro {i} à Marseille", "date": f"20{10 + i % 12}-0{1 + i % 9}-1{i % 10}",
             "body": f"Les syndicats appellent à la grève {i}. Le ministre répond mardi à Marseille."}
            for i in range(start, start + count)] + [{"id": "sans-date", "title": "Sans date", "body": "Grève."}]


def _write(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def _seen(engine):
    """What a user sees: the hits, newest first (in any order among equal dates), and each article's
    date and text, by id."""
    hits = [(h.id, h.date, h.title, h.snippet) for h in engine.search("grève Marseille", limit=500, sort="date").hits]
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), key=lambda d: d or dt.date.min, reverse=True)
    return sorted(hits), {h[0]: (engine.article(h[0]).article.date, engine.article(h[0]).article.body) for h in hits}


def test_a_new_index_keeps_ids_and_dates_in_columns_and_no_terms_for_keys_and_dates(tmp_path):
    source = _write(tmp_path / "news.jsonl", _records(30))
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([source])
        hits, articles = _seen(engine)
    assert {h[0]: h[1] for h in hits} == {r["id"]: r.get("date") and dt.date.fromisoformat(r["date"])
                                         for r in _records(30)}
    assert articles["5"][0] == dt.date(2015, 6, 15)
    with windex.open_dir(str(tmp_path / "ix"), indexname=INDEX_NAME).reader() as reader:
        assert [reader.stored_fields(d) for d in range(reader.doc_count_all())] == [{}] * 31
        assert not [t for f, t in reader.all_terms() if f in ("key", "date")]
        assert sorted(reader.column_reader("id")) == sorted(h[0] for h in hits)
        states = list(reader.column_reader("state"))
    assert all(s.startswith(str(source.resolve()).encode() + b"\x1f") for s in states)


def _session6_schema():
    """``make_schema`` as newsearch 0.1 had it before ids and dates moved to columns."""
    french = FrenchAnalyzer()
    return fields.Schema(
        key=fields.ID(unique=True), state=fields.COLUMN(VarBytesColumn()), id=fields.ID(stored=True),
        path=fields.STORED(), title=fields.TEXT(analyzer=french, stored=True),
        lede=fields.TEXT(analyzer=french, stored=True), body=fields.TEXT(analyzer=french, stored=True),
        date=fields.DATETIME(stored=True, sortable=True), source=fields.STORED(), source_id=fields.ID(),
        url=fields.STORED(), author=fields.STORED(), dupkeys=fields.COLUMN(duplicate_column()),
        **gram_fields(french, ("title", "lede", "body")))


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_index_of_the_previous_format_searches_and_updates_and_a_rebuild_is_smaller(tmp_path, monkeypatch, jobs):
    source = _write(tmp_path / "news.jsonl", _records(200))
    with monkeypatch.context() as old:
        old.setattr(indexing, "make_schema", _session6_schema)
        with SearchEngine(tmp_path / "old") as engine:
            engine.index([source], jobs=jobs)
    with windex.open_dir(str(tmp_path / "old"), indexname=INDEX_NAME).reader() as reader:
        assert all("id" in reader.stored_fields(d) for d in range(reader.doc_count_all()))
    with SearchEngine(tmp_path / "new") as engine:
        engine.index([source], jobs=jobs)
        new = _seen(engine)
    sizes = {name: whooshformat.part_sizes(tmp_path / name, INDEX_NAME) for name in ("old", "new")}
    assert sum(sizes["new"].values()) < 0.9 * sum(sizes["old"].values())
    assert sizes["new"]["state.col"] < 0.5 * sizes["old"]["state.col"]
    with SearchEngine(tmp_path / "old") as engine:
        assert _seen(engine) == new
        records = _records(200)
        records[3]["body"] += " Un correctif : la grève est levée."
        del records[7]
        records.append({"id": "nouveau", "title": "Nouvelle grève", "date": "2024-01-02", "body": "Marseille."})
        report = engine.index([_write(source, records)], jobs=jobs)
        assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 199)
        assert engine.index([source], jobs=jobs).unchanged == 201
        hits, articles = _seen(engine)
        assert articles["nouveau"][0] == dt.date(2024, 1, 2) and "7" not in articles
        assert articles["3"][1].endswith("la grève est levée.")
        engine.index([source], rebuild=True, jobs=jobs)
        assert _seen(engine) == (hits, articles)
