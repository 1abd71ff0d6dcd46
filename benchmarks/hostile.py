"""Hostile queries against ordinary ones, on the first 5,000 OrangeSum articles.

Every query must be answered within a bound that does not depend on how it was
typed. This builds an index of the first ``--articles`` OrangeSum articles in
a temporary folder, times 50 ordinary short queries (title words) as the
baseline, then each hostile query (a 10,000-character word, 2,000
hyphen-joined parts, 100 ORed prefixes, a 2,000-word paste, ...) ``--runs``
times, and prints each hostile query's median time, slowest first, with its
ratio to the baseline median. Queries are described, never printed whole.
Needs ``../shared/corpora/orangesum`` next to the project; skips (exit 0) without it.

    python benchmarks/hostile.py                     # build, then time
    python benchmarks/hostile.py --index-dir /tmp/h  # keep the index for later runs
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpora" / "orangesum" / "orangesum_all.jsonl.gz"
LIMIT_RATIO = 20.0
"""A hostile query slower than this many ordinary ones needs a bound."""
_WORD = re.compile(r"[^\W\d_]{2,}")


def first_records(count: int) -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        lines = (line for line in fh if line.strip())
        return [json.loads(line) for line in itertools.islice(lines, count)]


def build(folder: Path, records: list[dict]) -> None:
    """Index ``records`` into ``folder`` (title, heading as the lede, article
    as the body, date, id), unless an index is already there."""
    from searchengine import SearchEngine

    if (folder / "index").is_dir():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "orangesum.jsonl"
    with open(source, "w", encoding="utf-8") as fh:
        for r in records:
            keep = {"id": r["id"], "title": r.get("title") or "", "lede": r.get("heading") or "",
                    "body": r.get("article") or "", "date": r.get("date")}
            fh.write(json.dumps(keep, ensure_ascii=False) + "\n")
    started = time.perf_counter()
    with SearchEngine(folder / "index") as engine:
        report = engine.index([source])
    print(f"indexed {report.added} articles ({report.failed} failed) in {time.perf_counter() - started:.1f} s",
          flush=True)


def ordinary(records: list[dict], count: int, rng: random.Random) -> list[str]:
    """2-3 words of at least 4 letters from the titles of random articles."""
    queries: list[str] = []
    while len(queries) < count:
        words = [w for w in _WORD.findall(rng.choice(records).get("title") or "") if len(w) >= 4]
        if len(words) >= 2:
            queries.append(" ".join(rng.sample(words, min(len(words), rng.randint(2, 3)))))
    return queries


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def hostile(records: list[dict], rng: random.Random) -> list[tuple[str, str]]:
    """(description, query) pairs: the issue's slow queries, and their kin."""
    from searchengine.analysis import STOP_WORDS

    counts = Counter(w.lower() for r in records[:1000] for w in _WORD.findall(r.get("article") or ""))
    common = [w for w, _ in counts.most_common(400)]
    vocabulary = sorted(counts)
    long_words = [w for w in vocabulary if len(w) >= 7]
    text = " ".join(r.get("article") or "" for r in records[:40]).split()
    paste = " ".join(text[:2_000])
    stops = sorted(w for w in STOP_WORDS if w.isalpha())
    titles = [w for r in records[:500] for w in _WORD.findall(r.get("title") or "") if len(w) >= 6]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        ("one word of 10,000 random letters", "".join(rng.choices(letters, k=10_000))),
        ("one word of 2,000 hyphen-joined corpus words", "-".join(rng.choices(vocabulary, k=2_000))),
        ("100 prefixes of 3-4 letters joined by OR", " OR ".join(w[:rng.randint(3, 4)] + "*"
                                                             for w in rng.sample(long_words, 100))),
        ("a 2,000-word paste (40 articles' bodies)", paste),
        ("100 ORed prefixes of two letters", " OR ".join(a + b + "*" for a, b in
                                                        rng.sample(list(itertools.product(letters, letters)), 100))),
        ("one word of 5,000 times the letter e", "e" * 5_000),
        ("500 nested parentheses around a word", "(" * 500 + "Macron" + ")" * 500),
        ("1,000 quote characters alone", '"' * 1_000),
        ("1,000 quotes between 1,000 words (500 phrases)", " ".join(f'"{w}' for w in rng.choices(common, k=1_000))),
        ("1,000 stop words", " ".join(rng.choices(stops, k=1_000))),
        ('the phrase "il y a"', '"il y a"'),
        ("a phrase of 40 common words", '"' + " ".join(common[:40]) + '"'),
        ("8 title words, each with a typo", " ".join(typo(w, rng) for w in rng.sample(titles, 8))),
        ("8 words of 40 random letters (the typo bound)",
         " ".join("".join(rng.choices(letters, k=40)) for _ in range(8))),
        ("a 2,000-word paste naming Poutine", "Poutine " + paste),
        ("a 2,000-word paste with one OR", paste.replace(" ", " OR ", 1)),
        ("1,000 words joined by AND", " AND ".join(rng.choices(vocabulary, k=1_000))),
        ("1,000 words joined by OR", " OR ".join(rng.choices(vocabulary, k=1_000))),
        ("1,000 title:word clauses", " ".join(f"title:{w}" for w in rng.choices(vocabulary, k=1_000))),
        ("one word and 1,000 exclusions", "France " + " ".join(f"-{w}" for w in rng.choices(vocabulary, k=1_000))),
        ("1,000 phrases of 2 common words", " ".join(f'"{a} {b}"' for a, b in
                                                     zip(rng.choices(common, k=1_000), rng.choices(common, k=1_000),
                                                         strict=True))),
        ("20,000 characters of controls, emoji and combining marks",
         "".join(rng.choices("\x00\x1b\x7f\x85\u202e\u0301🎉😀北京", k=20_000))),
    ]


def timed(search: Callable[[str], object], query: str, runs: int) -> float:
    """Median wall seconds of ``runs`` searches for ``query``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        search(query)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5_000, help="first N OrangeSum articles (default 5,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per hostile query (default 3)")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="build the index here and reuse it on later runs (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if not CORPUS.exists():
        print(f"SKIP: {CORPUS} is absent: the shared corpora are not on this machine")
        return 0

    from searchengine import BadQuery, SearchEngine

    records = first_records(args.articles)
    rng = random.Random(args.seed)
    baseline_queries = ordinary(records, 50, rng)
    hostile_queries = hostile(records, rng)
    with tempfile.TemporaryDirectory(prefix="newsearch-hostile-") as temporary:
        folder = args.index_dir or Path(temporary)
        build(folder, records)
        engine = SearchEngine(folder / "index")

        def search(query: str) -> object:
            try:
                return engine.search(query, limit=10)
            except BadQuery:
                return None

        for query in baseline_queries[:5]:  # open the index, fill caches
            search(query)
        baseline = [timed(search, q, 1) for q in baseline_queries]
        rows = []
        for description, query in hostile_queries:
            rows.append((timed(search, query, args.runs), description, len(query)))
            print(f"  {description}: {rows[-1][0] * 1000:.0f} ms", file=sys.stderr, flush=True)
        baseline += [timed(search, q, 1) for q in baseline_queries]  # the same load before and after
        engine.close()

    base = statistics.median(baseline)
    print(f"\n{len(records)} articles; baseline: {len(baseline_queries)} ordinary queries (2-3 title words), "
          f"timed before and after, median {base * 1000:.1f} ms, p95 "
          f"{sorted(baseline)[int(len(baseline) * 0.95)] * 1000:.1f} ms")
    print(f"hostile queries, median of {args.runs} runs, slowest first (over {LIMIT_RATIO:g}x the baseline: !):\n")
    print("| query | characters | median ms | × baseline |")
    print("|---|---|---|---|")
    for seconds, description, size in sorted(rows, reverse=True):
        flag = " !" if seconds > LIMIT_RATIO * base else ""
        print(f"| {description} | {size:,} | {seconds * 1000:.1f} | {seconds / base:.1f}{flag} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
