"""coverage.py's JSON report (``coverage json``, format 2 and 3).

``files.<path>.executed_lines`` are covered, ``missing_lines`` measured and not
covered; excluded lines are not measured. Read whole (the stdlib has no streaming JSON);
the JSON report is a fraction of the Cobertura report's size for the same run.

Reading whole costs memory: about 9 times the file's size for a real report, over 20
times for hostile JSON made of empty containers. So the size is bounded here, in one
place (``read_json``), until a streaming reader replaces it: past ``max_bytes()`` the
report is refused with a clear error, and the Cobertura XML of the same run (streamed,
any size) is the way out.
"""

from __future__ import annotations

import json
import os
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

DEFAULT_MAX_MB = 32
"""The largest coverage.py JSON read by default (MiB): ~300 MB of memory for a real report."""


def max_bytes() -> int:
    """The size limit: ``GATEKEEPER_MAX_JSON_REPORT_MB`` or ``DEFAULT_MAX_MB`` MiB."""
    try:
        mb = float(os.environ.get("GATEKEEPER_MAX_JSON_REPORT_MB") or DEFAULT_MAX_MB)
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * (1 << 20))


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def _too_big(path: Path, size: int, limit: int) -> EvidenceError:
    return EvidenceError(
        f"{path}: coverage.py JSON of {_size(size)} is over the {_size(limit)} limit "
        "(reading it whole needs about 9 times its size in memory)",
        "give the Cobertura XML of the same run instead (`coverage xml`: streamed, no limit), "
        "or raise GATEKEEPER_MAX_JSON_REPORT_MB",
    )


def read_json(path: Path) -> ParsedReport:
    limit = max_bytes()
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise _too_big(path, size, limit)
            raw = f.read(limit + 1)  # a file that grows (or lies about its size) stops here
        if len(raw) > limit:
            raise _too_big(path, len(raw), limit)
        data = json.loads(raw)
    except RecursionError:
        raise EvidenceError(f"{path}: JSON nested too deeply for a coverage report") from None
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
