"""A real OpenSearch cluster for the tests, started by ``scripts/opensearch-cluster``.

Outside CI, the cluster tests skip with the script's reason where Java, Maven or the download is missing
(the script's exit status 2); under CI (``CI`` set) they fail instead, so a CI machine can't skip them.
``NEWSEARCH_TEST_OPENSEARCH`` (comma-separated node URLs) names a running cluster to use instead of
starting one; not the CLI's ``NEWSEARCH_OPENSEARCH``, which would send the local tests to the cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "opensearch-cluster"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    if not SCRIPT.is_file():  # Python's own exit status 2 for a missing file must not read as a skip
        pytest.fail(f"{SCRIPT} is missing", pytrace=False)
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)


@dataclasses.dataclass(frozen=True)
class OpenSearchCluster:
    """A running cluster: its nodes' URLs, and its folder when this session started it (None for a
    cluster named by NEWSEARCH_TEST_OPENSEARCH, whose nodes the tests may not stop)."""

    urls: tuple[str, ...]
    directory: Path | None

    def control(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the script on this cluster, e.g. ``control("stop", "--node", "node2", "--kill")``;
        fails the test, with the script's line, if it fails."""
        if self.directory is None:
            pytest.skip("NEWSEARCH_TEST_OPENSEARCH names a cluster this session did not start: its nodes are not ours")
        done = run_script(*args, "--dir", str(self.directory))
        if done.returncode != 0:
            pytest.fail(f"opensearch-cluster {' '.join(args)} failed: {done.stderr.strip()}", pytrace=False)
        return done


@contextlib.contextmanager
def session_cluster() -> Iterator[OpenSearchCluster]:
    """NEWSEARCH_TEST_OPENSEARCH's cluster, else a 2-node cluster on free ports in a fresh folder, stopped
    and removed afterwards."""
    if named := os.environ.get("NEWSEARCH_TEST_OPENSEARCH"):
        yield OpenSearchCluster(tuple(url.strip() for url in named.split(",") if url.strip()), None)
        return
    # Under /tmp, and enterable by all: run as root, the script runs the nodes as `nobody`.
    directory = Path(tempfile.mkdtemp(prefix="newsearch-opensearch-"))
    directory.chmod(0o755)
    try:
        started = run_script("start", "--nodes", "2", "--port", "0", "--dir", str(directory))
        if started.returncode != 0:
            reason = started.stderr.strip().splitlines()[-1] if started.stderr.strip() else "no message"
            if started.returncode == 2 and not os.environ.get("CI"):
                pytest.skip(f"no OpenSearch cluster: {reason}")
            pytest.fail(f"the OpenSearch cluster did not start: {reason}", pytrace=False)
        yield OpenSearchCluster(tuple(started.stdout.strip().split(",")), directory)
    finally:
        if (directory / "cluster.json").exists():
            run_script("stop", "--dir", str(directory))
        shutil.rmtree(directory, ignore_errors=True)
