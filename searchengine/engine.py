"""SearchEngine: the one object embedders need, and the one the CLI uses.

A query flows down once: parse (``queries``) → expand names (``names``) →
plan (``plan``) → rank (``ranking``) → results (``results``). Everything a
query produces belongs to it; what queries share is a :class:`_Snapshot`, the
index as of one commit, which is only read. A new commit (by this engine or
another process) gives a new snapshot for the queries that start after it,
while queries already running finish on theirs, so one engine can serve many
threads while a writer commits.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import whoosh
from whoosh.automata.fsa import ANY, DFA, EPSILON, NFA

from .analysis import FrenchAnalyzer, fold
from .duplicates import DuplicateGroups, load_groups, stored_groups
from .errors import ArticleNotFound, BadQuery, IndexCorrupt, NewsearchError
from .glued import GluedFile
from .indexing import INDEX_NAME, open_index
from .names import NameTable, load_names
from .plan import QueryPlan, plan_query, plan_similar
from .queries import FIELDS, parse_query
from .ranking import Filters, RankingSettings, rank
from .results import ArticleView, SearchResults, article_view, build_results
from .scoring import IndexArrays
from .snippets import ArticleText, Highlighter
from .whooshformat import StoredFields, ids_in_tables

if TYPE_CHECKING:
    from .cluster import ClusterCheck, ClusterHome
    from .errors import BadArticle
    from .facets import Facets
    from .indexing import IndexReport, Progress
    from .scoring import DocIds
    from .whooshformat import Verification

__all__ = ["IndexInfo", "SearchEngine"]

_DAMAGE = (struct.error, zlib.error, pickle.UnpicklingError, EOFError, OSError, UnicodeDecodeError)
"""What only reading the index's files raises: a damaged or vanished file."""
_DECODING = (IndexError, ValueError, KeyError, TypeError, AttributeError)
"""What decoding a damaged file raises, in Whoosh or in the modules that read
its format; raised anywhere else, it is a bug and is not disguised as damage."""
_READERS = (os.path.dirname(whoosh.__file__) + os.sep,
            *(os.path.dirname(__file__) + os.sep + name for name in ("scoring.py", "whooshformat.py", "scorelists.py",
                                                                  "storedtext.py", "idtable.py")))
T = TypeVar("T")
_OPEN_ATTEMPTS = 3
"""A commit can remove a segment between reading the TOC and opening it: open again."""
_TYPO_PREFIX = 1
"""Letters a close spelling shares with the word typed: typos are rarely in
the first letter, and keeping it makes the search many times faster."""
_STEPS = 8
"""Words read one after another before the typo search seeks in the term table."""


@lru_cache(maxsize=16)
def _typo_automaton(word: str, distance: int) -> DFA:
    """The words within ``distance`` typos of ``word`` that share its first
    letter, a typo being a letter added, dropped or replaced, or two
    neighbours swapped (Damerau-Levenshtein as optimal string alignment).
    Whoosh's own automaton counts a swap as two typos, and its reader of
    several segments compares every word by hand. Built once per word, then
    read by every field and segment; the last few are kept, since a query is
    often run again for its next page (one of 40 letters takes about 1 MB)."""
    n = len(word)
    nfa = NFA((0, 0))
    for i in range(min(_TYPO_PREFIX, n)):
        nfa.add_transition((i, 0), word[i], (i + 1, 0))
    for i in range(min(_TYPO_PREFIX, n), n):
        for e in range(distance + 1):
            nfa.add_transition((i, e), word[i], (i + 1, e))
            if e == distance:
                continue
            nfa.add_transition((i, e), ANY, (i, e + 1))  # a letter added
            nfa.add_transition((i, e), EPSILON, (i + 1, e + 1))  # dropped
            nfa.add_transition((i, e), ANY, (i + 1, e + 1))  # replaced
            if i + 1 < n and word[i] != word[i + 1]:  # swapped with the next
                nfa.add_transition((i, e), word[i + 1], (i, e, "swap"))
                nfa.add_transition((i, e, "swap"), word[i], (i + 2, e + 1))
    for e in range(distance + 1):
        if e < distance:
            nfa.add_transition((n, e), ANY, (n, e + 1))
        nfa.add_final_state((n, e))
    dfa: DFA = nfa.to_dfa()
    return dfa


def _accepted(automaton: DFA, cursor: Any) -> Iterator[str]:
    """The words of a field (a Whoosh term cursor) that ``automaton`` accepts.

    Like Whoosh's own walk, it skips to the next string the automaton could
    accept; but it first reads the next few words in order, since a seek in
    the term table is a binary search over every field's words and the word
    sought is often a few words on (twice as fast on OrangeSum)."""
    term = cursor.text()
    while term is not None:
        wanted = automaton.next_valid_string(term)
        if wanted is None:
            return
        if wanted == term:
            yield term
            term = cursor.next()
            continue
        for _ in range(_STEPS):
            term = cursor.next()
            if term is None or term >= wanted:
                break
        else:
            term = cursor.find(wanted)


@dataclass(frozen=True)
class IndexInfo:
    """What :meth:`SearchEngine.info` tells of an index (a docstring of its
    own also spares ``dataclasses`` computing its signature to make one)."""

    path: str
    articles: int
    terms: int
    size_bytes: int
    last_update: dt.datetime | None
    analyzer: str


class _Snapshot:
    """The index as of one commit, shared by the queries that run on it."""

    def __init__(self, path: Path, names: str | os.PathLike[str] | None) -> None:
        self.path = path
        self.index = open_index(path)
        try:
            self.searcher = self.index.searcher()
            self.arrays = IndexArrays(self.searcher)
            self.stored = StoredFields(self.searcher.reader())
            """Each document's stored fields, its texts included unless ``texts=False``."""
        except (*_DAMAGE, *_DECODING) as exc:
            raise IndexCorrupt(path, str(exc) or type(exc).__name__) from exc
        self.analyzer: FrenchAnalyzer = self.searcher.schema["body"].analyzer
        self.ids_in_tables = ids_in_tables(self.searcher.schema)
        self.names: NameTable = load_names(self.analyzer, names)
        self.glued = GluedFile(path, INDEX_NAME, self.arrays.reader.generation())

    def up_to_date(self) -> bool:
        return bool(self.searcher.up_to_date())

    # What planning reads of the vocabulary.
    @property
    def size(self) -> int:
        return self.arrays.size

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return self.arrays.doc_frequency(fieldname, term)

    def terms_within(self, fieldname: str, term: str, distance: int) -> Iterable[str]:
        automaton = _typo_automaton(term, distance)
        found: set[str] = set()
        for leaf, _ in self.arrays.reader.leaf_readers():
            found.update(_accepted(automaton, leaf.cursor(fieldname)))
        return found

    def expand_prefix(self, fieldname: str, prefix: str) -> Iterator[str]:
        for term in self.arrays.reader.expand_prefix(fieldname, prefix):
            yield term.decode("utf-8") if isinstance(term, bytes) else term

    def reader(self, highlighter: Highlighter) -> Callable[[int], ArticleText]:
        def read(doc: int) -> ArticleText:
            stored = self.stored(doc)
            return ArticleText({**stored, "id": self._shown_id(doc, stored)}, highlighter, self.analyzer)

        return read

    def _shown_id(self, doc: int, stored: Mapping[str, object]) -> str:
        """An article's id as hits show it: ``path#id`` where several share it
        (the path is read only then: a stored-text file may hold it)."""
        own = str(stored.get("id", ""))
        if len(self.with_id(own)) < 2:
            return own
        path = stored["path"] if "path" in stored else self.stored(doc).get("path", "")
        return f"{path}#{own}"

    def shown_id(self, doc: int) -> str:
        return self._shown_id(doc, self.stored(doc, texts=False))

    @cached_property
    def duplicates(self) -> DuplicateGroups | None:
        """The snapshot's groups of duplicates, read on the first query that
        folds them from the file its commit wrote, or else computed from the
        keys (an index written by older code, or a query between a commit and
        its file); None for an index built without duplicate keys."""
        stored = stored_groups(self.path, INDEX_NAME, self.searcher)
        return stored if stored is not None else load_groups(self.searcher, self.arrays.live)

    def with_id(self, article_id: str) -> list[int]:
        """The live documents whose id is ``article_id``: found through the
        segments' id tables, or the id's term in an index written before them."""
        if self.ids_in_tables:
            found = self.stored.with_id(article_id)
        else:
            found = self.arrays.postings("id", article_id)[0].tolist()
        return [d for d in found if self.arrays.live[d]]

    def surface(self, term: str) -> str | None:
        """The word as an article writes it (accents, case) for an index term."""
        for name in ("title", "lede", "body"):
            holders = self.arrays.postings(name, term)[0]
            if not len(holders):
                continue
            text = self.stored(int(holders[0])).get(name, "")
            for found, start, end, _ in self.analyzer.analyse(text):
                if found == term:
                    return str(text[start:end])
        return None

    def facets(self, docs: DocIds) -> Facets:
        from .facets import count_facets  # here: only the search page counts them

        reader = self.searcher.reader()
        terms = [t.decode("utf-8") if isinstance(t, bytes) else t for t in reader.lexicon("source_id")]
        date_field = self.searcher.schema["date"]
        return count_facets(self.arrays, docs, terms,
                            lambda doc: str(self.stored(doc, texts=False).get("source", "")),
                            date_field.from_column_value)

    def find(self, article_id: str) -> int:
        """The document of an id as :class:`~searchengine.results.Hit` shows it:
        the article's own id, or ``path#id`` where several articles share it."""
        docs = self.with_id(article_id)
        if len(docs) == 1:
            return docs[0]
        if len(docs) > 1:
            places = ", ".join(f"{self.stored(d).get('path', '')}#{article_id}" for d in docs[:5])
            raise ArticleNotFound(article_id, f"{len(docs)} articles have the id {article_id!r}: name one as {places}")
        path, sep, own = article_id.rpartition("#")
        if sep:
            for doc in self.with_id(own):
                if self.stored(doc).get("path") == path:
                    return doc
        raise ArticleNotFound(article_id)


def _raised_reading(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the code that decodes the index's files."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and last.tb_frame.f_code.co_filename.startswith(_READERS)


def _as_date(value: dt.date | str | None, name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a date or a string, not {type(value).__name__}")
    from .articles import parse_date

    parsed = parse_date(value)
    if parsed is None:
        raise ValueError(f"{name}: cannot read {value!r} as a date (try 2023-09-12 or 12/09/2023)")
    return parsed


def _positive(value: object, name: str, least: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    if value < least:
        raise ValueError(f"{name} must be at least {least}, not {value}")


class SearchEngine:
    """A French news index in one folder; safe to share between threads.

    >>> with SearchEngine("index") as engine:
    ...     engine.index(["seeds"])
    ...     for hit in engine.search("Kim Poutine"):
    ...         print(hit.title)
    """

    def __init__(self, path: str | os.PathLike[str] = "index", *,
                 names: str | os.PathLike[str] | None = None, settings: RankingSettings | None = None,
                 opensearch: str | Sequence[str] | None = None, opensearch_index: str = "newsearch") -> None:
        """``names``: a file of extra name variants, added to the shipped
        table. ``settings``: the ranking's knobs (the measured defaults if None).
        ``opensearch``: node URLs (``http://host:9200,...``) of an OpenSearch
        cluster holding the index ``opensearch_index``, in place of the folder
        ``path`` (see :mod:`searchengine.cluster`)."""
        self.path = Path(path)
        self.settings = settings or RankingSettings()
        self._names_file = names
        self._cluster: ClusterHome | None = None
        if opensearch:
            from .cluster import ClusterHome

            self._cluster = ClusterHome(opensearch, opensearch_index, names, self.settings)
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None

    def __enter__(self) -> SearchEngine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Let go of the open index; queries still running finish on it."""
        with self._lock:
            self._snapshot = None

    def _current(self) -> _Snapshot:
        """The snapshot of the latest commit, opened once per commit."""
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.up_to_date():
                return snapshot
            for attempt in range(_OPEN_ATTEMPTS):
                try:
                    snapshot = _Snapshot(self.path, self._names_file)
                    break
                except (IndexCorrupt, OSError):
                    if attempt == _OPEN_ATTEMPTS - 1:
                        raise
            assert snapshot is not None
            self._snapshot = snapshot
            return snapshot

    def _read(self, work: Callable[[_Snapshot], T]) -> T:
        """``work`` done on the current snapshot. A commit that removes files
        under a running query (a merge deletes the segments it merged) gives
        the query another go on the new snapshot; whatever else a damaged file
        raises becomes :class:`IndexCorrupt`."""
        for attempt in range(_OPEN_ATTEMPTS):
            snapshot = None
            try:
                snapshot = self._current()
                return work(snapshot)
            except NewsearchError:
                raise
            except Exception as exc:  # noqa: BLE001 - sorted below: a vanished file, damage, or a bug
                if (isinstance(exc, FileNotFoundError) and attempt < _OPEN_ATTEMPTS - 1
                        and (snapshot is None or not snapshot.up_to_date())):
                    continue
                if not (isinstance(exc, _DAMAGE) or type(exc).__module__.startswith("whoosh.")
                        or isinstance(exc, _DECODING) and _raised_reading(exc)):
                    raise
                raise IndexCorrupt(self.path, f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def index(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = ("seeds",),
        *,
        rebuild: bool = False,
        fields: Mapping[str, str] | None = None,
        wait: float = 0.0,
        memory_mb: int = 256,
        jobs: int = 1,
        on_problem: Callable[[BadArticle], None] | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> IndexReport:
        """Add, update and remove articles so the index matches ``paths`` (one
        path, or several)."""
        from .articles import FIELD_NAMES
        from .indexing import update_index

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        paths = list(paths)
        for p in paths:
            if not isinstance(p, (str, os.PathLike)):
                raise TypeError(f"paths must be paths (str or os.PathLike), not {type(p).__name__}")
        unknown = sorted(set(fields or {}) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r} in fields: expected one of {', '.join(FIELD_NAMES)}")
        _positive(memory_mb, "memory_mb", 16)
        _positive(jobs, "jobs")
        if self._cluster is not None:
            return self._cluster.update([Path(p) for p in paths], rebuild=rebuild, fields=fields,
                                        on_problem=on_problem, progress=progress, wait=wait, jobs=jobs,
                                        memory_mb=memory_mb)
        report = update_index(
            self.path, paths, rebuild=rebuild, fields=fields, wait=wait, memory_mb=memory_mb,
            jobs=jobs, on_problem=on_problem, progress=progress,
        )
        self.close()
        return report

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        source: str | None = None,
        sort: str = "relevance",
        fragments: int = 1,
        fragment_size: int = 200,
        facets: bool = False,
        collapse: bool = True,
    ) -> SearchResults:
        """Page ``page`` of ``limit`` hits for ``query`` (see the README for the
        syntax); ``facets``: also count the matching articles per year and
        source. ``collapse``: fold duplicates into the best-ranked copy (each
        hit lists those it stands for); False lists every matching article."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a string, not {type(query).__name__}")
        if sort not in ("relevance", "date"):
            raise ValueError(f"sort must be 'relevance' or 'date', not {sort!r}")
        if source is not None and not isinstance(source, str):
            raise TypeError(f"source must be a string, not {type(source).__name__}")
        for value, name, least in ((limit, "limit", 1), (page, "page", 1), (fragments, "fragments", 1),
                                   (fragment_size, "fragment_size", 20)):
            _positive(value, name, least)
        if not isinstance(collapse, bool):
            raise TypeError(f"collapse must be True or False, not {type(collapse).__name__}")
        start, end = _as_date(since, "since"), _as_date(until, "until")
        filters = Filters(
            since=dt.datetime.combine(start, dt.time()) if start else None,
            until=dt.datetime.combine(end, dt.time.max) if end else None,
            sources=(fold(source),) if source else (),
        )
        parsed = parse_query(query)
        if parsed.excluded and not parsed.groups:
            raise BadQuery(query, "it only excludes words; add a word to look for")
        if self._cluster is not None:
            return self._cluster.search(query, parsed, filters, sort, page, limit, fragments, fragment_size, facets,
                                        collapse)

        def work(snapshot: _Snapshot) -> SearchResults:
            plan = plan_query(snapshot.names.expand(parsed), snapshot, snapshot.analyzer, self.settings)
            return self._results(snapshot, query, plan, filters, sort, page, limit, fragments, fragment_size,
                                 facets, collapse)

        return self._read(work)

    def _results(self, snapshot: _Snapshot, query: str, plan: QueryPlan, filters: Filters, sort: str,
                 page: int, limit: int, fragments: int, fragment_size: int, facets: bool = False,
                 collapse: bool = True) -> SearchResults:
        read = snapshot.reader(plan.highlighter)
        groups = snapshot.duplicates if collapse else None
        ranking = rank(snapshot.arrays, plan, self.settings, filters, sort=sort,
                       start=(page - 1) * limit, stop=page * limit, read=read,
                       folding=groups, count_all=facets)

        def folded(doc: int) -> tuple[str, ...]:
            return tuple(snapshot.shown_id(d) for d in groups.folded(doc, ranking.matched)) if groups else ()

        return build_results(query, plan, ranking, read=read, surface=snapshot.surface, page=page,
                             limit=limit, fragments=fragments, fragment_size=fragment_size,
                             facets=snapshot.facets(ranking.matched) if facets else None, folded=folded)

    def article(self, article_id: str, *, highlight: str | None = None) -> ArticleView:
        """The whole article with id ``article_id`` (as a hit shows it), with
        the words of the query ``highlight`` marked, if given."""
        if not isinstance(article_id, str):
            raise TypeError(f"article_id must be a string, not {type(article_id).__name__}")
        if highlight is not None and not isinstance(highlight, str):
            raise TypeError(f"highlight must be a string, not {type(highlight).__name__}")
        if self._cluster is not None:
            return self._cluster.article(article_id, highlight)

        def work(snapshot: _Snapshot) -> ArticleView:
            doc = snapshot.find(article_id)
            highlighter = Highlighter()
            if highlight:
                parsed = snapshot.names.expand(parse_query(highlight))
                highlighter = plan_query(parsed, snapshot, snapshot.analyzer, self.settings).highlighter
            return article_view(snapshot.reader(highlighter)(doc))

        return self._read(work)

    def similar(self, article_id: str, *, limit: int = 10, fragments: int = 1,
                fragment_size: int = 200) -> SearchResults:
        """The articles closest to one article, itself and its duplicates
        excluded, duplicates among them folded as :meth:`search` does."""
        if not isinstance(article_id, str):
            raise TypeError(f"article_id must be a string, not {type(article_id).__name__}")
        for value, name, least in ((limit, "limit", 1), (fragments, "fragments", 1),
                                   (fragment_size, "fragment_size", 20)):
            _positive(value, name, least)
        if self._cluster is not None:
            return self._cluster.similar(article_id, limit, fragments, fragment_size)

        def work(snapshot: _Snapshot) -> SearchResults:
            doc = snapshot.find(article_id)
            stored = snapshot.stored(doc)
            plan = plan_similar({f: stored.get(f, "") for f in FIELDS}, snapshot, snapshot.analyzer,
                                self.settings)
            groups = snapshot.duplicates
            itself = tuple(groups.members(doc)) if groups else (doc,)
            return self._results(snapshot, f"similar to {article_id}", plan, Filters(exclude=itself),
                                 "relevance", 1, limit, fragments, fragment_size)

        return self._read(work)

    def check(self) -> Verification | ClusterCheck:
        """Read every file of the index and compare it with the checksum its
        commit recorded; raises :class:`IndexCorrupt` naming a damaged file.
        On OpenSearch, read the whole index as the cluster holds it (see
        :meth:`~searchengine.cluster.ClusterHome.check`)."""
        from .indexing import verify_index

        if self._cluster is not None:
            return self._cluster.check()
        return verify_index(self.path)

    def info(self) -> IndexInfo:
        """What is in the index and how big it is."""
        if self._cluster is not None:
            articles, terms, size, updated = self._cluster.info()
            return IndexInfo(path=f"{self._cluster.index} on {self._cluster.client.urls}", articles=articles,
                             terms=terms, size_bytes=size, last_update=updated,
                             analyzer="searchengine.analysis.FrenchAnalyzer")

        def work(snapshot: _Snapshot) -> IndexInfo:
            reader = snapshot.searcher.reader()
            terms = sum(1 for field, _ in reader.all_terms() if field in FIELDS)
            size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
            mtime = max((f.stat().st_mtime for f in self.path.glob("*.toc")), default=None)
            analyzer = type(snapshot.searcher.schema["body"].analyzer)
            return IndexInfo(
                path=str(self.path),
                articles=snapshot.searcher.doc_count(),
                terms=terms,
                size_bytes=size,
                last_update=dt.datetime.fromtimestamp(mtime) if mtime else None,
                analyzer=f"{analyzer.__module__}.{analyzer.__qualname__}",
            )

        return self._read(work)
