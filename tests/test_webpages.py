"""Reading the article inside a saved web page."""

import codecs
import datetime as dt

import pytest

from searchengine.articles import read_file


def read(path):
    problems = []
    articles = list(read_file(path, on_problem=problems.append))
    return articles, problems


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



@pytest.mark.parametrize("head,encoding,title", [
    ('<meta charset="iso-8859-1">', "latin-1", "Grève à l'hôpital"),
    ("<meta charset=ISO-8859-15>", "iso-8859-15", "Grève à l'hôpital : 10 €"),
    ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">', "cp1252", "Grève à l’hôpital"),
])
def test_a_page_is_read_in_the_charset_it_declares(tmp_path, head, encoding, title):
    path = tmp_path / "page.html"
    path.write_bytes(f"<html><head>{head}<title>{title}</title></head>"
                     "<body><p>Les soignants réclament des moyens.</p></body></html>".encode(encoding))
    [article], problems = read(path)
    assert problems == []
    assert article.title == title
    assert article.body == "Les soignants réclament des moyens."


def test_iso_8859_1_is_read_as_windows_1252_as_browsers_do(tmp_path):
    """Pages that say iso-8859-1 are full of windows-1252's curly quotes (0x92)."""
    path = tmp_path / "page.html"
    path.write_bytes('<meta charset="iso-8859-1"><title>L’été</title><p>Texte.</p>'.encode("cp1252"))
    [article], problems = read(path)
    assert (article.title, problems) == ("L’été", [])


@pytest.mark.parametrize("bom,encoding", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                                          (codecs.BOM_UTF8, "utf-8")])
def test_a_byte_order_mark_says_the_encoding(tmp_path, bom, encoding):
    path = tmp_path / "page.html"
    path.write_bytes(bom + "<title>Sommet à Vladivostok</title><p>Kim a rencontré Poutine.</p>".encode(encoding))
    [article], problems = read(path)
    assert problems == []
    assert (article.title, article.body) == ("Sommet à Vladivostok", "Kim a rencontré Poutine.")


def test_a_page_that_declares_nothing_is_utf8(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes("<title>Café</title><p>Crème.</p>".encode("latin-1"))
    articles, problems = read(path)
    assert articles == []
    assert [str(p) for p in problems] == [f"{path}: not valid UTF-8 (bad byte 0xe9 at byte 10)"]


def test_without_title_or_h1_the_title_is_og_title(tmp_path):
    path = tmp_path / "page.html"
    path.write_text('<head><meta property="og:title" content="Grève à la SNCF"></head>'
                    "<body><p>Les trains restent à quai.</p></body>", encoding="utf-8")
    [article], problems = read(path)
    assert problems == []
    assert (article.title, article.body) == ("Grève à la SNCF", "Les trains restent à quai.")


def test_without_any_title_the_first_line_is_the_title_cut_to_a_sensible_length(tmp_path):
    words = [f"mot{n}" for n in range(400)]
    path = tmp_path / "page.html"
    path.write_text(f"<body><p>{' '.join(words)}</p><p>Second paragraphe.</p></body>", encoding="utf-8")
    [article], problems = read(path)
    assert problems == []
    assert len(article.title) <= 300 and article.title.endswith("…")
    shown = article.title.removesuffix("…").split()
    assert shown == words[:len(shown)]
    first, second = article.body.split("\n")
    assert first.split() == words[len(shown):]
    assert second == "Second paragraphe."
