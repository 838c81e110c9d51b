from __future__ import annotations

import re
from pathlib import Path

import yaml

ACTION = Path(__file__).resolve().parents[1] / "action.yml"


def load() -> dict:
    return yaml.safe_load(ACTION.read_text())


def test_inputs_and_outputs() -> None:
    action = load()
    inputs = action["inputs"]
    assert set(inputs) == {
        "policy", "environment", "base", "comment", "status", "strict", "python-version", "token",
        "policy-source", "args", "version", "upload-report", "report-name", "command",
    }
    assert inputs["command"]["default"] == "check"
    assert inputs["comment"]["default"] == "true" and inputs["status"]["default"] == "true"
    assert inputs["token"]["default"] == "${{ github.token }}"
    assert set(action["outputs"]) == {"decision", "report"}
    assert action["runs"]["using"] == "composite"


def test_installs_from_the_action_path_and_never_interpolates_inputs_into_scripts() -> None:
    steps = load()["runs"]["steps"]
    scripts = [s["run"] for s in steps if "run" in s]
    assert any('"$GITHUB_ACTION_PATH"' in run for run in scripts)
    for run in scripts:
        # ${{ }} in a script is pasted in before bash runs: a branch name could inject code.
        assert not re.search(r"\$\{\{", run), run


def test_the_flags_the_action_passes_exist() -> None:
    from click.testing import CliRunner

    from gatekeeper.cli import cli

    script = next(s["run"] for s in load()["runs"]["steps"] if s.get("id") == "gate")
    flags = set(re.findall(r"(--[a-z-]+)", script))
    help_text = CliRunner().invoke(cli, ["check", "--help"]).output
    assert flags and all(flag in help_text for flag in flags), flags


def test_verify_accepts_the_flags_the_action_passes_it() -> None:
    from click.testing import CliRunner

    from gatekeeper.cli import cli

    script = next(s["run"] for s in load()["runs"]["steps"] if s.get("id") == "gate")
    # --base and --policy-source are for check only (the script adds them only then)
    flags = set(re.findall(r"(--[a-z-]+)", script)) - {"--base", "--policy-source"}
    help_text = CliRunner().invoke(cli, ["verify", "--help"]).output
    assert flags and all(flag in help_text for flag in flags), flags
    assert '[ "$GK_COMMAND" = check ]' in script
