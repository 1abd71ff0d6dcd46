"""newsearch on a 2-node OpenSearch cluster against the local index, in the same run.

Indexes OrangeSum (or its first ``--articles``) into a local index and into the cluster, and prints:
  1. indexing speed, articles/s, of each home;
  2. p50/p95 latency in ms, snippets included, of short queries (2-4 title words of random articles)
     and lede queries (``knownitem_heading_test.tsv``), the same queries on both;
  3. how many of those queries give the same ten ids in the same order on both;
  4. MRR@10 on PIAF (``--piaf-sample N``: every Nth question) for both, and their difference
     (the issue's target: within 0.02).

The cluster is the one ``--opensearch URLS`` (or ``NEWSEARCH_OPENSEARCH``) names, else one started by
``scripts/opensearch-cluster`` in a temporary folder and stopped at the end. Its indexes are named
``bench-orangesum`` and ``bench-piaf`` and rebuilt each run. Needs ../shared; skips (exit 0) without it.

    python benchmarks/opensearch.py --articles 5000 --short 100 --ledes 50 --piaf-sample 5   # a quick look
    python benchmarks/opensearch.py                                                           # everything
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from queries import CORPUS, LEDES, lede_queries, percentile, read_corpus, short_queries  # noqa: E402
from relevance import PIAF, load_piaf, scores  # noqa: E402

SCRIPT = HERE.parent / "scripts" / "opensearch-cluster"


def start_cluster(folder: Path) -> str:
    folder.chmod(0o755)
    done = subprocess.run([sys.executable, str(SCRIPT), "start", "--port", "0", "--dir", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"no cluster: {done.stderr.strip()}")
    return done.stdout.strip()


def index_both(name: str, paths: list[Path], local_dir: Path, urls: str, count: int) -> dict[str, object]:
    from searchengine import SearchEngine

    engines = {"local": SearchEngine(local_dir), "cluster": SearchEngine(opensearch=urls, opensearch_index=name)}
    for label, engine in engines.items():
        started = time.perf_counter()
        report = engine.index(paths, rebuild=True)
        seconds = time.perf_counter() - started
        print(f"  {label:8} {report.added} added, {report.failed} failed in {seconds:.1f} s: "
              f"{count / seconds:,.0f} articles/s", flush=True)
    return engines


def timed(engines: dict[str, object], kind: str, queries: list[str]) -> None:
    runs: dict[str, list[list[str]]] = {}
    for label, engine in engines.items():
        times, ids = [], []
        for text in queries:
            started = time.perf_counter()
            results = engine.search(text, limit=10)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - started) * 1000)
            ids.append([hit.id for hit in results])
        runs[label] = ids
        print(f"  {kind:6} {label:8} p50 {percentile(times, 50):7.1f} ms   p95 {percentile(times, 95):7.1f} ms",
              flush=True)
    same = sum(a == b for a, b in zip(runs["local"], runs["cluster"], strict=True))
    print(f"  {kind:6} same ten ids in the same order: {same} of {len(queries)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opensearch", default=os.environ.get("NEWSEARCH_OPENSEARCH"))
    parser.add_argument("--articles", type=int, default=None, help="index only the first N articles")
    parser.add_argument("--short", type=int, default=300)
    parser.add_argument("--ledes", type=int, default=100)
    parser.add_argument("--piaf-sample", type=int, default=1)
    args = parser.parse_args()
    if not CORPUS.exists() or not LEDES.exists() or not PIAF.exists():
        print("../shared is absent: nothing to measure")
        return 0
    with tempfile.TemporaryDirectory(prefix="newsearch-bench-") as tmp:
        folder = Path(tmp)
        urls = args.opensearch or start_cluster(folder / "cluster")
        try:
            records = read_corpus()
            corpus = CORPUS
            if args.articles is not None:
                records = records[:args.articles]
                corpus = folder / "orangesum.jsonl.gz"
                with gzip.open(CORPUS, "rt", encoding="utf-8") as src, gzip.open(corpus, "wt", encoding="utf-8") as out:
                    for n, line in enumerate(src):
                        if n >= args.articles:
                            break
                        out.write(line)
            print(f"OrangeSum: {len(records):,} articles; cluster {urls}", flush=True)
            engines = index_both("bench-orangesum", [corpus], folder / "orangesum", urls, len(records))
            timed(engines, "short", short_queries(records, args.short, seed=1))
            timed(engines, "lede", [q for q, _ in lede_queries(args.ledes)])

            queries, qrels = load_piaf()
            queries = queries[::args.piaf_sample]
            print(f"PIAF: {len(queries):,} questions", flush=True)
            engines = index_both("bench-piaf", [PIAF / "piaf_v1.1_corpus.jsonl"], folder / "piaf", urls, 1518)
            relevant = [qrels[qid] for qid, _ in queries]
            mrr = {}
            for label, engine in engines.items():
                runs = [[hit.id for hit in engine.search(text, limit=10)] for _, text in queries]  # type: ignore[attr-defined]
                mrr[label] = scores(runs, relevant)["MRR@10"]
                print(f"  {label:8} MRR@10 {mrr[label]:.4f}", flush=True)
            print(f"  difference {abs(mrr['local'] - mrr['cluster']):.4f} (target: at most 0.02)")
        finally:
            if not args.opensearch:
                subprocess.run([sys.executable, str(SCRIPT), "stop", "--dir", str(folder / "cluster")], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
