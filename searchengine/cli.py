"""The `newsearch` command: parse options, call SearchEngine, render.

Library modules are imported inside the commands, so `newsearch --help`
and each command load only what they use.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import __version__
from .startup import importing_click

with importing_click():
    import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar returns

    from .engine import SearchEngine

    _DateType = click.ParamType[dt.date, str]
else:  # subscripted at run time, it would fail on the Clicks before ParamType was generic
    _DateType = click.ParamType

EXIT_FOUND, EXIT_NONE, EXIT_ERROR = 0, 1, 2
MEMORY_MB = 256
"""``index --memory``'s default, the library's ``memory_mb``."""
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
"""128 + SIGINT, 128 + SIGTERM: what a shell reports for a process those signals end."""


class Finished(SystemExit):
    """The end of a command that only read the index (``query``, ``similar``,
    ``show``, ``info``): :func:`main` then leaves without tearing the
    interpreter down, which frees every module and object one by one (2 % of
    a fresh query's instructions) for a process that holds nothing to save.
    Elsewhere (``cli()`` called in a program, click's test runner) it is the
    ``SystemExit`` it derives from."""


def main() -> None:
    """The ``newsearch`` program: :func:`cli`, ended at once after a command
    that only read (:class:`Finished`), once what it printed is flushed."""
    try:
        cli()
    except Finished as done:
        try:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:  # None: started without it (``>&-``)
                    stream.flush()
        except (OSError, ValueError):  # a closed pipe (``| head``) or file: Python's own exit reports it
            raise done from None
        os._exit(done.code if isinstance(done.code, int) else EXIT_ERROR)


class OutputFailed(click.ClickException):
    """A read-only command's output could not be written (standard output
    closed, a full disk): one line and exit status 2, as for any error, never
    a traceback nor a status that says the output was given."""

    exit_code = EXIT_ERROR

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot write the output: {reason}")


def _output(text: str, color: bool | None = None) -> None:
    """Write a command's output to stdout and flush it, so that a write that
    fails is :class:`OutputFailed` here. A closed pipe (``| head``) is left to
    click, which ends such a command quietly with status 1."""
    if sys.stdout is None:  # started without it (``>&-``)
        raise OutputFailed("standard output is closed")
    try:
        click.echo(text, nl=False, color=color)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputFailed(exc.strerror or str(exc)) from None


class Terminated(BaseException):
    """SIGTERM, raised where the process is, so that an indexing run undoes
    itself as it does for Ctrl-C. A BaseException, as KeyboardInterrupt is:
    no ``except Exception`` may swallow it."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


def _error(exc: BaseException, subcommand: str | None = None) -> tuple[str, int]:
    """The one mapping from what went wrong to the line on stderr and the exit
    status. The library's messages say what is wrong; what to do about it with
    this command line is said here."""
    from .errors import IndexCorrupt, IndexLocked, IndexNotFound

    if isinstance(exc, KeyboardInterrupt | Terminated):
        status = EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else EXIT_TERMINATED
        return "Interrupted: the index keeps its last committed state.", status
    if isinstance(exc, click.UsageError):
        # An option's own parser raises without a context: the command is the one being invoked.
        name = exc.ctx.info_name if exc.ctx and exc.ctx.parent else None if exc.ctx else subcommand
        command = f"newsearch {name}" if name else "newsearch"
        return f"Error: {exc.format_message()} (see `{command} --help`)", EXIT_ERROR
    advice = ""
    if isinstance(exc, IndexNotFound):
        advice = ": run `newsearch index` to build one"
    elif isinstance(exc, IndexLocked):
        advice = "; try again when it finishes, or pass --wait SECONDS"
    elif isinstance(exc, IndexCorrupt):
        advice = "; run `newsearch index --rebuild PATHS...` to build it again"
    return f"Error: {exc}{advice}", EXIT_ERROR


class NewsearchGroup(click.Group):
    """Turns our exceptions, a command's bad options, Ctrl-C and SIGTERM into
    one line on stderr and an exit status (see :func:`_error`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            previous = signal.signal(signal.SIGTERM, _terminate)
            installed = True
        except ValueError:  # not the main thread (an embedder's): leave signals alone
            installed = False
        try:
            return super().invoke(ctx)
        except (click.UsageError, KeyboardInterrupt, Terminated) as exc:
            self._fail(ctx, exc)
        except Exception as exc:
            from .errors import NewsearchError  # here: a query imports it with the engine (startup.import_engine)

            if not isinstance(exc, NewsearchError):
                raise
            self._fail(ctx, exc)
        finally:
            if installed:
                signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)

    @staticmethod
    def _fail(ctx: click.Context, exc: BaseException) -> None:
        from .render import safe

        line, status = _error(exc, ctx.invoked_subcommand)
        click.echo(safe(line), err=True)
        ctx.exit(status)


def index_dir_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index-dir", "index_dir", envvar="NEWSEARCH_INDEX", default="index", show_default=True,
        type=click.Path(file_okay=False), help="Index folder (also $NEWSEARCH_INDEX).",
    )(f)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta[f"newsearch.{param.name}"] = value
    return value


def cluster_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Where the index lives when not in --index-dir: an OpenSearch cluster (read by :func:`_engine`)."""
    f = click.option("--opensearch-index", "opensearch_index", envvar="NEWSEARCH_OPENSEARCH_INDEX",
                     default="newsearch", show_default=True, expose_value=False, callback=_remember,
                     metavar="NAME", help="Index name on the cluster (also $NEWSEARCH_OPENSEARCH_INDEX).")(f)
    return click.option("--opensearch", "opensearch", envvar="NEWSEARCH_OPENSEARCH", expose_value=False,
                        callback=_remember, metavar="URL[,URL...]",
                        help="Use the index on this OpenSearch cluster instead of --index-dir "
                             "(also $NEWSEARCH_OPENSEARCH).")(f)


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by the commands that print hits."""
    options = [
        click.option("--limit", "-n", type=click.IntRange(1), default=10, show_default=True, help="Hits per page."),
        click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text",
                     show_default=True, help="Output format."),
        click.option("--json", "as_json", is_flag=True, help="Short for --format json."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                     show_default=True,
                     help="Highlight with colour (auto: on a terminal, unless NO_COLOR is set)."),
        click.option("--fragments", type=click.IntRange(1), default=1, show_default=True,
                     help="Passages per snippet."),
        click.option("--fragment-size", type=click.IntRange(20), default=200, show_default=True,
                     metavar="CHARS", help="Length of each passage."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _engine(index_dir: str, names: str | None = None) -> SearchEngine:
    from .startup import import_engine

    import_engine()
    from .engine import SearchEngine

    meta = click.get_current_context().meta
    try:
        return SearchEngine(index_dir, names=names, opensearch=meta.get("newsearch.opensearch"),
                            opensearch_index=meta.get("newsearch.opensearch_index") or "newsearch")
    except ValueError as exc:  # a malformed URL or index name
        raise click.UsageError(str(exc)) from exc


def _print_results(results: Any, fmt: str, as_json: bool, color: str) -> None:
    from .render import render_html, render_json, render_text

    fmt = "json" if as_json else fmt
    if fmt == "json":
        _output(render_json(results))
    elif fmt == "html":
        _output(render_html(results))
    else:
        _output(render_text(results, color=_use_color(color)), color=True)
    raise Finished(EXIT_FOUND if results.hits else EXIT_NONE)


@click.group(cls=NewsearchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsearch")
def cli() -> None:
    """Full-text search for French news articles."""
    # NumPy's BLAS starts a thread per core as it loads; newsearch does no linear
    # algebra, and those threads cost each command tens of milliseconds.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _field_map(values: tuple[str, ...]) -> dict[str, str]:
    from .articles import FIELD_NAMES

    mapping = {}
    for value in values:
        name, sep, key = value.partition("=")
        if not sep or not key or name not in FIELD_NAMES:
            raise click.BadParameter(
                f"{value!r}: expected NAME=KEY with NAME one of {', '.join(FIELD_NAMES)}",
                param_hint="--field",
            )
        mapping[name] = key
    return mapping


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@index_dir_option
@cluster_options
@click.option("--rebuild", is_flag=True, help="Start from an empty index.")
@click.option("--field", "fields", multiple=True, metavar="NAME=KEY",
              help="Read NAME (title, body, date, lede, ...) from the JSON key KEY first. Repeatable.")
@click.option("--wait", type=click.FloatRange(0), default=0.0, metavar="SECONDS",
              help="Wait this long for another indexing run to finish (on OpenSearch too).")
@click.option("--memory", type=click.IntRange(16), default=MEMORY_MB, show_default=True, metavar="MB",
              help="Memory for buffering postings, per job (local index only).")
@click.option("--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Processes that analyse articles in parallel (local index only).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def index(paths: tuple[str, ...], index_dir: str, rebuild: bool, fields: tuple[str, ...],
          wait: float, memory: int, jobs: int, quiet: bool) -> None:
    """Index the articles in PATHS (files or folders; default: seeds/).

    Reads .txt, .md, .json, .jsonl, .ndjson (each optionally .gz), .html and
    .htm. Re-running updates what changed and removes what disappeared.

    Exit status: 0 all read, 1 some files or records failed (the rest is
    indexed), 2 nothing could be done (the index is as its last run left
    it), 130 or 143 interrupted by Ctrl-C or SIGTERM (likewise).

    \b
    Example:
      newsearch index seeds/ dumps/2023.jsonl.gz --field body=article
    """
    from .render import render_report, safe

    bar: ProgressBar[str] | None = None

    def on_problem(exc: Exception) -> None:
        clear = "\r\x1b[K" if bar is not None else ""
        click.echo(f"{clear}skipped {safe(str(exc))}", err=True)

    def progress(p: Any) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=p.files_total, label="Indexing", file=sys.stderr,
                                    item_show_func=lambda item: item)
            bar.__enter__()
        bar.update(1, current_item=f"{p.articles} articles")

    show = not quiet and sys.stderr.isatty()
    if click.get_current_context().meta.get("newsearch.opensearch"):
        # On a cluster this process analyses the articles and the cluster buffers them: refused, not ignored.
        if jobs != 1:
            raise click.BadParameter("only for the local index: with --opensearch, this process analyses "
                                     "the articles", param_hint="'--jobs'")
        if memory != MEMORY_MB:
            raise click.BadParameter("only for the local index: with --opensearch, the cluster buffers "
                                     "what it is sent", param_hint="'--memory'")
    try:
        report = _engine(index_dir).index(
            paths or ("seeds",), rebuild=rebuild, fields=_field_map(fields), wait=wait,
            memory_mb=memory, jobs=jobs, on_problem=on_problem, progress=progress if show else None,
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(render_report(report), err=True)
    sys.exit(EXIT_NONE if report.failed else EXIT_FOUND)


def _use_color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    return sys.stdout is not None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class QueryCommand(click.Command):
    """Reads an argument that starts with - (``-Trump``, ``-nucléaire``,
    ``-"Le Monde"``) as a query word unless it is exactly one of the
    command's short options; Click parses everything else, so a mistyped
    long option (``--limt``) or one missing its value is an error."""

    def make_parser(self, ctx: click.Context) -> Any:
        parser = super().make_parser(ctx)
        match_short = parser._match_short_opt

        def match(arg: str, state: Any) -> None:
            if arg in parser._short_opt:
                match_short(arg, state)
            else:
                state.largs.append(arg)

        setattr(parser, "_match_short_opt", match)  # noqa: B010 - Click has no hook for this: one instance's method
        return parser


class DateParam(_DateType):
    """A date as the README lists them (2023-09-12, 12/09/2023, 12 septembre 2023)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from .articles import parse_date

        parsed = parse_date(value)
        if parsed is None:
            self.fail(f"cannot read {value!r} as a date (try 2023-09-12 or 12/09/2023)", param, ctx)
        return parsed


@cli.command(cls=QueryCommand)
@click.argument("words", nargs=-1, required=True)
@index_dir_option
@cluster_options
@output_options
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page of results.")
@click.option("--since", type=DateParam(), metavar="DATE",
              help="Only articles from this date on (2023-09-12, 12/09/2023, ...).")
@click.option("--until", type=DateParam(), metavar="DATE", help="Only articles up to this date.")
@click.option("--source", metavar="NAME", help="Only articles from this source.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True,
              help="Best first, or newest first.")
@click.option("--names", type=click.Path(dir_okay=False), envvar="NEWSEARCH_NAMES",
              help="Extra name variants, one set a line: Poutine | Putin (also $NEWSEARCH_NAMES).")
@click.option("--all", "show_all", is_flag=True,
              help="List duplicates as hits of their own, not folded into the best copy.")
def query(words: tuple[str, ...], index_dir: str, limit: int, page: int, fmt: str, as_json: bool, color: str,
          since: dt.date | None, until: dt.date | None, source: str | None, sort: str,
          fragments: int, fragment_size: int, names: str | None, show_all: bool) -> None:
    """Search the index for WORDS and print the best articles.

    Quotes are needed only for phrases and to keep the shell from reading
    them: newsearch query Kim -Trump, newsearch query '"Corée du Nord"'.

    \b
    Syntax:
      Kim Poutine          articles with both words first, then either
      "Corée du Nord"      an exact phrase
      Poutine -Trump       exclude a word (or -"a phrase", NOT Trump)
      Putin OR Poutine     either word
      +Kim, Kim AND Poutine  required words
      title:sommet         only in the title (also lede:, body:)
      source:AFP           only articles from that source
      nucl*                words starting with nucl
    Accents and case never matter; plurals and feminines match; typos are
    forgiven (1 from 5 letters, 2 from 9), exact spellings ranking first;
    known name variants match each other (Putin finds Poutine). A malformed
    query is read as plain words.

    Exit status: 0 hits found, 1 no hit, 2 error.
    """
    text = " ".join(words)
    with _engine(index_dir, names) as engine:
        results = engine.search(text, limit=limit, page=page, since=since, until=until,
                                source=source, sort=sort, fragments=fragments,
                                fragment_size=fragment_size, collapse=not show_all)
    _print_results(results, fmt, as_json, color)


@cli.command()
@click.argument("article_id", metavar="ID")
@index_dir_option
@cluster_options
@output_options
def similar(article_id: str, index_dir: str, limit: int, fmt: str, as_json: bool, color: str,
            fragments: int, fragment_size: int) -> None:
    """Articles closest to the article ID (as shown by `query`), itself excluded.

    Exit status: 0 hits found, 1 no hit, 2 error (such as an unknown ID).
    """
    with _engine(index_dir) as engine:
        results = engine.similar(article_id, limit=limit, fragments=fragments, fragment_size=fragment_size)
    _print_results(results, fmt, as_json, color)


@cli.command()
@index_dir_option
@cluster_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document.")
@click.option("--check", is_flag=True, help="Also read every file and compare it with its recorded checksum "
              "(on OpenSearch: the alias, mapping, shards and every document).")
def info(index_dir: str, as_json: bool, check: bool) -> None:
    """Where the index is, what it holds and how big it is; with --check,
    whether every file is as its commit wrote it (on OpenSearch: whether the
    alias names one newsearch index, every shard has a started copy, and
    every document decodes with its fields).

    Exit status: 0 described (and intact), 2 error (such as a damaged file).
    """
    from .render import render_info

    with _engine(index_dir) as engine:
        verification = engine.check() if check else None
        _output(render_info(engine.info(), as_json, verification))
    raise Finished(EXIT_FOUND)


@cli.command()
@click.argument("article_id", metavar="ID")
@index_dir_option
@cluster_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document.")
@click.option("--highlight", metavar="QUERY", help="Mark the words this query matches.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Highlight with colour (auto: on a terminal, unless NO_COLOR is set).")
def show(article_id: str, index_dir: str, as_json: bool, highlight: str | None, color: str) -> None:
    """The whole article ID (as shown by `query`): title, date, source, url,
    author, lede and body.

    Exit status: 0 shown, 2 error (such as an unknown ID).
    """
    from .render import article_dict, dump_json, render_article

    with _engine(index_dir) as engine:
        view = engine.article(article_id, highlight=highlight)
    if as_json:
        _output(dump_json(article_dict(view)))
    else:
        _output(render_article(view, color=_use_color(color)), color=True)
    raise Finished(EXIT_FOUND)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@cli.command()
@index_dir_option
@cluster_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; only on a network you trust).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port, printed at start).")
@click.option("--workers", type=click.IntRange(1), default=None,
              help="Worker processes, each with its own engine.  [default: the number of cores]")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Let pages from ORIGIN (https://example.org) call the API. Repeatable; none by default.")
def serve(index_dir: str, host: str, port: int, workers: int | None, cors_origins: tuple[str, ...]) -> None:
    """Serve the search page and the JSON API over HTTP, until Ctrl+C.

    The page is at http://HOST:PORT/, the API under /api/ (described at
    /openapi.json). A new commit of the index is served without a restart.

    Exit status: 0 stopped, 2 could not start (such as a port in use).
    """
    import uvicorn

    from .server import environment

    meta = click.get_current_context().meta
    os.environ.update(environment(index_dir, cors_origins, opensearch=meta.get("newsearch.opensearch"),
                                  opensearch_index=meta.get("newsearch.opensearch_index") or "newsearch"))
    try:
        uvicorn.run("searchengine.server:app_from_environment", factory=True, host=host, port=port,
                    workers=workers or _cores(), log_level="info", server_header=False,
                    http="searchengine.server:NoDelayProtocol")
    except SystemExit as exc:  # uvicorn has logged why it could not start
        sys.exit(EXIT_ERROR if exc.code else EXIT_FOUND)
    except (Terminated, KeyboardInterrupt):  # uvicorn passes the signal on once it has shut down
        sys.exit(EXIT_FOUND)
