"""One open index shared by many threads answers each of them as it answers one."""

import json
import random
import sys
import threading

import numpy as np
import pytest

from searchengine import SearchEngine, scoring

from .generated import articles

THREADS = 8
ROUNDS = 6
SEARCH_ROUNDS = 2
BOOSTS = {"title": 2.0, "lede": 1.5, "body": 1.0}


@pytest.fixture(autouse=True)
def switch_often():
    """Threads take turns every microsecond rather than every 5 ms, so that
    they interleave inside every read rather than between queries."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    """Two segments and replaced articles, as after an update."""
    folder = tmp_path_factory.mktemp("threads")
    records = articles(260)
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    first.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[:200]), encoding="utf-8")
    with SearchEngine(folder / "ix") as engine:
        engine.index([first])
        for r in records[:20]:
            r["body"] += " Mise à jour."
        first.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[:200]), encoding="utf-8")
        second.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[200:]), encoding="utf-8")
        engine.index([first, second])
    return folder / "ix"


def operations(arrays):
    """Every kind of read a query makes, as (name, callable returning plain values)."""
    reader, searcher = arrays.reader, arrays.searcher
    terms = sorted({t.decode() for f, t in reader.all_terms() if f == "body"})
    picked = random.Random(3).sample(terms, 40)
    some_docs = np.arange(0, arrays.size, 3, dtype=np.int32)
    ops = []
    for term in picked:
        ops.append((f"postings {term}", lambda t=term: [a.tolist() for a in arrays.postings("body", t)]))
        ops.append((f"bm25f {term}", lambda t=term: [a.tolist() for a in arrays.bm25f(t, BOOSTS)]))
        ops.append((f"positions {term}", lambda t=term: arrays.positions("body", t, some_docs)))
        ops.append((f"frequencies {term}",
                    lambda t=term: [a.tolist() for a in arrays.frequencies_in("body", t, some_docs)]))
    for term in ("gouvernement", "manifestation", "inondation", "entraineur", "universite"):
        ops.append((f"terms_within {term}", lambda t=term: sorted(reader.terms_within("body", t, 2, prefix=1))))
    for prefix in ("gr", "ma", "e", "p", "ch"):
        ops.append((f"expand_prefix {prefix}", lambda p=prefix: list(reader.expand_prefix("body", p))))
    for docnum in range(0, arrays.size, 7):
        ops.append((f"stored {docnum}", lambda d=docnum: searcher.stored_fields(d)))
    ops.append(("lengths", lambda: arrays.lengths("lede").tolist()))
    ops.append(("dates", lambda: arrays.dates().tolist()))
    ops.append(("doc_frequency", lambda: [arrays.doc_frequency("body", t) for t in picked]))
    return ops


def test_threads_sharing_one_index_get_the_answers_of_one(index_dir, monkeypatch):
    with SearchEngine(index_dir) as alone:
        expected = {name: run() for name, run in operations(alone._current().arrays)}
    # A small cache, so that threads also evict each other's lists.
    monkeypatch.setattr(scoring, "CACHED_POSTINGS", 3_000)
    with SearchEngine(index_dir) as shared:
        ops = operations(shared._current().arrays)
        start = threading.Barrier(THREADS)
        failures = []
        wrong = []

        def work(seed):
            order = ops * ROUNDS
            random.Random(seed).shuffle(order)
            start.wait()
            for name, run in order:
                try:
                    answer = run()
                except Exception as exc:  # noqa: BLE001 - every failure is counted, whatever it is
                    failures.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                if answer != expected[name]:
                    wrong.append(name)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert wrong == []


def test_threads_searching_one_engine_get_the_answers_of_one(index_dir):
    queries = ["grève gouvernement", "manifestaton", "hôpitaux soignants", '"réforme des retraites"',
               "Poutine -Macron", "minist*", "élections présidnt", "inondation pluie orage"]
    with SearchEngine(index_dir) as alone:
        expected = {q: [(h.id, h.score, h.snippet) for h in alone.search(q, limit=20)] for q in queries}
    with SearchEngine(index_dir) as shared:
        shared.search("x")  # open the searcher before the threads share it
        start = threading.Barrier(THREADS)
        answers = []
        failures = []

        def work(seed):
            order = queries * SEARCH_ROUNDS
            random.Random(seed).shuffle(order)
            start.wait()
            for query in order:
                try:
                    answers.append((query, [(h.id, h.score, h.snippet) for h in shared.search(query, limit=20)]))
                except Exception as exc:  # noqa: BLE001 - every failure is counted, whatever it is
                    failures.append(f"{query}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert [query for query, hits in answers if hits != expected[query]] == []
