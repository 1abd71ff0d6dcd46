"""Common-word bigrams (after Lucene's CommonGrams): phrases of frequent words read short lists.

A phrase is matched by intersecting the posting lists of its words and reading
the positions of every article left. For ``"il y a"`` both steps cover nearly
the whole collection, and reading the positions of a common word costs nearly
its whole list even for a few hundred articles (they fall in most of its
blocks). So at indexing time a common word followed by a *frequent* term is
also indexed with it, as one term, the two joined by a space (``il y``,
``y a``, ``le mond``, ``la franc``), at the position of the first. The bigrams
go in a companion field, ``body_grams`` beside ``body`` and likewise for title
and lede, so the searched fields' vocabulary, lengths and statistics are
untouched.

A phrase is then matched on its bigrams (:func:`cover`): each common word
followed by a frequent term as their bigram, at its offset in the phrase, and
every word in no such pair as itself. The bigrams' lists are much shorter than
their words' lists, and hold few positions per article. Positions are still
checked, so the articles found are exactly those of the word-by-word check: a
bigram stands at ``p`` exactly where its first term stands at ``p`` and its
second at ``p + 1``, and no term holds a space, so a bigram names its pair alone.

Only frequent second terms: a common word before a rarer term (``la
insoumis``) is read as itself, its positions only in the articles the rarer
term leaves. Pairing it with every term, as the first version did, made the
index 67 % larger (most distinct bigrams are seen once or twice and fill the
term table) for phrases that were already cheap; pairing with the frequent
terms only keeps the growth near 12 % (README, *Phrases of common words*).
Lucene also pairs a rare word with the common word after it (``Monde a``);
that is left out for the same reason.

The common words are the analyser's stop-word terms (the 107 stems of the
French function words) and the frequent terms a shipped list (``data/frequent_fr.txt``,
the stems in 15 % of French news articles or more). Both are recorded in the
index with the schema, in the companion fields' analyser (:class:`CommonGrams`):
queries use the index's own lists whatever a later version ships. The fast
writer pairs the terms it analysed for the text field
(:meth:`CommonGrams.from_positions`) rather than analysing the text again. An
index without the companion fields (built by older code) matches phrases word
by word, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import fields, formats
from whoosh.analysis import Analyzer, Token

from . import data
from .analysis import FrenchAnalyzer

if TYPE_CHECKING:
    from .scoring import DocIds, IndexArrays

__all__ = ["CommonGrams", "cover", "frequent_terms", "gram_field", "gram_fields", "holding", "items", "matching",
           "with_grams"]

SUFFIX = "_grams"
FREQUENT_FILE = "frequent_fr.txt"
SEPARATOR = " "
"""Between the two terms of a bigram: no term holds one (text is split on spaces first)."""

Item = tuple[str, str, int]
"""One part of a phrase to find: (field, term, its offset in the phrase)."""


def gram_field(fieldname: str) -> str:
    """The companion field holding the bigrams of ``fieldname``."""
    return fieldname + SUFFIX


class CommonGrams(Analyzer):
    """The analyser of a companion field: the bigrams of a text analysed by
    ``analyzer``, for each pair of adjacent terms whose first is in ``common``
    and whose second is in ``following`` or ``common``.

    Pickled with the schema, the list with it, so an index keeps the list it
    was built with. Whoosh's writer calls it as an analyser; the fast writer
    calls :meth:`term_positions`. Both give the same postings.
    """

    def __init__(self, analyzer: FrenchAnalyzer, common: Iterable[str], following: Iterable[str]) -> None:
        self.analyzer = analyzer
        self.common = frozenset(common)
        self.following = frozenset(following) | self.common
        """The terms a common word is paired with: the frequent ones (and the common words)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and \
            (self.analyzer, self.common, self.following) == (other.analyzer, other.common, other.following)

    def __hash__(self) -> int:
        return hash(self.common)

    def grams(self, text: str) -> Iterator[tuple[str, int]]:
        """Each bigram of ``text`` (a common term and the next, if frequent)
        and its position (the first term's), in order.

        Terms at one position (``nord-coréen`` gives ``coreen`` and
        ``nordcoreen`` at one) each pair with every term of the position
        before, as a phrase may use any of them.
        """
        common, following = self.common, self.following
        before: list[str] = []
        here: list[str] = []
        last = -1
        for term, _, _, pos in self.analyzer.analyse(text):
            if pos != last:
                last = pos
                before, here = here, []
            if term in following:
                for previous in before:
                    yield previous + SEPARATOR + term, pos - 1
            if term in common:
                here.append(term)

    def term_positions(self, text: str) -> dict[str, list[int]]:
        """:meth:`grams` grouped by bigram, as the fast writer takes a field's terms."""
        positions: dict[str, list[int]] = {}
        found = positions.get
        for gram, pos in self.grams(text):
            where = found(gram)
            if where is None:
                positions[gram] = [pos]
            else:
                where.append(pos)
        return positions

    def from_positions(self, words: Mapping[str, list[int]]) -> dict[str, list[int]]:
        """:meth:`term_positions` of a text from its terms' positions as its
        field's analyser gives them (``FrenchAnalyzer.term_positions``): the
        fast writer pairs the terms it has, rather than analysing the text again.
        A position nearly always holds one common term at most, kept as itself
        (no list per common word); a text where one holds two is paired by
        :meth:`_paired_apart`."""
        after: dict[int, str] = {}
        """The common term at each position, keyed by the position after it."""
        common = 0
        for term in self.common.intersection(words):
            where = words[term]
            common += len(where)
            for pos in where:
                after[pos + 1] = term
        positions: dict[str, list[int]] = {}
        if not after:
            return positions
        if len(after) < common:
            return self._paired_apart(words)
        found = positions.get
        before = after.get
        for term in self.following.intersection(words):
            for pos in words[term]:
                previous = before(pos)
                if previous is None:
                    continue
                gram = previous + SEPARATOR + term
                there = found(gram)
                if there is None:
                    positions[gram] = [pos - 1]
                else:
                    there.append(pos - 1)
        return positions

    def _paired_apart(self, words: Mapping[str, list[int]]) -> dict[str, list[int]]:
        """:meth:`from_positions` of terms where some position holds two common
        terms (``afin-a`` gives ``afin`` and ``a`` at one): each pairs with the term after."""
        after: dict[int, list[str]] = {}
        for term in self.common.intersection(words):
            for pos in words[term]:
                after.setdefault(pos + 1, []).append(term)
        positions: dict[str, list[int]] = {}
        for term in self.following.intersection(words):
            for pos in words[term]:
                for previous in after.get(pos, ()):
                    positions.setdefault(previous + SEPARATOR + term, []).append(pos - 1)
        return positions

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs: Any) -> Iterator[Token]:
        """Whoosh's analyser interface (its writer indexing a document): one
        token updated for each bigram."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for gram, pos in self.grams(value):
            token.text = gram
            if positions:
                token.pos = start_pos + pos
            yield token


def frequent_terms() -> frozenset[str]:
    """The shipped list of frequent terms a common word is paired with (see the module)."""
    return frozenset(line.split("\t", 1)[0] for line in data.read_text(FREQUENT_FILE).splitlines()
                     if line and not line.startswith("#"))


def gram_fields(analyzer: FrenchAnalyzer, names: Iterable[str],
                following: Iterable[str] | None = None) -> dict[str, fields.FieldType]:
    """The companion fields of the text fields ``names`` for :func:`~searchengine.indexing.make_schema`:
    positions, no length, nothing stored. One analyser serves them all, so it
    shares ``analyzer``'s caches. ``following``: the terms paired with a
    common word (default: :func:`frequent_terms`)."""
    grams = CommonGrams(analyzer, analyzer.stop_words, frequent_terms() if following is None else following)
    return {gram_field(name): fields.FieldType(formats.Positions(), grams) for name in names}


def with_grams(schema: fields.Schema | None, document: Mapping[str, object]) -> dict[str, object]:
    """``document`` with the text of each of its fields that has a companion
    field in ``schema`` given to that field too (none in an older index, nor
    without a schema: the cluster's writer)."""
    found = dict(document)
    if schema is None:
        return found
    for name, value in document.items():
        companion = gram_field(name)
        if isinstance(value, str) and companion in schema and companion not in document:
            found[companion] = value
    return found


def cover(schema: fields.Schema, fieldname: str, terms: tuple[str, ...]) -> tuple[Item, ...] | None:
    """What to find for the phrase ``terms`` in ``fieldname`` through bigrams:
    each common word followed by a frequent term with it as their bigram, and
    each word in no such pair as itself, with their offsets; None where the
    index has no bigrams for the field or the phrase no such pair."""
    companion = gram_field(fieldname)
    if len(terms) < 2 or companion not in schema:
        return None
    analyzer = schema[companion].analyzer
    if not isinstance(analyzer, CommonGrams):
        return None
    common, following = analyzer.common, analyzer.following
    paired = [terms[k] in common and terms[k + 1] in following for k in range(len(terms) - 1)]
    if not any(paired):
        return None
    items = [(companion, terms[k] + SEPARATOR + terms[k + 1], k) for k, pair in enumerate(paired) if pair]
    for k, term in enumerate(terms):
        if not (k and paired[k - 1]) and not (k < len(paired) and paired[k]):
            items.append((fieldname, term, k))
    return tuple(items)


def items(schema: fields.Schema, fieldname: str, terms: tuple[str, ...]) -> tuple[Item, ...]:
    """What to find for the phrase ``terms`` in ``fieldname``: its :func:`cover`
    by bigrams where there is one, else each word at its offset."""
    return cover(schema, fieldname, terms) or tuple((fieldname, term, k) for k, term in enumerate(terms))


def holding(arrays: IndexArrays, items: tuple[Item, ...]) -> DocIds:
    """The documents (ascending) holding every item's term, wherever: those
    where the phrase may stand. The rarest term's list is read, and each
    other term searched for the documents left (:meth:`~searchengine.scoring.IndexArrays.among`:
    in the blocks holding them alone, when they are few and its list is long)."""
    keys = sorted({(f, t) for f, t, _ in items}, key=lambda key: arrays.doc_frequency(*key))
    found = arrays.postings(*keys[0])[0]
    for key in keys[1:]:
        if not len(found):
            break
        found = arrays.among(*key, found)
    return found


def matching(arrays: IndexArrays, items: tuple[Item, ...], candidates: DocIds | None = None) -> DocIds:
    """The documents (ascending) where every item stands at its offset from
    one same start: of ``candidates`` (ascending, each holding every item's
    term: :func:`holding`'s or some of them), by default of every document;
    only their positions are read. Each item's starts (its positions less
    its offset) are numbered with their document, so that the starts of all
    the items and documents are intersected at once, as arrays."""
    if candidates is None:
        candidates = holding(arrays, items)
    if len(items) == 1 or not len(candidates):
        return candidates
    where = {(f, t): arrays.positions_of(f, t, candidates) for f, t in {(f, t) for f, t, _ in items}}
    found: DocIds | None = None
    for f, term, offset in sorted(items, key=lambda item: len(where[item[:2]][1])):
        docs, positions = where[f, term]
        # Below 0 only where the phrase cannot start (the item at offset 0 stands at 0 or after).
        starts = (docs << _START_BITS) + (positions - offset)
        found = starts if found is None else np.intersect1d(found, starts)
        if not len(found):
            break
    assert found is not None
    return np.unique(found >> _START_BITS)


_START_BITS = 32
"""The bits of a start numbered with its document in :func:`matching`: positions stay under 2 ** 31."""
