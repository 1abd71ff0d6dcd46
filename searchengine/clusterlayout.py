"""The layout of a cluster index: its mapping, the terms each field sends, documents' ids and states;
apart because the writer, the queries, the after-run step and the check all read this one layout.

Analysis stays in Python. Each article's title, lede and body are analysed
by the index's :class:`~searchengine.analysis.FrenchAnalyzer` and sent as
their terms, separated by spaces, to fields with OpenSearch's prebuilt
``whitespace`` analyser, so the cluster indexes exactly the terms the local
index holds (README, *An OpenSearch cluster*). The terms of a field are sent
as two values: the words in order, whose positions are the local ones (so
phrases match as they do locally), then the joined forms of hyphenated words
(``nordcoreen``), which locally share the position of the word's last part
and here stand after the text, where no phrase reaches them.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from .analysis import FrenchAnalyzer
from .queries import FIELDS

MAX_TERM_CHARS = 255
"""OpenSearch's ``whitespace`` analyser cuts longer tokens in pieces: longer terms are sent cut here."""
DUPKEYS = "dupkeys"
"""Each article's duplicate keys (``duplicates.duplicate_key``, as signed 64-bit numbers), in its
source only: read back by the after-run step alone. An index made before them has no such field."""
GROUP = "dup_group"
"""The group of an article that has duplicates (the ``_id`` of its first-written member), absent
for the others: what queries fold by, count by and filter on."""
FORMAT = 1
"""The layout of the cluster index (mappings, fields); an index of another layout is refused."""


def alias_problem(aliased: list[str]) -> str | None:
    """Why an alias naming these indices cannot be read, if it cannot: a query would search them all."""
    if len(aliased) > 1:
        return f"its alias points to {len(aliased)} indices ({', '.join(aliased)}), not one"
    return None


def format_problem(concrete: str, meta: Any) -> str | None:
    """Why an index whose mapping's ``_meta.newsearch`` is ``meta`` cannot be read, if it cannot."""
    if not isinstance(meta, dict) or "format" not in meta:
        return f"{concrete} is not a newsearch index (its mapping names no newsearch format)"
    if meta["format"] != FORMAT:
        return f"{concrete} is of newsearch's cluster format {meta['format']!r}; this newsearch reads format {FORMAT}"
    return None


def cut(term: str) -> str:
    return term if len(term) <= MAX_TERM_CHARS else term[:MAX_TERM_CHARS]


def cluster_terms(analyzer: FrenchAnalyzer, text: str) -> list[str]:
    """What a text field sends to the cluster: the terms at their positions, then the joined
    forms of hyphenated words (sharing a position locally), each a string of terms."""
    words: list[str] = []
    joined: list[str] = []
    last = -1
    for term, _, _, pos in analyzer.analyse(text):
        (joined if pos == last else words).append(cut(term))
        last = pos
    values = [" ".join(words)]
    if joined:
        values.append(" ".join(joined))
    return values


def mapping() -> dict[str, Any]:
    text = {"type": "text", "analyzer": "whitespace", "position_increment_gap": 100}
    return {
        "dynamic": "strict",
        "_meta": {"newsearch": {"format": FORMAT}},
        "properties": {
            "key": {"type": "keyword"},
            "state": {"type": "binary"},
            "seq": {"type": "long"},
            "id": {"type": "keyword"},
            "path": {"type": "keyword", "index": False},
            "date": {"type": "date", "format": "strict_date"},
            "source_id": {"type": "keyword"},
            **{f"{name}_terms": dict(text) for name in FIELDS},
            **{f"{name}_length": {"type": "integer"} for name in FIELDS},
            "vocab": {"type": "keyword", "index": False, "doc_values": True},
            "article": {"type": "object", "enabled": False},
            DUPKEYS: {"type": "long", "index": False, "doc_values": False},
            GROUP: {"type": "keyword"},
        },
    }


def document_id(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


def encode_state(key: str, fingerprint: str, signature: str) -> str:
    return base64.b64encode("\x1f".join((key, fingerprint, signature)).encode("utf-8", "surrogatepass")).decode()


def decode_state(state: str) -> tuple[str, str, str]:
    key, fingerprint, signature = base64.b64decode(state).decode("utf-8", "surrogatepass").rsplit("\x1f", 2)
    return key, fingerprint, signature
