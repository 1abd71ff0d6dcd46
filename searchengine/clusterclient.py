"""The OpenSearch client of the cluster home, apart so that every module talking to the cluster
shares one way of turning a failed call into one :class:`~searchengine.errors.ClusterError` line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ClusterError, NewsearchError

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

DEFAULT_CLAUSE_LIMIT = 1024


def _exception_reason(exc: Exception) -> str:
    from opensearchpy.exceptions import ConnectionError as OSConnectionError
    from opensearchpy.exceptions import TransportError

    if isinstance(exc, OSConnectionError):
        return "cannot connect (is the cluster running?)"
    if isinstance(exc, TransportError):
        info = exc.info if isinstance(exc.info, dict) else {}
        error = info.get("error")
        if isinstance(error, dict):
            cause = error.get("root_cause") or [error]
            first = cause[0] if isinstance(cause, list) and cause else error
            return f"{exc.status_code} {first.get('type', '')}: {first.get('reason', '')}".strip()
        return f"{exc.status_code} {exc.error}"
    return f"{type(exc).__name__}: {exc}"


class Client:
    """The cluster's client: every call's failure becomes one :class:`ClusterError` line."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        try:
            from opensearchpy import OpenSearch
        except ImportError as exc:
            raise NewsearchError(
                "the OpenSearch home needs the package opensearch-py: pip install 'newsearch[opensearch]'") from exc
        self.urls = ",".join(urls)
        # Failover: a node that fails a request is marked dead and the request goes to the next one.
        self.os: OpenSearch = OpenSearch(list(urls), max_retries=3, retry_on_timeout=True,
                                         retry_on_status=(502, 503, 504), timeout=60)
        self._clause_limit: int | None = None

    def clause_limit(self) -> int:
        """How many clauses the cluster takes in one query, read once: the smallest of each node's own
        ``indices.query.bool.max_clause_count`` and the cluster's dynamic one (since OpenSearch 2.16 it
        can be changed live, but a node's running search threads may keep the value they started with)."""
        if self._clause_limit is None:
            name = "indices.query.bool.max_clause_count"
            nodes = self.call(lambda c: c.nodes.info(metric="settings", params={"flat_settings": "true"}))
            limits = [int(node.get("settings", {}).get(name, DEFAULT_CLAUSE_LIMIT))
                      for node in nodes.get("nodes", {}).values()]
            live = self.call(lambda c: c.cluster.get_settings(params={"flat_settings": "true"}))
            limits += [int(live[scope][name]) for scope in ("persistent", "transient") if name in live.get(scope, {})]
            self._clause_limit = min(limits, default=DEFAULT_CLAUSE_LIMIT)
        return self._clause_limit

    def call(self, what: Callable[[OpenSearch], Any]) -> Any:
        from opensearchpy.exceptions import ImproperlyConfigured, OpenSearchException

        try:
            return what(self.os)
        except (OpenSearchException, ImproperlyConfigured) as exc:
            raise ClusterError(self.urls, _exception_reason(exc)) from exc

    def search(self, index: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        """A search that answers from every shard, or fails: a red cluster is an error, never fewer hits."""
        found: dict[str, Any] = self.call(lambda c: c.search(
            index=index, body=body, params={"allow_partial_search_results": "false", **params}))
        shards = found.get("_shards", {})
        if shards.get("failed"):
            raise ClusterError(self.urls, f"{shards['failed']} of {shards.get('total')} shards failed to answer")
        return found
