"""Name variants: Poutine is Putin, Pékin is Beijing.

Applied at query time, so the table can grow without re-indexing. A name
matches on its analysed terms, so case, accents and hyphens never matter.
"""

from __future__ import annotations

import os
from dataclasses import replace
from importlib import resources
from pathlib import Path

from .analysis import analyse
from .errors import NewsearchError
from .queries import Clause, ParsedQuery

__all__ = ["NameTable", "load_names"]

Terms = tuple[str, ...]


def _terms(text: str) -> Terms:
    return tuple(t for t, _, _, _ in analyse(text, query=True))


class NameTable:
    """Sets of equivalent names, looked up by their terms."""

    def __init__(self, groups: list[list[str]]) -> None:
        self._variants: dict[Terms, list[str]] = {}
        for names in groups:
            for name in names:
                key = _terms(name)
                if key:
                    known = self._variants.setdefault(key, [])
                    known.extend(n for n in names if n not in known)
        self.longest = max((len(k) for k in self._variants), default=0)

    @classmethod
    def parse(cls, text: str) -> NameTable:
        groups = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                groups.append([n.strip() for n in line.split("|") if n.strip()])
        return cls(groups)

    def merged(self, other: NameTable) -> NameTable:
        table = NameTable([])
        table._variants = {k: list(v) for k, v in self._variants.items()}
        for key, names in other._variants.items():
            known = table._variants.setdefault(key, [])
            known.extend(n for n in names if n not in known)
        table.longest = max(self.longest, other.longest)
        return table

    def variants(self, name: str) -> list[str]:
        return list(self._variants.get(_terms(name), []))

    def expand(self, parsed: ParsedQuery) -> ParsedQuery:
        """Replace each run of plain words that spells a known name by a group
        of alternatives: the words as typed, or any variant as a phrase."""
        groups: list[list[Clause]] = []
        i = 0
        source = parsed.groups
        while i < len(source):
            match = None
            for size in range(min(self.longest, len(source) - i), 0, -1):
                run = source[i:i + size]
                if not all(len(g) == 1 and g[0].kind == "word" and not g[0].field for g in run):
                    continue
                key = tuple(t for g in run for t in _terms(g[0].text))
                if key in self._variants:
                    match = size, key
                    break
            if match is None:
                groups.append(source[i])
                i += 1
                continue
            size, key = match
            typed = " ".join(g[0].text for g in source[i:i + size])
            alternatives = [Clause(typed, "phrase" if size > 1 else "word")]
            alternatives += [Clause(n, "phrase") for n in self._variants[key] if _terms(n) != key]
            groups.append(alternatives)
            i += size
        return replace(parsed, groups=groups)


def load_names(extra: str | os.PathLike[str] | None = None) -> NameTable:
    """The shipped table, plus a user's file of the same form."""
    shipped = resources.files("searchengine.data").joinpath("names.txt").read_text("utf-8")
    table = NameTable.parse(shipped)
    if extra:
        try:
            text = Path(extra).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NewsearchError(f"cannot read the name table {extra}: {exc}") from exc
        table = table.merged(NameTable.parse(text))
    return table
