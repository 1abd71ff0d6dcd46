"""Score lists: deflated where that pays, windows as a bitmap where shorter,
window maxima in a byte that bounds them, and files of the first layout
(NSL2, written by an older newsearch) read as before."""

import json
import pickle

import numpy as np

from searchengine import SearchEngine, scorelists
from searchengine.scorelists import ScoreLists

from .generated import articles


class Bytes:
    """A score list file in memory, read as ScoreLists reads a segment's file."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def get(self, position: int, length: int) -> bytes:
        return self.data[position:position + length]


def first_layout(lists: ScoreLists) -> bytes:
    """The same lists in the layout of NSL2, as session 6's ScoreListWriter wrote it:
    raw gaps (and exceptions), raw frequencies, every window's number, the maxima."""
    out, terms = [], {}
    position = 0
    for fieldname, entries in lists.terms.items():
        for term, entry in entries.items():
            ids, tf = lists.postings(fieldname, term.decode())
            windows = lists.windows(fieldname, term.decode())
            width, kind = entry[2], entry[4]
            gaps = np.diff(ids.astype(np.int64), prepend=0)
            escape = scorelists._ESCAPES[width]
            parts = [np.where(gaps >= escape, escape, gaps).astype(f"<u{width}").tobytes(),
                     gaps[gaps >= escape].astype("<u4").tobytes(),
                     (tf.astype(np.uint8) if kind == scorelists._BYTES else tf.astype("<f4")).tobytes(),
                     windows.numbers.astype("<u4").tobytes(), windows.maxima.astype("<f2").tobytes()]
            terms.setdefault(fieldname, {})[term] = (position, *entry[1:6])
            for part in parts:
                part += b"\0" * (-len(part) % 4)
                out.append(part)
                position += len(part)
    directory = pickle.dumps({"b": lists.b, "window": lists.window, "averages": lists.averages, "terms": terms}, 4)
    return b"".join(out) + directory + scorelists._FOOTER.pack(position, b"NSL2")


def test_score_lists_are_smaller_and_files_of_the_first_layout_read_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 16)
    monkeypatch.setattr(scorelists, "WINDOW", 4)
    records = articles(400)
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records),
                                      encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        (lists,) = engine._current().arrays.score_lists()
        old = first_layout(lists)
    entries = [entry for terms in lists.terms.values() for entry in terms.values()]
    deflated = [entry for entry in entries if entry[6] < scorelists._sizes(entry[:6])[0]]
    assert deflated and [entry for entry in entries if entry[8]]  # some gaps deflated, some bitmaps
    again = ScoreLists(Bytes(old), len(old))
    checked = 0
    for fieldname, terms in lists.terms.items():
        for term in terms:
            text = term.decode()
            for mine, theirs in zip(lists.postings(fieldname, text), again.postings(fieldname, text), strict=True):
                assert mine.tolist() == theirs.tolist()
            mine, theirs = lists.windows(fieldname, text), again.windows(fieldname, text)
            assert mine.numbers.tolist() == theirs.numbers.tolist()
            assert mine.maxima.astype("<f2").tolist() == theirs.maxima.tolist() and mine.average == theirs.average
            checked += 1
    assert checked > 50
    assert len(lists.source.get(0, 1 << 30)) < len(old)


def test_a_damaged_deflated_score_list_is_read_from_the_w3_blocks_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 16)
    records = [{"id": f"a{i}", "title": f"Article {i}",
                "body": "Grève." if i % 2 == 0 else "Le train roule encore."} for i in range(100)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    queries = ("grève", "grève train")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        expected = [[h.id for h in engine.search(q, limit=60)] for q in queries]
        (lists,) = engine._current().arrays.score_lists()
        entry = lists.terms["body"][b"grev"]
        stored = lists.source.get(entry[0], entry[6])
        assert entry[6] < scorelists._sizes(entry[:6])[0]  # the gaps, all 2, are deflated
    damaged = stored[:4] + bytes([stored[4] ^ 0xFF]) + stored[5:]
    (holder,) = [p for p in (tmp_path / "ix").iterdir() if p.is_file() and stored in p.read_bytes()]
    assert holder.read_bytes().count(stored) == 1
    holder.write_bytes(holder.read_bytes().replace(stored, damaged))
    with SearchEngine(tmp_path / "ix") as engine:
        (lists,) = engine._current().arrays.score_lists()
        assert lists.postings("body", "grev") is None
        assert [[h.id for h in engine.search(q, limit=60)] for q in queries] == expected


def test_a_window_maximum_is_kept_as_the_least_bound_of_its_byte():
    rng = np.random.default_rng(3)
    maxima = np.r_[np.exp(rng.uniform(-5, 6, 100_000)), scorelists.BOUNDS[:255], 1e-9, 97.0, 1e9]
    found = scorelists._bounding(maxima).astype(np.intp)
    assert (scorelists.BOUNDS[found] >= maxima).all()
    assert (scorelists.BOUNDS[found[found > 0] - 1] < maxima[found > 0]).all()
    tight = np.maximum(maxima * 2 ** (1 / 24), 1 / 16) * (1 + 1e-12)
    assert (scorelists.BOUNDS[found] <= tight)[maxima <= scorelists.BOUNDS[254]].all()
    assert found[-1] == found[-2] == 255 and scorelists.BOUNDS[255] == np.inf
