import contextlib
import json
import time
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


@pytest.fixture
def news(tmp_path):
    records = [
        {"id": "kim", "title": "Kim Jong-un rencontre Vladimir Poutine", "date": "2019-04-25", "source": "AFP",
         "body": "Le sommet de Vladivostok réunit Kim Jong-un et Vladimir Poutine. Les missiles sont au menu."},
        {"id": "putin", "title": "Poutine en visite en Chine", "date": "2023-03-20", "source": "Reuters",
         "body": "Vladimir Poutine est arrivé à Pékin pour rencontrer Xi Jinping."},
        {"id": "kim-only", "title": "Nouveaux tirs de missiles", "date": "2022-11-02", "source": "AFP",
         "body": "Pyongyang a tiré des missiles balistiques, Kim Jong-un supervisait les essais."},
        {"id": "macron", "title": "Macron et la réforme des retraites", "date": "2023-01-10", "source": "AFP",
         "body": "Emmanuel Macron défend la réforme des retraites devant les syndicats."},
        {"id": "greve", "title": "Grève à la SNCF", "date": "2023-01-19",
         "body": "Les syndicats appellent à la grève contre la réforme. Les trains sont à l'arrêt."},
        {"id": "zelensky", "title": "Zelensky s'adresse au Parlement", "date": "2022-03-23",
         "body": "Le président ukrainien Volodymyr Zelensky a parlé aux députés français."},
    ]
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([path])
        yield engine


def ids(results):
    return [h.id for h in results]


def stems(results):
    return [h.path.rsplit("/", 1)[-1].removesuffix(".txt") for h in results]


def write_records(folder, records):
    folder.mkdir()
    for name, title, body in records:
        (folder / f"{name}.txt").write_text(f"{title}\n\n{body}", encoding="utf-8")


@contextlib.contextmanager
def indexed(tmp_path, records):
    """An engine over text files written from (name, title, body) records."""
    write_records(tmp_path / "a", records)
    with SearchEngine(tmp_path / "ix") as engine:
        engine.index([tmp_path / "a"])
        yield engine



def wait_for(condition, what: str = "a condition", deadline: float = 120.0):
    """Poll ``condition`` until it returns something true, and return that; fail
    after ``deadline`` seconds. Tests wait on what they mean, never a fixed time."""
    end = time.monotonic() + deadline
    while not (found := condition()):
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.01)
    return found


@pytest.fixture(scope="session")
def opensearch_cluster():
    """A real 2-node OpenSearch cluster for the session (tests/opensearch.py): started once by
    scripts/opensearch-cluster on free ports, or the one NEWSEARCH_TEST_OPENSEARCH names."""
    from tests.opensearch import session_cluster

    with session_cluster() as cluster:
        yield cluster
