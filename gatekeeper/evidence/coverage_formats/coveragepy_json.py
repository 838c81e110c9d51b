"""coverage.py's JSON report (``coverage json``, format 2 and 3).

``files.<path>.executed_lines`` are covered, ``missing_lines`` measured and not
covered; excluded lines are not measured. Read whole (the stdlib has no streaming JSON);
the JSON report is a fraction of the Cobertura report's size for the same run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MISSED,
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
    return report


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
