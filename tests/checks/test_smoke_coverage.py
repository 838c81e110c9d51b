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
        "diff coverage 67.7% (21/31 changed lines) >= 60%; "
        "total 70.4% (lines 73.8%, branches 58.3%) >= 70%; 7 tests, 0 failed; 1 changed file(s) in no coverage report (scripts/tool.py)"
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
        "total_percent": 70.37,
        "line_percent": 73.81,
        "branch_percent": 58.33,
        "lines_valid": 42,
        "lines_covered": 31,
        "branches_valid": 12,
        "branches_covered": 7,
        "diff_lines": 31,
        "diff_covered": 21,
        "diff_missing": 10,
        "diff_percent": 67.74,
        "files_missing_from_report": ["scripts/tool.py"],
        "files_measured_nothing": [],
        "files_without_code": [],
        "uncovered": [
            {"path": "pkg/calc.py", "lines": [15, "28-29", 33, 40]},
            {"path": "pkg/new.py", "lines": [10, "15-17"]},
            {"path": "pkg/renamed.py", "lines": [6]},
        ],
        "tests": {"tests": 7, "failures": 0, "errors": 0, "skipped": 0},
        "failing_tests": [],
        "stale_reports": [],
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
        "diff coverage 67.7% (21/31 changed lines) < 90%; "
        "total 70.4% (lines 73.8%, branches 58.3%) < 80%"
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
        "allow_committed_reports": False, "stale_reports": "warn"}


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


# --- issue 9: failing tests by name, smoke.tests ----------------------------------------


def _junit(cases: list[tuple[str, str, str]]) -> str:
    """(classname, name, failure message or '' for a pass) -> pytest-like JUnit XML."""
    body = "".join(
        f'<testcase classname="{c}" name="{n}">'
        + (f'<failure message="{m}">trace</failure>' if m else "") + "</testcase>"
        for c, n, m in cases)
    return f'<testsuites><testsuite name="pytest">{body}</testsuite></testsuites>'


def test_failing_tests_are_named_in_summary_and_details(tmp_path):
    root = _change(tmp_path, {1: 1})
    cases = [("tests.smoke.test_api", f"test_{i}", f"boom {i}&#10;second line")
             for i in range(7)] + [("tests.unit.test_x", "test_ok", "")]
    (root / "junit.xml").write_text(_junit(cases))
    outcome = run(root, "main", coverage="c.xml", junit="junit.xml")
    assert outcome.status is Status.FAIL
    assert ("8 tests, 7 failed (> 0 allowed): tests.smoke.test_api::test_0 (boom 0), "
            "tests.smoke.test_api::test_1 (boom 1)") in outcome.summary
    assert "test_4 (boom 4) and 2 more (`details.failing_tests`)" in outcome.summary
    assert "test_5" not in outcome.summary
    failing = outcome.details["failing_tests"]
    assert len(failing) == 7
    assert failing[6] == {"test": "tests.smoke.test_api::test_6", "outcome": "failure",
                          "message": "boom 6", "report": "junit.xml"}


def test_smoke_tests_select_by_test_source_path(tmp_path):
    root = _change(tmp_path, {1: 1})
    (root / "junit.xml").write_text(_junit([("tests.smoke.test_api", "test_up", ""),
                                            ("tests.unit.test_x", "test_bad", "no")]))
    smoke = run(root, "main", coverage="c.xml", junit="junit.xml",
                smoke={"tests": ["tests/smoke/**"]})
    assert smoke.status is Status.PASS
    assert smoke.details["tests"]["tests"] == 1
    assert smoke.details["failing_tests"] == []
    # The README's example: pytest's default suite name.
    suite = run(root, "main", coverage="c.xml", junit="junit.xml", smoke={"suites": ["pytest"]})
    assert suite.details["tests"]["tests"] == 2


def test_validate_smoke_files_that_look_like_test_sources():
    from gatekeeper.checks.smoke_coverage import validate

    ok = {"coverage": "c.xml", "junit": "j/*.xml", "smoke": {"files": ["j/smoke-*.xml"]}}
    assert validate(ok) == []
    assert validate({**ok, "smoke": {"reports": ["j/smoke-*.xml"], "tests": ["t/**"]}}) == []
    problems = validate({**ok, "smoke": {"files": ["tests/smoke/*.py"]}})
    assert problems == [(("smoke", "files"),
                         "'tests/smoke/*.py' looks like test source files, but `smoke.files` "
                         "selects JUnit XML files (now `smoke.reports`); to pick tests by "
                         "source file use `smoke.tests`")]
    both = validate({**ok, "smoke": {"files": ["a.xml"], "reports": ["b.xml"]}})
    assert both == [(("smoke", "files"), "`files` is the former name of `reports`: use "
                                         "`reports` only")]


# --- issue 9: stale reports -------------------------------------------------------------


def _stale_repo(tmp_path: Path) -> Path:
    """A change committed now; reports are written by each test."""
    repo = make_repo(tmp_path, {"README.md": "x\n"})
    repo.branch("feature")
    repo.commit({"a.py": "v = 1\n"}, "add a.py")
    return tmp_path


@pytest.mark.parametrize(("name", "content", "made_from"), [
    ("c.xml", _cobertura({"a.py": {1: 1}}).replace(
        '<coverage version="7">', '<coverage version="7" timestamp="{ms}">'), "timestamp"),
    ("c.json", '{{"meta": {{"timestamp": "{iso}"}}, "files": {{"a.py": '
               '{{"executed_lines": [1], "missing_lines": []}}}}}}', "meta.timestamp"),
    ("c.lcov", "SF:a.py\nDA:1,1\nend_of_record\n", "mtime"),
])
def test_a_report_older_than_the_newest_commit_warns(tmp_path, name, content, made_from):
    import os
    import time
    from datetime import datetime

    root = _stale_repo(tmp_path)
    hour_ago = time.time() - 3600
    local = datetime.fromtimestamp(hour_ago).isoformat()  # coverage.py writes local time
    (root / name).write_text(content.format(ms=int(hour_ago * 1000), iso=local))
    os.utime(root / name, (hour_ago, hour_ago))
    outcome = run(root, "main", coverage=name)
    assert outcome.status is Status.WARN
    stale = outcome.details["stale_reports"]
    assert [(s["path"], s["made_from"], s["newer"]) for s in stale] == [
        (name, made_from, "commit")]
    sha = evidence(root).git.head_sha
    assert stale[0]["name"] == sha
    assert f"stale coverage report: {name} (made " in outcome.summary
    assert f"is older than commit {sha[:12]}" in outcome.summary
    assert outcome.remedy.startswith("Measure the code under review")
    assert run(root, "main", coverage=name, stale_reports="fail").status is Status.FAIL
    ignored = run(root, "main", coverage=name, stale_reports="ignore")
    assert (ignored.status, ignored.details["stale_reports"]) == (Status.PASS, [])


def test_a_report_made_after_the_newest_commit_is_fresh(tmp_path):
    import time

    root = _stale_repo(tmp_path)
    soon = int((time.time() + 60) * 1000)
    (root / "c.xml").write_text(_cobertura({"a.py": {1: 1}}).replace(
        '<coverage version="7">', f'<coverage version="7" timestamp="{soon}">'))
    outcome = run(root, "main", coverage="c.xml")
    assert (outcome.status, outcome.details["stale_reports"]) == (Status.PASS, [])


def test_worktree_report_older_than_a_file_it_measures(tmp_path):
    import os
    import time

    from gatekeeper.evidence import Evidence, RunContext

    root = _stale_repo(tmp_path)
    (root / "c.lcov").write_text("SF:a.py\nDA:1,1\nDA:2,0\nend_of_record\n")
    (root / "a.py").write_text("v = 1\nw = 2\n")  # edited after the coverage run
    now = time.time()
    os.utime(root / "c.lcov", (now + 30, now + 30))  # after the commit
    os.utime(root / "a.py", (now + 60, now + 60))  # and the file after the report
    ev = Evidence(RunContext(root, evidence(root).now, base="main", worktree=True))
    options = with_defaults(CHECK, {"coverage": "c.lcov"})
    outcome = CHECK.evaluate(options, ev)
    # The commit is older than the report: only the work-tree file makes it stale.
    assert [(s["newer"], s["name"]) for s in outcome.details["stale_reports"]] == [
        ("file", "a.py")]
    assert "is older than a.py (" in outcome.summary
    assert outcome.status is Status.WARN


def test_percent_in_details_follows_coverage_py_display_rule():
    """Like `coverage report`: only nothing covered shows 0, only everything shows 100."""
    from gatekeeper.checks.smoke_coverage import _percent

    assert _percent(1, 100_000) == 0.01
    assert _percent(99_999, 100_000) == 99.99
    assert (_percent(0, 7), _percent(7, 7), _percent(2, 3), _percent(0, 0)) == (
        0.0, 100.0, 66.67, None)
