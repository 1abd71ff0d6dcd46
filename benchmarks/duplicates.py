"""How well duplicate keys group OrangeSum's duplicates, and what they cost.

Against ``list_of_duplicates.txt`` (groups of articles OrangeSum lists as
duplicates; most share a title, and many are different stories under a
recurring title, such as a daily "le point sur la pandémie"):
  1. recall: the listed pairs the index's groups join, of all of them and of
     those whose bodies share at least half their word triples (Jaccard ≥ 0.5);
  2. precision: the grouped pairs the list does not hold, by the Jaccard
     similarity of their bodies, and a seeded sample of them to check by eye;
  3. cost, in CPU time (this machine is shared): computing the keys per
     article (against analysing the same bodies, in the same run), and
     grouping the index's keys when a snapshot opens.

    python benchmarks/duplicates.py --index-dir /work/bench/dupes-index/newsearch --sample 20

The index must be built from ``orangesum_all.jsonl.gz`` by this version
(``newsearch index ... --jobs 2``). Skips (exit 0) without the corpus.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORANGESUM = ROOT.parent / "shared" / "corpora" / "orangesum"
CORPUS = ORANGESUM / "orangesum_all.jsonl.gz"
LISTED = ORANGESUM / "list_of_duplicates.txt"
NEAR = 0.5


def triples(body: str) -> set[tuple[str, str, str]]:
    words = body.lower().split()
    return set(zip(words, words[1:], words[2:], strict=False))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def listed_pairs() -> set[tuple[int, int]]:
    pairs = set()
    for line in LISTED.read_text(encoding="utf-8").splitlines():
        ids = sorted(int(name.split(".")[0]) for name in line.split(",") if name.strip())
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True, help="an index of orangesum_all.jsonl.gz")
    parser.add_argument("--sample", type=int, default=20, help="grouped pairs not listed to print (default 20)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not CORPUS.exists() or not LISTED.exists():
        print(f"SKIP: {ORANGESUM} is absent: the shared corpora are not on this machine")
        return 0
    sys.path.insert(0, str(ROOT))
    from searchengine import SearchEngine
    from searchengine.analysis import FrenchAnalyzer
    from searchengine.duplicates import duplicate_key, load_groups

    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        records = {r["id"]: r for r in map(json.loads, fh)}
    bodies = [r.get("article") or "" for r in records.values()]

    started = time.process_time()
    for body in bodies:
        duplicate_key(body)
    key_s = time.process_time() - started
    analyzer = FrenchAnalyzer()
    started = time.process_time()
    for body in bodies:
        analyzer.terms(body)
    analyse_s = time.process_time() - started

    with SearchEngine(args.index_dir) as engine:
        snapshot = engine._current()
        started = time.process_time()
        groups = load_groups(snapshot.searcher, snapshot.arrays.live)
        group_s = time.process_time() - started
        if groups is None:
            print("the index has no duplicate keys: build it with this version")
            return 1
        doc_ids = {doc: int(snapshot.stored(doc, texts=False)["id"])
                   for doc in range(snapshot.arrays.size) if snapshot.arrays.live[doc]}
    members = defaultdict(list)
    for doc, article_id in doc_ids.items():
        if groups.grouped[doc]:
            members[int(groups.group[doc])].append(article_id)
    grouped = {(a, b) for ids in members.values() for i, a in enumerate(sorted(ids)) for b in sorted(ids)[i + 1:]}

    listed = {p for p in listed_pairs() if p[0] in records and p[1] in records}
    shingles = {}

    def similarity(pair: tuple[int, int]) -> float:
        for article_id in pair:
            if article_id not in shingles:
                shingles[article_id] = triples(records[article_id].get("article") or "")
        return jaccard(shingles[pair[0]], shingles[pair[1]])

    near = {p for p in listed if similarity(p) >= NEAR}
    extra = sorted(grouped - listed)
    bins = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.01]
    counts = [sum(lo <= similarity(p) < hi for p in extra) for lo, hi in zip(bins, bins[1:], strict=False)]

    print(f"{len(records):,} articles, {len(members):,} groups holding {sum(map(len, members.values())):,} "
          f"articles (largest {max(map(len, members.values()), default=0)}), {len(grouped):,} grouped pairs")
    print(f"recall, listed pairs:                        {len(listed & grouped):,} / {len(listed):,} "
          f"({len(listed & grouped) / len(listed):.1%})")
    print(f"recall, listed pairs with body Jaccard ≥ {NEAR}: {len(near & grouped):,} / {len(near):,} "
          f"({len(near & grouped) / len(near):.1%})")
    print(f"grouped pairs not listed: {len(extra):,}; by body Jaccard "
          + ", ".join(f"[{lo:.1f}, {min(hi, 1):.1f}): {n}" for lo, hi, n in zip(bins, bins[1:], counts, strict=False)))
    print(f"keys: {key_s / len(bodies) * 1e6:.0f} µs of CPU an article; analysing the same bodies: "
          f"{analyse_s / len(bodies) * 1e6:.0f} µs ({key_s / analyse_s:.1%} of it)")
    print(f"reading and grouping the index's keys when a snapshot opens: {group_s * 1000:.1f} ms of CPU")
    rng = random.Random(args.seed)
    for a, b in rng.sample(extra, min(args.sample, len(extra))):
        ra, rb = records[a], records[b]
        print(f"\n{a} / {b}: Jaccard {similarity((a, b)):.2f}, {ra.get('date')} / {rb.get('date')}")
        for r in (ra, rb):
            print(f"  {r['title'][:100]!r}")
            print(f"    {(r.get('article') or '')[:140]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
