"""Read a large LCOV report on several cores, with the one-pass fast reader's result.

LCOV is a sequence of records, each ended by an ``end_of_record`` line, and the fast
reader reads each record on its own: so the file is cut just after ``end_of_record``
lines into one part per core. This process reads the first part; a forked worker
(``parallel.split_work``: signals blocked, reaped whatever happens) reads each
other part from the open file (``os.pread``) as the one-pass reader would go on after an
``end_of_record``, decodes its tables and branch arrays and sends them back.

Parts join only where that is provably the one pass: each but the last must end right
after its ``end_of_record`` (a record cut in two fails this), the last must end as the
file may, and no source file may have records in two parts (the one pass merges those).
Anything else, a worker that fails, or a part with more table than text (a hostile
report's line numbers: the one pass keeps no copies of its tables), and the report is
read in one pass, which decides.
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any

from gatekeeper.evidence.coverage_formats import (
    LazyLines,
    ParsedReport,
    _budget,
    _charge,
    lcov_fast,
    table,
)
from gatekeeper.evidence.coverage_formats.lcov_fast import (
    _END,
    ReportFormatError,
    _PendingBranches,
    _Reader,
    _Unusual,
    kept_run,
    read_records,
)
from gatekeeper.evidence.coverage_formats.parallel import (
    FilePart,
    add_branches,
    cuts,
    file_finder,
    sent_branches,
    split_work,
)

Kept = tuple[bytes, int, int, int]
"""A kept DA run: its text, top line, missed and covered lines."""
Pending = tuple[str, bytes | None, bytes | None, tuple[int, int]]
"""A file's branches not built yet: name, BRDA run or compact array bytes, their counts."""
Part = tuple[list[tuple[str, Kept | bytes | bytearray]], list[tuple[str, bytes, bytes]],
             list[Pending], int]
"""What a worker sends back: files (name, kept run or table), built branches (name,
totals, covered, as 16-bit arrays' bytes), pending branches, the line-table budget used."""

_CUT = _END + b"\n"


def read(path: Path, fd: int, size: int, parts: int) -> _Reader | None:
    """The reader of the open file ``fd`` (``size`` bytes) cut into up to ``parts`` read
    side by side; ``None`` if the parts do not provably make the one-pass result."""

    # Just after the end_of_record: the next part starts with its "\n", as records do.
    bounds = [0, *cuts(size, parts, file_finder(fd, _CUT, after=len(_END))), size]
    if len(bounds) < 3:
        return None
    keep = lcov_fast.KEEP
    share = keep - keep // (len(bounds) - 1)  # runs already "kept": room for a share
    reader = _Reader(ParsedReport(path, "lcov"))
    reader.kept = share

    def own() -> bool:
        return read_records(reader, FilePart(fd, 0, bounds[1]).read, last=False)

    def work(start: int, stop: int, last: bool) -> Part | None:
        return _part(path, fd, start, stop, last, share, (stop - start) / size)

    try:
        if not split_work(bounds, own, work, lambda part: _join(reader, part)):
            return None
    except ReportFormatError:
        # Out of line-table budget here is not the one pass's answer: a worker sees the
        # whole budget, not what the parts before it leave, and may keep a BRDA run (charged
        # for every line its digits allow) where the one pass would build a compact array.
        return None
    return reader


def _part(
    path: Path, fd: int, start: int, stop: int, last: bool, kept: int, fraction: float = 1.0
) -> Part | None:
    """Read one part as the one-pass reader would after an ``end_of_record`` (``kept``:
    bytes of runs to count as kept already), with ``fraction`` of the line-table budget
    left; ``None`` if it does not end where the next part starts (or as the file may) or
    is unusual."""
    budget = _budget.get(None)
    if budget is not None:
        # Its part's share: workers read at the same time, and each with the whole budget
        # could hold that much in tables at once (a multiple of the one pass's memory).
        budget[0] = int(budget[0] * fraction)
    left = budget[0] if budget is not None else 0
    reader = _Reader(ParsedReport(path, "lcov"))
    reader.kept = kept
    part = FilePart(fd, start, None if last else stop)
    try:
        if not read_records(reader, part.read, first=False, last=last):
            return None
        if not last and part.pos != stop:
            return None  # the file ended before the part did
        files, tables = _files(reader)
        pending, branches = _branches(reader.report)
    except (_Unusual, ReportFormatError, ValueError, OverflowError):
        return None
    # More table than text: a hostile report's line numbers; the one pass makes no copies.
    if tables + sum(2 * len(total) for _, total, _ in branches) > stop - start:
        return None
    used = left - budget[0] if budget is not None else 0
    return files, branches, pending, used


def _branches(report: ParsedReport) -> tuple[list[Pending], list[tuple[str, bytes, bytes]]]:
    """Each file's branches not built yet, as kept; the others' arrays."""
    pending: list[Pending] = []
    built = ParsedReport(report.path, report.format)
    for name, found in report.branches.items():
        if isinstance(found, _PendingBranches) and found.known is not None:
            sparse = found.sparse.tobytes() if found.sparse is not None else None
            pending.append((name, found.run, sparse, found.known))
        else:
            built.branches[name] = found
    return pending, sent_branches(built)


def _files(reader: _Reader) -> tuple[list[tuple[str, Kept | bytes | bytearray]], int]:
    """Each file's kept run, or its table; and how many bytes the tables are."""
    files: list[tuple[str, Kept | bytes | bytearray]] = []
    tables = 0
    for name, lines in reader.report.files.items():
        if isinstance(lines, LazyLines) and name in reader.runs:
            files.append((name, (reader.runs[name], reader.tops[name], lines.missed,
                                 lines.covered)))
        else:
            found = table(lines)
            tables += len(found)
            files.append((name, found))
    return files, tables


def _join(reader: _Reader, part: Any) -> bool:
    """Add a worker's part to what ``reader`` read; ``False`` if a file of it was in an
    earlier part (the one-pass reader merges those)."""
    files, branches, pending, used = part
    report = reader.report
    for k, (name, lines) in enumerate(files):
        if name in report.files:
            return False
        if isinstance(lines, tuple):
            text, top, missed, covered = lines
            report.files[name] = kept_run(text, top, missed, covered)
        else:
            report.files[name] = bytearray(lines)
            files[k] = (name, b"")  # its copy is the table now: no need for both
    add_branches(report, branches)
    for name, run, sparse, known in pending:
        found = report.branches[name] = _PendingBranches()
        found.run, found.known = run, tuple(known)
        found.sparse = array("I", sparse) if sparse is not None else None
    _charge(used)
    return True
