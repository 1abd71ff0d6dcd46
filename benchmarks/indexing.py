"""Indexing throughput of newsearch against stock Whoosh on the OrangeSum corpus.

Measures, in one run (so both see the same machine load):
  1. stock Whoosh: title/heading/article ``TEXT`` fields with ``LanguageAnalyzer("fr")``,
     all stored, one default ``ix.writer()``, ``add_document`` per article, ``commit``;
  2. newsearch: ``SearchEngine(dir).index([file], memory_mb=..., jobs=...)`` for each
     ``--jobs`` value, then the same call again on the unchanged collection (re-index);
and prints for each: articles/s, MB/s of raw JSON input, seconds spent adding (reading
and parsing the JSON included, for both) vs committing, index size on disk, peak memory,
and the ratio ours/stock; for newsearch also index MB / JSON MB and the MB of each part
(postings, terms, stored texts, Whoosh's stored fields, score lists, states, duplicate keys, other columns).
On a shared machine, ``--repeat`` alternates the engines and
compares each one's best run; each row also gives the CPU seconds of the build (its
worker processes included) and the load average when it ended, since Linux shares CPU
time between sessions before processes: under load, ``--jobs 2`` gets no more CPU than
``--jobs 1`` (see ``searchengine.fastwriter.ParallelWriter``).

Each build runs in its own subprocess so that peak memory (``VmHWM`` of the process,
plus the largest ``ru_maxrss`` of its own worker processes) belongs to it alone.
Needs ``../shared/corpora/orangesum`` next to the project; skips (exit 0) without it.

    python benchmarks/indexing.py                       # full corpus, --jobs 1
    python benchmarks/indexing.py --jobs 1 2 --memory 256
    python benchmarks/indexing.py --limit 5000 --no-stock  # a quick run
    python benchmarks/indexing.py --jobs 1 2 --repeat 3   # on a busy machine
    python benchmarks/indexing.py --check --limit 2000 --memory 16  # same index as Whoosh's writer?
    python benchmarks/indexing.py --no-stock --jobs 2 --repeat 3 --baseline ../wt-base  # A/B against a checkout

``--baseline DIR`` builds with the ``searchengine`` package of another checkout
too (put first on ``PYTHONPATH``), alternating with this one build for build,
and ends with the medians of CPU seconds and wall time of each and their ratio:
on a shared machine only an A/B within one run means anything. Each row splits
the CPU time between the process that reads the articles (``main``) and its
worker processes (``workers``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpora" / "orangesum" / "orangesum_all.jsonl.gz"
TARGET_RATIO = 3.0


def peak_rss_mb() -> tuple[float, float]:
    """(this process's VmHWM, the largest ru_maxrss of its waited-for children), in MB."""
    own = 0.0
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def cpu_seconds() -> dict[str, float]:
    """User and system time of this process (``main_cpu_s``), of its waited-for
    workers (``workers_cpu_s``) and both (``cpu_s``): the work done, whatever
    share of the machine the build was given."""
    main, workers = (r.ru_utime + r.ru_stime
                     for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
    return {"cpu_s": main + workers, "main_cpu_s": main, "workers_cpu_s": workers}


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def read_lines(path: Path) -> list[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return [line for line in fh if line.strip()]


def child_stock(source: Path, index_dir: Path) -> dict:
    from whoosh import fields, index
    from whoosh.analysis import LanguageAnalyzer

    def text() -> fields.TEXT:
        return fields.TEXT(analyzer=LanguageAnalyzer("fr"), stored=True)

    schema = fields.Schema(title=text(), heading=text(), article=text())
    index_dir.mkdir(parents=True)
    count = 0
    started = time.perf_counter()
    ix = index.create_in(str(index_dir), schema)
    writer = ix.writer()
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rb") as fh:  # read as it goes, like newsearch
        for line in fh:
            if line.strip():
                record = json.loads(line)
                writer.add_document(title=record.get("title") or "", heading=record.get("heading") or "",
                                    article=record.get("article") or "")
                count += 1
    added = time.perf_counter()
    writer.commit()
    done = time.perf_counter()
    return {"articles": count, "add_s": added - started, "commit_s": done - added, "total_s": done - started,
            **cpu_seconds()}


def child_ours(source: Path, index_dir: Path, memory: int, jobs: int) -> dict:
    from searchengine import SearchEngine

    marks: list[float] = []
    started = time.perf_counter()
    with SearchEngine(index_dir) as engine:
        report = engine.index([source], memory_mb=memory, jobs=jobs,
                              progress=lambda _: marks.append(time.perf_counter()))
    done = time.perf_counter()
    if report.failed:
        raise SystemExit(f"{report.failed} failures: {report.problems[:3]}")
    # The progress callback fires once the file is read, just before the commit.
    added = marks[-1] if marks else done
    return {"articles": report.total, "added": report.added, "unchanged": report.unchanged,
            "code": str(Path(sys.modules["searchengine"].__file__ or "").parent.parent),
            "add_s": added - started, "commit_s": done - added, "total_s": done - started,
            **cpu_seconds()}


def index_contents(folder: Path, blocks: bool = True) -> tuple:
    """Everything a search can see: each term's postings (with block statistics,
    unless ``blocks`` is false, and term statistics), stored fields and field lengths."""
    from searchengine import whooshformat
    from searchengine.indexing import open_index

    postings: dict[tuple[str, bytes], Any] = {}
    with open_index(folder).reader() as reader:
        for fieldname, term in reader.all_terms():
            info = reader.term_info(fieldname, term)
            matcher = reader.postings(fieldname, term)
            seen = []
            while matcher.is_active():
                posting = (matcher.id(), matcher.weight(), matcher.value())
                if blocks:
                    posting += (matcher.block_max_weight(), matcher.block_min_length(), matcher.block_max_length())
                seen.append(posting)
                matcher.next()
            postings[fieldname, term] = (seen, info.weight(), info.doc_frequency(), info.min_length(),
                                         info.max_length(), info.max_weight(), info.min_id(), info.max_id())
        docs = range(reader.doc_count_all())
        stored = [whooshformat.StoredFields(reader)(d) for d in docs]
        lengths = {f: [reader.doc_field_length(d, f) for d in docs] for f in ("title", "lede", "body")}
    return postings, stored, lengths


def by_key(folder: Path, contents: tuple) -> tuple:
    """``index_contents`` with documents named by their key (from the state column)
    instead of numbered: the same for any split into segments. Block statistics and
    first and last document numbers, which depend on the order, are left out."""
    from searchengine.indexing import open_index

    with open_index(folder).reader() as reader:
        column = reader.column_reader("state")
        keys = [column[docnum].rsplit(b"\x1f", 2)[0] for docnum in range(reader.doc_count_all())]
    postings, stored, lengths = contents
    postings = {term: (sorted((keys[p[0]], *p[1:3]) for p in seen), *info[:5])
                for term, (seen, *info) in postings.items()}
    stored = sorted(zip(keys, map(sorted, (d.items() for d in stored)), strict=True))
    lengths = {f: sorted(zip(keys, values, strict=True)) for f, values in lengths.items()}
    return postings, stored, lengths


def same(what: str, ours: tuple, reference: tuple) -> bool:
    for part, mine, theirs in zip(("postings", "stored fields", "field lengths"), ours, reference, strict=True):
        if mine != theirs:
            print(f"check: {part} differ from {what}")
            return False
    print(f"check: same {len(ours[0])} terms, postings, stored fields and lengths as {what}")
    return True


def check_writer(source: Path, work: Path, memory: int) -> bool:
    """Index ``source`` with newsearch's writer, with Whoosh's own SegmentWriter in
    its place, and with ``--jobs 2``; True if a reader sees the same index (in any
    document order for ``--jobs 2``, whose segments are written side by side)."""
    from whoosh.writing import SegmentWriter

    from searchengine import fastwriter, indexing

    replaced = []

    class WhooshWriter(SegmentWriter):
        """Whoosh's writer, saying that it was the one used. ``lock=False`` (the
        run holds the lock) is FastWriter's word for Whoosh's ``_lk=False``."""

        def __init__(self, *args: Any, lock: bool = True, **kwargs: Any) -> None:
            replaced.append(self)
            super().__init__(*args, _lk=lock, **kwargs)

    indexing.update_index(work / "fast", [source], memory_mb=memory)
    with ExitStack() as stack:  # wherever indexing finds the writer class
        for module in (fastwriter, indexing):
            if hasattr(module, "FastWriter"):
                stack.enter_context(mock.patch.object(module, "FastWriter", WhooshWriter))
        indexing.update_index(work / "whoosh", [source], memory_mb=memory)
    if not replaced:
        print("check: Whoosh's SegmentWriter could not be put in FastWriter's place")
        return False
    indexing.update_index(work / "jobs2", [source], memory_mb=memory, jobs=2)
    segments = [s.doc_count_all() for s in indexing.open_index(work / "jobs2")._segments()]
    ours = index_contents(work / "fast")
    if not same("Whoosh's SegmentWriter", ours, index_contents(work / "whoosh")):
        return False
    print(f"check: --jobs 2 wrote segments of {segments} documents")
    return len(segments) > 1 and same("--jobs 1, by key",
                                      by_key(work / "jobs2", index_contents(work / "jobs2", blocks=False)),
                                      by_key(work / "fast", ours))


def run_child(kind: str, source: Path, index_dir: Path, memory: int, jobs: int, code: Path | None = None) -> dict:
    """One build in a subprocess; ``code``: a checkout whose ``searchengine`` it uses instead of this one's."""
    command = [sys.executable, __file__, "--child", kind, "--source", str(source),
               "--index-dir", str(index_dir), "--memory", str(memory), "--jobs", str(jobs)]
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(code), env.get("PYTHONPATH"))))
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode:
        raise SystemExit(f"{kind} build failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["index_mb"] = folder_mb(index_dir)
    if kind == "ours":
        from searchengine import whooshformat
        from searchengine.indexing import INDEX_NAME

        parts = whooshformat.part_sizes(index_dir, INDEX_NAME)
        result["parts_mb"] = {part: size / 2**20 for part, size in parts.items()}
    result["load"] = os.getloadavg()[0]
    return result


_PARTS = {"postings": (".pst",), "terms": (".trm",), "stored texts": (".nst",), "stored fields": ("stored.col",),
          "score lists": (".nsl",), "states": ("state.col",), "duplicate keys": ("dupkeys.col",)}


def size_row(r: dict, input_mb: float) -> str:
    """Where the index's bytes go (issue 15 asks for an index no larger than its JSON)."""
    parts = r["parts_mb"]
    named = {label: sum(parts.get(p, 0.0) for p in kinds) for label, kinds in _PARTS.items()}
    named["other columns"] = sum(parts.values()) - sum(named.values())
    split = ", ".join(f"{label} {mb:.1f}" for label, mb in named.items())
    return f"  index / JSON {r['index_mb'] / input_mb:.2f}; MB: {split}"


def row(name: str, r: dict, input_mb: float) -> str:
    rate = r["articles"] / r["total_s"]
    return (f"{name:<22} {r['articles']:>8} {r['add_s']:>7.1f} {r['commit_s']:>8.1f} {r['total_s']:>7.1f} "
            f"{rate:>7.0f} {input_mb / r['total_s']:>6.2f} {r['index_mb']:>8.1f} "
            f"{r['peak_mb']:>7.0f} {r['workers_mb']:>8.0f} {r['cpu_s']:>6.1f} "
            f"{r.get('main_cpu_s', r['cpu_s']):>6.1f} {r.get('workers_cpu_s', 0.0):>7.1f} {r['load']:>5.2f}")


def print_ab(every: dict[str, list[dict]], jobs: list[int]) -> None:
    """The medians of each build's CPU seconds and wall time, this checkout against the baseline."""
    for count in jobs:
        ours, base = every[f"newsearch --jobs {count}"], every[f"baseline --jobs {count}"]
        print(f"--jobs {count}: this checkout is {ours[0]['code']}, the baseline {base[0]['code']}")
        for key, label in (("cpu_s", "CPU s"), ("total_s", "wall s")):
            mine, theirs = (statistics.median(r[key] for r in runs) for runs in (ours, base))
            print(f"--jobs {count}, median {label} of {len(ours)}: baseline {theirs:.1f}, this checkout {mine:.1f}"
                  f" ({mine / theirs:.3f}x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1], help="newsearch --jobs values to run")
    parser.add_argument("--memory", type=int, default=256, help="newsearch --memory (MB)")
    parser.add_argument("--limit", type=int, help="index only the first N articles")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock Whoosh build")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every build N times, alternating engines; ratios use each one's best")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also build with the searchengine package of the checkout DIR, alternating (A/B)")
    parser.add_argument("--corpus", type=Path, default=CORPUS,
                        help="JSON-lines file of articles, optionally .gz (default: OrangeSum)")
    parser.add_argument("--check", action="store_true",
                        help="only check that newsearch's writer writes what Whoosh's would (use --limit)")
    parser.add_argument("--child", choices=["stock", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "stock":
            result = child_stock(args.source, args.index_dir)
        else:
            result = child_ours(args.source, args.index_dir, args.memory, args.jobs[0])
        result["peak_mb"], result["workers_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return 0

    if not args.corpus.exists():
        print(f"skipped: {args.corpus} is absent (the shared corpora are not on this machine)")
        return 0
    if args.baseline is not None and not (args.baseline / "searchengine" / "__init__.py").is_file():
        parser.error(f"--baseline {args.baseline}: no searchengine package there")

    work = Path(tempfile.mkdtemp(prefix="newsearch-bench-"))
    try:
        lines = read_lines(args.corpus)
        source = args.corpus
        if args.limit:
            lines = lines[:args.limit]
            source = work / "orangesum_head.jsonl"
            source.write_bytes(b"".join(lines))
        input_mb = sum(len(line) for line in lines) / 2**20
        if args.check:
            return 0 if check_writer(source, work, args.memory) else 1
        print(f"{len(lines)} articles, {input_mb:.1f} MB of JSON; memory {args.memory} MB; "
              f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
        print(f"{'engine':<22} {'articles':>8} {'add s':>7} {'commit s':>8} {'total s':>7} "
              f"{'art/s':>7} {'MB/s':>6} {'index MB':>8} {'peak MB':>7} {'workers':>8} {'cpu s':>6} "
              f"{'main':>6} {'workers':>7} {'load':>5}", flush=True)
        best: dict[str, dict] = {}
        every: dict[str, list[dict]] = {}
        for round_ in range(args.repeat):
            runs: list[tuple[str, str, int, Path | None]] = []
            if not args.no_stock:
                runs.append(("stock", "stock whoosh", 1, None))
            for jobs in args.jobs:
                pair = [("ours", f"newsearch --jobs {jobs}", jobs, None)]
                if args.baseline is not None:  # alternating which goes first
                    pair.insert(round_ % 2, ("ours", f"baseline --jobs {jobs}", jobs, args.baseline))
                runs += pair
            for kind, name, jobs, code in runs:
                folder = work / name.replace(" ", "")
                result = run_child(kind, source, folder, args.memory, jobs, code)
                print(row(name, result, input_mb), flush=True)
                if kind == "ours":
                    print(size_row(result, input_mb), flush=True)
                if name not in best or result["total_s"] < best[name]["total_s"]:
                    best[name] = result
                every.setdefault(name, []).append(result)
                if kind == "ours" and args.baseline is None:
                    again = run_child(kind, source, folder, args.memory, jobs)
                    print(row("  re-index unchanged", again, input_mb), flush=True)
                    if again["unchanged"] != result["articles"]:
                        print(f"  warning: re-index saw {again['unchanged']} unchanged articles")
                    print(f"  re-index took {again['total_s']:.2f} s = "
                          f"{100 * again['total_s'] / result['total_s']:.1f} % of the full build", flush=True)
                shutil.rmtree(folder)
        if args.baseline is not None:
            print_ab(every, args.jobs)
        if "stock whoosh" in best:
            stock = best.pop("stock whoosh")
            stock_rate = stock["articles"] / stock["total_s"]
            for name, result in best.items():
                ratio = result["articles"] / result["total_s"] / stock_rate
                verdict = "meets" if ratio >= TARGET_RATIO else "below"
                print(f"ours/stock articles/s, {name}: {ratio:.2f}x ({verdict} the {TARGET_RATIO:.0f}x target)"
                      + (f", best of {args.repeat} runs each" if args.repeat > 1 else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
