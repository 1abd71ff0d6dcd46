"""What each output format shows."""

import datetime as dt
import html
import json
import re

from searchengine.indexing import IndexReport
from searchengine.render import render_html, render_json, render_report, render_text
from searchengine.results import Hit, SearchResults


def results(duplicates=(), **extra):
    hit = Hit(id="a&b", path="news/<x>.txt", title="Tom & Jerry <script>alert(1)</script>",
              date=dt.date(2023, 9, 12), score=3.14159, snippet="Le <script>x()</script> & Poutine arrive…",
              highlights=[(26, 33)], title_highlights=[(0, 3)], source="AFP", rank=1, url="https://e.org/?a=1&b=2",
              duplicates=duplicates)
    return SearchResults(query="Poutine <b>", total=1, hits=[hit], **extra)


def test_html_is_a_standalone_page_with_everything_escaped():
    page = render_html(results())
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; <mark>Poutine</mark> arrive…" in page
    assert "<mark>Tom</mark> &amp; Jerry &lt;script&gt;" in page
    assert 'href="https://e.org/?a=1&amp;b=2"' in page
    assert "newsearch: Poutine &lt;b&gt;" in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "Le <script>x()</script> & Poutine arrive…" in text


def test_json_has_exactly_the_documented_shape():
    doc = json.loads(render_json(results(suggestion="Poutine")))
    assert doc == {
        "query": "Poutine <b>", "total": 1, "total_exact": True, "folded": 0, "page": 1, "limit": 10,
        "suggestion": "Poutine",
        "hits": [{"rank": 1, "id": "a&b", "path": "news/<x>.txt", "title": "Tom & Jerry <script>alert(1)</script>",
                  "date": "2023-09-12", "source": "AFP", "author": None, "url": "https://e.org/?a=1&b=2",
                  "lede": None, "score": 3.14159, "snippet": "Le <script>x()</script> & Poutine arrive…",
                  "highlights": [[26, 33]], "title_highlights": [[0, 3]],
                  "duplicates": {"count": 0, "ids": []}}],
    }


def test_folded_duplicates_show_in_every_format_escaped():
    folded = results(duplicates=("<i>x</i>", "y\x1b[2J"), folded=2)
    assert json.loads(render_json(folded))["hits"][0]["duplicates"] == {"count": 2, "ids": ["<i>x</i>", "y\x1b[2J"]}
    assert json.loads(render_json(folded))["folded"] == 2
    text = render_text(folded)
    assert text.splitlines()[0] == "1 article matches 'Poutine <b>' (showing 1-1), and 2 duplicates folded into it"
    assert "   + 2 more like this: <i>x</i>, y\ufffd[2J" in text.splitlines()
    page = render_html(folded)
    assert "2 more like this: &lt;i&gt;x&lt;/i&gt;, y\ufffd[2J" in page and "<i>" not in page
    assert "and 2 duplicates folded into it" in page


def test_text_marks_hits_and_shows_where_the_article_is():
    out = render_text(results(suggestion="Poutine"))
    assert "1 article matches 'Poutine <b>' (showing 1-1)" in out
    assert "Did you mean: Poutine ?" in out
    assert "1. **Tom** & Jerry" in out and "(score 3.14)" in out
    assert "news/<x>.txt (id a&b) · 2023-09-12 · AFP" in out
    assert "& **Poutine** arrive…" in out


def test_report_line():
    report = IndexReport(added=1, updated=2, unchanged=3, removed=4, failed=5, seconds=1.26)
    assert render_report(report) == "1 added, 2 updated, 3 unchanged, 4 removed, 5 failed in 1.3s"
