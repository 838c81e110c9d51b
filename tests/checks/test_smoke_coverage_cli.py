"""`gatekeeper check` end to end with a smoke-coverage rule (issue 4, item 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.evidence.test_coverage import _cobertura
from tests.factories import RepoFactory, assert_valid_report, make_repo, run_cli, write_policy


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
    report = json.loads(result.stdout)
    assert_valid_report(report)
    return result.exit_code, report


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


BAD_REPORTS = {
    "missing": (None, "coverage report not found"),
    "empty": (b"", "coverage report is empty"),
    "truncated": (b'<?xml version="1.0" ?><coverage><packages><package><classes><class',
                  "truncated"),
    "entity-expansion": (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaa">'
                         b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><coverage>&b;</coverage>',
                         "declares entities"),
    "external-entity": (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM '
                        b'"file:///etc/passwd">]><coverage>&x;</coverage>', "external entity"),
    "binary": (b"SQLite format 3\x00\x10\x00\x01\x01\x00@  ", "binary data"),
    "lcov-garbage": (b"SF:app/core.py\nDA:1,1\n<<<<<<< HEAD\nend_of_record\n",
                     "line 3: not an LCOV record"),
    "measures-other-files": (b"SF:/elsewhere/lib.py\nDA:1,1\nend_of_record\n",
                             "none of the 1 files"),
}


@pytest.mark.parametrize("case", sorted(BAD_REPORTS))
def test_bad_reports_block_with_one_line_naming_the_file(tmp_path, case):
    repo = changed_repo(tmp_path)
    content, problem = BAD_REPORTS[case]
    if content is None:
        (repo.path / "coverage.xml").unlink()
    else:
        (repo.path / "coverage.xml").write_bytes(content)
    code, report = check(tmp_path, repo, missing_files="ignore")
    assert code == 1
    assert report["decision"] == "block"
    rule = report["rules"][0]
    assert rule["status"] == "error"
    assert re.search(r"(^|: )coverage\.xml: ", rule["summary"])  # as the policy names it
    assert problem in rule["summary"]
    assert "\n" not in rule["summary"]
    assert "Traceback" not in json.dumps(report)


def test_worktree_run_judges_uncommitted_changes(tmp_path):
    """A pre-release run on a laptop: the change is not committed yet."""
    repo = make_repo(tmp_path / "repo", {"app/core.py": "a = 1\n"})
    (repo.path / "app/core.py").write_text("a = 1\nb = 2\nc = 3\n")  # unstaged
    (repo.path / "app/extra.py").write_text("x = 1\n")  # untracked
    (repo.path / "coverage.xml").write_text(_cobertura({
        "app/core.py": {1: 1, 2: 1, 3: 0}, "app/extra.py": {1: 1}}))
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "smoke-tested", "check": "smoke-coverage",
        "with": {"coverage": "coverage.xml", "min_diff": 50},
    }])
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main",
                     "--worktree", "--format", "json")
    rule = json.loads(result.stdout)["rules"][0]
    assert result.exit_code == 0, rule
    assert (rule["details"]["diff_lines"], rule["details"]["diff_missing"]) == (3, 1)
    assert rule["details"]["uncovered"] == [{"path": "app/core.py", "lines": [3]}]


def test_smoke_files_with_test_source_globs_is_an_invalid_policy_at_its_line(tmp_path):
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "version: 1\nrules:\n  - id: smoke\n    check: smoke-coverage\n    with:\n"
        "      coverage: coverage.xml\n      junit: junit.xml\n"
        "      smoke:\n        files: [tests/smoke/*.py]\n")
    result = run_cli("validate", str(policy))
    assert result.exit_code == 2
    assert f"{policy}:9:" in result.output
    assert "use `smoke.tests`" in result.output
    policy.write_text(policy.read_text().replace("files: [tests/smoke/*.py]",
                                                 "tests: [tests/smoke/*.py]"))
    assert run_cli("validate", str(policy)).exit_code == 0


def _readme_policy() -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### smoke-coverage: tests, coverage and diff coverage", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_readme_example_is_valid_and_selects_pytests_smoke_tests(tmp_path):
    """The README's smoke selection, applied to what pytest writes by default."""
    import subprocess
    import sys

    import yaml

    from gatekeeper.evidence.junit import Selection, read_junit

    policy = tmp_path / "policy.yml"
    policy.write_text(_readme_policy())
    assert run_cli("validate", str(policy)).exit_code == 0
    smoke = yaml.safe_load(policy.read_text())["rules"][0]["with"]["smoke"]
    for name in ("tests/smoke/test_api.py", "tests/unit/test_math.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("def test_one(): pass\ndef test_two(): pass\n")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--rootdir", str(tmp_path), "--junitxml=junit.xml", "tests"],
                   cwd=tmp_path, capture_output=True, check=True)
    selected = read_junit(tmp_path / "junit.xml", Selection.from_options(smoke))
    assert selected.tests == 2
    # The other selector the README names: pytest's default suite name.
    assert read_junit(tmp_path / "junit.xml", Selection(suites=("pytest",))).tests == 4
