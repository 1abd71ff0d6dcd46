from pathlib import Path

import pytest
from click.testing import CliRunner

from searchengine import SearchEngine

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


def write_article(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """Three small articles written for the tests."""
    folder = tmp_path / "articles"
    write_article(
        folder, "sommet.txt", "Sommet à Vladivostok",
        "Le dirigeant nord-coréen Kim Jong-un a rencontré Vladimir Poutine. "
        "L’agence RIA Novosti évoque des missiles.",
    )
    write_article(
        folder, "hopitaux.md", "# Les hôpitaux en grève",
        "Les soignants des hôpitaux publics réclament des moyens. Le cœur du conflit reste les salaires.",
    )
    write_article(
        folder, "meteo.txt", "Un été très chaud",
        "L'été 2023 a battu des records de chaleur en France.",
    )
    return folder


@pytest.fixture
def engine(tmp_path: Path, articles: Path) -> SearchEngine:
    with SearchEngine(tmp_path / "index") as engine:
        engine.index([articles])
        yield engine


@pytest.fixture
def runner(monkeypatch) -> CliRunner:
    monkeypatch.delenv("NEWSEARCH_INDEX", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return CliRunner()


def needs_shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared corpora are not on this machine")
    return path
