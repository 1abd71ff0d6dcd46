"""Planning: a frozen plan of what to look up, bounded whatever is typed."""

import dataclasses

import pytest

from searchengine.plan import MAX_EXPANDED_TERMS, MAX_PHRASE_TERMS, MAX_PREFIX_TERMS, MAX_TYPO_CHARS, plan_query
from searchengine.queries import parse_query
from searchengine.ranking import RankingSettings


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
    assert poutine.exact[0].terms == ("poutin",) and poutine.corrected[0].terms == ("poutinn",)
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
