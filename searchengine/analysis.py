"""The French analyser: what a piece of French text means to the index.

Index and queries go through the same function, so whatever is conflated here
(case, accents, elisions, plurals) is conflated on both sides. Every word keeps
a position and its character range in the original text: positions make
phrases exact, ranges put highlights on whole original words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from itertools import chain

import Stemmer
from unidecode import unidecode
from whoosh.analysis import Analyzer, Token

__all__ = [
    "FrenchAnalyzer", "Term", "STOP_WORDS", "analyse", "clear_caches", "fold", "locate", "stem", "term_positions",
]

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
_STEMMER = Stemmer.Stemmer("french")
# Terms are cached by word here; PyStemmer's own cache would only add a second look-up.
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
    return _STEMMER.stemWord(folded)


def _load_stop_words() -> frozenset[str]:
    text = resources.files("searchengine.data").joinpath("stopwords_fr.txt").read_text("utf-8")
    words = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(stem(fold(w)) for w in words if w)


def _plain(word: str) -> bool:
    """Letters only, so no rule on elisions, hyphens, dots or digits applies
    (Python counts the apostrophe ʼ as a letter)."""
    return word.isalpha() and "ʼ" not in word


def _term(word: str) -> str:
    """The term of one word without dots or hyphens ("" for none). Plain words
    come from :func:`analyse_token`'s cache: the words of glued sentences,
    elisions and hyphenated words are mostly words seen on their own."""
    if _plain(word):
        found = analyse_token(word)
        return found[0][0] if found else ""
    return stem(fold(word))


def _words(chunk: str, offset: int) -> Iterator[Term]:
    """Terms of one chunk without dots: elision first, then hyphenated parts."""
    elided = _ELISION.match(chunk)
    if elided:
        offset += elided.end()
        chunk = chunk[elided.end():]
    if not _HYPHEN.search(chunk):
        term = _term(chunk)
        if term:
            yield term, offset, offset + len(chunk), False
        return
    for start, end in (m.span() for m in _PARTS.finditer(chunk)):
        term = _term(chunk[start:end])
        if term:
            yield term, offset + start, offset + end, False
    joined = _term(_HYPHEN.sub("", chunk))
    if joined:
        yield joined, offset, offset + len(chunk), True


@lru_cache(maxsize=400_000)
def analyse_token(raw: str) -> tuple[Term, ...]:
    """All the terms of one raw token, with offsets relative to the token.

    Cached: news text repeats the same few thousand words, so most tokens cost
    one dictionary look-up.
    """
    if _plain(raw):
        term = stem(fold(raw))
        return ((term, 0, len(raw), False),) if term else ()
    first = raw[0]
    if first in "@#" or "://" in raw or raw.startswith("www.") or "@" in raw:
        return ((fold(raw), 0, len(raw), False),)
    if _ACRONYM.fullmatch(raw):
        return ((fold(raw.replace(".", "")), 0, len(raw), False),)
    if _NUMBER.fullmatch(raw):
        return ((raw.replace(",", "."), 0, len(raw), False),)
    if "." not in raw and "," not in raw:
        return tuple(_words(raw, 0))
    terms: list[Term] = []
    start = 0
    for piece in _SENTENCE_BREAK.split(raw):
        if piece:
            terms.extend(_words(piece, start))
        start += len(piece) + 1
    return tuple(terms)


def _tokens(text: str) -> re.Pattern[str]:
    """The token pattern for ``text``: words only when nothing in it can start a
    URL, an address or a tag, which finds the same tokens about twice as fast
    (the address alternative otherwise backtracks over every word)."""
    if "@" in text or "#" in text or "://" in text or "www." in text:
        return _TOKEN
    return _PLAIN_TOKEN


def analyse(text: str, query: bool = False) -> Iterator[tuple[str, int, int, int]]:
    """Yield (term, start, end, position) for a text.

    Offsets are into the NFC form of ``text`` (articles are stored as NFC, so
    for them it is the text itself). ``query`` drops the joined form of
    hyphenated words, which would break phrase positions. The terms of each
    chunk between spaces come from a cache (see :class:`_ChunkCache`).
    """
    pos = -1
    offset = 0
    for chunk in nfc(text).split(" "):
        for term, start, end, same in _CHUNKS[chunk]:
            if same:
                if query:
                    continue
            else:
                pos += 1
            yield term, offset + start, offset + end, pos
        offset += len(chunk) + 1


def locate(text: str, terms: set[str], prefixes: tuple[str, ...] = ()) -> list[tuple[str, int, int, int]]:
    """What :func:`analyse` yields for ``text``, kept only for the terms in
    ``terms`` or starting with one of ``prefixes``: highlighting looks for a
    few terms in a long text, and skips building a tuple for every other word."""
    found = []
    pos = -1
    offset = 0
    for chunk in nfc(text).split(" "):
        for term, start, end, same in _CHUNKS[chunk]:
            if not same:
                pos += 1
            if term in terms or prefixes and term.startswith(prefixes):
                found.append((term, offset + start, offset + end, pos))
        offset += len(chunk) + 1
    return found


def _scan(text: str) -> Iterator[tuple[str, int, int, bool]]:
    """The terms of an NFC text found by the token pattern, as (term, start,
    end, same position as the previous term)."""
    for match in _tokens(text).finditer(text):
        raw = match.group()
        if raw[-1] in _TRAILING:
            raw = raw.rstrip(_TRAILING)
            if not raw:
                continue
        base = match.start()
        for term, start, end, same in analyse_token(raw):
            yield term, base + start, base + end, same


_INDEX_CACHE: dict[str, str | tuple[tuple[str, int], ...]] = {}
_INDEX_CACHE_SIZE = 200_000


def _index_terms(raw: str) -> str | tuple[tuple[str, int], ...]:
    """The terms of one raw token match for :func:`term_positions`, cached by the
    match: the term itself for the usual one-word token, else (term, position
    step) pairs."""
    word = raw.rstrip(_TRAILING) if raw[-1] in _TRAILING else raw
    # Past analyse_token's own cache, which would hold every token a second time.
    pairs = tuple((term, 0 if same else 1) for term, _, _, same in analyse_token.__wrapped__(word)) if word else ()
    terms = pairs[0][0] if len(pairs) == 1 and pairs[0][1] else pairs
    if len(_INDEX_CACHE) >= _INDEX_CACHE_SIZE:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[raw] = terms
    return terms


def term_positions(text: str) -> dict[str, list[int]]:
    """The terms :func:`analyse` yields for an indexed text, each with its positions.

    Indexing needs neither offsets nor one tuple per token, and news text is
    mostly words seen before: one dictionary look-up per token instead.
    """
    text = nfc(text)
    positions: dict[str, list[int]] = {}
    found = positions.get
    cached = _INDEX_CACHE.get
    pos = -1
    for raw in _tokens(text).findall(text):
        terms = cached(raw)
        if terms is None:
            terms = _index_terms(raw)
        if isinstance(terms, str):
            pos += 1
            where = found(terms)
            if where is None:
                positions[terms] = [pos]
            else:
                where.append(pos)
            continue
        for term, step in terms:
            pos += step
            where = found(term)
            if where is None:
                positions[term] = [pos]
            else:
                where.append(pos)
    return positions


def nfc(text: str) -> str:
    """Compose accents so offsets computed on the text are offsets in what is stored."""
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _chunk_terms(chunk: str) -> tuple[Term, ...]:
    """The terms :func:`analyse` finds in one chunk of text between spaces,
    with offsets into the chunk.

    No token spans a space or depends on the text before it, so a text's terms
    are those of its chunks in turn.
    """
    word = chunk.rstrip(_TRAILING)
    if _plain(word):
        # The usual chunk, a word and maybe punctuation: the word's own cached terms.
        return analyse_token(word)
    token = _tokens(word).match(word) if word else None
    if token and token.end() == len(word):
        # One token (l'État, 3,5, nord-coréen) with maybe punctuation: its cached terms too.
        return analyse_token(word)
    return tuple(_scan(chunk))


class _ChunkCache(dict[str, tuple[Term, ...]]):
    """The terms of each chunk of text between spaces, made on first look-up and
    kept for short chunks: news text repeats the same words with the same
    punctuation, so most chunks cost one look-up."""

    SIZE = 300_000
    LONGEST = 40

    def __missing__(self, chunk: str) -> tuple[Term, ...]:
        terms = _chunk_terms(chunk)
        if len(chunk) <= self.LONGEST:
            if len(self) >= self.SIZE:
                self.clear()
            self[chunk] = terms
        return terms


_CHUNKS = _ChunkCache()


def clear_caches() -> None:
    """Forget every cached analysis, for benchmarks that time a cold start or
    swap the stemmer."""
    analyse_token.cache_clear()
    _INDEX_CACHE.clear()
    _CHUNKS.clear()


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
    """Whoosh analyser giving the terms of :func:`analyse`; pickled into the
    index by name.

    Whoosh calls it wherever it analyses a field itself (its query parser,
    highlighter and writer; the fast writer uses :func:`term_positions`). Like
    Whoosh's own tokenizers it yields one Token, updated for each term (callers
    copy what they keep), and it takes the terms of whole chunks between spaces
    from a cache, since news text repeats them.
    """

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
            return _located_tokens(token, value, start_pos, start_char, keeporiginal, mode == "query")
        return _tokens_only(token, value, start_pos, mode == "query")


def _tokens_only(token: Token, value: str, start_pos: int, query: bool) -> Iterator[Token]:
    """The analyser's tokens without character offsets, as indexing asks for
    them: a dictionary look-up per chunk and two stores per term.

    Without offsets to count, chunks can end at any white space, which no
    token contains either.
    """
    positions = token.positions
    pos = start_pos - 1
    for term, _, _, same in chain.from_iterable(map(_CHUNKS.__getitem__, nfc(value).split())):
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
    token: Token, value: str, start_pos: int, start_char: int, keeporiginal: bool, query: bool,
) -> Iterator[Token]:
    """The analyser's tokens with their character offsets, as highlighting asks
    for them: :func:`analyse`'s terms, one token updated for each."""
    positions, chars = token.positions, token.chars
    for term, start, end, pos in analyse(value, query):
        token.text = term
        if keeporiginal:
            token.original = value[start:end]
        if positions:
            token.pos = start_pos + pos
        if chars:
            token.startchar = start_char + start
            token.endchar = start_char + end
        yield token


STOP_WORDS = _load_stop_words()
