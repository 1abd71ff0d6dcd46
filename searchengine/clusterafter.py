"""After each run on a cluster index: the groups of duplicates and the glued words, over the whole
index. Apart from the writer because they read back everything a run left, once it is searchable."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from .analysis import FrenchAnalyzer
from .clusterclient import Client
from .clusterlayout import DUPKEYS, GROUP
from .clusterquery import AfterRun, ClusterVocabulary, Stats
from .clusterwrite import BATCH_ACTIONS, BulkWriter, bulk
from .duplicates import BANDS, DuplicateGroups
from .errors import ClusterError
from .glued import MAX_GLUED_DF, MIN_HEAD, Glued, find_glued, most_in_one_field
from .queries import FIELDS

if TYPE_CHECKING:
    from opensearchpy import OpenSearch


def regroup(client: Client, concrete: str) -> int:
    """Group the articles by their duplicate keys, with ``duplicates.py``'s own code, over every
    article's keys (read alone, oldest first, so a group is named after its first-written member),
    and write the group of only those articles whose group changed, by partial updates. Returns how
    many groups of two or more there are."""
    from opensearchpy import helpers

    scan = helpers.scan(client.os, index=concrete, size=5000,
                        query={"_source": [DUPKEYS, GROUP, "seq"]})
    hits = sorted(client.call(lambda c: list(scan)), key=lambda h: int(h["_source"].get("seq", 0)))
    keys = np.zeros((len(hits), BANDS), dtype=np.uint64)
    for n, hit in enumerate(hits):
        found = hit["_source"].get(DUPKEYS)
        if found:
            keys[n] = np.array(found, dtype=np.int64).view(np.uint64)
    groups = DuplicateGroups.from_keys(keys, np.ones(len(hits), dtype=bool))
    lines: list[dict[str, Any]] = []
    for n, hit in enumerate(hits):
        group = hits[int(groups.group[n])]["_id"] if groups.grouped[n] else None
        if hit["_source"].get(GROUP) != group:
            lines += [{"update": {"_index": concrete, "_id": hit["_id"]}}, {"doc": {GROUP: group}}]
    for start in range(0, len(lines), 2 * BATCH_ACTIONS):
        answer = client.call(partial(bulk, lines[start:start + 2 * BATCH_ACTIONS]))
        for item in answer["items"]:
            (_, result), = item.items()
            status = int(result.get("status", 500))
            if not 200 <= status < 300 and status != 404:
                reason = (result.get("error") or {}).get("reason", status)
                raise ClusterError(client.urls, f"cannot store a group of duplicates: {reason}")
    if lines:
        client.call(lambda c: c.indices.refresh(index=concrete))
    return len(np.unique(groups.group[groups.grouped]))


def glued_words(client: Client, analyzer: FrenchAnalyzer, concrete: str, stats: Stats, writer: BulkWriter,
                previous: AfterRun | None) -> list[Glued]:
    """The glued words of the whole index, as ``glued.write_glued`` finds them locally. A run that
    wrote under a tenth of the articles examines the body terms it sent only, with the whole index's
    frequencies asked of the cluster, and keeps the previous run's other glued words; any other run
    reads every article's terms (their source) for each field's document frequencies."""
    def term_of(word: str) -> str | None:
        terms = analyzer.terms(word)
        return terms[0] if len(terms) == 1 else None

    stop_words = analyzer.stop_words
    if previous is None or writer.terms is None:
        frequencies, body = _frequencies(client, concrete)
        found = find_glued(body, lambda t: frequencies.get(t, 0), stats.size, term_of, stop_words)
        kept: list[Glued] = []
    else:
        vocabulary = ClusterVocabulary(client, concrete, stats)

        def df(term: str) -> int:
            return max(vocabulary.doc_frequency(f, term) for f in FIELDS)

        shaped = [t for t in writer.body_terms if len(t) >= MIN_HEAD + 2 and t.isascii() and t.isalpha()]
        vocabulary.prefetch(shaped)
        rare = [t for t in shaped if 0 < df(t) <= MAX_GLUED_DF]
        vocabulary.prefetch({p for t in rare for k in range(MIN_HEAD, len(t) - 1)
                             for p in (term_of(t[:k]), t[k:], term_of(t[k:])) if p})
        found = find_glued(rare, df, stats.size, term_of, stop_words)
        kept = [g for g in previous.glued.glued.values() if g.term not in writer.terms]
    joined = _joined(client, analyzer, concrete, found)
    return sorted([*kept, *(g for g in found if g.term not in joined)], key=lambda g: g.term)


def _frequencies(client: Client, concrete: str) -> tuple[dict[str, int], set[str]]:
    """Each term with the most articles holding it in one field, and the body's terms
    (``glued.vocabulary``), from every article's terms as sent."""
    from opensearchpy import helpers

    fields: dict[str, dict[str, int]] = {name: {} for name in FIELDS}
    scan = helpers.scan(client.os, index=concrete, size=1000,
                        query={"_source": [f"{name}_terms" for name in FIELDS]})

    def count(c: OpenSearch) -> None:
        for hit in scan:
            for name, counts in fields.items():
                for term in {t for value in hit["_source"].get(f"{name}_terms") or () for t in value.split()}:
                    counts[term] = counts.get(term, 0) + 1

    client.call(count)
    return most_in_one_field(fields)


def _joined(client: Client, analyzer: FrenchAnalyzer, concrete: str, found: list[Glued]) -> set[str]:
    """Those of ``found`` that stand where their tail does in the body of an article holding them
    (``glued._joined_forms``): the joined form of a hyphenated word. Only such forms share a place
    with another term, and the cluster holds those apart (a field's second value), so only the
    articles where the glued term or its tail is one are analysed again."""
    from opensearchpy import helpers

    by_term = {g.term: g for g in found}
    joined: set[str] = set()
    for start in range(0, len(found), 500):
        batch = [g.term for g in found[start:start + 500]]
        scan = helpers.scan(client.os, index=concrete, size=500, query={
            "_source": ["body_terms"], "query": {"terms": {"body_terms": batch}}})
        again: list[tuple[str, list[Glued]]] = []
        hits: list[dict[str, Any]] = client.call(partial(_listed, scan))
        for hit in hits:
            values = hit["_source"].get("body_terms") or []
            sharing = set(values[1].split()) if len(values) > 1 else set()
            held = [by_term[t] for t in {t for v in values for t in v.split()} if t in by_term]
            doubtful = [g for g in held if g.term not in joined and (g.term in sharing or g.tail in sharing)]
            if doubtful:
                again.append((hit["_id"], doubtful))
        for doc_id, doubtful in again:
            got: dict[str, Any] = client.call(partial(_body, concrete, doc_id))
            places: dict[str, set[int]] = {}
            for term, _, _, pos in analyzer.analyse((got.get("_source") or {}).get("article", {})
                                                    .get("body", "")):
                places.setdefault(term, set()).add(pos)
            joined.update(g.term for g in doubtful if places.get(g.term, set()) & places.get(g.tail, set()))
    return joined


def _listed(scan: Iterable[dict[str, Any]], client: OpenSearch) -> list[dict[str, Any]]:
    """A scan's hits, read inside the client's call (so its failures are a ClusterError)."""
    return list(scan)


def _body(index: str, doc_id: str, client: OpenSearch) -> dict[str, Any]:
    found: dict[str, Any] = client.get(index=index, id=doc_id, params={"_source": "article.body"})
    return found
