from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatekeeper.checks import with_defaults
from gatekeeper.checks.ci_checks import CHECK
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Status
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

SHA = "a" * 40


def run(github: FakeGitHub, tmp_path: Path, **options: Any):
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(tmp_path, datetime.now(UTC), environ=github.environ(), options={"pr": 1})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


@pytest.fixture
def gh(github: FakeGitHub) -> FakeGitHub:
    github.add_pr(1, head_sha=SHA)
    return github


def test_all_successful_passes(gh, tmp_path) -> None:
    gh.add_check_run(SHA, "build")
    gh.add_check_run(SHA, "test")
    gh.add_status(SHA, "ci/jenkins", "success")
    outcome = run(gh, tmp_path)
    assert outcome.status is Status.PASS
    assert outcome.summary == f"all 3 checks on {SHA[:12]} succeeded"


def test_failing_and_pending_fail_with_names(gh, tmp_path) -> None:
    gh.add_check_run(SHA, "build", conclusion="failure")
    gh.add_check_run(SHA, "lint", status="in_progress")
    gh.add_status(SHA, "ci/jenkins", "error")
    outcome = run(gh, tmp_path)
    assert outcome.status is Status.FAIL
    assert outcome.details["failing"] == ["build", "ci/jenkins"]
    assert outcome.details["pending"] == ["lint"]
    assert "failing: build (failure, app github-actions), ci/jenkins (error)" in outcome.summary


def test_latest_run_per_name_wins(gh, tmp_path) -> None:
    gh.add_check_run(SHA, "test", conclusion="failure")
    gh.add_check_run(SHA, "test", conclusion="success")
    gh.add_status(SHA, "deploy", "failure")
    gh.add_status(SHA, "deploy", "success")
    assert run(gh, tmp_path).status is Status.PASS


def test_required_missing_or_pending_fails(gh, tmp_path) -> None:
    gh.add_check_run(SHA, "build")
    gh.add_check_run(SHA, "e2e", status="queued")
    outcome = run(gh, tmp_path, required=["build", "e2e", "security"])
    assert outcome.status is Status.FAIL
    assert outcome.details["missing"] == ["security"]
    assert outcome.details["pending"] == ["e2e"]


def test_allow_neutral_and_skipped(gh, tmp_path) -> None:
    gh.add_check_run(SHA, "build")
    gh.add_check_run(SHA, "docs", conclusion="skipped")
    assert run(gh, tmp_path).status is Status.FAIL
    assert run(gh, tmp_path, allow=["skipped"]).status is Status.PASS


def test_own_status_and_own_running_job_are_left_out(gh, tmp_path) -> None:
    gh.add_check_run(SHA, "build")
    gh.add_status(SHA, "gatekeeper/release", "failure")
    gh.add_check_run(SHA, "gate", status="in_progress", run_id="4242")  # this very run
    outcome = run(gh, tmp_path)
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.details["excluded"] == ["gate", "gatekeeper/release"]
    # Required wins over the exclusion: a required check must finish.
    assert run(gh, tmp_path, required=["gate"]).status is Status.FAIL


def test_nothing_reported_fails_closed(gh, tmp_path) -> None:
    outcome = run(gh, tmp_path)
    assert outcome.status is Status.FAIL and "no check runs" in outcome.summary


def test_many_check_runs_are_paginated(gh, tmp_path) -> None:
    for i in range(130):
        gh.add_check_run(SHA, f"job {i}")
    outcome = run(gh, tmp_path)
    assert outcome.status is Status.PASS and len(outcome.details["checks"]) == 130
    assert len(gh.requests("GET", "/check-runs")) == 2


def test_api_error_names_endpoint(gh, tmp_path) -> None:
    gh.fail(r"/check-runs$", 500)
    with pytest.raises(EvidenceError, match=f"GET /repos/acme/widgets/commits/{SHA}/check-runs"):
        run(gh, tmp_path)
