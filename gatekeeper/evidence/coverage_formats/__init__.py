"""Readers for coverage report formats.

Each reader turns one report file into a ``ParsedReport``: for every source file the
report names (as the report spells it), a ``bytearray`` indexed by line number where
0 = not measured, 1 = measured and not covered, 2 = covered. Merging is then ``max``
per line, and counting is ``bytearray.count`` (C speed, a byte per source line).
The format is detected from the content, never from the file name.

Branch data, where a report has it, sits beside the lines as ``Branches``: per line,
how many branches start there and how many of them ran, in two arrays of 16-bit counts
indexed like the line bytearray (only files with branches have one).
"""

from __future__ import annotations

import os
import stat
from array import array
from collections import deque
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from operator import le
from pathlib import Path
from typing import overload

from gatekeeper.errors import EvidenceError

NOT_MEASURED, MISSED, COVERED = 0, 1, 2
MAX_LINE = 1_000_000
"""Larger line numbers are refused: each costs a byte per line below it, and no real
source file is that long (SQLite's amalgamation, a famous giant, is ~260,000 lines)."""

# Bytes of line tables a report may still make its reader allocate. A tiny report could
# otherwise name 10,000 files at line 999,999 each and ask for 10 GB.
_budget: ContextVar[list[int]] = ContextVar("coverage_line_budget")


class ReportFormatError(ValueError):
    """A report's content is not what its format requires (message is user-facing)."""


class LazyLines:
    """A file's line states, decoded only when somebody looks at a line.

    A fast reader that has proved a file's part of the report well formed (and its line
    numbers distinct) knows how many lines are measured and covered without building the
    table; most files of a report are only ever counted (the total), a few are looked up
    line by line (the changed ones). ``count`` of MISSED/COVERED answers from the counts;
    anything else decodes once and keeps the table.
    """

    __slots__ = ("_decode", "_lookup", "_table", "covered", "missed")

    def __init__(
        self,
        missed: int,
        covered: int,
        decode: Callable[[], bytearray],
        lookup: Callable[[Sequence[int]], bytes] | None = None,
    ) -> None:
        self.missed = missed
        self.covered = covered
        self._decode: Callable[[], bytearray] | None = decode
        self._lookup = lookup
        self._table: bytearray | None = None

    def states(self, numbers: Sequence[int]) -> bytes:
        """The state of each of ``numbers``, without building the table if the reader can
        look lines up directly (a changed file is asked about its added lines only)."""
        if self._table is None and self._lookup is not None:
            return self._lookup(numbers)
        return states(self.table(), numbers)

    def table(self) -> bytearray:
        if self._table is None:
            assert self._decode is not None
            self._table = self._decode()
            self._decode = None  # the raw block is no longer needed
        return self._table

    def count(self, state: int) -> int:
        if state == MISSED:
            return self.missed
        if state == COVERED:
            return self.covered
        return self.table().count(state)

    def __len__(self) -> int:
        return len(self.table())

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> bytearray: ...
    def __getitem__(self, index: int | slice) -> int | bytearray:
        return self.table()[index]

    def __bytes__(self) -> bytes:
        return bytes(self.table())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyLines):
            other = other.table()
        return self.table() == other

    __hash__ = None  # type: ignore[assignment]


Lines = bytearray | LazyLines
"""A file's line states: a table indexed by line number, or one still to be decoded."""


def table(lines: Lines) -> bytearray:
    """The line-state table of ``lines`` (decoded if it was not yet)."""
    return lines.table() if isinstance(lines, LazyLines) else lines


def states(lines: Lines, numbers: Sequence[int]) -> bytes:
    """The state of each of ``numbers`` (0 past the end of the table), at C speed."""
    if isinstance(lines, LazyLines):
        return lines.states(numbers)
    if not numbers:
        return b""
    top = max(numbers)
    if top >= len(lines):
        lines = lines + bytes(top + 1 - len(lines))
    return bytes(map(lines.__getitem__, numbers))


def counts(lines: Lines) -> tuple[int, int]:
    """(measured lines not covered, covered lines), without decoding a lazy table."""
    return lines.count(MISSED), lines.count(COVERED)


@dataclass
class ParsedReport:
    path: Path
    format: str
    """``cobertura``, ``jacoco``, ``lcov`` or ``coverage.py-json``."""
    files: dict[str, Lines] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    """Directories the report says its file names are relative to (Cobertura ``<source>``)."""
    branches: dict[str, Branches] = field(default_factory=dict)
    """Branch counts per file (same keys as ``files``), for files the report gives them."""
    timestamp: float | None = None
    """When the report says it was made (seconds since the epoch), if it says so."""
    timestamp_source: str = ""
    """Where ``timestamp`` came from (``timestamp`` attribute, ``meta.timestamp``)."""

    def lines_of(self, name: str) -> bytearray:
        """The line table of file ``name``, new and empty if the report had no such file."""
        found = self.files.get(name)
        if found is None:
            found = self.files[name] = bytearray()
        elif isinstance(found, LazyLines):
            found = self.files[name] = found.table()
        return found

    def branches_of(self, name: str) -> Branches:
        found = self.branches.get(name)
        if found is None:
            found = self.branches[name] = Branches()
        return found


MAX_BRANCHES = 0xFFFF
"""Branches starting on one line: a 16-bit count (a C ``switch`` with 300 cases is 300)."""


class Branches:
    """One file's branches: ``total[n]`` start on line ``n``, ``covered[n]`` of them ran.

    Two ``array('H')`` indexed by line, like the line bytearray: 4 bytes per source line,
    summed at C speed. Index 0 holds branches a report gives only per file (no line).
    """

    __slots__ = ("covered", "total")

    def __init__(self) -> None:
        self.total: array[int] = array("H")
        self.covered: array[int] = array("H")

    def add(self, line: int, total: int, covered: int) -> None:
        """Record ``covered`` of ``total`` branches on ``line``; a line seen twice keeps
        the larger counts (the same branches, from another class or run)."""
        if line < 0:
            raise ValueError(f"line number {line} is negative")
        if not 0 <= covered <= total:
            raise ReportFormatError(f"{covered} of {total} branches covered is impossible")
        if total > MAX_BRANCHES:
            raise ReportFormatError(f"{total} branches on one line is beyond any real code")
        size = len(self.total)
        if line >= size:
            if line > MAX_LINE:
                raise ReportFormatError(f"line number {line} is beyond any real source file")
            grow = max(line + 1 - size, size, 16)
            _charge(4 * grow)
            zeros = array("H", bytes(2 * grow))
            self.total.extend(zeros)
            self.covered.extend(zeros)
        if total > self.total[line]:
            self.total[line] = total
        if covered > self.covered[line]:
            self.covered[line] = covered

    def fill(self, lines: Sequence[int], total: Sequence[int], covered: Sequence[int]) -> None:
        """``add`` for each line at once, into a table that has none yet, for lines a
        reader has proved distinct: the stores run in C. Anything ``add`` would refuse (or
        a table already in use) goes through ``add``, which says why."""
        if (
            self.total
            or not lines
            or min(lines) < 0
            or max(lines) > MAX_LINE
            or max(total) > MAX_BRANCHES
            or not all(map(le, covered, total))
        ):
            for line, t, c in zip(lines, total, covered, strict=True):
                self.add(line, t, c)
            return
        size = max(lines) + 1
        # What ``add`` line by line could have charged: its arrays grow geometrically, to
        # up to twice the top line (4 bytes a line), and at least 16 lines.
        _charge(8 * size + 64)
        self.total = array("H", bytes(2 * size))
        self.covered = array("H", bytes(2 * size))
        deque(map(self.total.__setitem__, lines, total), maxlen=0)
        deque(map(self.covered.__setitem__, lines, covered), maxlen=0)

    def counts(self) -> tuple[int, int]:
        """(branches, covered branches) over the whole file."""
        return sum(self.total), sum(self.covered)

    def merged(self, other: Branches) -> Branches:
        """Per line the larger counts: never more covered branches than one report saw."""
        out = Branches()
        a, b = (self, other) if len(self.total) >= len(other.total) else (other, self)
        out.total, out.covered = array("H", a.total), array("H", a.covered)
        for n in range(len(b.total)):
            if b.total[n] > out.total[n]:
                out.total[n] = b.total[n]
            if b.covered[n] > out.covered[n]:
                out.covered[n] = b.covered[n]
        return out


def _charge(grow: int) -> None:
    """Take ``grow`` bytes from the run's line-table budget (see ``_budget``)."""
    budget = _budget.get(None)
    if budget is not None:
        budget[0] -= grow
        if budget[0] < 0:
            raise ReportFormatError(
                "its line numbers would need more memory than a report of its size "
                "can plausibly describe"
            )


def mark(lines: bytearray, number: int, state: int) -> None:
    """Record ``state`` for line ``number``, keeping the strongest state seen."""
    if number < 1:
        raise ValueError(f"line number {number} is not positive")
    size = len(lines)
    if number >= size:
        if number > MAX_LINE:
            raise ReportFormatError(f"line number {number} is beyond any real source file")
        # Grow geometrically: reports list lines in ascending order, one at a time.
        grow = max(number + 1 - size, size)
        _charge(grow)
        lines.extend(bytes(grow))
    if state > lines[number]:
        lines[number] = state


def read_report(path: Path) -> ParsedReport:
    """Read one coverage report of any supported format."""
    try:
        head, size = read_head(path)
    except FileNotFoundError:
        raise EvidenceError(f"{path}: coverage report not found") from None
    except IsADirectoryError:
        raise EvidenceError(f"{path}: is a directory, not a coverage report") from None
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read coverage report: {e.strerror or e}") from None
    token = _budget.set([max(64 << 20, 8 * size)])
    try:
        return _read(path, sniff(head))
    finally:
        _budget.reset(token)


def read_head(path: Path) -> tuple[bytes, int]:
    """The first 4,096 bytes of the regular file ``path`` (a report) and its size. Opened
    without blocking: a FIFO (which a change's tests can leave where the report should
    be) would otherwise wait for a writer for ever; it and any other file that is not a
    regular one (a device, a socket) is an ``EvidenceError``."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        found = os.fstat(fd)
        if stat.S_ISDIR(found.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(found.st_mode):
            raise EvidenceError(f"{path}: not a regular file (a FIFO, device or socket)")
        return os.read(fd, 4096), found.st_size
    finally:
        os.close(fd)


def _read(path: Path, kind: str) -> ParsedReport:
    if kind == "empty":
        raise EvidenceError(f"{path}: coverage report is empty")
    if kind == "binary":
        raise EvidenceError(
            f"{path}: binary data, not a coverage report (expected Cobertura or JaCoCo XML, "
            "coverage.py JSON or LCOV; a .coverage data file must be exported with "
            "`coverage xml`, `coverage json` or `coverage lcov`)"
        )
    if kind == "xml":
        from gatekeeper.evidence.coverage_formats.xmlreports import read_xml

        return read_xml(path)
    if kind == "json":
        from gatekeeper.evidence.coverage_formats.coveragepy_json import read_json

        return read_json(path)
    if kind == "lcov":
        from gatekeeper.evidence.coverage_formats.lcov import read_lcov

        return read_lcov(path)
    raise EvidenceError(
        f"{path}: not a coverage report format Gatekeeper knows (expected Cobertura or "
        "JaCoCo XML, coverage.py JSON or LCOV)"
    )


def sniff(head: bytes) -> str:
    """Classify a file from its first bytes: xml, json, lcov, binary, empty or unknown."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    stripped = head.lstrip()
    if not stripped:
        return "empty"
    if b"\0" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        # A multi-byte character cut at the 4096th byte is not binary.
        if e.start < len(head) - 4:
            return "binary"
    if stripped.startswith(b"<"):
        return "xml"
    if stripped.startswith(b"{"):
        return "json"
    first = stripped.split(b"\n", 1)[0].strip()
    if first.startswith((b"TN:", b"SF:", b"VER:")) or first == b"end_of_record":
        return "lcov"
    if b"\nSF:" in head or b"\nDA:" in head:
        return "lcov"
    return "unknown"
