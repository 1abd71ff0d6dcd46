"""Build and query figures of newsearch at archive scale: 1x, 3x and 10x OrangeSum.

A newsroom's archive holds millions of articles; OrangeSum holds 36,152. This benchmark
builds synthetic collections of N times OrangeSum and prints, for each size and in one run:
build articles/s (``newsearch index --jobs 2``), peak memory of the build, index MB against
JSON MB, p50/p95 of short and lede queries (the query sets of ``benchmarks/queries.py``),
phrases of stop words, single common words, and a fresh-process ``newsearch query``; then
the growth ratio of each figure against the smallest size.

The generator (deterministic: the same ``--seed`` gives the same bytes). A collection of N
times OrangeSum is N copies, one JSON-lines file each, so the 1x collection is part of the
3x one, which is part of the 10x one, and files are generated once for every size:
  - copy 0 is OrangeSum itself, byte for byte: the 1x figures are those of the real corpus;
  - copy k (1 <= k < N) keeps every article's title and lede; its body keeps each sentence
    of the real body with probability 1/2 and otherwise puts in its place a sentence drawn
    uniformly from the sentences of all OrangeSum bodies (so bodies keep their length and
    part of their topic, while every copy has its own term statistics); its date is a day
    drawn uniformly from 2010-01-01 to 2024-12-31 (15 years); its id is ``<id>-<k>``
    (OrangeSum ids are numbers, so every id is unique).
Sentences are cut after ``.``, ``!`` or ``?`` that follow a lower-case letter or digit and
come before a capital, with or without a space (OrangeSum often glues them:
``jeudi.Le gouvernement``); recombined sentences are joined with one space.

Generated files and indexes go to ``--workdir`` (default under the system temp dir), never
into the project: ``data/`` holds the copies (reused when present; the generator version
and seed are in their names) and ``x<N>/index`` the index of N copies, with ``build.json``,
the figures of its build. By default each size is built again; ``--reuse`` keeps an index
built from the same collection and prints the figures recorded when it was built, marked
with that date. Queries of every size are interleaved, so the machine's noise hits all
sizes alike. Peak memory is the largest process of the build (exact, ``ru_maxrss`` of it
and its workers) and the sum over its processes (sampled twice a second).
The ``newsearch`` measured is the one beside this interpreter, with this environment, so
``PYTHONPATH=$PWD`` measures the working tree's code; its commit is printed.
Needs ``../shared/corpora/orangesum`` next to the project; skips (exit 0) without it.

    python benchmarks/scale.py                                # 1x, 3x, 10x: about an hour on 2 cores
    python benchmarks/scale.py --sizes 1,10 --workdir /work/bench/scale --reuse
    python benchmarks/scale.py --sizes 1,3 --short 50 --ledes 50   # a quicker run
    python benchmarks/scale.py --sizes 10 --build-only        # only generate and build

A 10x build (361,520 articles, 0.85 GB of JSON in its copies) writes 1.3 GB of index, and
about twice that while it merges; with ``--jobs 2 --memory 256`` its processes peak at about
1.2 GB in all (0.75 GB the largest, the one that merges at the end).
"""

from __future__ import annotations

import argparse
import datetime as dt
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
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from queries import (  # noqa: E402
    CORPUS,
    LEDES,
    ORANGESUM,
    Timings,
    cli_times,
    lede_queries,
    read_corpus,
    short_queries,
)

GENERATOR = 1
"""Version of the generator, part of the copies' file names: bump it on any change to it."""
FIRST_DAY = dt.date(2010, 1, 1)
DAYS = (dt.date(2025, 1, 1) - FIRST_DAY).days
KEEP = 0.5
"""Probability that a sentence of a copy's body is the real article's own."""
PHRASES = ('"il y a"', '"Le Monde"', '"la France insoumise"')
WORDS = ("France", "Paris", "gouvernement", "président", "mardi")
CLI_QUERY = "réforme des retraites"
ORANGESUM_ARTICLES = 36_152
_SENTENCE_END = re.compile(r"(?<=[a-zà-ÿ0-9][.!?])\s*(?=[A-ZÀ-Ý])")
NEWSEARCH = Path(sys.executable).with_name("newsearch")


# --- the collections ---------------------------------------------------------------------------

def sentences(body: str) -> list[str]:
    """The sentences of one body, glued ones (``jeudi.Le``) cut apart."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(body)) if s]


def synthetic_copy(records: list[dict], pool: list[str], copy: int, seed: int) -> Iterator[dict]:
    """Copy ``copy`` (>= 1) of OrangeSum, as the module's docstring describes it."""
    rng = random.Random(f"newsearch-scale:{GENERATOR}:{seed}:{copy}")
    for record in records:
        body = " ".join(s if rng.random() < KEEP else pool[rng.randrange(len(pool))]
                        for s in sentences(record.get("article") or ""))
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        yield {"id": f"{record['id']}-{copy}", "title": record.get("title") or "", "date": day.isoformat(),
               "heading": record.get("heading") or "", "article": body}


def copy_path(data: Path, copy: int, seed: int) -> Path:
    return data / f"orangesum-g{GENERATOR}-s{seed}-{copy:02d}.jsonl"


def collection(data: Path, size: int, seed: int) -> list[Path]:
    """The files of ``size`` copies, generating those that are missing (each written
    under a temporary name, then renamed: a file present is a whole one)."""
    data.mkdir(parents=True, exist_ok=True)
    paths = [copy_path(data, k, seed) for k in range(size)]
    missing = [k for k, p in enumerate(paths) if not p.exists()]
    records: list[dict] = []
    pool: list[str] = []
    if any(k > 0 for k in missing):
        records = read_corpus()
        pool = [s for r in records for s in sentences(r.get("article") or "")]
    for k in missing:
        started = time.perf_counter()
        part = paths[k].with_name(f"{paths[k].name}.{os.getpid()}.part")
        if k == 0:
            with gzip.open(CORPUS, "rb") as src, open(part, "wb") as out:
                shutil.copyfileobj(src, out)
        else:
            with open(part, "w", encoding="utf-8") as out:
                for record in synthetic_copy(records, pool, k, seed):
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
        os.replace(part, paths[k])
        print(f"  generated {paths[k].name}: {paths[k].stat().st_size / 2**20:.0f} MB in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    return paths


# --- building -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Build:
    """Figures of one build, saved beside its index as ``build.json``."""

    size: int
    generator: int
    seed: int
    articles: int
    seconds: float
    cpu_seconds: float
    largest_mb: float
    total_mb: float
    load: float
    code: str
    when: str

    @property
    def rate(self) -> float:
        return self.articles / self.seconds


def code_version() -> str:
    """Where the ``searchengine`` this interpreter imports comes from, and its commit."""
    import searchengine

    where = Path(searchengine.__file__).resolve().parents[1]
    done = subprocess.run(["git", "-C", str(where), "log", "-1", "--format=%h %s"],
                          capture_output=True, text=True, check=False)
    return f"{where} @ {done.stdout.strip()[:70] or 'no git commit'}"


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in MB."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                    parents[int(entry.name)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20


def build(files: list[Path], folder: Path, size: int, seed: int, jobs: int, memory: int) -> Build:
    """``newsearch index --rebuild --jobs N`` of ``files`` into ``folder``/index, timed."""
    index_dir = folder / "index"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    command = [str(NEWSEARCH), "index", *map(str, files), "--index-dir", str(index_dir), "--rebuild",
               "--jobs", str(jobs), "--memory", str(memory), "--quiet"]
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSEARCH_INDEX", "PYTHONDONTWRITEBYTECODE")}
    print(f"building x{size} ({len(files)} files) with --jobs {jobs} --memory {memory} ...", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], tree_rss_mb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"newsearch index failed ({process.returncode}): {stderr.decode(errors='replace')[-2000:]}")
    from searchengine import SearchEngine

    with SearchEngine(index_dir) as engine:
        articles = engine.info().articles
    result = Build(size=size, generator=GENERATOR, seed=seed, articles=articles, seconds=seconds,
                   cpu_seconds=usage.ru_utime + usage.ru_stime, largest_mb=usage.ru_maxrss / 1024,
                   total_mb=peak[0], load=os.getloadavg()[0], code=code_version(),
                   when=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    (folder / "build.json").write_text(json.dumps(asdict(result), indent=1), encoding="utf-8")
    said = stderr.decode(errors="replace").strip().splitlines()
    if articles != len(files) * ORANGESUM_ARTICLES:
        print(f"  warning: {articles:,} articles indexed, not {len(files) * ORANGESUM_ARTICLES:,}", flush=True)
    print(f"  {said[-1] if said else 'built'}; {result.rate:,.0f} articles/s, "
          f"peak {result.largest_mb:,.0f} MB (largest process), {result.total_mb:,.0f} MB (all), "
          f"load {result.load:.1f}", flush=True)
    return result


def reusable(folder: Path, size: int, seed: int) -> Build | None:
    """The recorded build of ``folder`` when its index holds this very collection."""
    try:
        recorded = Build(**json.loads((folder / "build.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    same = (recorded.size, recorded.generator, recorded.seed) == (size, GENERATOR, seed)
    return recorded if same and (folder / "index").is_dir() else None


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


# --- querying -----------------------------------------------------------------------------------

def interleaved(searches: dict[int, Callable[[str], list[str]]], texts: list[str], kind: str) -> dict[int, Timings]:
    """Each text on every size in turn (the order rotating), so noise hits all sizes alike."""
    sizes = list(searches)
    timings = {size: Timings() for size in sizes}
    started = time.perf_counter()
    for n, text in enumerate(texts):
        for size in sizes[n % len(sizes):] + sizes[:n % len(sizes)]:
            timings[size].run(searches[size], text)
        if (n + 1) % 100 == 0 and n + 1 < len(texts):
            print(f"  {kind} {n + 1}/{len(texts)} after {time.perf_counter() - started:.0f} s", file=sys.stderr,
                  flush=True)
    return timings


@dataclass
class Row:
    """One line of the table: a figure per size."""

    label: str
    values: dict[int, float]
    fmt: str = "{:,.1f}"
    note: dict[int, str] | None = None

    def cells(self, sizes: list[int]) -> list[str]:
        notes = self.note or {}
        return [self.fmt.format(self.values[s]) + notes.get(s, "") for s in sizes]

    def ratios(self, sizes: list[int]) -> list[str]:
        base = self.values[sizes[0]]
        return [f"{self.values[s] / base:.1f}x" if base else "-" for s in sizes[1:]]


def table(rows: list[Row], sizes: list[int]) -> None:
    """Markdown: a column per size, then each size's ratio to the smallest."""
    head = [f"x{s}" for s in sizes] + [f"x{s}/x{sizes[0]}" for s in sizes[1:]]
    print("| figure | " + " | ".join(head) + " |")
    print("|---" * (len(head) + 1) + "|")
    for row in rows:
        print(f"| {row.label} | " + " | ".join(row.cells(sizes) + row.ratios(sizes)) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "newsearch-scale",
                        help="folder for the generated copies and the indexes (default: %(default)s)")
    parser.add_argument("--sizes", default="1,3,10", help="sizes, in copies of OrangeSum (default: %(default)s)")
    parser.add_argument("--short", type=int, default=200, metavar="N", help="short queries (default %(default)s)")
    parser.add_argument("--ledes", type=int, default=200, metavar="N", help="lede queries (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, metavar="N",
                        help="runs of each phrase and common word, and of the fresh process (default %(default)s)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep an index already built from the same collection (its build figures are those "
                             "recorded then)")
    parser.add_argument("--build-only", action="store_true", help="generate and build, then stop")
    parser.add_argument("--jobs", type=int, default=2, help="newsearch index --jobs (default %(default)s)")
    parser.add_argument("--memory", type=int, default=256, help="newsearch index --memory (default %(default)s)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the generator (default %(default)s)")
    parser.add_argument("--query-seed", type=int, default=2024, help="seed of the short queries")
    args = parser.parse_args()
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",")})
    except ValueError:
        parser.error(f"--sizes takes numbers separated by commas, not {args.sizes!r}")
    if not sizes or sizes[0] < 1 or min(args.short, args.ledes, args.repeat) < 1:
        parser.error("--sizes, --short, --ledes and --repeat take numbers of at least 1")
    if not CORPUS.exists() or not LEDES.exists():
        print(f"SKIP: {ORANGESUM} is absent: the shared corpora are not on this machine")
        return 0

    print(f"newsearch at scale: {', '.join(f'x{s}' for s in sizes)} OrangeSum, generator {GENERATOR}, "
          f"seed {args.seed}, in {args.workdir}")
    print(f"code: {code_version()}")
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at "
          f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}", flush=True)
    files = collection(args.workdir / "data", sizes[-1], args.seed)
    builds: dict[int, Build] = {}
    reused: set[int] = set()
    for size in sizes:
        folder = args.workdir / f"x{size}"
        recorded = reusable(folder, size, args.seed) if args.reuse else None
        if recorded:
            builds[size] = recorded
            reused.add(size)
            print(f"reusing x{size}: built {recorded.when} by {recorded.code}", flush=True)
        else:
            builds[size] = build(files[:size], folder, size, args.seed, args.jobs, args.memory)
    if args.build_only:
        return 0

    from searchengine import SearchEngine

    engines = {size: SearchEngine(args.workdir / f"x{size}" / "index") for size in sizes}
    searches = {size: (lambda q, e=engine: [hit.id for hit in e.search(q, limit=10)])
                for size, engine in engines.items()}
    shorts = short_queries(read_corpus(), args.short, args.query_seed)
    ledes = [q for q, _ in lede_queries(args.ledes)]
    print(f"{len(shorts)} short queries (seed {args.query_seed}), {len(ledes)} lede queries; "
          f"each phrase and word {args.repeat} times", flush=True)
    load = os.getloadavg()[0]
    interleaved(searches, shorts[:10], "warm-up")
    short = interleaved(searches, shorts, "short")
    lede = interleaved(searches, ledes, "lede")
    fixed = {text: interleaved(searches, [text] * args.repeat, text) for text in (*PHRASES, *WORDS)}
    totals = {text: {size: engine.search(text, limit=1).total for size, engine in engines.items()}
              for text in fixed}
    cli: dict[int, list[float]] = {size: [] for size in sizes}
    bare: list[float] = []
    for _ in range(args.repeat):
        for size in sizes:
            runs, bares = cli_times(args.workdir / f"x{size}" / "index", CLI_QUERY, 1)
            cli[size] += runs
            bare += bares
    with open("/proc/self/status", encoding="ascii") as fh:
        query_peak = next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:"))

    json_mb = {s: sum(f.stat().st_size for f in files[:s]) / 2**20 for s in sizes}
    index_mb = {s: folder_mb(args.workdir / f"x{s}" / "index") for s in sizes}
    was = {s: f" (built {builds[s].when})" for s in reused}
    rows = [
        Row("articles", {s: builds[s].articles for s in sizes}, "{:,.0f}"),
        Row(f"build articles/s, --jobs {args.jobs}", {s: builds[s].rate for s in sizes}, "{:,.0f}", was),
        Row("build CPU s", {s: builds[s].cpu_seconds for s in sizes}, "{:,.0f}", was),
        Row("build peak RSS MB, largest process", {s: builds[s].largest_mb for s in sizes}, "{:,.0f}", was),
        Row("build peak RSS MB, all processes", {s: builds[s].total_mb for s in sizes}, "{:,.0f}", was),
        Row("JSON MB", json_mb, "{:,.0f}"),
        Row("index MB", index_mb, "{:,.0f}"),
        Row("index / JSON", {s: index_mb[s] / json_mb[s] for s in sizes}, "{:.2f}"),
    ]
    cpu_rows: list[Row] = []
    for kind, timings in (("short", short), ("lede", lede)):
        for q in (50, 95):
            rows.append(Row(f"{kind} queries p{q} ms", {s: timings[s].p(q) for s in sizes}))
            cpu_rows.append(Row(f"{kind} queries p{q} CPU ms", {s: timings[s].p(q, cpu=True) for s in sizes}))
    for text, timings in fixed.items():
        matches = {s: f" ({totals[text][s]:,})" for s in sizes}
        rows.append(Row(f"`{text}` ms (matches)", {s: statistics.median(timings[s].wall) for s in sizes},
                        note=matches))
        cpu_rows.append(Row(f"`{text}` CPU ms", {s: statistics.median(timings[s].cpu) for s in sizes}))
    rows.append(Row(f"fresh process `newsearch query {CLI_QUERY!r}` s",
                    {s: statistics.median(cli[s]) for s in sizes}, "{:.3f}"))

    print(f"\nIn one run, load {os.getloadavg()[0]:.1f} at the end (the queries began at load {load:.1f}); "
          f"queries with snippets, medians of {args.repeat} runs for phrases, words and the fresh process "
          f"(bare `python -c pass`: {statistics.median(bare):.3f} s); the querying process peaked at "
          f"{query_peak:,.0f} MB with every size open.")
    table(rows, sizes)
    print("\nCPU time of the querying process (what a busy machine distorts least):")
    table(cpu_rows, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
