"""Requests/s and latency of `newsearch serve` on the full OrangeSum index, from
1, 8 and 32 concurrent clients, alone and while `newsearch index` updates the
index, against the in-process time of the same queries.

Builds the index of ``benchmarks/queries.py`` (or reuses it from
``--index-dir``), copies it to a temporary folder, and there:

1. times ``SearchEngine.search(q, limit=10, facets=True)``, what
   ``/api/search`` runs, in this process for the benchmark's short queries;
2. starts ``newsearch serve --workers 2`` on a free loopback port;
3. for each number of clients, sends the short queries to ``/api/search`` for
   ``--seconds`` (each client one keep-alive connection, one request at a
   time), once alone and once while a loop writes a file of ``--batch`` new
   articles (generated text) and runs an incremental ``newsearch index``.

Prints requests/s, p50/p95/p99 latency and errors for each setting, next to the
in-process p50/p95, and the load average. Needs ``../shared/corpora/orangesum``
next to the project; skips (exit 0) without it.

    python benchmarks/serve.py                          # 20 s a setting: about 2.5 min after the build
    python benchmarks/serve.py --seconds 5 --clients 8
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from queries import CORPUS, build_ours, percentile, read_corpus, short_queries  # noqa: E402

NEWSEARCH = Path(sys.executable).with_name("newsearch")
TARGET = (8, 150.0, 50.0)
"""At 8 clients: at least 150 requests/s and a p95 of at most 50 ms (2 workers, 2 idle cores)."""
MAX_REQUESTS = 200_000
"""Requests one setting may send, whatever its duration."""
START_DEADLINE = 120.0
WORDS = ("gouvernement", "réforme", "élection", "hôpital", "grève", "budget", "ministre", "région",
         "tribunal", "entreprise", "climat", "école", "marché", "sénat", "emploi", "santé")


@dataclass
class Window:
    """What one setting saw: latencies of answered requests (ms), errors, index runs (s)."""

    clients: int
    reindex: bool
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    index_runs: list[float] = field(default_factory=list)
    index_failures: list[str] = field(default_factory=list)


def in_process(index_dir: Path, queries: list[str]) -> list[float]:
    """Wall ms of ``SearchEngine.search`` for each query, after a warm-up."""
    from searchengine import SearchEngine

    with SearchEngine(index_dir) as engine:
        for q in queries[:5]:
            engine.search(q, limit=10, facets=True)
        times = []
        for q in queries:
            started = time.perf_counter()
            engine.search(q, limit=10, facets=True)
            times.append((time.perf_counter() - started) * 1000)
    return times


def start_server(index_dir: Path, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    """``newsearch serve`` on a free loopback port, once ``/health`` answers."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(NEWSEARCH), "serve", "--index-dir", str(index_dir), "--port", "0",
                                 "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT)
    end = time.monotonic() + START_DEADLINE
    url = None
    while time.monotonic() < end and proc.poll() is None:
        if url is None:
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_text())
            url = found and found.group(1)
        else:
            try:
                if httpx.get(f"{url}/health", timeout=10).status_code == 200:
                    return proc, url
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"newsearch serve did not start:\n{log.read_text()}")


def client(url: str, queries: list[str], offset: int, deadline: float, budget: list[int], window: Window,
           lock: threading.Lock) -> None:
    """One user: a request, its answer, the next request, until the deadline."""
    latencies, errors = [], []
    with httpx.Client(base_url=url, timeout=30) as http:
        n = offset
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            q = queries[n % len(queries)]
            n += 1
            started = time.perf_counter()
            try:
                response = http.get("/api/search", params={"q": q})
                ms = (time.perf_counter() - started) * 1000
                if response.status_code == 200 and "hits" in response.json():
                    latencies.append(ms)
                else:
                    errors.append(f"{response.status_code} for {q!r}: {response.text[:200]}")
            except httpx.HTTPError as e:
                errors.append(f"{type(e).__name__} for {q!r}: {e}")
    with lock:
        window.latencies += latencies
        window.errors += errors


def reindex(index_dir: Path, extra: Path, batch: int, stop: threading.Event, window: Window) -> None:
    """Until ``stop``: a new file of ``batch`` articles, then ``newsearch index`` of the corpus and them."""
    while not stop.is_set():
        number = len(list(extra.iterdir()))
        records = [{"id": f"update-{number}-{i}", "title": f"Mise à jour {number}, dépêche {i}",
                    "date": "2024-01-01", "source": "Benchmark",
                    "body": " ".join(WORDS[(number * 7 + i * 5 + k * 3) % len(WORDS)] for k in range(80))}
                   for i in range(batch)]
        (extra / f"batch_{number:04d}.jsonl").write_text(
            "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run([str(NEWSEARCH), "index", str(CORPUS), str(extra), "--index-dir", str(index_dir),
                               "--quiet", "--wait", "60"], capture_output=True, text=True, check=False)
        window.index_runs.append(time.perf_counter() - started)
        if done.returncode != 0:
            window.index_failures.append(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")


def run_window(url: str, queries: list[str], clients: int, seconds: float, reindexing: tuple | None) -> Window:
    window = Window(clients, reindexing is not None)
    lock, stop = threading.Lock(), threading.Event()
    budget = [MAX_REQUESTS]
    indexer = None
    if reindexing:
        indexer = threading.Thread(target=reindex, args=(*reindexing, stop, window))
        indexer.start()
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=client, args=(url, queries, i * len(queries) // clients, deadline,
                                                     budget, window, lock)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window.seconds = time.monotonic() - started
    stop.set()
    if indexer:
        indexer.join()
    return window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=Path(tempfile.gettempdir()) / "newsearch-bench",
                        help="cache folder of benchmarks/queries.py's index (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each setting (default 20)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32], help="default: 1 8 32")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--short", type=int, default=200, metavar="N", help="short queries (default 200)")
    parser.add_argument("--seed", type=int, default=2024, help="seed for the short queries")
    parser.add_argument("--batch", type=int, default=300, help="articles each re-index run adds (default 300)")
    args = parser.parse_args()

    if not CORPUS.exists():
        print(f"SKIP: {CORPUS} is absent: the shared corpora are not on this machine")
        return 0
    cached = args.index_dir / "newsearch"
    build_ours(cached)
    queries = short_queries(read_corpus(), args.short, args.seed)
    load_before = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="newsearch-serve-") as tmp:
        work = Path(tmp)
        index_dir = work / "index"
        shutil.copytree(cached, index_dir)  # the re-index runs change it
        extra = work / "updates"
        extra.mkdir()
        local = in_process(index_dir, queries)
        local50, local95 = percentile(local, 50), percentile(local, 95)
        print(f"{len(queries)} short queries (seed {args.seed}), e.g. {queries[:3]}")
        print(f"in process, SearchEngine.search(q, limit=10, facets=True): p50 {local50:.1f} ms, "
              f"p95 {local95:.1f} ms", flush=True)

        proc, url = start_server(index_dir, args.workers, work / "server.log")
        try:
            for q in queries[:20]:  # each worker opens its searcher
                httpx.get(f"{url}/api/search", params={"q": q}, timeout=30)
            windows = []
            for reindexing in (None, (index_dir, extra, args.batch)):
                for clients in args.clients:
                    print(f"{clients} clients, {'during re-index' if reindexing else 'alone'}, "
                          f"{args.seconds:g} s ...", flush=True)
                    windows.append(run_window(url, queries, clients, args.seconds, reindexing))
            served = httpx.get(f"{url}/api/info", timeout=30).json()["articles"]
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    load_after = os.getloadavg()

    print(f"\n`newsearch serve --workers {args.workers}`, /api/search?q=… (limit 10, facets), "
          f"{os.cpu_count()} cores, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
          f"in process p50 {local50:.1f} / p95 {local95:.1f} ms")
    print("| clients | index | requests | req/s | p50 ms | p95 ms | p99 ms | errors | p50, p95 vs in process |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w in windows:
        lat = w.latencies
        p50, p95, p99 = (percentile(lat, q) for q in (50, 95, 99))
        runs = (f"{len(w.index_runs)} runs, median {sorted(w.index_runs)[len(w.index_runs) // 2]:.1f} s"
                if w.index_runs else "idle")
        print(f"| {w.clients} | {runs} | {len(lat):,} | {len(lat) / w.seconds:.0f} | {p50:.1f} | {p95:.1f} "
              f"| {p99:.1f} | {len(w.errors)} | {p50 / local50:.1f}×, {p95 / local95:.1f}× |")
    added = sum(len(w.index_runs) for w in windows) * args.batch
    print(f"articles served at the end: {served:,} (the corpus and {added:,} added by the re-index runs)")
    for w in windows:
        for problem in w.errors[:3] + w.index_failures[:3]:
            print(f"  {w.clients} clients{' during re-index' if w.reindex else ''}: {problem}")
    clients, rate, p95_ms = TARGET
    for w in windows:
        if w.clients == clients and not w.reindex:
            got_rate, got_p95 = len(w.latencies) / w.seconds, percentile(w.latencies, 95)
            ok = got_rate >= rate and got_p95 <= p95_ms and not w.errors
            print(f"target at {clients} clients, alone: >= {rate:g} req/s, p95 <= {p95_ms:g} ms, 0 errors: "
                  f"{'met' if ok else 'MISSED'} ({got_rate:.0f} req/s, p95 {got_p95:.1f} ms, "
                  f"{len(w.errors)} errors)")
    failed = sum(len(w.errors) + len(w.index_failures) for w in windows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
