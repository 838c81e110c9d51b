"""`.pre-commit-hooks.yaml` (issue 15): the `gatekeeper-validate` hook runs `gatekeeper
validate` on policy files and only on them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from tests.factories import run_cli

ROOT = Path(__file__).resolve().parents[1]


def hook() -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return next(h for h in hooks if h["id"] == "gatekeeper-validate")


def test_the_hook_selects_policy_files() -> None:
    files = re.compile(hook()["files"])
    for path in ("gatekeeper.yml", "gatekeeper.yaml", "policies/prod.yml", "svc/gatekeeper.yml"):
        assert files.search(path), path
    for path in (".github/workflows/ci.yml", "docs/gatekeeper.yml.md", "policies/old/x.yml"):
        assert not files.search(path), path
    assert hook()["language"] == "python"  # installs this package, which provides the command


def test_the_hooks_command_validates_the_files_it_is_given(tmp_path: Path) -> None:
    command, *args = shlex.split(hook()["entry"])
    assert command == "gatekeeper"
    good = ROOT / "policies" / "default.yml"
    bad = tmp_path / "gatekeeper.yml"
    bad.write_text("version: 1\nrules: []\n")
    assert run_cli(*args, str(good)).exit_code == 0
    failed = run_cli(*args, str(good), str(bad))
    assert failed.exit_code == 2 and f"{bad}:2:8: rules:" in failed.stderr
