"""A large report for the renderers' identity tests: long lists of line numbers and ranges
(as smoke-coverage's ``details.uncovered``), file names that are not UTF-8 or hold control
and bidirectional characters, nested details of every JSON type. Its golden outputs
(``golden/big.*``) were written by the renderers before they were made fast; the fast ones
must give the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gatekeeper.model import Annotation, RuleResult, Severity, Status
from gatekeeper.report import Report

SHA = "0123456789abcdef0123456789abcdef01234567"
HOSTILE_NAMES = [
    "src/caf\udce9.py",  # Latin-1 bytes: not UTF-8, decoded with surrogateescape
    "src/\x1b[2J\n::error::pwned.py",  # ESC and a line break that would start a workflow command
    "src/\u202eyp.exe",  # a right-to-left override
    "src/\ud83d\ude00 lone pair.py",  # two lone surrogates that look like an emoji when escaped
    "src/emoji 😀 and \u2028 separator.py",
    'src/quote " backslash \\ tab \t.py',
]


def _lines(seed: int, count: int) -> list[int | str]:
    """Line numbers and ``"a-b"`` ranges, as ``details.uncovered`` lists them."""
    out: list[int | str] = []
    line = seed % 7 + 1
    for i in range(count):
        if i % 5 == 3:
            out.append(f"{line}-{line + 2}")
            line += 3
        else:
            out.append(line)
        line += 2 + (i * seed) % 4
    return out


def _uncovered(files: int, per_file: int) -> list[dict[str, Any]]:
    names = [f"pkg/mod{i:04d}.py" for i in range(files)]
    for i, hostile in enumerate(HOSTILE_NAMES):
        names[(i * 7 + 3) % files] = hostile
    return [{"path": name, "lines": _lines(i, per_file)} for i, name in enumerate(names)]


def _details(files: int, per_file: int) -> dict[str, Any]:
    return {
        "total_percent": 69.9,
        "line_percent": 69.91234567890123,
        "branch_percent": None,
        "lines_valid": 123456,
        "diff_missing": 18988,
        "ratios": [0.1, 1e-07, 1e21, -0.0, 3.0],
        "flags": [True, False, None, 0, 1],
        "files_missing_from_report": [],
        "files_measured_nothing": [HOSTILE_NAMES[0], HOSTILE_NAMES[1]],
        "files_without_code": {},
        "uncovered": _uncovered(files, per_file),
        "nested": {"a": {"b": [[1, 2, [3, {"c": "\udcff"}]], {}, [], {"d": []}]}},
        "by_line": {7: "seven", 8: [1, 2]},  # int keys become strings
        "as_tuple": (1, "two", 3.0),
        "reports": [{"path": "coverage.xml", "format": "cobertura", "files": 666}],
        "failing_tests": [
            {"test": f"tests/{name}::test_{i}", "outcome": "failure", "message": f"boom {name}"}
            for i, name in enumerate(HOSTILE_NAMES)
        ],
    }


def big_report(files: int = 60, per_file: int = 40) -> Report:
    hostile = [Annotation(name, i + 1, i + 3, f"not covered: {name}")
               for i, name in enumerate(HOSTILE_NAMES)]
    plain = [Annotation(f"pkg/mod{i:04d}.py", i, None, "changed line not covered")
             for i in range(1, 40)]
    results = [
        RuleResult(
            "smoke-tested",
            "smoke-coverage",
            Severity.BLOCK,
            Status.FAIL,
            f"diff coverage 70.1% (44492/63480 changed lines); first at {HOSTILE_NAMES[0]}",
            _details(files, per_file),
            f"cover these changed lines with smoke tests: {HOSTILE_NAMES[1]}:3",
            annotations=hostile + plain,
            annotations_total=4000,
        ),
        RuleResult(
            "freeze",
            "release-window",
            Severity.WARN,
            Status.WARN,
            "inside the freeze '\udcfe'",
            {"next_allowed": "2027-01-04T00:00+01:00", "windows": [[1, 2], [3, 4]]},
            "wait",
        ),
        RuleResult(
            "cve-fix",
            "release-window",
            Severity.BLOCK,
            Status.WAIVED,
            "waived \x07 bell",
            {"empty": [], "ints": list(range(500))},
            "release later",
            waiver={
                "state": "applied",
                "rule": "cve-fix",
                "reason": "CVE fix \udcff",
                "approved_by": "alice",
                "expires": "2026-12-25T00:00:00+00:00",
                "created": "2026-12-22T09:00:00+00:00",
                "scope": {"paths": ["src/\udce9/**"], "head": SHA},
                "source": "policies/prod.yml:30",
            },
        ),
        RuleResult("docs", "changelog", Severity.BLOCK, Status.PASS, "ok", {"count": 0}),
    ]
    return Report(
        policy_name="Prod \udcff release",
        policy_path="policies/prod.yml",
        policy_sha256="a" * 64,
        results=results,
        repo_path="/repo/\udce9",
        base=SHA,
        head=SHA[::-1],
        merge_base=SHA,
        branch="feature/\udcff\x1b",
        env="production",
        notes=["note with \udcff and \n newline"],
        generated_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
        rule_lines={"smoke-tested": 4},
        policy_repo_path="policies/prod.yml",
    )
