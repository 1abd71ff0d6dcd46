"""Name variants: Poutine is Putin, Pékin is Beijing.

Applied at query time, so the table can grow without re-indexing. A name
matches on its analysed terms, so case, accents and hyphens never matter.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from . import data
from .errors import NewsearchError
from .queries import Clause, Group, ParsedQuery

__all__ = ["NameTable", "load_names"]

Terms = tuple[str, ...]


class Analyzer(Protocol):
    def terms(self, text: str) -> list[str]: ...


class NameTable:
    """Sets of equivalent names, looked up by their terms under one analyser."""

    def __init__(self, groups: list[list[str]], analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._variants: dict[Terms, list[str]] = {}
        for names in groups:
            for name in names:
                key = tuple(analyzer.terms(name))
                if key:
                    known = self._variants.setdefault(key, [])
                    known.extend(n for n in names if n not in known)
        self.longest = max((len(k) for k in self._variants), default=0)

    def variants(self, name: str) -> list[str]:
        return list(self._variants.get(tuple(self.analyzer.terms(name)), []))

    def expand(self, parsed: ParsedQuery) -> ParsedQuery:
        """Replace each run of plain words that spells a known name by a group
        of alternatives: the words as typed, or any variant as a phrase."""
        analyzer, variants, longest = self.analyzer, self._variants, self.longest
        groups: list[Group] = []
        i = 0
        source = parsed.groups
        while i < len(source):
            match = None
            for size in range(min(longest, len(source) - i), 0, -1):
                run = source[i:i + size]
                if not all(len(g.alternatives) == 1 and g.alternatives[0].kind == "word"
                           and not g.alternatives[0].field for g in run):
                    continue
                key = tuple(t for g in run for t in analyzer.terms(g.alternatives[0].text))
                if key in variants:
                    match = size, key
                    break
            if match is None:
                groups.append(source[i])
                i += 1
                continue
            size, key = match
            run = source[i:i + size]
            typed = " ".join(g.alternatives[0].text for g in run)
            alternatives = [Clause(typed, "phrase" if size > 1 else "word")]
            alternatives += [Clause(n, "phrase") for n in variants[key] if tuple(analyzer.terms(n)) != key]
            groups.append(Group(tuple(alternatives), any(g.required for g in run), variants=len(alternatives) > 1))
            i += size
        return replace(parsed, groups=tuple(groups))


def _groups(text: str) -> list[list[str]]:
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            groups.append([n.strip() for n in line.split("|") if n.strip()])
    return groups


def load_names(analyzer: Analyzer, extra: str | os.PathLike[str] | None = None) -> NameTable:
    """The shipped table, plus a user's file of the same form (one set of
    names a line, separated by ``|``)."""
    shipped = data.read_text("names.txt")
    groups = _groups(shipped)
    if extra:
        try:
            text = Path(extra).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise NewsearchError(f"cannot read the name table {extra}: {reason}") from exc
        groups += _groups(text)
    return NameTable(groups, analyzer)
