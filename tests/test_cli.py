"""The README's commands, run as a user runs them."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from searchengine.cli import cli

from .conftest import ROOT, SEEDS, write_article

SEED = "seeds/000_aa2ef83bf32b1372.txt"


def index_seeds(runner, tmp_path):
    return runner.invoke(cli, ["index", str(SEEDS), "--index-dir", str(tmp_path / "ix")])


def test_seed_is_first_hit_with_kim_and_poutine_highlighted(runner, tmp_path):
    index_seeds(runner, tmp_path)
    result = runner.invoke(cli, ["query", "Kim Poutine", "--index-dir", str(tmp_path / "ix"), "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert set(doc) == {"query", "total", "total_exact", "folded", "page", "limit", "hits", "suggestion"}
    assert doc["query"] == "Kim Poutine"
    first = doc["hits"][0]
    assert set(first) == {"rank", "id", "path", "title", "date", "source", "author", "url", "lede", "score",
                          "snippet", "highlights", "title_highlights", "duplicates"}
    assert first["path"].endswith(SEED)
    marked = {first["snippet"][s:e] for s, e in first["highlights"]}
    assert {"Kim", "Poutine"} <= marked


def test_every_highlight_cuts_a_whole_matched_word(runner, tmp_path):
    index_seeds(runner, tmp_path)
    result = runner.invoke(cli, ["query", "coree missile agence", "--index-dir", str(tmp_path / "ix"), "--json"])
    hit = json.loads(result.stdout)["hits"][0]
    words = [hit["snippet"][s:e] for s, e in hit["highlights"]]
    assert words, hit
    for (start, end), word in zip(hit["highlights"], words, strict=True):
        assert word.strip() == word and word
        before = hit["snippet"][start - 1] if start else " "
        after = hit["snippet"][end] if end < len(hit["snippet"]) else " "
        assert not before.isalnum() and not after.isalnum(), word
    assert {w.lower() for w in words} <= {"corée", "missiles", "agence"}


def test_accentless_query_finds_the_seed(runner, tmp_path):
    index_seeds(runner, tmp_path)
    result = runner.invoke(cli, ["query", "Coree du Nord", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 0
    assert "Kim Jong-un arrive en Russie en train" in result.stdout
    assert "**Corée**" in result.stdout


def test_second_run_reports_everything_unchanged(runner, tmp_path):
    first = index_seeds(runner, tmp_path)
    assert first.exit_code == 0
    assert "1 added, 0 updated, 0 unchanged, 0 removed, 0 failed" in first.stderr
    second = index_seeds(runner, tmp_path)
    assert second.exit_code == 0
    assert "0 added, 0 updated, 1 unchanged, 0 removed, 0 failed" in second.stderr


def test_query_without_index_says_to_run_index(runner, tmp_path):
    result = runner.invoke(cli, ["query", "Kim", "--index-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no index in")
    assert "newsearch index" in result.stderr
    assert "Traceback" not in result.output


def test_query_matching_nothing_exits_1(runner, tmp_path):
    index_seeds(runner, tmp_path)
    result = runner.invoke(cli, ["query", "zzzyzx", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert "No article matches 'zzzyzx'" in result.stdout


def test_query_words_need_no_quotes_and_may_start_with_a_dash(runner, tmp_path, articles):
    ix = str(tmp_path / "ix")
    runner.invoke(cli, ["index", str(articles), "--index-dir", ix])
    result = runner.invoke(cli, ["query", "été", "-hôpitaux", "--index-dir", ix, "--json", "-n", "5"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["query"] == "été -hôpitaux" and doc["total"] == 1
    result = runner.invoke(cli, ["query", "été", '-"Le cœur"', "--json", f"--index-dir={ix}"])
    assert json.loads(result.stdout)["total"] == 1
    result = runner.invoke(cli, ["query", "Kim", "Poutine", "--index-dir", ix, "--json"])
    assert json.loads(result.stdout)["query"] == "Kim Poutine"


def test_a_page_past_the_end_says_how_many_match(runner, tmp_path):
    index_seeds(runner, tmp_path)
    result = runner.invoke(cli, ["query", "Kim", "--page", "3", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert "1 article matches 'Kim', none on page 3" in result.stdout


@pytest.mark.parametrize("toc", [b"junk", b""])
@pytest.mark.parametrize("command", [["query", "Kim"], ["info"], ["index", str(SEEDS)]])
def test_a_damaged_index_is_one_error_line(runner, tmp_path, toc, command):
    index_seeds(runner, tmp_path)
    for path in (tmp_path / "ix").glob("*.toc"):
        path.write_bytes(toc)
    result = runner.invoke(cli, [*command, "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot open the index in")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_indexing_a_missing_path_creates_no_index(runner, tmp_path):
    ix = str(tmp_path / "ix")
    result = runner.invoke(cli, ["index", str(tmp_path / "nowhere"), "--index-dir", ix])
    assert result.exit_code == 1
    assert "nowhere" in result.stderr and "1 failed" in result.stderr
    result = runner.invoke(cli, ["query", "Kim", "--index-dir", ix])
    assert result.exit_code == 2 and result.stderr.startswith("Error: no index in")


@pytest.mark.parametrize("args", [["query", "le", "--page", "0"], ["query", "le", "--sort", "foo"],
                                  ["query", "Kim", "--limt", "5"], ["query", "Kim", "--no-color"],
                                  ["index", "--frobnicate"], ["query"], ["frob"]])
def test_a_bad_option_is_one_error_line(runner, tmp_path, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "--help" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_index_dir_from_environment(runner, tmp_path, articles):
    env = {"NEWSEARCH_INDEX": str(tmp_path / "env-ix")}
    assert runner.invoke(cli, ["index", str(articles)], env=env).exit_code == 0
    result = runner.invoke(cli, ["query", "hôpital", "--json"], env=env)
    assert json.loads(result.stdout)["hits"][0]["title"] == "Les hôpitaux en grève"


def test_colour_on_request_and_visible_marks_without(runner, tmp_path):
    index_seeds(runner, tmp_path)
    args = ["query", "Poutine", "--index-dir", str(tmp_path / "ix")]
    coloured = runner.invoke(cli, [*args, "--color", "always"])
    assert "\x1b[1;33mPoutine\x1b[0m" in coloured.stdout
    plain = runner.invoke(cli, [*args, "--color", "never"])
    assert "\x1b[" not in plain.stdout and "**Poutine**" in plain.stdout
    auto = runner.invoke(cli, args, env={"NO_COLOR": "1"})
    assert "\x1b[" not in auto.stdout


def test_limit(runner, tmp_path, articles):
    for n in range(5):
        write_article(articles, f"extra{n}.txt", f"Chaleur {n}", "Encore un été de chaleur.")
    runner.invoke(cli, ["index", str(articles), "--index-dir", str(tmp_path / "ix")])
    result = runner.invoke(cli, ["query", "chaleur", "--limit", "2", "--json", "--index-dir", str(tmp_path / "ix")])
    doc = json.loads(result.stdout)
    assert doc["total"] == 6
    assert len(doc["hits"]) == 2


def test_info_describes_the_index(runner, tmp_path):
    index_seeds(runner, tmp_path)
    result = runner.invoke(cli, ["info", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 0
    assert "Articles:    1" in result.stdout
    assert "searchengine.analysis.FrenchAnalyzer" in result.stdout
    doc = json.loads(runner.invoke(cli, ["info", "--json", "--index-dir", str(tmp_path / "ix")]).stdout)
    assert doc["articles"] == 1 and doc["terms"] > 50 and doc["size_bytes"] > 0
    assert doc["last_update"]


def test_info_without_index(runner, tmp_path):
    result = runner.invoke(cli, ["info", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "run `newsearch index`" in result.stderr


def test_installed_console_script_runs_end_to_end(tmp_path):
    """The real `newsearch` in a fresh process, from the repository root like `make demo`."""
    script = os.path.join(os.path.dirname(sys.executable), "newsearch")
    env = {**os.environ, "NEWSEARCH_INDEX": str(tmp_path / "ix")}
    done = subprocess.run([script, "index"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    found = subprocess.run([script, "query", "Kim Poutine"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert found.returncode == 0
    assert "1. **Kim** Jong-un" in found.stdout
    assert SEED in found.stdout


def test_commands_that_only_read_print_everything_before_leaving(tmp_path):
    """`query`, `show` and `info` end without tearing Python down: what they
    printed into a pipe still arrives whole, with the same exit statuses."""
    script = os.path.join(os.path.dirname(sys.executable), "newsearch")
    env = {**os.environ, "NEWSEARCH_INDEX": str(tmp_path / "ix")}
    subprocess.run([script, "index"], cwd=ROOT, env=env, capture_output=True, check=True)

    def run(*args):
        return subprocess.run([script, *args], cwd=ROOT, env=env, capture_output=True, text=True)

    found = run("query", "Kim Poutine", "--json", "--limit", "50")
    assert found.returncode == 0
    hits = json.loads(found.stdout)["hits"]
    assert hits[0]["path"].endswith(SEED)
    nothing = run("query", "zzzxqy")
    assert (nothing.returncode, nothing.stdout) == (1, "No article matches 'zzzxqy'\n")
    shown = run("show", hits[0]["id"], "--json")
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["title"] == hits[0]["title"]
    described = run("info", "--json")
    assert described.returncode == 0
    assert json.loads(described.stdout)["articles"] >= len(hits)
    missing = run("show", "no-such-id")
    assert missing.returncode == 2 and missing.stderr.startswith("Error:")

    def redirected(redirection):
        return subprocess.run(["sh", "-c", f'"{script}" query Kim Poutine {redirection}'], cwd=ROOT, env=env,
                              capture_output=True, text=True)

    # Output that cannot be written is an error, not a success that printed nothing.
    closed = redirected(">&-")
    assert (closed.returncode, closed.stderr) == (2, "Error: cannot write the output: standard output is closed\n")
    full = redirected(">/dev/full")
    assert (full.returncode, full.stderr) == (2, "Error: cannot write the output: No space left on device\n")


def as_unprivileged(args):
    """Root reads files whatever their mode: run the command as nobody so a
    file without read permission really is unreadable."""
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *args]


@pytest.fixture
def world_writable():
    """A folder the unprivileged user can reach (pytest's own is root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="newsearch-test-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_bad_input_collection_is_reported_and_the_rest_indexed(world_writable):
    base = world_writable
    col = base / "collection"
    col.mkdir(parents=True)
    write_article(col, "good.txt", "Sommet à Vladivostok", "Kim a rencontré Poutine.")
    (col / "latin1.txt").write_bytes("Titre\nCaf\xe9".encode("latin-1"))
    (col / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    (col / "empty.txt").write_bytes(b"")
    with open(col / "huge.txt", "wb") as fh:
        fh.write(b"Titre\n" + b"mot " * (50 * 2**20 // 4))
    (col / "mixed.jsonl").write_text(
        '{"id": "1", "title": "Bon", "body": "Premier article."}\n'
        '{"id": "2", "title": "Cass\n'
        '{"id": "3", "title": "Sans corps"}\n'
        '{"id": "4", "title": "Bon aussi", "body": "Dernier article."}\n', encoding="utf-8")
    secret = write_article(col, "secret.txt", "Secret", "Illisible.")
    secret.chmod(0)
    (col / "loop").symlink_to(col)
    col.chmod(0o777)
    ix = base / "ix"
    script = os.path.join(os.path.dirname(sys.executable), "newsearch")
    done = subprocess.run(as_unprivileged([script, "index", str(col), "--index-dir", str(ix)]),
                          capture_output=True, text=True)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("3 added, 0 updated, 0 unchanged, 0 removed, 7 failed in ")
    assert sorted(lines[:-1]) == sorted([
        f"skipped {col / 'loop'}: symlink loop: folder already visited",
        f"skipped {col / 'binary.txt'}: binary file, not text",
        f"skipped {col / 'huge.txt'}: 50.0 MB, over the 5 MB limit for one article",
        f"skipped {col / 'latin1.txt'}: not valid UTF-8 (bad byte 0xe9 at byte 9)",
        f"skipped {col / 'mixed.jsonl'}:2: malformed JSON at column 22: Unterminated string starting at",
        f"skipped {col / 'mixed.jsonl'}:3: record 3 has no body"
        " (looked for: body, text, content, article, texte, contenu)",
        f"skipped {col / 'secret.txt'}: permission denied",
    ])
    found = subprocess.run([script, "query", "article OR Poutine", "--index-dir", str(ix), "--json"],
                           capture_output=True, text=True)
    assert sorted(h["title"] for h in json.loads(found.stdout)["hits"]) == ["Bon", "Bon aussi", "Sommet à Vladivostok"]


def test_progress_bar_on_a_terminal_only(tmp_path, articles):
    """stderr on a pseudo-terminal gets a progress bar; piped, just the summary."""
    import pty

    script = os.path.join(os.path.dirname(sys.executable), "newsearch")
    ix = str(tmp_path / "ix")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([script, "index", str(articles), "--index-dir", ix],
                            stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait()
    os.close(leader)
    text = output.decode()
    assert "Indexing" in text and "3 articles" in text
    assert "3 added, 0 updated" in text
    piped = subprocess.run([script, "index", str(articles), "--index-dir", ix], capture_output=True, text=True)
    assert piped.stderr.startswith("0 added, 0 updated, 3 unchanged")


def test_an_excluded_word_is_never_an_option(runner, tmp_path, articles):
    ix = str(tmp_path / "ix")
    runner.invoke(cli, ["index", str(articles), "--index-dir", ix])
    both = runner.invoke(cli, ["query", "hôpitaux", "--index-dir", ix, "--json"])
    assert json.loads(both.stdout)["total"] == 1
    result = runner.invoke(cli, ["query", "été", "-nucléaire", "-hôpitaux", "--index-dir", ix, "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["query"] == "été -nucléaire -hôpitaux" and doc["limit"] == 10 and doc["total"] == 1
    assert runner.invoke(cli, ["query", "--index-dir", ix, "--", "--json", "été"]).stdout.startswith("1 article")


@pytest.mark.parametrize("option", ["-n", "--limit", "--since", "--index-dir", "--source", "--page"])
def test_an_option_missing_its_value_is_named(runner, tmp_path, option):
    result = runner.invoke(cli, ["query", "Kim", option])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: Option '{option}' requires an argument.")
    assert result.stderr.rstrip().endswith("(see `newsearch query --help`)")
    assert len(result.stderr.splitlines()) == 1


def test_a_query_of_exclusions_alone_is_one_error_line(runner, tmp_path):
    index_seeds(runner, tmp_path)
    result = runner.invoke(cli, ["query", "-Trump", "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the query '-Trump' cannot match anything: it only excludes words")
    assert result.stdout == ""


HOSTILE = "Poutine \x1b[2J\x1b]0;pwned\x07 \x1b]8;;http://evil\x1b\\lien\x1b]8;;\x1b\\ \r\u202eenil\x9b31m fin"


@pytest.mark.parametrize("color", ["never", "always"])
def test_control_characters_never_reach_the_terminal(runner, tmp_path, color):
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "evil\x1b[31m.jsonl").write_text(json.dumps(
        {"id": "x\x1b[2J", "title": HOSTILE, "body": HOSTILE, "source": "AFP\x1b[5m", "author": "\u202eX",
         "url": "https://e.org/\x1b[0m"}), encoding="utf-8")
    ix = str(tmp_path / "ix")
    assert runner.invoke(cli, ["index", str(folder), "--index-dir", ix]).exit_code == 0
    result = runner.invoke(cli, ["query", "Poutine", "fin", "--index-dir", ix, "--color", color])
    assert result.exit_code == 0
    out = result.stdout
    own = {"\x1b[1;33m", "\x1b[0m", "\x1b[1m", "\x1b[2m"} if color == "always" else set()
    for code in own:
        out = out.replace(code, "")
    assert not unsafe(out), repr(out)
    assert "Poutine" in out and "fin" in out
    for fmt in ("json", "html"):
        out = runner.invoke(cli, ["query", "Poutine", "--index-dir", ix, "--format", fmt]).stdout
        assert "Poutine" in out and not unsafe(out), repr(out)
    (folder / "bad\x1b]0;pwned\x07.json").write_text("{oops", encoding="utf-8")
    result = runner.invoke(cli, ["index", str(folder), "--index-dir", ix])
    assert result.exit_code == 1 and "skipped" in result.stderr and not unsafe(result.stderr), repr(result.stderr)
    result = runner.invoke(cli, ["similar", "nope\x1b[2J", "--index-dir", ix])
    assert result.exit_code == 2 and not unsafe(result.stderr), repr(result.stderr)


def unsafe(text):
    return [c for c in text if ord(c) < 32 and c != "\n" or 0x7F <= ord(c) < 0xA0 or c == "\u202e"]


def test_html_links_only_web_addresses(runner, tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    for name, url in (("js", "javascript:alert(1)"), ("web", "https://example.org/a?b=1&c=2")):
        (folder / f"{name}.json").write_text(json.dumps({"title": f"Poutine {name}", "body": "Poutine.", "url": url}),
                                             encoding="utf-8")
    ix = str(tmp_path / "ix")
    runner.invoke(cli, ["index", str(folder), "--index-dir", ix])
    page = runner.invoke(cli, ["query", "Poutine", "--index-dir", ix, "--format", "html"]).stdout
    assert "javascript:" not in page
    assert 'href="https://example.org/a?b=1&amp;c=2"' in page


def show_dump(runner, tmp_path, records):
    dump = tmp_path / "dump.jsonl"
    dump.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    ix = str(tmp_path / "ix")
    assert runner.invoke(cli, ["index", str(dump), "--index-dir", ix]).exit_code == 0
    return dump, ix


def test_show_prints_the_whole_article_with_the_query_words_marked(runner, tmp_path):
    _, ix = show_dump(runner, tmp_path, [
        {"id": "kim", "title": "Kim Jong-un rencontre Poutine", "date": "2023-09-13", "source": "AFP",
         "author": "Jeanne Dupont", "url": "https://example.org/kim", "lede": "Un sommet à Vladivostok.",
         "body": "Premier paragraphe sur Poutine.\n\nSecond paragraphe : les missiles."},
    ])
    result = runner.invoke(cli, ["show", "kim", "--highlight", "Putin missile", "--color", "never", "--index-dir", ix])
    assert result.exit_code == 0
    assert result.stdout == (
        "Kim Jong-un rencontre **Poutine**\n"
        "2023-09-13 · AFP · Jeanne Dupont\n"
        "https://example.org/kim\n"
        f"{tmp_path / 'dump.jsonl'} (id kim)\n"
        "\n"
        "Un sommet à Vladivostok.\n"
        "\n"
        "Premier paragraphe sur **Poutine**.\n\nSecond paragraphe : les **missiles**.\n"
    )
    coloured = runner.invoke(cli, ["show", "kim", "--highlight", "Poutine", "--color", "always", "--index-dir", ix])
    assert "\x1b[1;33mPoutine\x1b[0m." in coloured.stdout
    plain = runner.invoke(cli, ["show", "kim", "--index-dir", ix, "--color", "never"])
    assert "**" not in plain.stdout and "Second paragraphe : les missiles." in plain.stdout


def test_show_json_has_every_field_and_the_highlighted_ranges(runner, tmp_path):
    _, ix = show_dump(runner, tmp_path, [
        {"id": "kim", "title": "Kim et Poutine", "date": "2023-09-13", "body": "Poutine reçoit Kim."},
    ])
    result = runner.invoke(cli, ["show", "kim", "--json", "--highlight", "Kim", "--index-dir", ix])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc == {"id": "kim", "path": str(tmp_path / "dump.jsonl"), "title": "Kim et Poutine",
                   "date": "2023-09-13", "source": None, "author": None, "url": None, "lede": None,
                   "body": "Poutine reçoit Kim.",
                   "highlights": {"title": [[0, 3]], "lede": [], "body": [[15, 18]]}}


def test_show_reaches_every_record_of_a_json_lines_dump(runner, tmp_path):
    dump, ix = show_dump(runner, tmp_path, [
        {"id": "a1", "title": "Premier", "body": "Le premier article."},
        {"title": "Deuxième", "body": "Un article sans identifiant."},
        {"title": "Troisième", "body": "Un autre article sans identifiant."},
    ])
    ids = [h["id"] for h in json.loads(runner.invoke(cli, ["query", "article", "--json", "--index-dir", ix]).stdout)
           ["hits"]]
    assert sorted(ids) == sorted(["a1", f"{dump}#2", f"{dump}#3"])
    titles = {i: json.loads(runner.invoke(cli, ["show", i, "--json", "--index-dir", ix]).stdout)["title"]
              for i in ids}
    assert titles == {"a1": "Premier", f"{dump}#2": "Deuxième", f"{dump}#3": "Troisième"}


def test_show_an_unknown_id_is_one_error_line(runner, tmp_path):
    _, ix = show_dump(runner, tmp_path, [{"id": "a1", "title": "Premier", "body": "Texte."}])
    result = runner.invoke(cli, ["show", "nope", "--index-dir", ix])
    assert result.exit_code == 2
    assert result.stderr == "Error: no article with id 'nope' in the index\n"


def test_show_keeps_control_characters_off_the_terminal_but_keeps_paragraphs(runner, tmp_path):
    _, ix = show_dump(runner, tmp_path, [
        {"id": "evil", "title": "Titre\x1b[2J piégé\r", "source": "S\u202eource",
         "body": "Ligne\x1b]0;pwned\x07 un.\nLigne deux\rfin."},
    ])
    result = runner.invoke(cli, ["show", "evil", "--color", "always", "--highlight", "ligne", "--index-dir", ix])
    assert result.exit_code == 0
    out = result.stdout
    assert "\x1b[2J" not in out and "\x1b]0" not in out and "\x07" not in out and "\u202e" not in out
    assert "\r" not in out
    assert set(re.findall(r"\x1b\[[0-9;]*m", out)) <= {"\x1b[1;33m", "\x1b[0m", "\x1b[1m", "\x1b[2m"}
    assert "\x1b[1;33mLigne\x1b[0m\ufffd]0;pwned\ufffd un.\n\x1b[1;33mLigne\x1b[0m deux fin." in out


def test_info_check_reads_every_file_and_names_a_damaged_one(runner, tmp_path):
    index_seeds(runner, tmp_path)
    ix = tmp_path / "ix"
    result = runner.invoke(cli, ["info", "--check", "--index-dir", str(ix)])
    assert result.exit_code == 0
    assert "all as committed" in result.stdout
    doc = json.loads(runner.invoke(cli, ["info", "--check", "--json", "--index-dir", str(ix)]).stdout)
    assert doc["check"]["verified"] is True and doc["check"]["files"] >= 2
    (segment,) = ix.glob("*.seg")
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    result = runner.invoke(cli, ["info", "--check", "--index-dir", str(ix)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: cannot open the index in {ix}") and segment.name in result.stderr
    assert len(result.stderr.splitlines()) == 1
