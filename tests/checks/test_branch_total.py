"""Total coverage with branch coverage on equals coverage.py's own figure (issue 9, item 6).

A project configured the way attrs and packaging are (``branch = true`` in its coverage
configuration, no command-line flag), measured by the real coverage.py and reported in
Cobertura, JSON and LCOV; ``gatekeeper check`` must give ``total_percent`` equal to the
TOTAL of ``coverage report`` and agree with ``coverage report --fail-under``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evidence.realproject import dedent
from tests.factories import assert_valid_report, make_repo, run_cli, write_policy

FILES = {
    "pyproject.toml": """
        [tool.coverage.run]
        branch = true
        source = ["pkg"]

        [tool.coverage.report]
        precision = 2
        """,
    "pkg/__init__.py": "",
    "pkg/rules.py": """
        def grade(score):
            if score >= 90:
                return "A"
            if score >= 80:
                return "B"
            if score >= 70:
                return "C"
            return "F"


        def classify(values):
            out = []
            for v in values:
                if v < 0:
                    out.append("neg")
                elif v == 0:
                    out.append("zero")
                else:
                    out.append("pos")
            return out


        def parse(text):
            parts = text.split(",")
            while parts and not parts[-1]:
                parts.pop()
            return [p.strip() for p in parts if p]
        """,
    "tests/test_rules.py": """
        from pkg.rules import classify, grade, parse


        def test_grade():
            assert grade(95) == "A"
            assert grade(10) == "F"


        def test_classify():
            assert classify([1, 2]) == ["pos", "pos"]


        def test_parse():
            assert parse("a,b") == ["a", "b"]
        """,
    "pytest.ini": "[pytest]\naddopts = -p no:cacheprovider\n",
}
REPORTS = {"coverage.xml": "xml", "coverage.json": "json", "coverage.lcov": "lcov"}


def coverage(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coverage", *args], cwd=root,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The repository and the TOTAL figure of `coverage report` (precision 2)."""
    root = tmp_path_factory.mktemp("branchy")
    repo = make_repo(root, {"README.md": "x\n"})
    repo.branch("feature")
    repo.commit(dedent(FILES))
    assert coverage(root, "run", "-m", "pytest", "-q", "tests").returncode == 0
    for name, kind in REPORTS.items():
        assert coverage(root, kind, "-q", "-o", name).returncode == 0
    report = coverage(root, "report")
    total = report.stdout.strip().splitlines()[-1].split()
    assert total[0] == "TOTAL" and total[-1].endswith("%"), report.stdout
    return root, total[-1].rstrip("%")


def check(root: Path, report: str, **options: object) -> tuple[int, dict]:
    policy = write_policy(root.parent / f"{root.name}-policy.yml", [{
        "id": "smoke", "check": "smoke-coverage",
        "with": {"coverage": report, "missing_files": "ignore", **options}}])
    result = run_cli("check", "-p", str(policy), "--repo", str(root), "--base", "main",
                     "--format", "json")
    data = json.loads(result.stdout)
    assert_valid_report(data)
    return result.exit_code, data["rules"][0]


def test_the_project_has_partial_branches(project):
    """Guard the reference: lines and branches differ, so a line-only total would not
    equal coverage.py's figure."""
    root, _ = project
    totals = json.loads((root / "coverage.json").read_text())["totals"]
    assert 0 < totals["covered_branches"] < totals["num_branches"]
    assert totals["percent_statements_covered"] > totals["percent_covered"] + 1


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_total_percent_is_coverage_reports_total(project, report):
    root, figure = project
    _, rule = check(root, report)
    details = rule["details"]
    assert f"{details['total_percent']:.2f}" == figure
    totals = json.loads((root / "coverage.json").read_text())["totals"]
    assert details["total_percent"] == round(totals["percent_covered"], 2)
    assert details["line_percent"] == round(totals["percent_statements_covered"], 2)
    assert details["branch_percent"] == round(totals["percent_branches_covered"], 2)
    assert (details["branches_valid"], details["branches_covered"]) == (
        totals["num_branches"], totals["covered_branches"])
    assert f"total {float(figure):.1f}% (lines " in rule["summary"]


@pytest.fixture(scope="module")
def fail_under(project) -> dict[int, int]:
    """`coverage report --fail-under=T`'s exit code for thresholds around the figure,
    the last one between the branch-aware figure and the line figure."""
    root, figure = project
    line_figure = json.loads((root / "coverage.json").read_text())["totals"][
        "percent_statements_covered"]
    thresholds = (int(float(figure)), int(float(figure)) + 1, int(line_figure))
    assert thresholds[1] <= thresholds[2]
    return {t: coverage(root, "report", f"--fail-under={t}").returncode for t in thresholds}


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_min_total_agrees_with_fail_under(project, fail_under, report):
    """Between the branch-aware figure and the line figure, coverage.py fails and so
    must we (the packaging case: 46.26 % in `coverage report`, 50.8 % by lines)."""
    root, _ = project
    assert sorted(fail_under.values()) == [0, 2, 2]
    for threshold, theirs in fail_under.items():
        code, rule = check(root, report, min_total=threshold)
        assert (theirs == 0) == (rule["status"] == "pass"), (threshold, rule["summary"])
        assert code == (0 if theirs == 0 else 1)


def test_min_branch(project):
    root, _ = project
    totals = json.loads((root / "coverage.json").read_text())["totals"]
    branch = totals["percent_branches_covered"]
    code, rule = check(root, "coverage.xml", min_branch=int(branch))
    assert (code, rule["status"]) == (0, "pass")
    code, rule = check(root, "coverage.xml", min_branch=int(branch) + 1)
    assert (code, rule["status"]) == (1, "fail")
    assert f"branches {branch:.1f}% < {int(branch) + 1}%" in rule["summary"]
    assert "Raise branch coverage" in rule["remedy"]


def test_min_branch_without_branch_data_fails(tmp_path):
    repo = make_repo(tmp_path / "repo", {"a.py": "a = 1\n"})
    (repo.path / "c.lcov").write_text("SF:a.py\nDA:1,1\nend_of_record\n")
    code, rule = check(repo.path, "c.lcov", min_branch=50)
    assert (code, rule["status"]) == (1, "fail")
    assert "no branch data for min_branch 50%" in rule["summary"]
    assert "branch = true" in rule["remedy"]
    assert rule["details"]["branch_percent"] is None
