"""The query language, parsed into a frozen structure before the index is read.

Syntax, as in Lucene's: plain words, "quoted phrases", ``-word`` or ``NOT word``
to exclude, ``+word`` to require, ``OR`` between two items (``AND`` requires
both), ``field:word`` (title, lede, body; ``source:AFP`` filters on the source)
and ``prefix*``. Anything malformed (an unbalanced quote or parenthesis, a lone
``-``, a field with nothing after it, an unknown field such as ``Macron:``)
degrades to plain words: a query is never a syntax error.

The work a query can ask for is bounded whatever is typed: see ``MAX_*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = ["Clause", "Group", "ParsedQuery", "parse_query", "FIELDS", "MAX_QUERY_CHARS", "MAX_CLAUSES"]

FIELDS = ("title", "lede", "body")
MAX_QUERY_CHARS = 20_000
"""Longer queries are cut here (about 3,000 words: a pasted article)."""
MAX_CLAUSES = 1_000
"""Words and phrases past this many are ignored."""

_ITEM = re.compile(
    r'(?P<sign>[-+])?(?:(?P<field>[^\W\d_][\w-]*):(?=["\w]))?(?:"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+))'
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


@dataclass(frozen=True)
class Group:
    """Alternatives joined by OR; ``required`` (``+word``, ``a AND b``) when
    an article must match it to be found at all."""

    alternatives: tuple[Clause, ...]
    required: bool = False
    variants: bool = False
    """The alternatives are a name's known variants (``Putin``, ``Poutine``):
    one of them is how the articles spell it, so none is a typo to correct."""


@dataclass(frozen=True)
class ParsedQuery:
    """Every group must match for the best results; excluded clauses remove
    articles outright; ``sources`` (``source:AFP``) filter on the source."""

    groups: tuple[Group, ...] = ()
    excluded: tuple[Clause, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(c for group in self.groups for c in group.alternatives)


_CONTROLS = dict.fromkeys((*range(0x20), 0x7F, *range(0x80, 0xA0)), " ")
_MODIFIER = re.compile(r"(?:\^\d*(?:\.\d+)?|~\d*(?:\.\d+)?)$")
"""Lucene's boost (``word^2``) and fuzziness (``word~1``): ranking has its own
weights, and typos are forgiven anyway."""
_SEPARATOR = re.compile(r"[/\\|_^~=<>{}\[\];!?*+]+")
"""Characters that join two words only by accident (``Macron/Philippe``,
``Macron_Philippe``): each side is a word, where the analyser would otherwise
make them one phrase."""


def _balance(text: str) -> str:
    """Drop the quote or parentheses that make a query malformed, and the
    control characters that separate nothing."""
    text = text.translate(_CONTROLS)
    if text.count('"') % 2:
        last = text.rfind('"')
        text = text[:last] + " " + text[last + 1:]
    return text.replace("(", " ").replace(")", " ")


def _clauses(match: re.Match[str], fieldname: str | None) -> list[Clause]:
    """The clauses of one item, not yet signed or joined."""
    phrase = match.group("phrase")
    if phrase is not None:
        return [Clause(phrase.strip(), "phrase", fieldname)] if phrase.strip() else []
    word = match.group("word").removesuffix(":")
    if not word.strip("-+*"):
        return []
    if word.endswith("*") and len(word.rstrip("*")) >= 2:
        return [Clause(word.rstrip("*"), "prefix", fieldname)]
    word = _MODIFIER.sub("", word.strip("*"))
    if "://" not in word and not word.startswith("www.") and "@" not in word:
        parts = [part for part in _SEPARATOR.split(word) if part.strip("-")]
        if len(parts) != 1:
            return [Clause(part, "word", fieldname) for part in parts]
        word = parts[0]
    inverted = _INVERSION.fullmatch(word)
    if inverted and not match.group("sign"):
        verb = inverted.group("verb").removesuffix("-t")
        return [Clause(verb, "word", fieldname), Clause(inverted.group("pronoun"), "word", fieldname)]
    return [Clause(word, "word", fieldname)]


def parse_query(text: str) -> ParsedQuery:
    groups: list[Group] = []
    excluded: list[Clause] = []
    sources: list[str] = []
    join, require_next, negate_next = False, False, False
    for match in _ITEM.finditer(_balance(text[:MAX_QUERY_CHARS])):
        if len(groups) + len(excluded) >= MAX_CLAUSES:
            break
        word, sign = match.group("word"), match.group("sign")
        if word in ("OR", "AND", "NOT") and not sign and not match.group("field"):
            if word == "OR":
                join = bool(groups)
            elif word == "AND":
                if groups:
                    groups[-1] = replace(groups[-1], required=True)
                    require_next = True
            else:
                negate_next = True
            continue
        fieldname = (match.group("field") or "").lower() or None
        if fieldname == "source":
            value = match.group("phrase") if match.group("phrase") is not None else word
            if value and value.strip() and sign != "-" and not negate_next:
                sources.append(value.strip())
                continue
        if fieldname is not None and fieldname not in FIELDS:
            # Not a field we have (Macron:remaniement, Covid-19:bilan): both sides are words.
            head = match.group("field")
            items = [Clause(head)] if head.strip("-") else []
            items += _clauses(match, None)
        else:
            items = _clauses(match, fieldname)
        if not items:
            continue
        if sign == "-" or negate_next:
            excluded.extend(items)
        elif join and len(items) == 1 and groups:
            last = groups[-1]
            groups[-1] = Group((*last.alternatives, items[0]), last.required or sign == "+" or require_next)
        else:
            groups.extend(Group((c,), sign == "+" or require_next) for c in items)
        join = require_next = negate_next = False
    return ParsedQuery(tuple(groups), tuple(excluded), tuple(sources))
