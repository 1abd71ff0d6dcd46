"""newsearch on a 2-node OpenSearch cluster against the local index, in the same run.

Indexes OrangeSum (or its first ``--articles``) into a local index and into the cluster, and prints:
  1. indexing speed, articles/s, of each home;
  2. p50/p95 latency in ms, snippets included, of short queries (2-4 title words of random articles)
     and lede queries (``knownitem_heading_test.tsv``), the same queries on both, one after the other;
  3. how many of those queries give the same ten ids in the same order on both (duplicates not folded
     locally: the cluster does not fold them yet);
  4. the relevance sets of ``benchmarks/relevance.py`` on both homes, side by side, MRR@10 and the
     difference (the issue's target: within 0.02): PIAF (``--piaf-sample N``: every Nth question;
     1, all 7,569, by default), OrangeSum known-item titles against a body-only index, and headline
     words (``--headline-count``) against the full index.

The cluster is the one ``--opensearch URLS`` (or ``NEWSEARCH_OPENSEARCH``) names, else one started by
``scripts/opensearch-cluster`` in a temporary folder and stopped at the end. Its indexes are named
``PREFIX-orangesum``, ``PREFIX-bodies`` and ``PREFIX-piaf`` (``--prefix``, default ``bench``).
With ``--index-dir DIR`` the local indexes are kept in DIR, and ``--reuse`` reuses both homes' indexes
when both exist (the indexing speed printed is then the one recorded when they were built, so say
so); otherwise every index is rebuilt. Needs ../shared; skips (exit 0) without it.

    python benchmarks/opensearch.py --articles 5000 --short 100 --ledes 50 --piaf-sample 5   # a quick look
    python benchmarks/opensearch.py --opensearch URLS --index-dir DIR --reuse                 # everything
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from queries import CORPUS, LEDES, lede_queries, percentile, read_corpus, short_queries  # noqa: E402
from relevance import PIAF, duplicates, headline_set, knownitem_set, load_piaf, read_orangesum, scores  # noqa: E402

SCRIPT = HERE.parent / "scripts" / "opensearch-cluster"
K = 10


def start_cluster(folder: Path) -> str:
    folder.chmod(0o755)
    done = subprocess.run([sys.executable, str(SCRIPT), "start", "--port", "0", "--dir", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"no cluster: {done.stderr.strip()}")
    return done.stdout.strip()


@dataclass
class Homes:
    """One collection in both homes: a local folder and a cluster index."""

    name: str
    local: Any
    cluster: Any

    def engines(self) -> dict[str, Any]:
        return {"local": self.local, "cluster": self.cluster}


def homes(name: str, paths: list[Path], count: int, folder: Path, urls: str, prefix: str, reuse: bool,
          fields: dict[str, str] | None = None) -> Homes:
    """Both homes of a collection, built here (articles/s printed and recorded) or reused."""
    from searchengine import SearchEngine
    from searchengine.errors import NewsearchError

    local = SearchEngine(folder / name)
    cluster = SearchEngine(opensearch=urls, opensearch_index=f"{prefix}-{name}")
    record = folder / f"{name}.json"
    if reuse and record.is_file():
        built = json.loads(record.read_text())
        try:
            held = {"local": local.info().articles, "cluster": cluster.info().articles}
        except NewsearchError:
            held = {}
        if held == built["articles"]:
            print(f"  {name}: reused ({held['local']:,} articles in each home); when built: "
                  + ", ".join(f"{label} {speed:,.0f} articles/s" for label, speed in built["speeds"].items()),
                  flush=True)
            return Homes(name, local, cluster)
        print(f"  {name}: not reusable (articles held: {held or 'unreadable'}), rebuilt", flush=True)
    speeds, articles = {}, {}
    for label, engine in (("local", local), ("cluster", cluster)):
        started = time.perf_counter()
        report = engine.index(paths, rebuild=True, fields=fields)
        seconds = time.perf_counter() - started
        speeds[label] = count / seconds
        articles[label] = report.added
        print(f"  {name} {label:8} {report.added} added, {report.failed} failed in {seconds:.1f} s: "
              f"{speeds[label]:,.0f} articles/s", flush=True)
    record.write_text(json.dumps({"speeds": speeds, "articles": articles}))
    return Homes(name, local, cluster)


def timed(both: Homes, kind: str, queries: list[str]) -> None:
    """p50/p95 of each home, one after the other, as a user searches (duplicates folded where the home
    folds them); then how many queries rank the same ten ids on both, duplicates not folded locally
    (the cluster does not fold them yet)."""
    runs: dict[str, list[list[str]]] = {}
    for label, engine in both.engines().items():
        times, ids = [], []
        for text in queries:
            started = time.perf_counter()
            results = engine.search(text, limit=K)
            times.append((time.perf_counter() - started) * 1000)
            ids.append([hit.id for hit in results])
        runs[label] = ids
        print(f"  {kind:6} {label:8} p50 {percentile(times, 50):7.1f} ms   p95 {percentile(times, 95):7.1f} ms",
              flush=True)
    unfolded = [[hit.id for hit in both.local.search(text, limit=K, collapse=False)] for text in queries]
    same = sum(a == b for a, b in zip(unfolded, runs["cluster"], strict=True))
    print(f"  {kind:6} same ten ids in the same order (local unfolded): {same} of {len(queries)}", flush=True)


def relevance(both: Homes, label: str, texts: list[str], relevant: list[set[str]]) -> None:
    """MRR@10 of both homes on one set, their difference, and how many queries rank alike."""
    runs = {}
    mrr = {}
    for home, engine in both.engines().items():
        started = time.perf_counter()
        runs[home] = [[hit.id for hit in engine.search(text, limit=K)] for text in texts]
        mrr[home] = scores(runs[home], relevant)["MRR@10"]
        print(f"  {label:10} {home:8} MRR@10 {mrr[home]:.4f}  ({time.perf_counter() - started:.0f} s)", flush=True)
    same = sum(a == b for a, b in zip(runs["local"], runs["cluster"], strict=True))
    difference = abs(mrr["local"] - mrr["cluster"])
    print(f"  {label:10} difference {difference:.4f} (target: at most 0.02); same ten ids in the same order: "
          f"{same} of {len(texts)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opensearch", default=os.environ.get("NEWSEARCH_OPENSEARCH"))
    parser.add_argument("--articles", type=int, default=None, help="index only the first N articles")
    parser.add_argument("--short", type=int, default=300)
    parser.add_argument("--ledes", type=int, default=100)
    parser.add_argument("--piaf-sample", type=int, default=1, help="every Nth PIAF question (1: all)")
    parser.add_argument("--headline-count", type=int, default=200)
    parser.add_argument("--no-relevance", action="store_true", help="latency only")
    parser.add_argument("--build-only", action="store_true", help="build (or reuse) the indexes, measure nothing else")
    parser.add_argument("--prefix", default="bench", help="cluster index names: PREFIX-orangesum, ...")
    parser.add_argument("--index-dir", type=Path, help="keep the local indexes (and build figures) here")
    parser.add_argument("--reuse", action="store_true", help="reuse both homes' indexes where both exist")
    args = parser.parse_args()
    if not CORPUS.exists() or not LEDES.exists() or not PIAF.exists():
        print("../shared is absent: nothing to measure")
        return 0
    with tempfile.TemporaryDirectory(prefix="newsearch-bench-") as tmp:
        folder = Path(tmp)
        urls = args.opensearch or start_cluster(folder / "cluster")
        kept = args.index_dir or folder / "indexes"
        kept.mkdir(parents=True, exist_ok=True)
        reuse = args.reuse and args.index_dir is not None
        try:
            started = time.perf_counter()
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
            full_name = "orangesum" if args.articles is None else f"orangesum{args.articles}"
            print(f"OrangeSum: {len(records):,} articles; cluster {urls}; load {os.getloadavg()[0]:.1f}", flush=True)
            full = homes(full_name, [corpus], len(records), kept, urls, args.prefix, reuse)
            if not args.build_only:
                timed(full, "short", short_queries(records, args.short, seed=1))
                timed(full, "lede", [q for q, _ in lede_queries(args.ledes)])
            if not args.no_relevance:
                queries, qrels = load_piaf()
                queries = queries[::args.piaf_sample]
                print(f"PIAF: {len(queries):,} questions (every {args.piaf_sample})", flush=True)
                piaf = homes("piaf", [PIAF / "piaf_v1.1_corpus.jsonl"], 1518, kept, urls, args.prefix, reuse)
                if not args.build_only:
                    relevance(piaf, "PIAF", [text for _, text in queries], [qrels[qid] for qid, _ in queries])

                if args.articles is None:
                    known = knownitem_set()
                    print(f"known-item: {len(known.texts):,} titles against the bodies", flush=True)
                    bodies = folder / "bodies.jsonl"
                    with open(bodies, "w", encoding="utf-8") as out:
                        for record in read_orangesum():
                            out.write(json.dumps({"id": record["id"], "article": record["article"]}) + "\n")
                    body_homes = homes("bodies", [bodies], len(records), kept, urls, args.prefix, reuse,
                                       fields={"body": "article"})
                    if not args.build_only:
                        relevance(body_homes, "known-item", known.texts, known.relevant)
                        head = headline_set(read_orangesum(), duplicates(), args.headline_count)
                        print(f"headlines: {len(head.texts)} queries of 2-4 title words (duplicates count)",
                              flush=True)
                        relevance(full, "headlines", head.texts, head.relevant)
            print(f"total {time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            if not args.opensearch:
                subprocess.run([sys.executable, str(SCRIPT), "stop", "--dir", str(folder / "cluster")], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
