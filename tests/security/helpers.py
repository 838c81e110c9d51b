"""Shared set-up for the attacker's cases: a base branch with a strict policy, and a
pull request that tries to get past it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result

from tests.factories import RepoFactory, make_repo, run_cli

STRICT = """\
version: 1
name: strict
rules:
  - id: changelog
    check: changelog
"""
"""Blocks every change that does not touch CHANGELOG.md (the attacker's changes do not)."""

WEAK = """\
version: 1
name: weak
allow_all_skipped: true
rules:
  - id: changelog
    check: changelog
    when: {environments: [never]}
"""
"""Approves anything: its only rule is skipped."""


def strict_base(root: Path, extra: dict[str, str | bytes | None] | None = None) -> RepoFactory:
    """main: the strict policy and some code; origin/main points at it; HEAD on `feature`."""
    repo = make_repo(root, {"gatekeeper.yml": STRICT, "src/app.py": "x = 1\n", **(extra or {})})
    repo.repo.git.update_ref("refs/remotes/origin/main", "main")
    repo.branch("feature")
    return repo


def gate(repo: RepoFactory, *args: str, **env: str) -> tuple[Result, dict]:
    """`gatekeeper check` on the repository with a JSON report; returns (result, report)."""
    out = repo.path.parent / "report.json"
    out.unlink(missing_ok=True)
    result = run_cli(
        "check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo", str(repo.path),
        "--output", f"json={out}", *args, env=dict(env),
    )
    return result, json.loads(out.read_text()) if out.exists() else {}
