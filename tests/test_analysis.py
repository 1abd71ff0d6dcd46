"""The French analyser, as a reader of French would judge it."""

import copyreg
import io
import pickle
import sys
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from whoosh.analysis import LanguageAnalyzer

import searchengine.analysis
from searchengine import SearchEngine
from searchengine.analysis import STOP_WORDS, FrenchAnalyzer, _scan, _unapostrophed, fold, nfc, stem
from searchengine.indexing import INDEX_NAME, make_schema

from .conftest import needs_shared, write_article

_ANALYZER = FrenchAnalyzer()
analyse = _ANALYZER.analyse
locate = _ANALYZER.locate


def terms(text: str, query: bool = False) -> list[str]:
    return [t for t, _, _, _ in analyse(text, query=query)]


def same(a: str, b: str) -> bool:
    return terms(a) == terms(b)


@pytest.mark.parametrize("a,b", [
    ("coree", "Corée"), ("CORÉE", "corée"), ("coeur", "cœur"), ("oeuvre", "œuvre"),
    ("naivete", "naïveté"), ("Elysee", "Élysée"),
])
def test_accents_case_and_ligatures_are_folded(a, b):
    assert same(a, b)


def test_decomposed_unicode_behaves_like_composed(tmp_path):
    text = "La Corée et l’Élysée, naïveté"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert terms(nfd) == terms(text)
    write_article(tmp_path / "a", "nfd.txt", "Dépêche", unicodedata.normalize("NFD", "Séoul répond à la Corée."))
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a"])
        for query in ["Corée", unicodedata.normalize("NFD", "Corée"), "coree"]:
            hit = engine.search(query).hits[0]
            assert [hit.snippet[s:e] for s, e in hit.highlights] == ["Corée"]


@pytest.mark.parametrize("apostrophe", ["’", "'", "ʼ"])
def test_elisions_with_every_apostrophe(apostrophe):
    text = f"l{apostrophe}Élysée d{apostrophe}Ukraine jusqu{apostrophe}à qu{apostrophe}il"
    assert terms(text) == ["elyse", "ukrain", "a", "il"]


def test_elided_article_is_not_a_term_and_aujourdhui_stays_whole():
    assert terms("l’agence") == terms("agence") == ["agenc"]
    assert terms("aujourd’hui") == terms("aujourd'hui") == terms("aujourdhui") == ["aujourdhui"]
    assert "l" not in terms("l’agence l'avion")


@pytest.mark.parametrize("words", [
    ("missile", "missiles"), ("élection", "élections"), ("coréen", "coréenne", "coréens"),
    ("hôpital", "hôpitaux"), ("château", "châteaux"), ("manifestant", "manifestants"),
])
def test_stemming_conflates_number_and_gender(words):
    assert len({tuple(terms(w)) for w in words}) == 1


@pytest.mark.parametrize("accented", ["université", "élection", "créée", "hôpitaux", "Corée"])
def test_accentless_query_gets_the_accented_term(accented):
    from unidecode import unidecode

    assert terms(unidecode(accented)) == terms(accented)


@pytest.mark.parametrize("name", ["Novosti", "RIA", "Vladivostok", "Poutine"])
def test_proper_names_match_as_written(tmp_path, name):
    write_article(tmp_path / "a", "n.txt", "Dépêche", "L’agence RIA Novosti cite Vladimir Poutine à Vladivostok.")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a"])
        assert engine.search(name).total == 1
        assert engine.search(name.lower()).total == 1


def test_stop_words_keep_their_positions():
    assert [p for _, _, _, p in analyse("le chat et la souris")] == [0, 1, 2, 3, 4]
    assert "le" in STOP_WORDS and "ete" not in STOP_WORDS


def test_stop_words_stay_searchable(tmp_path):
    folder = tmp_path / "a"
    write_article(folder, "ete.txt", "Un été brûlant", "Les vacances d’été.")
    write_article(folder, "avions.txt", "Les avions de chasse", "Des avions ont décollé.")
    write_article(folder, "son.txt", "Le son du canon", "On entend un son sourd.")
    write_article(folder, "or.txt", "Le cours de l’or", "L'or atteint un record.")
    write_article(folder, "fin.txt", "La fin de la grève", "C’est la fin.")
    write_article(folder, "il.txt", "Kim Jong-il est mort", "Le père, Kim Jong-il, est mort.")
    write_article(folder, "un.txt", "Kim Jong-un parle", "Le fils, Kim Jong-un, a parlé.")
    write_article(folder, "monde.txt", "Le Monde publie une enquête", "Selon Le Monde, la crise dure.")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([folder])
        for word, title in [("été", "Un été brûlant"), ("avions", "Les avions de chasse"),
                            ("son", "Le son du canon"), ("or", "Le cours de l’or"),
                            ("fin", "La fin de la grève")]:
            assert engine.search(word).hits[0].title == title
        jong_un = engine.search('"Kim Jong-un"')
        assert [h.title for h in jong_un] == ["Kim Jong-un parle"]
        assert [h.title for h in engine.search('"Le Monde"')] == ["Le Monde publie une enquête"]


def test_hyphenated_words_match_as_phrase_parts_and_joined(tmp_path):
    folder = tmp_path / "a"
    write_article(folder, "a.txt", "Essai nord-coréen", "Jean-Luc Mélenchon parle des États-Unis.")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([folder])
        for q in ["nord-coréen", "nord coréen", "nordcoréen", '"nord coreen"', "coréen",
                  "Jean-Luc", "jean luc", "jeanluc", "Etats-Unis", '"etats unis"', "etatsunis"]:
            assert engine.search(q).total == 1, q


def test_glued_sentences_split_at_the_dot():
    assert terms("jeudi.Le gouvernement") == terms("jeudi. Le gouvernement")


def test_acronyms_numbers_and_codes_survive():
    assert terms("U.S.A.") == terms("USA") == ["usa"]
    assert terms("M. Macron") == ["m", "macron"]
    assert terms("2023") == ["2023"]
    assert terms("3,5 %") == ["3.5"]
    assert terms("G7") == ["g7"]
    assert "covid19" in terms("COVID-19") and "covid" in terms("COVID-19")


def test_urls_and_handles_are_one_term_each():
    assert terms("Voir https://www.lemonde.fr/politique/article.html ou @EmmanuelMacron.") == [
        "voir", "https://www.lemonde.fr/politique/article.html", "ou", "@emmanuelmacron",
    ]


def test_offsets_cover_whole_original_words():
    text = "Les missiles de la Corée et le cœur d’Ukraine"
    spans = {text[s:e] for _, s, e, _ in analyse(text)}
    assert {"missiles", "Corée", "cœur", "Ukraine"} <= spans


@pytest.mark.parametrize("query,word", [("coree", "Corée"), ("missile", "missiles"), ("coeur", "cœur")])
def test_highlights_land_on_original_words(tmp_path, query, word):
    write_article(tmp_path / "a", "a.txt", "Titre", "Les missiles de la Corée visent le cœur du pays.")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a"])
        hit = engine.search(query).hits[0]
        assert [hit.snippet[s:e] for s, e in hit.highlights] == [word]


def test_whoosh_analyzer_interface_yields_positions_and_chars():
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in FrenchAnalyzer()("L’Élysée répond", positions=True, chars=True)]
    assert tokens == [("elyse", 0, 2, 8), ("repond", 1, 9, 15)]
    assert FrenchAnalyzer() == FrenchAnalyzer()


TRICKY = ("L’Élysée  répond.\n\nKim Jong-un, nord-coréen, jeudi.Le U.S.A. 3,5 % COVID-19 «\u202fbon\u202f» "
          "(vraiment) https://www.lemonde.fr/a.html @Macron lʼÉtat aujourd’hui d’États-Unis…  ")


def whoosh_terms(text: str, analyzer: FrenchAnalyzer | None = None, **options) -> list[tuple]:
    return [(t.text, t.startchar, t.endchar, t.pos)
            for t in (analyzer or FrenchAnalyzer())(text, positions=True, chars=True, **options)]


@pytest.mark.parametrize("text", [TRICKY, unicodedata.normalize("NFD", TRICKY), "", " ", "a  b\n"])
@pytest.mark.parametrize("query", [False, True])
def test_whoosh_analyzer_gives_exactly_the_terms_of_analyse(text, query):
    """It reads the terms of whole chunks between spaces from a cache: cold or
    warm, they must be analyse()'s terms, offsets and positions."""
    expected = list(analyse(text, query=query))
    analyzer = FrenchAnalyzer()
    for _ in range(2):
        assert whoosh_terms(text, analyzer, mode="query" if query else "index") == expected


def scanned_whole(text: str) -> list[tuple]:
    """analyse() without its chunk cache: the token pattern run over the whole text."""
    whole, pos = [], -1
    for term, start, end, same in _scan(nfc(text), lambda word: stem(_unapostrophed(fold(word)))):
        pos += 0 if same else 1
        whole.append((term, start, end, pos))
    return whole


@pytest.mark.parametrize("text", [TRICKY, unicodedata.normalize("NFD", TRICKY), "", " ", "a  b\n",
                                  "(AFP) « oui » l'État, https://x.fr/a). U.S.A. 3,5. M."])
def test_chunked_analysis_equals_one_scan_of_the_whole_text(text):
    """analyse() takes each chunk between spaces from a cache; scanning the
    whole text with the token pattern must give the same terms."""
    analyse = FrenchAnalyzer().analyse
    assert list(analyse(text)) == scanned_whole(text)
    assert list(analyse(text)) == scanned_whole(text)


def test_locate_is_analyse_kept_to_the_wanted_terms():
    wanted = {"coreen", "elyse", "etat"}
    expected = [t for t in analyse(TRICKY) if t[0] in wanted or t[0].startswith("nord")]
    assert [(t, p) for t, _, _, p in expected] == [
        ("elyse", 0), ("nord", 5), ("coreen", 6), ("nordcoreen", 6), ("etat", 17), ("etat", 19)]
    assert locate(TRICKY, wanted, ("nord",)) == expected


def test_whoosh_analyzer_options():
    expected = list(analyse(TRICKY))
    shifted = [(t.text, t.pos, t.startchar, t.endchar, t.original)
               for t in FrenchAnalyzer()(TRICKY, positions=True, chars=True, keeporiginal=True,
                                         start_pos=10, start_char=100)]
    assert shifted == [(term, pos + 10, start + 100, end + 100, TRICKY[start:end])
                       for term, start, end, pos in expected]
    assert [(t.text, t.pos) for t in FrenchAnalyzer()(TRICKY, positions=True)] == [
        (term, pos) for term, _, _, pos in expected]
    assert [t.text for t in FrenchAnalyzer()(TRICKY)] == [term for term, _, _, _ in expected]
    whole = [(t.text, t.pos, t.startchar, t.endchar) for t in
             FrenchAnalyzer()("Le Monde", tokenize=False, positions=True, chars=True, start_pos=2, start_char=5)]
    assert whole == [("lemonde", 2, 5, 13)]


def test_whoosh_analyzer_tokens_copy_like_whooshs_own():
    """One Token is yielded again and again, as Whoosh's tokenizers do; a copy keeps its values."""
    tokens = FrenchAnalyzer()("missiles nord-coréens", positions=True, mode="index", boost=2.0)
    kept = [t.copy() for t in tokens]
    assert [(t.text, t.pos, t.boost, t.mode, t.stopped) for t in kept] == [
        ("missil", 0, 2.0, "index", False), ("nord", 1, 2.0, "index", False),
        ("coreen", 2, 2.0, "index", False), ("nordcoreen", 2, 2.0, "index", False)]


def test_whoosh_analyzer_agrees_with_analyse_on_news():
    path = needs_shared("corpora", "orangesum", "orangesum_all.jsonl.gz")
    import gzip
    import itertools
    import json

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        bodies = [json.loads(line)["article"] for line in itertools.islice(fh, 300)]
    analyzer = FrenchAnalyzer()
    analyse = analyzer.analyse
    for body in bodies + bodies:
        assert whoosh_terms(body, analyzer) == list(analyse(body)) == scanned_whole(body)


def test_snowball_french_agrees_with_reference_vocabulary():
    """PyStemmer is exact Snowball French, word for word (Whoosh's port is not)."""
    folder = needs_shared("corpora", "snowball-french")
    import Stemmer

    snowball = Stemmer.Stemmer("french")
    words = (folder / "voc.txt").read_text("utf-8").split()
    expected = (folder / "output.txt").read_text("utf-8").split()
    assert len(words) == len(expected) == 21655
    wrong = [(w, e) for w, e in zip(words, expected, strict=True) if snowball.stemWord(w) != e]
    assert wrong == []
    stock = LanguageAnalyzer("fr")
    assert sum(1 for w, e in zip(words[:3000], expected[:3000], strict=True)
               if [t.text for t in stock(w)] not in ([e], [])) > 0


def test_our_stem_is_snowball_on_the_folded_word():
    import Stemmer

    snowball = Stemmer.Stemmer("french")
    for word in ["elections", "hopitaux", "chateaux", "coreennes", "gouvernement"]:
        assert stem(word) == snowball.stemWord(word)


def test_analyser_instance_gives_the_terms_of_analyse():
    analyzer = FrenchAnalyzer()
    expected = list(analyse(TRICKY))
    positions: dict[str, list[int]] = {}
    for term, _, _, pos in expected:
        positions.setdefault(term, []).append(pos)
    assert list(analyzer.analyse(TRICKY)) == expected
    assert analyzer.term_positions(TRICKY) == positions
    assert analyzer.terms(TRICKY) == [term for term, _, _, _ in analyse(TRICKY, query=True)]
    assert analyzer.terms("Les missiles nord-coréens") == ["le", "missil", "nord", "coreen"]
    assert analyzer.locate(TRICKY, {"coreen"}) == locate(TRICKY, {"coreen"})
    assert analyzer.stop_words == STOP_WORDS


def truncated(folded: str) -> str:
    """A stemmer for the tests: the first four letters."""
    return folded[:4]


def test_a_stemmer_passed_in_makes_the_terms_and_the_stop_words():
    analyzer = FrenchAnalyzer(stemmer=truncated)
    assert analyzer.terms("Les élections présidentielles, COVID-19 et G7") == [
        "les", "elec", "pres", "covi", "19", "et", "g7"]
    assert "avoi" in analyzer.stop_words and "avoi" not in STOP_WORDS
    assert terms("Les élections présidentielles") == ["le", "elect", "presidentiel"]
    copy = pickle.loads(pickle.dumps(analyzer, 2))
    assert copy == analyzer != FrenchAnalyzer()
    assert copy.terms("présidentielles") == ["pres"]


def test_an_index_keeps_the_analyser_it_was_made_with(tmp_path):
    from whoosh.filedb.filestore import FileStorage

    write_article(tmp_path / "a", "a.txt", "Élections", "Les élections présidentielles approchent.")
    (tmp_path / "ix").mkdir()
    FileStorage(str(tmp_path / "ix")).create_index(
        make_schema(analyzer=FrenchAnalyzer(stemmer=truncated)), indexname=INDEX_NAME)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a"])
    ix = FileStorage(str(tmp_path / "ix")).open_index(INDEX_NAME)
    assert ix.schema["body"].analyzer == FrenchAnalyzer(stemmer=truncated)
    with ix.reader() as reader:
        assert sorted(reader.field_terms("body")) == ["appr", "elec", "les", "pres"]


# pickle.dumps(FrenchAnalyzer(), 2) as made before the analyser had settings (commit ba2904b):
# a class and no state, so unpickling calls neither __init__ nor __setstate__.
STATELESS_PICKLE = b"\x80\x02csearchengine.analysis\nFrenchAnalyzer\nq\x00)\x81q\x01."


class StatelessLayout(pickle.Pickler):
    """Pickles every FrenchAnalyzer as that code did."""

    def reducer_override(self, obj):
        if type(obj) is FrenchAnalyzer:
            return copyreg.__newobj__, (FrenchAnalyzer,)
        return NotImplemented


def stateless_dumps(obj, protocol):
    buffer = io.BytesIO()
    StatelessLayout(buffer, protocol).dump(obj)
    return buffer.getvalue()


def test_an_index_written_before_analyser_settings_opens_and_analyses_alike(tmp_path, monkeypatch):
    import whoosh.index

    assert stateless_dumps(FrenchAnalyzer(), 2) == STATELESS_PICKLE
    # That code analysed apostrophes that are no elision as part of the word.
    old, fresh = pickle.loads(STATELESS_PICKLE), FrenchAnalyzer(join_apostrophes=False)
    assert old == fresh and old.stop_words == STOP_WORDS and old != FrenchAnalyzer()
    assert old.terms("prud’hommes aujourd'hui") == ["prud'hommes", "aujourd'hui"]
    assert list(old.analyse(TRICKY)) == list(fresh.analyse(TRICKY))
    assert old.term_positions(TRICKY) == fresh.term_positions(TRICKY)
    assert whoosh_terms(TRICKY, old) == whoosh_terms(TRICKY, fresh)

    # An index whose table of contents pickles the schema as that code did.
    folder, path = tmp_path / "a", tmp_path / "ix"
    write_article(folder, "a.txt", "Essai nord-coréen", "Les missiles de la Corée du Nord.")
    monkeypatch.setattr(whoosh.index, "pickle", SimpleNamespace(
        dumps=stateless_dumps, loads=pickle.loads, PicklingError=pickle.PicklingError))
    with SearchEngine(path) as engine:
        engine.index([folder])
    monkeypatch.undo()
    assert [b"cache_size" in toc.read_bytes() for toc in path.glob("*.toc")] == [False]

    write_article(folder, "b.txt", "Un missile", "Un missile coréen.")
    with SearchEngine(path) as engine:
        assert [h.title for h in engine.search('"nord-coréen" missiles')] == ["Essai nord-coréen"]
        engine.index([folder])
        assert sorted(h.title for h in engine.search("missile coréen")) == ["Essai nord-coréen", "Un missile"]
    assert [b"cache_size" in toc.read_bytes() for toc in path.glob("*.toc")] == [True]


MIXED = [
    TRICKY,
    unicodedata.normalize("NFD", TRICKY),
    "Les soignants des hôpitaux publics réclament des moyens ; le cœur du conflit reste les salaires.",
    "(AFP) « Jean-Luc » l’a dit jeudi.Le président d’Outre-Mer, M. Dupont-Aignan, 3,5 % U.S.A. G7.",
    "Qu’ils aillent jusqu’à Saint-Étienne : aujourd’hui, l'économie franco-allemande s’essouffle…",
    "www.example.fr, #JO2024 et contact@example.fr (voir https://example.fr/a?b=1).",
]


def everything(analyzer: FrenchAnalyzer, text: str) -> tuple:
    """Every way the analyser turns ``text`` into terms."""
    return (
        list(analyzer.analyse(text)), list(analyzer.analyse(text, query=True)), analyzer.terms(text),
        analyzer.locate(text, {"coreen", "salair"}, ("nord", "saint")), analyzer.term_positions(text),
        whoosh_terms(text, analyzer), [(t.text, t.pos) for t in analyzer(text, positions=True, mode="query")],
    )


def test_one_analyser_serves_many_threads_with_a_tiny_cache():
    """Eight threads start together on one analyser whose caches hold three
    entries, so they are emptied all the time under the others' feet; thread
    switches are forced every microsecond. Every result is the serial one."""
    expected = [everything(FrenchAnalyzer(), text) for text in MIXED]
    shared = FrenchAnalyzer(cache_size=3)
    start = threading.Barrier(8)

    def work(first: int) -> list[tuple]:
        start.wait()
        return [everything(shared, MIXED[(first + i) % len(MIXED)]) for i in range(60)]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(8) as pool:
            done = [future.result() for future in [pool.submit(work, n) for n in range(8)]]
    finally:
        sys.setswitchinterval(interval)
    for first, results in enumerate(done):
        assert results == [expected[(first + i) % len(MIXED)] for i in range(60)]
    assert len(shared._chunks) <= 3 and len(shared._chunks.words) <= 3


class SettingsLayout(pickle.Pickler):
    """Pickles every FrenchAnalyzer with the settings it had before ``join_apostrophes``."""

    def reducer_override(self, obj):
        if type(obj) is FrenchAnalyzer:
            return copyreg.__newobj__, (FrenchAnalyzer,), {"stemmer": obj.stemmer, "cache_size": obj.cache_size}
        return NotImplemented


def settings_dumps(obj, protocol):
    buffer = io.BytesIO()
    SettingsLayout(buffer, protocol).dump(obj)
    return buffer.getvalue()


def test_an_index_written_before_apostrophes_were_joined_keeps_its_terms_until_rebuilt(tmp_path, monkeypatch):
    """Its terms hold ``prud'hommes`` whole: its queries and updates analyse
    the same way, so what it found it still finds; ``--rebuild`` brings the
    joined terms."""
    import whoosh.index
    from whoosh.filedb.filestore import FileStorage

    folder, path = tmp_path / "a", tmp_path / "ix"
    write_article(folder, "a.txt", "Conflit", "Les prud’hommes donnent raison au salarié.")
    monkeypatch.setattr(whoosh.index, "pickle", SimpleNamespace(
        dumps=settings_dumps, loads=pickle.loads, PicklingError=pickle.PicklingError))
    path.mkdir()
    FileStorage(str(path)).create_index(make_schema(analyzer=FrenchAnalyzer(join_apostrophes=False)),
                                        indexname=INDEX_NAME)
    with SearchEngine(path) as engine:
        engine.index([folder])
    monkeypatch.undo()
    assert [b"join_apostrophes" in toc.read_bytes() for toc in path.glob("*.toc")] == [False]

    write_article(folder, "b.txt", "Prud'hommes", "Le conseil de prud'hommes de Paris.")
    with SearchEngine(path) as engine:
        assert engine.search("prud'hommes").total == 1
        engine.index([folder])
        for query in ["prud'hommes", "prud’hommes"]:
            assert engine.search(query).total == 2
        assert engine.search("prudhommes").total == 0
    with SearchEngine(path) as engine:
        engine.index([folder], rebuild=True)
        for query in ["prud'hommes", "prud’hommes", "prudhommes"]:
            assert engine.search(query).total == 2


def stop_word_collection(folder):
    """Articles whose words share a stem with a stop word (``tué``/``tu``,
    ``faits``/``fait``, ``San``/``sans``, ``parc``/``parce``) beside
    articles that hold only the query's other words, and more often."""
    write_article(folder, "tue.txt", "Drame en banlieue",
                  "Un policier a été tué jeudi soir lors d’une interpellation.")
    write_article(folder, "metier.txt", "Le métier de policier",
                  "Un policier raconte. Le policier, comme tout policier, patrouille et le policier rentre.")
    write_article(folder, "faits.txt", "La rubrique faits divers",
                  "Les faits divers de la semaine : un vol de vélo.")
    write_article(folder, "auto.txt", "Salon automobile : équipements divers",
                  "Des équipements divers, des options diverses et des accessoires divers pour divers modèles.")
    write_article(folder, "sanfrancisco.txt", "Séisme en Californie", "La terre a tremblé à San Francisco.")
    write_article(folder, "californie.txt", "Francisco en Californie",
                  "Francisco, guide en Californie, parle de la Californie et de Francisco.")
    write_article(folder, "parc.txt", "Un parc national", "Le parc accueille des ours.")
    write_article(folder, "ours.txt", "Les ours", "Des ours, des ours et encore des ours.")


def test_a_word_stemmed_like_a_stop_word_is_no_stop_word(tmp_path):
    """``tué`` stems as ``tu``, a stop word's term: the word as typed decides,
    so it is required, ranks its article first and is highlighted."""
    stop_word_collection(tmp_path / "a")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a"])
        hits = engine.search("policier tué").hits
        assert hits[0].title == "Drame en banlieue"
        assert {hits[0].snippet[s:e] for s, e in hits[0].highlights} == {"policier", "tué"}
        for query, title, words in [("faits divers", "La rubrique faits divers", {"faits", "divers"}),
                                    ("San Francisco", "Séisme en Californie", {"San", "Francisco"})]:
            hit = engine.search(query).hits[0]
            assert hit.title == title and {hit.snippet[s:e] for s, e in hit.highlights} == words
        assert engine.search("parc ours").hits[0].title == "Un parc national"
        # Stop words typed as such still only add to the score.
        assert engine.search("policier tu").hits[0].title == "Le métier de policier"


@pytest.mark.parametrize("word,stop", [
    ("les", True), ("Été", False), ("qu’il", True), ("l'on", True), ("VERS", True), ("sans", True),
    ("autres", True), ("mêmes", True),
    ("tué", False), ("tués", False), ("faits", False), ("San", False), ("dan", False), ("parc", False),
    ("ver", False), ("étés", False),
])
def test_is_stop_word_reads_the_word_as_typed(word, stop):
    assert FrenchAnalyzer.is_stop_word(word) is stop
    assert FrenchAnalyzer().is_stop_word(word) is stop


@pytest.mark.parametrize("forms", [
    ("McDonald's", "McDonald’s", "McDonalds", "mcdonalds"),
    ("prud'hommes", "prud’hommes", "prudʼhommes", "prudhommes", "Prud'Hommes"),
    ("aujourd'hui", "aujourd’hui", "aujourdhui"),
])
def test_words_with_an_apostrophe_find_the_same_articles_with_or_without_it(tmp_path, forms):
    """Each article spells the word one way; every spelling finds them all,
    highlighted as written, whole, and phrases keep their positions."""
    folder = tmp_path / "a"
    for number, form in enumerate(forms):
        write_article(folder, f"{number}.txt", f"Dépêche {number}", f"Au conseil, {form} a tranché jeudi.")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([folder])
        for query in forms:
            hits = engine.search(query).hits
            assert sorted(h.title for h in hits) == [f"Dépêche {n}" for n in range(len(forms))], query
            assert sorted(h.snippet[s:e] for h in hits for s, e in h.highlights) == sorted(forms)
            assert engine.search(f'"conseil {query} a tranché"').total == len(forms)


STOP_WORD_COLLISIONS = {
    "aucun": ("aucunement",), "autre": ("autrement",), "avoir": ("avoirs",), "cet": ("CETA",),
    "comme": ("commis", "commissions"), "comment": ("commenté", "commenter", "commentateurs"),
    "dans": ("Dan", "Dana"), "du": ("due", "dues"), "entre": ("entrée", "entrées"), "être": ("êtres",),
    "fait": ("faits", "faite", "faites"), "le": ("Lea", "Lee"), "ma": ("Maas", "Mae"), "me": ("mea",),
    "mon": ("Mons", "Mona"), "ne": ("née", "nés", "nées"), "notre": ("nôtres",),
    "par": ("paraît", "pare", "pars", "parer"), "parce": ("parc", "parcs"), "sans": ("San",),
    "se": ("Sea", "see"), "soi": ("soyez", "soie"), "sur": ("sûre", "sûrement", "sûrs"), "te": ("tee",),
    "ton": ("tonnes", "tonne", "tons"), "tu": ("tué", "tués", "tuer", "tuant"), "une": ("unes",),
    "vers": ("Vera", "ver"),
}
"""Every stop word whose stem is that of words found at least 20 times in
OrangeSum's titles, ledes and bodies, with the most frequent of them (the
list was made by analysing the whole corpus; its plurals ``autres``,
``mêmes``, ``uns``, ``siens`` and ``siennes`` joined the stop list instead)."""


def test_every_stop_word_stem_collision_found_on_news_is_told_apart():
    """Each of these words has a stop word's term, yet none is a stop word:
    in a query each is required and highlighted like any word."""
    analyzer = FrenchAnalyzer()
    sample = {word for words in STOP_WORD_COLLISIONS.values() for word in words}
    stops = sorted(fold(line.split("#")[0].strip()) for line in
                   (Path(searchengine.analysis.__file__).parent / "data" / "stopwords_fr.txt").open(encoding="utf-8")
                   if line.split("#")[0].strip())
    colliding = {tuple(analyzer.terms(stop)) for stop in stops for word in sample
                 if analyzer.terms(word) == analyzer.terms(stop)}
    assert colliding == {tuple(analyzer.terms(stop)) for stop in STOP_WORD_COLLISIONS}
    assert {fold(stop) for stop in STOP_WORD_COLLISIONS} <= set(stops)
    for stop, words in STOP_WORD_COLLISIONS.items():
        assert analyzer.is_stop_word(stop)
        for word in words:
            assert analyzer.terms(word) == analyzer.terms(stop) and not analyzer.is_stop_word(word), word


_PIECES = [
    "Le", "président", "nord-coréen", "l’État", "d'Ivry-sur-Seine", "aujourd'hui", "prud’hommes", "Val-d'Oise",
    "jeudi.Le", "U.S.A.", "3,5", "«", "»", "(AFP)", "M.", "Dupont-Aignan,", "…", "a-t-il", "Jean-Luc»",
    "www.example.fr", "#JO2024", "@afp", "contact@example.fr", "https://example.fr/a?b=1", "œuvre", "Élysée",
    "-", "--", "'", "’a", "qu’", "l'", "d'-", "x-'y", ".", ",", "a.b.", "1.000,5", "G7", "covid-19", "2020-2021",
    unicodedata.normalize("NFD", "Corée-du-Nord"), "Ⅻ", "ß-a", "ǅ", "_", "_a_", "a_b", "x\u00a0y",
]


def test_term_positions_group_what_analyse_yields_on_random_texts():
    """Indexing reads a text through a cache of its own (each chunk's terms
    without offsets, a chunk of one word as its bare term): on random texts of
    tricky chunks and of random characters, joined by any white space, with a
    cache emptied all the time or never, it gives every term the positions
    :meth:`~FrenchAnalyzer.analyse` gives it."""
    import random

    rng = random.Random(15)
    alphabet = "aeéiuoçœAÉZ019 -‐'’ʼ.,;:!?()«»\"@#/_\n\t\u00a0"
    for cache_size in (3, 300_000):
        analyzer = FrenchAnalyzer(cache_size=cache_size)
        for _ in range(400):
            if rng.random() < 0.5:
                text = "".join(rng.choice(_PIECES) + rng.choice(["", " ", "  ", "\n", ", ", ". ", "\t"])
                               for _ in range(rng.randint(0, 30)))
            else:
                text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
            expected: dict[str, list[int]] = {}
            for term, _, _, pos in analyzer.analyse(text):
                expected.setdefault(term, []).append(pos)
            assert analyzer.term_positions(text) == expected, text
