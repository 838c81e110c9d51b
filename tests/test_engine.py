from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from gatekeeper.checks import Check, register, unregister
from gatekeeper.engine import evaluate
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.git import GitEvidence
from gatekeeper.model import Decision, Outcome, Status, decide
from gatekeeper.policy import loads_policy
from tests.factories import RepoFactory, make_repo, run_cli, write_policy

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _boom(options: dict[str, Any], ev: Evidence) -> Outcome:
    raise ZeroDivisionError("division by zero in a test check")


def _no_evidence(options: dict[str, Any], ev: Evidence) -> Outcome:
    raise EvidenceError("coverage.xml: no such file")


def _no_evidence_with_remedy(options: dict[str, Any], ev: Evidence) -> Outcome:
    raise EvidenceError("junit.xml: not found", remedy="run pytest --junitxml=junit.xml first")


def _fails(options: dict[str, Any], ev: Evidence) -> Outcome:
    return Outcome(Status.FAIL, "seen 1, expected 2")


def _returns_junk(options: dict[str, Any], ev: Evidence) -> Outcome:
    return "pass"  # type: ignore[return-value]


TEST_CHECKS = [
    Check("test-boom", "raises", {"type": "object"}, _boom),
    Check("test-no-evidence", "evidence missing", {"type": "object"}, _no_evidence),
    Check("test-fails", "fails", {"type": "object"}, _fails),
    Check(
        "test-remedy",
        "evidence missing, provider knows why",
        {"type": "object"},
        _no_evidence_with_remedy,
    ),
    Check("test-junk", "returns junk", {"type": "object"}, _returns_junk),
]


@pytest.fixture(autouse=True)
def test_checks() -> Iterator[None]:
    for check in TEST_CHECKS:
        register(check)
    yield
    for check in TEST_CHECKS:
        unregister(check.name)


def run(repo: RepoFactory, rules: str, env: str | None = None, branch: str | None = "main") -> list:
    policy = loads_policy("version: 1\nrules:\n" + rules, "inline.yml")
    ctx = RunContext(repo_path=repo.path, now=NOW, base="main", env=env, branch=branch)
    return evaluate(policy, Evidence(ctx))


def test_a_check_that_raises_is_an_error_that_blocks(repo: RepoFactory) -> None:
    [result] = run(repo, "  - id: a\n    check: test-boom\n")
    assert result.status is Status.ERROR
    assert "ZeroDivisionError: division by zero in a test check" in result.summary
    assert result.remedy
    assert decide([result]) is Decision.BLOCK


def test_missing_evidence_is_an_error_even_on_a_warn_rule(repo: RepoFactory) -> None:
    [result] = run(repo, "  - id: a\n    check: test-no-evidence\n    severity: warn\n")
    assert result.status is Status.ERROR
    assert "coverage.xml: no such file" in result.summary
    assert decide([result]) is Decision.BLOCK


def test_the_providers_remedy_reaches_the_result(repo: RepoFactory) -> None:
    [result] = run(repo, "  - id: a\n    check: test-remedy\n")
    assert result.status is Status.ERROR
    assert (
        result.remedy
        == "run pytest --junitxml=junit.xml first; the release stays blocked until then"
    )


def test_a_check_returning_junk_is_an_error(repo: RepoFactory) -> None:
    [result] = run(repo, "  - id: a\n    check: test-junk\n")
    assert result.status is Status.ERROR and "not an Outcome" in result.summary


def test_fail_of_a_warn_rule_is_a_warning_and_gets_a_remedy(repo: RepoFactory) -> None:
    [result] = run(repo, "  - id: a\n    check: test-fails\n    severity: warn\n")
    assert result.status is Status.WARN
    assert result.remedy == "see `gatekeeper explain test-fails`"
    assert decide([result]) is Decision.APPROVE
    assert decide([result], strict=True) is Decision.BLOCK


def test_when_environment_skips_with_the_reason(repo: RepoFactory) -> None:
    rules = "  - id: a\n    check: test-fails\n    when: {environments: [production]}\n"
    [skipped] = run(repo, rules, env="staging")
    assert skipped.status is Status.SKIPPED
    assert "environment 'staging'" in skipped.summary and "production" in skipped.summary
    [applied] = run(repo, rules, env="production")
    assert applied.status is Status.FAIL


def test_when_branches_globs_and_unknown_branch_errors(repo: RepoFactory) -> None:
    rules = '  - id: a\n    check: test-fails\n    when: {branches: ["release/*"]}\n'
    assert run(repo, rules, branch="release/2.0")[0].status is Status.FAIL
    assert run(repo, rules, branch="main")[0].status is Status.SKIPPED
    unknown = run(repo, rules, branch=None)[0]
    assert unknown.status is Status.ERROR and "--branch" in unknown.summary


def test_when_paths_matches_changed_files(repo: RepoFactory) -> None:
    repo.branch("feature")
    repo.commit({"db/migrations/0002_add.sql": "alter table t add c int;\n"})
    rules = '  - id: a\n    check: test-fails\n    when: {paths: ["db/**"]}\n'
    policy = loads_policy("version: 1\nrules:\n" + rules, "inline.yml")
    ctx = RunContext(repo_path=repo.path, now=NOW, base="main", branch="main")
    assert evaluate(policy, Evidence(ctx))[0].status is Status.FAIL
    other = '  - id: a\n    check: test-fails\n    when: {paths: ["src/**"]}\n'
    policy = loads_policy("version: 1\nrules:\n" + other, "inline.yml")
    [result] = evaluate(policy, Evidence(ctx))
    assert result.status is Status.SKIPPED and "src/**" in result.summary


def test_cli_check_with_a_raising_check_blocks_without_a_traceback(
    repo: RepoFactory, tmp_path
) -> None:
    policy = write_policy(tmp_path / "p.yml", [{"id": "crash", "check": "test-boom"}])
    result = run_cli(
        "check",
        "--policy",
        str(policy),
        "--repo",
        str(repo.path),
        "--base",
        "main",
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert '"status": "error"' in result.output and '"decision": "block"' in result.output


def test_evidence_failures_are_remembered(tmp_path) -> None:
    calls = []

    def factory() -> int:
        calls.append(1)
        raise EvidenceError("broken")

    ev = Evidence(RunContext(repo_path=tmp_path, now=NOW))
    for _ in range(3):
        with pytest.raises(EvidenceError):
            ev.cached("k", factory)
    assert calls == [1]
    assert ev.cached("ok", lambda: 5) == 5 and ev.cached("ok", lambda: 6) == 5


def test_make_repo_is_a_real_repository(tmp_path) -> None:
    repo = make_repo(tmp_path / "r")
    assert repo.repo.head.commit.message.strip() == "initial"


def test_when_paths_sees_both_sides_of_a_rename(repo: RepoFactory) -> None:
    sql = "create table t (id int);\n" * 5
    repo.commit({"db/migrations/0001_init.sql": sql})
    repo.branch("feature")
    repo.commit({"db/migrations/0001_init.sql": None, "archive/0001_init.sql": sql}, "archive it")
    [moved] = GitEvidence(repo.path, "main").changed_files
    assert (moved.status, moved.old_path) == ("renamed", "db/migrations/0001_init.sql")
    rules = '  - id: a\n    check: test-fails\n    when: {paths: ["db/**"]}\n'
    assert run(repo, rules)[0].status is Status.FAIL
