"""Threat: a comment written by the pull request's author passes for the gate's verdict.

The sticky comment used to be found by its first-line marker alone, and anyone can type
that marker. An attacker's older comment ``<!-- gatekeeper:release -->`` saying
"approved" was then edited by the gate (or, when the edit was refused, left standing
while the run reported "skipped"). The comment to update must carry the marker *and*
be written by the token's own identity (``GET /user``; ``github-actions[bot]`` for the
workflow token, which has no user); a forged one is left alone and a new one created.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence import github as gh
from gatekeeper.publish.comment import own_login
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401
from tests.test_github_cli import PullRequestRun, pr_run  # noqa: F401

FORGED = "<!-- gatekeeper:release -->\n### ✅ Release approved\n\nAll 2 rules passed."


def marked(run: PullRequestRun) -> list[tuple[str, str]]:
    return [
        (c["user"]["login"], c["body"])
        for c in run.github.comments[1]
        if c["body"].startswith("<!-- gatekeeper:release -->")
    ]


def test_a_forged_comment_with_the_marker_is_left_alone(
    pr_run: PullRequestRun,  # noqa: F811
) -> None:
    forged = pr_run.github.add_comment(1, FORGED, user="mallory")
    code, out, err, _ = pr_run.check("--comment")
    assert code == 1, out + err
    assert forged["body"] == FORGED
    assert not pr_run.github.requests("PATCH")
    [(author, body)] = [m for m in marked(pr_run) if m[0] != "mallory"]
    assert author == "github-actions[bot]" and "Release blocked" in body
    # The next run updates the gate's own comment, still never the forged one.
    pr_run.github.add_review(1, "bob", "APPROVED", commit_id=pr_run.head)
    code, _, _, _ = pr_run.check("--comment")
    assert code == 0
    assert forged["body"] == FORGED
    ours = [m for m in marked(pr_run) if m[0] == "github-actions[bot]"]
    assert len(ours) == 1 and "Release approved" in ours[0][1]
    [patch] = pr_run.github.requests("PATCH")
    assert str(forged["id"]) not in patch.path


def test_a_users_token_matches_its_own_login(pr_run: PullRequestRun) -> None:  # noqa: F811
    pr_run.github.identity = "release-bot"
    # The workflow bot's comment is someone else's for a PAT.
    pr_run.github.add_comment(1, FORGED, user="github-actions[bot]")
    for _ in range(2):
        pr_run.check("--comment")
    authors = [a for a, _ in marked(pr_run)]
    assert authors == ["github-actions[bot]", "release-bot"]
    assert len(pr_run.github.requests("GET", "/user")) == 2  # once per run


def test_an_app_token_names_its_bot(github: FakeGitHub, tmp_path: Path) -> None:
    def login(**env: str) -> str:
        ctx = RunContext(tmp_path, datetime.now(UTC), environ=github.environ(**env))
        return own_login(gh.client(Evidence(ctx)))

    assert login() == "github-actions[bot]"  # GET /user: 403 for an installation token
    assert login(GATEKEEPER_COMMENT_AUTHOR="release-app[bot]") == "release-app[bot]"
    github.identity = "octocat"
    assert login(GATEKEEPER_COMMENT_AUTHOR="release-app[bot]") == "octocat"
