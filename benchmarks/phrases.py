"""Phrase queries on existing indexes: this tree against another, in one run.

Each tree (this one, and ``--against``, a checkout of another commit, e.g.
from ``git worktree add``) answers in a process of its own that opens every
index. Each phrase is asked once of each process to warm its caches (as a
serving process asked it a moment ago would have them; the cache of posting
lists does not hold the lists of every phrase at ten times OrangeSum), then
``--repeat`` times, one tree after the other, so both see the same load.
Printed: median wall time and median CPU time (``time.process_time``, which
the load of other processes distorts least) of ``SearchEngine.search(phrase,
limit=10)`` with its snippets, the total each tree reports, and whether the
ten hits (ids and scores) are the same.

    python benchmarks/phrases.py --index-dir /path/x1/index --index-dir /path/x10/index --against /tmp/main
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
PHRASES = ('"il y a"', '"la France insoumise"', '"Le Monde"', '"il a été"', '"président de la République"',
           '"de la"', '"il y a" Macron', '"la France insoumise" Mélenchon')


def worker(indexes: list[str], phrases: list[str]) -> None:
    """Answer each line on stdin, the number of a query (index by index, then
    phrase by phrase), with one JSON line: wall and CPU seconds, the total
    (and whether exact) and the hits."""
    from searchengine import SearchEngine

    engines = [SearchEngine(path) for path in indexes]
    queries = [(engine, phrase) for engine in engines for phrase in phrases]
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip().isdigit():
            break
        engine, phrase = queries[int(line)]
        started, cpu = time.perf_counter(), time.process_time()
        results = engine.search(phrase, limit=10)
        print(json.dumps({"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                          "total": results.total, "exact": getattr(results, "total_exact", True),
                          "hits": [[hit.id, hit.score] for hit in results]}), flush=True)


def _start(tree: Path, indexes: list[str], phrases: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), *filter(None, [os.environ.get("PYTHONPATH")])])}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               *(arg for index in indexes for arg in ("--index-dir", index)),
               *(arg for phrase in phrases for arg in ("--phrase", phrase))]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tree)
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        sys.exit(f"the worker of {tree} did not start")
    return child


def _ask(child: subprocess.Popen[str], query: int) -> dict[str, Any]:
    stdin: IO[str] | None = child.stdin
    assert stdin is not None and child.stdout is not None
    stdin.write(f"{query}\n")
    stdin.flush()
    answer: dict[str, Any] = json.loads(child.stdout.readline())
    return answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", action="append", required=True, help="an index to query (repeatable)")
    parser.add_argument("--against", type=Path, help="another tree to compare with, run alternately")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each phrase (default %(default)s)")
    parser.add_argument("--phrase", action="append", help="a query to time (repeatable; default: a set of phrases)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    phrases = args.phrase or list(PHRASES)
    if args.worker:
        worker(args.index_dir, phrases)
        return 0
    trees = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    print(f"load {os.getloadavg()[0]:.1f}; {args.repeat} runs; trees: "
          + ", ".join(f"{name} {tree}" for name, tree in trees.items()), flush=True)
    children = {name: _start(tree, args.index_dir, phrases) for name, tree in trees.items()}
    keys = [(index, phrase) for index in args.index_dir for phrase in phrases]
    runs: dict[str, list[list[dict[str, Any]]]] = {name: [[] for _ in keys] for name in trees}
    for k in range(len(keys)):
        for child in children.values():
            _ask(child, k)
        for _ in range(args.repeat):
            for name, child in children.items():
                runs[name][k].append(_ask(child, k))
    for child in children.values():
        child.communicate("stop\n")
    print(f"load {os.getloadavg()[0]:.1f} at the end")
    names = list(trees)
    print("| index | query | " + " | ".join(f"{n} wall ms | {n} CPU ms | {n} total" for n in names)
          + (" | same top 10 |" if len(names) > 1 else " |"))
    print("|---|---|" + "---|---|---|" * len(names) + ("---|" if len(names) > 1 else ""))
    for k, (index, phrase) in enumerate(keys):
        cells = []
        for name in names:
            found = runs[name][k]
            total = f"{'' if found[0]['exact'] else '≥ '}{found[0]['total']:,}"
            cells += [f"{statistics.median(f['wall'] for f in found) * 1000:.1f}",
                      f"{statistics.median(f['cpu'] for f in found) * 1000:.1f}", total]
        same = [] if len(names) < 2 else ["yes" if runs[names[0]][k][0]["hits"] == runs[names[1]][k][0]["hits"]
                                          else "NO"]
        print(f"| {Path(index).parent.name or index} | `{phrase}` | " + " | ".join(cells + same) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
