"""`gatekeeper check` end to end with a smoke-coverage rule (issue 4, item 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evidence.test_coverage import _cobertura, _repo

ROOT = Path(__file__).resolve().parents[2]
POLICY = """\
version: 1
name: release
rules:
  - id: smoke-tested
    check: smoke-coverage
    with:
      coverage: coverage.xml
      min_diff: 80
{extra}"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A change to app/core.py (fully covered) that also adds app/new.py, which the
    coverage report does not measure at all."""
    git_repo = _repo(tmp_path, {"app/core.py": "a = 1\nb = 2\n"})
    git_repo.git.checkout("-b", "feature")
    (tmp_path / "app/core.py").write_text("a = 1\nb = 2\nc = 3\n")
    (tmp_path / "app/new.py").write_text("def untested():\n    return 1\n")
    git_repo.index.add(["app/core.py", "app/new.py"])
    git_repo.index.commit("change")
    (tmp_path / "coverage.xml").write_text(_cobertura({"app/core.py": {1: 1, 2: 1, 3: 1}}))
    return tmp_path


def check(repo: Path, extra: str = "") -> tuple[int, dict]:
    policy = repo.parent / f"{repo.name}-policy.yml"
    policy.write_text(POLICY.format(extra=extra))
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "check", "-p", str(policy), "--repo", str(repo),
         "--base", "main", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert done.stderr == ""
    return done.returncode, json.loads(done.stdout)


def test_a_changed_file_absent_from_the_report_blocks_by_default(repo):
    code, report = check(repo)
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


def test_missing_files_ignore_approves(repo):
    code, report = check(repo, "      missing_files: ignore\n")
    assert code == 0
    assert report["decision"] == "approve"
    rule = report["rules"][0]
    assert rule["status"] == "pass"
    assert rule["summary"] == "diff coverage 100.0% (1/1 changed lines) >= 80%; total 100.0%"


def test_missing_report_is_an_error_that_blocks(repo):
    (repo / "coverage.xml").unlink()
    code, report = check(repo, "      missing_files: ignore\n")
    assert code == 1
    rule = report["rules"][0]
    assert rule["status"] == "error"
    assert "coverage.xml: coverage report not found" in rule["summary"]
