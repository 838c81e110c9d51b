"""Issue 9, "no approval by omission": runs that would approve because something was not
looked at end in a usage error (exit 2) or a block instead."""

from __future__ import annotations

from pathlib import Path

from tests.factories import RepoFactory, run_cli, write_policy

CHANGELOG_RULE = {"id": "changelog", "check": "changelog"}


def check(repo: RepoFactory, policy: Path, *extra: str):
    return run_cli("check", "--policy", str(policy), "--repo", str(repo.path), *extra)


# --- 1. --worktree judges the checked-out tree, so --head must be that commit ----------


def test_worktree_with_another_head_is_a_usage_error(repo: RepoFactory, tmp_path: Path) -> None:
    repo.branch("feature")
    repo.commit({"CHANGELOG.md": "# log\n"}, "unreviewed commit on feature")
    repo.checkout("main")
    policy = write_policy(tmp_path / "p.yml", [CHANGELOG_RULE])
    result = check(repo, policy, "--base", "main", "--head", "feature", "--worktree")
    assert result.exit_code == 2
    assert "--worktree judges the work tree" in result.output
    assert "check out feature first" in result.output


def test_worktree_with_the_checked_out_head_runs(repo: RepoFactory, tmp_path: Path) -> None:
    repo.branch("feature")
    repo.commit({"CHANGELOG.md": "# log\n"}, "feature")
    policy = write_policy(tmp_path / "p.yml", [CHANGELOG_RULE])
    for head in ("feature", "HEAD"):
        result = check(repo, policy, "--base", "main", "--head", head, "--worktree")
        assert result.exit_code == 0, result.output
