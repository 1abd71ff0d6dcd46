"""``info --check`` on a cluster index: the whole index read back as the cluster holds it. Apart
because it reads every document once, which neither queries nor writers do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from .clusterclient import Client
from .clusterlayout import alias_problem, decode_state, document_id, format_problem, mapping
from .errors import ClusterError, ClusterIndexCorrupt, ClusterIndexNotFound
from .queries import FIELDS

if TYPE_CHECKING:
    from opensearchpy import OpenSearch


@dataclass(frozen=True)
class ClusterCheck:
    """What :meth:`ClusterHome.check` read: the concrete index, its primary shards and their started
    copies (of ``copies_expected``), and every document, each of which decoded."""

    index: str
    shards: int
    copies: int
    copies_expected: int
    documents: int


_MAPPING_DEFAULTS = {"index": True, "doc_values": True}
"""Parameters OpenSearch leaves out of a mapping it gives back when they have their default value."""


def _mapping_difference(got: Mapping[str, Any], wanted: Mapping[str, Any]) -> str | None:
    """How an index's mapping differs from the one newsearch creates, or None."""
    if got.get("dynamic") != wanted.get("dynamic"):
        return f"its mapping is not strict (dynamic: {got.get('dynamic')!r})"
    have, want = got.get("properties") or {}, wanted["properties"]
    for name in sorted(set(have) | set(want)):
        if name not in have:
            continue  # an index built by an older newsearch, without a field added since (mappings only grow)
        if name not in want:
            return f"its mapping has a field {name!r} newsearch does not write"
        a, b = have[name], want[name]
        for param in sorted(set(a) | set(b)):
            if a.get(param, _MAPPING_DEFAULTS.get(param)) != b.get(param, _MAPPING_DEFAULTS.get(param)):
                return f"its field {name!r} is mapped with {param}={a.get(param)!r}, not {b.get(param)!r}"
    return None


def _scroll(scroll_id: str, client: OpenSearch) -> dict[str, Any]:
    """The next page of a scroll."""
    found: dict[str, Any] = client.scroll(body={"scroll_id": scroll_id, "scroll": "2m"})
    return found


def _document_problem(hit: Mapping[str, Any]) -> str | None:
    """What is wrong with one document as the cluster holds it, or None: its state must decode to the
    key its id is made of, its fields be there with their types, and its lengths count its terms."""
    from .indexing import _printable

    source = hit.get("_source")
    if not isinstance(source, dict):
        return "it has no stored fields"
    try:
        key, _, _ = decode_state(source["state"])
    except (KeyError, TypeError, ValueError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        return "its state cannot be decoded"
    if hit.get("_id") != document_id(key) or source.get("key") != _printable(key):
        return "its state is another article's"
    for name, kind in (("seq", int), ("id", str), ("path", str), ("article", dict)):
        if not isinstance(source.get(name), kind):
            return f"its field {name!r} is missing"
    article = source["article"]
    for name in ("id", "path"):
        if source[name] and article.get(name) != source[name]:
            return f"its stored article has another {name}"
    for name in FIELDS:
        values, length = source.get(f"{name}_terms"), source.get(f"{name}_length")
        if not isinstance(article.get(name, ""), str) or not isinstance(values, list) \
                or not all(isinstance(v, str) for v in values):
            return f"its field {name!r} is missing"
        if length != sum(len(v.split()) for v in values):
            return f"its {name} length is not the number of its terms"
    return None


def check_index(client: Client, where: str, aliased: list[str]) -> ClusterCheck:
    """:meth:`ClusterHome.check` of the index at ``where``, whose alias points to ``aliased``."""
    if not aliased:
        raise ClusterIndexNotFound(where)
    problem = alias_problem(aliased)
    if problem:
        raise ClusterIndexCorrupt(where, problem)
    concrete, = aliased
    health = client.call(lambda c: c.cluster.health(index=concrete, params={
        "level": "shards", "wait_for_status": "yellow", "timeout": "10s", "request_timeout": 60, "ignore": 408}))
    shards = health["indices"][concrete]
    for number, shard in sorted(shards["shards"].items(), key=lambda item: int(item[0])):
        if not shard["primary_active"]:
            raise ClusterIndexCorrupt(where, f"its shard {number} has no started copy (a node holding "
                                             "it is down, or its data is lost)")
    got = client.call(lambda c: c.indices.get_mapping(index=concrete))[concrete]["mappings"]
    problem = format_problem(concrete, (got.get("_meta") or {}).get("newsearch"))
    if problem:
        raise ClusterIndexCorrupt(where, problem)
    difference = _mapping_difference(got, mapping())
    if difference:
        raise ClusterIndexCorrupt(where, f"{concrete}: {difference}")
    documents = _check_documents(client, where, concrete)
    copies = int(shards["number_of_shards"]) * (1 + int(shards["number_of_replicas"]))
    return ClusterCheck(index=concrete, shards=int(shards["number_of_shards"]),
                        copies=int(shards["active_shards"]), copies_expected=copies, documents=documents)


def _check_documents(client: Client, where: str, concrete: str) -> int:
    """Every document of ``concrete`` checked (:func:`_document_problem`), through one scroll: one
    snapshot, answered by every shard; its count must be the number of documents read."""
    found = client.search(concrete, {"size": 1000, "sort": ["_doc"], "track_total_hits": True},
                          scroll="2m")
    total = int(found["hits"]["total"]["value"])
    read = 0
    scroll: str = found.get("_scroll_id", "")
    try:
        while hits := found["hits"]["hits"]:
            for hit in hits:
                problem = _document_problem(hit)
                if problem:
                    raise ClusterIndexCorrupt(where, f"document {hit.get('_id')}: {problem}")
            read += len(hits)
            found = client.call(partial(_scroll, scroll))
            if found.get("_shards", {}).get("failed"):
                raise ClusterError(client.urls, "some shard failed to answer")
            scroll = found.get("_scroll_id", scroll)
    finally:
        if scroll:
            try:
                client.call(lambda c: c.clear_scroll(body={"scroll_id": scroll}))
            except ClusterError:
                pass  # the cluster drops it when its 2 minutes are over
    if read != total:
        raise ClusterIndexCorrupt(where, f"it counts {total} documents, but {read} were read")
    return read
