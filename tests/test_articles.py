"""Reading articles out of the formats people bring."""

import datetime as dt
import gzip
import json
import os
import tracemalloc

import pytest

from searchengine import SearchEngine
from searchengine.articles import MAX_RECORD_BYTES, find_files, parse_date, read_file
from searchengine.cli import cli

from .conftest import write_article


def read(path, fields=None):
    problems = []
    articles = list(read_file(path, fields, on_problem=problems.append))
    return articles, problems


def test_text_file_title_is_first_non_empty_line(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("\n\n  Le titre  \nPremier paragraphe.\n\nSecond.\n", encoding="utf-8")
    [article], problems = read(path)
    assert problems == []
    assert article.title == "Le titre"
    assert article.body == "Premier paragraphe.\n\nSecond."
    assert article.id == article.path == str(path)


def test_markdown_title_loses_its_hashes(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# Grève à l’hôpital\n\nLe texte.", encoding="utf-8")
    [article], _ = read(path)
    assert article.title == "Grève à l’hôpital"


def test_jsonl_records_with_usual_field_names(tmp_path):
    path = tmp_path / "dump.jsonl"
    records = [
        {"id": "a1", "title": "Un", "date": "2023-09-12", "heading": "Le chapeau", "article": "Le corps.",
         "source": "AFP", "url": "https://example.org/1", "author": ["Jeanne", "Paul"]},
        {"title": "Deux", "published": "12 septembre 2023", "text": "Autre corps."},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    (first, second), problems = read(path)
    assert problems == []
    assert (first.id, first.title, first.lede, first.body) == ("a1", "Un", "Le chapeau", "Le corps.")
    assert first.date == dt.date(2023, 9, 12)
    assert (first.source, first.url, first.author) == ("AFP", "https://example.org/1", "Jeanne, Paul")
    assert second.id == f"{path}#2"
    assert second.date == dt.date(2023, 9, 12)


def test_gzipped_json_array_and_field_mapping(tmp_path):
    path = tmp_path / "dump.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump([{"uid": 1, "headline": "Titre", "corps": "Texte"}], fh)
    [article], problems = read(path, {"body": "corps", "id": "uid"})
    assert problems == []
    assert (article.id, article.title, article.body) == ("1", "Titre", "Texte")


def test_a_field_mapping_adds_a_name_and_keeps_the_usual_ones(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"id": "a", "corps": "Texte A"}\n{"id": "b", "article": "Texte B", "corps": "Texte C"}\n'
                    '{"id": "c", "titre": "rien"}\n', encoding="utf-8")
    articles, problems = read(path, {"body": "corps"})
    assert [(a.id, a.body) for a in articles] == [("a", "Texte A"), ("b", "Texte C")]
    assert [str(p) for p in problems] == [f"{path}:3: record 3 has no body (looked for: corps, "
                                          "body, text, content, article, texte, contenu)"]


@pytest.mark.parametrize("text,expected", [
    ("2023-09-12", dt.date(2023, 9, 12)),
    ("2023-09-12T08:30:00Z", dt.date(2023, 9, 12)),
    ("12 septembre 2023", dt.date(2023, 9, 12)),
    ("1er mars 2020", dt.date(2020, 3, 1)),
    ("le 3 août 2021 à 10h", dt.date(2021, 8, 3)),
    ("12/09/2023", dt.date(2023, 9, 12)),
    ("bientôt", None),
    ("31/02/2023", None),
    ("", None),
])
def test_dates(text, expected):
    assert parse_date(text) == expected


def test_each_bad_input_is_one_problem_and_the_good_ones_are_kept(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Titre\nCaf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "empty.md").write_text("")
    lines = ['{"title": "Bon", "body": "Un."}', '{"title": "Cassé", "body": ', '{"title": "Sans corps"}',
             '{"title": "Bon aussi", "body": "Deux."}']
    (tmp_path / "mixed.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "good.txt").write_text("Titre\nCorps", encoding="utf-8")
    problems = []
    files = list(find_files([tmp_path], problems.append))
    articles = [a for f in files for a in read_file(f, on_problem=problems.append)]
    assert sorted(a.title for a in articles) == ["Bon", "Bon aussi", "Titre"]
    messages = sorted(str(p) for p in problems)
    assert messages == sorted([
        f"{tmp_path / 'binary.txt'}: binary file, not text",
        f"{tmp_path / 'latin1.txt'}: not valid UTF-8 (bad byte 0xe9 at byte 9)",
        f"{tmp_path / 'mixed.jsonl'}:2: malformed JSON at column 27: Expecting value",
        f"{tmp_path / 'mixed.jsonl'}:3: record 3 has no body"
        " (looked for: body, text, content, article, texte, contenu)",
    ])


def test_symlink_loop_and_unreadable_folder_are_reported(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "ok.txt").write_text("Titre\nCorps", encoding="utf-8")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    (tmp_path / "self").symlink_to(tmp_path / "self")
    problems = []
    files = list(find_files([tmp_path], problems.append))
    assert files == [tmp_path / "a" / "ok.txt"]
    assert sorted(str(p) for p in problems) == [
        f"{tmp_path / 'a' / 'loop'}: symlink loop: folder already visited",
        f"{tmp_path / 'self'}: symlink loop",
    ]


def test_explicit_file_of_unknown_format(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK")
    problems = []
    assert list(find_files([path], problems.append)) == []
    assert "unsupported format" in str(problems[0])


def test_hostile_json_records_cost_themselves_only(tmp_path):
    folder = tmp_path / "dumps"
    write_article(folder, "bon.txt", "Sommet à Vladivostok", "Kim a rencontré Poutine.")
    lines = [
        '{"id": ' + "7" * 5000 + ', "title": "Identifiant géant", "body": "Un identifiant de cinq mille chiffres."}',
        '{"id": "profond", "title": ' + "[" * 600 + '"Titre enfoui"' + "]" * 600 + ', "body": "Un titre imbriqué."}',
        '{"id": "abysse", "title": ' + "[" * 100_000 + "]" * 100_000 + ', "body": "Trop imbriqué."}',
        '{"id": "seul", "title": "Demi\\ud800caractère", "body": "Une moitié de paire de substitution."}',
        '{"id": "dernier", "title": "Dernier", "body": "Le dernier article du fichier."}',
    ]
    (folder / "dump.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        problems = []
        report = engine.index([folder], on_problem=problems.append)
        assert [str(p) for p in problems] == [f"{folder / 'dump.jsonl'}:3: JSON nested too deeply"]
        assert (report.added, report.failed) == (5, 1)
        assert [h.id for h in engine.search("cinq mille chiffres")] == ["7" * 5000]
        assert [h.title for h in engine.search("imbriqué")] == ["Titre enfoui"]
        assert [h.title for h in engine.search("substitution")] == ["Demi\ufffdcaractère"]
        assert engine.search("Vladivostok").total == engine.search("dernier article").total == 1


def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path):
    folder = tmp_path / "articles"
    write_article(folder, "autre.txt", "Un autre article", "Sans rapport.")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as fh:
        fh.write("Au café\nLe serveur apporte un crème.".encode())
    with SearchEngine(tmp_path / "ix") as engine:
        report = engine.index([folder])
        assert (report.added, report.failed) == (2, 0)
        [hit] = engine.search("crème")
        assert hit.path == hit.id == f"{folder}{os.sep}caf\\xe9.txt"
        assert hit.title == "Au café"
        again = engine.index([folder])
        assert (again.added, again.unchanged, again.removed, again.failed) == (0, 2, 0, 0)


def test_an_over_long_json_line_is_skipped_without_being_held_in_memory(tmp_path):
    path = tmp_path / "dump.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"id": "a", "body": "Avant."}\n')
        fh.write('{"id": "b", "body": "' + "x" * (30 * 2**20) + '"}\n')
        fh.write('{"id": "c", "body": "Après."}\n')
    tracemalloc.start()
    try:
        articles, problems = read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [a.id for a in articles] == ["a", "c"]
    assert [str(p) for p in problems] == [f"{path}:2: 30.0 MB, over the 5 MB limit for one article"]
    assert peak < 3 * MAX_RECORD_BYTES  # a piece of the line the size of the limit (readline copies it once)


def test_a_file_or_array_element_over_the_size_limit_is_one_problem(tmp_path):
    with gzip.open(tmp_path / "long.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("Titre\n" + "mot " * (6 * 2**20 // 4))
    (tmp_path / "dump.json").write_text(json.dumps([{"body": "Petit."}, {"body": "y" * 6 * 2**20}]))
    problems = []
    articles = [a for f in find_files([tmp_path], problems.append) for a in read_file(f, on_problem=problems.append)]
    assert [a.body for a in articles] == ["Petit."]
    assert sorted(str(p) for p in problems) == [
        f"{tmp_path / 'dump.json'}: record 2 is 6.0 MB, over the 5 MB limit for one article",
        f"{tmp_path / 'long.txt.gz'}: 6.0 MB, over the 5 MB limit for one article",
    ]


def test_a_file_of_bad_lines_reports_the_first_five_and_counts_them_all(tmp_path, runner):
    folder = tmp_path / "dumps"
    write_article(folder, "bon.txt", "Sommet à Vladivostok", "Kim a rencontré Poutine.")
    backup = folder / "backup.jsonl"
    backup.write_bytes("\n".join(f"ligne {n} en latin-1 : café" for n in range(12)).encode("latin-1"))
    (folder / "image.jsonl").write_bytes(bytes(range(256)) * 400)
    result = runner.invoke(cli, ["index", str(folder), "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:-1] == [
        *(f"skipped {backup}:{n}: not valid UTF-8 (bad byte 0xe9 at column 25)" for n in range(1, 6)),
        f"skipped {backup}: … and 7 more bad lines",
        f"skipped {folder / 'image.jsonl'}: binary file, not text",
    ]
    assert lines[-1].startswith("1 added, 0 updated, 0 unchanged, 0 removed, 13 failed in ")


def test_an_empty_file_has_no_article_and_is_no_failure(tmp_path):
    folder = tmp_path / "articles"
    write_article(folder, "a.txt", "Titre", "Le texte de l’article.")
    (folder / "vide.jsonl").write_bytes(b"")
    (folder / "blancs.md").write_text("  \n\n \t\n")
    (folder / "vide.html").write_text("\n")
    (folder / "vide.json").write_text(" ")
    with gzip.open(folder / "vide.txt.gz", "wb"):
        pass
    with SearchEngine(tmp_path / "ix") as engine:
        first = engine.index([folder])
        assert (first.added, first.failed) == (1, 0)
        (folder / "a.txt").write_text("   \n")
        second = engine.index([folder])
        assert (second.added, second.removed, second.failed) == (0, 1, 0)
        assert engine.search("texte").total == 0


def test_a_first_line_too_long_for_a_title_is_cut_and_the_rest_kept_in_the_body(tmp_path):
    words = [f"mot{n}" for n in range(100_000)]
    path = tmp_path / "a.txt"
    path.write_text(" ".join(words) + "\nDeuxième ligne.", encoding="utf-8")
    [article], problems = read(path)
    assert problems == []
    assert len(article.title) <= 300 and article.title.endswith("…")
    shown = article.title.removesuffix("…").split()
    assert len(shown) > 30 and shown == words[:len(shown)]
    first, second = article.body.split("\n")
    assert first.split() == words[len(shown):]
    assert second == "Deuxième ligne."


def test_markdown_shows_text_not_markup(tmp_path):
    path = tmp_path / "a.md"
    path.write_text(
        "---\n"
        'title: "Grève à l’hôpital"\n'
        "date: 2023-09-12\n"
        "authors: [Jeanne Martin, 'Paul Durand']\n"
        "tags:\n"
        "  - santé\n"
        "---\n"
        "## Les revendications ##\n"
        "\n"
        "Les **soignants** réclament des _moyens_ et du *temps*, dit __la CGT__.\n"
        '> Voir [le rapport](https://example.org/rapport "Rapport") et ![un graphique](graphe.png).\n'
        "- le `**code**` s’applique, <https://example.org> aussi\n"
        "Le fichier mon_fichier_2023.csv reste, 5 * 3 aussi, et \\*ceci\\* aussi.\n"
        "\n"
        "***\n"
        "```python\n"
        "x = f(**kwargs)\n"
        "```\n",
        encoding="utf-8",
    )
    [article], problems = read(path)
    assert problems == []
    assert article.title == "Grève à l’hôpital"
    assert article.date == dt.date(2023, 9, 12)
    assert article.author == "Jeanne Martin, Paul Durand"
    assert article.body == (
        "Les revendications\n"
        "\n"
        "Les soignants réclament des moyens et du temps, dit la CGT.\n"
        "Voir le rapport et un graphique.\n"
        "le **code** s’applique, https://example.org aussi\n"
        "Le fichier mon_fichier_2023.csv reste, 5 * 3 aussi, et *ceci* aussi.\n"
        "\n"
        "\n"
        "\n"
        "x = f(**kwargs)"
    )


def test_markdown_without_front_matter_takes_its_title_from_the_first_line(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("# La **réforme** des [retraites](https://example.org)\n\nLe texte.", encoding="utf-8")
    [article], _ = read(path)
    assert (article.title, article.body, article.date) == ("La réforme des retraites", "Le texte.", None)


def test_odd_json_values_become_text_or_are_ignored(tmp_path):
    path = tmp_path / "dump.jsonl"
    records = [
        {"id": 7, "title": {"en": "Strike", "fr": "Grève"}, "date": 12345, "body": ["Premier paragraphe.", "Second."],
         "authors": [{"name": "Jeanne Martin", "role": "envoyée spéciale"}, {"name": "Paul Durand"}],
         "source": True, "url": None, "description": 3.5},
        {"title": ["Un", ["titre", ["imbriqué"]]], "date": 1694505600, "body": 42, "source": {"name": "AFP"}},
        {"date": {"$date": "2023-09-12T08:00:00Z"}, "body": "Texte.", "url": ["https://example.org/a"]},
        {"date": 1694505600000, "body": {"texte": "Corps dans un objet."}, "title": False},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    articles, problems = read(path)
    assert problems == []
    first, second, third, fourth = articles
    assert (first.id, first.title, first.date, first.body) == ("7", "Grève", None, "Premier paragraphe.\nSecond.")
    assert (first.author, first.source, first.url, first.lede) == ("Jeanne Martin, Paul Durand", "", "", "3.5")
    assert (second.title, second.date, second.body, second.source) == ("Un, titre, imbriqué", dt.date(2023, 9, 12),
                                                                        "42", "AFP")
    assert (third.date, third.url) == (dt.date(2023, 9, 12), "https://example.org/a")
    assert (fourth.date, fourth.body, fourth.title) == (dt.date(2023, 9, 12), "Corps dans un objet.", "")


def test_a_pipe_named_like_an_article_is_one_problem_not_a_hang(tmp_path):
    folder = tmp_path / "a"
    folder.mkdir()
    os.mkfifo(folder / "fifo.txt")
    (folder / "ok.txt").write_text("Titre\nCorps.", encoding="utf-8")
    problems = []
    assert [p.name for p in find_files([folder], problems.append)] == ["ok.txt"]
    assert [str(p) for p in problems] == [f"{folder / 'fifo.txt'}: not a regular file"]
