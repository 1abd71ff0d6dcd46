"""`newsearch serve`, as a browser or a program sees it: the real server in a
subprocess on a free loopback port, called over HTTP."""

import asyncio
import contextlib
import html
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from searchengine import SearchEngine
from searchengine.cli import cli

from .conftest import wait_for

NEWSEARCH = os.path.join(os.path.dirname(sys.executable), "newsearch")
DEADLINE = 60.0
"""Seconds a test waits for something that should take well under one."""

TRICKY_IDS = ["dossiers/2023/grève", "brève#7", "avec espace ?", "x/similar", "100% + plus", "日本/ü&=;"]
XSS = {"id": "xss", "title": "<script>alert('titre')</script> Alerte rouge", "date": "2023-05-01",
       "source": "<b>Gras</b>", "url": "javascript:alert('url')",
       "body": "Corps de l'alerte <script>alert('corps')</script> <img src=x onerror=alert(1)> rouge."}


def records() -> list[dict]:
    """24 articles on "marché" (5 in 2021, 8 in 2022, 11 in 2023; 15 AFP, 9
    Reuters), articles with ids that URLs must carry, and one full of markup."""
    out = []
    years = [2021] * 5 + [2022] * 8 + [2023] * 11
    for i, year in enumerate(years):
        out.append({"id": f"m{i:02d}", "title": f"Le marché couvert numéro {i}", "date": f"{year}-03-{i + 1:02d}",
                    "source": "AFP" if i % 8 < 5 else "Reuters",
                    "body": f"Le marché du quartier {i} ouvre ses portes. Les commerçants du marché sont contents."})
    for i, article_id in enumerate(TRICKY_IDS):
        out.append({"id": article_id, "title": f"Rencontre avec Vladimir Poutine, épisode {i}",
                    "date": "2022-06-01", "source": "Le Monde",
                    "body": f"Vladimir Poutine a reçu des diplomates au Kremlin (épisode {i})."})
    out.append({"title": "Un article sans identifiant", "body": "Il parle de la grève des contrôleurs aériens."})
    out.append(XSS)
    return out


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("served")
    dump = folder / "news.jsonl"
    dump.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records()) + "\n", encoding="utf-8")
    with SearchEngine(folder / "ix") as engine:
        engine.index([dump])
    return folder / "ix"


@contextlib.contextmanager
def serving(index_dir: Path, log: Path, *options: str):
    """``newsearch serve`` on a free loopback port (``--port 0``); yields its base URL once it answers."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([NEWSEARCH, "serve", "--index-dir", str(index_dir), "--port", "0", *options],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        def started():
            if proc.poll() is not None:
                pytest.fail(f"newsearch serve exited with {proc.returncode}:\n{log.read_text()}")
            return re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_text())

        url = wait_for(started, "the server to listen").group(1)

        def answers():
            try:
                return httpx.get(f"{url}/health", timeout=5)
            except httpx.TransportError:
                return None

        wait_for(answers, "the server to answer")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("log") / "server.log"


@pytest.fixture(scope="module")
def server(index_dir, server_log):
    """The server most tests share: two worker processes, as on a 2-core machine."""
    with serving(index_dir, server_log, "--workers", "2") as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=30) as c:
        yield c


def cli_json(runner, index_dir, *args):
    result = runner.invoke(cli, [*args, "--index-dir", str(index_dir), "--json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def links(page: str, css_class: str) -> list[tuple[str, str]]:
    """(href, text) of the links of one class, unescaped."""
    found = re.findall(rf'<a class="{css_class}"[^>]*?href="([^"]*)"[^>]*>(.*?)</a>', page, re.S)
    return [(html.unescape(href), html.unescape(re.sub(r"<[^>]+>", "", text))) for href, text in found]


def shown(page: str) -> str:
    """The text a browser shows."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def element(page: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no #{element_id}"
    return match.group(2)


# --- start-up ---------------------------------------------------------------------------------------------


def test_it_listens_on_loopback_with_the_workers_asked_for(server, server_log):
    assert "Uvicorn running on http://127.0.0.1:" in server_log.read_text()
    # The first worker may answer /health before the second has started.
    wait_for(lambda: len(re.findall(r"Started server process", server_log.read_text())) >= 2, "two workers")
    assert len(re.findall(r"Started server process", server_log.read_text())) == 2


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_stops_the_server_quietly_with_status_0(index_dir, tmp_path, workers):
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([NEWSEARCH, "serve", "--index-dir", str(index_dir), "--port", "0",
                                 "--workers", workers], stdout=out, stderr=subprocess.STDOUT)
    try:
        url = wait_for(lambda: re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_text()),
                       "the server to listen").group(1)
        wait_for(lambda: answers(url), "the server to answer")
        proc.terminate()
        assert proc.wait(timeout=DEADLINE) == 0, log.read_text()
    finally:
        proc.kill()
        proc.wait()
    assert "Interrupted" not in log.read_text() and "Traceback" not in log.read_text()


def answers(url):
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_health_and_info(client):
    health = client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    info = client.get("/api/info").json()
    assert info["articles"] == len(records())
    assert set(info) == {"articles", "terms", "size_bytes", "last_update", "analyzer"}


# --- the JSON API -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {},
    {"limit": "5", "page": "2"},
    {"since": "2022-01-01", "until": "31/12/2022", "sort": "date"},
    {"source": "afp", "fragments": "2", "fragment_size": "40"},
])
def test_api_search_is_the_cli_json_plus_facets(client, index_dir, runner, options):
    api = client.get("/api/search", params={"q": "marché", **options})
    assert api.status_code == 200 and api.headers["content-type"] == "application/json"
    doc = api.json()
    flags = [x for name, value in options.items() for x in (f"--{name.replace('_', '-')}", value)]
    assert {k: v for k, v in doc.items() if k != "facets"} == cli_json(runner, index_dir, "query", "marché", *flags)
    assert doc["hits"]


def test_api_search_facets_count_every_matching_article(client):
    facets = client.get("/api/search", params={"q": "marché", "limit": "1"}).json()["facets"]
    assert facets == {"years": [{"value": "2023", "count": 11}, {"value": "2022", "count": 8},
                                {"value": "2021", "count": 5}],
                      "sources": [{"value": "AFP", "count": 15}, {"value": "Reuters", "count": 9}]}


def test_api_article_and_similar(client, index_dir, runner):
    article = client.get("/api/articles/m03", params={"q": "marché"}).json()
    body = article["body"]
    assert article["id"] == "m03" and article["source"] == "AFP" and article["date"] == "2021-03-04"
    assert [body[s:e] for s, e in article["highlights"]["body"]] == ["marché", "marché"]
    shown = runner.invoke(cli, ["show", "m03", "--highlight", "marché", "--json", "--index-dir", str(index_dir)])
    assert json.loads(shown.stdout) == article
    similar = client.get("/api/articles/m03/similar", params={"limit": "3"}).json()
    assert similar == cli_json(runner, index_dir, "similar", "m03", "--limit", "3")
    assert len(similar["hits"]) == 3 and "m03" not in [h["id"] for h in similar["hits"]]


@pytest.mark.parametrize("query, words", [
    ({}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 2001}, "2000"),
    ({"q": "marché", "limit": "0"}, "limit"),
    ({"q": "marché", "limit": "101"}, "limit"),
    ({"q": "marché", "limit": "ten"}, "limit"),
    ({"q": "marché", "page": "1001"}, "page"),
    ({"q": "marché", "page": "-1"}, "page"),
    ({"q": "marché", "since": "hier"}, "since"),
    ({"q": "marché", "until": "2023-13-45"}, "until"),
    ({"q": "marché", "sort": "best"}, "sort"),
    ({"q": "marché", "fragments": "11"}, "fragments"),
    ({"q": "marché", "fragment_size": "19"}, "fragment_size"),
    ({"q": "marché", "source": "s" * 201}, "source"),
    ({"q": "-marché"}, "only excludes"),
])
def test_bad_parameters_are_400_with_one_line_saying_which(client, query, words):
    response = client.get("/api/search", params=query)
    assert response.status_code == 400
    assert list(response.json()) == ["error"] and words in response.json()["error"]
    assert "Traceback" not in response.text


def test_bad_parameters_of_similar_are_400(client):
    response = client.get("/api/articles/m03/similar", params={"limit": "1000"})
    assert response.status_code == 400 and "limit" in response.json()["error"]


@pytest.mark.parametrize("path", ["/api/articles/nope", "/api/articles/nope/similar", "/api/nothing", "/nothing",
                                  "/articles/nope"])
def test_unknown_ids_and_paths_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert list(response.json()) == ["error"]
    else:
        assert response.headers["content-type"].startswith("text/html") and 'id="error-message"' in response.text


def test_a_missing_index_is_503_until_one_is_built(tmp_path, articles):
    with serving(tmp_path / "ix", tmp_path / "log", "--workers", "1") as url:
        for path in ("/health", "/api/search?q=grève", "/api/info", "/api/articles/x"):
            response = httpx.get(url + path)
            assert response.status_code == 503, path
            assert "no index in" in response.json()["error"]
        page = httpx.get(url + "/?q=grève")
        assert page.status_code == 503 and "no index in" in page.text
        with SearchEngine(tmp_path / "ix") as engine:
            engine.index([articles])
        assert httpx.get(url + "/health").status_code == 200
        assert httpx.get(url + "/api/search", params={"q": "grève"}).json()["total"] == 1


# --- pages ------------------------------------------------------------------------------------------------


def test_search_page_shows_highlighted_results_total_facets_and_pages(client):
    page = client.get("/", params={"q": "marché"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<label for="q">' in text and 'role="search"' in text and '<main id="main"' in text
    assert 'value="marché"' in text
    assert "24 articles match; showing 1–10." in text
    titles = re.findall(r'<h2 class="hit-title"><a href="([^"]*)">(.*?)</a>', text)
    assert len(titles) == 10 and all("<mark>marché</mark>" in t for _, t in titles)
    assert all(h.startswith("/articles/m") and h.endswith("?q=march%C3%A9") for h, _ in titles)
    snippets = re.findall(r'<p class="hit-snippet">(.*?)</p>', text)
    assert len(snippets) == 10 and all("<mark>marché</mark>" in s for s in snippets)
    assert links(text, "facet facet-year") == [("/?q=march%C3%A9&since=2023-01-01&until=2023-12-31", "2023"),
                                                ("/?q=march%C3%A9&since=2022-01-01&until=2022-12-31", "2022"),
                                                ("/?q=march%C3%A9&since=2021-01-01&until=2021-12-31", "2021")]
    assert links(text, "facet facet-source") == [("/?q=march%C3%A9&source=AFP", "AFP"),
                                                  ("/?q=march%C3%A9&source=Reuters", "Reuters")]
    assert re.search(r'<a id="next-page" rel="next" href="/\?q=march%C3%A9&amp;page=2"', text)
    assert 'id="prev-page"' not in text


def test_facet_links_filter_and_pages_turn(client):
    first = client.get("/", params={"q": "marché"}).text
    source_url = dict((t, h) for h, t in links(first, "facet facet-source"))["Reuters"]
    filtered = client.get(source_url).text
    assert "9 articles match" in filtered and 'id="remove-source"' in filtered
    assert set(re.findall(r'<span class="hit-source">(.*?)</span>', filtered)) == {"Reuters"}
    year_url = dict((t, h) for h, t in links(first, "facet facet-year"))["2023"]
    assert "11 articles match" in client.get(year_url).text
    next_url = html.unescape(re.search(r'id="next-page" rel="next" href="([^"]*)"', first).group(1))
    second = client.get(next_url).text
    assert 'start="11"' in second and "showing 11–20" in second and 'id="prev-page"' in second
    first_ids = re.findall(r'href="/articles/(m\d+)', first)
    second_ids = re.findall(r'href="/articles/(m\d+)', second)
    assert len(second_ids) == 10 and not set(first_ids) & set(second_ids)


def test_did_you_mean_links_to_the_corrected_search(client):
    page = client.get("/", params={"q": "Poutinne"}).text
    href, text = re.search(r'id="suggestion-link" href="([^"]*)">(.*?)</a>', page).groups()
    assert (html.unescape(href), text) == ("/?q=Poutine", "Poutine")


def test_the_page_keeps_its_state_in_the_url(client):
    page = client.get("/", params={"q": "marché", "since": "2022-01-01", "source": "AFP", "sort": "date",
                                   "limit": "3"}).text
    assert 'id="since" name="since" type="date" value="2022-01-01"' in page
    assert 'id="source" name="source" type="text" value="AFP"' in page
    assert '<option value="date" selected>' in page
    assert '<input type="hidden" name="limit" value="3">' in page
    assert "showing 1–3" in page
    dates = re.findall(r'<time datetime="([^"]*)"', page)
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2023")


def test_search_page_without_query_is_a_search_box(client):
    page = client.get("/").text
    assert 'id="q"' in page and "autofocus" in page and 'id="results"' not in page


def test_bad_parameters_on_the_page_are_a_400_page(client):
    page = client.get("/", params={"q": "marché", "page": "0"})
    assert page.status_code == 400 and "page: expected a whole number" in page.text


def test_article_page_shows_the_whole_article_highlighted_and_similar_ones(client):
    page = client.get("/articles/m03", params={"q": "commerçants"}).text
    assert '<article id="article" lang="fr"' in page
    assert element(page, "article-title") == "Le marché couvert numéro 3"
    assert "<mark>commerçants</mark>" in element(page, "article-body")
    assert '<time datetime="2021-03-04">' in page and "AFP" in page
    similar = links(page, "similar-link")
    assert len(similar) == 5 and all(h.startswith("/articles/m") and h.endswith("?q=commer%C3%A7ants")
                                     for h, _ in similar)
    assert "/articles/m03?" not in [h[:len("/articles/m03?")] for h, _ in similar]
    followed = client.get(similar[0][0])
    assert followed.status_code == 200 and element(followed.text, "article-title") == similar[0][1]
    assert html.unescape(re.search(r'id="back-to-results" href="([^"]*)"', page).group(1)) == "/?q=commer%C3%A7ants"


@pytest.mark.parametrize("article_id", TRICKY_IDS)
def test_every_id_round_trips_through_its_url(client, article_id):
    page = client.get("/", params={"q": f"Poutine épisode {TRICKY_IDS.index(article_id)}", "limit": "20"}).text
    hrefs = [html.unescape(h) for h in re.findall(r'<h2 class="hit-title"><a href="([^"]*)"', page)]
    href = f"/articles/{quote(article_id, safe='')}?q=Poutine+%C3%A9pisode+{TRICKY_IDS.index(article_id)}"
    assert href in hrefs
    article = client.get(href)
    assert article.status_code == 200 and html.unescape(element(article.text, "article-id")) == article_id
    api = client.get(f"/api/articles/{quote(article_id, safe='')}")
    assert api.status_code == 200 and api.json()["id"] == article_id
    similar = client.get(f"/api/articles/{quote(article_id, safe='')}/similar").json()
    assert similar["query"] == f"similar to {article_id}" and article_id not in [h["id"] for h in similar["hits"]]


def test_a_record_without_id_is_reached_as_path_and_number(client, index_dir):
    hit = client.get("/api/search", params={"q": "contrôleurs aériens"}).json()["hits"][0]
    assert re.fullmatch(r".*news\.jsonl#\d+", hit["id"])
    assert client.get(f"/api/articles/{quote(hit['id'], safe='')}").json()["title"] == "Un article sans identifiant"


def test_ids_are_read_from_the_raw_path_so_an_encoded_slash_is_part_of_the_id(client):
    assert client.get("/api/articles/x%2Fsimilar").json()["id"] == "x/similar"
    assert client.get("/api/articles/x%2Fsimilar/similar").json()["query"] == "similar to x/similar"
    assert client.get("/api/articles/dossiers/2023/gr%C3%A8ve").json()["id"] == "dossiers/2023/grève"
    bad = client.get("/api/articles/%FF")
    assert bad.status_code == 400 and "UTF-8" in bad.json()["error"]


# --- safety -----------------------------------------------------------------------------------------------


def test_article_text_is_escaped_everywhere(client):
    search = client.get("/", params={"q": "alerte rouge <script>alert('q')</script>"}).text
    article = client.get("/articles/xss", params={"q": "alerte"}).text
    for page in (search, article):
        assert "<script" not in page and "<img" not in page and "<b>" not in page
        assert "javascript:" not in re.sub(r"&[^;]+;", "", "".join(re.findall(r'href="([^"]*)"', page)))
    assert "<script>alert('titre')</script> Alerte rouge" in shown(search)
    assert "Results for “alerte rouge <script>alert('q')</script>”" in shown(search)
    assert "Corps de l'alerte <script>alert('corps')</script> <img src=x onerror=alert(1)> rouge." in shown(article)
    assert element(article, "article-url") == "javascript:alert(&#39;url&#39;)"
    assert "<b>Gras</b>" in shown(article)
    assert "script-src" not in client.get("/").headers["content-security-policy"]
    assert "default-src 'none'" in client.get("/").headers["content-security-policy"]


def test_no_request_reaches_the_file_system(client):
    for path in ("/static/../../setup.cfg", "/static/style.css/../../server.py", "/static/server.py",
                 "/static/%2e%2e/server.py", "/templates/base.html", "/articles/..%2F..%2F..%2Fetc%2Fpasswd",
                 "/api/articles/%2Fetc%2Fpasswd"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "root:" not in response.text and "[metadata]" not in response.text and "import" not in response.text
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


def test_request_sizes_are_bounded(server, client):
    with httpx.Client(base_url=server, timeout=30) as fresh:
        huge = fresh.get("/api/search", params={"q": "x" * 30_000})
    assert 400 <= huge.status_code < 500
    posted = client.post("/api/search", params={"q": "marché"}, content=b"x" * 1_000_000)
    assert posted.status_code == 405 and list(posted.json()) == ["error"]
    assert client.get("/health").status_code == 200


def test_cors_is_off_unless_origins_are_named(client, index_dir, tmp_path):
    origin = {"Origin": "https://newsroom.example"}
    plain = client.get("/api/search", params={"q": "marché"}, headers=origin)
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers
    preflight = client.options("/api/search", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    with serving(index_dir, tmp_path / "log", "--workers", "1", "--cors-origin", "https://newsroom.example",
                 "--cors-origin", "https://archive.example") as url:
        allowed = httpx.get(url + "/api/search", params={"q": "marché"}, headers=origin)
        assert allowed.headers["access-control-allow-origin"] == "https://newsroom.example"
        other = httpx.get(url + "/api/search", params={"q": "marché"}, headers={"Origin": "https://evil.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
        preflight = httpx.options(url + "/api/search",
                                  headers={"Origin": "https://archive.example", "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://archive.example"


# --- live updates -----------------------------------------------------------------------------------------


def test_a_new_commit_is_served_without_restart_and_no_request_fails(tmp_path, articles):
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([articles])
    statuses: list[int] = []
    stop = threading.Event()

    def hammer(url):
        with httpx.Client(base_url=url, timeout=30) as c:
            while not stop.is_set():
                statuses.append(c.get("/api/search", params={"q": "grève hôpitaux"}).status_code)

    with serving(tmp_path / "ix", tmp_path / "log", "--workers", "2") as url:
        assert httpx.get(url + "/api/search", params={"q": "funiculaire"}).json()["total"] == 0
        threads = [threading.Thread(target=hammer, args=(url,)) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for i in range(3):
                (articles / f"nouveau{i}.txt").write_text(f"Le funiculaire numéro {i}\n\nIl reprend du service.",
                                                          encoding="utf-8")
                done = subprocess.run([NEWSEARCH, "index", str(articles), "--index-dir", str(tmp_path / "ix")],
                                      capture_output=True, text=True)
                assert done.returncode == 0, done.stderr

                def served(count=i + 1):
                    found = httpx.get(url + "/api/search", params={"q": "funiculaire"}).json()["total"]
                    return found == count

                wait_for(served, f"{i + 1} new articles to be served")
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}


# --- the OpenAPI document, and fuzzing the API from it ----------------------------------------------------


def test_openapi_describes_every_endpoint(client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/api/search", "/api/articles/{id}", "/api/articles/{id}/similar", "/api/info",
                                 "/health"}
    names = {p["name"] for p in doc["paths"]["/api/search"]["get"]["parameters"]}
    assert names == {"q", "limit", "page", "since", "until", "source", "sort", "collapse", "fragments",
                     "fragment_size"}


@pytest.mark.parametrize("mode, examples", [(GenerationMode.POSITIVE, 250), (GenerationMode.NEGATIVE, 150)])
def test_api_answers_every_request_as_documented(server, mode, examples):
    """Requests generated from /openapi.json, within its bounds and outside
    them: no 5xx, and every response (its status, content type and body) is
    one the document describes."""
    # A query within the document's bounds may still be refused (400): `-word` alone, or only spaces.
    config = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json", config=config)
    calls = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=schema.as_strategy(mode))
    def call(case):
        calls.append(case.call_and_validate(base_url=server).status_code)

    call()
    assert len(calls) >= examples / 2 and max(calls) < 500


def test_a_port_in_use_is_an_error_status(server):
    port = server.rsplit(":", 1)[1]
    done = subprocess.run([NEWSEARCH, "serve", "--port", port, "--workers", "1", "--index-dir", "nowhere"],
                          capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 2
    assert "address already in use" in done.stderr and "Traceback" not in done.stderr


class Broken(SearchEngine):
    """An engine with a bug, to see what a request that meets one gets."""

    def search(self, *args, **kwargs):
        raise RuntimeError("secret detail of a bug")


def test_a_bug_is_a_500_without_details(tmp_path):
    from searchengine.server import create_app

    async def get(*requests):
        transport = httpx.ASGITransport(create_app(tmp_path, engine=Broken(tmp_path)), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return [await c.get(path, params=params) for path, params in requests]

    api, page = asyncio.run(get(("/api/search", {"q": "marché"}), ("/", {"q": "marché"})))
    assert (api.status_code, api.json()) == (500, {"error": "internal error"})
    assert page.status_code == 500 and "internal error" in page.text
    for response in (api, page):
        assert "secret detail" not in response.text and "Traceback" not in response.text
