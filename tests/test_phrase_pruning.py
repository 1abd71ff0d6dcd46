"""Phrases ranked top-k: positions are read only where an article may still
reach the page, and the page is the one full scoring gives; past
``track_total_hits`` matches the total is "at least"."""

import json
import random

import pytest

from searchengine import RankingSettings, SearchEngine, ranking
from searchengine.cli import cli

from .generated import articles, index_twice

COMMON_PHRASES = ("il y a", "il a été", "la France insoumise", "président de la République", "il y a eu",
                  "qu'il y a", "de la", "il a", "a été", "ne pas", "est de la", "le la")
"""Phrases of common words: the first five written into many articles, the others
found by chance, like most runs of words that articles hold apart."""
WORDS = ("grève gouvernement réforme retraites président ministre élection budget hôpital police justice "
         "incendie forêt canicule prix inflation Macron Marseille football festival").split()


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """Generated articles in two segments, some replaced, some copied under
    other ids (duplicates to fold, whose phrases are checked too)."""
    folder = tmp_path_factory.mktemp("phrases")
    records = articles(1100, seed=23)
    rng = random.Random(5)
    for record in records:  # real phrases, from once to a few times, where a random text holds their words apart
        if rng.random() < 0.6:
            words = record["body"].split()
            for _ in range(rng.choice((1, 1, 2, 4))):
                words.insert(rng.randrange(len(words) + 1), rng.choice(COMMON_PHRASES[:5]))
            record["body"] = " ".join(words)
    records += [{**r, "id": f"copy-{n}", "title": r["title"] + " (suite)"}
                for n, r in enumerate(records[:1100:12]) if len(r["body"].split()) >= 40]
    return index_twice(folder, records, 700, 29, " Il a été de la partie."), records


def _runs(records, rng):
    """A run of 2 to 4 words of an article, as typed."""
    while True:
        words = rng.choice(records)[rng.choice(("title", "body", "body"))].split()
        size = rng.randint(2, 4)
        if len(words) >= size:
            start = rng.randrange(len(words) - size + 1)
            return " ".join(w.strip(".!?:") for w in words[start:start + size])


def _queries(records, count, seed):
    """Phrases alone, phrases with words (required, excluded, alternatives),
    two phrases, phrases in one field, with filters and pages."""
    rng = random.Random(seed)
    for _ in range(count):
        phrase = f'"{rng.choice(COMMON_PHRASES) if rng.random() < 0.7 else _runs(records, rng)}"'
        shape = rng.random()
        if shape < 0.35:
            query = phrase
        elif shape < 0.55:
            query = f"{phrase} {' '.join(rng.sample(WORDS, rng.randint(1, 2)))}"
        elif shape < 0.62:
            query = f"{phrase} +{rng.choice(WORDS)}"
        elif shape < 0.69:
            query = f"{phrase} -{rng.choice(WORDS)}"
        elif shape < 0.76:
            query = f'{phrase} "{rng.choice(COMMON_PHRASES)}"'
        elif shape < 0.83:
            query = f"{phrase} OR {rng.choice(WORDS)}"
        elif shape < 0.9:
            query = f"title:{phrase}" if rng.random() < 0.5 else f"body:{phrase} {rng.choice(WORDS)}"
        else:
            query = f'{rng.choice(WORDS)} {phrase} -"{rng.choice(COMMON_PHRASES)}"'
        options = {"limit": rng.choice((1, 3, 10, 10, 20)), "page": rng.choice((1, 1, 1, 2, 4))}
        if rng.random() < 0.15:
            options["since"] = "2020-01-01"
        if rng.random() < 0.1:
            options["source"] = "AFP"
        if rng.random() < 0.1:
            options["collapse"] = False
        yield query, options


def _compare(path, queries, least, each=lambda: None):
    """(query, options) whose pages differ between the phrase path (counting
    ``least`` matches) and full scoring, or whose totals break the rules: exact
    where said exact, else at most the full total and at least ``least``
    matches. ``each`` is called before each query's phrase path."""
    differ = []
    pruned_settings = RankingSettings(prune_postings=0, track_total_hits=least)
    with (SearchEngine(path, settings=pruned_settings) as pruned,
          SearchEngine(path, settings=RankingSettings(prune_postings=-1)) as full):
        for query, options in queries:
            each()
            a, b = pruned.search(query, **options), full.search(query, **options)
            assert b.total_exact
            same_page = [(h.id, h.score, h.duplicates) for h in a] == [(h.id, h.score, h.duplicates) for h in b]
            if a.total_exact:
                counts = (a.total, a.folded) == (b.total, b.folded)
            else:
                counts = (a.total <= b.total and a.folded <= b.folded
                          and least <= a.total + a.folded <= b.total + b.folded)
            if not (same_page and counts):
                differ.append((query, options))
    return differ


def test_phrase_pages_equal_full_scoring(collection, monkeypatch):
    path, records = collection
    queries = list(_queries(records, 300, seed=7))
    checked, skipped = [], []
    settle = ranking._PhraseWalk.settle

    def counting(self, docs):
        checked[-1] += len(docs)
        return settle(self, docs)

    monkeypatch.setattr(ranking._PhraseWalk, "settle", counting)
    walk = ranking._PhraseWalk.__init__

    def noting(self, *args):
        walk(self, *args)
        skipped[-1] = int(self.pending.sum())

    monkeypatch.setattr(ranking._PhraseWalk, "__init__", noting)

    def each():
        checked.append(0)
        skipped.append(0)

    assert _compare(path, queries, 0, each) == []
    walked = [(c, s) for c, s in zip(checked, skipped, strict=True) if s]
    # The phrase path ran on most queries, and checked a small share of the articles that might match.
    assert len(walked) > len(queries) / 2
    assert sum(c < s / 4 for c, s in walked) > len(queries) / 5
    assert _compare(path, queries, 40) == []
    with SearchEngine(path, settings=RankingSettings(track_total_hits=40)) as engine:
        found = [engine.search(q, **o) for q, o in queries]
    assert sum(not r.total_exact for r in found) > 50  # counts stopped
    assert sum(r.total_exact and r.total > 40 for r in found) > 20  # and did not (no phrase to check, or few)
    assert sum(r.folded > 0 for r in found) > 20  # duplicates were folded on the way


def test_phrases_alone_scored_on_their_documents_score_as_on_every_document(collection, monkeypatch):
    """Pages, scores to the last bit, and totals, of phrases scored on the
    documents that may hold them alone (as far as half the index) and on every one."""
    path, records = collection
    queries = [(q, o) for q, o in _queries(records, 200, seed=11)]
    restricted = []
    first_pass = ranking._first_pass

    def noting(arrays, plan, settings, space=None):
        restricted.append(isinstance(space, ranking._PhraseSpace) and space.places is not None)
        return first_pass(arrays, plan, settings, space)

    monkeypatch.setattr(ranking, "_first_pass", noting)
    for settings in (RankingSettings(), RankingSettings(prune_postings=-1)):
        with SearchEngine(path, settings=settings) as engine:
            some = [engine.search(q, **o) for q, o in queries]
            with monkeypatch.context() as everywhere:
                everywhere.setattr(ranking, "_PHRASE_SHARE", 10**9)
                every = [engine.search(q, **o) for q, o in queries]
        assert [(r.total, r.total_exact, [(h.id, h.score) for h in r]) for r in some] == \
            [(r.total, r.total_exact, [(h.id, h.score) for h in r]) for r in every]
    assert sum(restricted) > 50


def test_a_bound_too_low_changes_pages(collection, monkeypatch):
    """The comparison above can fail: with the best unchecked article's bound
    halved when the walk decides to stop, pages differ."""
    before = ranking._PhraseWalk._before

    def lowered(self, a, b):
        kept = self.score[b]
        self.score[b] = kept * 0.5
        try:
            return before(self, a, b)
        finally:
            self.score[b] = kept

    monkeypatch.setattr(ranking._PhraseWalk, "_before", lowered)
    path, records = collection
    assert _compare(path, list(_queries(records, 100, seed=7)), 0)


def test_the_cli_says_at_least_where_counting_stopped(collection, runner, monkeypatch):
    path, _ = collection
    settings = RankingSettings(track_total_hits=30)
    monkeypatch.setattr("searchengine.engine.RankingSettings", lambda: settings)
    with SearchEngine(path, settings=RankingSettings(prune_postings=-1)) as full:
        total = full.search('"il y a"').total
    result = runner.invoke(cli, ["query", '"il y a"', "--index-dir", str(path), "--color", "never"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("at least ") and "articles match '\"il y a\"' (showing 1-10)" in first
    assert int(first.split()[2]) < total
    doc = json.loads(runner.invoke(cli, ["query", '"il y a"', "--index-dir", str(path), "--json"]).output)
    assert doc["total_exact"] is False and 30 <= doc["total"] + doc["folded"] < total
    doc = json.loads(runner.invoke(cli, ["query", "grève", "--index-dir", str(path), "--json"]).output)
    assert doc["total_exact"] is True


def test_facets_count_every_match_of_a_phrase(collection):
    path, _ = collection
    with (SearchEngine(path, settings=RankingSettings(track_total_hits=30)) as engine,
          SearchEngine(path, settings=RankingSettings(prune_postings=-1)) as full):
        counted = engine.search('"il y a"', facets=True)
        expected = full.search('"il y a"', facets=True)
        assert counted.total_exact and counted.total == expected.total
        assert counted.facets == expected.facets
        assert not engine.search('"il y a"').total_exact


def test_an_index_without_bigrams_ranks_phrases_top_k_too(collection, tmp_path, monkeypatch):
    """An index built before bigrams existed checks a phrase word by word: the
    same walk, the same pages as full scoring, and the same "at least"."""
    from searchengine import indexing

    _, records = collection
    source = tmp_path / "news.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records[:600]), encoding="utf-8")
    with monkeypatch.context() as older:
        older.setattr(indexing, "gram_fields", lambda *args: {})  # the schema of older code
        with SearchEngine(tmp_path / "old") as engine:
            engine.index([source])
    with SearchEngine(tmp_path / "old") as engine:
        assert not [n for n in engine._current().arrays.searcher.schema.names() if n.endswith("_grams")]
    queries = [(q, {}) for q in ('"il y a"', '"la France insoumise"', '"il y a" grève', '"de la" police')]
    assert _compare(tmp_path / "old", queries, 20) == []
    with SearchEngine(tmp_path / "old", settings=RankingSettings(track_total_hits=20)) as engine:
        assert not engine.search('"il y a"').total_exact
