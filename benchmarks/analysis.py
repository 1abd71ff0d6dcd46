"""Analyser throughput: our FrenchAnalyzer against Whoosh's LanguageAnalyzer("fr").

Runs each analyser over the first 10,000 OrangeSum bodies (``article`` field of
../shared/corpora/orangesum/orangesum_all.jsonl.gz) as Whoosh's writer would
(index mode, positions=True), consuming every token, and prints tokens/s
(median of 3 runs each, interleaved; CPU time of the process, wall time beside
it) and the ratio. A third row times ours as the fast writer calls it
(``term_positions``, terms with their positions). Each run makes a fresh
analyser (ours with empty caches, stock with a cold stem cache), so both warm
up inside the timed run. --profile adds a cProfile of one run of ours.

    python benchmarks/analysis.py [--articles 10000] [--runs 3] [--profile]

Skips (exit 0) when ../shared is not there.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import itertools
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ORANGESUM = SHARED / "corpora" / "orangesum" / "orangesum_all.jsonl.gz"
TARGET = 4.0


def load_bodies(count: int) -> list[str]:
    with gzip.open(ORANGESUM, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["article"] for line in itertools.islice(fh, count)]


def ours() -> Callable[..., Iterable[object]]:
    from searchengine.analysis import FrenchAnalyzer

    return FrenchAnalyzer()


def stock() -> Callable[..., Iterable[object]]:
    from whoosh.analysis import LanguageAnalyzer

    return LanguageAnalyzer("fr")


def run(make: Callable[[], Callable[..., Iterable[object]]], bodies: list[str]) -> tuple[int, float, float]:
    """Tokens produced, CPU seconds and wall seconds of one pass (analyser set-up included)."""
    started, cpu = time.perf_counter(), time.process_time()
    analyzer = make()
    tokens = 0
    for body in bodies:
        for _ in analyzer(body, positions=True):
            tokens += 1
    return tokens, time.process_time() - cpu, time.perf_counter() - started


def run_positions(bodies: list[str]) -> tuple[int, float, float]:
    """:func:`run` for ours as the fast writer calls it: each body's terms with their positions."""
    from searchengine.analysis import FrenchAnalyzer

    started, cpu = time.perf_counter(), time.process_time()
    term_positions = FrenchAnalyzer().term_positions
    tokens = 0
    for body in bodies:
        tokens += sum(map(len, term_positions(body).values()))
    return tokens, time.process_time() - cpu, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000, help="how many bodies (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each analyser (default 3)")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of ours")
    args = parser.parse_args()
    if not ORANGESUM.is_file():
        print(f"skipped: OrangeSum not found under {SHARED} (../shared is absent on this machine)")
        return 0

    bodies = load_bodies(args.articles)
    size = sum(len(b) for b in bodies)
    print(f"{len(bodies)} OrangeSum bodies, {size / 1e6:.1f} M characters, {args.runs} runs each")
    systems: dict[str, Callable[[list[str]], tuple[int, float, float]]] = {
        "ours (FrenchAnalyzer)": partial(run, ours),
        'stock LanguageAnalyzer("fr")': partial(run, stock),
        "ours, term_positions": run_positions,
    }
    times: dict[str, list[float]] = {name: [] for name in systems}
    walls: dict[str, list[float]] = {name: [] for name in systems}
    tokens: dict[str, int] = {}
    for _ in range(args.runs):
        for name, timed in systems.items():
            count, seconds, wall = timed(bodies)
            tokens[name] = count
            times[name].append(seconds)
            walls[name].append(wall)
            print(f"  {name}: {count:,} tokens in {seconds:.2f} s CPU ({wall:.2f} s wall)", flush=True)

    # CPU time of this process: on a shared, noisy machine wall time mostly measures the neighbours.
    print(f"\n{'analyser':<30}{'tokens':>12}{'CPU s':>8}{'tokens/s':>12}{'chars/s':>12}"
          f"{'wall s':>8}{'tokens/s wall':>15}")
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name in systems:
        wall = statistics.median(walls[name])
        print(f"{name:<30}{tokens[name]:>12,}{medians[name]:>8.2f}"
              f"{tokens[name] / medians[name]:>12,.0f}{size / medians[name]:>12,.0f}"
              f"{wall:>8.2f}{tokens[name] / wall:>15,.0f}")
    ours_name, stock_name, _ = list(systems)
    rate = (tokens[ours_name] / medians[ours_name]) / (tokens[stock_name] / medians[stock_name])
    speed = medians[stock_name] / medians[ours_name]
    verdict = "meets" if rate >= TARGET else "misses"
    print(f"\nratio ours/stock: {rate:.2f}x tokens/s, {speed:.2f}x on time for the same text "
          f"({verdict} the {TARGET:.0f}x target)")
    print(f"(ours keeps stop words and adds joined forms of hyphenated words: "
          f"{tokens[ours_name] / tokens[stock_name]:.2f}x the stock token count)")

    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        run(ours, bodies)
        profiler.disable()
        print("\ncProfile of one run of ours (by own time):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
