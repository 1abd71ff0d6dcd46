"""The French analyser: what a piece of French text means to the index.

Index and queries go through the same function, so whatever is conflated here
(case, accents, elisions, plurals) is conflated on both sides. Every word keeps
a position and its character range in the original text: positions make
phrases exact, ranges put highlights on whole original words.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any, Self, TypeVar

import Stemmer
from unidecode import unidecode
from whoosh.analysis import Analyzer, Token

from . import data

__all__ = ["FrenchAnalyzer", "Term", "STOP_WORDS", "fold", "nfc", "stem"]

# Possessive: a word never gives back letters to a separator (they are disjoint),
# so the matches are those of the greedy form, found with less backtracking.
_WORD = r"[^\W_]++(?:[-‐‑'’ʼ.,][^\W_]++)*+"
_TOKEN = re.compile(
    r"https?://[^\s<>\"«»]+"
    r"|www\.[^\s<>\"«»]+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[@#][^\W_]\w*"
    r"|" + _WORD
)
_PLAIN_TOKEN = re.compile(_WORD)
_TRAILING = ".,;:!?)]}'\"’»"
# Characters no token starts with or holds before its first letter or digit.
_OPENING = "([{«\"“‘'’"
_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_BREAK = re.compile(r"[.,]")
_HYPHEN = re.compile(r"[-‐‑]")
_PARTS = re.compile(r"[^-‐‑]+")
_ELISION = re.compile(
    r"(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’ʼ](?=[aeiouyhàâäéèêëîïôöùûüÿœæ])",
    re.IGNORECASE,
)
# unidecode replaces each character on its own, so for the Latin letters of
# French text its answers can be a translation table, much faster than a call;
# apostrophes become "'" before anything else.
_FOLD_LATIN = str.maketrans({chr(c): unidecode(chr(c)) for c in range(0x80, 0x250)} | {"’": "'", "ʼ": "'"})
# PyStemmer never releases the GIL inside stemWord, so threads can share one stemmer.
_STEMMER = Stemmer.Stemmer("french")
# The analyser caches terms by chunk of text; PyStemmer's own cache would only add a second look-up.
_STEMMER.maxCacheSize = 0

# A term and where it came from: (text, start, end, same_position_as_previous).
Term = tuple[str, int, int, bool]


def fold(word: str) -> str:
    """Lower-case and strip accents and ligatures, the form every term starts from."""
    if not word.isascii():
        word = word.translate(_FOLD_LATIN)
        if not word.isascii():
            word = unidecode(word)
    return word.lower().replace(" ", "")


def stem(folded: str) -> str:
    """Snowball French on the folded word, so a query typed without accents
    stems exactly like the accented one."""
    if not folded.isalpha():
        return folded
    stemmed: str = _STEMMER.stemWord(folded)
    return stemmed


def nfc(text: str) -> str:
    """Compose accents so offsets computed on the text are offsets in what is stored."""
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _folded_stop_words() -> tuple[str, ...]:
    text = data.read_text("stopwords_fr.txt")
    words = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(fold(w) for w in words if w)


_FOLDED_STOP_WORDS = _folded_stop_words()
_FOLDED_STOP_SET = frozenset(_FOLDED_STOP_WORDS)
_SNOWBALL_STOP_WORDS = frozenset(map(stem, _FOLDED_STOP_WORDS))


def _letters_only(stemmer: Callable[[str], str]) -> Callable[[str], str]:
    """``stemmer`` applied to words of letters only, as :func:`stem` applies
    Snowball: numbers and codes (``g7``, ``covid19``) stay as they are."""

    def stem_letters(folded: str) -> str:
        return stemmer(folded) if folded.isalpha() else folded

    return stem_letters


def _unapostrophed(folded: str) -> str:
    """A folded word without its apostrophes: its elision dropped (``d'oise``
    in ``val-d'oise``, where no chunk starts with it), any other apostrophe
    joined (``prud'hommes`` → ``prudhommes``)."""
    if "'" not in folded:
        return folded
    elided = _ELISION.match(folded)
    if elided:
        folded = folded[elided.end():]
    return folded.replace("'", "")


def _plain(word: str) -> bool:
    """Letters only, so no rule on elisions, hyphens, dots or digits applies
    (Python counts the apostrophe ʼ as a letter)."""
    return word.isalpha() and "ʼ" not in word


def _words(chunk: str, offset: int, term_of: Callable[[str], str]) -> Iterator[Term]:
    """Terms of one piece of a token without dots: elision first, then hyphenated parts."""
    elided = _ELISION.match(chunk)
    if elided:
        offset += elided.end()
        chunk = chunk[elided.end():]
    if not _HYPHEN.search(chunk):
        term = term_of(chunk)
        if term:
            yield term, offset, offset + len(chunk), False
        return
    for start, end in (m.span() for m in _PARTS.finditer(chunk)):
        term = term_of(chunk[start:end])
        if term:
            yield term, offset + start, offset + end, False
    joined = term_of(_HYPHEN.sub("", chunk))
    if joined:
        yield joined, offset, offset + len(chunk), True


def _token_terms(raw: str, term_of: Callable[[str], str]) -> tuple[Term, ...]:
    """All the terms of one raw token, with offsets relative to the token."""
    if _plain(raw):
        term = term_of(raw)
        return ((term, 0, len(raw), False),) if term else ()
    first = raw[0]
    if first in "@#" or "://" in raw or raw.startswith("www.") or "@" in raw:
        return ((fold(raw), 0, len(raw), False),)
    if _ACRONYM.fullmatch(raw):
        return ((fold(raw.replace(".", "")), 0, len(raw), False),)
    if _NUMBER.fullmatch(raw):
        return ((raw.replace(",", "."), 0, len(raw), False),)
    if "." not in raw and "," not in raw:
        return tuple(_words(raw, 0, term_of))
    terms: list[Term] = []
    start = 0
    for piece in _SENTENCE_BREAK.split(raw):
        if piece:
            terms.extend(_words(piece, start, term_of))
        start += len(piece) + 1
    return tuple(terms)


def _tokens(text: str) -> re.Pattern[str]:
    """The token pattern for ``text``: words only when nothing in it can start a
    URL, an address or a tag, which finds the same tokens about twice as fast
    (the address alternative otherwise backtracks over every word)."""
    if "@" in text or "#" in text or "://" in text or "www." in text:
        return _TOKEN
    return _PLAIN_TOKEN


def _scan(text: str, term_of: Callable[[str], str]) -> Iterator[Term]:
    """The terms of an NFC text found by the token pattern, with offsets into the text."""
    for match in _tokens(text).finditer(text):
        raw = match.group()
        if raw[-1] in _TRAILING:
            raw = raw.rstrip(_TRAILING)
            if not raw:
                continue
        base = match.start()
        for term, start, end, same in _token_terms(raw, term_of):
            yield term, base + start, base + end, same


def _chunk_terms(chunk: str, term_of: Callable[[str], str]) -> tuple[Term, ...]:
    """The terms of one chunk of text between spaces, with offsets into the
    chunk: the one place text becomes terms, for indexing and queries alike.

    No token spans a space or depends on the text before it, so a text's terms
    are those of its chunks in turn. ``term_of`` gives the term of a word
    without dots (the folded, stemmed word).
    """
    word = chunk.rstrip(_TRAILING)
    if _plain(word):
        # The usual chunk, a word and maybe punctuation.
        term = term_of(word)
        return ((term, 0, len(word), False),) if term else ()
    start = len(word)
    word = word.lstrip(_OPENING)
    start -= len(word)
    if _plain(word):
        # A word in brackets or quotes.
        term = term_of(word)
        return ((term, start, start + len(word), False),) if term else ()
    token = _tokens(word).match(word) if word else None
    if token and token.end() == len(word):
        # One token (l'État, 3,5, nord-coréen) with maybe punctuation.
        terms = _token_terms(word, term_of)
        return tuple((t, start + s, start + e, same) for t, s, e, same in terms) if start else terms
    return tuple(_scan(chunk, term_of))


_Value = TypeVar("_Value")


class _Cache(dict[str, _Value]):
    """Values made on first look-up (by ``__missing__``) and kept for keys of
    up to ``LONGEST`` characters, at most ``size`` of them. When full it is
    emptied, which costs little (the common words of news text come back
    within a few articles) and needs no bookkeeping on a hit.

    Safe from many threads: a hit is one dictionary look-up; a miss makes its
    value outside the lock (two threads may both make it, alike) and stores it
    under the lock, so the cache never holds more than ``size``.
    """

    __slots__ = ("size", "lock")
    LONGEST = 40

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def _keep(self, key: str, value: _Value) -> None:
        if len(key) <= self.LONGEST:
            with self.lock:
                if len(self) >= self.size:
                    self.clear()
                self[key] = value


class _Words(_Cache[str]):
    """The term of each word without dots: folded, then stemmed by ``stem``.
    With ``join_apostrophes``, a word whose apostrophe is no elision
    (``prud'hommes``, ``McDonald's``, ``aujourd'hui``) is stemmed without it
    (:func:`_unapostrophed`), so it has the term of the word typed without
    the apostrophe."""

    __slots__ = ("stem", "join_apostrophes")

    def __init__(self, stem: Callable[[str], str], size: int, join_apostrophes: bool) -> None:
        super().__init__(size)
        self.stem = stem
        self.join_apostrophes = join_apostrophes

    def __missing__(self, word: str) -> str:
        folded = fold(word)
        term = self.stem(_unapostrophed(folded) if self.join_apostrophes else folded)
        self._keep(word, term)
        return term


class _Chunks(_Cache[tuple[Term, ...]]):
    """The terms of each chunk of text between spaces, by :func:`_chunk_terms`
    with the terms of words from ``words``."""

    __slots__ = ("words",)

    def __init__(self, words: _Words, size: int) -> None:
        super().__init__(size)
        self.words = words

    def __missing__(self, chunk: str) -> tuple[Term, ...]:
        if _plain(chunk):  # a word, as _chunk_terms would find it, without its calls
            term = self.words[chunk]
            terms: tuple[Term, ...] = ((term, 0, len(chunk), False),) if term else ()
        elif (word := chunk.rstrip(_TRAILING)) and len(word) < len(chunk):
            # No token ends with this punctuation: the terms of the chunk without it, likely seen.
            terms = self[word]
        else:
            terms = _chunk_terms(chunk, self.words.__getitem__)
        self._keep(chunk, terms)
        return terms


IndexForm = str | tuple[tuple[str, bool], ...]
"""What indexing needs of a chunk: its one term (the usual chunk, one word),
else each term with whether it shares the previous one's position."""


class _IndexForms(_Cache[IndexForm]):
    """The terms of each chunk as indexing reads them (:data:`IndexForm`): the
    terms of :class:`_Chunks` without offsets, so that a chunk of one word costs
    :meth:`FrenchAnalyzer.term_positions` no tuple to unpack. Offsets aside,
    a chunk and the chunk without its trailing punctuation are one entry's worth."""

    __slots__ = ("words",)

    def __init__(self, words: _Words, size: int) -> None:
        super().__init__(size)
        self.words = words

    def __missing__(self, chunk: str) -> IndexForm:
        word = chunk.rstrip(_TRAILING)
        if word and len(word) < len(chunk):
            form = self[word]
        elif _plain(chunk):  # a word: what _chunk_terms would find, without its tuples
            form = self.words[chunk] or ()
        else:
            terms = _chunk_terms(chunk, self.words.__getitem__)
            if len(terms) == 1 and not terms[0][3]:
                form = terms[0][0]
            else:
                form = tuple((term, same) for term, _, _, same in terms)
        self._keep(chunk, form)
        return form


class _Token(Token):
    """Whoosh's Token with its attributes set one by one: ``Token.__init__``
    goes through ``self.__dict__``, which makes every later attribute store
    slower (CPython then keeps the attributes in a dictionary), and the
    analyser stores two or more per term."""

    def __init__(self, positions: bool, chars: bool, removestops: bool, mode: str, **kwargs: object) -> None:
        self.positions = positions
        self.chars = chars
        self.stopped = False
        self.boost = 1.0
        self.removestops = removestops
        self.mode = mode
        for name, value in kwargs.items():
            setattr(self, name, value)


class FrenchAnalyzer(Analyzer):
    """The French analyser: the terms of a text, for the index and for queries.

    A Whoosh analyser, pickled into the index by name with its settings (the
    stemmer and the cache size, never the cache). Whoosh calls it wherever it
    analyses a field itself (its query parser, highlighter and writer); the
    fast writer calls :meth:`term_positions`. Every method reads the terms of
    whole chunks between spaces from the instance's cache, since news text
    repeats them, and the terms of words from another: at most ``cache_size``
    entries each (default 300,000), each emptied when full. 300,000 chunks
    take about 45 MB; all of OrangeSum's 36,152 bodies hold 165,000 distinct
    words. One instance can serve many threads at once.

    ``stemmer`` takes a folded word of letters (lower case, no accents) and
    gives its stem; it must be picklable (a module-level function). The
    default is Snowball French (:func:`stem`).

    ``join_apostrophes``: a word with an apostrophe that is no elision
    (``prud'hommes``) has the term of the word without it (``prudhommes``).
    An index written before this setting existed unpickles its analyser
    without it, and keeps analysing such words whole, as its terms were made.
    """

    CACHE_SIZE = 300_000

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """An analyser as the first indexes pickled it. They pickled it
        without state, so unpickling them calls neither ``__init__`` nor
        ``__setstate__``, only this: it must analyse as that code did."""
        analyzer: Self = super().__new__(cls)
        analyzer._setup(None, cls.CACHE_SIZE, join_apostrophes=False)
        return analyzer

    def __init__(self, stemmer: Callable[[str], str] | None = None, cache_size: int = CACHE_SIZE,
                 join_apostrophes: bool = True) -> None:
        self._setup(stemmer, cache_size, join_apostrophes)

    def _setup(self, stemmer: Callable[[str], str] | None, cache_size: int, join_apostrophes: bool) -> None:
        if cache_size < 1:
            raise ValueError(f"the analyser's cache needs room for at least one chunk, not {cache_size}")
        self.stemmer = stemmer
        self.cache_size = cache_size
        self.join_apostrophes = join_apostrophes
        stem_letters = stem if stemmer is None else _letters_only(stemmer)
        self.stop_words: frozenset[str] = (
            _SNOWBALL_STOP_WORDS if stemmer is None else frozenset(map(stem_letters, _FOLDED_STOP_WORDS)))
        """The terms of French stop words, by this analyser's stemmer. Other
        words share some of them (``tué`` stems as ``tu``): whether a word of a
        query is a stop word is :meth:`is_stop_word`'s to say."""
        words = _Words(stem_letters, cache_size, join_apostrophes)
        self._chunks = _Chunks(words, cache_size)
        self._index_forms = _IndexForms(words, cache_size)

    def __getstate__(self) -> dict[str, Any]:
        return {"stemmer": self.stemmer, "cache_size": self.cache_size, "join_apostrophes": self.join_apostrophes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["stemmer"], state["cache_size"], state.get("join_apostrophes", False))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.__getstate__() == other.__getstate__()

    def analyse(self, text: str, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
        """Yield (term, start, end, position) for a text.

        Offsets are into the NFC form of ``text`` (articles are stored as NFC,
        so for them it is the text itself). ``query`` drops the joined form of
        hyphenated words, which would break phrase positions.
        """
        chunks = self._chunks
        pos = -1
        offset = 0
        for chunk in nfc(text).split(" "):
            for term, start, end, same in chunks[chunk]:
                if same:
                    if query:
                        continue
                else:
                    pos += 1
                yield term, offset + start, offset + end, pos
            offset += len(chunk) + 1

    def terms(self, text: str) -> list[str]:
        """The terms of a query text, in order: :meth:`analyse`'s with ``query=True``."""
        return [term for term, _, _, same in self._all_terms(text) if not same]

    def typed_terms(self, text: str) -> list[tuple[str, str]]:
        """The terms of a query text (:meth:`terms`), each with the folded word
        typed for it (``tué`` gives ``("tu", "tue")``; the elision left out)."""
        text = nfc(text)
        return [(term, fold(text[start:end])) for term, start, end, _ in self.analyse(text, query=True)]

    @staticmethod
    def is_stop_word(word: str) -> bool:
        """Whether a word as typed (``les``, ``qu’il``, ``Été``) is a French stop
        word. Decided on the folded word, never its stem: stems of real words
        collide with those of stop words (``tué`` and ``tu``, ``faits`` and
        ``fait``, ``San`` and ``sans``, ``parc`` and ``parce``)."""
        folded = fold(nfc(word))
        elided = _ELISION.match(folded)
        return (folded[elided.end():] if elided else folded) in _FOLDED_STOP_SET

    def locate(self, text: str, terms: set[str], prefixes: tuple[str, ...] = ()) -> list[tuple[str, int, int, int]]:
        """What :meth:`analyse` yields for ``text``, kept only for the terms in
        ``terms`` or starting with one of ``prefixes``: highlighting looks for a
        few terms in a long text, and skips building a tuple for every other word."""
        chunks = self._chunks
        found = []
        pos = -1
        offset = 0
        for chunk in nfc(text).split(" "):
            for term, start, end, same in chunks[chunk]:
                if not same:
                    pos += 1
                if term in terms or prefixes and term.startswith(prefixes):
                    found.append((term, offset + start, offset + end, pos))
            offset += len(chunk) + 1
        return found

    def term_positions(self, text: str) -> dict[str, list[int]]:
        """The terms :meth:`analyse` yields for an indexed text, each with its
        positions: indexing needs neither offsets nor one tuple per term."""
        positions: dict[str, list[int]] = {}
        found = positions.get
        pos = -1
        for form in map(self._index_forms.__getitem__, nfc(text).split()):
            if isinstance(form, str):  # one word: the hot path, a term per token
                pos += 1
                where = found(form)
                if where is None:
                    positions[form] = [pos]
                else:
                    where.append(pos)
                continue
            for term, same in form:
                if not same:
                    pos += 1
                where = found(term)
                if where is None:
                    positions[term] = [pos]
                else:
                    where.append(pos)
        return positions

    def _all_terms(self, text: str) -> Iterator[Term]:
        """The terms of every chunk of ``text`` in turn, offsets into the chunks.
        Without offsets to count, chunks can end at any white space, which no
        token contains either."""
        return chain.from_iterable(map(self._chunks.__getitem__, nfc(text).split()))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        """Whoosh's analyser interface. Like Whoosh's own tokenizers it yields
        one Token, updated for each term (callers copy what they keep)."""
        token = _Token(positions, chars, removestops, mode, **kwargs)
        if not tokenize:
            token.text = fold(nfc(value))
            if keeporiginal:
                token.original = value
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            return iter((token,))
        if chars or keeporiginal:
            return self._located_tokens(token, value, start_pos, start_char, keeporiginal, mode == "query")
        return self._tokens_only(token, value, start_pos, mode == "query")

    def _tokens_only(self, token: Token, value: str, start_pos: int, query: bool) -> Iterator[Token]:
        """The tokens without character offsets, as indexing asks for them:
        a dictionary look-up per chunk and two stores per term."""
        positions = token.positions
        pos = start_pos - 1
        for term, _, _, same in self._all_terms(value):
            if same:
                if query:
                    continue
            else:
                pos += 1
            token.text = term
            if positions:
                token.pos = pos
            yield token

    def _located_tokens(
        self, token: Token, value: str, start_pos: int, start_char: int, keeporiginal: bool, query: bool,
    ) -> Iterator[Token]:
        """The tokens with their character offsets, as highlighting asks for
        them: :meth:`analyse`'s terms, one token updated for each."""
        positions, chars = token.positions, token.chars
        for term, start, end, pos in self.analyse(value, query):
            token.text = term
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


STOP_WORDS = _SNOWBALL_STOP_WORDS
"""The stop words' terms under the default stemmer (an analyser's own: ``stop_words``)."""
