"""Query fuzzing: whatever is typed or pasted, a search answers with a
consistent page of results, or with BadQuery for a query of exclusions alone,
and every output format shows it safely.

Hypothesis generates the queries (odd Unicode, control characters, the
syntax's characters in any order, huge words, hyphen chains, ORed prefixes,
2,000-word pastes) with a fixed seed and no example database, so a run in CI
is the run on a developer's machine. Timing is never asserted here:
``benchmarks/hostile.py`` measures it.
"""

import html.parser
import json
import random
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from searchengine import BadQuery, SearchEngine
from searchengine.render import render_html, render_json, render_text

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "newsearch-hypothesis")
"""Hypothesis caches what it reads of the sources at collection: outside the repository."""
FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
CONTROLS = "".join(map(chr, (*range(0x20), 0x7F, *range(0x80, 0xA0))))
SYNTAX = ['"', "(", ")", "-", "+", "*", ":", "OR", "AND", "NOT", "title:", "lede:", "body:", "source:",
          "field:", "Macron:", "-(", '"(', '+"', "*:", "::", "-+", "+-", "**", "OR OR", "NOT NOT", "AND OR"]
HTML_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "ol", "li", "a", "mark"}

ARTICLES = [
    ("Kim Jong-un rencontre Vladimir Poutine à Vladivostok", "2019-04-25", "AFP",
     "Le dirigeant nord-coréen arrive en train blindé.",
     "Le sommet réunit Kim Jong-un et Vladimir Poutine. Les missiles balistiques sont au menu, "
     "selon l’agence RIA Novosti. Quand le train est-il arrivé ? Personne ne le sait."),
    ("Putin meets Xi Jinping in Beijing", "2023-03-20", "Reuters", "",
     "Vladimir Putin arrived in Beijing to meet Xi Jinping. Le président russe a-t-il obtenu des garanties ?"),
    ("Pékin accueille le président russe", "2023-03-21", "Le Monde",
     "Xi Jin-ping et Poutine affichent leur entente.",
     "À Pékin, le porte-parole du Kremlin a salué une « amitié sans limites ». Les États-Unis s’inquiètent."),
    ("Réforme des retraites : la grève continue", "2023-01-19", "AFP",
     "Les syndicats appellent à une nouvelle journée de mobilisation.",
     "La grève à la SNCF et à la RATP paralyse les transports. Le gouvernement maintient l'âge de départ à 64 ans."),
    ("Macron défend sa réforme devant les syndicats", "2023-01-10", "Le Figaro", "",
     "Emmanuel Macron a reçu les partenaires sociaux à l'Élysée. « Il n'y a pas d'alternative », a-t-il dit."),
    ("Zelensky s'adresse au Parlement français", "2022-03-23", "France 24",
     "Le président ukrainien a parlé aux députés par visioconférence.",
     "Volodymyr Zelenskyy a remercié la France. Kyiv et Kharkiv restent sous le feu des bombardements."),
    ("Covid-19 : le bilan s'alourdit", "2020-04-02", "Santé publique France",
     "Le nombre de patients en réanimation dépasse 6 000.",
     "Les hôpitaux d'Île-de-France et du Grand-Est sont saturés. Les soignants réclament des masques FFP2."),
    ("Un été très chaud", "2023-08-24", "Météo-France", "",
     "L'été 2023 a battu des records de chaleur en France : 43,2 °C à Carpentras. La sécheresse inquiète."),
    ("Saint-Étienne retrouve la Ligue 1", "2024-06-02", "L'Équipe",
     "Les Verts ont gagné leur barrage aux tirs au but.",
     "Le stade Geoffroy-Guichard était plein. Le entraîneur a salué « un groupe extraordinaire »."),
    ("Les Ouïghours et la question du Xinjiang", "2021-07-15", "Le Monde", "",
     "Des rapports évoquent des camps au Xinjiang. Pékin dément ; Beijing parle de centres de formation."),
    ("Prigojine et le groupe Wagner", "2023-06-24", "AFP",
     "Le chef de Wagner a lancé ses hommes vers Moscou.",
     "Evgueni Prigozhin a défié Choïgou et l'état-major. La rébellion s'est arrêtée à 200 km de Moscou."),
    ("Tchernobyl, trente-cinq ans après", "2021-04-26", "Arte", "",
     "La zone d'exclusion de Chernobyl attire des touristes. Les grand-mères de Tchernobyl y vivent toujours."),
    ("Bakhmout : la bataille la plus longue", "2023-05-20", "Kyiv Independent", "",
     "Les combats à Bakhmut durent depuis des mois. Zaporijjia et Marioupol restent des noms de guerre."),
    ("Navalny condamné à nouveau", "2022-03-22", "Reuters", "Alexeï Navalny écope de neuf ans.",
     "L'opposant Navalni, déjà emprisonné, dénonce une « parodie de justice »."),
    ("Le prix du pain augmente", "2022-10-05", "Ouest-France",
     "Les boulangers face à la flambée de l'énergie.",
     "La baguette coûte désormais plus d'un euro dans certaines villes. Les boulangeries artisanales souffrent."),
    ("Élection présidentielle : résultats du premier tour", "2022-04-10", "France Info", "",
     "Emmanuel Macron et Marine Le Pen sont qualifiés pour le second tour. L'abstention atteint 26 %."),
    ("Nucléaire : EDF relance ses réacteurs", "2022-12-01", "Les Échos", "",
     "Les réacteurs nucléaires à l'arrêt redémarrent un à un. La nucléarisation du débat inquiète les écologistes."),
    ("Missiles nord-coréens au-dessus du Japon", "2022-10-04", "NHK",
     "Tokyo a déclenché l'alerte J-Alert.",
     "Un missile balistique a survolé Hokkaido. 北朝鮮のミサイル. Pyongyang a tiré des missiles depuis Sunan."),
    ("Il y a cent ans, la naissance de la radio", "1922-11-06", "", "",
     "Il y a un siècle, la première émission de radio française était diffusée depuis la tour Eiffel."),
    ("Des émojis dans les SMS 🎉", "2019-07-17", "Numerama", "Le 😀 est le plus utilisé.",
     "Les émojis 👍🏽 et 👨‍👩‍👧 ont conquis les messageries. Même l'Académie française s'y intéresse."),
    ("Texte en arabe et en hébreu", "2021-02-10", "Courrier international", "",
     "Le mot « paix » s'écrit سلام en arabe et שלום en hébreu ; ces écritures vont de droite à gauche."),
    ("Un article mal formé\x1b[31m rouge", "2020-01-01", "Source\u202eegnarté",
     "Un chapô avec\r un retour chariot et un \x07 bip.",
     "Ce texte contient des caractères de contrôle\x1b[2J, un\ttab, un \u202edébut inversé\u202c et \x00 nul. "
     "Les renderers doivent les neutraliser."),
    ("Sans date ni source", "", "", "", "Un article sans date, avec des mots très rares : anticonstitutionnellement."),
    ("Kadhafi, Gaddafi ou Qaddafi ?", "2011-10-20", "AFP", "",
     "L'orthographe de Mouammar Kadhafi varie selon les agences : Kaddafi, Gaddafi, Kadafi."),
    ("Ben Laden tué au Pakistan", "2011-05-02", "Reuters", "Oussama Ben Laden a été tué à Abbottabad.",
     "Le chef d'Al-Qaïda, Bin Laden, a été tué par un commando américain."),
    ("Netanyahou et la réforme judiciaire", "2023-03-27", "Times of Israel", "",
     "Benjamin Netanyahu suspend sa réforme de la justice après des manifestations massives à Tel-Aviv."),
    ("La Seine-Saint-Denis et les Jeux olympiques", "2024-07-26", "Le Parisien", "",
     "Le village olympique de Saint-Denis accueille les athlètes. Paris 2024 s'ouvre sur la Seine."),
    ("Grève des contrôleurs aériens", "2023-09-15", "AFP", "Des centaines de vols annulés à Roissy.",
     "Les contrôleurs aériens protestent contre la loi sur le service minimum. Orly est aussi touché."),
    ("Intelligence artificielle : l'UE vote l'AI Act", "2024-03-13", "Euractiv", "",
     "Le Parlement européen a adopté le règlement sur l'intelligence artificielle. ChatGPT est concerné."),
    ("Feux de forêt en Gironde", "2022-07-18", "Sud Ouest", "",
     "Les incendies de La Teste-de-Buch et de Landiras ont brûlé 20 000 hectares. Les pompiers luttent encore."),
    ("Loukachenko reçoit Prigojine", "2023-06-27", "Belta", "",
     "Alexandre Lukashenko affirme avoir négocié la fin de la mutinerie. Minsk accueille le chef de Wagner."),
    ("Un long article", "2024-01-01", "Archives", "",
     " ".join(["Le conseil municipal a débattu du budget, des écoles et des transports en commun."] * 900)
     + " Le mot final est Poutine."),
]
"""A few dozen varied articles: names from the shipped table, hyphenated
words, accents, other scripts, control characters and a body past the
highlighter's 51,200 characters."""

VOCABULARY = sorted({w.strip(".,;:!?«»()\"'’") for *_, lede, body in ARTICLES for w in (lede + " " + body).split()}
                    - {""})


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "news.jsonl"
    records = [{"id": f"a{n}", "title": title, "date": date, "source": source, "lede": lede, "body": body,
                "author": "Rédaction", "url": f"https://example.org/{n}"}
               for n, (title, date, source, lede, body) in enumerate(ARTICLES)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    with SearchEngine(folder / "ix") as engine:
        report = engine.index([path])
        assert report.added == len(ARTICLES) and report.failed == 0
        yield engine


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


def unsafe(text: str) -> set[str]:
    """Characters that could drive a terminal: controls (but the line ends of
    the layout) and bidirectional overrides."""
    return {c for c in text if (unicodedata.category(c) == "Cc" and c != "\n") or c in BIDI}


def _inside_word(text: str, at: int) -> bool:
    """Whether ``at`` falls between two letters or digits of one word: a
    highlight covers whole words."""
    return 0 < at < len(text) and text[at - 1].isalnum() and text[at].isalnum()


def check(engine, query: str, options: dict) -> None:
    """One search as a user runs it: a consistent page, rendered safely."""
    try:
        results = engine.search(query, **options)
    except BadQuery as exc:
        assert "-" in query or "NOT" in query, f"BadQuery for a query that excludes nothing: {exc}"
        return
    limit, page = options["limit"], options["page"]
    hits = results.hits
    assert len(hits) <= limit
    assert results.total >= len(hits)
    if hits:
        assert results.total >= (page - 1) * limit + len(hits)
    assert [h.rank for h in hits] == list(range((page - 1) * limit + 1, (page - 1) * limit + 1 + len(hits)))
    assert len({h.id for h in hits}) == len(hits)
    for hit in hits:
        for text, spans in ((hit.snippet, hit.highlights), (hit.title, hit.title_highlights)):
            for start, end in spans:
                assert 0 <= start < end <= len(text), (start, end, text)
                assert not _inside_word(text, start) and not _inside_word(text, end), (text[start:end], text)
            assert spans == sorted(spans) and all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
        assert int(hit.score) in (1, 2, 3)
    if options["sort"] == "relevance":
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)

    for color in (False, True):
        text = render_text(results, color=color)
        bad = unsafe(text.replace("\x1b[1;33m", "").replace("\x1b[1m", "").replace("\x1b[2m", "")
                     .replace("\x1b[0m", "") if color else text)
        assert not bad, f"control characters reach the terminal: {sorted(map(hex, map(ord, bad)))}"
    document = json.loads(render_json(results))
    assert document["total"] == results.total and document["query"] == query
    assert [h["snippet"] for h in document["hits"]] == [h.snippet for h in hits]
    page_html = render_html(results)
    tags = _Tags()
    tags.feed(page_html)
    assert tags.tags <= HTML_TAGS, tags.tags - HTML_TAGS
    assert page_html.count("<mark>") == page_html.count("</mark>")


options = st.fixed_dictionaries({
    "limit": st.integers(1, 25),
    "page": st.integers(1, 4),
    "sort": st.sampled_from(["relevance", "date"]),
    "fragments": st.integers(1, 4),
    "fragment_size": st.integers(20, 400),
})

words = st.sampled_from(VOCABULARY)
odd_chars = st.one_of(
    st.characters(codec="utf-8"),  # anything but surrogates
    st.characters(min_codepoint=0x300, max_codepoint=0x36F),  # combining marks
    st.sampled_from(BIDI + "\u200b\u200c\u200d\ufeff\u00ad"),  # bidi and zero-width
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x0590, max_codepoint=0x06FF),  # Hebrew, Arabic
    st.sampled_from("éèàçœæÉÀ’ʼ«»–—…  <>&;'"),
)


def _join(parts: list[str], seps: list[str]) -> str:
    return "".join(p + s for p, s in zip(parts, seps, strict=False)) + "".join(parts[len(seps):])


odd_unicode = st.lists(st.one_of(words, st.text(odd_chars, min_size=1, max_size=12)), max_size=12).map(" ".join)
controls = st.lists(
    st.one_of(words, st.text(st.sampled_from(CONTROLS), min_size=1, max_size=4)), min_size=1, max_size=12
).map("".join)
syntax = st.lists(st.one_of(st.sampled_from(SYNTAX), words), min_size=1, max_size=16).flatmap(
    lambda parts: st.lists(st.sampled_from(["", " ", "  ", "\t", "-", '"']), max_size=len(parts)).map(
        lambda seps: _join(parts, seps)))


def _long_word(seed: int, size: int) -> str:
    """One word of ``size`` characters: a letter repeated, letters at random, or a word run on."""
    rng = random.Random(seed)
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice("aeéz") * size
    if kind == 1:
        return "".join(rng.choices("abcdefghijklmnopqrstuvwxyzéèàç", k=size))
    if kind == 2:
        return ("".join(rng.choices(VOCABULARY, k=size // 4 + 1)))[:size]
    return ("e\u0301" * size)[:size]


def _chain(seed: int, parts: int) -> str:
    rng = random.Random(seed)
    pieces = [rng.choice(["a", "x"]) for _ in range(parts)] if rng.random() < 0.3 else rng.choices(VOCABULARY, k=parts)
    return rng.choice(["", '"', "title:", "+", "-"]) + "-".join(pieces) + rng.choice(["", "*", '"', " Poutine"])


def _prefixes(seed: int, count: int) -> str:
    rng = random.Random(seed)
    heads = [(rng.choice(VOCABULARY)[:rng.randint(1, 4)] or "ab") + "*" for _ in range(count)]
    return rng.choice([" OR ", " ", " AND ", " OR -"]).join(heads)


def _paste(seed: int, count: int) -> str:
    """A pasted text: mostly words of the articles, some punctuation and syntax."""
    rng = random.Random(seed)
    tokens = rng.choices(VOCABULARY, k=count)
    for _ in range(count // 50):
        tokens[rng.randrange(count)] = rng.choice([*SYNTAX, ".", ",", "«", "»", "\n", "—"])
    return " ".join(tokens)


long_words = st.builds(_long_word, st.integers(0, 2**32), st.integers(41, 12_000))
chains = st.builds(_chain, st.integers(0, 2**32), st.integers(2, 2_500))
ored_prefixes = st.builds(_prefixes, st.integers(0, 2**32), st.integers(2, 150))
pastes = st.builds(_paste, st.integers(0, 2**32), st.integers(1_500, 2_500))


@settings(FUZZ, max_examples=500)
@given(query=odd_unicode, options=options)
def test_odd_unicode(engine, query, options):
    check(engine, query, options)


@settings(FUZZ, max_examples=350)
@given(query=controls, options=options)
def test_control_characters(engine, query, options):
    check(engine, query, options)


@settings(FUZZ, max_examples=550)
@given(query=syntax, options=options)
def test_unbalanced_syntax(engine, query, options):
    check(engine, query, options)


@settings(FUZZ, max_examples=150)
@given(query=st.one_of(long_words, chains), options=options)
def test_long_words_and_hyphen_chains(engine, query, options):
    check(engine, query, options)


@settings(FUZZ, max_examples=150)
@given(query=ored_prefixes, options=options)
def test_many_prefixes(engine, query, options):
    check(engine, query, options)


@settings(FUZZ, max_examples=50)
@given(query=pastes, options=options)
def test_pasted_text(engine, query, options):
    check(engine, query, options)


@settings(FUZZ, max_examples=250)
@given(query=st.lists(st.one_of(odd_unicode, controls, syntax, long_words, chains, ored_prefixes), min_size=2,
                      max_size=4).map(" ".join), options=options)
def test_everything_mixed(engine, query, options):
    check(engine, query, options)
