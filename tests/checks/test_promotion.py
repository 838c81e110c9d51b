"""``promotion`` against the fake GitHub's Deployments API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatekeeper.checks import with_defaults
from gatekeeper.checks.promotion import CHECK
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Status
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

SHA = "a" * 40
OTHER = "b" * 40
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def run(github: FakeGitHub, tmp_path: Path, now: datetime = NOW, **options: Any):
    options = {"from": "staging", **options}
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(tmp_path, now, environ=github.environ(), options={"sha": SHA})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def deployed(
    github: FakeGitHub, ago: timedelta, *states: str, sha: str = SHA, env: str = "staging"
) -> dict[str, Any]:
    """A deployment created ``ago`` before NOW, with statuses a minute apart."""
    deployment = github.add_deployment(sha, env, NOW - ago)
    for i, state in enumerate(states, start=1):
        github.add_deployment_status(deployment, state, NOW - ago + timedelta(minutes=i))
    return deployment


def test_no_staging_deployment_of_the_head_fails(github: FakeGitHub, tmp_path) -> None:
    deployed(github, timedelta(hours=5), "success", sha=OTHER)
    deployed(github, timedelta(hours=5), "success", env="production")
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.FAIL
    assert outcome.summary == f"{SHA[:12]} was never deployed to staging"
    assert "deploy" in outcome.remedy and "staging" in outcome.remedy
    query = github.requests("GET", "/deployments?")[0].query
    assert query["sha"] == [SHA] and query["environment"] == ["staging"]


def test_thirty_minutes_of_a_two_hour_soak_fails_with_the_time_left(
    github: FakeGitHub, tmp_path
) -> None:
    deployed(github, timedelta(minutes=31), "in_progress", "success")  # success 29 min ago
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.FAIL
    assert "has soaked 29m in staging" in outcome.summary
    assert outcome.summary.endswith("2h required: 1h 31m left")
    assert outcome.details["remaining_s"] == 91 * 60
    assert outcome.remedy == "promote at or after 2026-11-20T13:31+00:00"


def test_three_hours_passes(github: FakeGitHub, tmp_path) -> None:
    deployed(github, timedelta(hours=3, minutes=1), "success")
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.summary == f"{SHA[:12]} has soaked 3h in staging (>= 2h), no failures"
    assert outcome.details["soaked_s"] == 3 * 3600


def test_api_error_is_an_evidence_error(github: FakeGitHub, tmp_path) -> None:
    github.fail(r"/deployments$", 500)
    with pytest.raises(
        EvidenceError, match=r"GET /repos/acme/widgets/deployments failed: HTTP 500"
    ):
        run(github, tmp_path, soak="2h")
    statuses_fail = FakeGitHub().start()
    try:
        deployed(statuses_fail, timedelta(hours=3), "success")
        statuses_fail.fail(r"/statuses$", 403)
        with pytest.raises(EvidenceError, match="HTTP 403"):
            run(statuses_fail, tmp_path, soak="2h")
    finally:
        statuses_fail.stop()


def test_the_soak_starts_at_the_first_success(github: FakeGitHub, tmp_path) -> None:
    first = deployed(github, timedelta(hours=4), "success")
    deployed(github, timedelta(minutes=10), "success")  # a redeploy of the same commit
    github.add_deployment_status(first, "inactive", NOW - timedelta(minutes=9))
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.PASS
    assert outcome.details["deployment_id"] == first["id"]


def test_a_failure_during_the_soak_fails(github: FakeGitHub, tmp_path) -> None:
    deployed(github, timedelta(hours=3), "success")
    later = deployed(github, timedelta(hours=1), "in_progress", "failure")
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.FAIL
    assert f"deployment {later['id']}" in outcome.summary
    assert outcome.details["failures"][0]["state"] == "failure"
    assert run(github, tmp_path, soak="2h", require_no_failures=False).status is Status.PASS


def test_never_succeeded_fails_with_the_latest_state(github: FakeGitHub, tmp_path) -> None:
    deployed(github, timedelta(hours=3), "in_progress", "error")
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.FAIL
    assert "never succeeded (latest status: error)" in outcome.summary


def test_statuses_after_now_are_not_seen(github: FakeGitHub, tmp_path) -> None:
    deployed(github, timedelta(hours=3), "success")
    earlier = NOW - timedelta(hours=4)
    assert run(github, tmp_path, now=earlier, soak="2h").status is Status.FAIL


def test_statuses_are_read_across_pages(github: FakeGitHub, tmp_path) -> None:
    deployment = deployed(github, timedelta(hours=5), "success")
    for i in range(130):  # newest first: the success is on the second page
        github.add_deployment_status(deployment, "in_progress", NOW - timedelta(minutes=200 - i))
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.PASS
    assert len(github.requests("GET", "/statuses")) == 2


def test_a_server_ignoring_the_filters_cannot_lend_another_commit(github, tmp_path) -> None:
    other = deployed(github, timedelta(hours=9), "success", sha=OTHER)
    github.fail(r"/deployments$", 200, body=[other])  # a proxy that drops the query string
    outcome = run(github, tmp_path, soak="2h")
    assert outcome.status is Status.FAIL
    assert "never deployed" in outcome.summary


def test_soak_zero_needs_only_a_success(github: FakeGitHub, tmp_path) -> None:
    deployed(github, timedelta(seconds=90), "success")
    assert run(github, tmp_path).status is Status.PASS
