"""The article inside a saved web page.

BeautifulSoup with Python's own parser copes with the broken markup that saved
pages are full of, and needs no compiled code.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from bs4 import BeautifulSoup

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


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag and tag.get("content"):
            return str(tag["content"]).strip()
    return ""


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
    title = title or _meta(soup, "og:title")
    lede = _meta(soup, "og:description", "description")
    date = _meta(soup, "article:published_time", "date", "dc.date", "pubdate")
    if not date and (time := soup.find("time")):
        date = str(time.get("datetime") or time.get_text(strip=True))
    source = _meta(soup, "og:site_name")
    author = _meta(soup, "author", "article:author")
    canonical = soup.find("link", attrs={"rel": "canonical"})
    url = str(canonical["href"]) if canonical and canonical.get("href") else _meta(soup, "og:url")
    for tag in soup.find_all(_NOISE):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    if h1 and title and h1.get_text(" ", strip=True) == title:
        h1.decompose()
    for tag in root.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (_SPACES.sub(" ", line).strip() for line in root.get_text().splitlines())
    body = "\n".join(line for line in lines if line)
    if not title:
        first, _, rest = body.partition("\n")
        title, cut = title_and_rest(first)
        body = "\n".join(part for part in (cut, rest) if part)
    return Page(title=title, body=body, lede=lede, date=date, source=source, url=url, author=author)
