"""coverage.py's JSON report (``coverage json``, format 2 and 3).

``files.<path>.executed_lines`` are covered, ``missing_lines`` measured and not
covered; excluded lines are not measured. With branch coverage, ``executed_branches``
and ``missing_branches`` are ``[from, to]`` arcs: each is a branch of line ``from``
(a report without them but with ``summary.num_branches`` gives the file's counts only).
``meta.timestamp`` is when it was made (coverage.py writes local time). Read whole (the stdlib has no streaming JSON);
the JSON report is a fraction of the Cobertura report's size for the same run.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MISSED,
    Branches,
    ParsedReport,
    ReportFormatError,
    mark,
)


def read_json(path: Path) -> ParsedReport:
    try:
        with path.open("rb") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise EvidenceError(
            f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{path}: not UTF-8 JSON") from None
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror or e}") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise EvidenceError(
            f"{path}: JSON without a 'files' object; not a coverage.py JSON report "
            "(make one with `coverage json`)"
        )
    report = ParsedReport(path, "coverage.py-json")
    for name, entry in files.items():
        report.files[name] = _lines(path, name, entry)
        try:
            _branches(report, name, entry)
        except ReportFormatError as e:
            raise EvidenceError(f"{path}: files[{name!r}]: {e}") from None
    _timestamp(report, data.get("meta"))
    return report


def _branches(report: ParsedReport, name: str, entry: dict[str, Any]) -> None:
    arcs = {key: entry.get(key) for key in ("executed_branches", "missing_branches")}
    if all(v is None for v in arcs.values()):
        summary = entry.get("summary")
        summary = summary if isinstance(summary, dict) else {}
        total, covered = summary.get("num_branches"), summary.get("covered_branches", 0)
        if total:
            if not (_count(total) and _count(covered)):
                raise ReportFormatError("summary.num_branches/covered_branches are not counts")
            # No arcs: the file's counts only, kept at line 0 (no line of its own).
            report.branches_of(name).add(0, int(total), int(covered))
        return
    counts: dict[int, list[int]] = {}
    for key, value in arcs.items():
        if not isinstance(value, list) or not all(_arc(a) for a in value):
            raise ReportFormatError(f"{key} must be a list of [from, to] line pairs")
        for start, _ in value:
            pair = counts.setdefault(start, [0, 0])
            pair[0] += 1
            pair[1] += key == "executed_branches"
    if counts:
        branches: Branches = report.branches_of(name)
        for line, (total, covered) in counts.items():
            branches.add(line, total, covered)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _arc(value: Any) -> bool:
    """``[from, to]``: ``from`` a line number, ``to`` a line or a negative exit."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        and value[0] > 0
    )


def _timestamp(report: ParsedReport, meta: Any) -> None:
    stamp = meta.get("timestamp") if isinstance(meta, dict) else None
    if not isinstance(stamp, str):
        return
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return
    # coverage.py writes the local time without an offset: the machine's own zone.
    report.timestamp = when.timestamp()
    report.timestamp_source = "meta.timestamp"


def _lines(path: Path, name: str, entry: Any) -> bytearray:
    if not isinstance(entry, dict):
        raise EvidenceError(f"{path}: files[{name!r}] is not an object")
    lines = bytearray()
    for key, state in (("missing_lines", MISSED), ("executed_lines", COVERED)):
        numbers = entry.get(key)
        if not isinstance(numbers, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in numbers
        ):
            raise EvidenceError(
                f"{path}: files[{name!r}].{key} must be a list of positive line numbers"
            )
        try:
            for n in numbers:
                mark(lines, n, state)
        except ReportFormatError as e:
            raise EvidenceError(f"{path}: files[{name!r}].{key}: {e}") from None
    return lines
