"""Planning: a frozen plan of what to look up, bounded whatever is typed."""

import dataclasses
import random

import pytest

from searchengine.plan import (
    MAX_EXPANDED_TERMS,
    MAX_PHRASE_TERMS,
    MAX_PREFIX_TERMS,
    MAX_TYPO_CHARS,
    plan_query,
    typo_count,
)
from searchengine.queries import parse_query
from searchengine.ranking import RankingSettings

from .conftest import indexed, stems


@pytest.fixture
def snapshot(news):
    return news._current()


def plan(snapshot, text, **settings):
    return plan_query(parse_query(text), snapshot, snapshot.analyzer, RankingSettings(**settings))


def test_a_plan_is_frozen_and_holds_what_ranking_and_results_need(snapshot):
    made = plan(snapshot, 'Poutinne "Corée du Nord" la missil* -Trump')
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.groups = ()
    poutine, phrase, prefix = made.groups
    assert poutine.exact[0].terms == ("poutinn",) and poutine.corrected[0].terms == ("poutin",)
    assert phrase.exact[0].phrase and phrase.exact[0].terms == ("core", "du", "nord")
    assert "missil" in prefix.exact[0].terms
    assert [t.terms for t in made.light] == [("la",)]
    assert [t.terms for t in made.excluded] == [("trump",)]
    assert made.corrections == (("Poutinne", "poutin"),)
    assert "poutin" in made.highlighter.terms and made.highlighter.prefixes == ("missil",)


def test_planning_twice_gives_equal_plans(snapshot):
    assert plan(snapshot, "Kim Poutinne nucl*") == plan(snapshot, "Kim Poutinne nucl*")


def test_no_typo_is_looked_for_in_an_overlong_word(snapshot):
    word = "poutine" * (MAX_TYPO_CHARS // 7 + 1)
    assert len(word) > MAX_TYPO_CHARS
    (group,) = plan(snapshot, word).groups
    assert group.corrected == ()
    (group,) = plan(snapshot, "x" * 10_000).groups
    assert group.corrected == ()


def test_a_phrase_is_matched_on_its_first_words(snapshot):
    (group,) = plan(snapshot, "-".join(f"mot{n}" for n in range(2_000))).groups
    assert len(group.exact[0].terms) == MAX_PHRASE_TERMS


def test_prefixes_expand_to_a_bounded_number_of_words(snapshot):
    made = plan(snapshot, " OR ".join(f"{a}{b}*" for a in "abcdefghij" for b in "aeiouy"))
    expanded = sum(len(t.terms) for g in made.groups for t in g.exact)
    assert 0 < expanded <= MAX_EXPANDED_TERMS
    assert all(len(t.terms) <= MAX_PREFIX_TERMS for g in made.groups for t in g.exact)


def test_a_pasted_paragraph_is_one_tier_of_its_rarest_words(snapshot):
    text = " ".join(["Vladimir Poutine rencontre Kim Jong-un à Vladivostok pour parler de missiles"] * 3)
    made = plan(snapshot, text)
    assert not made.tiered
    assert len(made.groups[0].exact) <= RankingSettings().rare_terms


@pytest.mark.parametrize(("a", "b", "typos"), [
    ("macron", "macorn", 1), ("macron", "macon", 1), ("macron", "macrons", 1), ("macron", "makron", 1),
    ("castan", "castald", 2), ("abcd", "badc", 2), ("ca", "abc", 3), ("", "abc", 3), ("poutin", "poutin", 0),
])
def test_a_swap_of_neighbours_is_one_typo(a, b, typos):
    assert typo_count(a, b) == typos == typo_count(b, a)


def test_a_swapped_pair_of_letters_finds_the_name_and_suggests_it(tmp_path):
    records = [(f"macron{n}", f"Emmanuel Macron, jour {n}", "Le président Macron a parlé.") for n in range(3)]
    records.append(("macon", "Fête du vin à Mâcon", "Les vignerons de Mâcon fêtent le vin nouveau."))
    with indexed(tmp_path, records) as engine:
        results = engine.search("Macorn")
        assert results.suggestion == "Macron"
        assert set(stems(results)[:3]) == {"macron0", "macron1", "macron2"}
        assert stems(results)[3] == "macon"


def test_a_nearer_spelling_outranks_a_farther_one(tmp_path):
    records = [
        ("typed", "Un nom rare", "Arnaud Montebourgh, écrit ainsi, une seule fois."),
        ("near", "Un ministre", "Arnaud Montebourg défend le made in France devant les patrons."),
        ("far", "Un village", "Montabourg, village du Cher, fête son pain."),
    ]
    with indexed(tmp_path, records) as engine:
        results = engine.search("Montebourgh")
        assert results.suggestion is None  # the word exists as typed: no spelling is as frequent as to replace it
        assert stems(results) == ["typed", "near", "far"]
        snapshot = engine._current()
        (group,) = plan(snapshot, "Montebourgh").groups
        weights = {t.terms[0]: t.weight for t in group.corrected}
        assert weights["montebourg"] > weights["montabourg"] > 0


def test_the_articles_of_a_correction_rank_above_rarer_close_spellings(tmp_path):
    """Castanner: Castaner (one typo) is meant, not Castaldi (two), whose
    rarity and title would rank it first."""
    records = [(f"castaner{n}", f"Sécurité, semaine {n}", "Le ministre Christophe Castaner répond aux syndicats "
                f"de police, semaine {n}.") for n in range(3)]
    records.append(("castaldi", "Benjamin Castaldi", "Benjamin Castaldi quitte la télévision. Castaldi l'annonce."))
    with indexed(tmp_path, records) as engine:
        results = engine.search("Castanner")
        assert results.suggestion == "Castaner"
        assert set(stems(results)[:3]) == {"castaner0", "castaner1", "castaner2"}
        assert stems(results)[3] == "castaldi"


def test_a_correction_ranks_above_the_few_articles_holding_the_word_as_typed(tmp_path):
    """Benala: a word in one article, one typo from a name in many, is a typo
    of that name: its articles come first, the article as typed after them."""
    records = [(f"benalla{n}", f"Affaire Benalla, épisode {n}", f"Alexandre Benalla entendu par les juges ({n}).")
               for n in range(12)]
    records.append(("benala", "Un imam à Paris", "Le recteur Benala accueille les fidèles privés de salle."))
    with indexed(tmp_path, records) as engine:
        results = engine.search("Benala", limit=20)
        assert results.suggestion == "Benalla"
        assert set(stems(results)[:12]) == {f"benalla{n}" for n in range(12)}
        assert stems(results)[12] == "benala"
        assert "Benalla" in results.hits[0].title
        # Among other words, an article holding the word as typed with all of them comes first.
        among = engine.search("recteur Benala")
        assert among.suggestion == "recteur Benalla" and stems(among)[0] == "benala"


def test_the_typo_search_finds_exactly_the_words_within_its_typos():
    """The automaton read over the index's words accepts a word if and only
    if it shares the first letter and is within the typos allowed."""
    from searchengine.engine import _typo_automaton

    rng = random.Random(7)
    for _ in range(200):
        word = "".join(rng.choices("abc", k=rng.randint(1, 7)))
        other = "".join(rng.choices("abc", k=rng.randint(1, 8)))
        for distance in (1, 2):
            expected = other[:1] == word[:1] and typo_count(word, other) <= distance
            assert _typo_automaton(word, distance).accept(other) == expected, (word, other, distance)


def test_close_spellings_are_every_word_of_the_field_within_the_typos(snapshot):
    """The walk over the term table skips no word the automaton accepts."""
    reader = snapshot.arrays.reader
    for field in ("title", "body"):
        words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in reader.lexicon(field)]
        for typed in ("poutinn", "macorn", "missil", "vladivostk", "syndicst", "rencontr", "zelenksi"):
            for distance in (1, 2):
                expected = {w for w in words if w[:1] == typed[:1] and typo_count(typed, w) <= distance}
                assert set(snapshot.terms_within(field, typed, distance)) == expected, (field, typed)
