"""A light French stemmer after Jacques Savoy's algorithm (the one Lucene calls
FrenchLightStemmer), written for folded words: lower case, no accents.

Light means it only strips plurals, feminine and a few derivational endings
(-ement, -ateur, -ation ...), then trims a final r/e/doubled letter, instead of
Snowball's full suffix analysis. The relevance benchmark indexes with
:func:`light_analyzer` to compare the two. Run this file to see the terms the
light analyser gives words:

    python benchmarks/lightstem.py chevaux rapidement Élections
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from searchengine.analysis import FrenchAnalyzer

_DOUBLED = re.compile(r"([a-z])\1+")


def _finish(word: str) -> str:
    """The common ending: collapse doubled letters, drop -ie, a final r, up to
    two final e and a last doubled letter (only on words longer than four)."""
    if len(word) > 4:
        word = _DOUBLED.sub(r"\1", word)
    if len(word) > 4 and word.endswith("ie"):
        word = word[:-2]
    if len(word) > 4:
        for letter in "ree":
            if word.endswith(letter):
                word = word[:-1]
        if len(word) > 1 and word[-1] == word[-2]:
            word = word[:-1]
    return word


# (longer than, ending, replacement): the first that applies ends the stemming.
_FINAL_RULES = (
    (9, "issement", "ir"),
    (8, "issant", "ir"),
)
_AGENT_RULES = (
    (11, "ficatrice", "fier"),
    (10, "ficateur", "fier"),
    (9, "catrice", "quer"),
    (8, "cateur", "quer"),
    (8, "atrice", "er"),
    (7, "ateur", "er"),
)
_MIDDLE_RULES = (
    (5, "ieme", ""),
    (7, "teuse", "ter"),
    (6, "teur", "ter"),
    (5, "euse", "eu"),
    (8, "ere", "er"),
    (7, "ive", "if"),
    (4, "folle", "fou"),
    (4, "molle", "mou"),
    (9, "nnelle", "n"),
    (9, "nnel", "n"),
)
_LAST_RULES = (
    (8, "esse", "e"),
    (7, "inage", "in"),
    (9, "isateur", ""),
    (8, "ation", ""),
    (8, "ition", ""),
)


def _apply(word: str, rules: tuple[tuple[int, str, str], ...]) -> str | None:
    for longer_than, ending, replacement in rules:
        if len(word) > longer_than and word.endswith(ending):
            return word[: len(word) - len(ending)] + replacement
    return None


def light_stem(word: str) -> str:
    """Stem one folded French word (``chevaux`` -> ``cheval``, ``rapidement`` -> ``rapid``)."""
    # Plurals: -aux becomes -al (but not -eaux), then a final x or s goes.
    if len(word) > 5 and word.endswith("x"):
        if word.endswith("aux") and word[-4] != "e":
            word = word[:-3] + "al"
        else:
            word = word[:-1]
    if len(word) > 3 and word[-1] in "xs":
        word = word[:-1]

    if (done := _apply(word, _FINAL_RULES)) is not None:
        return _finish(done)
    if len(word) > 6 and word.endswith("ement"):
        word = word[:-4]
        if len(word) > 3 and word.endswith("ive"):
            word = word[:-2] + "f"
        return _finish(word)
    if (done := _apply(word, _AGENT_RULES)) is not None:
        return _finish(done)
    if len(word) > 6 and word.endswith("trice"):
        word = word[:-5] + "teur"  # and on: -teur below makes it -ter
    if (done := _apply(word, _MIDDLE_RULES)) is not None:
        return _finish(done)
    if len(word) > 4 and word.endswith("ete"):
        word = word[:-3] + "et"
    if len(word) > 8 and word.endswith("ique"):
        word = word[:-4]
    if len(word) > 9 and word.endswith("isation"):
        word = word[:-7]
        if len(word) > 5 and word.endswith("ual"):
            word = word[:-2] + "el"
        return _finish(word)
    if (done := _apply(word, _LAST_RULES)) is not None:
        return _finish(done)
    return _finish(word)


def light_analyzer() -> FrenchAnalyzer:
    """Our analyser with this stemmer in place of Snowball. An index made with
    it pickles the stemmer as ``lightstem.light_stem``: whoever opens the index
    imports this module by that name."""
    from searchengine.analysis import FrenchAnalyzer

    return FrenchAnalyzer(stemmer=light_stem)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The terms the light analyser gives each word.")
    parser.add_argument("words", nargs="+", help="French words, accents and capitals allowed")
    analyzer = light_analyzer()
    for word in parser.parse_args().words:
        print(word, " ".join(analyzer.terms(word)))
