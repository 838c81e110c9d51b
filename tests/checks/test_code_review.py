from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatekeeper.checks import with_defaults
from gatekeeper.checks.code_review import CHECK
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Status
from tests.factories import make_repo
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

A, B = "a" * 40, "b" * 40


def run(github: FakeGitHub, tmp_path: Path, base: str | None = None, pr: int | None = 1,
        env: dict[str, str] | None = None, **options: Any):
    jsonschema.validate(options, CHECK.options)
    environ = github.environ() if env is None else env
    ctx = RunContext(tmp_path, datetime.now(UTC), base=base, environ=environ,
                     options={"pr": pr} if pr else {})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


@pytest.fixture
def pr(github: FakeGitHub) -> FakeGitHub:
    github.add_pr(1, author="alice", head_sha=A)
    github.add_file(1, "src/app.py")
    for login in ("bob", "carol", "dave"):
        github.roles[login] = "write"
    return github


def test_approve_then_push_is_stale_with_dismiss_and_counts_with_keep(pr, tmp_path) -> None:
    pr.add_review(1, "bob", "APPROVED", commit_id=A)
    pr.push(1, B)
    dismissed = run(pr, tmp_path)
    assert dismissed.status is Status.FAIL
    assert "bob approved an older commit" in dismissed.summary
    assert dismissed.details["approvals"] == [
        {"user": "bob", "commit_id": A, "current": False, "counts": False}
    ]
    assert "current head commit" in dismissed.remedy
    assert run(pr, tmp_path, stale="keep").status is Status.PASS


def test_changes_requested_then_approved_by_same_reviewer_passes(pr, tmp_path) -> None:
    pr.add_review(1, "bob", "CHANGES_REQUESTED")
    assert run(pr, tmp_path).status is Status.FAIL
    pr.add_review(1, "bob", "APPROVED")
    outcome = run(pr, tmp_path)
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.details["changes_requested"] == []


def test_changes_requested_blocks_unless_ignored(pr, tmp_path) -> None:
    pr.add_review(1, "bob", "APPROVED")
    pr.add_review(1, "carol", "CHANGES_REQUESTED")
    blocked = run(pr, tmp_path)
    assert blocked.status is Status.FAIL and "changes requested by carol" in blocked.summary
    assert blocked.details["changes_requested"] == ["carol"]
    assert run(pr, tmp_path, changes_requested="ignore").status is Status.PASS


def test_self_approval_does_not_count(pr, tmp_path) -> None:
    pr.roles["alice"] = "admin"
    pr.add_review(1, "alice", "APPROVED")
    outcome = run(pr, tmp_path)
    assert outcome.status is Status.FAIL
    assert outcome.details["approvals"] == []
    assert "0 qualifying approval(s), 1 required" in outcome.summary


def test_dismissed_approval_does_not_count(pr, tmp_path) -> None:
    pr.add_review(1, "bob", "APPROVED")
    pr.reviews[1][-1]["state"] = "DISMISSED"  # GitHub rewrites a dismissed review's state
    assert run(pr, tmp_path).status is Status.FAIL
    # ...and a dismissal after the approval cancels it too.
    pr.add_review(1, "carol", "APPROVED")
    pr.add_review(1, "carol", "DISMISSED")
    assert run(pr, tmp_path).status is Status.FAIL


def test_a_later_comment_does_not_undo_an_approval(pr, tmp_path) -> None:
    pr.add_review(1, "bob", "APPROVED")
    pr.add_review(1, "bob", "COMMENTED")
    pr.add_review(1, "carol", "PENDING")
    assert run(pr, tmp_path).status is Status.PASS


def test_bots_and_readers_do_not_count(pr, tmp_path) -> None:
    pr.roles["dependabot[bot]"] = "write"
    pr.roles["eve"] = "read"
    pr.add_review(1, "dependabot[bot]", "APPROVED")
    pr.add_review(1, "eve", "APPROVED")
    outcome = run(pr, tmp_path)
    assert outcome.status is Status.FAIL
    assert [a["user"] for a in outcome.details["approvals"]] == ["eve"]
    assert run(pr, tmp_path, ignore=[]).status is Status.PASS


def test_min_approvals(pr, tmp_path) -> None:
    pr.add_review(1, "bob", "APPROVED")
    assert run(pr, tmp_path, min_approvals=2).status is Status.FAIL
    pr.add_review(1, "carol", "APPROVED")
    assert run(pr, tmp_path, min_approvals=2).status is Status.PASS


def test_reviewers_restrict_to_users_and_teams(pr, tmp_path) -> None:
    pr.teams["acme/core"] = {"dave"}
    pr.add_review(1, "bob", "APPROVED")
    assert run(pr, tmp_path, reviewers=["carol", "acme/core"]).status is Status.FAIL
    pr.add_review(1, "dave", "APPROVED")
    assert run(pr, tmp_path, reviewers=["carol", "acme/core"]).status is Status.PASS
    assert run(pr, tmp_path, reviewers=["@bob"]).status is Status.PASS


def _owned_repo(tmp_path: Path) -> tuple[Path, str]:
    repo = make_repo(tmp_path / "repo")
    base = repo.commit({
        ".github/CODEOWNERS": "*  @acme/core\n/src/payments/  @carol\n",
        "src/app.py": "x\n",
    })
    return repo.path, base


def test_codeowners_owner_missing_fails_naming_path_and_owner(pr, tmp_path) -> None:
    path, base = _owned_repo(tmp_path)
    pr.teams["acme/core"] = {"bob"}
    pr.add_file(1, "src/payments/charge.py")
    pr.add_review(1, "bob", "APPROVED")
    outcome = run(pr, path, base=base, codeowners=True)
    assert outcome.status is Status.FAIL
    assert outcome.details["missing_owners"] == {"src/payments/charge.py": ["@carol"]}
    assert "src/payments/charge.py (owners: @carol)" in outcome.summary
    pr.add_review(1, "carol", "APPROVED")
    outcome = run(pr, path, base=base, codeowners=True)
    assert outcome.status is Status.PASS, outcome.summary


def test_codeowners_stale_owner_approval_does_not_count(pr, tmp_path) -> None:
    path, base = _owned_repo(tmp_path)
    pr.teams["acme/core"] = {"bob"}
    pr.add_review(1, "bob", "APPROVED", commit_id=B)
    outcome = run(pr, path, base=base, codeowners=True, min_approvals=0)
    assert outcome.details["missing_owners"] == {"src/app.py": ["@acme/core"]}


def test_codeowners_file_missing_is_an_evidence_error(pr, tmp_path) -> None:
    repo = make_repo(tmp_path / "bare")
    base = repo.commit({"a.py": "x\n"})
    pr.add_review(1, "bob", "APPROVED")
    with pytest.raises(EvidenceError, match="no CODEOWNERS"):
        run(pr, repo.path, base=base, codeowners=True)


def test_api_failure_raises_evidence_error_naming_the_endpoint(pr, tmp_path) -> None:
    pr.fail(r"/reviews$", 503)
    with pytest.raises(EvidenceError, match=r"GET /repos/acme/widgets/pulls/1/reviews .*HTTP 503"):
        run(pr, tmp_path)


def test_requests_per_run_are_bounded(pr, tmp_path) -> None:
    for login in ("bob", "carol", "dave"):
        pr.add_review(1, login, "COMMENTED")
        pr.add_review(1, login, "APPROVED")
    run(pr, tmp_path, min_approvals=3)
    # PR, reviews, and one permission look-up per approver; nothing asked twice.
    paths = [r.path for r in pr.log]
    assert len(paths) == 5 and len(set(paths)) == 5


# -- without a pull request: the commits in the range --------------------------------


def _range_repo(tmp_path: Path) -> tuple[Path, str, list[str]]:
    repo = make_repo(tmp_path / "range")
    base = repo.commit({"a.txt": "0\n"}, "Initial")
    shas = [
        repo.commit({"a.txt": "1\n"}, "Fix parser\n\nReviewed-by: Bob <bob@example.com>"),
        repo.commit({"a.txt": "2\n"}, "Merged through PR (#5)"),
        repo.commit({"a.txt": "3\n"}, "Pushed straight to main"),
    ]
    return repo.path, base, shas


def test_range_mode_counts_trailers_and_approved_merged_prs(github, tmp_path) -> None:
    path, base, shas = _range_repo(tmp_path)
    github.roles["bob"] = "write"
    github.add_pr(5, author="alice", head_sha="f" * 40, merged=True)
    github.add_review(5, "bob", "APPROVED", commit_id="f" * 40)
    github.commit_pulls[shas[1]] = [5]
    outcome = run(github, path, base=base, pr=None)
    assert outcome.status is Status.FAIL
    assert outcome.details["unreviewed_commits"] == [shas[2]]
    assert "2 of 3 commits reviewed (67%)" in outcome.summary
    assert run(github, path, base=base, pr=None, min_reviewed_ratio=0.6).status is Status.PASS


def test_range_mode_without_token_uses_trailers_only(github, tmp_path) -> None:
    path, base, shas = _range_repo(tmp_path)
    outcome = run(github, path, base=base, pr=None, env={})
    assert outcome.details["unreviewed_commits"] == shas[1:]
    assert "GITHUB_TOKEN" in outcome.remedy
    assert github.log == []


def test_approvals_are_judged_on_the_commit_this_run_checks(pr, tmp_path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 1, "pull_request": pr.pulls[1]}))
    pr.add_review(1, "bob", "APPROVED", commit_id=A)
    pr.push(1, B)  # pushed after this run's event: the run still checks A
    outcome = run(pr, tmp_path, env=pr.environ(GITHUB_EVENT_PATH=str(event)))
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.details["head_sha"] == A


def test_reviewers_must_be_logins_or_teams() -> None:
    jsonschema.validate({"reviewers": ["@bob", "acme/release-team", "carol"]}, CHECK.options)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"reviewers": ["bob smith"]}, CHECK.options)
    jsonschema.validate(CHECK.example, CHECK.options)
