"""`gatekeeper deployment-gate`: a GitHub deployment protection rule, against the fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.cli import cli
from tests.factories import RepoFactory, make_repo
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

POLICY = """\
version: 1
name: deploy
environments: [staging, production]
rules:
  - id: ci
    check: ci-checks
    when: {environments: [production]}
    with: {required: [build]}
"""
RUN_ID = 77


@pytest.fixture
def deploy(github: FakeGitHub, tmp_path: Path) -> tuple[RepoFactory, str, Path]:
    repo = make_repo(tmp_path / "repo")
    sha = repo.commit({"gatekeeper.yml": POLICY, "app.py": "x = 1\n"}, "Release")
    repo.repo.git.update_ref("refs/remotes/origin/main", "main")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(github.protection_event(RUN_ID, "production", sha)))
    return repo, sha, event


def gate(github: FakeGitHub, repo: RepoFactory, event: Path, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["deployment-gate", "--policy", "gatekeeper.yml", "--repo", str(repo.path),
         "--event", str(event)],
        env=github.environ(GITHUB_EVENT_NAME="deployment_protection_rule", **env),
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_passing_policy_approves_the_deployment(github: FakeGitHub, deploy, monkeypatch) -> None:
    repo, sha, event = deploy
    monkeypatch.chdir(repo.path)
    github.add_check_run(sha, "build")
    code, out, err = gate(github, repo, event)
    assert code == 0, out + err
    [answer] = github.protection_answers
    assert answer["state"] == "approved" and answer["environment_name"] == "production"
    assert answer["run_id"] == RUN_ID
    assert answer["comment"].startswith("Release approved: 1 rule checked.")
    assert answer["comment"].endswith("Details: https://github.example/acme/widgets/actions/runs/4242")
    assert "deployment to production approved" in err


def test_a_failing_policy_rejects_with_the_summary(github: FakeGitHub, deploy, monkeypatch) -> None:
    repo, sha, event = deploy
    monkeypatch.chdir(repo.path)
    github.add_check_run(sha, "build", conclusion="failure")
    code, out, err = gate(github, repo, event)
    assert code == 1, out + err
    [answer] = github.protection_answers
    assert answer["state"] == "rejected"
    assert "Release blocked by 1 of 1 rule: ci." in answer["comment"]
    assert "ci: 1 checks on" in answer["comment"] and "failing: build (failure" in answer["comment"]
    assert "\n" not in answer["comment"]


def test_the_environment_drives_when_environments(github: FakeGitHub, tmp_path, monkeypatch) -> None:
    repo = make_repo(tmp_path / "repo")
    sha = repo.commit({"gatekeeper.yml": POLICY}, "Release")
    repo.repo.git.update_ref("refs/remotes/origin/main", "main")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(github.protection_event(RUN_ID, "staging", sha)))
    monkeypatch.chdir(repo.path)
    code, _out, _err = gate(github, repo, event)  # no check runs, but the rule is production's
    # Every rule skipped blocks (nothing was judged): rejected, and said so.
    [answer] = github.protection_answers
    assert (code, answer["state"], answer["environment_name"]) == (1, "rejected", "staging")


def test_no_decision_rejects_then_exits_2(github: FakeGitHub, tmp_path, monkeypatch) -> None:
    repo = make_repo(tmp_path / "repo")
    sha = repo.commit({"gatekeeper.yml": POLICY}, "Release")
    repo.repo.git.update_ref("refs/remotes/origin/main", "main")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(github.protection_event(RUN_ID, "qa", sha)))
    monkeypatch.chdir(repo.path)
    code, _, err = gate(github, repo, event)
    assert code == 2 and "'qa' is not an environment" in err
    [answer] = github.protection_answers
    assert answer["state"] == "rejected"
    assert answer["comment"].startswith("No decision: --env 'qa' is not an environment")


def test_an_unanswered_callback_is_retried_then_exits_2(
    github: FakeGitHub, deploy, monkeypatch
) -> None:
    repo, sha, event = deploy
    monkeypatch.chdir(repo.path)
    github.add_check_run(sha, "build")
    github.fail(r"/deployment_protection_rule$", 502, method="POST")
    code, _out, err = gate(github, repo, event)
    assert code == 2
    assert "the deployment protection rule was not answered" in err and "HTTP 502" in err
    assert len(github.requests("POST", "deployment_protection_rule")) == 3  # 1 + 2 retries


def test_a_callback_url_off_the_api_is_never_called(
    github: FakeGitHub, deploy, monkeypatch
) -> None:
    repo, sha, event = deploy
    monkeypatch.chdir(repo.path)
    github.add_check_run(sha, "build")
    payload = json.loads(event.read_text())
    payload["deployment_callback_url"] = "https://attacker.example/steal"
    event.write_text(json.dumps(payload))
    code, _, err = gate(github, repo, event)
    assert code == 2 and "refusing to send the token to https://attacker.example:443" in err
    assert github.protection_answers == []


def test_not_a_protection_event_is_exit_2(github: FakeGitHub, deploy, tmp_path) -> None:
    repo, _, _ = deploy
    other = tmp_path / "push.json"
    other.write_text(json.dumps({"ref": "refs/heads/main"}))
    code, _, err = gate(github, repo, other)
    assert code == 2 and "not a deployment_protection_rule event" in err
