"""`gatekeeper check` end to end with a smoke-coverage rule (issue 4, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.evidence.test_coverage import _cobertura
from tests.factories import RepoFactory, make_repo, run_cli, write_policy


def changed_repo(tmp_path: Path) -> RepoFactory:
    """A change to app/core.py (fully covered) that also adds app/new.py, which the
    coverage report does not measure at all."""
    repo = make_repo(tmp_path / "repo", {"app/core.py": "a = 1\nb = 2\n"})
    repo.branch("feature")
    repo.commit({"app/core.py": "a = 1\nb = 2\nc = 3\n",
                 "app/new.py": "def untested():\n    return 1\n"})
    (repo.path / "coverage.xml").write_text(_cobertura({"app/core.py": {1: 1, 2: 1, 3: 1}}))
    return repo


def check(tmp_path: Path, repo: RepoFactory, **extra: object) -> tuple[int, dict]:
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "smoke-tested",
        "check": "smoke-coverage",
        "with": {"coverage": "coverage.xml", "min_diff": 80, **extra},
    }])
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main",
                     "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_a_changed_file_absent_from_the_report_blocks_by_default(tmp_path):
    code, report = check(tmp_path, changed_repo(tmp_path))
    assert code == 1
    assert report["decision"] == "block"
    rule = report["rules"][0]
    assert rule["status"] == "fail"
    assert rule["details"]["files_missing_from_report"] == ["app/new.py"]
    # diff-cover would say 100 %: the only measured changed line is covered.
    assert rule["details"]["diff_percent"] == 100.0
    assert "app/new.py" in rule["summary"]
    assert {"path": "app/new.py", "line": 1, "end_line": None,
            "message": "changed file not measured by any coverage report"} in rule["annotations"]


def test_missing_files_ignore_approves(tmp_path):
    code, report = check(tmp_path, changed_repo(tmp_path), missing_files="ignore")
    assert code == 0
    assert report["decision"] == "approve"
    rule = report["rules"][0]
    assert rule["status"] == "pass"
    assert rule["details"]["files_missing_from_report"] == ["app/new.py"]
    assert rule["summary"] == "diff coverage 100.0% (1/1 changed lines) >= 80%; total 100.0%"


def test_missing_report_is_an_error_that_blocks(tmp_path):
    repo = changed_repo(tmp_path)
    (repo.path / "coverage.xml").unlink()
    code, report = check(tmp_path, repo, missing_files="ignore")
    assert code == 1
    rule = report["rules"][0]
    assert rule["status"] == "error"
    assert "coverage.xml: coverage report not found" in rule["summary"]


def test_min_tests_without_junit_is_an_invalid_policy(tmp_path):
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "smoke-tested", "check": "smoke-coverage",
        "with": {"coverage": "coverage.xml", "min_tests": 5},
    }])
    result = run_cli("validate", str(policy))
    assert result.exit_code == 2
    assert "min_tests" in result.output and "junit" in result.output
