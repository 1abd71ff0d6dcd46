"""Snippets: the passages of an article where the hits are densest.

Highlights are character ranges of whole original words, found by running the
analyser over the stored text: single words by their terms, phrases only
where their words stand together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import locate

__all__ = ["Highlighter", "make_snippet"]

Span = tuple[int, int]
Match = tuple[int, int, str]
ELLIPSIS = "…"


@dataclass
class Highlighter:
    """What to highlight: terms, term prefixes, and phrases as term tuples."""

    terms: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    phrases: set[tuple[str, ...]] = field(default_factory=set)

    def word(self, term: str) -> bool:
        return term in self.terms or any(term.startswith(p) for p in self.prefixes)

    def locate(self, text: str) -> list[tuple[str, int, int, int]]:
        """The analysed words of ``text`` that :meth:`spans` looks at, as
        :func:`~searchengine.analysis.locate` gives them."""
        phrase_words = {t for phrase in self.phrases for t in phrase}
        return locate(text, self.terms | phrase_words, tuple(self.prefixes))

    def spans(self, text: str, tokens: list[tuple[str, int, int, int]] | None = None) -> list[Match]:
        """Ranges of the matching words of ``text``, in order, overlaps merged
        (``tokens``: what :meth:`locate` gave for ``text``, if already known)."""
        if tokens is None:
            tokens = self.locate(text)
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


def _best_windows(spans: list[Match], size: int, count: int) -> list[Span]:
    """Greedy: the window holding the most distinct terms (then most hits), again and again."""
    windows: list[Span] = []
    free = spans[:400]
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


def make_snippet(
    text: str, highlighter: Highlighter, fragments: int = 1, size: int = 200,
    spans: list[Match] | None = None,
) -> tuple[str, list[Span]]:
    """The snippet and the ranges of it to highlight.

    Fragments start and end on word boundaries, are marked with … where text
    was cut, and merge when they overlap.
    """
    if spans is None:
        spans = highlighter.spans(text)
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
