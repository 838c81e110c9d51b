"""Issue 9, "no approval by omission": runs that would approve because something was not
looked at end in a usage error (exit 2) or a block instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.model import Decision, decide
from tests.factories import RepoFactory, run_cli, write_policy

CHANGELOG_RULE = {"id": "changelog", "check": "changelog"}


@pytest.fixture
def feature(repo: RepoFactory) -> RepoFactory:
    """A branch off main whose one commit adds a changelog (the changelog rule passes)."""
    repo.branch("feature")
    repo.commit({"CHANGELOG.md": "# log\n"}, "feature")
    return repo


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


# --- 2. environments: declared or gathered; an unknown --env is exit 2 ------------------

FREEZE = {
    "id": "deploy-window",
    "check": "release-window",
    "when": {"environments": ["production"]},
    "with": {"allow": [{"days": ["sat"], "start": "00:00", "end": "00:01"}]},
}


def policy_text(rules: list[dict], **top: object) -> str:
    return json.dumps({"version": 1, "name": "envs", **top, "rules": rules})


@pytest.mark.parametrize("declared", [None, ["staging", "production"]])
@pytest.mark.parametrize("strict", [[], ["--strict"]])
def test_a_typo_in_env_is_a_usage_error_with_a_suggestion(
    repo: RepoFactory, tmp_path: Path, declared: list[str] | None, strict: list[str]
) -> None:
    top = {"environments": declared} if declared else {}
    policy = write_policy(tmp_path / "p.yml", policy_text([FREEZE], **top))
    result = check(repo, policy, "--base", "main", "--env", "prod", *strict)
    assert result.exit_code == 2, result.output
    assert "--env 'prod' is not an environment of the policy" in result.output
    assert "(did you mean 'production'?)" in result.output


def test_a_declared_environment_no_rule_uses_is_accepted(
    feature: RepoFactory, tmp_path: Path
) -> None:
    text = policy_text([FREEZE, CHANGELOG_RULE], environments=["staging", "production"])
    policy = write_policy(tmp_path / "p.yml", text)
    result = check(feature, policy, "--base", "main", "--env", "staging", "--format", "json")
    report = json.loads(result.output)
    assert [r["status"] for r in report["rules"]] == ["skipped", "pass"]


def test_a_policy_without_environments_accepts_any_env(
    feature: RepoFactory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "p.yml", [CHANGELOG_RULE])
    result = check(feature, policy, "--base", "main", "--env", "anything")
    assert result.exit_code == 0, result.output


def test_without_env_one_note_names_the_rules_waiting_for_one(
    repo: RepoFactory, tmp_path: Path
) -> None:
    staged = {**FREEZE, "id": "staged", "when": {"environments": ["staging", "production"]}}
    policy = write_policy(tmp_path / "p.yml", policy_text([FREEZE, staged, CHANGELOG_RULE]))
    note = (
        "no --env given: 2 rules wait for an environment and are skipped: "
        "deploy-window (production); staged (staging, production)"
    )
    text = check(repo, policy, "--base", "main")
    assert f"Note: {note}" in text.output.splitlines()
    report = json.loads(check(repo, policy, "--base", "main", "--format", "json").output)
    assert [n for n in report["notes"] if not n.startswith("Policy read")] == [note]
    with_env = check(repo, policy, "--base", "main", "--env", "staging", "--format", "json")
    assert not [n for n in json.loads(with_env.output)["notes"] if not n.startswith("Policy read")]


def test_an_undeclared_environment_in_a_rule_is_an_invalid_policy(tmp_path: Path) -> None:
    text = policy_text([FREEZE], environments=["staging", "prod"])
    policy = write_policy(tmp_path / "p.yml", text)
    result = run_cli("validate", str(policy))
    assert result.exit_code == 2
    assert "environment 'production' is not one of the policy's environments" in result.output


# --- 3. an empty policy is invalid; a run that judged nothing blocks ---------------------


def test_an_empty_policy_is_invalid(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "p.yml", "version: 1\nrules: []\n")
    result = run_cli("validate", str(policy))
    assert result.exit_code == 2
    assert f"{policy}:2:8: rules: a policy needs at least one rule" in result.output


def test_every_rule_skipped_blocks_and_says_nothing_was_judged(
    repo: RepoFactory, tmp_path: Path
) -> None:
    db_only = {**CHANGELOG_RULE, "when": {"paths": ["db/**"]}}
    policy = write_policy(tmp_path / "p.yml", policy_text([FREEZE, db_only]))
    result = check(repo, policy, "--base", "main", "--output", f"markdown={tmp_path}/r.md")
    assert result.exit_code == 1
    assert "Decision: BLOCK: nothing was judged: all 2 rules were skipped" in result.output
    md = (tmp_path / "r.md").read_text()
    assert md.startswith("### ❌ Release blocked: envs (nothing was judged")
    report = json.loads(check(repo, policy, "--base", "main", "--format", "json").output)
    assert report["decision"] == "block" and report["nothing_judged"] is True
    assert report["counts"]["skipped"] == 2


def test_allow_all_skipped_lets_such_a_run_approve(repo: RepoFactory, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "p.yml", policy_text([FREEZE], allow_all_skipped=True))
    result = check(repo, policy, "--base", "main", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["nothing_judged"] is False


def test_decide_blocks_on_no_results_unless_allowed() -> None:
    assert decide([]) is Decision.BLOCK
    assert decide([], allow_all_skipped=True) is Decision.APPROVE
