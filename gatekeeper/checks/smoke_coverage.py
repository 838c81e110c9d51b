"""smoke-coverage: the smoke tests pass, cover enough code, and cover the changed code.

Total coverage is coverage.py's figure (measured lines covered, over every measured
file); diff coverage is diff-cover's (added lines of the change that the reports
measure, and how many of them ran). Where diff-cover quietly leaves out a changed file
no report measures, this check lists it and, by default, fails.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from gatekeeper.checks import Check
from gatekeeper.model import Annotation, Outcome, Status

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

_PATHS: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    ]
}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["coverage"],
    "properties": {
        "coverage": {**_PATHS, "description": "Coverage reports (paths or globs, from the "
                     "repository root): Cobertura or JaCoCo XML, coverage.py JSON, LCOV."},
        "junit": {**_PATHS, "description": "JUnit XML files of the smoke run."},
        "min_total": {**_PERCENT, "description": "Minimum percent of measured lines covered."},
        "min_diff": {**_PERCENT, "description": "Minimum percent of measured changed lines "
                     "covered."},
        "min_tests": {"type": "integer", "minimum": 0, "description": "Minimum tests run "
                      "(skipped ones do not count); 1 when `junit` is given."},
        "max_failures": {"type": "integer", "minimum": 0, "default": 0,
                         "description": "Most failed tests allowed; errors count as failures."},
        "include": {**_PATHS, "description": "Globs on repository paths the figures cover "
                    "(default: every measured file; for missing files, every changed file "
                    "of a kind the reports measure)."},
        "exclude": {**_PATHS, "description": "Globs on repository paths to leave out."},
        "missing_files": {"enum": ["fail", "warn", "ignore"], "default": "fail",
                          "description": "What a changed source file that no report "
                          "measures does to the verdict."},
        "smoke": {
            "type": "object",
            "additionalProperties": False,
            "description": "Which test cases form the smoke suite (all when omitted).",
            "properties": {
                "files": {**_PATHS, "description": "Globs on JUnit file paths."},
                "suites": {**_PATHS, "description": "Patterns on <testsuite name>."},
                "classnames": {**_PATHS, "description": "Patterns on <testcase classname>."},
            },
        },
        "path_map": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Report path prefix -> repository path prefix, for paths the "
                           "automatic mapping cannot place.",
        },
    },
}


def _many(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _meets(covered: int, total: int, threshold: float) -> bool:
    """covered/total >= threshold percent, exactly (no float rounding at the edge)."""
    return Fraction(covered * 100, total) >= Fraction(str(threshold))


def _pct(covered: int, total: int, threshold: float | None = None) -> str:
    """One decimal; rounded down when rounding would make a failing figure look passing."""
    value = 100 * covered / total
    text = f"{value:.1f}"
    if threshold is not None and not _meets(covered, total, threshold) and float(text) >= threshold:
        text = f"{math.floor(value * 10) / 10:.1f}"
    return text + "%"


def _num(threshold: float) -> str:
    return f"{threshold:g}%"


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    from gatekeeper.evidence import coverage, junit

    include = _many(options.get("include")) or None
    exclude = _many(options.get("exclude"))
    repo = ev.git
    repo.files  # noqa: B018 - listed now, so the two threads below share no git call
    # git computes the diff in its own processes while this thread parses the reports:
    # on a large change the diff is free (see benchmarks/diff_coverage.py).
    with ThreadPoolExecutor(max_workers=1) as pool:
        changed = pool.submit(lambda: repo.changed_files)
        data = coverage.load(ev, _many(options["coverage"]), options.get("path_map"))
        changed_files = changed.result()
    total = coverage.totals(data, include, exclude)
    diff = coverage.diff_coverage(data, changed_files, include, exclude)
    junit_paths = _many(options.get("junit"))
    tests = None
    if junit_paths:
        selection = junit.Selection.from_options(options.get("smoke"))
        tests = junit.load(ev, junit_paths, selection)

    parts: list[str] = []
    failures: list[str] = []
    warnings: list[str] = []

    min_diff = options.get("min_diff")
    if diff.lines:
        text = f"diff coverage {_pct(diff.covered, diff.lines, min_diff)} " \
               f"({diff.covered}/{diff.lines} changed lines)"
        if min_diff is not None:
            ok = _meets(diff.covered, diff.lines, min_diff)
            text += f" {'>=' if ok else '<'} {_num(min_diff)}"
            if not ok:
                failures.append(
                    f"cover the {diff.missing} changed line(s) listed in `uncovered` with "
                    "smoke tests"
                )
    else:
        text = "no measurable changed lines (diff coverage not applicable)"
    parts.append(text)

    min_total = options.get("min_total")
    if total.lines_valid:
        text = f"total {_pct(total.lines_covered, total.lines_valid, min_total)}"
        if min_total is not None:
            ok = _meets(total.lines_covered, total.lines_valid, min_total)
            text += f" {'>=' if ok else '<'} {_num(min_total)}"
            if not ok:
                failures.append(f"raise total coverage to {_num(min_total)} or more")
    else:
        text = "total: no measured lines match include/exclude"
        if min_total is not None:
            failures.append("check the rule's include/exclude globs against the report's paths")
    parts.append(text)

    if tests is not None:
        failed = tests.failures + tests.errors
        ran = tests.tests - tests.skipped
        min_tests = options.get("min_tests", 1)
        max_failures = options.get("max_failures", 0)
        text = f"{tests.tests} tests, {failed} failed"
        if tests.skipped:
            text += f", {tests.skipped} skipped"
        if failed > max_failures:
            text += f" (> {max_failures} allowed)"
            failures.append("fix the failing smoke tests")
        if ran < min_tests:
            text += f"; {ran} run < {min_tests} required"
            failures.append("check that the smoke suite ran and `junit`/`smoke` select it")
        parts.append(text)
    elif options.get("min_tests"):
        parts.append("no `junit` reports given for min_tests")
        failures.append("add the smoke run's JUnit XML to `junit`")

    mode = options.get("missing_files", "fail")
    if diff.missing_files and mode != "ignore":
        names = ", ".join(diff.missing_files[:3]) + (", ..." if len(diff.missing_files) > 3 else "")
        parts.append(f"{len(diff.missing_files)} changed file(s) in no coverage report ({names})")
        remedy = ("measure the files in `files_missing_from_report` in the coverage run, or "
                  "leave them out with `exclude`")
        (failures if mode == "fail" else warnings).append(remedy)

    uncovered = [
        {"path": path, "lines": [a if a == b else f"{a}-{b}" for a, b in coverage.ranges(lines)]}
        for path, lines in sorted(diff.uncovered.items())
    ]
    details: dict[str, Any] = {
        "total_percent": _round(total.percent),
        "lines_valid": total.lines_valid,
        "lines_covered": total.lines_covered,
        "diff_lines": diff.lines,
        "diff_covered": diff.covered,
        "diff_missing": diff.missing,
        "diff_percent": _round(diff.percent),
        "files_missing_from_report": diff.missing_files,
        "uncovered": uncovered,
        "tests": tests.counts() if tests is not None else None,
        "reports": data.reports + ([{"path": p, "format": "junit"} for p in tests.files]
                                   if tests is not None else []),
    }
    annotations = [
        Annotation(path, a, b if b != a else None,
                   f"changed line{'s' if b != a else ''} not covered by the smoke tests")
        for path, lines in sorted(diff.uncovered.items())
        for a, b in coverage.ranges(lines)
    ]
    if mode != "ignore":
        annotations += [Annotation(p, 1, None, "changed file not measured by any coverage report")
                        for p in diff.missing_files]
    summary = "; ".join(parts)
    if failures:
        status, remedy = Status.FAIL, "; ".join(failures).capitalize() + "."
    elif warnings:
        status, remedy = Status.WARN, "; ".join(warnings).capitalize() + "."
    else:
        status, remedy = Status.PASS, None
    return Outcome(status, summary, details, remedy, annotations)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


CHECK = Check(
    name="smoke-coverage",
    title="Smoke tests pass and cover enough of the code and of the change",
    options=OPTIONS,
    evaluate=evaluate,
    example={
        "coverage": "coverage.xml",
        "junit": "junit.xml",
        "min_total": 70,
        "min_diff": 80,
        "exclude": ["tests/**"],
    },
    description=(
        "Reads Cobertura/JaCoCo XML, coverage.py JSON and LCOV reports (format detected "
        "from content; several reports merge) and JUnit XML. Diff coverage counts the "
        "added lines of merge-base..head that the reports measure, like diff-cover; a "
        "changed source file no report measures is listed in `files_missing_from_report` "
        "and fails the rule unless `missing_files` says otherwise. No measurable changed "
        "lines: diff coverage is not applicable and does not fail the rule."
    ),
)
