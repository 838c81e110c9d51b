"""`gatekeeper demo --keep DIR` (issue 9, item 11): the printed command works afterwards."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.factories import run_cli


def test_the_kept_demo_runs_the_printed_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tmp_path / "my demo"
    result = run_cli("demo", "--keep", str(kept))
    assert result.exit_code == 0, result.output
    assert f"The repository and its policy are kept in {kept}." in result.output
    line = result.output.splitlines()[-1].strip()
    cd, _, command = line.partition(" && ")
    assert shlex.split(cd) == ["cd", str(kept)]
    monkeypatch.chdir(kept)
    again = run_cli(*shlex.split(command)[1:])
    assert again.exit_code == 1, again.output  # the freeze still blocks at that time
    assert "Decision: BLOCK: 1 rule blocks the release (year-end-freeze)" in again.output


def test_the_temporary_demo_mentions_keep() -> None:
    result = run_cli("demo")
    assert "`gatekeeper demo --keep DIR` keeps it" in result.output


def test_keep_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "something.txt").write_text("mine\n")
    result = run_cli("demo", "--keep", str(tmp_path))
    assert result.exit_code == 2
    assert "is not empty; give --keep a new or empty folder" in result.stderr
    assert (tmp_path / "something.txt").read_text() == "mine\n"
