"""Reading articles out of the formats people bring."""

import datetime as dt
import gzip
import json

import pytest

from searchengine.articles import find_files, parse_date, read_file


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


def test_html_page_without_navigation_scripts_or_styles(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Sommet à Vladivostok</title><style>p{color:red}</style>"
        '<meta name="description" content="Le chapeau."><meta property="article:published_time" '
        'content="2019-04-25T10:00:00+02:00"></head><body><nav>Accueil | Monde</nav>'
        "<article><h1>Sommet à Vladivostok</h1><p>Kim a rencontré Poutine.</p><script>var x=1;</script>"
        "<p>Second paragraphe.</p></article><footer>Mentions légales</footer></body></html>",
        encoding="utf-8",
    )
    [article], problems = read(path)
    assert problems == []
    assert article.title == "Sommet à Vladivostok"
    assert article.body == "Kim a rencontré Poutine.\nSecond paragraphe."
    assert article.lede == "Le chapeau."
    assert article.date == dt.date(2019, 4, 25)


def test_html_title_falls_back_to_first_h1(tmp_path):
    path = tmp_path / "page.htm"
    path.write_text("<body><h1>Le vrai titre</h1><p>Texte.</p></body>", encoding="utf-8")
    [article], _ = read(path)
    assert article.title == "Le vrai titre"
    assert article.body == "Texte."


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
        f"{tmp_path / 'empty.md'}: empty file",
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
