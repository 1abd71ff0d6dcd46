"""The article inside a saved web page.

BeautifulSoup with Python's own parser copes with the broken markup that saved
pages are full of, and needs no compiled code.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from bs4 import BeautifulSoup
from bs4.element import CData, NavigableString, PageElement, Tag

from .articles import title_and_rest

_NOISE = ("title", "script", "style", "noscript", "nav", "header", "footer", "aside", "form",
          "iframe", "svg", "button", "template")
_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption",
           "td", "div", "section", "article", "br")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")


@dataclass
class Page:
    title: str
    body: str
    lede: str = ""
    date: str = ""
    source: str = ""
    url: str = ""
    author: str = ""


def _metas(soup: BeautifulSoup) -> dict[str, str]:
    """Each ``<meta>``'s content by its property or name (lower-cased; the
    first one wins), in one walk of the page rather than one per name."""
    found: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        content = str(tag.get("content") or "").strip()
        for key in ("property", "name"):
            if content and (name := tag.get(key)):
                found.setdefault(str(name).lower(), content)
    return found


def _meta(metas: dict[str, str], *names: str) -> str:
    return next((metas[name] for name in names if name in metas), "")


_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CHARSET = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_PRESCAN_BYTES = 4096
"""Where a page's charset declaration is looked for: browsers look in its first
1,024 bytes; saved pages sometimes push it a little further."""


def page_encoding(data: bytes) -> str:
    """The Python codec a page's bytes are in: its byte-order mark, else the
    charset its ``<meta>`` declares, else UTF-8. Labels browsers read as
    windows-1252 (``iso-8859-1``, ``ascii``) are read as windows-1252 too."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    declared = _CHARSET.search(data, 0, _PRESCAN_BYTES)
    if not declared:
        return "utf-8"
    try:
        name = codecs.lookup(declared.group(1).decode("ascii")).name
        b"".decode(name)  # refuses codecs that are not text encodings (rot13, base64)
    except LookupError:
        return "utf-8"
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32") or name == "utf-8":
        return "utf-8"  # a page that can be read far enough to find its <meta> is not UTF-16
    return name


def extract(markup: str) -> Page:
    """Title from <title>, else the first <h1>, else og:title, else the text's
    first line; text of <article> or <main> (else <body>) without navigation,
    scripts and styles."""
    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    h1 = soup.find("h1")
    if not title and h1:
        title = h1.get_text(" ", strip=True)
    metas = _metas(soup)
    title = title or _meta(metas, "og:title")
    lede = _meta(metas, "og:description", "description")
    date = _meta(metas, "article:published_time", "date", "dc.date", "pubdate")
    if not date and (time := soup.find("time")):
        date = str(time.get("datetime") or time.get_text(strip=True))
    source = _meta(metas, "og:site_name")
    author = _meta(metas, "author", "article:author")
    canonical = soup.find("link", attrs={"rel": "canonical"})
    url = str(canonical["href"]) if canonical and canonical.get("href") else _meta(metas, "og:url")
    for tag in soup.find_all(_NOISE):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    if h1 and title and h1.get_text(" ", strip=True) == title:
        h1.decompose()
    lines = (_SPACES.sub(" ", line).strip() for line in _text(root).splitlines())
    body = "\n".join(line for line in lines if line)
    if not title:
        first, _, rest = body.partition("\n")
        title, cut = title_and_rest(first)
        body = "\n".join(part for part in (cut, rest) if part)
    return Page(title=title, body=body, lede=lede, date=date, source=source, url=url, author=author)


def _text(root: Tag) -> str:
    """The text under ``root``, each block element on lines of its own.

    One walk with a stack of its own: inserting line breaks into the tree
    costs as much as the tree is deep, each time, and a page of thousands of
    nested ``<div>`` would take hours.
    """
    out: list[str] = []
    stack: list[PageElement | None] = [root]
    while stack:
        node = stack.pop()
        if node is None:  # the end of a block
            out.append("\n")
        elif isinstance(node, Tag):
            if node.name in _BLOCKS:
                out.append("\n")
                stack.append(None)
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and type(node) in (NavigableString, CData):  # not comments, ...
            out.append(node)
    return "".join(out)
