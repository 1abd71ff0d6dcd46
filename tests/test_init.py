"""The package's public face: the names it exports, its version, its import cost."""

import ast
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

import searchengine
from searchengine.cli import cli

from .conftest import ROOT

PUBLIC = [
    "Article",
    "ArticleNotFound",
    "ArticleView",
    "BadArticle",
    "BadQuery",
    "Facet",
    "Facets",
    "Hit",
    "IndexCorrupt",
    "IndexInfo",
    "IndexLocked",
    "IndexNotFound",
    "IndexReport",
    "IndexWriteError",
    "NewsearchError",
    "Progress",
    "RankingSettings",
    "SearchEngine",
    "SearchResults",
    "UnknownIndexFormat",
]
"""Every public name, written out: adding or removing one is a decision this test makes visible."""


def test_all_is_exactly_the_public_names_sorted():
    assert PUBLIC == sorted(PUBLIC)
    assert searchengine.__all__ == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_imports_from_the_package(name):
    namespace: dict[str, object] = {}
    exec(f"from searchengine import {name}", namespace)
    value = namespace[name]
    assert isinstance(value, type) and value.__name__ == name
    assert value.__module__.startswith("searchengine.")


def fresh(code: str) -> list[str]:
    """The words `code` prints in a new interpreter, where nothing is loaded yet."""
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return done.stdout.split()


def test_dir_offers_every_public_name_before_any_is_loaded():
    assert set(PUBLIC) <= set(fresh("import searchengine; print(*dir(searchengine))"))


def test_type_checkers_see_the_lazy_names():
    """The names loaded on first use are imported under TYPE_CHECKING too, so
    that mypy and editors know them; the two lists must not drift apart."""
    tree = ast.parse((ROOT / "searchengine" / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    imported = sorted(alias.name for node in guarded.body if isinstance(node, ast.ImportFrom) for alias in node.names)
    assert imported == PUBLIC


def test_public_api_is_exported():
    for name in searchengine.__all__:
        assert getattr(searchengine, name)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"from searchengine import SearchEngine", readme)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        searchengine.Nothing  # noqa: B018


def test_importing_the_package_loads_no_dependency():
    """`import searchengine` stays cheap: Whoosh, NumPy and the rest load with
    the names that need them."""
    loaded = set(fresh("import sys, searchengine; print(*sys.modules)"))
    assert "searchengine" in loaded
    assert not loaded & {"whoosh", "numpy", "click", "bs4", "Stemmer", "unidecode"}
    assert not {name for name in loaded if name.startswith("searchengine.")}


def test_version_is_one_string_that_the_cli_prints():
    assert re.fullmatch(r"\d+\.\d+\.\d+", searchengine.__version__)
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"newsearch, version {searchengine.__version__}\n"
