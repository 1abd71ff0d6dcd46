"""Articles and the readers that get them out of files.

One reader per format, all yielding :class:`Article` values. A file or record
that cannot be read is reported through ``on_problem`` as a
:class:`~searchengine.errors.BadArticle` and skipped, so one bad line never
stops a collection from being indexed. Readers stream: a JSON lines file is
read a line at a time, and no record larger than :data:`MAX_RECORD_BYTES` is
ever held whole in memory.
"""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import hashlib
import io
import json
import math
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import nfc
from .errors import BadArticle

__all__ = [
    "Article",
    "FIELD_NAMES",
    "MAX_RECORD_BYTES",
    "SUFFIXES",
    "display_path",
    "find_files",
    "parse_date",
    "read_file",
    "title_and_rest",
]

Problem = Callable[[BadArticle], None]

MB = 2**20
MAX_RECORD_BYTES = 5 * MB
"""One article (a JSON line or array element, a text, Markdown or HTML file) larger
than this is skipped: news articles are tens of KB, and indexing holds about
twenty times an article's size in memory."""

MAX_FILE_BYTES = 20 * MB
"""A .json file is parsed whole; a larger collection belongs in JSON lines."""

MAX_TITLE_CHARS = 300
"""A first line longer than this is a paragraph, not a title: it is cut."""

SHOWN_BAD_RECORDS = 5
"""Bad records of one file reported one by one; the rest are counted in one line."""

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
    `1er mars 2020`, `12/09/2023` (day first); a number is a Unix time in
    seconds or milliseconds (JSON dumps hold both) if it falls between 1973
    and 2286. None when it is none of these."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for scale in (1, 1000):
            if 1e8 * scale <= value < 1e10 * scale:
                return dt.datetime.fromtimestamp(value / scale, dt.UTC).date()
        return None
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
                on_problem(BadArticle(display_path(path), "symlink loop"))
            elif explicit or not path.is_symlink():
                on_problem(BadArticle(display_path(path), _os_reason(exc)))
            else:
                on_problem(BadArticle(display_path(path), "broken symlink"))
            return
        if os.path.isdir(path):
            ident = (st.st_dev, st.st_ino)
            if ident in seen_dirs:
                on_problem(BadArticle(display_path(path), "symlink loop: folder already visited"))
                return
            seen_dirs.add(ident)
            try:
                entries = sorted(os.scandir(path), key=lambda e: e.name)
            except OSError as exc:
                on_problem(BadArticle(display_path(path), _os_reason(exc)))
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
        elif _suffix(path) in SUFFIXES and not stat.S_ISREG(st.st_mode):
            # A pipe or a device would block the run, or never end.
            on_problem(BadArticle(display_path(path), "not a regular file"))
        elif _suffix(path) in SUFFIXES:
            yield path
        elif explicit:
            expected = ", ".join(SUFFIXES)
            reason = f"unsupported format (expected one of {expected}, optionally .gz)"
            on_problem(BadArticle(display_path(path), reason))

    for p in paths:
        yield from walk(Path(p), explicit=True)


def read_file(path: Path, fields: Mapping[str, str] | None = None, *, on_problem: Problem) -> Iterator[Article]:
    """The articles of one file, by its suffix; problems go to ``on_problem``.

    An empty file (or one of white space only) has no article and no problem.
    """
    display = display_path(path)
    try:
        kind = _suffix(path)
        if kind in (".txt", ".md"):
            yield from _read_text(path, display, markdown=kind == ".md")
        elif kind in (".html", ".htm"):
            yield from _read_html(path, display)
        elif kind == ".json":
            yield from _read_json(path, display, fields or {}, on_problem)
        elif kind in (".jsonl", ".ndjson"):
            yield from _read_json_lines(path, display, fields or {}, on_problem)
        else:
            raise BadArticle(display, "unsupported format")
    except BadArticle as exc:
        on_problem(exc)
    except OSError as exc:
        on_problem(BadArticle(display, _os_reason(exc)))
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        on_problem(BadArticle(display, f"damaged gzip file ({exc})"))


def display_path(path: str | os.PathLike[str]) -> str:
    """The path as text that can be stored and printed: bytes of a file name
    that are not UTF-8 are shown as ``\\xe9`` (the file itself is still read)."""
    name = os.fspath(path)
    try:
        name.encode()
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def title_and_rest(line: str) -> tuple[str, str]:
    """A first line as a title: one longer than :data:`MAX_TITLE_CHARS` is cut
    on a word boundary and ends in ``…``; the rest of it is returned for the
    body, so no word is lost."""
    line = line.strip()
    if len(line) <= MAX_TITLE_CHARS:
        return line, ""
    cut = line.rfind(" ", 0, MAX_TITLE_CHARS)
    if cut < MAX_TITLE_CHARS // 2:  # one very long word: cut inside it
        cut = MAX_TITLE_CHARS - 1
    return line[:cut].rstrip() + "…", line[cut:].strip()


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


def _open(path: Path) -> gzip.GzipFile | io.BufferedReader:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _too_large(size: int, limit: int, what: str) -> str:
    return f"{_megabytes(size)}, over the {limit // MB} MB limit for {what}"


def _rest_size(fh: gzip.GzipFile | io.BufferedReader) -> int:
    """Bytes left in ``fh``, counted without holding them."""
    if not isinstance(fh, gzip.GzipFile):
        return max(0, os.fstat(fh.fileno()).st_size - fh.tell())
    size = 0
    while chunk := fh.read(MB):
        size += len(chunk)
    return size


def _read_bytes(path: Path, display: str, limit: int, what: str) -> bytes:
    with _open(path) as fh:
        data = fh.read(limit + 1)
        if len(data) > limit:
            raise BadArticle(display, _too_large(len(data) + _rest_size(fh), limit, what))
    return data


def _decode(data: bytes, display: str, line: int | None = None, encoding: str = "utf-8-sig") -> str:
    if b"\0" in data and not encoding.startswith("utf-16"):
        raise BadArticle(display, "binary file, not text", line)
    try:
        return nfc(data.decode(encoding))
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}" if line is None else f"column {exc.start + 1}"
        label = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise BadArticle(display, f"not valid {label} (bad byte 0x{data[exc.start]:02x} at {where})", line) from exc


def _read_text(path: Path, display: str, markdown: bool) -> Iterator[Article]:
    text = _decode(_read_bytes(path, display, MAX_RECORD_BYTES, "one article"), display)
    meta: dict[str, str] = {}
    if markdown:
        meta, text = _front_matter(text.replace("\r\n", "\n"))
        text = _markdown_text(text)
    lines = text.strip().splitlines()
    if "title" in meta:
        title, rest = meta["title"], ""
    elif lines:
        title, rest = title_and_rest(lines.pop(0))
    else:
        return
    body = "\n".join((rest, *lines)).strip()
    yield Article(
        id=display, title=title, body=body, path=display, date=parse_date(meta.get("date")),
        lede=meta.get("lede", ""), source=meta.get("source", ""), url=meta.get("url", ""),
        author=meta.get("author", ""),
    )


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_YAML_SCALAR = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """The fields of a Markdown file's YAML front matter (``---`` lines around
    ``key: value`` lines at its top), under the names JSON records use, and
    the text after it. Only one-line values are read: titles, dates, names."""
    found = _FRONT_MATTER.match(text)
    if not found:
        return {}, text
    given: dict[str, str] = {}
    for key, value in _YAML_SCALAR.findall(found.group(1)):
        if value.startswith("[") and value.endswith("]"):
            value = ", ".join(_unquote(item.strip()) for item in value[1:-1].split(","))
        value = _unquote(value)
        if value and value not in ("|", ">", "|-", ">-"):
            given[key.lower()] = value
    meta = {}
    for name in ("title", "date", "lede", "source", "url", "author"):
        if key := next((k for k in FIELD_NAMES[name] if k in given), None):
            meta[name] = given[key]
    return meta, text[found.end():]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_MARKUP_LINE = re.compile(
    r"^ {0,3}(?:(?:[-=_*] *){3,}|\[[^\]]+\]: *\S+.*)$"  # rules and setext underlines; link definitions
)
_LINE_START = re.compile(r"^ {0,3}(?:> ?)*(?:#{1,6}(?: +|$)|[-*+] +)?")  # quotes, heading, bullet
_CLOSING_HASHES = re.compile(r" +#+ *$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"\*(?=[^\s*])(.+?)(?<=[^\s*])\*|(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)")
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_HIDDEN = 0xE000
r"""Escaped punctuation (``\*``) is moved to the private-use area while markup
is removed, then put back as itself."""
_HIDDEN_PUNCTUATION = re.compile("[\ue021-\ue07e]")


def _markdown_text(text: str) -> str:
    """The words of Markdown without its markup, line for line: headings,
    quotes, bullets, emphasis, code spans and fences, links and images (their
    text stays), rules and link definitions (blank lines)."""
    lines = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            lines.append("")
        elif in_fence:
            lines.append(line)
        elif _MARKUP_LINE.match(line):
            lines.append("")
        else:
            start = _LINE_START.match(line)
            assert start is not None  # every part of the pattern is optional
            line = line[start.end():]
            if "#" in start.group():
                line = _CLOSING_HASHES.sub("", line)
            lines.append(_inline_text(line))
    return "\n".join(lines)


def _inline_text(line: str) -> str:
    escaped = "\\" in line
    if escaped:
        line = _ESCAPED.sub(lambda m: chr(_HIDDEN + ord(m.group(1))), line)
    pieces = _CODE_SPAN.split(line)
    for i in range(0, len(pieces), 3):  # text, ticks, code, text, ...: code stays as it is
        piece = _IMAGE.sub(r"\1", pieces[i])
        piece = _AUTOLINK.sub(r"\1", _LINK.sub(r"\1", piece))
        piece = _STRONG.sub(r"\2", piece)
        pieces[i] = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), piece)
    line = "".join(p for i, p in enumerate(pieces) if i % 3 != 1)
    if escaped:
        line = _HIDDEN_PUNCTUATION.sub(lambda m: chr(ord(m.group()) - _HIDDEN), line)
    return line


def _read_html(path: Path, display: str) -> Iterator[Article]:
    from .webpages import extract, page_encoding

    data = _read_bytes(path, display, MAX_RECORD_BYTES, "one article")
    text = _decode(data, display, encoding=page_encoding(data))
    if not text.strip():
        return
    page = extract(text)
    if not page.title and not page.body:
        raise BadArticle(display, "no article text found in the page")
    yield Article(
        id=display, title=page.title, body=page.body, path=display, lede=page.lede,
        date=parse_date(page.date), source=page.source, url=page.url, author=page.author,
    )


class _BadRecords:
    """Reports a file's first few bad records one by one and the others in one
    closing line, so a binary file named .jsonl does not print thousands."""

    def __init__(self, display: str, on_problem: Problem, unit: str) -> None:
        self.display = display
        self.on_problem = on_problem
        self.unit = unit
        self.count = 0

    def __call__(self, problem: BadArticle) -> None:
        self.count += 1
        if self.count <= SHOWN_BAD_RECORDS:
            self.on_problem(problem)

    def close(self) -> None:
        if (more := self.count - SHOWN_BAD_RECORDS) > 0:
            self.on_problem(BadArticle(self.display, f"… and {more:,} more bad {self.unit}", count=more))


def _long_int(digits: str) -> int | str:
    """A number too long for Python to convert (over 4,300 digits) stays text."""
    try:
        return int(digits)
    except ValueError:
        return digits


_DECODER = json.JSONDecoder()
_LONG_INT_DECODER = json.JSONDecoder(parse_int=_long_int)


def _json_value(text: str, start: int, display: str, line: int | None) -> tuple[object, int]:
    """The JSON value at ``start`` in ``text`` and where it ends."""
    try:
        try:
            return _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            raise
        except ValueError:  # an integer over 4,300 digits: rare, so decoded again only then
            return _LONG_INT_DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise BadArticle(display, f"malformed JSON at column {exc.colno}: {exc.msg}", line or exc.lineno) from exc
    except RecursionError as exc:
        raise BadArticle(display, "JSON nested too deeply", line) from exc


def _malformed(text: str, at: int, message: str, display: str, line: int | None) -> BadArticle:
    exc = json.JSONDecodeError(message, text, at)
    return BadArticle(display, f"malformed JSON at column {exc.colno}: {exc.msg}", line or exc.lineno)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""Only an escape such as ``\\ud800`` can put a lone surrogate in decoded JSON
(a search for ``\\u`` alone is slower: news JSON is full of ``\\"``)."""
_SURROGATE_ESCAPE_BYTES = re.compile(_SURROGATE_ESCAPE.pattern.encode())


_WHITESPACE = re.compile(r"[ \t\n\r]*")
"""JSON's white space (as ``json.decoder.WHITESPACE``, which is not public)."""


def _skip_space(text: str, at: int) -> int:
    """The position of the first character from ``at`` that is not JSON's white space."""
    match = _WHITESPACE.match(text, at)
    return match.end() if match else at  # the pattern matches everywhere


def _read_json_lines(path: Path, display: str, fields: Mapping[str, str], on_problem: Problem) -> Iterator[Article]:
    """One record a line, read in pieces of at most :data:`MAX_RECORD_BYTES`:
    the rest of a longer line is skipped without being held."""
    bad = _BadRecords(display, on_problem, "lines")
    number = 0
    first = True
    try:
        with _open(path) as fh:
            while raw := fh.readline(MAX_RECORD_BYTES + 1):
                number += 1
                if raw.isspace():
                    continue
                if first and b"\0" in raw:
                    raise BadArticle(display, "binary file, not text")
                first = False
                try:
                    if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
                        size = len(raw)
                        while piece := fh.readline(MB):
                            size += len(piece)
                            if piece.endswith(b"\n"):
                                size -= 1
                                break
                        raise BadArticle(display, _too_large(size, MAX_RECORD_BYTES, "one article"), number)
                    line = _decode(raw, display, number).rstrip()
                    record, end = _json_value(line, _skip_space(line, 0), display, number)
                    if end != len(line):
                        raise _malformed(line, _skip_space(line, end), "Extra data", display, number)
                    surrogates = _SURROGATE_ESCAPE_BYTES.search(raw) is not None
                    yield _record(record, display, number, number, fields, surrogates)
                except BadArticle as exc:
                    bad(exc)
    finally:
        bad.close()


def _read_json(path: Path, display: str, fields: Mapping[str, str], on_problem: Problem) -> Iterator[Article]:
    """One object or an array of them, parsed one record at a time so that a
    record too large or not an article costs itself only."""
    text = _decode(_read_bytes(path, display, MAX_FILE_BYTES, "a .json file (use JSON lines)"), display)
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    bad = _BadRecords(display, on_problem, "records")
    try:
        for number, record, start, end in _json_records(text, display):
            try:
                size = end - start
                if size * 4 > MAX_RECORD_BYTES:  # characters: its UTF-8 may be up to 4 times longer
                    size = len(text[start:end].encode())
                if size > MAX_RECORD_BYTES:
                    reason = _too_large(size, MAX_RECORD_BYTES, "one article")
                    raise BadArticle(display, f"record {number} is {reason}")
                yield _record(record, display, number, None, fields, surrogates)
            except BadArticle as exc:
                bad(exc)
    finally:
        bad.close()


def _json_records(text: str, display: str) -> Iterator[tuple[int, object, int, int]]:
    """Each record of a .json file (the value, or each element of the array,
    it holds) with its number and span; nothing for white space only."""
    at = _skip_space(text, 0)
    if at == len(text):
        return
    if not text.startswith("[", at):
        value, end = _json_value(text, at, display, None)
        yield 1, value, at, end
    else:
        at = _skip_space(text, at + 1)
        end = at + 1
        number = 0
        while not (number == 0 and text.startswith("]", at)):
            number += 1
            value, end = _json_value(text, at, display, None)
            yield number, value, at, end
            at = _skip_space(text, end)
            if text.startswith("]", at):
                end = at + 1
                break
            if not text.startswith(",", at):
                raise _malformed(text, at, "Expecting ',' delimiter", display, None)
            at = _skip_space(text, at + 1)
    at = _skip_space(text, end)
    if at != len(text):
        raise _malformed(text, at, "Extra data", display, None)


_SURROGATE = re.compile("[\ud800-\udfff]")
_PREFERRED_KEYS = ("name", "fr", "text", "value")
"""The key read from a JSON object given as a field: a person's name, the
French of a multilingual text, a wrapped value."""


def _text(value: object, separator: str = ", ") -> str:
    """Readable text of a JSON value: a number written out, a list joined, an
    object by its preferred key (else its first value); booleans, null and
    non-finite numbers are nothing. Iterative, so no nesting is too deep."""
    if isinstance(value, str):
        return nfc(value).strip()
    if value is None:
        return ""
    parts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item := nfc(item).strip():
                parts.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            if item:
                key = next((k for k in _PREFERRED_KEYS if k in item), next(iter(item)))
                stack.append(item[key])
        elif isinstance(item, (int, float)) and not isinstance(item, bool) and math.isfinite(item):
            parts.append(str(item))
    return separator.join(parts)


def _record(
    record: object, display: str, number: int, line: int | None, fields: Mapping[str, str], surrogates: bool
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

    def text(name: str, separator: str = ", ") -> str:
        found = _text(values.get(name), separator)
        return _SURROGATE.sub("\ufffd", found) if surrogates else found

    own_id = text("id")
    date = values.get("date")
    return Article(
        id=own_id or f"{display}#{number}",
        title=text("title"),
        body=text("body", "\n"),
        path=display,
        date=parse_date(date if isinstance(date, (str, int, float)) else _text(date)),
        lede=text("lede"),
        source=text("source"),
        url=text("url"),
        author=text("author"),
        record=own_id or str(number),
    )
