"""Search results as text, JSON or HTML: pure functions returning strings."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence

from .indexing import IndexReport
from .searching import Hit, SearchResults

__all__ = ["render_text", "render_json", "render_html", "render_report", "mark"]

Span = tuple[int, int]


def mark(text: str, spans: Sequence[Span], before: str, after: str,
         escape: Callable[[str], str] = lambda s: s) -> str:
    """``text`` with each span wrapped in ``before``/``after``; the rest escaped."""
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(escape(text[last:start]))
        out.append(before + escape(text[start:end]) + after)
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def _count(total: int) -> str:
    return f"{total} article matches" if total == 1 else f"{total} articles match"


def _place(hit: Hit) -> str:
    """The file, and the article's id when it is not the file itself."""
    return hit.path if hit.id == hit.path else f"{hit.path} (id {hit.id})"


def render_text(results: SearchResults, color: bool = False) -> str:
    """For a terminal: highlights in bold yellow, or between ** when colour is off."""
    on, off = ("\x1b[1;33m", "\x1b[0m") if color else ("**", "**")
    bold, plain = ("\x1b[1m", "\x1b[0m") if color else ("", "")
    dim = "\x1b[2m" if color else ""
    lines = []
    first = (results.page - 1) * results.limit + 1
    if results.hits:
        shown = f"{first}-{first + len(results.hits) - 1}"
        lines.append(f"{_count(results.total)} {results.query!r} (showing {shown})")
    elif results.total:
        lines.append(f"{_count(results.total)} {results.query!r}, none on page {results.page}")
    else:
        lines.append(f"No article matches {results.query!r}")
    if results.suggestion:
        lines.append(f"Did you mean: {results.suggestion} ?")
    for hit in results.hits:
        lines.append("")
        title = mark(hit.title, hit.title_highlights, on + bold if color else on, off)
        lines.append(f"{bold}{hit.rank}. {plain}{title}  {dim}(score {hit.score:.2f}){plain}")
        where = " · ".join(x for x in (_place(hit), str(hit.date or ""), hit.source, hit.author) if x)
        lines.append(f"   {dim}{where}{plain}")
        if hit.url:
            lines.append(f"   {dim}{hit.url}{plain}")
        lines.append("   " + mark(hit.snippet, hit.highlights, on, off))
    return "\n".join(lines) + "\n"


def hit_dict(hit: Hit) -> dict[str, object]:
    return {
        "id": hit.id,
        "path": hit.path,
        "title": hit.title,
        "date": hit.date.isoformat() if hit.date else None,
        "score": hit.score,
        "snippet": hit.snippet,
        "highlights": [list(span) for span in hit.highlights],
    }


def render_json(results: SearchResults) -> str:
    document = {
        "query": results.query,
        "total": results.total,
        "suggestion": results.suggestion,
        "hits": [hit_dict(hit) for hit in results.hits],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


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


def render_html(results: SearchResults) -> str:
    """A standalone page; every piece of article text is escaped."""
    esc = html.escape
    items = []
    for hit in results.hits:
        title = mark(hit.title, hit.title_highlights, "<mark>", "</mark>", esc)
        if hit.url:
            title = f'<a href="{esc(hit.url)}">{title}</a>'
        meta = " · ".join(esc(x) for x in (_place(hit), str(hit.date or ""), hit.source, hit.author) if x)
        snippet = mark(hit.snippet, hit.highlights, "<mark>", "</mark>", esc)
        items.append(
            f'<li><h2>{title}</h2>\n<p class="meta">{meta} · score {hit.score:.2f}</p>\n<p>{snippet}</p></li>'
        )
    summary = _count(results.total)
    if results.suggestion:
        summary += f" · Did you mean: {esc(results.suggestion)} ?"
    return _PAGE.format(
        title=esc(f"newsearch: {results.query}"),
        summary=esc(summary) if not results.suggestion else summary,
        start=(results.page - 1) * results.limit + 1,
        items="\n".join(items),
    )


def render_report(report: IndexReport) -> str:
    return (
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.failed} failed in {report.seconds:.1f}s"
    )
