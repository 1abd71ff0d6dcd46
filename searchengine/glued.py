"""Glued words: two words the scraper joined (``Poutinecomme``, ``Vladivostokdans``).

Scraped news loses the space between a link's text and the next word, so an
article can hold ``Poutinecomme`` where it means ``Poutine comme``. Whether a
token is such a join needs the whole collection (it is rare, and both of its
parts are common), so it is decided after each commit, from the index's
vocabulary, and kept beside the index as ``_<index>_<generation>.glued``: a
line of JSON (``{glued term: [split, head term, tail term]}`` and the segments
it was made for), then the CRC-32 of that line, as the ``.sums`` files are
written. Queries add the glued terms
of a word as its alternatives (:class:`GluedPlan`), and highlights
mark the part that was searched (``**Poutine**comme``).

A side file, not extra postings: the decision changes with the collection (a
later article can make a word common), so it is remade from the current
vocabulary at every commit, without rewriting a segment; the thresholds can
change without re-indexing; an index built by older code simply has no file,
and a missing or damaged file only turns the feature off for queries.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .errors import IndexCorrupt
from .scoring import IndexArrays, bm25_idf
from .sidefiles import replace_side_file, side_filename

if TYPE_CHECKING:
    from whoosh.reading import IndexReader
    from whoosh.searching import Searcher

    from .plan import Terms
    from .snippets import Highlighter

__all__ = ["Glued", "GluedFile", "GluedPlan", "GluedWords", "find_glued", "glued_filename",
           "verify_glued", "write_glued", "KNOWN_DF", "MAX_GLUED_DF"]

_FORMAT = 1
FIELDS = ("title", "lede", "body")
MAX_GLUED_DF = 2
"""A glued token is in one article, or in it and its duplicate."""
KNOWN_DF = 100
"""Both parts are in this many articles at least (fewer in a small collection:
one in ``_KNOWN_SHARE`` of them, and at least ``MAX_GLUED_DF`` + 1)."""
_KNOWN_SHARE = 300
MIN_HEAD = 5
"""Letters of the first part: with four, most splits on OrangeSum cut names
and compounds (``Beausoleil``, ``Campbon``, ``afropop``), with three, prefixes (``mal``)."""
MIN_TAIL = 3
MIN_HEAD_TERM = 4
"""Letters of the first part's term: ``dev``, ``red``, ``dec`` are the stems of
many words, and cut real words (``redevenus``, ``décamon``)."""
_SHORT_TAILS = frozenset("il le la un du au en ce ne sa".split())
"""Two-letter words that start a clause after a join (``Parentsil``, ``Annonceau``)."""
_SUFFIXES = frozenset(
    "eur eux euse ien ion ions ment ette iste isme age ant ante ier iere ois oise ais aise ard able ible ique "
    "ite al ale aux if ive et ine in ing ed er man land ville court mont bourg berg stein son ton ti tes "
    "ait ent ons ise sent til tel atil atel eton sen".split())
"""Tails that are word endings more often than words (``programmeur``, ``systématise``;
``suffira-t-elle`` without hyphens), so no join."""
_PREFIXES = frozenset(
    "anti micro macro franco demi quasi auto mal non sur sous contre super mini multi post pre inter semi "
    "extra ultra hyper mega neo pro pseudo retro tele bio eco euro geo photo radio peri para vice".split())
"""Heads that make compounds (``antiisrael``, ``microcasque``): words of their own, not joins."""
COMMON_PART_DF = 100
COMMON_PART_SHARE = 0.02
"""A word in more than this share of the articles (and more than
``COMMON_PART_DF``) gets no glued alternatives: an article that has it only
glued would rank last among thousands, while the articles that have it both
ways move up. On 300 short OrangeSum title queries, alternatives for every
word (``France`` has 39, ``selon`` 164) changed the first page of 58 and
cost 2 ms (p50); with this bound, 14 and nothing measurable."""
GLUED_WEIGHT = 0.3
"""What a glued word weighs against its part typed alone (about what one more
occurrence of the part adds under BM25's saturation): an article holding
only the glued word is found, in its tier, below those that write the word,
and one holding both barely moves."""
_FULL_PASS_SHARE = 10
"""A commit whose new segments hold over a tenth of the articles reads the whole vocabulary."""
MAX_ALTERNATIVES = 50
"""Glued alternatives of one group of a query, in alphabetical order (each is
in one or two articles); on OrangeSum no word under ``COMMON_PART_SHARE`` has
that many."""


@dataclass(frozen=True)
class Glued:
    """One glued term: its first ``split`` letters (folded) are a word whose
    term is ``head``, the rest a word whose term is ``tail``."""

    term: str
    split: int
    head: str
    tail: str


@dataclass(frozen=True)
class GluedWords:
    """The glued terms of one generation of an index, by part."""

    glued: Mapping[str, Glued] = field(default_factory=dict)
    by_part: Mapping[str, tuple[Glued, ...]] = field(default_factory=dict)
    segments: frozenset[str] = frozenset()
    """The segments of the index the file was made for."""

    @classmethod
    def of(cls, glued: Iterable[Glued], segments: frozenset[str] = frozenset()) -> GluedWords:
        by_term = {g.term: g for g in glued}
        by_part: dict[str, list[Glued]] = {}
        for g in sorted(by_term.values(), key=lambda g: g.term):
            by_part.setdefault(g.head, []).append(g)
            if g.tail != g.head:
                by_part.setdefault(g.tail, []).append(g)
        return cls(by_term, {part: tuple(found) for part, found in by_part.items()}, segments)

    def __len__(self) -> int:
        return len(self.glued)


def known_df(size: int) -> int:
    """How many articles make a word well known in a collection of ``size``."""
    return max(MAX_GLUED_DF + 1, min(KNOWN_DF, size // _KNOWN_SHARE))


def find_glued(candidates: Iterable[str], df: Callable[[str], int], size: int,
               term_of: Callable[[str], str | None], stop_words: frozenset[str] = frozenset()) -> list[Glued]:
    """Those of ``candidates`` that are rare terms of two well-known words
    joined; ``df`` gives the articles holding a term, ``size`` how many
    articles there are, ``term_of`` the term of a folded word (None if it is
    not one word). Of several splits, one whose tail is a stop word wins
    (``hollande|au``, not ``holland|eau``), then the one whose rarer part is
    the most common."""
    known = known_df(size)
    rare = min(MAX_GLUED_DF, known - 1)
    found = []
    for term in candidates:
        if len(term) < MIN_HEAD + 2 or not (term.isascii() and term.isalpha()) or not 0 < df(term) <= rare:
            continue
        if term_of(term) != term:
            continue  # not a word's term, but a piece of something else
        best: tuple[bool, int, int, str, str] | None = None
        for split in range(MIN_HEAD, len(term) - 1):
            head_word, tail_word = term[:split], term[split:]
            if head_word in _PREFIXES or tail_word in _SUFFIXES:
                continue
            if len(tail_word) < MIN_TAIL and tail_word not in _SHORT_TAILS:
                continue
            head = term_of(head_word)
            if head is None or len(head) < MIN_HEAD_TERM or df(head) < known:
                continue
            tail = tail_word if df(tail_word) >= known else term_of(tail_word)
            if tail is None or df(tail) < known:
                continue
            choice = (tail in stop_words, min(df(head), df(tail)), split, head, tail)
            if best is None or choice[:2] > best[:2]:
                best = choice
        if best is not None:
            found.append(Glued(term, *best[2:]))
    return found


def _joined_forms(arrays: IndexArrays, found: list[Glued]) -> set[str]:
    """Those of ``found`` that stand where their tail does in the body of their articles:
    the joined form of a hyphenated word (``Jean-Manuel`` gives ``jean``,
    ``manuel`` and ``jeanmanuel`` at the place of ``manuel``), whose parts are
    indexed already. Each tail's positions are read once, in the blocks of
    the articles concerned only."""
    by_tail: dict[str, list[Glued]] = {}
    for g in found:
        by_tail.setdefault(g.tail, []).append(g)
    joined = set()
    for tail, some in by_tail.items():
        where = {g.term: arrays.positions("body", g.term, arrays.postings("body", g.term)[0]) for g in some}
        docs = sorted({d for places in where.values() for d in places})
        if not docs:
            continue
        tails = arrays.positions("body", tail, np.array(docs, dtype=np.int32))
        for term, places in where.items():
            if any(set(at) & set(tails.get(doc, ())) for doc, at in places.items()):
                joined.add(term)
    return joined


def vocabulary(reader: IndexReader, segments: set[str] | None = None) -> tuple[dict[str, int], set[str]]:
    """Each term of the searched fields (of ``segments`` only, if given) with
    the most articles holding it in one field, as ranking counts it, and the
    terms of the body; read a segment at a time: Whoosh's merged view of
    several segments is five times slower."""
    fields: dict[str, dict[str, int]] = {name: {} for name in FIELDS}
    for leaf, _ in reader.leaf_readers():
        if segments is not None and leaf.segment().segment_id() not in segments:
            continue
        for name, counts in fields.items():
            for term, info in leaf.iter_field(name):
                text = term.decode("utf-8") if isinstance(term, bytes) else term
                counts[text] = counts.get(text, 0) + info.doc_frequency()
    return most_in_one_field(fields)


def most_in_one_field(fields: dict[str, dict[str, int]]) -> tuple[dict[str, int], set[str]]:
    """From each field's document frequencies, each term with the most articles holding it in one
    field, and the terms of the body (:func:`vocabulary`'s answer; the cluster counts its own)."""
    body = set(fields["body"])
    frequencies = fields["body"]
    for name in ("title", "lede"):
        for text, count in fields[name].items():
            if count > frequencies.get(text, 0):
                frequencies[text] = count
    return frequencies, body


def glued_filename(indexname: str, generation: int) -> str:
    return side_filename(indexname, generation, "glued")


class _Analyzer(Protocol):
    stop_words: frozenset[str]

    def terms(self, text: str) -> list[str]: ...


def write_glued(folder: str | os.PathLike[str], indexname: str, searcher: Searcher, analyzer: _Analyzer) -> int:
    """Find the glued terms of the index as ``searcher`` sees it (just
    committed) and write them beside its generation; remove the files of
    other generations. Returns how many were found.

    A commit whose new segments hold under ``1 / _FULL_PASS_SHARE`` of the
    articles re-examines only their terms, with the whole index's
    frequencies, and keeps the previous generation's other glued terms:
    frequencies only grow with added articles (Whoosh counts deleted ones
    until a merge drops them), so those still hold, and a small update costs
    a few milliseconds, not a pass over the vocabulary. A part that becomes
    well known only with the new articles is seen at the next whole pass:
    any other commit, or one after a generation without a readable file,
    reads the whole vocabulary. A file that cannot
    be written is left out: the feature is off for that generation, and the
    commit stands."""

    def term_of(word: str) -> str | None:
        terms = analyzer.terms(word)
        return terms[0] if len(terms) == 1 else None

    arrays = IndexArrays(searcher)
    reader = arrays.reader
    generation = reader.generation()
    segments = {leaf.segment().segment_id(): leaf.doc_count_all() for leaf, _ in reader.leaf_readers()}
    try:
        previous = _read(folder, indexname, generation - 1)
    except (OSError, ValueError, KeyError, TypeError):
        previous = None
    new = set(segments) - previous.segments if previous is not None else set(segments)
    kept: list[Glued] = []
    if previous is None or sum(segments[s] for s in new) * _FULL_PASS_SHARE > arrays.size:
        frequencies, body_terms = vocabulary(reader)
        found = find_glued(body_terms, lambda term: frequencies.get(term, 0), arrays.size, term_of, analyzer.stop_words)
    else:
        counts: dict[str, int] = {}

        def df(term: str) -> int:
            if term not in counts:
                counts[term] = max(arrays.doc_frequency(name, term) for name in FIELDS)
            return counts[term]

        added, candidates = vocabulary(reader, new)
        kept = [g for g in previous.glued.values() if g.term not in added]
        found = find_glued(candidates, df, arrays.size, term_of, analyzer.stop_words)
    joined = _joined_forms(arrays, found)
    found = sorted([*kept, *(g for g in found if g.term not in joined)], key=lambda g: g.term)
    line = json.dumps({"format": _FORMAT, "generation": generation, "segments": sorted(segments),
                       "glued": {g.term: [g.split, g.head, g.tail] for g in found}}, sort_keys=True).encode()
    # A file that cannot be written (a full disk, say): no glued words for this generation.
    replace_side_file(folder, indexname, generation, "glued", line + b"\n%08x\n" % zlib.crc32(line))
    return len(found)


def _table(folder: str | os.PathLike[str], indexname: str, generation: int) -> dict[str, Any] | None:
    """The checked contents of ``generation``'s file; None if it has no file;
    ValueError (or OSError) if the file is damaged or unreadable."""
    path = Path(folder) / glued_filename(indexname, generation)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    body, _, check = raw.rstrip(b"\n").rpartition(b"\n")
    if int(check or b"x", 16) != zlib.crc32(body):
        raise ValueError("its own checksum differs")
    data = json.loads(body)
    if not isinstance(data, dict) or not isinstance(data.get("glued"), dict):
        raise ValueError("it holds no table of glued words")
    if data["format"] != _FORMAT or data["generation"] != generation:
        raise ValueError(f"it is of format {data['format']}, generation {data['generation']}")
    return data


def _entry(term: str, entry: list[Any]) -> tuple[int, str, str]:
    """A glued term's ``[split, head, tail]`` in the file, checked; TypeError or ValueError if damaged."""
    split, head, tail = entry
    if type(split) is not int or type(head) is not str or type(tail) is not str:
        raise TypeError(f"{term}: {entry!r} is no glued word")
    return split, head, tail


def _glued(term: str, entry: list[Any]) -> Glued:
    return Glued(term, *_entry(term, entry))


def _read(folder: str | os.PathLike[str], indexname: str, generation: int) -> GluedWords | None:
    """The glued terms of ``generation``; None if it has no file; ValueError
    (or OSError) if the file is damaged or unreadable."""
    data = _table(folder, indexname, generation)
    if data is None:
        return None
    return GluedWords.of((_glued(term, entry) for term, entry in data["glued"].items()),
                         frozenset(map(str, data["segments"])))


class _Table(Mapping[str, Glued]):
    """A file's table of glued terms, each made into a :class:`Glued` when asked for."""

    def __init__(self, table: dict[str, list[Any]]) -> None:
        self._table = table

    def __getitem__(self, term: str) -> Glued:
        return _glued(term, self._table[term])

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


class _ByPart(Mapping[str, tuple[Glued, ...]]):
    """:attr:`GluedWords.by_part` of a file's table: the glued terms of a
    part are made when the part is asked for (a query asks for its few
    words; the table holds thousands)."""

    def __init__(self, table: dict[str, list[Any]], terms: dict[str, list[str]]) -> None:
        self._table = table
        self._terms = terms
        self._made: dict[str, tuple[Glued, ...]] = {}

    def __getitem__(self, part: str) -> tuple[Glued, ...]:
        if part not in self._made:
            self._made[part] = tuple(_glued(term, self._table[term]) for term in sorted(self._terms[part]))
        return self._made[part]

    def __contains__(self, part: object) -> bool:
        return part in self._terms

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)

    def __len__(self) -> int:
        return len(self._terms)


def _lazy(data: dict[str, Any]) -> GluedWords:
    """The :class:`GluedWords` of a file's checked contents, as :func:`_read`
    makes them, but with each glued term made only when a query asks for it:
    a fresh query would otherwise make thousands of them for its few words."""
    table: dict[str, list[Any]] = data["glued"]
    terms: dict[str, list[str]] = {}
    for term, entry in table.items():
        _, head, tail = _entry(term, entry)
        terms.setdefault(head, []).append(term)
        if tail != head:
            terms.setdefault(tail, []).append(term)
    return GluedWords(_Table(table), _ByPart(table, terms), frozenset(map(str, data["segments"])))


class GluedFile:
    """The glued terms of one generation, for the queries of a snapshot.

    The file is written just after its commit, so a snapshot opened in
    between finds none yet: until it appears, each query looks again (one
    ``stat``), then it is read once. A damaged file gives none, for good
    (``newsearch info --check`` names it)."""

    def __init__(self, folder: str | os.PathLike[str], indexname: str, generation: int) -> None:
        self.path = Path(folder) / glued_filename(indexname, generation)
        self.indexname = indexname
        self.generation = generation
        self._words: GluedWords | None = None

    def words(self) -> GluedWords:
        if self._words is None and self.path.exists():
            try:
                data = _table(self.path.parent, self.indexname, self.generation)
                self._words = _lazy(data) if data is not None else GluedWords()
            except (OSError, ValueError, KeyError, TypeError):
                self._words = GluedWords()
        return self._words or GluedWords()


def verify_glued(folder: str | os.PathLike[str], indexname: str, generation: int) -> bool:
    """Whether ``generation`` has a glued-words file; IndexCorrupt naming it if it is damaged."""
    try:
        return _read(folder, indexname, generation) is not None
    except OSError as exc:
        raise IndexCorrupt(Path(folder), f"cannot read {glued_filename(indexname, generation)}: "
                                         f"{exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(Path(folder), f"{glued_filename(indexname, generation)} is damaged: {exc}") from exc


class _Vocabulary(Protocol):
    @property
    def size(self) -> int: ...

    def doc_frequency(self, fieldname: str, term: str) -> int: ...


def _idf(vocabulary: _Vocabulary, term: str, fields: tuple[str, ...]) -> float:
    """Ranking's idf (:meth:`~searchengine.scoring.IndexArrays.idf`)."""
    return bm25_idf(vocabulary.size, max((vocabulary.doc_frequency(f, term) for f in fields), default=0))


class GluedPlan:
    """The glued part of planning one query: the alternatives it added, and
    what the highlighter must mark of them."""

    def __init__(self, vocabulary: _Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.source: GluedFile | None = getattr(vocabulary, "glued", None)
        self.marks: dict[str, tuple[int, int]] = {}
        """For each glued term used, the range of its folded letters to highlight (end -1: to the word's end)."""
        self.phrases: set[tuple[str, ...]] = set()

    def alternatives(self, exact: tuple[Terms, ...]) -> tuple[Terms, ...]:
        """For a group's exact alternatives, the same with glued terms in
        place of their parts: a word gives its glued terms; a phrase ending in
        a glued term's head, starting with its tail, or holding head and tail
        in a row gives the phrase with the glued term there. Each weighs
        ``GLUED_WEIGHT`` of the words it replaces (a glued term is rare: its
        own idf would rank its article first). The glued words are read
        only when a word of the query is rare enough to have some: a fresh
        query of common words does without the file."""
        if self.source is None:
            return ()
        common = max(COMMON_PART_DF, self.vocabulary.size * COMMON_PART_SHARE)
        rare = {t for terms in exact for t in terms.terms if self._df(t) <= common}
        table = self.source.words() if rare else GluedWords()
        by_part = {part: table.by_part[part] for part in rare if part in table.by_part}
        if not by_part:
            return ()
        found: list[Terms] = []
        for terms in exact:
            words = terms.terms
            if "body" not in terms.fields:
                continue
            if not terms.phrase:
                options = by_part.get(words[0], ())[:MAX_ALTERNATIVES] if len(words) == 1 else ()
                if options:
                    found.append(self._replacing(terms, tuple(g.term for g in options), words))
                    for g in options:
                        self._mark(g, head=g.head == words[0], tail=g.tail == words[0])
                continue
            for g in by_part.get(words[-1], ()):
                if g.head == words[-1]:
                    found.append(self._replacing(terms, (*words[:-1], g.term), words))
                    self._mark(g, head=True)
            for g in by_part.get(words[0], ()):
                if g.tail == words[0]:
                    found.append(self._replacing(terms, (g.term, *words[1:]), words))
                    self._mark(g, tail=True)
            for i in range(len(words) - 1):
                for g in by_part.get(words[i], ()):
                    if g.head == words[i] and g.tail == words[i + 1]:
                        found.append(self._replacing(terms, (*words[:i], g.term, *words[i + 2:]), words))
                        self._mark(g, head=True, tail=True)
        return tuple(found[:MAX_ALTERNATIVES])

    def _df(self, term: str) -> int:
        return max(self.vocabulary.doc_frequency(f, term) for f in FIELDS)

    def highlighter(self, highlighter: Highlighter) -> Highlighter:
        """``highlighter`` marking the searched parts of the glued words used."""
        if not self.marks:
            return highlighter
        return replace(highlighter, terms=highlighter.terms | self.marks.keys(),
                       phrases=highlighter.phrases | self.phrases,
                       glued=tuple(sorted((t, s, e) for t, (s, e) in self.marks.items())))

    def _replacing(self, terms: Terms, new: tuple[str, ...], old: tuple[str, ...]) -> Terms:
        """``terms`` with ``new`` for ``old``, in the body (where glued words
        are found), weighing ``GLUED_WEIGHT`` of what ``old`` weighs."""
        if terms.phrase:
            was = sum(_idf(self.vocabulary, t, terms.fields) for t in old)
            now = sum(_idf(self.vocabulary, t, ("body",)) for t in new)
        else:
            was = _idf(self.vocabulary, old[0], terms.fields)
            now = max(_idf(self.vocabulary, t, ("body",)) for t in new)
        phrase = terms.phrase and len(new) > 1
        if phrase:
            self.phrases.add(new)
        weight = terms.weight * GLUED_WEIGHT * (was / now if now else 1.0)
        return replace(terms, terms=new, fields=("body",), phrase=phrase, weight=weight)

    def _mark(self, glued: Glued, head: bool = False, tail: bool = False) -> None:
        """Widen the highlighted range of ``glued``'s letters by its head or its tail."""
        start, end = self.marks.get(glued.term, (glued.split, glued.split))
        self.marks[glued.term] = (0 if head else start, -1 if tail or end == -1 else end)
