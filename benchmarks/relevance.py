"""Ranking quality on PIAF: our engine against stock Whoosh, same questions, same run.

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

Options: --tune also tries ranking settings (``RankingSettings``: field boosts,
stop-word weight, the bonuses of the rerank, BM25F B/K1), passed to
SearchEngine, on PIAF and on the known-item titles;
--knownitem adds OrangeSum known-item title queries against a body-only index
of the 36k articles (several minutes); --sample N keeps every Nth question
(quick looks); --jobs N runs queries in N forked processes.

    python benchmarks/relevance.py [--jobs 2] [--tune] [--knownitem] [--sample N]

Skips (exit 0) when ../shared is not there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from searchengine.analysis import FrenchAnalyzer

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PIAF = SHARED / "corpora" / "piaf"
ORANGESUM = SHARED / "corpora" / "orangesum"
K = 10

Search = Callable[[str], list[str]]
"""A ranked list of document ids for a query."""


# --- data and metrics -----------------------------------------------------------------------------

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
    """MRR@10, nDCG@10 (binary gains) and Recall@10, averaged over the queries."""
    mrr = ndcg = recall = 0.0
    for ranked, rel in zip(runs, relevant, strict=True):
        ranked = ranked[:K]
        hits = [i for i, doc in enumerate(ranked) if doc in rel]
        if hits:
            mrr += 1 / (hits[0] + 1)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(rel), K)))
        ndcg += sum(1 / math.log2(i + 2) for i in hits) / ideal
        recall += len(hits) / len(rel)
    n = len(runs)
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
               analyzer: FrenchAnalyzer | None = None) -> float:
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
        report = engine.index(paths, fields=fields, memory_mb=512)
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


def stock(folder: Path, fields: tuple[str, ...]) -> Callable[[], Search]:
    def factory() -> Search:
        from whoosh import index
        from whoosh.qparser import MultifieldParser, OrGroup

        ix = index.open_dir(str(folder))
        searcher = ix.searcher()
        parser = MultifieldParser(list(fields), ix.schema, group=OrGroup)

        def search(text: str) -> list[str]:
            # A question's "?" is a wildcard to Whoosh's parser (text:?): drop it.
            query = parser.parse(text.translate(_WILDCARDS))
            return [hit["id"] for hit in searcher.search(query, limit=K)]

        return search

    return factory


# --- the report ------------------------------------------------------------------------------------

def table(title: str, rows: list[tuple[str, dict[str, float], float]]) -> None:
    names = list(rows[0][1])
    width = max(len(r[0]) for r in rows) + 2
    print(f"\n{title}")
    print(f"{'system':<{width}}" + "".join(f"{n:>11}" for n in names) + f"{'seconds':>9}")
    for label, values, seconds in rows:
        print(f"{label:<{width}}" + "".join(f"{values[n]:>11.3f}" for n in names) + f"{seconds:>9.0f}")
    sys.stdout.flush()


def evaluate(label: str, factory: Callable[[], Search], texts: list[str], relevant: list[set[str]],
             jobs: int) -> tuple[str, dict[str, float], float]:
    started = time.perf_counter()
    runs = run_queries(factory, texts, jobs)
    row = (label, scores(runs, relevant), time.perf_counter() - started)
    print(f"  {label}: MRR@10 {row[1]['MRR@10']:.3f} ({row[2]:.0f} s)", flush=True)
    return row


def piaf(tmp: Path, jobs: int, sample: int, main_tables: bool, tune: bool, all_runs: bool) -> None:
    from unidecode import unidecode

    queries, qrels = load_piaf()
    queries = queries[::sample]
    texts = [text for _, text in queries]
    plain = [unidecode(text) for text in texts]
    relevant = [qrels[qid] for qid, _ in queries]
    corpus = PIAF / "piaf_v1.1_corpus.jsonl"
    print(f"PIAF: {len(texts)} questions on 1,518 paragraphs, {jobs} process(es)")

    def docs() -> Iterator[dict[str, str]]:
        with open(corpus, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                yield {"id": record["id"], "text": f"{record['title']}\n{record['text']}"}

    if not main_tables:
        if tune:
            print(f"  index ours: {build_ours(tmp / 'ours', [corpus]):.1f} s")
            tune_ours("PIAF", tmp / "ours", texts, relevant, jobs)
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
    for questions, name in ((texts, "accented"), (plain, "accents stripped")):
        rows = [evaluate(label, factory, questions, relevant, jobs) for label, factory in systems]
        if questions is texts or all_runs:
            # Both our variants fold accents before stemming, so stripped questions change little.
            rows.insert(1, evaluate("ours+light stemmer", ours(tmp / "light"), questions, relevant, jobs))
        table(f"PIAF, questions {name}", rows)
    if tune:
        tune_ours("PIAF", tmp / "ours", texts, relevant, jobs)


TRIALS: list[tuple[str, dict[str, object]]] = [
    ("defaults (title 2, stop 0.2, proximity 2, exact forms 0.5, pairs 0.5, K1 1.2)", {}),
    ("no proximity bonus", {"proximity_weight": 0.0}),
    ("proximity 8", {"proximity_weight": 8.0}),
    ("no exact-form bonus", {"exact_form_weight": 0.0}),
    ("no word-pair bonus", {"word_pair_weight": 0.0}),
    ("coverage, not its square root", {"coverage_exponent": 1.0}),
    ("title 1.0", {"title_boost": 1.0}),
    ("stop words 0.5", {"stop_word_weight": 0.5}),
    ("BM25F K1 2.0", {"k1": 2.0}),
    ("BM25F B 0.9", {"b": 0.9}),
]
"""RankingSettings tried by --tune, each alone, on PIAF and (with --knownitem) on the news titles."""


def tune_ours(name: str, folder: Path, texts: list[str], relevant: list[set[str]], jobs: int) -> None:
    rows = [evaluate(label, ours(folder, **settings), texts, relevant, jobs) for label, settings in TRIALS]
    table(f"Tuning our engine on {name} (RankingSettings passed to SearchEngine)", rows)


# --- known-item: OrangeSum titles against bodies ----------------------------------------------------

def knownitem(tmp: Path, jobs: int, tune: bool) -> None:
    started = time.perf_counter()
    bodies = tmp / "orangesum_bodies.jsonl"
    with gzip.open(ORANGESUM / "orangesum_all.jsonl.gz", "rt", encoding="utf-8") as src, \
            open(bodies, "w", encoding="utf-8") as out:
        for line in src:
            record = json.loads(line)
            out.write(json.dumps({"id": str(record["id"]), "article": record["article"]}) + "\n")

    def docs() -> Iterator[dict[str, str]]:
        with open(bodies, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                yield {"id": record["id"], "body": record["article"]}

    queries, relevant = [], []
    with open(ORANGESUM / "knownitem_title_test.tsv", encoding="utf-8") as fh:
        next(fh)  # qid, query, relevant_doc_id
        for line in fh:
            _, text, docid = line.rstrip("\n").split("\t")
            queries.append(text)
            relevant.append({docid})
    print(f"\nOrangeSum known-item: {len(queries)} titles against the bodies of every article")
    print(f"  index ours: {build_ours(tmp / 'ki_ours', [bodies], fields={'body': 'article'}):.0f} s")
    print(f"  index stock fr: {build_stock(tmp / 'ki_fr', 'fr', docs(), ('body',)):.0f} s")
    rows = [
        evaluate("ours (Snowball)", ours(tmp / "ki_ours"), queries, relevant, jobs),
        evaluate("stock fr", stock(tmp / "ki_fr", ("body",)), queries, relevant, jobs),
    ]
    table("OrangeSum known-item titles, body-only index", rows)
    if tune:
        tune_ours("OrangeSum known-item titles", tmp / "ki_ours", queries, relevant, jobs)
    print(f"  known-item section: {time.perf_counter() - started:.0f} s in all")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="query processes (default 2)")
    parser.add_argument("--sample", type=int, default=1, help="keep every Nth PIAF question")
    parser.add_argument("--tune", action="store_true", help="also try ranking settings")
    parser.add_argument("--knownitem", action="store_true", help="add OrangeSum known-item titles (minutes)")
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
        if args.knownitem:
            knownitem(Path(tmp), args.jobs, args.tune)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
