"""The smoke-coverage check, evaluated directly on real repositories and reports."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from gatekeeper.checks import with_defaults
from gatekeeper.checks.smoke_coverage import CHECK, _pct
from gatekeeper.errors import EvidenceError
from gatekeeper.model import Annotation, Status
from tests.evidence import realproject
from tests.evidence.test_coverage import _cobertura, evidence
from tests.factories import make_repo


def run(root: Path, base: str = "main", **options):
    jsonschema.validate(options, CHECK.options)
    return CHECK.evaluate(with_defaults(CHECK, options), evidence(root, base))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    realproject.build(root)
    return root


def test_missing_file_fails_by_default_unlike_diff_cover(project):
    outcome = run(project, coverage="coverage.xml", junit="junit.xml", min_total=70,
                  min_diff=60, exclude=["tests/**"])
    assert outcome.status is Status.FAIL
    assert outcome.details["files_missing_from_report"] == ["scripts/tool.py"]
    assert outcome.summary == (
        "diff coverage 67.7% (21/31 changed lines) >= 60%; total 73.8% >= 70%; "
        "7 tests, 0 failed; 1 changed file(s) in no coverage report (scripts/tool.py)"
    )
    assert "files_missing_from_report" in outcome.remedy
    assert Annotation("scripts/tool.py", 1, None,
                      "changed file not measured by any coverage report") in outcome.annotations


def test_details_contract(project):
    outcome = run(project, coverage=["coverage.xml", "coverage.lcov"], junit="junit.xml",
                  exclude=["tests/**"], missing_files="ignore")
    assert outcome.status is Status.PASS
    assert outcome.remedy is None
    details = outcome.details
    assert details == {
        "total_percent": 73.81,
        "lines_valid": 42,
        "lines_covered": 31,
        "diff_lines": 31,
        "diff_covered": 21,
        "diff_missing": 10,
        "diff_percent": 67.74,
        "files_missing_from_report": ["scripts/tool.py"],
        "uncovered": [
            {"path": "pkg/calc.py", "lines": [15, "28-29", 33, 40]},
            {"path": "pkg/new.py", "lines": [10, "15-17"]},
            {"path": "pkg/renamed.py", "lines": [6]},
        ],
        "tests": {"tests": 7, "failures": 0, "errors": 0, "skipped": 0},
        "reports": [
            {"path": "coverage.xml", "format": "cobertura", "files": 4, "files_in_repo": 4},
            {"path": "coverage.lcov", "format": "lcov", "files": 4, "files_in_repo": 4},
            {"path": "junit.xml", "format": "junit"},
        ],
    }
    assert [a for a in outcome.annotations if a.path == "pkg/new.py"] == [
        Annotation("pkg/new.py", 10, None, "changed line not covered by the smoke tests"),
        Annotation("pkg/new.py", 15, 17, "changed lines not covered by the smoke tests"),
    ]


def test_missing_files_warn(project):
    outcome = run(project, coverage="coverage.json", exclude=["tests/**"], missing_files="warn")
    assert outcome.status is Status.WARN
    assert "scripts/tool.py" in outcome.summary


def test_below_thresholds_fails_with_figures_and_remedy(project):
    outcome = run(project, coverage="coverage.xml", min_total=80, min_diff=90,
                  exclude=["tests/**", "scripts/**"])
    assert outcome.status is Status.FAIL
    assert outcome.summary == (
        "diff coverage 67.7% (21/31 changed lines) < 90%; total 73.8% < 80%"
    )
    assert outcome.remedy.startswith(
        "Cover these changed lines with smoke tests: pkg/calc.py:15, pkg/calc.py:28-29, "
        "pkg/calc.py:33 and 4 more ranges (`details.uncovered`)"
    )
    assert "raise total coverage to 80% or more" in outcome.remedy


def _change(tmp_path: Path, lines: dict[int, int], *, text: str = "v = 1\n") -> Path:
    """A repo whose change adds a.py lines 1..4, with a report giving ``lines`` hits."""
    repo = make_repo(tmp_path, {"README.md": "x\n"})
    repo.branch("feature")
    repo.commit({"a.py": text * 4}, "add a.py")
    (tmp_path / "c.xml").write_text(_cobertura({"a.py": lines}))
    return tmp_path


def test_thresholds_pass_at_equality(tmp_path):
    root = _change(tmp_path, {1: 1, 2: 1, 3: 1, 4: 0})
    assert run(root, "main", coverage="c.xml", min_diff=75, min_total=75).status is Status.PASS
    outcome = run(root, "main", coverage="c.xml", min_diff=75.01)
    assert outcome.status is Status.FAIL
    assert outcome.summary.startswith("diff coverage 75.0% (3/4 changed lines) < 75.01%")


def test_rounding_never_shows_a_failing_figure_as_passing():
    assert _pct(6996, 10000, 70) == "69.9%"
    assert _pct(6996, 10000, 69) == "70.0%"
    assert _pct(6996, 10000) == "70.0%"


def test_no_measurable_changed_lines_is_not_applicable(tmp_path):
    root = _change(tmp_path, {9: 1})  # the report measures a.py, none of its changed lines
    outcome = run(root, "main", coverage="c.xml", min_diff=90)
    assert outcome.status is Status.PASS
    assert outcome.details["diff_lines"] == 0
    assert outcome.details["diff_percent"] is None
    assert outcome.summary.startswith("no measurable changed lines (diff coverage not applicable)")


def test_failed_tests_and_too_few_tests(tmp_path):
    root = _change(tmp_path, {1: 1})
    (root / "junit.xml").write_text(
        '<testsuites><testsuite name="smoke"><testcase classname="s" name="a">'
        '<failure/></testcase><testcase classname="s" name="b"><error/></testcase>'
        '</testsuite><testsuite name="unit"><testcase classname="u" name="c"/></testsuite>'
        "</testsuites>")
    outcome = run(root, "main", coverage="c.xml", junit="junit.xml")
    assert outcome.status is Status.FAIL
    assert "3 tests, 2 failed (> 0 allowed)" in outcome.summary
    assert outcome.details["tests"] == {"tests": 3, "failures": 1, "errors": 1, "skipped": 0}
    assert run(root, "main", coverage="c.xml", junit="junit.xml",
               max_failures=2).status is Status.PASS
    unit = run(root, "main", coverage="c.xml", junit="junit.xml", smoke={"suites": "unit"})
    assert unit.status is Status.PASS
    outcome = run(root, "main", coverage="c.xml", junit="junit.xml", smoke={"suites": "e2e"})
    assert outcome.status is Status.FAIL
    assert "0 tests, 0 failed; 0 run < 1 required" in outcome.summary


def test_evidence_problems_raise_for_the_engine_to_turn_into_error(tmp_path):
    root = _change(tmp_path, {1: 1})
    with pytest.raises(EvidenceError, match=r"nope\.xml: coverage report not found"):
        run(root, "main", coverage="nope.xml")
    with pytest.raises(EvidenceError, match=r"junit\.xml: JUnit report not found"):
        run(root, "main", coverage="c.xml", junit="junit.xml")


def test_schema():
    jsonschema.validate(CHECK.example, CHECK.options)
    for bad in ({}, {"coverage": []}, {"coverage": "c.xml", "min_diff": 101},
                {"coverage": "c.xml", "missing_files": "maybe"}, {"coverage": "c.xml", "x": 1},
                {"coverage": "c.xml", "smoke": {"suite": "s"}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, CHECK.options)
    assert with_defaults(CHECK, {"coverage": "c"}) == {
        "coverage": "c", "max_failures": 0, "missing_files": "fail",
        "allow_committed_reports": False}


def test_annotations_are_capped_but_uncovered_lists_every_line(tmp_path):
    repo = make_repo(tmp_path, {"README.md": "x\n"})
    repo.branch("feature")
    repo.commit({"a.py": "v = 1\n" * 300})
    (tmp_path / "c.xml").write_text(_cobertura({"a.py": {n: n % 2 for n in range(1, 301)}}))
    outcome = run(tmp_path, coverage="c.xml")
    assert len(outcome.annotations) == 100
    assert outcome.annotations[0] == Annotation(
        "a.py", 2, None, "changed line not covered by the smoke tests")
    assert outcome.details["uncovered"] == [{"path": "a.py", "lines": list(range(2, 301, 2))}]
