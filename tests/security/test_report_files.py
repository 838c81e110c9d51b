"""Threat: the change under review brings its own evidence.

Reports are read from the checkout of the change. A pull request can commit a
``coverage.xml`` that claims full coverage (when the build wrote none, that file was read
and the gate approved), plant a symbolic link that makes a report glob loop until the
job times out, or link a report path to a file outside the repository (another
job's report, ``/proc/self/environ``). Report files tracked by git at the head are
refused unless the rule says ``allow_committed_reports: true``; globs never follow linked
folders; a link to a file outside the repository is refused without reading it.
Issue 8, items 5 and 6.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.coverage import resolve_reports
from tests.evidence.test_coverage import _cobertura
from tests.factories import RepoFactory, make_repo, run_cli, write_policy

ROOT = Path(__file__).resolve().parents[2]
FULL = _cobertura({"app/core.py": {1: 1, 2: 1, 3: 1}})
"""A report that says every line of the change ran."""
JUNIT = '<testsuite name="smoke" tests="1"><testcase classname="t" name="ok"/></testsuite>'


def change(tmp_path: Path, files: dict[str, str | bytes | None] | None = None) -> RepoFactory:
    repo = make_repo(tmp_path / "repo", {"app/core.py": "a = 1\nb = 2\n"})
    repo.branch("feature")
    repo.commit({"app/core.py": "a = 1\nb = 2\nc = 3\n", **(files or {})})
    return repo


def gate(tmp_path: Path, repo: RepoFactory, *args: str, **options: object) -> tuple[int, dict]:
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "smoke", "check": "smoke-coverage",
        "with": {"coverage": "coverage.xml", "min_diff": 80, **options},
    }])
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main",
                     "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)["rules"][0]


def test_a_report_committed_by_the_change_is_refused(tmp_path) -> None:
    repo = change(tmp_path, {"coverage.xml": FULL})
    code, rule = gate(tmp_path, repo)
    assert code == 1 and rule["status"] == "error"
    assert "coverage.xml: the coverage report is committed" in rule["summary"]
    assert "must be produced by the build" in rule["summary"]
    assert "allow_committed_reports: true" in rule["remedy"]


def test_a_committed_report_found_by_a_glob_or_a_junit_path_is_refused(tmp_path) -> None:
    repo = change(tmp_path, {"reports/coverage.xml": FULL, "reports/junit.xml": JUNIT})
    code, rule = gate(tmp_path, repo, coverage="reports/*.xml")
    assert code == 1 and "reports/coverage.xml: the coverage report is committed" in rule["summary"]
    (repo.path / "coverage.xml").write_text(FULL)  # the build's own report this time
    code, rule = gate(tmp_path, repo, junit="reports/junit.xml")
    assert code == 1 and "reports/junit.xml: the JUnit report is committed" in rule["summary"]


def test_a_report_committed_on_the_base_is_refused_too(tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/core.py": "a = 1\nb = 2\n", "coverage.xml": FULL})
    repo.branch("feature")
    repo.commit({"app/core.py": "a = 1\nb = 2\nc = 3\n"})
    code, rule = gate(tmp_path, repo)
    assert code == 1 and rule["status"] == "error"


def test_a_staged_report_is_refused_in_worktree_mode(tmp_path) -> None:
    repo = change(tmp_path)
    (repo.path / "coverage.xml").write_text(FULL)
    repo.repo.git.add("coverage.xml")
    code, rule = gate(tmp_path, repo, "--worktree")
    assert code == 1 and "committed" in rule["summary"]


def test_allow_committed_reports_opts_in(tmp_path) -> None:
    repo = change(tmp_path, {"coverage.xml": FULL})
    code, rule = gate(tmp_path, repo, allow_committed_reports=True)
    assert code == 0 and rule["status"] == "pass"


def test_the_build_s_own_report_is_read(tmp_path) -> None:
    repo = change(tmp_path)
    (repo.path / "coverage.xml").write_text(FULL)
    code, rule = gate(tmp_path, repo)
    assert code == 0 and rule["status"] == "pass"


def _evidence(repo: RepoFactory) -> Evidence:
    return Evidence(RunContext(repo.path, datetime(2026, 1, 1, tzinfo=UTC), base="main"))


def test_globs_do_not_follow_symlinked_folders(tmp_path) -> None:
    repo = change(tmp_path)
    (repo.path / "build").mkdir()
    (repo.path / "build" / "coverage.xml").write_text(FULL)
    os.symlink(".", repo.path / "loop")  # one link: 40 levels deep before the OS says ELOOP
    found = resolve_reports(_evidence(repo), ["**/coverage.xml"], "coverage report")
    assert found == [repo.path / "build" / "coverage.xml"]


def test_a_symlink_loop_in_a_glob_does_not_hang_the_gate(tmp_path) -> None:
    repo = change(tmp_path)
    (repo.path / "coverage.xml").write_text(FULL)
    for name in ("a", "b", "c"):
        os.symlink(".", repo.path / name)
    policy = write_policy(tmp_path / "policy.yml", [
        {"id": "smoke", "check": "smoke-coverage", "with": {"coverage": "**/coverage.xml"}}])
    # Without the fix this walks 3^40 paths; the timeout only keeps a regression from
    # hanging the suite (it is not a speed assertion: a fixed run takes about a second).
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "check", "-p", str(policy), "--repo",
         str(repo.path), "--base", "main"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_report_linked_to_a_file_outside_the_repository_is_refused(tmp_path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "coverage.xml").write_text(FULL.replace("<packages>", "<!--SECRET--><packages>"))
    repo = change(tmp_path)
    os.symlink(outside / "coverage.xml", repo.path / "coverage.xml")
    code, rule = gate(tmp_path, repo)
    assert code == 1 and rule["status"] == "error"
    assert rule["summary"].endswith(
        "coverage.xml: the coverage report is a symbolic link to a file outside the "
        "repository; it was not read")
    assert "SECRET" not in json.dumps(rule)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_a_report_linked_to_proc_is_refused_and_never_echoed(tmp_path, monkeypatch) -> None:
    repo = change(tmp_path)
    os.symlink("/proc/self/environ", repo.path / "coverage.xml")
    with pytest.raises(EvidenceError, match="outside the repository") as caught:
        resolve_reports(_evidence(repo), ["coverage.xml"], "coverage report")
    assert os.environ["PATH"] not in str(caught.value)
