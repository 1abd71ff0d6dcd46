"""Score lists: document numbers Elias–Fano coded or a bitmap, frequencies
deflated where that pays, windows as a bitmap where shorter, window maxima in
a byte that bounds them; the postings of a real index as its W3 blocks hold
them; lists shorter than MIN_MAXIMA without their maxima; and files of the
earlier layouts (NSL2, NSL4 and NSL5, written by an older newsearch) read as
before."""

import io
import json
import pickle
from array import array
from pathlib import Path

import numpy as np
import pytest

from searchengine import SearchEngine, scorelists
from searchengine.scorelists import BOUNDS, ScoreLists, ScoreListWriter

from .generated import articles

NSL4 = Path(__file__).parent / "data" / "scorelists-nsl4.nsl"
NSL5 = Path(__file__).parent / "data" / "scorelists-nsl5.nsl"


class Bytes:
    """A score list file in memory, read as ScoreLists reads a segment's file."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def get(self, position: int, length: int) -> bytes:
        return self.data[position:position + length]


class Output(io.BytesIO):
    """Where a ScoreListWriter writes in memory: what it wrote is kept when it closes."""

    def close(self) -> None:
        self.written = self.getvalue()


def written(lists: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], size: int,
            b: float = 0.75, maxima: int | None = None) -> tuple[bytes, np.ndarray]:
    """A score list file of ``lists`` ((field, term) -> documents, frequencies) in a segment of
    ``size`` documents of made-up lengths, and those lengths; with the maxima of lists of
    ``maxima`` postings or more, if given, rather than :data:`~searchengine.scorelists.MIN_MAXIMA`."""
    if maxima is not None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(scorelists, "MIN_MAXIMA", maxima)
            return written(lists, size, b)
    lengths = np.random.default_rng(size).integers(1, 300, size).astype(np.float64)
    out = Output()
    scores = ScoreListWriter(out, b)
    for (fieldname, term), (ids, tf) in lists.items():
        scores.add(fieldname, term.encode(), array("I", ids.astype(np.uint32).tobytes()),
                   array("f", tf.astype(np.float32).tobytes()), lengths)
    scores.close()
    return out.written, lengths


def expected_windows(ids: np.ndarray, tf: np.ndarray, lengths: np.ndarray, average: float,
                     b: float = 0.75) -> tuple[list[int], np.ndarray]:
    """The windows holding ``ids`` and the exact largest length-normalised frequency in each."""
    values = tf.astype(np.float64) / ((1 - b) + b * lengths[ids] / average)
    numbers, first = np.unique(ids // scorelists.WINDOW, return_index=True)
    return numbers.tolist(), np.maximum.reduceat(values, first)


def assert_bounds(found: np.ndarray, exact: np.ndarray) -> None:
    """Each stored maximum is the least byte's bound at least as large as the exact one
    (infinity past the last)."""
    assert (found >= exact).all()
    tight = np.maximum(exact * 2 ** (1 / 24), 1 / 16) * (1 + 1e-9)
    assert ((found <= tight) | (exact > BOUNDS[254])).all()


def lists_of_every_kind() -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """Lists (in a segment of 200,000 documents) that take each way of coding
    document numbers (the shortest for each) and frequencies."""
    rng = np.random.default_rng(5)

    def spread(count: int, size: int) -> np.ndarray:
        return np.sort(rng.choice(size, count, replace=False))

    ones = np.ones
    return {
        ("body", "un"): (np.array([7]), ones(1)),  # one posting: a bitmap
        ("body", "zéro"): (np.array([0]), ones(1)),  # one posting, document 0
        ("body", "dense"): (spread(150_000, 200_000), rng.integers(1, 4, 150_000)),  # a bitmap
        ("body", "tout"): (np.arange(200_000), ones(200_000)),  # every document: one-byte gaps, deflated
        ("body", "dixième"): (spread(20_000, 200_000), rng.integers(1, 300, 20_000)),  # one-byte gaps; floats
        ("body", "cinquième"): (spread(300, 1_500), ones(300)),  # 2 low bits
        ("body", "rare"): (spread(300, 200_000), ones(300)),  # 8 low bits
        ("lede", "épars"): (np.r_[0, 3, spread(300, 199_990)[1:] + 5], ones(301) * 2),  # 8
        ("lede", "loin"): (np.array([1, 2, 199_999]), ones(3)),  # a gap of nearly everything: 16
        ("lede", "régulier"): (np.r_[np.arange(600) * 300, 199_999], ones(601)),  # two-byte gaps, an exception
        ("title", "flottants"): (spread(300, 6_000), rng.uniform(0.5, 3, 300)),  # 4; float frequencies
    }


def test_every_way_of_coding_a_list_reads_back(monkeypatch):
    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 1)
    monkeypatch.setattr(scorelists, "MIN_MAXIMA", 1)
    lists = lists_of_every_kind()
    data, lengths = written(lists, 200_000)
    read = ScoreLists(Bytes(data), len(data))
    assert read.b == 0.75 and read.window == scorelists.WINDOW
    lows = set()
    for (fieldname, term), (ids, tf) in lists.items():
        found_ids, found_tf = read.postings(fieldname, term)
        assert found_ids.dtype == np.int32 and found_tf.dtype == np.float32
        assert found_ids.tolist() == ids.tolist()
        assert found_tf.tolist() == tf.astype(np.float32).tolist()
        windows = read.windows(fieldname, term)
        numbers, exact = expected_windows(ids, tf, lengths, read.averages[fieldname])
        assert windows.numbers.tolist() == numbers
        assert_bounds(windows.maxima, exact)
        lows.add(read._find(fieldname, term).low)
    assert lows == {*scorelists._LOWS, scorelists._BITMAP, *scorelists._GAPS}  # every branch was taken
    assert read.postings("body", "absent") is None and read.windows("title", "un") is None
    assert read.has("lede", "loin") and not read.has("lede", "lo") and not read.has("lede", "loin2")


def test_a_list_shorter_than_min_maxima_is_kept_without_its_maxima():
    """A word in 300 articles of 200,000 has nearly a window per posting: its
    maxima would take about a byte a posting. Its postings are kept, not
    its windows; a list of MIN_MAXIMA postings keeps them."""
    rng = np.random.default_rng(2)
    rare = np.sort(rng.choice(200_000, 300, replace=False))
    common = np.sort(rng.choice(200_000, scorelists.MIN_MAXIMA, replace=False))
    lists = {("body", "rare"): (rare, np.ones(300)), ("body", "commun"): (common, np.ones(len(common)))}
    data, lengths = written(lists, 200_000)
    read = ScoreLists(Bytes(data), len(data))
    assert data.endswith(b"NSL6")
    assert read.postings("body", "rare")[0].tolist() == rare.tolist() and read.windows("body", "rare") is None
    windows = read.windows("body", "commun")
    numbers, exact = expected_windows(common, np.ones(len(common)), lengths, read.averages["body"])
    assert windows.numbers.tolist() == numbers
    assert_bounds(windows.maxima, exact)
    everything, _ = written(lists, 200_000, maxima=1)
    assert len(everything) - len(data) >= 300  # a byte a posting, and the windows' numbers or bitmap


def test_an_empty_list_is_not_written_and_a_file_of_none_reads():
    data, _ = written({("body", "rien"): (np.zeros(0, dtype=np.int64), np.zeros(0))}, 10)
    read = ScoreLists(Bytes(data), len(data))
    assert read.postings("body", "rien") is None and read.averages == {}


def test_lists_are_smaller_than_one_or_two_byte_gaps():
    """A word in one document of 400 takes under 11 bits a posting, not 16."""
    rng = np.random.default_rng(1)
    ids = np.sort(rng.choice(200_000, 500, replace=False))
    data, _ = written({("body", "rare"): (ids, np.ones(500))}, 200_000)
    stored = ScoreLists(Bytes(data), len(data))._find("body", "rare")
    assert stored.low == 8 and stored.numbers <= 500 * 11 / 8


def nsl4_lists() -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """What tests/data/scorelists-nsl4.nsl holds, as newsearch's ScoreListWriter
    of layout NSL4 (commit bffcb2c) wrote it: ``written(nsl4_lists(), 200_000)``
    with that writer. Lists of one-byte gaps, deflated or not, of two-byte
    gaps with exceptions, and of float frequencies."""
    rng = np.random.default_rng(4)
    return {
        ("body", "commun"): (np.sort(rng.choice(3_000, 2_000, replace=False)), np.ones(2_000)),
        ("body", "moyen"): (np.sort(rng.choice(3_000, 300, replace=False)), rng.integers(1, 9, 300)),
        ("lede", "loin"): (np.r_[np.arange(300) * 300, 199_999], np.ones(301)),
        ("title", "flottant"): (np.sort(rng.choice(3_000, 400, replace=False)), rng.uniform(0.5, 3, 400)),
    }


def nsl5_lists() -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """What tests/data/scorelists-nsl5.nsl holds, as newsearch's ScoreListWriter
    of layout NSL5 (commit 2ef8b96) wrote it: ``written(nsl5_lists(), 20_000)``
    with that writer. Every list with its maxima, the shortest too."""
    rng = np.random.default_rng(6)
    return {
        ("body", "commun"): (np.sort(rng.choice(20_000, 6_000, replace=False)), rng.integers(1, 4, 6_000)),
        ("body", "rare"): (np.sort(rng.choice(20_000, 300, replace=False)), np.ones(300)),
        ("lede", "moyen"): (np.sort(rng.choice(20_000, 1_500, replace=False)), np.ones(1_500) * 2),
        ("title", "flottant"): (np.sort(rng.choice(20_000, 400, replace=False)), rng.uniform(0.5, 3, 400)),
    }


@pytest.mark.parametrize(("fixture", "lists", "size", "layout"), [
    (NSL5, nsl5_lists, 20_000, b"NSL5"),
    (NSL4, nsl4_lists, 200_000, b"NSL4"),
])
def test_a_file_of_an_earlier_layout_is_read_as_before(fixture, lists, size, layout):
    data = fixture.read_bytes()
    assert data.endswith(layout)
    read = ScoreLists(Bytes(data), len(data))
    lengths = np.random.default_rng(size).integers(1, 300, size).astype(np.float64)
    for (fieldname, term), (ids, tf) in lists().items():
        found_ids, found_tf = read.postings(fieldname, term)
        assert found_ids.tolist() == ids.tolist() and found_tf.tolist() == tf.astype(np.float32).tolist()
        windows = read.windows(fieldname, term)
        numbers, exact = expected_windows(ids, tf, lengths, read.averages[fieldname])
        assert windows.numbers.tolist() == numbers
        assert_bounds(windows.maxima, exact)
    assert read.postings("body", "absent") is None and read.windows("body", "absent") is None


def w3_lists(engine: SearchEngine) -> list[tuple[ScoreLists, str, str, np.ndarray, np.ndarray, np.ndarray]]:
    """For each list of the index's segments long enough to have a score list: the
    segment's score lists, field, term, and the documents, frequencies and
    lengths in the field its W3 blocks hold."""
    arrays = engine._current().arrays
    found = []
    for (leaf, _), lists in zip(arrays._leaves, arrays.score_lists(), strict=True):
        for fieldname in lists.averages:
            for term in leaf.lexicon(fieldname):
                if leaf.doc_frequency(fieldname, term) < scorelists.MIN_POSTINGS:
                    continue
                matcher = leaf.postings(fieldname, term)
                ids, tf = [], []
                while matcher.is_active():
                    ids.append(matcher.id())
                    tf.append(matcher.weight())
                    matcher.next()
                lengths = np.array([leaf.doc_field_length(d, fieldname) for d in range(leaf.doc_count_all())],
                                   dtype=np.float64)
                found.append((lists, fieldname, term.decode(), np.array(ids), np.array(tf), lengths))
    return found


def small_lists(tmp_path, monkeypatch):
    """400 articles in ``a.jsonl``, for lists of 16 postings and more in windows of 4."""
    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 16)
    monkeypatch.setattr(scorelists, "MIN_MAXIMA", 16)
    monkeypatch.setattr(scorelists, "WINDOW", 4)
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in articles(400)),
                                      encoding="utf-8")


def test_score_lists_hold_what_the_w3_blocks_hold(tmp_path, monkeypatch):
    small_lists(tmp_path, monkeypatch)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        found = w3_lists(engine)
    assert len(found) > 50
    for lists, fieldname, term, ids, tf, lengths in found:
        stored_ids, stored_tf = lists.postings(fieldname, term)
        assert stored_ids.tolist() == ids.tolist() and stored_tf.tolist() == tf.astype(np.float32).tolist()
        windows = lists.windows(fieldname, term)
        numbers, exact = expected_windows(ids, tf, lengths, lists.averages[fieldname], lists.b)
        assert windows.numbers.tolist() == numbers
        assert_bounds(windows.maxima, exact)


def first_layout(lists: ScoreLists, terms: list[tuple[str, str]]) -> bytes:
    """The lists of ``terms`` in the layout of NSL2, as session 6's ScoreListWriter wrote it:
    raw gaps (and exceptions), raw frequencies, every window's number, the maxima."""
    out, directory = [], {}
    position = 0
    for fieldname, term in terms:
        ids, tf = lists.postings(fieldname, term)
        windows = lists.windows(fieldname, term)
        gaps = np.diff(ids.astype(np.int64), prepend=0)
        width = 1 if gaps.max() < 255 else 2
        escape = scorelists._ESCAPES[width]
        kind = scorelists._BYTES if (tf == np.round(tf)).all() and tf.max() < 256 else scorelists._FLOATS
        parts = [np.where(gaps >= escape, escape, gaps).astype(f"<u{width}").tobytes(),
                 gaps[gaps >= escape].astype("<u4").tobytes(),
                 (tf.astype(np.uint8) if kind == scorelists._BYTES else tf.astype("<f4")).tobytes(),
                 windows.numbers.astype("<u4").tobytes(), windows.maxima.astype("<f2").tobytes()]
        directory.setdefault(fieldname, {})[term.encode()] = (
            position, len(ids), width, int((gaps >= escape).sum()), kind, len(windows.numbers))
        for part in parts:
            part += b"\0" * (-len(part) % 4)
            out.append(part)
            position += len(part)
    pickled = pickle.dumps({"b": lists.b, "window": lists.window, "averages": lists.averages,
                            "terms": directory}, 4)
    return b"".join(out) + pickled + scorelists._FOOTER.pack(position, b"NSL2")


def test_score_lists_are_smaller_and_files_of_the_first_layout_read_the_same(tmp_path, monkeypatch):
    small_lists(tmp_path, monkeypatch)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        (lists,) = engine._current().arrays.score_lists()
        terms = [(fieldname, term) for _, fieldname, term, *_ in w3_lists(engine)]
    old = first_layout(lists, terms)
    again = ScoreLists(Bytes(old), len(old))
    for fieldname, term in terms:
        for mine, theirs in zip(lists.postings(fieldname, term), again.postings(fieldname, term), strict=True):
            assert mine.tolist() == theirs.tolist()
        mine, theirs = lists.windows(fieldname, term), again.windows(fieldname, term)
        assert mine.numbers.tolist() == theirs.numbers.tolist()
        assert mine.maxima.astype("<f2").tolist() == theirs.maxima.tolist() and mine.average == theirs.average
    assert len(lists.source.get(0, 1 << 30)) < len(old) / 2


def index_of_one_common_word(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    """An index where ``grève`` (every other article) has a score list with deflated
    frequencies, and the ids of the first page of two queries holding it."""
    records = [{"id": f"a{i}", "title": f"Article {i}",
                "body": "Grève." if i % 2 == 0 else "Le train roule encore."} for i in range(100)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a.jsonl"])
        expected = [[h.id for h in engine.search(q, limit=60)] for q in ("grève", "grève train")]
    return tmp_path / "ix", expected


def damage(index: Path, stored: bytes, damaged: bytes) -> None:
    """Replaces ``stored`` (found once in the index's files) by ``damaged``."""
    (holder,) = [p for p in index.iterdir() if p.is_file() and stored in p.read_bytes()]
    assert holder.read_bytes().count(stored) == 1
    holder.write_bytes(holder.read_bytes().replace(stored, damaged))


@pytest.mark.parametrize("part", ["frequencies", "numbers", "directory"])
def test_a_damaged_score_list_is_read_from_the_w3_blocks_instead(tmp_path, monkeypatch, part):
    monkeypatch.setattr(scorelists, "MIN_POSTINGS", 16)
    index, expected = index_of_one_common_word(tmp_path)
    with SearchEngine(index) as engine:
        (lists,) = engine._current().arrays.score_lists()
        entry = lists._find("body", "grev")
        assert entry.frequencies < 50  # 50 ones, deflated
        data = lists.source.get(0, 1 << 30)
    stored = data[entry.offset:entry.after_frequencies]  # the list's numbers and frequencies
    if part == "frequencies":
        at = entry.numbers + scorelists._pad(entry.numbers) + 4
        damaged = stored[:at] + bytes([stored[at] ^ 0xFF]) + stored[at + 1:]
    elif part == "numbers":  # the first byte of the document numbers (deflated gaps, all 2)
        damaged = bytes([stored[0] ^ 0x01]) + stored[1:]
    else:
        stored = data[-400:]
        damaged = stored[:300] + bytes(b ^ 0x55 for b in stored[300:-12]) + stored[-12:]
    damage(index, stored, damaged)
    with SearchEngine(index) as engine:
        (lists,) = engine._current().arrays.score_lists()
        if part == "directory":
            assert lists is None
        else:
            assert lists.postings("body", "grev") is None
        assert [[h.id for h in engine.search(q, limit=60)] for q in ("grève", "grève train")] == expected


def test_a_window_maximum_is_kept_as_the_least_bound_of_its_byte():
    rng = np.random.default_rng(3)
    maxima = np.r_[np.exp(rng.uniform(-5, 6, 100_000)), BOUNDS[:255], 1e-9, 97.0, 1e9]
    found = scorelists._bounding(maxima).astype(np.intp)
    assert (BOUNDS[found] >= maxima).all()
    assert (BOUNDS[found[found > 0] - 1] < maxima[found > 0]).all()
    tight = np.maximum(maxima * 2 ** (1 / 24), 1 / 16) * (1 + 1e-12)
    assert (BOUNDS[found] <= tight)[maxima <= BOUNDS[254]].all()
    assert found[-1] == found[-2] == 255 and BOUNDS[255] == np.inf
