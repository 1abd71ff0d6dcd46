"""The README and --help document everything there is."""

import pytest
from click.testing import CliRunner

from searchengine.cli import cli

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_in_the_readme_and_has_help(name):
    assert f"### `newsearch {name}" in README
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_option_is_in_the_readme(name):
    for param in cli.commands[name].params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert opt in README, f"{name} {opt}"


def test_query_help_documents_the_syntax():
    out = CliRunner().invoke(cli, ["query", "--help"]).output
    for example in ['"Corée du Nord"', "-Trump", " OR ", "title:", "nucl*"]:
        assert example in out
