"""Start-up cost of a fresh `newsearch query`: this tree against another, alternately.

A fresh process pays for starting Python, importing click, NumPy, Whoosh and
our modules, opening the index and the query itself. On a shared machine wall
times swing with the load, so each run of this tree is followed by one of the
other tree (``--against``, a checkout of another commit, e.g. from
``git worktree add`` or ``git archive``), and both report median wall time and
median CPU time (user + system of the child, which the load distorts least),
beside a bare ``python -c pass`` and ``python -c 'import numpy'`` for
scale: NumPy's import alone (its shared libraries, with one BLAS thread as
``newsearch`` asks) is a floor no query that ranks with NumPy goes under.

    python benchmarks/startup.py                     # this tree alone, on an index of seeds/
    python benchmarks/startup.py --index-dir /path/to/index --against /tmp/main-checkout --runs 30
    python benchmarks/startup.py --index-dir /path/to/index --imports   # where this tree's import time goes
    python benchmarks/startup.py --index-dir /path/to/index --against /tmp/main-checkout --instructions

``--instructions`` counts the instructions of one fresh query per tree with
``valgrind --tool=callgrind`` (with a fixed ``PYTHONHASHSEED``), which the
load of a shared machine does not change, unlike times; it misses what
memory stalls cost, so the CPU times stay the measure of record.

Each tree is put first on ``PYTHONPATH`` and run as ``python -c 'from
searchengine.cli import main; main()' query ...`` (``cli()`` in a tree from
before ``main``), so the installed ``newsearch`` script (whatever checkout it
points at) plays no part. Bytecode is compiled
first: a user's installed package has it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.15
_RUN_CLI = ("import sys; sys.argv[0] = 'newsearch'; from searchengine import cli; "
            "getattr(cli, 'main', cli.cli)()")
"""What the ``newsearch`` script runs: ``main``, or ``cli`` in a tree from before ``main``."""
_FLOORS = {
    "bare python": "pass",
    "python, import numpy": "import os; os.environ['OPENBLAS_NUM_THREADS'] = '1'; import numpy",
}
"""Processes timed beside each query for scale: Python alone, and Python importing NumPy."""


def _env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NEWSEARCH_INDEX", "PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def timed(command: list[str], tree: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``command`` in ``tree``
    (``python -c`` puts the working folder first on ``sys.path``)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(tree), cwd=tree)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({child.returncode}): {stderr}")
    return wall, usage.ru_utime + usage.ru_stime


def instructions(command: list[str], tree: Path) -> int:
    """Instructions one run of ``command`` in ``tree`` executes, counted by callgrind."""
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={scratch}/out", *command],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env={**_env(tree), "PYTHONHASHSEED": "0"}, cwd=tree, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode not in (0, 1) or not found:
        sys.exit(f"valgrind {' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(found[1])


def import_costs(tree: Path, query: list[str], runs: int, top: int) -> None:
    """Median cumulative ``-X importtime`` of the modules a query imports, the costliest first."""
    cumulative: dict[str, list[int]] = {}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", _RUN_CLI, *query],
                              capture_output=True, text=True, env=_env(tree), cwd=tree, check=False)
        for line in done.stderr.splitlines():
            found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
            if found:
                cumulative.setdefault(found[3], []).append(int(found[1]))
    costs = sorted(((statistics.median(us), name) for name, us in cumulative.items()), reverse=True)
    print(f"{len(cumulative)} modules imported; median cumulative import time of {runs} runs:")
    for us, name in costs[:top]:
        print(f"  {us / 1000:7.1f} ms  {name}")


def _ratio(times: dict[str, list[float]]) -> str:
    return f"{statistics.median(times['this tree']) / statistics.median(times['against']):.2f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path,
                        help="index to query, only read (default: one of seeds/ built in a temporary folder)")
    parser.add_argument("--query", default="Kim Poutine", help="words to search (default: %(default)s)")
    parser.add_argument("--against", type=Path, help="another source tree (holding searchengine/) to compare")
    parser.add_argument("--runs", type=int, default=20, help="runs of each tree (default 20)")
    parser.add_argument("--imports", action="store_true", help="print this tree's costliest imports instead")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each tree's instructions for one query (valgrind's callgrind)")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2 (the quartiles need two)")

    with tempfile.TemporaryDirectory() as scratch:
        if args.index_dir is None:
            args.index_dir = Path(scratch) / "index"
            built = subprocess.run([sys.executable, "-c", _RUN_CLI, "index", str(ROOT / "seeds"), "--index-dir",
                                    str(args.index_dir), "--quiet"], cwd=ROOT, env=_env(ROOT), capture_output=True,
                                   text=True, check=False)
            if built.returncode != 0:
                sys.exit(f"could not index seeds/: {built.stderr}")
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    query = ["query", *args.query.split(), "--index-dir", str(args.index_dir), "--color", "never"]
    trees = {"this tree": ROOT}
    if args.against:
        trees["against"] = args.against.resolve()
    for tree in trees.values():
        if not (tree / "searchengine" / "cli.py").is_file():
            sys.exit(f"{tree} holds no searchengine/cli.py")
        compileall.compile_dir(tree / "searchengine", quiet=1)
    if args.imports:
        import_costs(ROOT, query, args.runs, 40)
        return 0

    load = os.getloadavg()[0]
    wall: dict[str, list[float]] = {name: [] for name in [*trees, *_FLOORS]}
    cpu: dict[str, list[float]] = {name: [] for name in wall}
    for tree in trees.values():  # warm the page cache and bytecode
        timed([sys.executable, "-c", _RUN_CLI, *query], tree)
    for _ in range(args.runs):
        for name, tree in trees.items():
            w, c = timed([sys.executable, "-c", _RUN_CLI, *query], tree)
            wall[name].append(w)
            cpu[name].append(c)
        for name, code in _FLOORS.items():
            w, c = timed([sys.executable, "-c", code], ROOT)
            wall[name].append(w)
            cpu[name].append(c)

    print(f"fresh `newsearch query {args.query}` on {args.index_dir}, {args.runs} alternating runs, "
          f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after:")
    print("| | median wall s | wall p25-p75 s | median CPU s |")
    print("|---|---|---|---|")
    for name in wall:
        q = statistics.quantiles(wall[name], n=4)
        print(f"| {name} | {statistics.median(wall[name]):.3f} | {q[0]:.3f}-{q[2]:.3f} "
              f"| {statistics.median(cpu[name]):.3f} |")
    if "against" in wall:
        print(f"this tree / against, same run: wall {_ratio(wall)}, CPU {_ratio(cpu)} (medians)")
    if args.instructions:
        counts = {name: instructions([sys.executable, "-c", _RUN_CLI, *query], tree) for name, tree in trees.items()}
        print("instructions (callgrind, one run): "
              + ", ".join(f"{name} {count / 1e6:,.0f} M" for name, count in counts.items())
              + (f", this tree / against {counts['this tree'] / counts['against']:.2f}x" if "against" in counts
                 else ""))
    mine = statistics.median(wall["this tree"])
    print(f"this tree: {'OK' if mine <= TARGET_S else 'MISS'} (median wall <= {TARGET_S} s on an idle machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
