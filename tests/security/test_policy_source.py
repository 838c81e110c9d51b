"""Threat: a change chooses or weakens its own gate.

The policy file is part of the change under review. If the run applies the change's own
copy, a pull request (or a merge-queue entry, or a ChatOps-triggered run) can delete
the rules that would block it. And if the policy path is resolved through a symbolic
link, a change can point the gate at another, weaker file of the base without the
"policy changed" note. Issue 8, items 1 and 2.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.factories import run_cli
from tests.security.helpers import STRICT, WEAK, gate, strict_base


@pytest.fixture
def weakened(tmp_path: Path):
    """A change that edits gatekeeper.yml to approve everything."""
    repo = strict_base(tmp_path / "repo")
    repo.commit({"gatekeeper.yml": WEAK, "src/app.py": "x = 2\n"}, "Weaken the gate")
    return repo


def _event(tmp_path: Path, payload: dict) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return str(path)


@pytest.mark.parametrize(
    "event",
    [
        ("merge_group", {"merge_group": {"base_ref": "refs/heads/main"}}),
        ("issue_comment", {"issue": {"number": 7, "pull_request": {}}, "comment": {}}),
        ("push", {"ref": "refs/heads/feature"}),
        ("pull_request", {"number": 7, "pull_request": {"number": 7}}),
    ],
    ids=lambda e: e[0],
)
def test_every_github_actions_event_applies_the_base_policy(weakened, tmp_path, event) -> None:
    name, payload = event
    result, report = gate(
        weakened, "--base", "main", GITHUB_ACTIONS="true", GITHUB_EVENT_NAME=name,
        GITHUB_EVENT_PATH=_event(tmp_path, payload),
    )
    assert result.exit_code == 1, result.output
    assert report["policy"]["name"] == "strict" and report["policy"]["origin"] == "base"
    assert "GITHUB_ACTIONS=true" in report["policy"]["reason"]
    assert any("the base version was applied" in n for n in report["notes"])
    assert any(n.startswith("Policy read from the base commit") for n in report["notes"])


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CI": "1"}, {"JENKINS_URL": "http://ci/"}])
def test_any_ci_environment_applies_the_base_policy(weakened, env) -> None:
    result, report = gate(weakened, "--base", "main", **env)
    assert result.exit_code == 1, result.output
    assert report["policy"]["origin"] == "base"


def test_only_an_explicit_opt_out_applies_the_change_s_copy_in_ci(weakened) -> None:
    result, report = gate(
        weakened, "--base", "main", "--policy-source", "worktree", GITHUB_ACTIONS="true"
    )
    assert result.exit_code == 0, result.output
    assert report["policy"]["origin"] == "worktree"
    assert report["policy"]["reason"] == "--policy-source worktree was given"


def test_a_laptop_run_applies_the_work_tree_copy_and_says_why(weakened) -> None:
    result, report = gate(weakened, "--base", "main")
    assert result.exit_code == 0, result.output
    assert report["policy"]["origin"] == "worktree"
    assert "local run (no CI environment)" in report["policy"]["reason"]
    assert "Policy read from the work tree" in result.output
    result, report = gate(weakened, "--base", "main", "--policy-source", "base")
    assert result.exit_code == 1 and report["policy"]["origin"] == "base"


def _symlink(repo, link: str, target: str) -> None:
    path = repo.path / link
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


@pytest.mark.parametrize("ci", [{"GITHUB_ACTIONS": "true"}, {}], ids=["ci", "laptop"])
def test_policy_replaced_by_a_symlink_to_another_base_file_is_refused(tmp_path, ci) -> None:
    repo = strict_base(tmp_path / "repo", {"docs/example-policy.yml": WEAK})
    _symlink(repo, "gatekeeper.yml", "docs/example-policy.yml")
    repo.commit({"src/app.py": "x = 2\n"}, "Point the gate at the example")
    result, report = gate(repo, "--base", "main", **ci)
    assert result.exit_code == 2, result.output
    assert report == {}
    [line] = result.stderr.strip().splitlines()
    assert "gatekeeper.yml: the policy path is a symbolic link" in line


def test_policy_folder_replaced_by_a_symlink_is_refused(tmp_path) -> None:
    repo = strict_base(
        tmp_path / "repo", {".github/gatekeeper.yml": STRICT, "decoy/gatekeeper.yml": WEAK}
    )
    _symlink(repo, ".github", "decoy")
    repo.commit({"src/app.py": "x = 2\n"}, "Swap the folder")
    result = gate_at(repo, ".github/gatekeeper.yml", GITHUB_ACTIONS="true")
    assert result.exit_code == 2, result.output
    assert "runs through the symbolic link .github on the head commit" in result.stderr
    # The same folder link left only in the work tree (not committed) is refused too.
    repo.repo.git.reset("-q", "--hard", "HEAD~1")
    _symlink(repo, ".github", "decoy")
    result = gate_at(repo, ".github/gatekeeper.yml", GITHUB_ACTIONS="true")
    assert result.exit_code == 2 and "in the work tree" in result.stderr


def test_a_symlinked_policy_on_the_base_is_refused(tmp_path) -> None:
    repo = strict_base(tmp_path / "repo", {"policies/prod.yml": STRICT})
    repo.checkout("main")
    _symlink(repo, "gatekeeper.yml", "policies/prod.yml")
    repo.commit({}, "Link the policy")
    repo.repo.git.update_ref("refs/remotes/origin/main", "main")
    repo.checkout("feature")
    repo.repo.git.merge("-q", "main")
    repo.repo.git.rm("-q", "gatekeeper.yml")
    repo.commit({"gatekeeper.yml": WEAK}, "A regular file again, but weak")
    result, _ = gate(repo, "--base", "main", GITHUB_ACTIONS="true")
    assert result.exit_code == 2
    assert "is a symbolic link on the base commit" in result.stderr


def gate_at(repo, policy: str, **env: str):
    return run_cli(
        "check", "--policy", str(repo.path / policy), "--repo", str(repo.path), "--base", "main",
        env=dict(env),
    )
