"""The query language, parsed into a plain structure before Whoosh sees it.

Syntax: plain words, "quoted phrases", -word or -"phrase" to exclude, OR
between two items, field:word (title, lede, body) and prefix*. Anything
malformed (an unbalanced quote or parenthesis, a lone -, a field with nothing
after it) degrades to plain words: a query is never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Clause", "ParsedQuery", "parse_query", "FIELDS"]

FIELDS = ("title", "lede", "body")

_ITEM = re.compile(
    r'(?P<neg>-)?(?:(?P<field>title|lede|body):)?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))',
    re.IGNORECASE,
)
_INVERSION = re.compile(
    r"(?P<verb>\w[\w'’ʼ]*?(?:(?P<t>-t)|(?<=[td])|(?<=nt)(?=-(?:ils|elles))|(?<=t)(?=-ce)))"
    r"-(?P<pronoun>il|elle|on|ils|elles|ce)",
    re.IGNORECASE,
)
"""A question's verb and inverted subject (``a-t-il``, ``peut-on``,
``sont-ils``, ``est-ce``). French joins them with a hyphen and a euphonic t
after a vowel; without the t the verb ends in t or d (``nt`` before ``ils``),
which keeps names such as ``Jong-il`` whole."""


@dataclass(frozen=True)
class Clause:
    """One thing to look for: a word, a phrase or a prefix, maybe in one field."""

    text: str
    kind: str = "word"
    field: str | None = None


@dataclass
class ParsedQuery:
    """Every group must match for the best results; a group is a list of
    alternatives joined by OR. Excluded clauses remove articles outright."""

    groups: list[list[Clause]] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)

    @property
    def clauses(self) -> list[Clause]:
        return [c for group in self.groups for c in group]


def _balance(text: str) -> str:
    """Drop the quote or parentheses that make a query malformed."""
    if text.count('"') % 2:
        last = text.rfind('"')
        text = text[:last] + " " + text[last + 1:]
    return text.replace("(", " ").replace(")", " ")


def parse_query(text: str) -> ParsedQuery:
    parsed = ParsedQuery()
    join_next = False
    for match in _ITEM.finditer(_balance(text)):
        word = match.group("word")
        phrase = match.group("phrase")
        fieldname = (match.group("field") or "").lower() or None
        if word == "OR" and not match.group("neg") and not fieldname:
            join_next = bool(parsed.groups)
            continue
        if phrase is not None:
            if not phrase.strip():
                continue
            clause = Clause(phrase.strip(), "phrase", fieldname)
        else:
            assert word is not None
            if word in ("-", "*") or not word.strip("-*"):
                continue
            if word.endswith("*") and len(word.rstrip("*")) >= 2:
                clause = Clause(word.rstrip("*"), "prefix", fieldname)
            else:
                inverted = _INVERSION.fullmatch(word)
                if inverted and not match.group("neg"):
                    _add(parsed, Clause(inverted.group("verb").removesuffix("-t"), "word", fieldname), join_next)
                    join_next = False
                    word = inverted.group("pronoun")
                clause = Clause(word.strip("*"), "word", fieldname)
        if match.group("neg"):
            parsed.excluded.append(clause)
        else:
            _add(parsed, clause, join_next)
        join_next = False
    return parsed


def _add(parsed: ParsedQuery, clause: Clause, alternative: bool) -> None:
    if alternative:
        parsed.groups[-1].append(clause)
    else:
        parsed.groups.append([clause])
