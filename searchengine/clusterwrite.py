"""Writing a cluster index: the bulk writer, the lock that keeps one writer per index name, and the
indices killed runs left. Apart from the home because each holds its own retry and lease logic."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis import FrenchAnalyzer
from .clusterclient import Client
from .clusterlayout import DUPKEYS, GROUP, cluster_terms, document_id, encode_state
from .duplicates import BANDS, DuplicateGroups, duplicate_key
from .errors import BadArticle, ClusterError, ClusterIndexLocked
from .queries import FIELDS

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

    from .indexing import IndexReport

BATCH_ACTIONS = 500
BATCH_BYTES = 8_000_000
RETRY_SECONDS = 300.0
"""How long a bulk batch is retried while the cluster answers 429 (busy) or 5xx (a node lost)."""
LOCKS_INDEX = "newsearch-locks"
"""The side index holding each index name's writer lock (a document named after the index)."""
LEASE_SECONDS = 60.0
"""How long a lock outlives its last renewal. A killed run keeps the next one out this long; a live
run must fail to renew it for this long (six renewals in a row, each tried for up to 10 s and again
by the client on another node) before another may take it over. A minute covers a cluster manager's
failover and a long garbage collection on either side, and is what a user with a killed run waits
(with ``--wait 60``) at most."""
RENEW_SECONDS = 10.0
"""How often the running writer renews its lease."""
LOCK_POLL_SECONDS = 0.5


@dataclass
class _Pending:
    action: dict[str, Any]
    source: dict[str, Any] | None
    key: str
    path: str = ""
    record: str = ""
    known: bool = False


@dataclass
class BulkWriter:
    """What ``indexing._write_changes`` writes through, as bulk requests to the cluster.

    One batch is in flight at a time, so reading and analysing files waits for the cluster (back-
    pressure); items the cluster could not take for now (429, or 5xx while a node is lost) are sent
    again with growing pauses for up to ``RETRY_SECONDS``; an item it refuses (4xx) costs its article
    only. A file's signature, which lets the next run skip it, goes with its last article, sent only
    once every other article of the file is acknowledged, so a run that dies half-way is completed by
    the next one, and one whose article was refused reads the file again.
    """

    client: Client
    analyzer: FrenchAnalyzer
    index: str
    ids: list[str]
    """Document ids of the known state's document numbers."""
    known: set[str]
    report: IndexReport
    problem: Callable[[BadArticle], None]
    seq: int
    duplicates: bool = False
    """Whether the index holds duplicate keys (one made before them holds none)."""
    groups: Mapping[str, str] = field(default_factory=dict)
    """The group of each article key, when known before the run (:func:`planned_groups`)."""
    watch: int = 0
    """Up to how many articles sent the run's terms are kept for the glued words' small pass."""
    sent: int = 0
    terms: set[str] | None = field(default_factory=set)
    """The terms sent in any field (None once over ``watch`` articles: the after-run step reads all)."""
    body_terms: set[str] = field(default_factory=set)
    written: set[str] = field(default_factory=set)
    batch: list[_Pending] = field(default_factory=list)
    batch_bytes: int = 0
    failed_files: set[str] = field(default_factory=set)
    lock: Lock | None = None
    """The run's lock, confirmed before each request: a run that lost it writes nothing more."""

    def add_document(self, **doc: Any) -> None:
        from .analysis import fold

        state = doc["state"].decode("utf-8", "surrogatepass")
        key, fingerprint, signature = state.rsplit("\x1f", 2)
        file = key.split("\x1f", 1)[0]
        doc_id = document_id(key)
        self.seq += 1
        article = {name: doc[name] for name in ("id", "path", "title", "lede", "body", "source", "url", "author")
                   if doc.get(name)}
        date = doc.get("date")
        if isinstance(date, dt.datetime):
            article["date"] = date.date().isoformat()
        analyzer = self.analyzer
        source: dict[str, Any] = {
            "key": doc["key"], "seq": self.seq, "id": doc["id"],
            "path": doc["path"], "article": article,
        }
        vocab: set[str] = set()
        for name in FIELDS:
            values = cluster_terms(analyzer, doc.get(name) or "")
            source[f"{name}_terms"] = values
            terms = [t for v in values for t in v.split()]
            source[f"{name}_length"] = len(terms)
            vocab.update(terms)
            if name == "body" and self.terms is not None:
                self.body_terms.update(terms)
        source["vocab"] = sorted(vocab)
        self.sent += 1
        if self.terms is not None:
            self.terms.update(vocab)
            if self.sent > self.watch:
                self.terms, self.body_terms = None, set()
        if self.duplicates and doc.get(DUPKEYS):
            source[DUPKEYS] = np.frombuffer(doc[DUPKEYS], dtype="<i8").tolist()
        if key in self.groups:
            source[GROUP] = self.groups[key]
        if "date" in article:
            source["date"] = article["date"]
        if doc.get("source_id"):
            source["source_id"] = doc["source_id"]
        elif doc.get("source"):
            source["source_id"] = fold(doc["source"])
        if signature and any(p.key.split("\x1f", 1)[0] == file for p in self.batch):
            # The signature lets the next run skip the file: it goes only after every other article of
            # the file is acknowledged, and not at all if one was refused.
            self.flush()
        if file in self.failed_files:
            signature = ""
        source["state"] = encode_state(key, fingerprint, signature)
        self.written.add(doc_id)
        self._queue(_Pending({"index": {"_index": self.index, "_id": doc_id}}, source, key,
                             doc.get("path", ""), doc.get("id", ""), key in self.known))

    def delete_document(self, docnum: int) -> None:
        doc_id = self.ids[docnum]
        if doc_id not in self.written:  # rewritten under the same id: the new version stays
            self._queue(_Pending({"delete": {"_index": self.index, "_id": doc_id}}, None, doc_id))

    def _queue(self, pending: _Pending) -> None:
        self.batch.append(pending)
        self.batch_bytes += len(str(pending.source or "")) + 100
        if len(self.batch) >= BATCH_ACTIONS or self.batch_bytes >= BATCH_BYTES:
            self.flush()

    def flush(self) -> None:
        batch, self.batch, self.batch_bytes = self.batch, [], 0
        deadline = time.monotonic() + RETRY_SECONDS
        pause = 0.5
        while batch:
            if self.lock is not None:
                self.lock.confirm()
            lines: list[dict[str, Any]] = []
            for pending in batch:
                lines.append(pending.action)
                if pending.source is not None:
                    lines.append(pending.source)
            answer = self.client.call(partial(bulk, lines))
            again = []
            for pending, item in zip(batch, answer["items"], strict=True):
                (op, result), = item.items()
                status = int(result.get("status", 500))
                if 200 <= status < 300 or op == "delete" and status == 404:
                    continue
                if status == 429 or status >= 500:
                    again.append(pending)
                    continue
                self._refused(pending, result)
            batch = again
            if batch:
                if time.monotonic() > deadline:
                    raise ClusterError(self.client.urls,
                                       f"{len(batch)} documents still refused after {RETRY_SECONDS:.0f} s")
                time.sleep(pause)  # the cluster said it is busy or lost a node: give it time
                pause = min(pause * 2, 10.0)

    def _refused(self, pending: _Pending, result: Mapping[str, Any]) -> None:
        """An article the cluster refused: it costs itself, and its file is read again next run."""
        error = result.get("error") or {}
        reason = error.get("reason", "") if isinstance(error, dict) else str(error)
        self.failed_files.add(pending.key.split("\x1f", 1)[0])
        if pending.source is None:
            raise ClusterError(self.client.urls, f"cannot delete a document: {reason}")
        if pending.known:
            self.report.updated -= 1
        else:
            self.report.added -= 1
        where = f"article {pending.record!r}: " if pending.record else ""
        self.problem(BadArticle(pending.path, f"{where}refused by OpenSearch: {reason}"))


def bulk(lines: list[dict[str, Any]], client: OpenSearch) -> dict[str, Any]:
    """One bulk request; it waits up to 2 minutes for a shard that has lost its primary."""
    answer: dict[str, Any] = client.bulk(body=lines, params={"timeout": "2m", "request_timeout": 180})
    return answer


def planned_groups(files: Sequence[Path], fields: Mapping[str, str] | None,
                    read_file: Callable[..., Iterable[Any]]) -> dict[str, str]:
    """The group of each article of ``files`` that has duplicates among them (named after its first
    member's document id), from a first pass over the files that computes duplicate keys only.

    A run into an empty index sends each article with its group, so the after-run step finds nothing
    to change: a partial update would leave the article's old version, which Lucene counts in its
    statistics (and so in the scores the exact ones are recovered from) until a merge drops it."""
    from .indexing import _key

    order: list[str] = []
    keys: list[bytes] = []
    seen: set[str] = set()
    for file in files:
        name = os.path.abspath(file)
        try:
            for article in read_file(file, fields, on_problem=lambda exc: None):
                record = _key(name, article.record)
                if record not in seen:
                    seen.add(record)
                    order.append(record)
                    keys.append(duplicate_key(article.body))
        except OSError:
            continue  # reported by the run itself
    table = np.zeros((len(order), BANDS), dtype=np.uint64)
    for n, found in enumerate(keys):
        if found:
            table[n] = np.frombuffer(found, dtype="<u8")
    groups = DuplicateGroups.from_keys(table, np.ones(len(order), dtype=bool))
    return {order[n]: document_id(order[int(groups.group[n])]) for n in np.flatnonzero(groups.grouped).tolist()}


@dataclass
class _Held:
    """The lock document as this run last wrote it: the version a conditional write must name."""

    seq_no: int
    primary_term: int
    confirmed: float
    """When the cluster last said the lock is ours (``time.monotonic()``)."""


class Lock:
    """One writer at a time per index name, as the local index's write lock does.

    The lock is a document named after the index in :data:`LOCKS_INDEX`, created with ``op_type=create``
    (which only one run can do), saying who holds it and until when: its lease, renewed every
    :data:`RENEW_SECONDS` by a thread of the run, so that a run paused, reading a big file or retrying
    a busy cluster keeps it. A run that was killed leaves the document; once its lease has run out (by
    the clock of the run that finds it), the next run takes it over with a write conditional on the
    version it read, so of two runs finding it only one wins. Every write of the holder is conditional
    on its own last version too: a run whose lock was taken over (its lease ran out while the cluster
    was out of its reach) learns it at its next renewal, and stops before its next batch.
    """

    def __init__(self, client: Client, index: str, where: str) -> None:
        self.client = client
        self.index = index
        self.where = where
        self.host = socket.gethostname()
        self.started = dt.datetime.now(dt.UTC)
        self._held: _Held | None = None
        self._lost: str | None = None
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _document(self) -> dict[str, Any]:
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEASE_SECONDS)
        return {"index": self.index, "host": self.host, "pid": os.getpid(),
                "started": self.started.isoformat(timespec="seconds"),
                "expires": int(expires.timestamp() * 1000)}

    def _write(self, op: Callable[[OpenSearch], dict[str, Any]]) -> dict[str, Any] | None:
        """A conditional write of the lock document, or None when another run's write came first."""
        from opensearchpy.exceptions import ConflictError, NotFoundError

        def attempt(c: OpenSearch) -> dict[str, Any] | None:
            try:
                return op(c)
            except (ConflictError, NotFoundError):
                return None

        found: dict[str, Any] | None = self.client.call(attempt)
        return found

    def _read(self) -> dict[str, Any] | None:
        from opensearchpy.exceptions import NotFoundError

        def get(c: OpenSearch) -> dict[str, Any] | None:
            try:
                found: dict[str, Any] = c.get(index=LOCKS_INDEX, id=self.index)
                return found
            except NotFoundError:
                return None

        got: dict[str, Any] | None = self.client.call(get)
        return got

    def _ensure_index(self) -> None:
        from opensearchpy.exceptions import RequestError

        def create(c: OpenSearch) -> None:
            if c.indices.exists(index=LOCKS_INDEX):
                return
            try:
                c.indices.create(index=LOCKS_INDEX, body=_LOCKS_BODY, params={"wait_for_active_shards": "1"})
            except RequestError as exc:
                if exc.error != "resource_already_exists_exception":  # another run created it meanwhile
                    raise

        self.client.call(create)

    def acquire(self, wait: float) -> None:
        """Take the lock, waiting up to ``wait`` seconds for the run holding it; raises
        :class:`ClusterIndexLocked` past that."""
        self._ensure_index()
        name = self.index
        deadline = time.monotonic() + wait
        vanished = 0
        while True:
            written = self._write(lambda c: c.create(index=LOCKS_INDEX, id=name, body=self._document()))
            if written is not None:
                break
            found = self._read()
            if found is None:  # let go of between our two requests: create it again at once
                vanished += 1
                if vanished > 3:
                    raise ClusterError(self.client.urls, f"the lock of {name!r} in {LOCKS_INDEX!r} cannot be taken")
                continue
            if int(found["_source"].get("expires", 0)) < time.time() * 1000:
                # The lease ran out: its run was killed (or lost the cluster for a whole lease).
                version = {"if_seq_no": found["_seq_no"], "if_primary_term": found["_primary_term"]}
                written = self._write(lambda c: c.index(
                    index=LOCKS_INDEX, id=name, body=self._document(), params=version))  # noqa: B023 - called at once
                if written is not None:
                    break
            if time.monotonic() >= deadline:
                raise ClusterIndexLocked(self.where, _owner(found["_source"]))
            time.sleep(LOCK_POLL_SECONDS)  # polled, as the local lock is, until the deadline
        self._held = _Held(int(written["_seq_no"]), int(written["_primary_term"]), time.monotonic())
        self._thread = threading.Thread(target=self._keep, name=f"newsearch-lock-{name}", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        """Extend the lease, if the lock is still ours (called with the mutex held)."""
        held = self._held
        if held is None or self._lost is not None:
            return
        written = self._write(lambda c: c.index(
            index=LOCKS_INDEX, id=self.index, body=self._document(),
            params={"if_seq_no": held.seq_no, "if_primary_term": held.primary_term, "request_timeout": 10}))
        if written is None:
            found = self._read()
            self._lost = _owner(found["_source"]) if found else "its lock was removed"
            return
        self._held = _Held(int(written["_seq_no"]), int(written["_primary_term"]), time.monotonic())

    def _keep(self) -> None:
        """The renewing thread: a failed renewal is tried again at the next beat, while the lease lasts."""
        while not self._stop.wait(RENEW_SECONDS):
            with self._mutex:
                try:
                    self._renew()
                except ClusterError:
                    pass  # the cluster is out of reach for now: confirm() decides when that ends the run

    def confirm(self) -> None:
        """Before each batch: raises :class:`ClusterIndexLocked` if another run took the lock over, or if
        the cluster has not confirmed it for a whole lease."""
        with self._mutex:
            held = self._held
            if held is not None and self._lost is None and time.monotonic() - held.confirmed > RENEW_SECONDS:
                try:
                    self._renew()
                except ClusterError:
                    if time.monotonic() - held.confirmed > LEASE_SECONDS:
                        raise
            if self._lost is not None:
                raise ClusterIndexLocked(self.where, f"it took over the lock of this run: {self._lost}")

    def release(self) -> None:
        """Let go of the lock, if it is still ours; a cluster out of reach lets the lease run out instead."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        held, self._held = self._held, None
        if held is None or self._lost is not None:
            return
        try:
            self._write(lambda c: c.delete(index=LOCKS_INDEX, id=self.index, params={
                "if_seq_no": held.seq_no, "if_primary_term": held.primary_term}))
        except ClusterError:
            pass  # out of reach: the lease lapses and the next run takes the lock over


_LOCKS_BODY = {
    "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-all"},
    "mappings": {"dynamic": False, "properties": {"expires": {"type": "date", "format": "epoch_millis"}}},
}
"""One small shard with a copy on every node, so that losing a node loses no lock."""


def _owner(lock: Mapping[str, Any]) -> str:
    """Who holds a lock, and when it lapses if that run was killed, for the error line."""
    started = str(lock.get("started", "?")).replace("T", " ").removesuffix("+00:00")
    expires = dt.datetime.fromtimestamp(int(lock.get("expires", 0)) / 1000, dt.UTC)
    return (f"pid {lock.get('pid', '?')} on {lock.get('host', '?')}, started {started} UTC; "
            f"if it was killed, its lock lapses at {expires:%H:%M:%S} UTC")


def orphans(client: Client, index: str) -> list[str]:
    """Concrete indices a killed first build or ``--rebuild`` of this index left: named
    ``NAME-<20 digits>`` as :meth:`ClusterHome._create` names them, newsearch's by their mapping, made
    for this alias (or for no alias named, by an older newsearch) and pointed to by no alias. Another
    index, a user's or another newsearch index's (``NAME-x``'s are ``NAME-x-<digits>``), never matches."""
    own = re.compile(re.escape(index) + r"-\d{20}")
    found = client.call(lambda c: c.indices.get(index=f"{index}-*", params={
        "ignore_unavailable": "true", "allow_no_indices": "true", "filter_path": "*.aliases,*.mappings._meta"}))
    orphans = []
    for name, about in sorted((found or {}).items()):
        meta = ((about.get("mappings") or {}).get("_meta") or {}).get("newsearch")
        if (own.fullmatch(name) and not about.get("aliases") and isinstance(meta, dict)
                and meta.get("alias", index) == index):
            orphans.append(name)
    return orphans
