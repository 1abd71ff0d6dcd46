"""The `newsearch` command: parse options, call SearchEngine, render.

Library modules are imported inside the commands, so `newsearch --help`
and each command load only what they use.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from . import __version__

EXIT_FOUND, EXIT_NONE, EXIT_ERROR = 0, 1, 2


class NewsearchGroup(click.Group):
    """Turns our exceptions, and a command's bad options, into one line on
    stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        from .errors import NewsearchError

        try:
            return super().invoke(ctx)
        except NewsearchError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except click.UsageError as exc:
            command = f"newsearch {exc.ctx.info_name}" if exc.ctx and exc.ctx.parent else "newsearch"
            click.echo(f"Error: {exc.format_message()} (see `{command} --help`)", err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("Interrupted: the index keeps its last committed state.", err=True)
            ctx.exit(130)


def index_dir_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--index-dir", "index_dir", envvar="NEWSEARCH_INDEX", default="index", show_default=True,
        type=click.Path(file_okay=False), help="Index folder (also $NEWSEARCH_INDEX).",
    )(f)


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


def _engine(index_dir: str, names: str | None = None):  # noqa: ANN202 - keeps the import lazy
    from .engine import SearchEngine

    return SearchEngine(index_dir, names=names)


def _print_results(results: Any, fmt: str, as_json: bool, color: str) -> None:
    from .render import render_html, render_json, render_text

    fmt = "json" if as_json else fmt
    if fmt == "json":
        click.echo(render_json(results), nl=False)
    elif fmt == "html":
        click.echo(render_html(results), nl=False)
    else:
        click.echo(render_text(results, color=_use_color(color)), nl=False, color=True)
    sys.exit(EXIT_FOUND if results.hits else EXIT_NONE)


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
@click.option("--rebuild", is_flag=True, help="Start from an empty index.")
@click.option("--field", "fields", multiple=True, metavar="NAME=KEY",
              help="Read NAME (title, body, date, lede, ...) from the JSON key KEY first. Repeatable.")
@click.option("--wait", type=float, default=0.0, metavar="SECONDS",
              help="Wait this long for another indexing run to finish.")
@click.option("--memory", type=click.IntRange(16), default=256, show_default=True, metavar="MB",
              help="Memory for buffering postings, per job.")
@click.option("--jobs", type=click.IntRange(1), default=1, show_default=True,
              help="Processes that analyse articles in parallel.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def index(paths: tuple[str, ...], index_dir: str, rebuild: bool, fields: tuple[str, ...],
          wait: float, memory: int, jobs: int, quiet: bool) -> None:
    """Index the articles in PATHS (files or folders; default: seeds/).

    Reads .txt, .md, .json, .jsonl, .ndjson (each optionally .gz), .html and
    .htm. Re-running updates what changed and removes what disappeared.

    Exit status: 0 all read, 1 some files or records failed (the rest is
    indexed), 2 nothing could be done.

    \b
    Example:
      newsearch index seeds/ dumps/2023.jsonl.gz --field body=article
    """
    from .render import render_report

    bar = None

    def on_problem(exc: Exception) -> None:
        clear = "\r\x1b[K" if bar is not None else ""
        click.echo(f"{clear}skipped {exc}", err=True)

    def progress(p: Any) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=p.files_total, label="Indexing", file=sys.stderr,
                                    item_show_func=lambda item: item)
            bar.__enter__()
        bar.update(1, current_item=f"{p.articles} articles")

    show = not quiet and sys.stderr.isatty()
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
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class QueryCommand(click.Command):
    """Reads an argument that starts with - (``-Trump``, ``-"Le Monde"``) as
    part of the query unless it is one of the command's options. One that
    starts with -- is always an option, so that a mistyped one (``--limt``)
    is reported rather than searched for."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {name: not p.is_flag for p in self.get_params(ctx) if isinstance(p, click.Option)
                       for name in (*p.opts, *p.secondary_opts)}
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                words.extend(rest)
                break
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg[:2]
            if arg.startswith("--") and name not in takes_value:
                options.append(arg)
                continue
            if name not in takes_value or (arg != name and not takes_value[name]):
                words.append(arg)
                continue
            options.append(arg)
            if arg == name and takes_value[name]:
                value = next(rest, None)
                if value is not None:
                    options.append(value)
        return super().parse_args(ctx, [*options, "--", *words])


@cli.command(cls=QueryCommand)
@click.argument("words", nargs=-1, required=True)
@index_dir_option
@output_options
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Page of results.")
@click.option("--since", metavar="DATE", help="Only articles from this date on (2023-09-12, 12/09/2023, ...).")
@click.option("--until", metavar="DATE", help="Only articles up to this date.")
@click.option("--source", metavar="NAME", help="Only articles from this source.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True,
              help="Best first, or newest first.")
@click.option("--names", type=click.Path(dir_okay=False), envvar="NEWSEARCH_NAMES",
              help="Extra name variants, one set a line: Poutine | Putin (also $NEWSEARCH_NAMES).")
def query(words: tuple[str, ...], index_dir: str, limit: int, page: int, fmt: str, as_json: bool, color: str,
          since: str | None, until: str | None, source: str | None, sort: str,
          fragments: int, fragment_size: int, names: str | None) -> None:
    """Search the index for WORDS and print the best articles.

    Quotes are needed only for phrases and to keep the shell from reading
    them: newsearch query Kim -Trump, newsearch query '"Corée du Nord"'.

    \b
    Syntax:
      Kim Poutine          articles with both words first, then either
      "Corée du Nord"      an exact phrase
      Poutine -Trump       exclude a word (or -"a phrase")
      Putin OR Poutine     either word
      title:sommet         only in the title (also lede:, body:)
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
                                fragment_size=fragment_size)
    _print_results(results, fmt, as_json, color)


@cli.command()
@click.argument("article_id", metavar="ID")
@index_dir_option
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
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document.")
def info(index_dir: str, as_json: bool) -> None:
    """Where the index is, what it holds and how big it is."""
    import json

    with _engine(index_dir) as engine:
        about = engine.info()
    values = {
        "path": os.path.abspath(about.path),
        "articles": about.articles,
        "terms": about.terms,
        "size_bytes": about.size_bytes,
        "last_update": about.last_update.isoformat(timespec="seconds") if about.last_update else None,
        "analyzer": about.analyzer,
    }
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    click.echo(f"Index:       {values['path']}")
    click.echo(f"Articles:    {about.articles}")
    click.echo(f"Terms:       {about.terms}")
    click.echo(f"Size:        {about.size_bytes / 1e6:.1f} MB")
    click.echo(f"Last update: {values['last_update'] or 'never'}")
    click.echo(f"Analyser:    {about.analyzer}")
