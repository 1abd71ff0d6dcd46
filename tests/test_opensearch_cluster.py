"""The OpenSearch cluster that newsearch's cluster backend runs on: real nodes, started by
scripts/opensearch-cluster, never mocked. What a user of the script sees: the cluster is green with
its two nodes, a killed node leaves it answering, and a bad call is one clear line."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import wait_for
from tests.opensearch import run_script

DOCUMENTS = 20


def get(url: str, path: str) -> dict:
    return httpx.get(url + path, timeout=60).json()


def test_the_cluster_has_two_nodes_and_is_green(opensearch_cluster):
    for url in opensearch_cluster.urls:
        health = get(url, "/_cluster/health?wait_for_status=green&timeout=60s")
        assert (health["status"], health["number_of_nodes"]) == ("green", 2)
    names = sorted(node["name"] for node in httpx.get(opensearch_cluster.urls[0] + "/_cat/nodes?format=json",
                                                      timeout=60).json())
    assert len(names) == 2 and len(set(names)) == 2


def test_the_script_reports_the_running_cluster(opensearch_cluster):
    status = opensearch_cluster.control("status")
    assert status.stdout.splitlines()[-1].endswith("green, 2 nodes, manager node1")
    assert [line.split("\t")[:2] for line in status.stdout.splitlines()[:2]] == [
        ["node1", opensearch_cluster.urls[0]], ["node2", opensearch_cluster.urls[1]]]


def test_the_cluster_has_the_analysis_common_module(opensearch_cluster):
    """The integ-test zip lacks analysis-common; the script adds it, so French elision, folding and
    stemming are there for an analyser built to match newsearch's."""
    chain = {"tokenizer": "whitespace", "text": "L'Élection des présidents",
             "filter": [{"type": "elision", "articles": ["l"], "articles_case": True}, "lowercase", "asciifolding",
                        {"type": "stemmer", "language": "light_french"}]}
    analysed = httpx.post(opensearch_cluster.urls[1] + "/_analyze", json=chain, timeout=60).json()
    assert [token["token"] for token in analysed["tokens"]] == ["election", "des", "president"]


@pytest.fixture
def replicated_index(opensearch_cluster):
    """An index of 2 primaries with 1 replica each, holding DOCUMENTS documents, removed afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    url = opensearch_cluster.urls[0]
    settings = {"settings": {"number_of_shards": 2, "number_of_replicas": 1},
                "mappings": {"properties": {"terms": {"type": "text", "analyzer": "whitespace"}}}}
    created = httpx.put(f"{url}/{name}?wait_for_active_shards=all", json=settings, timeout=60)
    assert created.status_code == 200, created.text
    lines = []
    for i in range(DOCUMENTS):
        lines += [f'{{"index": {{"_id": "{i}"}}}}', f'{{"terms": "commun mot{i}"}}']
    bulk = httpx.post(f"{url}/{name}/_bulk?refresh=true", content="\n".join(lines) + "\n", timeout=60,
                      headers={"content-type": "application/x-ndjson"})
    assert bulk.status_code == 200 and not bulk.json()["errors"], bulk.text
    yield name
    httpx.delete(f"{url}/{name}", timeout=60)


def test_a_killed_node_leaves_the_cluster_answering(opensearch_cluster, replicated_index):
    url = opensearch_cluster.urls[0]  # node1, the cluster manager: node2 is the one that dies
    shards = httpx.get(f"{url}/_cat/shards/{replicated_index}?format=json", timeout=60).json()
    assert {shard["node"] for shard in shards if shard["prirep"] == "p"} == {"node1", "node2"}
    opensearch_cluster.control("stop", "--node", "node2", "--kill")
    try:
        wait_for(lambda: get(url, "/_cluster/health")["number_of_nodes"] == 1, "node2 to leave the cluster")
        assert get(url, "/_cluster/health")["status"] == "yellow"
        found = get(url, f"/{replicated_index}/_search?q=terms:commun&size={DOCUMENTS}")
        assert found["_shards"]["failed"] == 0
        assert sorted(int(hit["_id"]) for hit in found["hits"]["hits"]) == list(range(DOCUMENTS))
    finally:
        opensearch_cluster.control("start", "--node", "node2")
    health = get(url, "/_cluster/health")
    assert (health["status"], health["number_of_nodes"]) == ("green", 2)


def test_status_of_a_folder_without_a_cluster_is_one_line(tmp_path):
    done = run_script("status", "--dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr == f"opensearch-cluster: no cluster in {tmp_path}: run `start` first\n"


def test_starting_on_a_taken_port_is_one_line(opensearch_cluster, tmp_path):
    if opensearch_cluster.directory is None:
        pytest.skip("NEWSEARCH_TEST_OPENSEARCH names a cluster this session did not start")
    port = opensearch_cluster.urls[0].rsplit(":", 1)[1]
    done = run_script("start", "--dir", str(tmp_path / "other"), "--port", port)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"opensearch-cluster: port {port} on 127.0.0.1 is taken (another cluster?): "
        "stop it, or start with another --port (0 picks free ports)"]
