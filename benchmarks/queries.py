"""Query latency of newsearch against stock Whoosh on the full OrangeSum corpus.

Measures, snippets included, p50/p95 latency in ms of
  1. short queries: 2-4 title words of random articles (fixed seed),
  2. lede queries: the ~30-word ledes of ``knownitem_heading_test.tsv``
     (with how often the known article is in the top 10),
for newsearch (``SearchEngine.search(q, limit=10)``) and for stock Whoosh
(title + heading + article, ``LanguageAnalyzer("fr")``, ``MultifieldParser`` with
``OrGroup``, ``hit.highlights("article")``), then
  3. the wall time of ``newsearch query "..." --index-dir DIR`` in a fresh process.

Both indexes are built once into ``--index-dir`` and reused on later runs
(``--rebuild`` after a change to the schema or the analyser).
Needs ``../shared/corpora/orangesum`` next to the project; skips (exit 0) without it.

    python benchmarks/queries.py                      # everything (stock Whoosh ledes: 1 h or more)
    python benchmarks/queries.py --short 50 --ledes 30 # a quick run
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ORANGESUM = SHARED / "corpora" / "orangesum"
CORPUS = ORANGESUM / "orangesum_all.jsonl.gz"
LEDES = ORANGESUM / "knownitem_heading_test.tsv"
STOCK_NAME = "stock"
TARGETS = {"short": (10.0, 40.0), "lede": (None, 150.0)}
"""Our engine's targets: (p50, p95) in ms; None when there is none."""
CLI_TARGET_S = 0.3
_WORD = re.compile(r"[^\W\d_]{3,}")


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def read_corpus() -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def short_queries(records: list[dict], count: int, seed: int) -> list[str]:
    """2-4 non-stop-words, in title order, from the titles of random articles."""
    from whoosh.lang import stopwords_for_language

    from searchengine.analysis import STOP_WORDS, fold, stem

    whoosh_stops = set(stopwords_for_language("fr"))
    rng = random.Random(seed)
    queries: list[str] = []
    seen: set[str] = set()
    while len(queries) < count:
        title = rng.choice(records).get("title") or ""
        words = [w for w in _WORD.findall(title)
                 if w.lower() not in whoosh_stops and stem(fold(w)) not in STOP_WORDS]
        size = rng.randint(2, 4)
        if len(words) < size:
            continue
        picked = sorted(rng.sample(range(len(words)), size))
        text = " ".join(words[i] for i in picked)
        if text.lower() not in seen:
            seen.add(text.lower())
            queries.append(text)
    return queries


def lede_queries(count: int | None) -> list[tuple[str, str]]:
    with open(LEDES, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    pairs = [(r["query"], r["relevant_doc_id"]) for r in rows if r["query"].strip()]
    return pairs if count is None else pairs[:count]


def build_ours(folder: Path) -> float | None:
    """Seconds to build our index, None when it was already there."""
    from whoosh import index

    from searchengine import SearchEngine
    from searchengine.indexing import INDEX_NAME

    if folder.is_dir() and index.exists_in(str(folder), indexname=INDEX_NAME):
        return None
    shutil.rmtree(folder, ignore_errors=True)
    print(f"building the newsearch index in {folder} ...", flush=True)
    started = time.perf_counter()
    with SearchEngine(folder) as engine:
        report = engine.index([CORPUS])
    seconds = time.perf_counter() - started
    print(f"  {report.added} added, {report.failed} failed, {seconds:.1f} s", flush=True)
    return seconds


def build_stock(folder: Path, records: list[dict]) -> float | None:
    from whoosh import fields, index
    from whoosh.analysis import LanguageAnalyzer

    if folder.is_dir() and index.exists_in(str(folder), indexname=STOCK_NAME):
        return None
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"building the stock Whoosh index in {folder} ...", flush=True)
    started = time.perf_counter()
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=LanguageAnalyzer("fr"), stored=True),
        heading=fields.TEXT(analyzer=LanguageAnalyzer("fr"), stored=True),
        article=fields.TEXT(analyzer=LanguageAnalyzer("fr"), stored=True),
    )
    ix = index.create_in(str(folder), schema, indexname=STOCK_NAME)
    writer = ix.writer()
    for r in records:
        writer.add_document(id=str(r["id"]), title=r.get("title") or "",
                            heading=r.get("heading") or "", article=r.get("article") or "")
    writer.commit()
    seconds = time.perf_counter() - started
    print(f"  {len(records)} added, {seconds:.1f} s", flush=True)
    return seconds


class Timings:
    """Wall and CPU ms per query for one engine (CPU is what a noisy machine distorts least)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.ids: list[list[str]] = []

    def run(self, search, q: str) -> None:  # noqa: ANN001
        w, c = time.perf_counter(), time.process_time()
        ids = search(q)
        self.cpu.append((time.process_time() - c) * 1000)
        self.wall.append((time.perf_counter() - w) * 1000)
        self.ids.append(ids)

    def p(self, q: float, cpu: bool = False) -> float:
        return percentile(self.cpu if cpu else self.wall, q)


def time_queries(kind: str, queries: list[str], ours, stock) -> tuple[Timings, Timings]:  # noqa: ANN001
    """Interleaved, so the machine's noise hits both engines alike."""
    mine, theirs = Timings(), Timings()
    started = time.perf_counter()
    for n, q in enumerate(queries, 1):
        mine.run(ours, q)
        if stock is not None:
            theirs.run(stock, q)
        if n % 100 == 0 and n < len(queries):
            print(f"  {kind} {n}/{len(queries)} after {time.perf_counter() - started:.0f} s: newsearch p50 "
                  f"{mine.p(50):.1f} ms" + (f", stock {theirs.p(50):.1f} ms" if stock else ""),
                  file=sys.stderr, flush=True)
    return mine, theirs


def cli_times(index_dir: Path, text: str, runs: int) -> tuple[list[float], list[float]]:
    """Fresh-process wall times of `newsearch query`, and of a bare interpreter for scale."""
    script = Path(sys.executable).with_name("newsearch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "searchengine.cli"]
    # As a user's install runs: with its bytecode written and read (some shells set this).
    env = {k: v for k, v in os.environ.items()
           if k not in ("NEWSEARCH_INDEX", "PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE")}
    runs_s: list[float] = []
    bare_s: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([*command, "query", text, "--index-dir", str(index_dir), "--color", "never"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
        runs_s.append(time.perf_counter() - t0)
        if done.returncode not in (0, 1):
            sys.exit(f"newsearch query failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare_s.append(time.perf_counter() - t0)
    return runs_s, bare_s


def verdict(kind: str, p50: float, p95: float) -> str:
    t50, t95 = TARGETS[kind]
    ok = (t50 is None or p50 <= t50) and p95 <= t95
    goal = " / ".join(x for x in (f"p50<={t50:g}" if t50 else "", f"p95<={t95:g}") if x)
    return f"{'OK' if ok else 'MISS'} ({goal})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=Path(tempfile.gettempdir()) / "newsearch-bench",
                        help="cache folder for both indexes (default: %(default)s)")
    parser.add_argument("--short", type=int, default=200, metavar="N", help="short queries (default 200)")
    parser.add_argument("--ledes", type=int, default=None, metavar="N", help="lede queries (default: all)")
    parser.add_argument("--seed", type=int, default=2024, help="seed for the short queries")
    parser.add_argument("--no-stock", action="store_true", help="time only newsearch (no stock Whoosh)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild both cached indexes first")
    parser.add_argument("--cli-query", default="réforme des retraites",
                        help="query for the fresh-process run (default: %(default)s)")
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()

    if not CORPUS.exists() or not LEDES.exists():
        print(f"SKIP: {ORANGESUM} is absent: the shared corpora are not on this machine")
        return 0

    ours_dir = args.index_dir / "newsearch"
    stock_dir = args.index_dir / "whoosh"
    if args.rebuild:
        shutil.rmtree(ours_dir, ignore_errors=True)
        shutil.rmtree(stock_dir, ignore_errors=True)
    records = read_corpus()
    built_ours = build_ours(ours_dir)
    built_stock = None if args.no_stock else build_stock(stock_dir, records)

    from whoosh import index
    from whoosh.qparser import MultifieldParser, OrGroup

    from searchengine import SearchEngine

    engine = SearchEngine(ours_dir)

    def ours(q: str) -> list[str]:
        return [hit.id for hit in engine.search(q, limit=10)]

    stock = None
    if not args.no_stock:
        stock_ix = index.open_dir(str(stock_dir), indexname=STOCK_NAME)
        searcher = stock_ix.searcher()
        qparser = MultifieldParser(["title", "heading", "article"], stock_ix.schema, group=OrGroup)

        def stock(q: str) -> list[str]:
            ids = []
            for hit in searcher.search(qparser.parse(q), limit=10):
                hit.highlights("article")
                ids.append(hit["id"])
            return ids

    shorts = short_queries(records, args.short, args.seed)
    ledes = lede_queries(args.ledes)
    del records
    def built(seconds: float | None) -> str:
        return f"built in {seconds:.1f} s" if seconds else "reused"

    print(f"\nindexes in {args.index_dir}: newsearch {built(built_ours)}, "
          f"stock Whoosh {'skipped' if args.no_stock else built(built_stock)}")
    print(f"{len(shorts)} short queries (seed {args.seed}), e.g. {shorts[:3]}; {len(ledes)} lede queries, "
          f"median {statistics.median(len(q.split()) for q, _ in ledes):.0f} words")

    time_queries("warm-up", shorts[:5], ours, stock)  # open searchers, fill caches
    rows = []
    found = {}
    for kind, texts in (("short", shorts), ("lede", [q for q, _ in ledes])):
        print(f"timing {len(texts)} {kind} queries ...", flush=True)
        mine, theirs = time_queries(kind, texts, ours, stock)
        rows.append((kind, mine, theirs))
        if kind == "lede":
            wanted = [doc for _, doc in ledes]
            for name, got in (("newsearch", mine.ids), ("stock Whoosh", theirs.ids)):
                if got:
                    found[name] = sum(w in ids for w, ids in zip(wanted, got, strict=True)) / len(wanted)

    print("\nWall time, snippets included:")
    print("| queries | n | newsearch p50 / p95 ms | stock Whoosh p50 / p95 ms | stock / newsearch p50, p95 "
          "| newsearch vs target |")
    print("|---|---|---|---|---|---|")
    for kind, mine, theirs in rows:
        o50, o95 = mine.p(50), mine.p(95)
        if theirs.wall:
            s50, s95 = theirs.p(50), theirs.p(95)
            stock_cell, ratio = f"{s50:.1f} / {s95:.1f}", f"{s50 / o50:.1f}x, {s95 / o95:.1f}x"
        else:
            stock_cell = ratio = "-"
        print(f"| {kind} | {len(mine.wall)} | {o50:.1f} / {o95:.1f} | {stock_cell} | {ratio} "
              f"| {verdict(kind, o50, o95)} |")
    print("\nCPU time of this process (less sensitive to other load):")
    print("| queries | newsearch p50 / p95 ms | stock Whoosh p50 / p95 ms |")
    print("|---|---|---|")
    for kind, mine, theirs in rows:
        stock_cell = f"{theirs.p(50, True):.1f} / {theirs.p(95, True):.1f}" if theirs.cpu else "-"
        print(f"| {kind} | {mine.p(50, True):.1f} / {mine.p(95, True):.1f} | {stock_cell} |")
    for name, share in found.items():
        print(f"lede known-item in top 10, {name}: {share:.1%}")

    runs_s, bare_s = cli_times(ours_dir, args.cli_query, args.cli_runs)
    median = statistics.median(runs_s)
    print(f"\nfresh process `newsearch query {args.cli_query!r}`: median {median:.3f} s of {len(runs_s)} "
          f"({', '.join(f'{s:.3f}' for s in runs_s)}) {'OK' if median <= CLI_TARGET_S else 'MISS'} "
          f"(<= {CLI_TARGET_S} s); bare `python -c pass`: {statistics.median(bare_s):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
