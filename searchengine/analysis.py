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

import Stemmer
from unidecode import unidecode
from whoosh.analysis import Analyzer, Token

__all__ = ["FrenchAnalyzer", "Term", "STOP_WORDS", "analyse", "fold", "stem", "term_positions"]

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
_ELISION = re.compile(
    r"(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu|presqu)['’ʼ](?=[aeiouyhàâäéèêëîïôöùûüÿœæ])",
    re.IGNORECASE,
)
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})
_STEMMER = Stemmer.Stemmer("french")

# A term and where it came from: (text, start, end, same_position_as_previous).
Term = tuple[str, int, int, bool]


def fold(word: str) -> str:
    """Lower-case and strip accents and ligatures, the form every term starts from."""
    return unidecode(word.translate(_APOSTROPHES)).lower().replace(" ", "")


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


def _words(chunk: str, offset: int) -> Iterator[Term]:
    """Terms of one chunk without dots: elision first, then hyphenated parts."""
    elided = _ELISION.match(chunk)
    if elided:
        offset += elided.end()
        chunk = chunk[elided.end():]
    parts = [(m.start(), m.end()) for m in re.finditer(r"[^-‐‑]+", chunk)]
    if len(parts) == 1:
        term = stem(fold(chunk))
        if term:
            yield term, offset, offset + len(chunk), False
        return
    for start, end in parts:
        term = stem(fold(chunk[start:end]))
        if term:
            yield term, offset + start, offset + end, False
    joined = stem(fold(_HYPHEN.sub("", chunk)))
    if joined:
        yield joined, offset, offset + len(chunk), True


@lru_cache(maxsize=400_000)
def analyse_token(raw: str) -> tuple[Term, ...]:
    """All the terms of one raw token, with offsets relative to the token.

    Cached: news text repeats the same few thousand words, so most tokens cost
    one dictionary look-up.
    """
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
    hyphenated words, which would break phrase positions.
    """
    text = nfc(text)
    pos = -1
    for match in _tokens(text).finditer(text):
        raw = match.group()
        if raw[-1] in _TRAILING:
            raw = raw.rstrip(_TRAILING)
            if not raw:
                continue
        base = match.start()
        for term, start, end, same in analyse_token(raw):
            if same:
                if query:
                    continue
            else:
                pos += 1
            yield term, base + start, base + end, pos


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


class FrenchAnalyzer(Analyzer):
    """Whoosh analyser over :func:`analyse`; pickled into the index by name."""

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
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost = 1.0
        token.stopped = False
        if not tokenize:
            terms: Iterator[tuple[str, int, int, int]] = iter([(fold(nfc(value)), 0, len(value), 0)])
        else:
            terms = analyse(value, query=mode == "query")
        for term, start, end, pos in terms:
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
