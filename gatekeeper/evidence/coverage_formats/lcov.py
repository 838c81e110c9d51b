"""LCOV tracefiles (``geninfo``, c8/nyc/Jest, coverage.py ``coverage lcov``, grcov, ...).

Line coverage is the ``DA:<line>,<hits>[,<checksum>]`` records of each
``SF:`` ... ``end_of_record`` block; a line is covered when its count is positive. A
count must be a finite number >= 0 (``nan``, ``inf`` or ``-1`` is a broken producer, not
a line that ran). Branches are the ``BRDA:<line>,<block>,<branch>,<taken>`` records: one
branch each, covered when ``taken`` is a positive count (``-``: its line never ran).
Other directives (functions, summaries, MC/DC, producer extensions) are accepted and
ignored; a line that is not a directive at all is an error, because a report that
cannot be read exactly must not be half-read.

Reports of the common shape go through ``lcov_fast`` (a few C-level passes per record);
it steps aside for anything it cannot account for, and ``read_lcov_lines`` below, one line
at a time, gives the same figures or the precise error.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MISSED,
    Branches,
    ParsedReport,
    ReportFormatError,
    mark,
)

_DIRECTIVE = re.compile(r"[A-Z][A-Z0-9_]*:")


def read_lcov(path: Path) -> ParsedReport:
    """The fast reader's result when it can account for every line, else the careful
    reader's (with the line-table budget the fast one used given back)."""
    from gatekeeper.evidence.coverage_formats import _budget
    from gatekeeper.evidence.coverage_formats.lcov_fast import read_fast

    budget = _budget.get(None)
    left = budget[0] if budget is not None else 0
    fast = read_fast(path)
    if fast is not None:
        return fast
    if budget is not None:
        budget[0] = left
    return read_lcov_lines(path)


def read_lcov_lines(path: Path) -> ParsedReport:
    """The careful reader: one line at a time, every error with its line number."""
    report = ParsedReport(path, "lcov")
    lines: bytearray | None = None
    branches: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    number = 0
    try:
        with path.open(encoding="utf-8", errors="strict") as f:
            for number, raw in enumerate(f, 1):  # noqa: B007 - number is read after the loop
                text = raw.strip()
                if text.startswith("DA:"):
                    if lines is None:
                        raise _Bad("DA record outside an SF: ... end_of_record block")
                    fields = text[3:].split(",")
                    if len(fields) not in (2, 3):
                        raise _Bad(f"malformed DA record {text!r}")
                    count = _count(fields[1], text)
                    mark(lines, int(fields[0]), MISSED if count == 0 else COVERED)
                elif text.startswith("BRDA:"):
                    if lines is None:
                        raise _Bad("BRDA record outside an SF: ... end_of_record block")
                    # The branch's name may hold commas (coverage.py: "jump to line 3").
                    head, _, taken = text[5:].rpartition(",")
                    line = int(head.split(",", 1)[0]) if head.count(",") >= 2 else -1
                    if line < 1:
                        raise _Bad(f"malformed BRDA record {text!r}")
                    counts = branches[line]
                    counts[0] += 1
                    if taken != "-" and _count(taken, text) > 0:
                        counts[1] += 1
                elif text.startswith("SF:"):
                    name = text[3:].strip()
                    if not name:
                        raise _Bad("SF record without a file name")
                    lines = report.lines_of(name)
                elif text == "end_of_record":
                    if lines is None:
                        raise _Bad("end_of_record without an SF record")
                    if branches:
                        _add_branches(report.branches_of(name), branches)
                        branches.clear()
                    lines = None
                elif not text or text.startswith("#") or _DIRECTIVE.match(text):
                    continue
                else:
                    raise _Bad(f"not an LCOV record: {text[:60]!r}")
    except (_Bad, ReportFormatError) as e:
        raise EvidenceError(f"{path}: line {number}: {e}") from None
    except UnicodeDecodeError:  # a ValueError too: caught first
        raise EvidenceError(f"{path}: line {_not_utf8(path)}: not UTF-8 text") from None
    except ValueError as e:  # int()/float() of a bad number, or a bad line number
        raise EvidenceError(f"{path}: line {number}: bad number in LCOV record: {e}") from None
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror or e}") from None
    if lines is not None:
        raise EvidenceError(
            f"{path}: ends inside the record of {name!r} (no end_of_record); truncated?"
        )
    if not report.files:
        raise EvidenceError(f"{path}: LCOV report has no SF (source file) records")
    return report


def _not_utf8(path: Path) -> int:
    """The number of the first line that is not UTF-8 (text is decoded ahead of the line
    being read, so the line the reader was at says nothing)."""
    number = 0
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):  # noqa: B007 - number is read after the loop
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                break
    return number


def _count(text: str, record: str) -> float:
    """An execution count: digits, or a finite non-negative number (some producers write
    large counts as ``1.5e+06``)."""
    if text.isdigit():
        return int(text)
    value = float(text)  # ValueError for anything that is not a number at all
    if not math.isfinite(value) or value < 0:
        raise _Bad(f"count {text!r} in {record!r} is not a finite number >= 0")
    return value


def _add_branches(target: Branches, counts: dict[int, list[int]]) -> None:
    for line, (total, covered) in counts.items():
        target.add(line, total, covered)


class _Bad(Exception):
    pass
