"""A fast LCOV reader that proves it read every line, else steps aside.

LCOV producers (geninfo, ``coverage lcov``, c8/nyc, grcov, ...) write each source file as
a record: ``SF:<name>``, a run of ``DA:<line>,<count>[,<checksum>]`` lines, a run of
``BRDA:<line>,<block>,<branch>,<taken>`` lines, ``FN``/``LF``/``LH`` summaries and
``end_of_record``. This reader takes the file in chunks of whole records and reads each
record with a few C-level passes instead of a Python call per line: one ``translate``
proves the shape of the DA lines and one JSON read gives all their numbers. A run whose
line numbers are distinct (a ``set``) is kept undecoded as ``LazyLines``: its counts are
the run's lines and its ``,0`` counts, its table is built (or a few lines looked up)
only when a rule asks; past ``KEEP`` bytes of kept runs, or for a run not provably
simple (a repeated line, a file in two records), one tight loop stores the numbers now.
A file's branches are counted with C-level counts (a BRDA line is one branch, taken
unless its count is ``0`` or ``-``); their per-line arrays, 4 bytes a source line, are
built only when a rule looks at the file (``_PendingBranches``), from the BRDA run itself
or, past ``KEEP`` bytes of runs, from a compact array of the lines that have branches.

It only returns figures when it has accounted for every line of the file: each is a DA
line of exactly that shape (digits, no sign, no leading zero, no space), a well-formed
BRDA line, another directive the careful reader ignores, a comment or an empty line, the
file is UTF-8 without carriage returns, every record has one ``SF`` and ends with
``end_of_record``. Anything else (a count like ``1.5e+03``, spaces, ``SF`` given twice in
one record, a truncated file, a line number beyond any source file, a table the memory
budget might refuse) returns ``None``: the caller reads the file again with the careful
line-by-line reader, which gives the same figures or the precise error. It never turns a
malformed report into numbers. Tables are charged to the line-table budget when their
record is read, built or not, so a report the careful reader refuses for its line
numbers is refused here too.
"""

from __future__ import annotations

import json
import os
import re
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from itertools import repeat
from pathlib import Path
from typing import Any

from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MAX_BRANCHES,
    MAX_LINE,
    MISSED,
    NOT_MEASURED,
    Branches,
    LazyLines,
    ParsedReport,
    ReportFormatError,
    _budget,
    _charge,
)

CHUNK = 256 << 10
"""Bytes read at a time: small enough that the buffers are reused memory, not fresh pages
(1 MiB chunks cost a fresh process ~3,000 page faults on a 5.7 MB report, these ~2,000)."""
MAX_RECORD = 8 << 20
"""A record larger than this (no ``end_of_record`` in sight) is left to the careful reader:
memory stays bounded (SQLite's amalgamation, a famous giant of ~260,000 lines, is ~3 MB of
DA lines)."""
TINY, TINY_AFTER = 160, 1 << 20
"""Records shorter than ``TINY`` bytes on average over the first ``TINY_AFTER`` bytes (two or
three DA lines each) are left to the careful reader: this reader's cost per record (a few
microseconds) is then more than the careful reader's per line."""
PARALLEL_MIN = 2 << 20
"""A report at least this large is read on several cores, where there are some."""
KEEP = 16 << 20
"""Bytes of DA and BRDA runs kept for building tables and branch arrays later (a few
times what their tables take); past this, DA runs are decoded as they are read and a
file's branches are kept as a compact array of the lines that have some (12 bytes a
line), so memory stays bounded."""

_END = b"\nend_of_record"
_DIGITS = b"0123456789"
_DA_SHAPE = b"\nDA:,"
# Lines other than DA lines, each after its "\n": a BRDA line of the careful reader's
# shape (line number, at least two more fields, a count or "-" after the last comma), a
# directive it ignores (not DA, BRDA or SF), a comment or an empty line. Line numbers and
# counts have no leading zero and a bounded length, so the careful reader's int() takes
# every one of them, and one line is never spelled two ways.
# (The BRDA fields are taken whole and possessively: no backtracking.)
_OTHER = re.compile(
    rb"(?:\n(?:BRDA:[1-9][0-9]{0,6},(?:[^,\n]*+,){2,}+(?:0|[1-9][0-9]{0,17}|-)"
    rb"|(?!DA:|BRDA:|SF:)[A-Z][A-Z0-9_]*:[^\n]*|#[^\n]*|)(?=\n|\Z))*+"
)
# The same without BRDA lines: before SF, and around the DA and BRDA runs.
_NONDATA = re.compile(rb"(?:\n(?:(?!DA:|BRDA:|SF:)[A-Z][A-Z0-9_]*:[^\n]*|#[^\n]*|)(?=\n|\Z))*+")
# A run of BRDA lines as geninfo and coverage.py write them: four fields (a branch
# number or a name without commas third, "jump to line 5"), "-" for a branch whose line
# never ran, each of _OTHER's shape, line numbers of at most N digits (N = 1...6). (Each
# line's count ends where the next line's "\n" starts or the run ends: a longer count, or
# "0" followed by a digit, leaves something the next repetition cannot start with.)
_BRDA_RUNS = [
    re.compile(
        rb"(?:\nBRDA:[1-9][0-9]{0,%d}+,[0-9]*+,[^,\n]*+,(?:0|[1-9][0-9]{0,17}+|-))*+"
        % (digits - 1)
    )
    for digits in range(1, 7)
]
_AS_JSON = bytes.maketrans(b"\n", b",")
_JSON = json.JSONDecoder()
_DA_LINE = re.compile(rb"\nDA:[^\n]*")
_CHECKSUM = re.compile(rb",[^,\n]*(?=\n|\Z)")
# A BRDA line's number and its count after the last comma (the shape is proven by _OTHER).
_BRANCH = re.compile(rb"\nBRDA:([0-9]+),(?:[^,\n]*+,){2,}+([0-9]+|-)(?=\n|\Z)")
# A BRDA line's number; the same for a taken branch (a positive count after the last comma).
_BRANCH_LINE = re.compile(rb"\nBRDA:([0-9]+),")
_TAKEN_LINE = re.compile(rb"\nBRDA:([0-9]+),(?:[^,\n]*+,){2,}+[1-9]")
# A BRDA line number of at least N digits.
_DIGITS_AT_LEAST = [re.compile(rb"\nBRDA:[0-9]{%d}" % d) for d in range(8)]


class _Unusual(Exception):
    """Not (or not provably) the common shape: the careful reader decides."""


def read_fast(path: Path) -> ParsedReport | None:
    """The report, or ``None`` for the careful reader (which must start afresh)."""
    try:
        with path.open("rb") as f:
            reader = _in_parallel(path, f.fileno(), os.fstat(f.fileno()).st_size)
            if reader is None:
                reader = _Reader(ParsedReport(path, "lcov"))
                read_records(reader, f.read)
    except (_Unusual, ReportFormatError, ValueError, OverflowError, OSError):
        return None
    if not reader.report.files:
        return None
    return reader.report


def _in_parallel(path: Path, fd: int, size: int) -> _Reader | None:
    """The reader of a report large enough, read on several cores where this machine can
    (``lcov_parallel``, ``parallel.in_parallel``); ``None``: read it in one pass."""
    if size < PARALLEL_MIN:
        return None
    from gatekeeper.evidence.coverage_formats import lcov_parallel, parallel

    return parallel.in_parallel(lambda processes: lcov_parallel.read(path, fd, size, processes))


def read_records(
    reader: _Reader, read: Callable[[int], bytes], first: bool = True, last: bool = True
) -> bool:
    """Give ``reader`` the records of what ``read(CHUNK)`` returns until it returns
    nothing: the file from its start if ``first`` (else from just after an
    ``end_of_record``), to its end if ``last``. Whether that part ended right after an
    ``end_of_record`` (or, ``last``, with lines the careful reader ignores); ``_Unusual``
    for anything this reader leaves to the careful one."""
    # A "\n" before the first line: every line, the first too, follows one.
    buf = b"\n" if first else b""
    done = count = 0
    while chunk := read(CHUNK):
        if b"\r" in chunk:
            raise _Unusual  # a line break to the careful reader's text mode
        buf += chunk
        records = buf.split(_END)
        buf = records.pop()  # the unfinished record (or the tail)
        for record in records:
            reader.record(record)
        if len(buf) > MAX_RECORD:
            raise _Unusual
        before, done, count = done, done + len(chunk), count + len(records)
        if before < TINY_AFTER <= done and count * TINY > done:
            raise _Unusual  # records of a few lines: the careful reader is faster
    if last:
        _tail(buf)
        return True
    return not buf


def _tail(buf: bytes) -> None:
    """After the last end_of_record: only lines the careful reader ignores."""
    if not buf:
        return
    if buf[:1] != b"\n":
        raise _Unusual
    buf.decode("utf-8")
    if _OTHER.fullmatch(buf) is None or b"\nBRDA:" in buf:
        raise _Unusual


class _Reader:
    def __init__(self, report: ParsedReport) -> None:
        self.report = report
        self.kept = 0
        self.tops: dict[str, int] = {}
        """The top line number of each file whose DA run is kept undecoded."""
        self.runs: dict[str, bytes] = {}
        """The kept DA run of each such file (``_as_json``'s text)."""

    def record(self, record: bytes) -> None:
        """One record: "\\n"-led lines, from after the previous end_of_record to before
        its own (a line that only starts with "end_of_record" leaves something else than
        "\\n" at the start of the next)."""
        if record[:1] != b"\n":
            raise _Unusual
        if not record.isascii():
            record.decode("utf-8")  # UnicodeDecodeError is a ValueError
        sf = record.find(b"\nSF:")
        if sf < 0:
            raise _Unusual
        if _NONDATA.fullmatch(record, 0, sf) is None:
            raise _Unusual  # DA or BRDA before SF (an error), or a line it cannot account for
        eol = record.find(b"\n", sf + 4)
        if eol < 0:
            eol = len(record)
        name = record[sf + 4 : eol].decode("utf-8").strip()
        if not name:
            raise _Unusual
        if self._runs(name, record, eol):
            return
        body = record[eol:]
        if b"\nSF:" in body:
            raise _Unusual
        body, regions = self._lines(name, body)
        for start, end in regions:
            if _OTHER.fullmatch(body, start, end) is None:
                raise _Unusual
        if b"\nBRDA:" in body:
            self._branches(name, body, regions)

    def _runs(self, name: str, record: bytes, start: int) -> bool:
        """The layout every producer writes: the DA lines in one run, the BRDA lines in
        another (or none), ignorable lines around them. Read from ``start`` (after the SF
        line); ``False``, with nothing recorded, for any other layout."""
        end = len(record)
        da = record.find(b"\nDA:", start)
        if da >= 0:
            da_end = record.find(b"\n", record.rfind(b"\nDA:") + 1)
            if da_end < 0:
                da_end = end
            # The BRDA run after the DA run (coverage.py), else before it (geninfo).
            brda = record.find(b"\nBRDA:", da_end)
            if brda >= 0:
                brda_end = record.find(b"\n", record.rfind(b"\nBRDA:", brda) + 1)
            else:
                brda = record.find(b"\nBRDA:", start, da)
                # (Its last line ends at the next "\n", the DA run's at the latest.)
                brda_end = record.find(b"\n", record.rfind(b"\nBRDA:", start, da) + 1)
        else:
            da_end = da
            brda = record.find(b"\nBRDA:", start)
            brda_end = record.find(b"\n", record.rfind(b"\nBRDA:") + 1)
        if brda_end < 0:
            brda_end = end
        # Everything else, around the runs, must be lines the careful reader ignores (a
        # BRDA line among the DA lines fails the DA run's proof, one anywhere else these).
        gaps: tuple[int, ...]
        if brda < 0:
            gaps = (start, da, da_end, end) if da >= 0 else (start, end)
        elif da < 0:
            gaps = (start, brda, brda_end, end)
        elif brda > da:
            gaps = (start, da, da_end, brda, brda_end, end)
        else:
            gaps = (start, brda, brda_end, da, da_end, end)
        for i in range(0, len(gaps), 2):
            if gaps[i] < gaps[i + 1] and _NONDATA.fullmatch(record, gaps[i], gaps[i + 1]) is None:
                return False
        block = None
        if da >= 0:
            try:
                block = _proven(record[da:da_end])
            except _Unusual:
                return False
        if block is None:
            self.report.files.setdefault(name, bytearray())
        else:
            self._da_run(name, block)
        if brda >= 0:
            # Of geninfo's shape, with line numbers no longer than the file's top DA line
            # (the usual case), or any shape _OTHER accounts for; else the general path,
            # which checks these lines with _OTHER too, would refuse them.
            digits = self._digits(name)
            proven = _BRDA_RUNS[digits - 1].fullmatch(record, brda, brda_end) is not None
            if not proven and _OTHER.fullmatch(record, brda, brda_end) is None:
                raise _Unusual
            self._branches(name, record, [(brda, brda_end)], proven)
        return True

    def _digits(self, name: str) -> int:
        """How many digits the top line of file ``name``'s table has, so far (6 if it
        has none, or a million lines or more)."""
        lines = self.report.files.get(name)
        # (A kept run's table is not built for its length: its top line is known.)
        size = self.tops[name] + 1 if isinstance(lines, LazyLines) else len(lines or b"")
        return len(str(size - 1)) if 0 < size < 1_000_000 else 6

    def _da_run(self, name: str, block: bytes) -> None:
        """A proven run of DA lines: kept undecoded (its counts known) when its line
        numbers are distinct and there is room, stored into the file's table otherwise."""
        text = _as_json(block)
        flat = _parse(text)
        files = self.report.files
        if name not in files and self.kept + len(text) <= KEEP:
            numbers = flat[1::2]
            distinct = set(numbers)
            if 0 in distinct:
                raise _Unusual  # line 0: the careful reader's error
            if len(distinct) == len(numbers):
                # Distinct lines, no line 0, counts without leading zeros (JSON refuses
                # them): a missed line is exactly a count "0" between commas, or last.
                missed = text.count(b",0,") + text.endswith(b",0")
                self._keep(name, text, numbers, missed)
                return
        _decode_into(self.report.lines_of(name), flat)

    def _keep(self, name: str, text: bytes, numbers: list[int], missed: int) -> None:
        """Keep a DA run with distinct line numbers ``numbers`` undecoded, as its JSON
        text (``_as_json``: 60 % of the run's size, and ready to be read again)."""
        # Producers list lines in order: then the last is the top (a cheaper check).
        top = numbers[-1] if numbers == sorted(numbers) else max(numbers)
        if top > MAX_LINE:
            raise _Unusual  # the careful reader's error
        # What _grow charges for a new table: the budget sees what it would.
        _charge(2 * (top + 1))
        self.kept += len(text)
        self.tops[name] = top
        self.runs[name] = text
        self.report.files[name] = kept_run(text, top, missed, len(numbers) - missed)

    def _lines(self, name: str, body: bytes) -> tuple[bytes, list[tuple[int, int]]]:
        """Read the DA lines of ``body``; return the rest of it to be accounted for, as
        the body and its regions without DA lines."""
        first = body.find(b"\nDA:")
        if first < 0:
            self.report.files.setdefault(name, bytearray())
            return body, [(0, len(body))]
        # The DA lines are one run in every producer's output: the lines before and after
        # it are checked in place. DA lines among others are gathered first.
        last = body.find(b"\n", body.rfind(b"\nDA:") + 1)
        if last < 0:
            last = len(body)
        try:
            block = _proven(body[first:last])
            regions = [(0, first), (last, len(body))]
        except _Unusual:
            block = _proven(b"".join(_DA_LINE.findall(body)))
            body = _DA_LINE.sub(b"", body)
            regions = [(0, len(body))]
        _decode_into(self.report.lines_of(name), _numbers(block))
        return body, regions

    def _branches(
        self, name: str, body: bytes, regions: list[tuple[int, int]], proven: bool = False
    ) -> None:
        """``proven``: the regions are one run of BRDA lines of ``_BRDA_RUNS``'s shape,
        with line numbers no longer than the file's top DA line."""
        if name not in self.report.branches:
            self.report.branches[name] = self._pending(name, body, regions, proven)
        else:
            _add_branches(self.report.branches_of(name), _branch_lines(body, regions))

    def _pending(
        self, name: str, body: bytes, regions: list[tuple[int, int]], proven: bool
    ) -> _PendingBranches:
        """A file's first BRDA lines, as branches built on first use."""
        pending = _PendingBranches()
        block = body[regions[0][0] : regions[0][1]] if proven else _one_run(body, regions)
        # (Room for the whole run, as for a DA run: a part read on its own starts at its
        # share of KEEP, and "some room left" let each part overshoot by a whole run.)
        if block is not None and self.kept + len(block) <= KEEP:
            # One run of BRDA lines: counted as bytes, kept as they are, and charged for
            # the arrays its line numbers could need: numbers no longer than the file's
            # last DA line (the usual case), or of six digits at most.
            total = block.count(b"\n")
            digits = self._digits(name)
            charge = _branch_charge(10**digits - 1)
            if (
                total <= MAX_BRANCHES
                and (
                    proven
                    or (
                        total == block.count(b"\nBRDA:")
                        and _DIGITS_AT_LEAST[digits + 1].search(block) is None
                    )
                )
                and _room(charge)
            ):
                _charge(charge)
                self.kept += len(block)
                # A count "0" (no leading zeros: "00" is not of the shape) or "-".
                untaken = (block.count(b",0\n") + block.count(b",-\n")
                           + block.endswith((b",0", b",-")))
                pending.run, pending.known = block, (total, total - untaken)
                return pending
        # Otherwise per line with branches: its number, how many, how many taken, counted
        # at C speed (per line number as spelled: no leading zeros, so one per line).
        total_of: Counter[bytes] = Counter()
        taken_of: Counter[bytes] = Counter()
        for start, end in regions:
            total_of.update(_BRANCH_LINE.findall(body, start, end))
            taken_of.update(_TAKEN_LINE.findall(body, start, end))
        numbers = list(map(int, total_of))
        top = max(numbers)
        if top > MAX_LINE or max(total_of.values()) > MAX_BRANCHES:
            raise _Unusual  # the careful reader's errors
        _charge(_branch_charge(top))
        sparse = array("I", numbers)
        sparse.extend(total_of.values())
        sparse.extend(map(taken_of.__getitem__, total_of))
        pending.sparse = sparse
        pending.known = (total_of.total(), taken_of.total())
        return pending


def kept_run(text: bytes, top: int, missed: int, covered: int) -> LazyLines:
    """The lines of a DA run ``_Reader._keep`` kept: distinct numbers up to ``top``,
    counted already, decoded when first looked at."""
    return LazyLines(missed, covered, partial(_table, text, top), partial(_lookup, text))


def _one_run(body: bytes, regions: list[tuple[int, int]]) -> bytes | None:
    """The BRDA lines of ``regions`` if they stand in one of them, from the first to the
    end of the last (maybe with other lines among them)."""
    spans = [(body.find(b"\nBRDA:", s, e), body.rfind(b"\nBRDA:", s, e), e) for s, e in regions]
    spans = [span for span in spans if span[0] >= 0]
    if len(spans) != 1:
        return None
    first, last, end = spans[0]
    last = body.find(b"\n", last + 1, end)
    return body[first : last if last >= 0 else end]


def _room(size: int) -> bool:
    budget = _budget.get(None)
    return budget is None or budget[0] >= size


def _proven(block: bytes) -> bytes:
    """A run of DA lines, each "\\nDA:<line>,<count>" with an optional ",<checksum>",
    without its checksums; ``_Unusual`` for any other shape. (JSON, which reads the
    numbers, refuses empty fields and leading zeros; the readers refuse line 0.)"""
    if not _plain(block):
        if block.count(b",") != 2 * block.count(b"\n"):
            raise _Unusual
        # Checksums (geninfo --checksum, coverage.py's lcov_line_checksums).
        block = _CHECKSUM.sub(b"", block)
        if not _plain(block):
            raise _Unusual
    return block


def _plain(block: bytes) -> bool:
    """Whether ``block`` is lines "\\nDA:<digits>,<digits>" (digits maybe none)."""
    # With the digits gone, exactly "\nDA:," per line is left; and every line starts with
    # "DA:" (digits deleted could have stood anywhere: "9DA:4,0", "DA9:3,1" are not DA
    # lines, the careful reader refuses the one and ignores the other).
    shape = block.translate(None, _DIGITS)
    lines = len(shape) // 5
    return shape == _DA_SHAPE * lines and block.count(b"\nDA:") == lines


def _numbers(block: bytes) -> list[int]:
    """0, then line, count, line, count... of a proven DA run."""
    return _parse(_as_json(block))


def _as_json(block: bytes) -> bytes:
    """A proven DA run as the inside of a JSON list: "\\nDA:12,0\\nDA:13,5" -> ",12,0,13,5"
    (a proven run is ASCII, its only letters and colons those of "DA:")."""
    return block.translate(_AS_JSON, b"DA:")


def _parse(text: bytes) -> list[int]:
    """The numbers of ``_as_json``'s text, after a 0 (for the leading comma). JSON refuses
    empty fields and leading zeros."""
    whole = "[0" + text.decode("ascii") + "]"
    flat, end = _JSON.raw_decode(whole)
    if end != len(whole):
        raise _Unusual
    return flat


def _decode_into(lines: bytearray, flat: list[int]) -> None:
    """Store the numbers of a proven DA run (``_numbers``) into ``lines``, growing it
    (charged to the budget)."""
    # Producers list lines in ascending order: the last is the largest, and a table too
    # short for another shows as an IndexError.
    _grow(lines, flat[-2])
    try:
        _store(lines, flat)
    except IndexError:
        _grow(lines, max(flat[1::2]))
        _store(lines, flat)
    if lines[0]:
        raise _Unusual  # line 0 (no other store reaches index 0): the careful reader's error


def _table(text: bytes, top: int) -> bytearray:
    """The line table of a run ``_Reader._keep`` kept (charged when it was read): its
    line numbers are distinct and at most ``top``."""
    pairs = iter(_parse(text))
    next(pairs)  # the 0 before the first line
    lines = bytearray(top + 1)
    covered, missed = COVERED, MISSED
    for n, count in zip(pairs, pairs, strict=True):
        lines[n] = covered if count else missed
    return lines


_STATE = {None: NOT_MEASURED, 0: MISSED}
"""A line's state from its count (``None``: not listed); any other count is covered."""


def _lookup(text: bytes, wanted: Sequence[int]) -> bytes:
    """The states of lines ``wanted`` in a kept run (distinct numbers), without a table."""
    flat = _parse(text)
    counts = dict(zip(flat[1::2], flat[2::2], strict=True))
    return bytes(map(_STATE.get, map(counts.get, wanted), repeat(COVERED)))


def _store(lines: bytearray, flat: list[int]) -> None:
    """``flat`` is 0, then line, count, line, count... Per line the strongest state: a line given twice (in this record or an earlier
    one of the same file) keeps covered over missed, as the careful reader does."""
    pairs = iter(flat)
    next(pairs)  # the 0 before the first line
    covered, missed = COVERED, MISSED
    for n, count in zip(pairs, pairs, strict=True):
        if count:
            lines[n] = covered
        elif not lines[n]:
            lines[n] = missed


def _grow(lines: bytearray, top: int) -> None:
    if top > MAX_LINE:
        raise _Unusual  # the careful reader's error
    size = len(lines)
    if top >= size:
        # Charged twice: the careful reader grows its tables geometrically, up to twice
        # this size, and must not be the one to run out of budget where this did not.
        _charge(2 * (top + 1 - size))
        lines.extend(bytes(top + 1 - size))


def _branch_charge(top: int) -> int:
    """Budget for branch arrays up to line ``top``: twice what they take, as line tables
    are charged (``Branches.add`` grows geometrically, from 16 lines)."""
    return 2 * 4 * (top + 1) + 64


class _PendingBranches(Branches):
    """A file's branches whose per-line arrays are built on first use: ``counts`` is
    known from the read; ``total`` and ``covered`` appear when first looked up, built
    from the BRDA run (``run``) or from ``sparse`` (line numbers, then their totals, then
    their covered counts)."""

    __slots__ = ("known", "run", "sparse")

    def __init__(self) -> None:  # total and covered stay unset until __getattr__
        self.known: tuple[int, int] | None = None
        self.run: bytes | None = None
        self.sparse: array[int] | None = None

    def __getattr__(self, name: str) -> Any:
        if name not in ("total", "covered") or self.known is None:
            raise AttributeError(name)
        self.known = None
        if self.run is not None:
            found = _branch_lines(self.run, [(0, len(self.run))])
            self.total, self.covered = _branch_arrays(found)
        else:
            assert self.sparse is not None
            k = len(self.sparse) // 3
            numbers, totals, covereds = self.sparse[:k], self.sparse[k : 2 * k], self.sparse[2 * k :]
            size = max(numbers) + 1 if k else 0
            self.total, self.covered = array("H", bytes(2 * size)), array("H", bytes(2 * size))
            for n, total, covered in zip(numbers, totals, covereds, strict=True):
                self.total[n], self.covered[n] = total, covered
        self.run = self.sparse = None
        return getattr(self, name)

    def counts(self) -> tuple[int, int]:
        return self.known if self.known is not None else super().counts()


def _branch_lines(body: bytes, regions: list[tuple[int, int]]) -> list[tuple[bytes, bytes]]:
    found: list[tuple[bytes, bytes]] = []
    for start, end in regions:
        found += _BRANCH.findall(body, start, end)
    return found


def _add_branches(branches: Branches, found: list[tuple[bytes, bytes]]) -> None:
    """BRDA lines into a file's earlier branches: per line the larger counts."""
    total, covered = _branch_arrays(found, charge=True)
    for n in {int(line) for line, _ in found}:
        branches.add(n, total[n], covered[n])


def _branch_arrays(
    found: list[tuple[bytes, bytes]], charge: bool = False
) -> tuple[array[int], array[int]]:
    """Per line, how many BRDA lines and how many of them taken (a positive count)."""
    # Ascending, as for DA lines: the last line is the largest, or an IndexError says so.
    top = int(found[-1][0])
    try:
        return _count_branches(top, found, charge)
    except IndexError:
        return _count_branches(max(int(line) for line, _ in found), found, charge)


def _count_branches(
    top: int, found: list[tuple[bytes, bytes]], charge: bool
) -> tuple[array[int], array[int]]:
    if top > MAX_LINE:
        raise _Unusual
    if charge:
        _charge(_branch_charge(top))
    total = array("H", bytes(2 * (top + 1)))
    covered = array("H", bytes(2 * (top + 1)))
    # 16-bit counts: more than MAX_BRANCHES on a line is an OverflowError, as the
    # careful reader's is an error.
    for line, count in found:
        n = int(line)
        total[n] += 1
        if count != b"0" and count != b"-":
            covered[n] += 1
    return total, covered
