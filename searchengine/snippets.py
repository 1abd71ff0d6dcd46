"""Snippets: the passages of an article where the hits are densest.

Highlights are character ranges of whole original words, found by running the
analyser over the stored text: single words by their terms, phrases only
where their words stand together. Only the first ``MAX_ANALYSED_CHARS`` of a
field are read, as Solr's highlighter does, so a huge article costs no more
than a long one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .analysis import fold

__all__ = ["ArticleText", "Highlighter", "make_snippet", "MAX_ANALYSED_CHARS"]

Span = tuple[int, int]
Match = tuple[int, int, str]
Located = tuple[str, int, int, int]
ELLIPSIS = "…"
MAX_ANALYSED_CHARS = 51_200
"""Characters of a field read for highlights, snippets and exact forms."""
MAX_SPANS = 400
"""Highlighted words looked at when choosing passages."""


class Locator(Protocol):
    def locate(self, text: str, terms: set[str] | frozenset[str], prefixes: tuple[str, ...] = ()) -> list[Located]:
        ...


@dataclass(frozen=True)
class Highlighter:
    """What to highlight: terms, term prefixes, and phrases as term tuples.
    ``glued``: (term, start, end) for glued words (:mod:`~searchengine.glued`),
    of which only the searched part, letters ``start`` to ``end`` of the folded
    word (-1: to its end), is marked: ``**Poutine**comme``."""

    terms: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    phrases: frozenset[tuple[str, ...]] = frozenset()
    glued: tuple[tuple[str, int, int], ...] = ()

    def word(self, term: str) -> bool:
        return term in self.terms or bool(self.prefixes) and term.startswith(self.prefixes)

    def locate(self, analyzer: Locator, text: str) -> list[Located]:
        """The analysed words of ``text`` that :meth:`spans` looks at."""
        phrase_words = {t for phrase in self.phrases for t in phrase}
        found = analyzer.locate(_head(text), self.terms | phrase_words, self.prefixes)
        if self.glued:
            parts = {term: (start, end) for term, start, end in self.glued}
            found = [(t, *_part(text, s, e, *parts[t]), p) if t in parts else (t, s, e, p) for t, s, e, p in found]
        return found

    def spans(self, tokens: list[Located]) -> list[Match]:
        """Ranges of the matching words among ``tokens`` (what :meth:`locate`
        gave), in order, overlaps merged."""
        found: list[Match] = [(s, e, t) for t, s, e, _ in tokens if self.word(t)]
        if self.phrases:
            by_pos: dict[int, list[tuple[str, int, int]]] = {}
            for t, s, e, p in tokens:
                by_pos.setdefault(p, []).append((t, s, e))
            for phrase in self.phrases:
                for pos, entries in by_pos.items():
                    if not any(t == phrase[0] for t, _, _ in entries):
                        continue
                    run = [next((x for x in by_pos.get(pos + k, []) if x[0] == term), None)
                           for k, term in enumerate(phrase)]
                    if all(run):
                        found.append((run[0][1], run[-1][2], " ".join(phrase)))  # type: ignore[index]
        found.sort()
        merged: list[Match] = []
        for start, end, key in found:
            if merged and start < merged[-1][1]:
                last = merged[-1]
                merged[-1] = (last[0], max(last[1], end), last[2])
            else:
                merged.append((start, end, key))
        return merged


def _part(text: str, start: int, end: int, first: int, last: int) -> Span:
    """The characters of ``text[start:end]`` whose folded letters are ``first``
    to ``last`` (-1: the end): folding can turn one character into two (œ)."""
    begin, folded = start, 0
    while begin < end and folded < first:
        folded += len(fold(text[begin]))
        begin += 1
    if last < 0:
        return begin, end
    stop = begin
    while stop < end and folded < last:
        folded += len(fold(text[stop]))
        stop += 1
    return begin, stop


def _head(text: str) -> str:
    """The first ``MAX_ANALYSED_CHARS`` of ``text``, cut after a space, not inside a word."""
    if len(text) <= MAX_ANALYSED_CHARS:
        return text
    cut = max(text.rfind(" ", 0, MAX_ANALYSED_CHARS), text.rfind("\n", 0, MAX_ANALYSED_CHARS))
    return text[:cut] if cut > 0 else ""


@dataclass
class ArticleText:
    """One article's stored fields, and the located words of each that the
    highlighter looks at: found once per query for ranking and snippets both.
    It belongs to the query that made it."""

    stored: Mapping[str, Any]
    highlighter: Highlighter
    analyzer: Locator
    _tokens: dict[str, list[Located]] = field(default_factory=dict)

    def text(self, name: str) -> str:
        value = self.stored.get(name, "")
        return value if isinstance(value, str) else ""

    def tokens(self, name: str) -> list[Located]:
        if name not in self._tokens:
            text = self.text(name)
            self._tokens[name] = self.highlighter.locate(self.analyzer, text) if text else []
        return self._tokens[name]

    def spans(self, name: str) -> list[Match]:
        return self.highlighter.spans(self.tokens(name))


def _best_windows(spans: list[Match], size: int, count: int) -> list[Span]:
    """Greedy: the window holding the most distinct terms (then most hits), again and again."""
    windows: list[Span] = []
    free = spans[:MAX_SPANS]
    while free and len(windows) < count:
        best: Span | None = None
        best_score = (-1, -1)
        end_index = 0
        for i, (start, _, _) in enumerate(free):
            end_index = max(end_index, i)
            while end_index + 1 < len(free) and free[end_index + 1][1] <= start + size:
                end_index += 1
            inside = free[i:end_index + 1]
            score = (len({s[2] for s in inside}), len(inside))
            if score > best_score:
                best_score, best = score, (start, inside[-1][1])
        assert best is not None
        windows.append(best)
        free = [s for s in free if s[1] <= best[0] - size or s[0] >= best[1] + size]
    return sorted(windows)


def _expand(text: str, first: int, last: int, size: int) -> Span:
    """Grow [first, last) to about ``size`` characters, on word boundaries."""
    room = max(0, size - (last - first))
    start = max(0, first - room // 3)
    end = min(len(text), max(last, start + size))
    if start > 0:
        cuts = [c for c in (text.find(" ", start, first), text.find("\n", start, first)) if c >= 0]
        start = min(cuts) + 1 if cuts else first
    if end < len(text):
        cut = max(text.rfind(" ", last, end + 1), text.rfind("\n", last, end + 1))
        end = cut if cut >= last else last
    return start, end


def make_snippet(text: str, spans: list[Match], fragments: int = 1, size: int = 200) -> tuple[str, list[Span]]:
    """The snippet of ``text`` around ``spans`` (from :meth:`Highlighter.spans`)
    and the ranges of it to highlight.

    Fragments start and end on word boundaries, are marked with … where text
    was cut, and merge when they overlap.
    """
    if spans:
        windows = [_expand(text, a, b, size) for a, b in _best_windows(spans, size, max(1, fragments))]
    else:
        windows = [_expand(text, 0, 0, size)] if text else []
    merged: list[Span] = []
    for start, end in windows:
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    out = ""
    ranges: list[Span] = []
    for start, end in merged:
        if out:
            out += " "
        if start > 0 and not out.endswith(ELLIPSIS + " "):
            out += ELLIPSIS
        chunk = text[start:end].replace("\n", " ").replace("\t", " ")
        ranges.extend((len(out) + s - start, len(out) + e - start) for s, e, _ in spans if s >= start and e <= end)
        out += chunk
        if end < len(text):
            out += ELLIPSIS
    return out, ranges
