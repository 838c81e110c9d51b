"""`gatekeeper check` end to end in a pull-request run against the fake GitHub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from gatekeeper.cli import cli
from gatekeeper.report import report_schema
from tests.factories import RepoFactory, make_repo
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]

STRICT_POLICY = """\
version: 1
name: release
rules:
  - id: review
    check: code-review
    with:
      min_approvals: 1
  - id: ci
    check: ci-checks
"""
WEAK_POLICY = """\
version: 1
name: release
rules:
  - id: ci
    check: ci-checks
"""


@dataclass
class PullRequestRun:
    github: FakeGitHub
    repo: RepoFactory
    head: str
    env: dict[str, str]

    @property
    def policy(self) -> str:
        return str(self.repo.path / "gatekeeper.yml")

    def check(self, *args: str) -> tuple[int, str, str, dict]:
        report = self.repo.path.parent / "report.json"
        runner = CliRunner()
        result = runner.invoke(
            cli,
            ["check", "--policy", self.policy, "--repo", str(self.repo.path), "--format",
             "text", "--output", f"json={report}", *args],
            env=self.env,
            catch_exceptions=False,
        )
        data = json.loads(report.read_text()) if report.exists() else {}
        return result.exit_code, result.stdout, result.stderr, data


@pytest.fixture
def pr_run(github: FakeGitHub, tmp_path: Path) -> PullRequestRun:
    repo = make_repo(tmp_path / "repo")
    base = repo.commit({"gatekeeper.yml": STRICT_POLICY, "src/app.py": "x = 1\n"}, "Initial")
    repo.branch("feature")
    head = repo.commit({"src/app.py": "x = 2\n"}, "Change the app")
    github.add_pr(1, author="alice", head_sha=head, base_sha=base, title="Change **the** app")
    github.add_file(1, "src/app.py")
    github.add_check_run(head, "test")
    github.roles["bob"] = "write"
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 1, "pull_request": github.pulls[1]}))
    env = github.environ(
        GITHUB_EVENT_PATH=str(event),
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_BASE_REF="main",
        GITHUB_HEAD_REF="feature",
    )
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ACTIONS", "GH_TOKEN"):
        env.setdefault(name, "")
    return PullRequestRun(github, repo, head, env)


def test_approved_pr_passes_and_publishes(pr_run: PullRequestRun) -> None:
    pr_run.github.add_review(1, "bob", "APPROVED", commit_id=pr_run.head)
    code, out, err, report = pr_run.check("--comment", "--status")
    assert code == 0, out + err
    jsonschema.validate(report, report_schema())
    assert report["decision"] == "approve"
    assert [r["status"] for r in report["rules"]] == ["pass", "pass"]
    [status] = pr_run.github.statuses[pr_run.head]
    assert (status["state"], status["context"]) == ("success", "gatekeeper/release")
    [comment] = pr_run.github.comments[1]
    assert comment["body"].startswith("<!-- gatekeeper:release -->\n### ✅ Release approved")


def test_policy_weakened_in_the_pr_head_is_ignored(pr_run: PullRequestRun) -> None:
    pr_run.repo.commit({"gatekeeper.yml": WEAK_POLICY}, "Drop the review rule")
    pr_run.github.push(1, pr_run.repo.repo.head.commit.hexsha)
    pr_run.github.add_check_run(pr_run.github.pulls[1]["head"]["sha"], "test")
    event = json.loads(Path(pr_run.env["GITHUB_EVENT_PATH"]).read_text())
    event["pull_request"] = pr_run.github.pulls[1]
    Path(pr_run.env["GITHUB_EVENT_PATH"]).write_text(json.dumps(event))

    code, out, err, report = pr_run.check("--comment")
    assert code == 1, out + err
    assert [r["id"] for r in report["rules"]] == ["review", "ci"]  # the base's rules
    assert report["rules"][0]["status"] == "fail"
    assert report["policy"]["source"].endswith(":gatekeeper.yml")
    assert any("changes gatekeeper.yml; the base version was applied" in n for n in report["notes"])
    assert "the base version was applied" in pr_run.github.comments[1][0]["body"]
    # Opting out explicitly applies the PR's own copy.
    code, _, _, report = pr_run.check("--policy-source", "worktree")
    assert code == 0 and [r["id"] for r in report["rules"]] == ["ci"]


def test_three_runs_leave_exactly_one_comment_with_the_latest_content(pr_run) -> None:
    pr_run.github.add_comment(1, "Looks risky", user="carol")
    bodies = []
    for run in range(3):
        if run == 2:
            pr_run.github.add_review(1, "bob", "APPROVED", commit_id=pr_run.head)
        code, _, err, _ = pr_run.check("--comment")
        assert code == (0 if run == 2 else 1), err
        bodies.append(
            [c["body"] for c in pr_run.github.comments[1] if "<!-- gatekeeper:" in c["body"]]
        )
    assert [len(b) for b in bodies] == [1, 1, 1]
    assert "Release blocked" in bodies[0][0] and "Release approved" in bodies[2][0]
    assert len(pr_run.github.comments[1]) == 2  # carol's and ours


def test_fork_read_only_token_warns_and_keeps_the_decision(pr_run: PullRequestRun) -> None:
    pr_run.github.add_review(1, "bob", "APPROVED", commit_id=pr_run.head)
    pr_run.github.read_only = True
    code, _, err, report = pr_run.check("--comment", "--status")
    assert code == 0 and report["decision"] == "approve"
    assert err.count("a pull request from a fork gets a read-only token") == 2
    pr_run.github.add_review(1, "carol", "CHANGES_REQUESTED")
    code, _, err, _ = pr_run.check("--comment", "--status")
    assert code == 1 and "skipped" in err


def test_actions_files_are_written(pr_run: PullRequestRun, tmp_path: Path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    pr_run.env.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output))
    code, _, _, _ = pr_run.check()
    assert code == 1
    assert summary.read_text().startswith("### ❌ Release blocked: release")
    lines = output.read_text().splitlines()
    assert lines[0] == "decision=block"
    assert lines[1] == f"report={pr_run.repo.path.parent / 'report.json'}"


FAULTS = {
    "persistent 500": (dict(status=500), "HTTP 500"),
    "timeout": (dict(status=None, delay=0.8), "timed out after 0.5 s"),
    "401": (dict(status=401), "HTTP 401 (Bad credentials)"),
    "rate limit": (
        dict(status=429, headers={"retry-after": "3600"},
             body={"message": "You have exceeded a secondary rate limit.",
                   "documentation_url": "https://docs.github.com/rest"}),
        "HTTP 429 (rate limited",
    ),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_api_faults_block_with_an_error_naming_the_endpoint(pr_run, fault: str) -> None:
    kwargs, expected = FAULTS[fault]
    pr_run.github.fail(r"/pulls/1/reviews$", **kwargs)
    code, out, err, report = pr_run.check("--comment", "--status")
    assert code == 1
    review = report["rules"][0]
    assert review["status"] == "error" and review["blocks"]
    assert "GET /repos/acme/widgets/pulls/1/reviews" in review["summary"]
    assert expected in review["summary"]
    text = out + err + json.dumps(report) + "".join(c["body"] for c in pr_run.github.comments[1])
    assert pr_run.github.token not in text


def test_500s_then_success_is_retried_and_passes(pr_run: PullRequestRun) -> None:
    pr_run.github.add_review(1, "bob", "APPROVED", commit_id=pr_run.head)
    pr_run.github.fail(r"/pulls/1/reviews$", 503, times=2)
    code, out, err, _ = pr_run.check()
    assert code == 0, out + err
    assert len(pr_run.github.requests("GET", "/reviews")) == 3


def test_token_never_appears_even_with_debug(pr_run: PullRequestRun) -> None:
    pr_run.github.fail(r"/pulls/1/reviews$", 500)
    pr_run.github.fail(r"/check-runs", 401)
    pr_run.github.read_only = True
    env = {**os.environ, **pr_run.env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "--debug", "check", "--policy", pr_run.policy,
         "--repo", str(pr_run.repo.path), "--format", "json", "--comment", "--status"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 1, proc.stderr
    assert "HTTP 500" in proc.stdout and "HTTP 401" in proc.stdout
    assert pr_run.github.token not in proc.stdout + proc.stderr
    # ...while the token was really sent.
    assert pr_run.github.log[0].headers["Authorization"] == f"Bearer {pr_run.github.token}"


def test_failing_positions_become_error_annotations_on_stderr(pr_run, tmp_path) -> None:
    from gatekeeper.checks import Check, register, unregister
    from gatekeeper.model import Annotation, Outcome, Status

    def evaluate(options, ev):
        return Outcome(Status.FAIL, "2 changed lines uncovered", remedy="add tests",
                       annotations=[Annotation("src/app.py", 1, 2, "not covered by tests")])

    register(Check("fake-positions", "test", {"type": "object"}, evaluate))
    try:
        pr_run.repo.checkout("main")
        pr_run.repo.commit({"gatekeeper.yml": "version: 1\nname: p\nrules:\n"
                            "  - id: cov\n    check: fake-positions\n"})
        pr_run.repo.checkout("feature")
        pr_run.env["GITHUB_ACTIONS"] = "true"
        code, out, err, _ = pr_run.check("--format", "json")
    finally:
        unregister("fake-positions")
    assert code == 1, err
    assert "::error file=src/app.py,line=1,endLine=2,title=gatekeeper%3A cov::not covered" in err
    assert "::error" not in out and json.loads(out)["decision"] == "block"
