"""Time of small incremental updates to the OrangeSum index, under Whoosh's merge
policy and under newsearch's bounded one (``searchengine.indexing.merge_small_segments``).

Builds the index of the whole corpus once (``--jobs 1``; with ``--pieces N``,
in N runs of a growing collection, as an archive that grows day by day,
which leaves N segments), copies it for each policy, then runs ``--runs``
updates on each copy: every run writes one small
file of generated text (no corpus text) into a folder and indexes the corpus
and that folder, as a user re-running ``newsearch index`` after a new
article would. Prints each run's time and segment count, then the median and
the maximum per policy. Whoosh's policy now and then merges the big segment
with the small ones, which rewrites the whole index; the bounded one never
merges a segment of ``MERGE_MAX_DOCS`` documents or more.
Needs ``../shared/corpora/orangesum`` next to the project; skips (exit 0) without it.

    python benchmarks/updates.py               # full corpus, 15 runs per policy
    python benchmarks/updates.py --pieces 19    # a base index of 19 segments
    python benchmarks/updates.py --runs 30 --limit 5000
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from whoosh import writing  # noqa: E402

from searchengine import SearchEngine, indexing  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "orangesum" / "orangesum_all.jsonl.gz"
POLICIES = {"whoosh": writing.MERGE_SMALL, "bounded": indexing.merge_small_segments}
WORDS = ("gouvernement", "réforme", "élection", "hôpital", "grève", "budget", "ministre", "région",
         "tribunal", "entreprise", "climat", "école")


def small_article(folder: Path, number: int) -> None:
    """One new article of generated text, different from run to run."""
    words = [WORDS[(number * 7 + i * 5) % len(WORDS)] for i in range(60)]
    body = " ".join(words) + f" dépêche{number}."
    (folder / f"update_{number:03d}.txt").write_text(f"Mise à jour {number}\n\n{body}\n", encoding="utf-8")


def split(corpus: Path, folder: Path, pieces: int) -> list[Path]:
    """The corpus as ``pieces`` files of consecutive articles."""
    with gzip.open(corpus, "rb") as fh:
        lines = fh.readlines()
    size = -(-len(lines) // pieces)
    folder.mkdir()
    paths = []
    for number in range(pieces):
        path = folder / f"piece_{number:03d}.jsonl"
        path.write_bytes(b"".join(lines[number * size:(number + 1) * size]))
        paths.append(path)
    return paths


def build(corpus: Path, index_dir: Path, pieces: list[Path]) -> float:
    """One run over the corpus, or one run per piece, each adding the next."""
    started = time.perf_counter()
    with SearchEngine(index_dir) as engine:
        if pieces:
            for number in range(len(pieces)):
                engine.index(pieces[:number + 1], jobs=1)
        else:
            engine.index([corpus], jobs=1)
    return time.perf_counter() - started


def updates(sources: list[Path], index_dir: Path, folder: Path, runs: int) -> list[float]:
    """Each run's time, printed as it goes."""
    times = []
    for number in range(runs):
        small_article(folder, number)
        started = time.perf_counter()
        with SearchEngine(index_dir) as engine:
            report = engine.index([*sources, folder])
        seconds = time.perf_counter() - started
        times.append(seconds)
        segments = len(indexing.open_index(index_dir)._segments())
        print(f"  run {number + 1:2d}: {seconds:6.2f} s  ({report.added} added, {segments} segments)", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="updates per policy")
    parser.add_argument("--limit", type=int, default=0, help="index only the corpus's first N articles")
    parser.add_argument("--pieces", type=int, default=1, help="build the base index in this many runs")
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"{CORPUS} is absent: skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = CORPUS
        if args.limit:
            corpus = work / "corpus.jsonl.gz"
            with gzip.open(CORPUS, "rb") as src, gzip.open(corpus, "wb") as dst:
                for number, line in enumerate(src):
                    if number >= args.limit:
                        break
                    dst.write(line)
        pieces = split(corpus, work / "pieces", args.pieces) if args.pieces > 1 else []
        sources = pieces or [corpus]
        base = work / "base"
        seconds = build(corpus, base, pieces)
        segments = len(indexing.open_index(base)._segments())
        print(f"building the index of {corpus.name} (--jobs 1, {args.pieces} runs): {seconds:.1f} s, "
              f"{segments} segments", flush=True)
        results = {}
        for name, policy in POLICIES.items():
            print(f"{args.runs} updates of one small file each, {name} merge policy:", flush=True)
            index_dir = work / name
            shutil.copytree(base, index_dir)
            folder = work / f"{name}-updates"
            folder.mkdir()
            with mock.patch.object(indexing, "merge_small_segments", policy):
                results[name] = updates(sources, index_dir, folder, args.runs)
        print()
        print("| merge policy | median s | max s | total s |")
        print("|---|---|---|---|")
        for name, times in results.items():
            print(f"| {name} | {statistics.median(times):.2f} | {max(times):.2f} | {sum(times):.1f} |")


if __name__ == "__main__":
    main()
