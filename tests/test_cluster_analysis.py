"""The cluster indexes exactly the terms newsearch computes, at the same positions, read back from the
cluster's own term vectors (a real OpenSearch cluster, never mocked).

Two differences, both by design and checked here: the joined form of a hyphenated word (``nordcoreen``),
which locally shares the position of the word's last part, stands after the field's text, out of reach of
phrases (no query looks for it in a phrase: queries leave joined forms out); and a term longer than 255
characters (a long URL) is cut there, on both the indexed and the query side, since OpenSearch's
whitespace analyser would split it.
"""

from __future__ import annotations

import gzip
import itertools
import json
import unicodedata
import uuid

import httpx
import pytest

from searchengine import SearchEngine
from searchengine.analysis import FrenchAnalyzer
from searchengine.clusterlayout import MAX_TERM_CHARS
from tests.conftest import needs_shared
from tests.test_analysis import TRICKY

GAP = 100
"""OpenSearch's position_increment_gap between a field's values."""
LONG_URL = "https://example.org/" + "a" * 300
TRICKY_CASES = [
    TRICKY, unicodedata.normalize("NFD", TRICKY),
    "L’agence l'agence lʼagence d’après qu’il jusqu’au aujourd’hui prud'hommes McDonald's Val-d'Oise",
    "Kim Jong-un nord-coréen Île-de-France franco-allemand sud-africain a-t-il peut-on est-ce",
    "cœur œuvre naïf Noël ÉTÉ été Été U.S.A. 3,5 COVID-19 g7 jeudi.Le @Macron #grève www.lemonde.fr",
    f"un lien {LONG_URL} ici",
]


def expected(analyzer: FrenchAnalyzer, text: str) -> dict[str, list[int]]:
    """The terms the cluster should hold for ``text``: newsearch's, joined forms after the text, long cut."""
    terms: dict[str, list[int]] = {}
    joined = []
    last = -1
    words = 0
    for term, _, _, pos in analyzer.analyse(text):
        if pos == last:
            joined.append(term)
        else:
            terms.setdefault(term[:MAX_TERM_CHARS], []).append(pos)
            words += 1
        last = pos
    for k, term in enumerate(joined):
        terms.setdefault(term[:MAX_TERM_CHARS], []).append(words + GAP + k)
    return {t: sorted(p) for t, p in terms.items()}


def cluster_terms(url: str, index: str, doc_id: str) -> dict[str, list[int]]:
    found = httpx.get(f"{url}/{index}/_termvectors/{doc_id}",
                      params={"fields": "body_terms", "positions": "true", "offsets": "false"}, timeout=60).json()
    terms = found["term_vectors"]["body_terms"]["terms"]
    return {t: sorted(token["position"] for token in v["tokens"]) for t, v in terms.items()}


def index_texts(opensearch_cluster, tmp_path, texts):
    path = tmp_path / "texts.jsonl"
    path.write_text("\n".join(json.dumps({"id": str(n), "title": "t", "body": text}, ensure_ascii=False)
                              for n, text in enumerate(texts)), encoding="utf-8")
    name = f"test-{uuid.uuid4().hex[:8]}"
    engine = SearchEngine(opensearch=opensearch_cluster.urls, opensearch_index=name)
    assert engine.index([path]).added == len(texts)
    url = opensearch_cluster.urls[0]
    hits = httpx.post(f"{url}/{name}/_search", json={"size": len(texts), "_source": ["id"]}, timeout=60).json()
    return url, name, {h["_source"]["id"]: h["_id"] for h in hits["hits"]["hits"]}, engine


@pytest.mark.parametrize("case", range(len(TRICKY_CASES)))
def test_the_cluster_holds_the_local_terms_of_the_tricky_cases(opensearch_cluster, tmp_path, case):
    text = TRICKY_CASES[case]
    url, name, ids, _ = index_texts(opensearch_cluster, tmp_path, [text])
    analyzer = FrenchAnalyzer()
    held = cluster_terms(url, name, ids["0"])
    assert held == expected(analyzer, text)
    local = {t for t, *_ in analyzer.analyse(text)}
    # The differences, listed: only joined forms moved, only terms over 255 characters cut.
    assert {t for t in local if t not in held} == {t for t in local if len(t) > MAX_TERM_CHARS}


def test_a_long_url_is_found_by_itself(opensearch_cluster, tmp_path):
    _, _, _, engine = index_texts(opensearch_cluster, tmp_path, TRICKY_CASES)
    assert [h.id for h in engine.search(LONG_URL)] == [str(TRICKY_CASES.index(f"un lien {LONG_URL} ici"))]


def test_the_cluster_holds_the_local_terms_of_5000_news_words(opensearch_cluster, tmp_path):
    path = needs_shared("corpora", "orangesum", "orangesum_all.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        bodies = [json.loads(line)["article"] for line in itertools.islice(fh, 1000, 1014)]
    assert sum(len(b.split()) for b in bodies) >= 5000
    url, name, ids, _ = index_texts(opensearch_cluster, tmp_path, bodies)
    analyzer = FrenchAnalyzer()
    for n, body in enumerate(bodies):
        assert cluster_terms(url, name, ids[str(n)]) == expected(analyzer, body)
