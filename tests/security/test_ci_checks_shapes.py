"""Threat: ci-checks approves on CI results that are missing, partial or shadowed.

A response without ``check_runs`` or ``statuses`` read as "no checks", ``total_count``
was ignored (a partial listing looked complete), and the latest run per *name* won, so
a pull request's own workflow could add a passing check run named like the failing one
of another app (a third-party CI) and hide the failure. Shapes are validated (a missing
key is an evidence error), ``total_count`` must equal what was paged, same-name runs of
different apps are judged separately (any failing one blocks), and ``required`` may pin
the app that must report a check.
"""

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
RUNS = f"/repos/acme/widgets/commits/{SHA}/check-runs"
STATUS = f"/repos/acme/widgets/commits/{SHA}/status"
CIRCLE = {"id": 1, "slug": "circleci-checks", "name": "CircleCI Checks"}


def run(github: FakeGitHub, tmp_path: Path, **options: Any):
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(tmp_path, datetime.now(UTC), environ=github.environ(), options={"pr": 1})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


@pytest.fixture
def gh(github: FakeGitHub) -> FakeGitHub:
    github.add_pr(1, head_sha=SHA)
    return github


@pytest.mark.parametrize(
    ("path", "body", "what"),
    [
        (RUNS, {"total_count": 0}, "no 'check_runs' list"),
        (RUNS, {"total_count": 1, "check_runs": {"name": "x"}}, "no 'check_runs' list"),
        (STATUS, {"state": "success", "total_count": 0}, "no 'statuses' list"),
        (RUNS, {"check_runs": []}, "no integer 'total_count'"),
        (RUNS, [], "no 'check_runs' list"),
        (RUNS, {"total_count": 1, "check_runs": [{"status": "completed"}]}, "item 1 has no 'name'"),
    ],
)
def test_a_response_without_the_documented_shape_is_an_evidence_error(
    gh: FakeGitHub, tmp_path: Path, path: str, body: Any, what: str
) -> None:
    gh.add_status(SHA, "ci/jenkins", "success")
    gh.add_check_run(SHA, "build")
    gh.raw_routes[path] = (200, body, {})
    with pytest.raises(EvidenceError, match=what):
        run(gh, tmp_path)


def test_total_count_must_match_what_was_paged(gh: FakeGitHub, tmp_path: Path) -> None:
    good = gh.add_check_run(SHA, "build")
    gh.raw_routes[RUNS] = (200, {"total_count": 2, "check_runs": [good]}, {})
    with pytest.raises(EvidenceError, match=r"counted 2 items .* the pages listed 1"):
        run(gh, tmp_path)


def test_a_later_run_from_another_app_does_not_hide_a_failure(
    gh: FakeGitHub, tmp_path: Path
) -> None:
    failed = gh.add_check_run(SHA, "build", conclusion="failure")
    failed["app"] = CIRCLE
    gh.add_check_run(SHA, "build", conclusion="success")  # the PR's workflow, later
    outcome = run(gh, tmp_path, required=["build"])
    assert outcome.status is Status.FAIL
    assert "failing: build (failure, app circleci-checks)" in outcome.summary
    assert sorted((c["app"], c["state"]) for c in outcome.details["checks"]) == [
        ("circleci-checks", "failure"),
        ("github-actions", "success"),
    ]
    # A re-run by the same app still replaces its own failed attempt.
    again = gh.add_check_run(SHA, "build", conclusion="success")
    again["app"] = CIRCLE
    assert run(gh, tmp_path, required=["build"]).status is Status.PASS


def test_a_required_check_may_pin_its_app(gh: FakeGitHub, tmp_path: Path) -> None:
    gh.add_check_run(SHA, "build")  # github-actions: the PR's workflow can make this one
    pinned = {"name": "build", "app": "circleci-checks"}
    outcome = run(gh, tmp_path, required=[pinned])
    assert outcome.status is Status.FAIL
    assert outcome.details["missing"] == ["build (app circleci-checks)"]
    assert "required but missing: build (app circleci-checks)" in outcome.summary
    theirs = gh.add_check_run(SHA, "build")
    theirs["app"] = CIRCLE
    assert run(gh, tmp_path, required=[pinned]).status is Status.PASS


def test_the_app_pin_is_validated_by_the_schema() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"required": [{"name": "build"}]}, CHECK.options)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"required": [{"name": "b", "app": "x", "x": 1}]}, CHECK.options)
