"""Ranking quality: our engine against stock Whoosh, same questions, same run.

PIAF v1.1 (../shared/corpora/piaf): 1,518 French Wikipedia paragraphs and 7,569
human questions, one answering paragraph each. For every system it prints
MRR@10, nDCG@10 and Recall@10, with the questions as written and with their
accents stripped (unidecode), for:

  ours          SearchEngine (public API), index in a temporary folder
  ours+light    the same with Savoy's light stemmer (benchmarks/lightstem.py) in
                place of Snowball: an index made with FrenchAnalyzer(stemmer=...)
  stock fr      Whoosh LanguageAnalyzer("fr"), title and text joined in one field,
                parsed with OrGroup (? and * removed from the questions: they are
                wildcards to the parser); the set-up behind the reference figures
                of ../shared/README.md (0.749 and 0.726)
  stock plain   Whoosh StandardAnalyzer, same set-up

News sets, built from OrangeSum (../shared/corpora/orangesum) with a fixed seed,
so every run asks the same queries:

  --knownitem    the 1,255 known-item titles against a body-only index (ours and
                 stock fr)
  --typos        the same titles with one typo each, as people make them (two
                 neighbours swapped, a letter dropped or doubled, an accent
                 dropped or changed; never the first letter), and typed right,
                 against the same body-only index
  --apostrophes  2-3 title words, one of them a word spelled with an apostrophe
                 that is no elision (prud'hommes, aujourd'hui, McDonald's...),
                 typed with ', with ’ and without the apostrophe, against an
                 index of title, lede and body
  --headlines    2-4 words of an article's own title (--headline-count, 200),
                 against the index of title, lede and body: ours against stock fr
                 with the title weighted 2 (title, lede and body as fields)
  --news         all four

In the news sets a duplicate of the article sought (list_of_duplicates.txt)
counts as a hit. Every set is split in two halves by a fixed rule (the CRC-32
of the article's id, of the answering paragraph's for PIAF): "tune", on which
settings may be chosen, and "held-out", which only checks them; both are
printed with the whole set. --tune tries ranking settings (``RankingSettings``:
field boosts, stop-word weight, the bonuses of the rerank, BM25F B/K1), passed
to SearchEngine, on the tune halves only; --sample N keeps every Nth PIAF
question (quick looks); --jobs N runs queries (and our indexing of OrangeSum)
in N processes; --no-piaf skips PIAF's main tables. The OrangeSum indexes are
built once a run; with --index-dir they are kept there and reused by later runs
(--rebuild after a change to the analyser or the schema).

    python benchmarks/relevance.py [--jobs 2] [--tune] [--knownitem] [--sample N]
    python benchmarks/relevance.py --no-piaf --news --index-dir /tmp/relevance-indexes

Skips (exit 0) when ../shared is not there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import multiprocessing
import random
import re
import shutil
import sys
import tempfile
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from searchengine.analysis import FrenchAnalyzer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PIAF = SHARED / "corpora" / "piaf"
ORANGESUM = SHARED / "corpora" / "orangesum"
K = 10
SEED = 14
"""The seed of the news sets: change it and every figure changes."""
HALVES = ("tune", "held-out")
ELISIONS = {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu"}
"""Words before an apostrophe that make an elision (l'État), not a word of its own (prud'hommes)."""
APOSTROPHES = "'\u2019\u02bc"
_APOSTROPHE_WORD = re.compile(rf"[^\W\d_]+[{APOSTROPHES}][^\W\d_]+")
_WORD = re.compile(rf"[^\W_]+(?:[-{APOSTROPHES}][^\W_]+)*")
"""A word as a reader retypes it: hyphens and apostrophes inside it kept."""
_LETTERS = re.compile(r"[^\W\d_]+")
PER_APOSTROPHE_WORD = 12
"""Titles kept per apostrophe word (Sotheby's alone heads 77)."""

Search = Callable[[str], list[str]]
"""A ranked list of document ids for a query."""


# --- data and metrics -----------------------------------------------------------------------------

@dataclass(frozen=True)
class QuerySet:
    """Queries, what answers each, and the half each falls in."""

    name: str
    texts: list[str]
    relevant: list[set[str]]
    halves: list[str]

    def variant(self, texts: list[str]) -> QuerySet:
        """The same queries typed otherwise (the same answers, the same halves)."""
        return QuerySet(self.name, texts, self.relevant, self.halves)

    def half(self, name: str) -> QuerySet:
        keep = [i for i, h in enumerate(self.halves) if h == name]
        return QuerySet(self.name, [self.texts[i] for i in keep], [self.relevant[i] for i in keep],
                        [name] * len(keep))


def half_of(key: str) -> str:
    """The fixed split: the parity of the CRC-32 of the article's (or paragraph's) id."""
    return HALVES[zlib.crc32(key.encode()) & 1]


def load_piaf() -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    queries = []
    with open(PIAF / "piaf_v1.1_queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            queries.append((record["id"], record["text"]))
    qrels: dict[str, set[str]] = {}
    with open(PIAF / "piaf_v1.1_qrels.tsv", encoding="utf-8") as fh:
        for line in fh:
            qid, _, docid, grade = line.split()
            if int(grade) > 0:
                qrels.setdefault(qid, set()).add(docid)
    return queries, qrels


def scores(runs: list[list[str]], relevant: list[set[str]]) -> dict[str, float]:
    """MRR@10, nDCG@10 (binary gains) and Recall@10, averaged over the queries.
    A set of duplicates counts as one relevant article: its first one found is the hit."""
    mrr = ndcg = recall = 0.0
    for ranked, rel in zip(runs, relevant, strict=True):
        ranked = ranked[:K]
        hits = [i for i, doc in enumerate(ranked) if doc in rel]
        if hits:
            mrr += 1 / (hits[0] + 1)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(rel), K)))
        ndcg += sum(1 / math.log2(i + 2) for i in hits) / ideal
        recall += len(hits) / len(rel)
    n = len(runs) or 1
    return {"MRR@10": mrr / n, "nDCG@10": ndcg / n, "Recall@10": recall / n}


# --- running queries, in parallel if asked ---------------------------------------------------------

_FACTORY: Callable[[], Search] | None = None
_SEARCH: Search | None = None


def _worker_init() -> None:
    global _SEARCH
    assert _FACTORY is not None
    _SEARCH = _FACTORY()


def _worker_search(text: str) -> list[str]:
    assert _SEARCH is not None
    return _SEARCH(text)


def run_queries(factory: Callable[[], Search], texts: list[str], jobs: int) -> list[list[str]]:
    """Each process opens its own searcher (``factory``); forked, so patches carry over."""
    global _FACTORY
    if jobs <= 1:
        search = factory()
        return [search(t) for t in texts]
    _FACTORY = factory
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_init) as pool:
        return pool.map(_worker_search, texts, chunksize=32)


# --- our engine ------------------------------------------------------------------------------------

def ours(folder: Path, **settings: object) -> Callable[[], Search]:
    """Factory of searches through the public SearchEngine API over an index in
    ``folder``, with the ranking settings changed by ``settings``."""

    def factory() -> Search:
        from searchengine import RankingSettings, SearchEngine

        engine = SearchEngine(folder, settings=RankingSettings(**settings))

        def search(text: str) -> list[str]:
            return [hit.id for hit in engine.search(text, limit=K)]

        return search

    return factory


def build_ours(folder: Path, paths: list[Path], fields: dict[str, str] | None = None,
               analyzer: FrenchAnalyzer | None = None, jobs: int = 1) -> float:
    """Index ``paths`` in ``folder``; with ``analyzer``, into an index made with it
    (the schema pickles it, so the index keeps it)."""
    from whoosh.filedb.filestore import FileStorage

    from searchengine import SearchEngine
    from searchengine.indexing import INDEX_NAME, make_schema

    started = time.perf_counter()
    if analyzer is not None:
        folder.mkdir(parents=True, exist_ok=True)
        FileStorage(str(folder)).create_index(make_schema(analyzer=analyzer), indexname=INDEX_NAME)
    with SearchEngine(folder) as engine:
        report = engine.index(paths, fields=fields, memory_mb=512, jobs=jobs)
    if report.failed:
        print(f"  warning: {report.failed} records not indexed, first: {report.problems[0]}")
    return time.perf_counter() - started


def light_analyzer() -> FrenchAnalyzer:
    """Our analyser with Savoy's light stemmer in place of Snowball."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lightstem import light_analyzer

    return light_analyzer()


# --- stock Whoosh ----------------------------------------------------------------------------------

def build_stock(folder: Path, analyzer_name: str, docs: Iterator[dict[str, str]],
                fields: tuple[str, ...]) -> float:
    from whoosh import analysis as wa
    from whoosh import fields as wf
    from whoosh import index

    analyzer = wa.LanguageAnalyzer("fr") if analyzer_name == "fr" else wa.StandardAnalyzer()
    schema = wf.Schema(id=wf.ID(stored=True), **{f: wf.TEXT(analyzer=analyzer) for f in fields})
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(folder), schema)
    writer = ix.writer(limitmb=512)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return time.perf_counter() - started


_WILDCARDS = str.maketrans("?*", "  ")


def stock(folder: Path, fields: tuple[str, ...], boosts: dict[str, float] | None = None) -> Callable[[], Search]:
    def factory() -> Search:
        from whoosh import index
        from whoosh.qparser import MultifieldParser, OrGroup

        ix = index.open_dir(str(folder))
        searcher = ix.searcher()
        parser = MultifieldParser(list(fields), ix.schema, fieldboosts=boosts, group=OrGroup)

        def search(text: str) -> list[str]:
            # A question's "?" is a wildcard to Whoosh's parser (text:?): drop it.
            query = parser.parse(text.translate(_WILDCARDS))
            return [hit["id"] for hit in searcher.search(query, limit=K)]

        return search

    return factory


# --- the report ------------------------------------------------------------------------------------

Row = tuple[str, dict[str, dict[str, float]], float]
"""A system's label, its scores on the whole set and on each half, and its seconds."""


def table(title: str, rows: list[Row]) -> None:
    names = list(rows[0][1]["all"])
    width = max(len(r[0]) for r in rows) + 2
    print(f"\n{title}")
    print(f"{'system':<{width}}{'half':<10}" + "".join(f"{n:>11}" for n in names) + f"{'seconds':>9}")
    for label, values, seconds in rows:
        for k, half in enumerate(("all", *HALVES)):
            first = (label if not k else "", f"{seconds:>9.0f}" if not k else "")
            print(f"{first[0]:<{width}}{half:<10}" + "".join(f"{values[half][n]:>11.3f}" for n in names)
                  + first[1])
    sys.stdout.flush()


def evaluate(label: str, factory: Callable[[], Search], queries: QuerySet, jobs: int) -> Row:
    started = time.perf_counter()
    runs = run_queries(factory, queries.texts, jobs)
    return judge(label, runs, queries, time.perf_counter() - started)


def judge(label: str, runs: list[list[str]], queries: QuerySet, seconds: float) -> Row:
    values = {"all": scores(runs, queries.relevant)}
    for half in HALVES:
        keep = [i for i, h in enumerate(queries.halves) if h == half]
        values[half] = scores([runs[i] for i in keep], [queries.relevant[i] for i in keep])
    row = (label, values, seconds)
    print(f"  {label}: MRR@10 {values['all']['MRR@10']:.3f} (tune {values['tune']['MRR@10']:.3f}, "
          f"held-out {values['held-out']['MRR@10']:.3f}; {seconds:.0f} s)", flush=True)
    return row


def piaf(tmp: Path, jobs: int, sample: int, main_tables: bool, tune: bool, all_runs: bool) -> None:
    from unidecode import unidecode

    pairs, qrels = load_piaf()
    pairs = pairs[::sample]
    relevant = [qrels[qid] for qid, _ in pairs]
    questions = QuerySet("PIAF", [text for _, text in pairs], relevant, [half_of(min(r)) for r in relevant])
    plain = questions.variant([unidecode(text) for text in questions.texts])
    corpus = PIAF / "piaf_v1.1_corpus.jsonl"
    print(f"PIAF: {len(questions.texts)} questions on 1,518 paragraphs "
          f"({questions.halves.count('tune')} tune, {questions.halves.count('held-out')} held-out), "
          f"{jobs} process(es)")

    def docs() -> Iterator[dict[str, str]]:
        with open(corpus, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                yield {"id": record["id"], "text": f"{record['title']}\n{record['text']}"}

    if not main_tables:
        if tune:
            print(f"  index ours: {build_ours(tmp / 'ours', [corpus]):.1f} s")
            tune_ours("PIAF", tmp / "ours", questions, jobs)
        return
    fields = ("text",)
    print(f"  index ours: {build_ours(tmp / 'ours', [corpus]):.1f} s")
    print(f"  index stock fr: {build_stock(tmp / 'fr', 'fr', docs(), fields):.1f} s")
    print(f"  index stock plain: {build_stock(tmp / 'plain', 'plain', docs(), fields):.1f} s")
    print(f"  index ours+light: {build_ours(tmp / 'light', [corpus], analyzer=light_analyzer()):.1f} s")

    systems: list[tuple[str, Callable[[], Search]]] = [
        ("ours (Snowball)", ours(tmp / "ours")),
        ("stock fr", stock(tmp / "fr", fields)),
        ("stock plain", stock(tmp / "plain", fields)),
    ]
    for asked, name in ((questions, "accented"), (plain, "accents stripped")):
        rows = [evaluate(label, factory, asked, jobs) for label, factory in systems]
        if asked is questions or all_runs:
            # Both our variants fold accents before stemming, so stripped questions change little.
            rows.insert(1, evaluate("ours+light stemmer", ours(tmp / "light"), asked, jobs))
        table(f"PIAF, questions {name}", rows)
    if tune:
        tune_ours("PIAF", tmp / "ours", questions, jobs)


TRIALS: list[tuple[str, dict[str, object]]] = [
    ("defaults (title 2 + 0.5 alone, stop 0.2, proximity 2, exact forms 0.5, pairs 0.5, K1 1.2)", {}),
    ("title combined only (title alone 0)", {"title_alone": 0.0}),
    ("no proximity bonus", {"proximity_weight": 0.0}),
    ("proximity 8", {"proximity_weight": 8.0}),
    ("no exact-form bonus", {"exact_form_weight": 0.0}),
    ("no word-pair bonus", {"word_pair_weight": 0.0}),
    ("coverage, not its square root", {"coverage_exponent": 1.0}),
    ("title 1.0", {"title_boost": 1.0}),
    ("title 4.0, title alone 0", {"title_boost": 4.0, "title_alone": 0.0}),
    ("stop words 0.5", {"stop_word_weight": 0.5}),
    ("BM25F K1 2.0", {"k1": 2.0}),
    ("BM25F B 0.9", {"b": 0.9}),
]
"""RankingSettings tried by --tune, each alone, on the tune half of each set."""


def tune_ours(name: str, folder: Path, queries: QuerySet, jobs: int) -> None:
    tuning = queries.half("tune")
    rows = [evaluate(label, ours(folder, **settings), tuning, jobs) for label, settings in TRIALS]
    names = list(rows[0][1]["all"])
    width = max(len(r[0]) for r in rows) + 2
    print(f"\nTuning our engine on {name}, tune half only ({len(tuning.texts)} queries; "
          "RankingSettings passed to SearchEngine)")
    print(f"{'setting':<{width}}" + "".join(f"{n:>11}" for n in names) + f"{'seconds':>9}")
    for label, values, seconds in rows:
        print(f"{label:<{width}}" + "".join(f"{values['all'][n]:>11.3f}" for n in names) + f"{seconds:>9.0f}")
    sys.stdout.flush()


# --- the news sets: OrangeSum ----------------------------------------------------------------------

def read_orangesum() -> list[dict[str, str]]:
    """Every article, its id as a string (as our hits and stock's show it)."""
    with gzip.open(ORANGESUM / "orangesum_all.jsonl.gz", "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    for record in records:
        record["id"] = str(record["id"])
    return records


def duplicates() -> dict[str, set[str]]:
    """Each duplicated article's id and the ids of its set of duplicates (itself included)."""
    groups: dict[str, set[str]] = {}
    with open(ORANGESUM / "list_of_duplicates.txt", encoding="utf-8") as fh:
        for line in fh:
            ids = {name.strip().removesuffix(".json") for name in line.split(",") if name.strip()}
            for one in ids:
                groups.setdefault(one, set()).update(ids)
    return groups


EXTRA_STOP_WORDS = {
    "les", "ils", "elles", "leurs", "cette", "cet", "comme", "plus", "très", "sans", "sous", "chez", "dont",
    "quand", "où", "donc", "car", "si", "non", "oui", "ici", "aussi", "encore", "déjà", "tout", "tous",
    "toute", "toutes",
}
"""Words Whoosh's French list lacks that nobody would type to find a headline."""


def _stop_words() -> set[str]:
    """Whoosh's French stop words and a few more, fixed here: the sets must not
    change when our analyser does."""
    from whoosh.lang import stopwords_for_language

    return set(stopwords_for_language("fr")) | EXTRA_STOP_WORDS


def title_words(title: str, stops: set[str]) -> list[tuple[int, int]]:
    """The spans of the words of ``title`` a reader might remember: no stop
    word, no elided article (l'État gives État), at least three characters,
    at least one letter."""
    spans = []
    for match in _WORD.finditer(title):
        start, word = match.start(), match.group()
        parts = re.split(f"[{APOSTROPHES}]", word, maxsplit=1)
        if len(parts) == 2 and parts[0].lower() in ELISIONS:
            start += len(parts[0]) + 1
            word = parts[1]
        if len(word) >= 3 and _LETTERS.search(word) and word.lower() not in stops:
            spans.append((start, start + len(word)))
    return spans


def headline_set(records: list[dict[str, str]], groups: dict[str, set[str]], count: int) -> QuerySet:
    """``count`` queries of 2 to 4 words of a random article's title, in title order."""
    stops = _stop_words()
    rng = random.Random(SEED)
    texts: list[str] = []
    relevant: list[set[str]] = []
    halves: list[str] = []
    seen: set[str] = set()
    while len(texts) < count:
        record = rng.choice(records)
        spans = title_words(record["title"] or "", stops)
        size = rng.randint(2, 4)
        if record["id"] in seen or len(spans) < size:
            continue
        seen.add(record["id"])
        picked = sorted(rng.sample(range(len(spans)), size))
        texts.append(" ".join(record["title"][spans[i][0]:spans[i][1]] for i in picked))
        relevant.append(groups.get(record["id"], {record["id"]}))
        halves.append(half_of(record["id"]))
    return QuerySet("headlines", texts, relevant, halves)


def apostrophe_sets(records: list[dict[str, str]], groups: dict[str, set[str]]) -> tuple[QuerySet, ...]:
    """Queries of a title's apostrophe word and one or two other words of that title,
    typed with ', with ’ and without the apostrophe (the same answers)."""
    stops = _stop_words()
    by_word: dict[str, list[tuple[dict[str, str], tuple[int, int]]]] = {}
    for record in records:
        for match in _APOSTROPHE_WORD.finditer(record["title"] or ""):
            before = re.split(f"[{APOSTROPHES}]", match.group())[0]
            if before.lower() not in ELISIONS:
                key = re.sub(f"[{APOSTROPHES}]", "'", match.group().lower())
                by_word.setdefault(key, []).append((record, match.span()))
    rng = random.Random(SEED)
    texts: list[str] = []
    relevant: list[set[str]] = []
    halves: list[str] = []
    for word in sorted(by_word):
        found = by_word[word]
        for record, span in rng.sample(found, min(len(found), PER_APOSTROPHE_WORD)):
            title = record["title"]
            others = [s for s in title_words(title, stops) if s[1] <= span[0] or s[0] >= span[1]]
            picked = rng.sample(others, min(len(others), rng.randint(1, 2)))
            texts.append(" ".join(title[a:b] for a, b in sorted([span, *picked])))
            relevant.append(groups.get(record["id"], {record["id"]}))
            halves.append(half_of(record["id"]))
    straight = QuerySet("apostrophes", [re.sub(f"[{APOSTROPHES}]", "'", t) for t in texts], relevant, halves)
    return (straight, straight.variant([t.replace("'", "\u2019") for t in straight.texts]),
            straight.variant([t.replace("'", "") for t in straight.texts]))


_CONFUSED = {"é": "è", "è": "é", "ê": "è"}
"""The accents people put one for another; any other accent is dropped."""


def typo(word: str, rng: random.Random) -> str | None:
    """``word`` with one typo of a kind it allows, the first letter kept; None if none fits."""
    kinds = []
    swaps = [i for i in range(1, len(word) - 1) if word[i] != word[i + 1]]
    if swaps:
        kinds.append("swap")
    if len(word) >= 4:
        kinds += ["drop", "double"]
    accented = [i for i, c in enumerate(word) if unicodedata.decomposition(c)]
    if accented:
        kinds.append("accent")
    if not kinds:
        return None
    kind = rng.choice(kinds)
    if kind == "swap":
        i = rng.choice(swaps)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        i = rng.randrange(1, len(word))
        return word[:i] + word[i + 1:]
    if kind == "double":
        i = rng.randrange(1, len(word))
        return word[:i + 1] + word[i] + word[i + 1:]
    i = rng.choice(accented)
    letter = word[i].lower()
    other = _CONFUSED.get(letter) if rng.random() < 0.5 else None
    swapped = other or unicodedata.normalize("NFD", letter)[0]
    return word[:i] + (swapped.upper() if word[i].isupper() else swapped) + word[i + 1:]


def typo_set(right: QuerySet) -> QuerySet:
    """Each query of ``right`` with one typo in one of its words of four letters
    or more (not a stop word); the query's own seed makes it independent of the others."""
    stops = _stop_words()
    texts = []
    for number, text in enumerate(right.texts):
        rng = random.Random(f"{SEED}:{number}:{text}")
        spans = [(a, b) for a, b in title_words(text, stops) if b - a >= 4 and text[a:b].isalpha()]
        changed = None
        for a, b in rng.sample(spans, len(spans)):
            changed = typo(text[a:b], rng)
            if changed is not None:
                texts.append(text[:a] + changed + text[b:])
                break
        if changed is None:
            texts.append(text)
    return right.variant(texts)


@dataclass
class News:
    """The OrangeSum indexes, each built once a run (or reused from ``--index-dir``)."""

    folder: Path
    jobs: int
    rebuild: bool
    _records: list[dict[str, str]] | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def records(self) -> list[dict[str, str]]:
        if self._records is None:
            self._records = read_orangesum()
        return self._records

    def _ready(self, name: str, ours_index: bool) -> Path | None:
        """The index's folder, None when it must be built (cleared first)."""
        from whoosh import index

        from searchengine.indexing import INDEX_NAME

        folder = self.folder / name
        kind = {"indexname": INDEX_NAME} if ours_index else {}
        if not self.rebuild and folder.is_dir() and index.exists_in(str(folder), **kind):
            if name not in _BUILT:
                print(f"  index {name}: reused from {folder}")
                _BUILT.add(name)
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        _BUILT.add(name)
        return None

    def ours_bodies(self) -> Path:
        found = self._ready("ours_bodies", True)
        if found is None:
            found = self.folder / "ours_bodies"
            bodies = self.folder / "orangesum_bodies.jsonl"
            with open(bodies, "w", encoding="utf-8") as out:
                for record in self.records():
                    out.write(json.dumps({"id": record["id"], "article": record["article"]}) + "\n")
            seconds = build_ours(found, [bodies], fields={"body": "article"}, jobs=self.jobs)
            bodies.unlink()
            print(f"  index ours, bodies only: {seconds:.0f} s", flush=True)
        return found

    def stock_bodies(self) -> Path:
        found = self._ready("stock_bodies", False)
        if found is None:
            found = self.folder / "stock_bodies"
            docs = ({"id": r["id"], "body": r["article"]} for r in self.records())
            print(f"  index stock fr, bodies only: {build_stock(found, 'fr', docs, ('body',)):.0f} s", flush=True)
        return found

    def ours_full(self) -> Path:
        found = self._ready("ours_full", True)
        if found is None:
            found = self.folder / "ours_full"
            seconds = build_ours(found, [ORANGESUM / "orangesum_all.jsonl.gz"], jobs=self.jobs)
            print(f"  index ours, title, lede and body: {seconds:.0f} s", flush=True)
        return found

    def stock_full(self) -> Path:
        found = self._ready("stock_full", False)
        if found is None:
            found = self.folder / "stock_full"
            docs = ({"id": r["id"], "title": r["title"], "lede": r["heading"], "body": r["article"]}
                    for r in self.records())
            seconds = build_stock(found, "fr", docs, STOCK_FULL_FIELDS)
            print(f"  index stock fr, title, lede and body: {seconds:.0f} s", flush=True)
        return found


_BUILT: set[str] = set()
STOCK_FULL_FIELDS = ("title", "lede", "body")
STOCK_TITLE_BOOST = {"title": 2.0}


def knownitem_set() -> QuerySet:
    texts, relevant, halves = [], [], []
    with open(ORANGESUM / "knownitem_title_test.tsv", encoding="utf-8") as fh:
        next(fh)  # qid, query, relevant_doc_id
        for line in fh:
            _, text, docid = line.rstrip("\n").split("\t")
            texts.append(text)
            relevant.append({docid})
            halves.append(half_of(docid))
    return QuerySet("known-item titles", texts, relevant, halves)


def knownitem(news: News, jobs: int, tune: bool) -> None:
    started = time.perf_counter()
    queries = knownitem_set()
    print(f"\nOrangeSum known-item: {len(queries.texts)} titles against the bodies of every article "
          f"({queries.halves.count('tune')} tune, {queries.halves.count('held-out')} held-out)")
    rows = [
        evaluate("ours (Snowball)", ours(news.ours_bodies()), queries, jobs),
        evaluate("stock fr", stock(news.stock_bodies(), ("body",)), queries, jobs),
    ]
    table("OrangeSum known-item titles, body-only index", rows)
    if tune:
        tune_ours("OrangeSum known-item titles", news.ours_bodies(), queries, jobs)
    print(f"  known-item section: {time.perf_counter() - started:.0f} s in all")


def typos(news: News, jobs: int) -> None:
    started = time.perf_counter()
    groups = duplicates()
    known = knownitem_set()
    right = QuerySet("typos", known.texts, [groups.get(min(r), r) for r in known.relevant], known.halves)
    wrong = typo_set(right)
    changed = sum(a != b for a, b in zip(right.texts, wrong.texts, strict=True))
    print(f"\nOrangeSum typos: {len(right.texts)} known-item titles, {changed} with one typo, "
          "typed right and with the typo, against the bodies (duplicates count as hits)")
    rows = [evaluate("ours, typed right", ours(news.ours_bodies()), right, jobs),
            evaluate("ours, one typo", ours(news.ours_bodies()), wrong, jobs)]
    table("OrangeSum known-item titles with a typo, body-only index", rows)
    print(f"  typo section: {time.perf_counter() - started:.0f} s in all")


def apostrophes(news: News, jobs: int) -> None:
    started = time.perf_counter()
    straight, curly, without = apostrophe_sets(news.records(), duplicates())
    words = sorted({w.lower() for t in straight.texts for w in _APOSTROPHE_WORD.findall(t)
                    if w.split("'")[0].lower() not in ELISIONS})
    print(f"\nOrangeSum apostrophes: {len(straight.texts)} queries of 2-3 title words, one spelled with an "
          f"apostrophe ({len(words)} words: {', '.join(words)}), against title, lede and body")
    folder = news.ours_full()
    rows = [evaluate("ours, typed with '", ours(folder), straight, jobs),
            evaluate("ours, typed with \u2019", ours(folder), curly, jobs),
            evaluate("ours, no apostrophe", ours(folder), without, jobs)]
    table("OrangeSum apostrophe words, index of title, lede and body", rows)
    print(f"  apostrophe section: {time.perf_counter() - started:.0f} s in all")


def headlines(news: News, jobs: int, count: int, tune: bool) -> None:
    started = time.perf_counter()
    queries = headline_set(news.records(), duplicates(), count)
    print(f"\nOrangeSum headlines: {len(queries.texts)} queries of 2-4 words of an article's own title "
          f"({queries.halves.count('tune')} tune, {queries.halves.count('held-out')} held-out), "
          "against title, lede and body (duplicates count as hits)")
    rows = [evaluate("ours (Snowball)", ours(news.ours_full()), queries, jobs),
            evaluate("stock fr, title x2", stock(news.stock_full(), STOCK_FULL_FIELDS, STOCK_TITLE_BOOST),
                     queries, jobs)]
    table("OrangeSum headline words, index of title, lede and body", rows)
    if tune:
        tune_ours("OrangeSum headline words", news.ours_full(), queries, jobs)
    print(f"  headline section: {time.perf_counter() - started:.0f} s in all")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="query and indexing processes (default 2)")
    parser.add_argument("--sample", type=int, default=1, help="keep every Nth PIAF question")
    parser.add_argument("--tune", action="store_true", help="also try ranking settings (on the tune halves)")
    parser.add_argument("--knownitem", action="store_true", help="add OrangeSum known-item titles (minutes)")
    parser.add_argument("--typos", action="store_true", help="add known-item titles with a typo each")
    parser.add_argument("--apostrophes", action="store_true", help="add title words spelled with an apostrophe")
    parser.add_argument("--headlines", action="store_true", help="add 2-4 title words against titles indexed")
    parser.add_argument("--news", action="store_true", help="all four OrangeSum sets")
    parser.add_argument("--headline-count", type=int, default=200, help="headline queries (default 200)")
    parser.add_argument("--index-dir", type=Path, help="keep the OrangeSum indexes here, and reuse them")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the indexes kept in --index-dir")
    parser.add_argument("--all", action="store_true",
                        help="also run the light stemmer on accentless questions")
    parser.add_argument("--no-piaf", action="store_true", help="skip the main PIAF tables (--tune still runs)")
    args = parser.parse_args()
    if not (PIAF / "piaf_v1.1_corpus.jsonl").is_file():
        print(f"skipped: PIAF corpus not found under {SHARED} (../shared is absent on this machine)")
        return 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="newsearch-relevance-") as tmp:
        if not args.no_piaf or args.tune:
            piaf(Path(tmp), args.jobs, max(1, args.sample), not args.no_piaf, args.tune, args.all)
        news = News(args.index_dir or Path(tmp) / "orangesum", args.jobs, args.rebuild)
        if args.knownitem or args.news:
            knownitem(news, args.jobs, args.tune)
        if args.typos or args.news:
            typos(news, args.jobs)
        if args.apostrophes or args.news:
            apostrophes(news, args.jobs)
        if args.headlines or args.news:
            headlines(news, args.jobs, args.headline_count, args.tune)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
