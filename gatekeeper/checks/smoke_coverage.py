"""smoke-coverage: the smoke tests pass, cover enough code, and cover the changed code.

Total coverage is coverage.py's figure (measured lines covered, plus measured branches
covered when the reports have branch data, over every measured file); diff coverage is
diff-cover's (added lines of the change that the reports
measure, and how many of them ran). Where diff-cover quietly leaves out a changed file
no report measures, this check lists it and, by default, fails.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gatekeeper.checks import Check, Problem
from gatekeeper.model import Annotation, Outcome, Status

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.coverage import CoverageData, DiffCoverage, Totals
    from gatekeeper.evidence.coverage_staleness import StaleReport
    from gatekeeper.evidence.git import ChangedFile
    from gatekeeper.evidence.junit import TestCounts

# One path/glob or a list of them ("items"/"minItems" apply to the list form only).
_PATHS: dict[str, Any] = {
    "type": ["string", "array"],
    "minLength": 1,
    "items": {"type": "string", "minLength": 1},
    "minItems": 1,
}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["coverage"],
    "properties": {
        "coverage": {
            **_PATHS,
            "description": "Coverage reports (paths or globs, from the "
            "repository root): Cobertura or JaCoCo XML, coverage.py JSON, LCOV.",
        },
        "junit": {**_PATHS, "description": "JUnit XML files of the smoke run."},
        "min_total": {
            **_PERCENT,
            "description": "Minimum total coverage: coverage.py's figure, "
            "(covered lines + covered branches) / (lines + branches) when the reports "
            "have branch data, else covered lines / lines.",
        },
        "min_branch": {
            **_PERCENT,
            "description": "Minimum percent of measured branches covered (the reports "
            "must have branch data).",
        },
        "min_diff": {
            **_PERCENT,
            "description": "Minimum percent of measured changed lines covered.",
        },
        "min_tests": {
            "type": "integer",
            "minimum": 0,
            "description": "Minimum tests run "
            "(skipped ones do not count); 1 when `junit` is given.",
        },
        "max_failures": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "Most failed tests allowed; errors count as failures.",
        },
        "include": {
            **_PATHS,
            "description": "Globs on repository paths the figures cover "
            "(default: every measured file; for missing files, every changed file "
            "of a kind the reports measure).",
        },
        "exclude": {**_PATHS, "description": "Globs on repository paths to leave out."},
        "missing_files": {
            "enum": ["fail", "warn", "ignore"],
            "default": "fail",
            "description": "What a changed source file that no report "
            "measures does to the verdict.",
        },
        "stale_reports": {
            "enum": ["warn", "fail", "ignore"],
            "default": "warn",
            "description": "What a coverage report made before the newest commit of the "
            "range (or, with --worktree, before a file it measures changed) does to the "
            "verdict.",
        },
        "smoke": {
            "type": "object",
            "additionalProperties": False,
            "description": "Which test cases form the smoke suite (all when omitted; "
            "every given key must match).",
            "properties": {
                "tests": {
                    **_PATHS,
                    "description": "Globs on test source paths: the case's `file` "
                    "attribute, else its classname as a path (tests.smoke.test_api -> "
                    "tests/smoke/test_api.py).",
                },
                "reports": {
                    **_PATHS,
                    "description": "Globs on JUnit file paths (among `junit`).",
                },
                "files": {
                    **_PATHS,
                    "description": "Former name of `reports` (JUnit file globs).",
                },
                "suites": {
                    **_PATHS,
                    "description": "Patterns on <testsuite name> (pytest's is 'pytest').",
                },
                "classnames": {**_PATHS, "description": "Patterns on <testcase classname>."},
            },
        },
        "allow_committed_reports": {
            "type": "boolean",
            "default": False,
            "description": "Accept report files that git tracks at the head. Off by default: "
            "a report committed in the change under review is the change's word, not the build's.",
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
    from fractions import Fraction

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
    from gatekeeper.evidence import coverage
    from gatekeeper.evidence.coverage_staleness import stale_reports

    include = _many(options.get("include")) or None
    exclude = _many(options.get("exclude"))
    data, changed_files = _coverage_and_diff(ev, options)
    stale = stale_reports(ev, data) if options["stale_reports"] != "ignore" else []
    total = coverage.totals(data, include, exclude)
    diff = coverage.diff_coverage(data, changed_files, include, exclude, coverage.code_detector(ev))
    tests = None
    if options.get("junit"):
        from gatekeeper.evidence import junit

        selection = junit.Selection.from_options(options.get("smoke"))
        tests = junit.load(
            ev,
            _many(options["junit"]),
            selection,
            allow_committed=options.get("allow_committed_reports", False),
        )

    verdicts = [
        _diff_verdict(diff, options.get("min_diff")),
        _total_verdict(total, options.get("min_total")),
        _branch_verdict(total, options.get("min_branch")),
        _tests_verdict(tests, options),
        _missing_verdict(diff, options["missing_files"]),
        _without_code_verdict(diff.without_code),
        _stale_verdict(stale, options["stale_reports"]),
    ]
    summary = "; ".join(text for text, _, _ in verdicts if text)
    failures = [remedy for _, remedy, level in verdicts if remedy and level is Status.FAIL]
    warnings = [remedy for _, remedy, level in verdicts if remedy and level is Status.WARN]
    if failures:
        status, remedy = Status.FAIL, _sentence(failures)
    elif warnings:
        status, remedy = Status.WARN, _sentence(warnings)
    else:
        status, remedy = Status.PASS, None
    details = _details(data, total, diff, tests)
    details["stale_reports"] = [s.as_dict() for s in stale]
    places, places_total = _annotations(diff, options["missing_files"] != "ignore")
    return Outcome(status, summary, details, remedy, places, places_total)


def _coverage_and_diff(
    ev: Evidence, options: dict[str, Any]
) -> tuple[CoverageData, list[ChangedFile]]:
    """The merged reports and the changed files, computed side by side: git works in
    its own processes (started by the run, or here) while this process parses the
    reports, so on a large change the diff costs little (see benchmarks/diff_coverage.py)."""
    from gatekeeper.evidence import coverage

    ev.git.prefetch()
    data = coverage.load(
        ev,
        _many(options["coverage"]),
        options.get("path_map"),
        allow_committed=options.get("allow_committed_reports", False),
    )
    return data, ev.git.changed_files


Verdict = tuple[str, "str | None", Status]
"""(summary part, remedy if it does not pass, the status it calls for)."""


def _diff_verdict(diff: DiffCoverage, threshold: float | None) -> Verdict:
    if not diff.lines:
        return "no measurable changed lines (diff coverage not applicable)", None, Status.PASS
    text = (
        f"diff coverage {_pct(diff.covered, diff.lines, threshold)} "
        f"({diff.covered}/{diff.lines} changed lines)"
    )
    if threshold is None:
        return text, None, Status.PASS
    if _meets(diff.covered, diff.lines, threshold):
        return f"{text} >= {_num(threshold)}", None, Status.PASS
    remedy = f"cover these changed lines with smoke tests: {_uncovered_places(diff)}"
    return f"{text} < {_num(threshold)}", remedy, Status.FAIL


def _uncovered_places(diff: DiffCoverage, limit: int = 3) -> str:
    """``a.py:3, b.py:10-12 and 4 more ranges (details.uncovered)``: the first places to look."""
    from gatekeeper.evidence.coverage import ranges

    places = [
        f"{path}:{a}" if a == b else f"{path}:{a}-{b}"
        for path, lines in sorted(diff.uncovered.items())
        for a, b in ranges(lines)
    ]
    text = ", ".join(places[:limit])
    if len(places) > limit:
        text += f" and {len(places) - limit} more ranges (`details.uncovered`)"
    return text


def _total_verdict(total: Totals, threshold: float | None) -> Verdict:
    if not total.valid:
        remedy = "check the rule's include/exclude globs against the report's paths"
        return (
            "total: no measured lines match include/exclude",
            remedy if threshold is not None else None,
            Status.FAIL,
        )
    text = f"total {_pct(total.covered, total.valid, threshold)}"
    if total.branches_valid:
        text += (
            f" (lines {_pct(total.lines_covered, total.lines_valid)}, "
            f"branches {_pct(total.branches_covered, total.branches_valid)})"
            if total.lines_valid
            else f" (branches {_pct(total.branches_covered, total.branches_valid)})"
        )
    if threshold is None:
        return text, None, Status.PASS
    if _meets(total.covered, total.valid, threshold):
        return f"{text} >= {_num(threshold)}", None, Status.PASS
    return (
        f"{text} < {_num(threshold)}",
        f"raise total coverage to {_num(threshold)} or more",
        Status.FAIL,
    )


def _branch_verdict(total: Totals, threshold: float | None) -> Verdict:
    if threshold is None:
        return "", None, Status.PASS
    if not total.branches_valid:
        return (
            f"no branch data for min_branch {_num(threshold)}",
            "measure branches in the coverage run (coverage.py: `branch = true` under "
            "[run], or `--branch`) or drop `min_branch`",
            Status.FAIL,
        )
    text = f"branches {_pct(total.branches_covered, total.branches_valid, threshold)}"
    if _meets(total.branches_covered, total.branches_valid, threshold):
        return f"{text} >= {_num(threshold)}", None, Status.PASS
    return (
        f"{text} < {_num(threshold)}",
        f"raise branch coverage to {_num(threshold)} or more",
        Status.FAIL,
    )


def _tests_verdict(tests: TestCounts | None, options: dict[str, Any]) -> Verdict:
    if tests is None:
        if options.get("min_tests"):
            return (
                "no `junit` reports given for min_tests",
                "add the smoke run's JUnit XML to `junit`",
                Status.FAIL,
            )
        return "", None, Status.PASS
    failed = tests.failures + tests.errors
    ran = tests.tests - tests.skipped
    min_tests = options.get("min_tests", 1)
    max_failures = options["max_failures"]
    text = f"{tests.tests} test{'' if tests.tests == 1 else 's'}, {failed} failed"
    if tests.skipped:
        text += f", {tests.skipped} skipped"
    remedies = []
    if failed > max_failures:
        text += f" (> {max_failures} allowed)"
        remedies.append("fix the failing smoke tests")
    if tests.failing:
        text += f": {_failing_names(tests)}"
    if ran < min_tests:
        text += f"; {ran} run < {min_tests} required"
        remedies.append("check that the smoke suite ran and that `junit`/`smoke` select it")
    if remedies:
        return text, "; ".join(remedies), Status.FAIL
    return text, None, Status.PASS


def _names(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")


MAX_FAILING_IN_SUMMARY = 5


def _failing_names(tests: TestCounts) -> str:
    """``a::b (message), c::d and 3 more (`details.failing_tests`)``."""

    def one(test: str, message: str) -> str:
        short = message if len(message) <= 80 else message[:79] + "…"
        return f"{test} ({short})" if short else test

    names = [one(f.test, f.message) for f in tests.failing[:MAX_FAILING_IN_SUMMARY]]
    text = ", ".join(names)
    if len(tests.failing) > MAX_FAILING_IN_SUMMARY:
        text += f" and {len(tests.failing) - MAX_FAILING_IN_SUMMARY} more (`details.failing_tests`)"
    return text


def _missing_verdict(diff: DiffCoverage, mode: str) -> Verdict:
    if not diff.missing_files or mode == "ignore":
        return "", None, Status.PASS
    nothing = set(diff.measured_nothing)
    absent = [p for p in diff.missing_files if p not in nothing]
    parts = []
    if absent:
        parts.append(f"{len(absent)} changed file(s) in no coverage report ({_names(absent)})")
    if nothing:
        parts.append(
            f"{len(nothing)} changed file(s) listed with no measured line "
            f"({_names(diff.measured_nothing)})"
        )
    remedy = (
        "measure the files in `files_missing_from_report` in the coverage run, or "
        "leave them out with `exclude`"
    )
    return "; ".join(parts), remedy, Status.FAIL if mode == "fail" else Status.WARN


def _stale_verdict(stale: list[StaleReport], mode: str) -> Verdict:
    if not stale:
        return "", None, Status.PASS
    first = stale[0]
    when = first.as_dict()
    what = f"commit {first.name[:12]}" if first.newer == "commit" else first.name
    text = (
        f"stale coverage report: {first.path} (made {when['made']}) is older than "
        f"{what} ({when['changed']})"
    )
    if len(stale) > 1:
        text += f" and {len(stale) - 1} more (`details.stale_reports`)"
    remedy = (
        "measure the code under review: run the tests with coverage on the head commit "
        "and use that report (an old artifact or cache measures other code)"
    )
    return text, remedy, Status.FAIL if mode == "fail" else Status.WARN


def _without_code_verdict(paths: list[str]) -> Verdict:
    if not paths:
        return "", None, Status.PASS
    return (
        f"{len(paths)} changed file(s) without executable lines ({_names(paths)})",
        None,
        Status.PASS,
    )


def _details(
    data: CoverageData, total: Totals, diff: DiffCoverage, tests: TestCounts | None
) -> dict[str, Any]:
    from gatekeeper.evidence.coverage import ranges

    reports = list(data.reports)
    if tests is not None:
        reports += [{"path": path, "format": "junit"} for path in tests.files]
    return {
        "total_percent": _percent(total.covered, total.valid),
        "line_percent": _percent(total.lines_covered, total.lines_valid),
        "branch_percent": _percent(total.branches_covered, total.branches_valid),
        "lines_valid": total.lines_valid,
        "lines_covered": total.lines_covered,
        "branches_valid": total.branches_valid,
        "branches_covered": total.branches_covered,
        "diff_lines": diff.lines,
        "diff_covered": diff.covered,
        "diff_missing": diff.missing,
        "diff_percent": _round(diff.percent),
        "files_missing_from_report": diff.missing_files,
        "files_measured_nothing": diff.measured_nothing,
        "files_without_code": diff.without_code,
        "uncovered": [
            {"path": path, "lines": [a if a == b else f"{a}-{b}" for a, b in ranges(lines)]}
            for path, lines in sorted(diff.uncovered.items())
        ],
        "tests": tests.counts() if tests is not None else None,
        "failing_tests": [f.as_dict() for f in tests.failing] if tests is not None else [],
        "reports": reports,
    }


MAX_ANNOTATIONS = 100
"""CI systems show a few dozen annotations per run (GitHub: 50 per check run update);
thousands would only slow the report down. ``details.uncovered`` keeps every line."""


def _annotations(diff: DiffCoverage, with_missing: bool) -> tuple[list[Annotation], int]:
    """The first MAX_ANNOTATIONS annotations, and how many there are in all (only the
    kept ones are built: a large change has tens of thousands of uncovered runs)."""
    from itertools import islice

    from gatekeeper.evidence.coverage import count_ranges, ranges

    missing = diff.missing_files if with_missing else []
    total = len(missing) + sum(map(count_ranges, diff.uncovered.values()))
    files = (
        Annotation(
            path,
            1,
            None,
            "changed file listed in a coverage report, but none of its lines measured"
            if path in diff.measured_nothing
            else "changed file not measured by any coverage report",
        )
        for path in missing
    )
    lines = (
        Annotation(
            path,
            a,
            b if b != a else None,
            f"changed line{'s' if b != a else ''} not covered by the smoke tests",
        )
        for path, numbers in sorted(diff.uncovered.items())
        for a, b in ranges(numbers)
    )
    kept = list(islice(files, MAX_ANNOTATIONS))
    kept += islice(lines, MAX_ANNOTATIONS - len(kept))
    return kept, total


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def validate(options: dict[str, Any]) -> list[Problem]:
    """What the schema cannot say: test options need test reports."""
    problems: list[Problem] = []
    if not options.get("junit"):
        for key in ("min_tests", "smoke"):
            if key in options:
                problems.append(((key,), f"`{key}` needs `junit` reports to count tests in"))
    problems += _smoke_problems(options.get("smoke") or {})
    for prefix in options.get("path_map") or {}:
        if not prefix:
            problems.append((("path_map",), "an empty report prefix would match every path"))
    return problems


_TEST_SOURCE = (".py", ".js", ".ts", ".jsx", ".tsx", ".java", ".kt", ".rb", ".go", ".cs", ".php")


def _smoke_problems(smoke: dict[str, Any]) -> list[Problem]:
    """`smoke.files` once named JUnit files only; a glob on test sources there selects
    no report, so say where it belongs instead of failing at run time."""
    problems: list[Problem] = []
    if "files" in smoke and "reports" in smoke:
        problems.append(
            (("smoke", "files"), "`files` is the former name of `reports`: use `reports` only")
        )
    for glob in _many(smoke.get("files")):
        if glob.endswith(_TEST_SOURCE):
            problems.append(
                (
                    ("smoke", "files"),
                    f"{glob!r} looks like test source files, but `smoke.files` selects JUnit "
                    "XML files (now `smoke.reports`); to pick tests by source file use "
                    "`smoke.tests`",
                )
            )
    return problems


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _percent(covered: int, total: int, precision: int = 2) -> float | None:
    """coverage.py's displayed figure at ``precision`` (its ``Numbers.display_covered``):
    rounded, except that only 0 covered shows 0 and only all covered shows 100."""
    if not total:
        return None
    value = 100.0 * covered / total
    step = 10.0**-precision
    if 0 < value < step:
        return step
    if 100.0 - step < value < 100.0:
        return round(100.0 - step, precision)
    return round(value, precision)


CHECK = Check(
    name="smoke-coverage",
    title="Smoke tests pass and cover enough of the code and of the change",
    options=OPTIONS,
    evaluate=evaluate,
    validate=validate,
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
