"""Snippets: the passages of an article where the hits are densest.

Highlights are character ranges of whole original words, found by running the
analyser over the stored text and keeping the words whose terms matched.
"""

from __future__ import annotations

from collections.abc import Callable

from .analysis import analyse

__all__ = ["highlight", "make_snippet"]

Span = tuple[int, int]
ELLIPSIS = "…"


def highlight(text: str, matches: Callable[[str], bool]) -> list[tuple[int, int, str]]:
    """Ranges of the words of ``text`` whose terms match, overlaps merged."""
    spans: list[tuple[int, int, str]] = []
    for term, start, end, _ in analyse(text):
        if not matches(term):
            continue
        if spans and start < spans[-1][1]:
            last = spans[-1]
            spans[-1] = (last[0], max(last[1], end), last[2])
        elif spans and start <= spans[-1][0]:
            continue
        else:
            spans.append((start, end, term))
    return spans


def _best_windows(spans: list[tuple[int, int, str]], size: int, count: int) -> list[Span]:
    """Greedy: the window holding the most distinct terms (then most hits), again and again."""
    windows: list[Span] = []
    free = list(spans)
    while free and len(windows) < count:
        best: tuple[int, int] | None = None
        best_score = (-1, -1)
        for i, (start, _, _) in enumerate(free):
            inside = [s for s in free[i:] if s[1] <= start + size]
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
        space = text.rfind(" ", start, first)
        newline = text.rfind("\n", start, first)
        cut = max(space, newline)
        start = cut + 1 if cut >= 0 else first
    if end < len(text):
        cut = text.rfind(" ", last, end + 1)
        end = cut if cut >= last else last
    return start, end


def make_snippet(
    text: str, matches: Callable[[str], bool], fragments: int = 1, size: int = 200
) -> tuple[str, list[Span]]:
    """The snippet and the ranges of ``snippet`` to highlight.

    Fragments start and end on word boundaries, are marked with … where text
    was cut, and merge when they overlap.
    """
    spans = highlight(text, matches)
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
    parts: list[str] = []
    ranges: list[Span] = []
    length = 0
    for start, end in merged:
        lead = ELLIPSIS if start > 0 and (not parts or not parts[-1].endswith(ELLIPSIS)) else ""
        if parts:
            lead = " " + (lead or "")
        chunk = text[start:end].replace("\n", " ").replace("\t", " ")
        offset = length + len(lead)
        for s, e, _ in spans:
            if s >= start and e <= end:
                ranges.append((offset + s - start, offset + e - start))
        tail = ELLIPSIS if end < len(text) else ""
        piece = lead + chunk + tail
        parts.append(piece)
        length += len(piece)
    return "".join(parts), ranges
