"""Articles and the readers that get them out of files.

One reader per format, all yielding :class:`Article` values. A file or record
that cannot be read is reported through ``on_problem`` as a
:class:`~searchengine.errors.BadArticle` and skipped, so one bad line never
stops a collection from being indexed.
"""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import nfc
from .errors import BadArticle

__all__ = [
    "Article",
    "FIELD_NAMES",
    "SUFFIXES",
    "find_files",
    "parse_date",
    "read_file",
]

Problem = Callable[[BadArticle], None]

MAX_FILE_BYTES = 20 * 1024 * 1024
"""A single-article file larger than this is not an article but a mistake."""

SUFFIXES = (".txt", ".md", ".json", ".jsonl", ".ndjson", ".html", ".htm")

FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "guid", "uuid"),
    "title": ("title", "headline", "titre"),
    "date": ("date", "published", "published_at", "publication_date", "pubdate", "datetime"),
    "body": ("body", "text", "content", "article", "texte", "contenu"),
    "lede": ("lede", "heading", "summary", "description", "chapo", "chapeau", "abstract"),
    "source": ("source", "publisher", "site", "media"),
    "url": ("url", "link", "permalink"),
    "author": ("author", "authors", "byline", "auteur"),
}


@dataclass(frozen=True)
class Article:
    """One news article as newsearch sees it; text is NFC, never folded."""

    id: str
    title: str
    body: str
    path: str
    date: dt.date | None = None
    lede: str = ""
    source: str = ""
    url: str = ""
    author: str = ""
    record: str = field(default="", compare=False)
    """Which record of the file this is ('' for a one-article file)."""

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything indexed or shown changes."""
        parts = (self.id, self.title, self.lede, self.body, str(self.date or ""),
                 self.source, self.url, self.author)
        return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


_MONTHS = {
    "janvier": 1, "fevrier": 2, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "decembre": 12, "décembre": 12,
}
_FRENCH_DATE = re.compile(r"(\d{1,2})(?:er)?\s+([a-zéû]+)\s+(\d{4})", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_date(value: object) -> dt.date | None:
    """ISO 8601 (date or date-time) and the French forms `12 septembre 2023`,
    `1er mars 2020`, `12/09/2023` (day first). None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        if m := _FRENCH_DATE.search(text):
            month = _MONTHS.get(m.group(2).lower())
            if month:
                return dt.date(int(m.group(3)), month, int(m.group(1)))
        if m := _NUMERIC_DATE.search(text):
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None
    return None


def find_files(paths: Iterable[str | os.PathLike[str]], on_problem: Problem) -> Iterator[Path]:
    """Every article file under ``paths``, each once, in a stable order.

    Folders are walked recursively, following links but never the same folder
    twice, so a symlink loop is reported instead of walked forever.
    """
    seen_dirs: set[tuple[int, int]] = set()

    def walk(path: Path, explicit: bool) -> Iterator[Path]:
        try:
            st = path.stat()
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                on_problem(BadArticle(str(path), "symlink loop"))
            elif explicit or not path.is_symlink():
                on_problem(BadArticle(str(path), _os_reason(exc)))
            else:
                on_problem(BadArticle(str(path), "broken symlink"))
            return
        if os.path.isdir(path):
            ident = (st.st_dev, st.st_ino)
            if ident in seen_dirs:
                on_problem(BadArticle(str(path), "symlink loop: folder already visited"))
                return
            seen_dirs.add(ident)
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError as exc:
                on_problem(BadArticle(str(path), _os_reason(exc)))
                return
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                child = Path(entry.path)
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir or _suffix(child) in SUFFIXES or entry.is_symlink():
                    yield from walk(child, explicit=False)
        elif _suffix(path) in SUFFIXES:
            yield path
        elif explicit:
            expected = ", ".join(SUFFIXES)
            on_problem(BadArticle(str(path), f"unsupported format (expected one of {expected}, optionally .gz)"))

    for p in paths:
        yield from walk(Path(p), explicit=True)


def read_file(path: Path, fields: Mapping[str, str] | None = None, *, on_problem: Problem) -> Iterator[Article]:
    """The articles of one file, by its suffix; problems go to ``on_problem``."""
    display = str(path)
    try:
        kind = _suffix(path)
        if kind in (".txt", ".md"):
            yield from _read_text(path, display, markdown=kind == ".md")
        elif kind in (".html", ".htm"):
            yield from _read_html(path, display)
        elif kind in (".json", ".jsonl", ".ndjson"):
            yield from _read_json(path, display, kind, fields or {}, on_problem)
        else:
            raise BadArticle(display, "unsupported format")
    except BadArticle as exc:
        on_problem(exc)
    except OSError as exc:
        on_problem(BadArticle(display, _os_reason(exc)))
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        on_problem(BadArticle(display, f"damaged gzip file ({exc})"))


def _suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return os.path.splitext(name)[1]


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.EACCES:
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "no such file or folder"
    return exc.strerror or str(exc)


def _open(path: Path) -> object:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _read_bytes(path: Path, display: str) -> bytes:
    with _open(path) as fh:  # type: ignore[attr-defined]
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise BadArticle(display, f"too large for one article (over {MAX_FILE_BYTES // 2**20} MB)")
    return data


def _decode(data: bytes, display: str, line: int | None = None) -> str:
    if b"\0" in data:
        raise BadArticle(display, "binary file, not text", line)
    try:
        return nfc(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}" if line is None else f"column {exc.start + 1}"
        raise BadArticle(display, f"not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at {where})", line) from exc


def _read_text(path: Path, display: str, markdown: bool) -> Iterator[Article]:
    text = _decode(_read_bytes(path, display), display)
    lines = text.strip().splitlines()
    if not lines:
        raise BadArticle(display, "empty file")
    title = lines[0].strip()
    if markdown:
        title = title.lstrip("#").strip()
    yield Article(id=display, title=title, body="\n".join(lines[1:]).strip(), path=display)


def _read_html(path: Path, display: str) -> Iterator[Article]:
    from .webpages import extract

    text = _decode(_read_bytes(path, display), display)
    if not text.strip():
        raise BadArticle(display, "empty file")
    page = extract(text)
    if not page.title and not page.body:
        raise BadArticle(display, "no article text found in the page")
    yield Article(
        id=display, title=page.title, body=page.body, path=display, lede=page.lede,
        date=parse_date(page.date), source=page.source, url=page.url, author=page.author,
    )


def _read_json(
    path: Path, display: str, kind: str, fields: Mapping[str, str], on_problem: Problem
) -> Iterator[Article]:
    if kind == ".json":
        text = _decode(_read_bytes(path, display), display)
        if not text.strip():
            raise BadArticle(display, "empty file")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadArticle(display, f"malformed JSON at column {exc.colno}: {exc.msg}", exc.lineno) from exc
        records = data if isinstance(data, list) else [data]
        for number, record in enumerate(records, 1):
            try:
                yield _record(record, display, number, None, fields)
            except BadArticle as exc:
                on_problem(exc)
        return
    empty = True
    with _open(path) as fh:  # type: ignore[attr-defined]
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            empty = False
            try:
                line = _decode(raw, display, number).strip()
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadArticle(display, f"malformed JSON at column {exc.colno}: {exc.msg}", number) from exc
                yield _record(record, display, number, number, fields)
            except BadArticle as exc:
                on_problem(exc)
    if empty:
        raise BadArticle(display, "empty file")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value if v is not None)
    if isinstance(value, dict):
        return _text(value.get("name", ""))
    return nfc(str(value)).strip()


def _record(
    record: object, display: str, number: int, line: int | None, fields: Mapping[str, str]
) -> Article:
    if not isinstance(record, dict):
        raise BadArticle(display, f"record {number} is not a JSON object", line)
    values: dict[str, object] = {}
    for name, candidates in FIELD_NAMES.items():
        keys = (fields[name], *candidates) if name in fields else candidates
        for key in keys:
            if key in record:
                values[name] = record[key]
                break
    if "body" not in values:
        wanted = ", ".join(((fields["body"],) if "body" in fields else ()) + FIELD_NAMES["body"])
        raise BadArticle(display, f"record {number} has no body (looked for: {wanted})", line)
    own_id = _text(values.get("id"))
    return Article(
        id=own_id or f"{display}#{number}",
        title=_text(values.get("title")),
        body=_text(values.get("body")),
        path=display,
        date=parse_date(values.get("date")),
        lede=_text(values.get("lede")),
        source=_text(values.get("source")),
        url=_text(values.get("url")),
        author=_text(values.get("author")),
        record=own_id or str(number),
    )
