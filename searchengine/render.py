"""Results, reports and index descriptions as text, JSON or HTML: pure
functions returning strings.

Article text and file names come from anywhere: text output replaces every
control character (escape sequences, ``\\r``, bidirectional overrides) one for
one, so the only escape codes on a terminal are newsearch's own colours and
highlight offsets stay valid; HTML escapes everything and links only
``http(s)`` URLs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clustercheck import ClusterCheck
    from .engine import IndexInfo
    from .facets import Facets
    from .indexing import IndexReport
    from .results import ArticleView, Hit, SearchResults
    from .whooshformat import Verification

__all__ = ["render_text", "render_json", "render_html", "render_report", "render_info", "info_dict", "hit_dict",
           "linkable", "mark", "results_dict", "facets_dict", "article_dict", "render_article", "safe",
           "dump_json"]

Span = tuple[int, int]
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = {c: "\ufffd" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), *map(ord, _BIDI))}
_UNSAFE.update({ord("\t"): " ", ord("\n"): " ", ord("\r"): " "})
_JSON_UNSAFE = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0), *map(ord, _BIDI))}
"""What ``json.dumps`` leaves as it is but a terminal would obey: written as JSON escapes."""


def safe(text: str) -> str:
    """``text`` with every control character made harmless, one character for
    one: tabs and line ends become spaces, the rest U+FFFD."""
    return text.translate(_UNSAFE)


def mark(text: str, spans: Sequence[Span], before: str, after: str,
         escape: Callable[[str], str] = safe) -> str:
    """``text`` with each span wrapped in ``before``/``after``; the rest escaped."""
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(escape(text[last:start]))
        out.append(before + escape(text[start:end]) + after)
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def _count(total: int, exact: bool = True) -> str:
    """``exact`` False: counting stopped there (``SearchResults.total_exact``)."""
    count = f"{total}" if exact else f"at least {total}"
    return f"{count} article matches" if total == 1 and exact else f"{count} articles match"


def _place(hit: Hit) -> str:
    """The file, and the article's id when it is not the file itself."""
    return hit.path if hit.id == hit.path else f"{hit.path} (id {hit.id})"


def _quoted(query: str) -> str:
    return repr(safe(query))


def _folded(results: SearchResults) -> str:
    """What the count leaves out: duplicates, each listed under the hit it repeats."""
    if not results.folded:
        return ""
    copies = "duplicate" if results.folded == 1 else "duplicates"
    count = f"{results.folded}" if results.total_exact else f"at least {results.folded}"
    return f", and {count} {copies} folded into {'it' if results.total == 1 else 'them'}"


def _more_like_this(hit: Hit) -> str:
    return f"{len(hit.duplicates)} more like this"


def render_text(results: SearchResults, color: bool = False) -> str:
    """For a terminal: highlights in bold yellow, or between ** when colour is off."""
    on, off = ("\x1b[1;33m", "\x1b[0m") if color else ("**", "**")
    bold, plain = ("\x1b[1m", "\x1b[0m") if color else ("", "")
    dim = "\x1b[2m" if color else ""
    lines = []
    first = (results.page - 1) * results.limit + 1
    if results.hits:
        shown = f"{first}-{first + len(results.hits) - 1}"
        lines.append(f"{_count(results.total, results.total_exact)} {_quoted(results.query)} "
                     f"(showing {shown}){_folded(results)}")
    elif results.total:
        lines.append(f"{_count(results.total, results.total_exact)} {_quoted(results.query)}{_folded(results)}, "
                     f"none on page {results.page}")
    else:
        lines.append(f"No article matches {_quoted(results.query)}")
    if results.suggestion:
        lines.append(f"Did you mean: {safe(results.suggestion)} ?")
    for hit in results.hits:
        lines.append("")
        title = mark(hit.title, hit.title_highlights, on + bold if color else on, off)
        lines.append(f"{bold}{hit.rank}. {plain}{title}  {dim}(score {hit.score:.2f}){plain}")
        where = " · ".join(safe(x) for x in (_place(hit), str(hit.date or ""), hit.source, hit.author) if x)
        lines.append(f"   {dim}{where}{plain}")
        if hit.url:
            lines.append(f"   {dim}{safe(hit.url)}{plain}")
        lines.append("   " + mark(hit.snippet, hit.highlights, on, off))
        if hit.duplicates:
            lines.append(f"   {dim}+ {_more_like_this(hit)}: {safe(', '.join(hit.duplicates))}{plain}")
    return "\n".join(lines) + "\n"


def hit_dict(hit: Hit) -> dict[str, object]:
    """Every field of a hit that the text and HTML outputs show."""
    return {
        "rank": hit.rank,
        "id": hit.id,
        "path": hit.path,
        "title": hit.title,
        "date": hit.date.isoformat() if hit.date else None,
        "source": hit.source or None,
        "author": hit.author or None,
        "url": hit.url or None,
        "lede": hit.lede or None,
        "score": hit.score,
        "snippet": hit.snippet,
        "highlights": [list(span) for span in hit.highlights],
        "title_highlights": [list(span) for span in hit.title_highlights],
        "duplicates": {"count": len(hit.duplicates), "ids": list(hit.duplicates)},
    }


def results_dict(results: SearchResults) -> dict[str, Any]:
    return {
        "query": results.query,
        "total": results.total,
        "total_exact": results.total_exact,
        "folded": results.folded,
        "page": results.page,
        "limit": results.limit,
        "suggestion": results.suggestion,
        "hits": [hit_dict(hit) for hit in results.hits],
    }


def dump_json(document: Any) -> str:
    """JSON as newsearch prints it: indented, UTF-8, terminal-safe."""
    return json.dumps(document, ensure_ascii=False, indent=2).translate(_JSON_UNSAFE) + "\n"


def facets_dict(facets: Facets) -> dict[str, list[dict[str, object]]]:
    """Years newest first and sources most articles first, each ``{"value", "count"}``."""
    return {name: [{"value": f.value, "count": f.count} for f in getattr(facets, name)]
            for name in ("years", "sources")}


def render_json(results: SearchResults) -> str:
    return dump_json(results_dict(results))


_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }}
ol {{ padding-left: 1.5rem; }} li {{ margin-bottom: 1.2rem; }}
.meta {{ color: #555; font-size: .9em; }} mark {{ background: #ffe066; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="meta">{summary}</p>
<ol start="{start}">
{items}
</ol>
</body>
</html>
"""


def linkable(url: str) -> bool:
    """Only web addresses become links: never ``javascript:`` or ``data:``."""
    return url.strip().lower().startswith(("http://", "https://"))


def render_html(results: SearchResults) -> str:
    """A standalone page; every piece of article text is escaped."""
    import html  # here: its entity tables are for this page only, not for every query

    def esc(text: str) -> str:
        return html.escape(safe(text))

    items = []
    for hit in results.hits:
        title = mark(hit.title, hit.title_highlights, "<mark>", "</mark>", esc)
        if hit.url and linkable(hit.url):
            title = f'<a href="{esc(hit.url.strip())}" rel="noopener noreferrer">{title}</a>'
        meta = " · ".join(esc(x) for x in (_place(hit), str(hit.date or ""), hit.source, hit.author) if x)
        snippet = mark(hit.snippet, hit.highlights, "<mark>", "</mark>", esc)
        more = (f'\n<p class="meta">{_more_like_this(hit)}: {esc(", ".join(hit.duplicates))}</p>'
                if hit.duplicates else "")
        items.append(
            f'<li><h2>{title}</h2>\n<p class="meta">{meta} · score {hit.score:.2f}</p>\n<p>{snippet}</p>{more}</li>'
        )
    summary = esc(_count(results.total, results.total_exact) + _folded(results))
    if results.suggestion:
        summary += f" · Did you mean: {esc(results.suggestion)} ?"
    return _PAGE.format(
        title=esc(f"newsearch: {results.query}"),
        summary=summary,
        start=(results.page - 1) * results.limit + 1,
        items="\n".join(items),
    )


_ARTICLE_FIELDS = ("title", "lede", "body")


def article_dict(view: ArticleView) -> dict[str, Any]:
    """Every field of an article, and the highlighted ranges of its title, lede and body."""
    article = view.article
    return {
        "id": article.id,
        "path": article.path,
        "title": article.title,
        "date": article.date.isoformat() if article.date else None,
        "source": article.source or None,
        "author": article.author or None,
        "url": article.url or None,
        "lede": article.lede or None,
        "body": article.body,
        "highlights": {name: [list(span) for span in view.highlights.get(name, ())] for name in _ARTICLE_FIELDS},
    }


def _safe_lines(text: str) -> str:
    """Like :func:`safe`, but keeps line ends, so paragraphs stay paragraphs."""
    return "\n".join(safe(line) for line in text.split("\n"))


def render_article(view: ArticleView, color: bool = False) -> str:
    """The whole article for a terminal, highlights as :func:`render_text` shows them."""
    on, off = ("\x1b[1;33m", "\x1b[0m") if color else ("**", "**")
    bold, plain = ("\x1b[1m", "\x1b[0m") if color else ("", "")
    dim = "\x1b[2m" if color else ""
    article = view.article
    title = mark(article.title, view.highlights.get("title", ()), on + bold if color else on, off)
    lines = [f"{bold}{title}{plain}"]
    where = " · ".join(safe(x) for x in (str(article.date or ""), article.source, article.author) if x)
    if where:
        lines.append(f"{dim}{where}{plain}")
    if article.url:
        lines.append(f"{dim}{safe(article.url)}{plain}")
    place = article.path if article.id == article.path else f"{article.path} (id {article.id})"
    lines.append(f"{dim}{safe(place)}{plain}")
    for name in ("lede", "body"):
        text = getattr(article, name)
        if text:
            lines += ["", mark(text, view.highlights.get(name, ()), on, off, _safe_lines).strip("\n")]
    return "\n".join(lines) + "\n"


def render_report(report: IndexReport) -> str:
    return (
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.failed} failed in {report.seconds:.1f}s"
    )


def info_dict(info: IndexInfo) -> dict[str, Any]:
    return {
        "path": info.path if "://" in info.path else os.path.abspath(info.path),  # a cluster's index: its URLs
        "articles": info.articles,
        "terms": info.terms,
        "size_bytes": info.size_bytes,
        "last_update": info.last_update.isoformat(timespec="seconds") if info.last_update else None,
        "analyzer": info.analyzer,
    }


def render_info(info: IndexInfo, as_json: bool = False, check: Verification | ClusterCheck | None = None) -> str:
    from .clustercheck import ClusterCheck  # here: only `info --check` on a cluster needs it

    values = info_dict(info)
    if isinstance(check, ClusterCheck):
        values["check"] = {"verified": True, "index": check.index, "shards": check.shards, "copies": check.copies,
                           "copies_expected": check.copies_expected, "documents": check.documents}
    elif check is not None:
        values["check"] = {"verified": check.verified, "generation": check.generation, "files": check.files,
                           "size_bytes": check.size_bytes}
    if as_json:
        return dump_json(values)
    lines = [
        f"Index:       {safe(values['path'])}",
        f"Articles:    {info.articles}",
        f"Terms:       {info.terms}",
        f"Size:        {info.size_bytes / 1e6:.1f} MB",
        f"Last update: {values['last_update'] or 'never'}",
        f"Analyser:    {info.analyzer}",
    ]
    if isinstance(check, ClusterCheck):
        lines.append(f"Check:       {check.documents} documents read, {check.shards} shards, "
                     f"{check.copies} of {check.copies_expected} copies started, all as written")
    elif check is not None and check.verified:
        lines.append(f"Check:       {check.files} files, {check.size_bytes / 1e6:.1f} MB, all as committed")
    elif check is not None:
        lines.append("Check:       not possible: the last commit recorded no checksums (the next one will)")
    return "\n".join(lines) + "\n"
