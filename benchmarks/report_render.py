"""Benchmark: what writing the report costs on a large change (issue 14, output path).

    python benchmarks/report_render.py [--files 666] [--lines 21] [--runs 15]

Builds a report shaped like smoke-coverage's on a large change: ``details.uncovered`` with
``--files`` entries of ``--lines`` line numbers and ranges each (the defaults give ~14,000,
the compact benchmark case's figure), 100 annotations. Times, in this process, the printable
check and each format's renderer (median wall and CPU of ``--runs``), then the CLI's output
step for ``check --format json --output json=FILE`` (``Rendered``: one JSON render shared by
standard output and the file, no Markdown without a job summary). Asserts that the JSON is
byte for byte ``json.dumps(report, indent=2)``, the encoder it replaced. Run by hand:
timings belong to a quiet machine, not to a unit test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatekeeper.model import Annotation, RuleResult, Severity, Status  # noqa: E402
from gatekeeper.report import RENDERERS, Rendered, Report, _printable  # noqa: E402


def big_report(files: int, lines: int) -> Report:
    uncovered = []
    for f in range(files):
        row: list[int | str] = []
        line = 1 + f % 5
        for i in range(lines):
            row.append(f"{line}-{line + 1}" if i % 4 == 1 else line)
            line += 3 + i % 3
        uncovered.append({"path": f"pkg/sub{f // 50}/module{f:04d}.py", "lines": row})
    details = {
        "diff_lines": 63480,
        "diff_covered": 44492,
        "diff_percent": 70.09,
        "files_missing_from_report": [],
        "uncovered": uncovered,
        "reports": [{"path": "coverage.xml", "format": "cobertura", "files": files}],
    }
    places = [Annotation(u["path"], 3, 4, "changed lines not covered") for u in uncovered[:100]]
    result = RuleResult("smoke-tested", "smoke-coverage", Severity.BLOCK, Status.WARN,
                        "diff coverage 70.1% (44492/63480 changed lines)", details,
                        "cover these changed lines", annotations=places,
                        annotations_total=files * lines)
    return Report("policy", "policy.yml", "0" * 64, [result], "/repo",
                  generated_at=datetime(2026, 11, 25, tzinfo=UTC))


def cli_output(report: Report) -> tuple[str, str]:
    """What ``check --format json --output json=FILE`` renders: standard output and the file."""
    rendered = Rendered(report)
    return rendered["json"], rendered["json"]


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(runs):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=666)
    parser.add_argument("--lines", type=int, default=21)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    report = big_report(args.files, args.lines)
    expected = json.dumps(_printable(report).to_dict(), indent=2, default=str) + "\n"
    assert Rendered(report)["json"] == expected, "JSON differs from json.dumps(indent=2)"
    entries = sum(len(u["lines"]) for u in report.results[0].details["uncovered"])
    print(f"{args.files} files, {entries} uncovered entries, JSON {len(expected):,} bytes; "
          f"median of {args.runs}")
    print(f"{'step':<40}{'wall ms':>9}{'CPU ms':>9}")
    rows: list[tuple[str, Callable[[], object]]] = [
        ("printable check", lambda: _printable(report)),
        *((f"render {fmt}", lambda fmt=fmt: RENDERERS[fmt](_printable(report)))
          for fmt in RENDERERS),
        ("json.dumps(indent=2) (the old encoder)",
         lambda: json.dumps(report.to_dict(), indent=2, default=str)),
        ("--format json --output json=FILE", lambda: cli_output(report)),
    ]
    for name, fn in rows:
        wall, cpu = timed(fn, args.runs)
        print(f"{name:<40}{wall:>9.2f}{cpu:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
