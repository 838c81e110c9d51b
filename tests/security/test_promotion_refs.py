"""Can a pull request make `promotion` approve? Its own workflow may hold a token that creates
deployments (GitHub's default GITHUB_TOKEN can), so it can put its head commit in "staging"
with a `success` status and wait out the soak. GitHub sets `created_at`, so the soak itself
cannot be faked; what a deployment from the PR's branch cannot fake is its `ref`."""

from __future__ import annotations

from datetime import timedelta

from gatekeeper.checks import with_defaults
from gatekeeper.checks.promotion import CHECK
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Status
from tests.checks.test_promotion import NOW, SHA
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401


def evaluate(github: FakeGitHub, tmp_path, **options):
    ctx = RunContext(tmp_path, NOW, environ=github.environ(), options={"sha": SHA})
    return CHECK.evaluate(
        with_defaults(CHECK, {"from": "staging", "soak": "2h", **options}), Evidence(ctx)
    )


def test_a_deployment_from_the_pr_branch_does_not_count_with_refs(github, tmp_path) -> None:
    fake = github.add_deployment(SHA, "staging", NOW - timedelta(hours=3), ref="feature/x")
    github.add_deployment_status(fake, "success", NOW - timedelta(hours=3))
    # Without `refs` any deployment of the commit counts (documented): it passes.
    assert evaluate(github, tmp_path).status is Status.PASS
    outcome = evaluate(github, tmp_path, refs=["main", "refs/tags/v*", "v*"])
    assert outcome.status is Status.FAIL
    assert outcome.summary == (
        f"{SHA[:12]} was never deployed to staging from main, refs/tags/v*, v* "
        "(1 from other refs not counted)"
    )
    assert outcome.details["ignored"] == [{"deployment_id": fake["id"], "ref": "feature/x"}]


def test_deployments_from_allowed_refs_count(github, tmp_path) -> None:
    real = github.add_deployment(SHA, "staging", NOW - timedelta(hours=3), ref="refs/heads/main")
    github.add_deployment_status(real, "success", NOW - timedelta(hours=3))
    assert evaluate(github, tmp_path, refs=["main"]).status is Status.PASS
