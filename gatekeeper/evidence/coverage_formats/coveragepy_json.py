"""coverage.py's JSON report (``coverage json``, format 2 and 3).

``files.<path>.executed_lines`` are covered, ``missing_lines`` measured and not
covered; excluded lines are not measured. With branch coverage, ``executed_branches``
and ``missing_branches`` are ``[from, to]`` arcs: each is a branch of line ``from``
(a report without them but with ``summary.num_branches`` gives the file's counts only).
``meta.timestamp`` is when it was made (coverage.py writes local time). Nothing else is
read (no format version check: formats 2 and 3 differ only in what is not read).

Streamed (``read_json``): the top-level object and ``files`` are walked member by
member, and each file's entry is decoded whole by the stdlib's C scanner
(``_jsonstream``), so memory is a read chunk plus one entry, whatever the report's size.
(Not ijson: its C backend decodes these entries more slowly than the stdlib's scanner, and
refuses NaN by default and words its errors otherwise: no new dependency.) An entry laid
out as coverage.py lays it out is checked by one compiled pattern instead, and only its
line lists and arcs are decoded (``coveragepy_json_fast``; the same checks follow, so the
same figures and errors); anything else is decoded whole as described.
It gives what ``json.loads`` of the whole file followed by the checks below gives
(``_read_whole``, kept as the reference, and the reader of UTF-16/32 JSON): the same
figures, the same errors with the same positions, and their precedence — bytes that are
not UTF-8 anywhere, then the first syntax error, then a missing ``files``, then the first
bad file in ``files``' order, line-table budget included. Keys given twice keep the last
value at the first one's place (a dict's rule), for ``files`` itself and for a file in
it: a replaced entry gives its tables' budget back. When a file that ranks at or before
the first bad entry is named again after it, a second streamed pass (``_LastEntries``)
reads each file's last entry only and replays the errors and budget in ``files``' order.
Deliberately different: a number of more digits than ``int()`` reads is an
``EvidenceError`` (it was a ``ValueError`` out of the reader); and refused though
``json.loads`` reads them: one entry over the limit below, or one that holds over a
million arrays and objects (``_jsonstream.MAX_CONTAINERS``). The nesting depth refused
("nested too deeply") may differ by the two levels an entry is decoded below.

One entry larger than ``GATEKEEPER_MAX_JSON_ENTRY_MB`` (default 4 MiB: a format-3 entry
of a file of ~130,000 statements with branches) is refused: decoded, an entry takes 6 to
8 times its size, and over 20 times for hostile JSON made of empty containers.
``GATEKEEPER_MAX_JSON_REPORT_MB``, if set, still refuses larger reports.
"""

from __future__ import annotations

import json
import os
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from itertools import chain, filterfalse
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, TypeGuard, cast

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MAX_BRANCHES,
    MAX_LINE,
    MISSED,
    Branches,
    ParsedReport,
    ReportFormatError,
    _budget,
    _charge,
    coveragepy_json_fast,
    mark,
)
from gatekeeper.evidence.coverage_formats._jsonstream import (
    MAX_CONTAINERS,
    JsonStream,
    JsonSyntaxError,
    NotUtf8,
    NumberTooLong,
    TooDeep,
    ValueTooLarge,
)

DEFAULT_MAX_ENTRY_MB = 4
"""The largest single value (one file's entry) read by default (MiB)."""
WHOLE_MAX_BYTES = 4 << 20
"""The largest UTF-16/32 report read whole (``json.loads``): up to ~90 MB of memory
(hostile JSON of empty containers takes over 20 times its size)."""


def _mb_setting(name: str, default: float | None) -> int | None:
    try:
        mb = float(os.environ.get(name) or "nan")
    except ValueError:
        mb = float("nan")
    if mb != mb:  # unset or not a number
        return None if default is None else int(default * (1 << 20))
    return int(mb * (1 << 20))


def max_bytes() -> int | None:
    """``GATEKEEPER_MAX_JSON_REPORT_MB`` in bytes, if set: no limit by default."""
    return _mb_setting("GATEKEEPER_MAX_JSON_REPORT_MB", None)


def max_entry_bytes() -> int:
    """``GATEKEEPER_MAX_JSON_ENTRY_MB`` (default ``DEFAULT_MAX_ENTRY_MB``) in bytes."""
    return _mb_setting("GATEKEEPER_MAX_JSON_ENTRY_MB", DEFAULT_MAX_ENTRY_MB) or 0


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def _too_big(path: Path, size: int, limit: int) -> EvidenceError:
    return EvidenceError(
        f"{path}: coverage.py JSON of {_size(size)} is over the {_size(limit)} limit "
        "set by GATEKEEPER_MAX_JSON_REPORT_MB",
        "raise or unset GATEKEEPER_MAX_JSON_REPORT_MB (the report is streamed), or give "
        "the Cobertura XML of the same run (`coverage xml`)",
    )


def read_json(path: Path) -> ParsedReport:
    limit = max_bytes()
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if limit is not None and size > limit:
                raise _too_big(path, size, limit)
            if json.detect_encoding(f.read(4)) not in ("utf-8", "utf-8-sig"):
                # UTF-16/32 (json.loads reads them; sniff() calls them binary).
                return _read_whole(path)
            f.seek(0)
            return _Reader(path, f).read()
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror or e}") from None


class _Reader:
    """One streamed read: the report so far, and the first bad entry, if any."""

    def __init__(self, path: Path, f: IO[bytes]) -> None:
        self.path, self.f = path, f
        self.report = ParsedReport(path, "coverage.py-json")
        self.files_seen = False
        self.stamp: Any = None
        self.error: EvidenceError | None = None
        self.duplicate = False
        self.before_error: set[str] = set()
        """The files named before the first bad entry (ranked before it)."""
        self.uncertain = False
        """One of those was named again after it: json.loads may report another."""
        self.occurrences: Counter[str] = Counter()
        """How often each file is named in the current ``files``."""
        self.files_objects = 0
        """``files`` keys with an object seen so far (the last one is the report)."""
        self.budget = _budget.get(None)
        self.budget_start = self.budget[0] if self.budget is not None else 0

    def read(self) -> ParsedReport:
        path = self.path
        try:
            stream = JsonStream(self.f, max_entry_bytes())
            self._document(stream)
        except (JsonSyntaxError, TooDeep, NumberTooLong) as e:
            try:
                stream.drain()  # json.loads refuses bytes that are not UTF-8 first, anywhere
            except NotUtf8:
                raise _not_utf8(path) from None
            if isinstance(e, JsonSyntaxError):
                lineno, colno = stream.locate(e.offset)
                raise EvidenceError(
                    f"{path}: invalid JSON at line {lineno}, column {colno}: {e.msg}"
                ) from None
            raise _syntax_error(path, e) from None
        except NotUtf8:
            raise _not_utf8(path) from None
        except ValueTooLarge:
            raise EvidenceError(
                f"{path}: one value of this coverage.py JSON is over the "
                f"{_size(max_entry_bytes())} limit for a single file's entry (or holds "
                f"over {MAX_CONTAINERS:,} arrays and objects)",
                "raise GATEKEEPER_MAX_JSON_ENTRY_MB, or give the Cobertura XML of the same "
                "run (`coverage xml`)",
            ) from None
        if not self.files_seen:
            raise _no_files(path)
        if self.error is not None:
            if self.uncertain:
                # A later duplicate may have replaced the bad entry: decide with each
                # file's last entry only (json.loads's dict).
                try:
                    return _LastEntries(self).read()
                except (JsonSyntaxError, TooDeep, NumberTooLong, NotUtf8, ValueTooLarge,
                        KeyError):
                    # The first pass read all of it: only a file changed meanwhile gets here.
                    raise EvidenceError(f"{path}: changed while it was read") from None
            raise self.error
        return self._finish(self.report)

    def _finish(self, report: ParsedReport) -> ParsedReport:
        if self.duplicate:  # a replaced file's branches were added again at the end
            report.branches = {k: report.branches[k] for k in report.files if k in report.branches}
        _timestamp(report, self.stamp)
        return report

    def _document(self, stream: JsonStream) -> None:
        if stream.peek() != "{":
            stream.value()  # not an object: an error either way, json.loads's first
            stream.end()
            return
        for key in stream.members():
            if key == "files" and stream.peek() == "{":
                self._reset()
                self.files_seen = True
                self.files_objects += 1
                for name in stream.members():
                    # coverage.py's own layout checked without decoding what is not read
                    # (coveragepy_json_fast); anything else decoded whole.
                    fast = coveragepy_json_fast.entry(stream)
                    if fast is None:
                        self._entry(name, stream.value())
                    else:
                        self._entry(name, fast, proven=True)
            else:
                value = stream.value()
                if key == "files":
                    self._reset()
                    self.files_seen = False
                elif key == "meta":
                    self.stamp = value.get("timestamp") if isinstance(value, dict) else None
        stream.end()

    def _reset(self) -> None:
        """A second ``files``: the last one is the report (a dict keeps the last value)."""
        self.report.files.clear()
        self.report.branches.clear()
        self.error = None
        self.duplicate = self.uncertain = False
        self.before_error = set()
        self.occurrences = Counter()
        if self.budget is not None:
            self.budget[0] = self.budget_start

    def _entry(self, name: str, entry: Any, proven: bool = False) -> None:
        """``proven``: ``coveragepy_json_fast`` read the entry (see ``_mark_all``)."""
        report = self.report
        self.occurrences[name] += 1
        if self.error is not None:
            # Only syntax is checked from here on; a file that ranks before the bad one,
            # or the bad one, named again may change which error json.loads's reader sees.
            self.uncertain = self.uncertain or name in self.before_error
            return
        if name in report.files:
            self.duplicate = True
            self._refund(name)
        try:
            report.files[name] = _lines(self.path, name, entry, proven)
            try:
                _branches(report, name, entry, proven)
            except ReportFormatError as e:
                raise EvidenceError(f"{self.path}: files[{name!r}]: {e}") from None
        except EvidenceError as e:
            self.error = e
            self.before_error = {*report.files, name}

    def _refund(self, name: str) -> None:
        """A file named again replaces its entry: give back its line tables' budget."""
        old = self.report.files[name]
        branches = self.report.branches.pop(name, None)
        if self.budget is not None:
            self.budget[0] += len(old) + (4 * len(branches.total) if branches else 0)


class _LastEntries:
    """A second streamed pass over a report whose first bad entry a later duplicate may
    replace: only each file's last entry is read, at its first entry's place. Every last
    entry's line-table charges are measured (its tables dropped once the result can only
    be an error), then the errors are replayed in ``files``' order against the budget:
    the first bad entry, or the first charge over the budget, is json.loads's reader's error.
    """

    def __init__(self, first: _Reader) -> None:
        self.first = first
        self.path = first.path
        self.report = ParsedReport(first.path, "coverage.py-json")
        self.left = Counter(first.occurrences)
        self.parts: dict[str, list[tuple[str, int, EvidenceError | None]]] = {}
        self.keep = True
        """Tables are kept while the report may still be the result."""
        self.budget = first.budget if first.budget is not None else [0]
        self.limit = first.budget_start if first.budget is not None else None
        self.budget[0] = self.limit if self.limit is not None else _UNLIMITED

    def read(self) -> ParsedReport:
        first = self.first
        first.f.seek(0)
        stream = JsonStream(first.f, max_entry_bytes())
        files = 0
        stream.peek()
        for key in stream.members():
            if key == "files" and stream.peek() == "{":
                files += 1
                for name in stream.members():
                    value = stream.value()
                    if files == first.files_objects:
                        self._entry(name, value)
            else:
                stream.value()
        stream.end()
        self._replay()
        first.duplicate = True  # branches were added in the last entries' order
        return first._finish(self.report)

    def _entry(self, name: str, entry: Any) -> None:
        self.report.files.setdefault(name, bytearray())  # the first entry's place
        self.left[name] -= 1
        if self.left[name]:
            return
        if self.keep:
            try:
                self.parts[name] = self._measure(name, entry)
            except _OverBudget:
                self.keep = False
                self.budget[0] = _UNLIMITED  # measure the rest; the result is an error
        if not self.keep or name not in self.parts:
            self.parts[name] = self._measure(name, entry)
        if not self.keep or any(error for _, _, error in self.parts[name]):
            self.keep = False
            self.budget[0] = _UNLIMITED
            self.report.files[name] = bytearray()
            self.report.branches.pop(name, None)

    def _measure(self, name: str, entry: Any) -> list[tuple[str, int, EvidenceError | None]]:
        """Each part's (name, bytes charged, error that ended it) for ``name``'s entry."""
        report, path, parts = self.report, self.path, []
        if not isinstance(entry, dict):
            return [("", 0, EvidenceError(f"{path}: files[{name!r}] is not an object"))]
        lines = report.files[name] = bytearray()
        report.branches.pop(name, None)
        for key, state in (("missing_lines", MISSED), ("executed_lines", COVERED)):
            before, error = self.budget[0], None
            try:
                _part(path, name, entry, key, state, lines)
            except EvidenceError as e:
                error = e
            parts.append((key, self._spent(before), error))
            if error is not None:
                return parts
        before, error = self.budget[0], None
        try:
            _branches(report, name, entry)
        except ReportFormatError as e:
            error = EvidenceError(f"{path}: files[{name!r}]: {e}")
        parts.append(("", self._spent(before), error))
        return parts

    def _spent(self, before: int) -> int:
        if self.keep and self.budget[0] < 0:
            raise _OverBudget()
        return before - self.budget[0]

    def _replay(self) -> None:
        """The first error in ``files``' order, charges counted in that order."""
        if self.keep:
            return
        spent, path = 0, self.path
        for name in self.report.files:
            for key, charged, error in self.parts[name]:
                spent += charged
                if self.limit is not None and spent > self.limit:
                    where = f"files[{name!r}].{key}" if key else f"files[{name!r}]"
                    raise EvidenceError(f"{path}: {where}: {_over_budget_message()}")
                if error is not None:
                    raise error
        raise AssertionError("a bad entry was seen but none is last")  # pragma: no cover


class _OverBudget(Exception):
    pass


_UNLIMITED = 1 << 62


def _over_budget_message() -> str:
    """The budget's own message (``_charge``'s)."""
    token = _budget.set([0])
    try:
        _charge(1)
    except ReportFormatError as e:
        return str(e)
    finally:
        _budget.reset(token)
    raise AssertionError("_charge(1) of nothing did not refuse")  # pragma: no cover


def _syntax_error(path: Path, e: Exception) -> EvidenceError:
    if isinstance(e, TooDeep):
        return EvidenceError(f"{path}: JSON nested too deeply for a coverage report")
    return EvidenceError(f"{path}: invalid JSON: a number of more digits than Python reads")


def _not_utf8(path: Path) -> EvidenceError:
    return EvidenceError(f"{path}: not UTF-8 JSON")


def _no_files(path: Path) -> EvidenceError:
    return EvidenceError(
        f"{path}: JSON without a 'files' object; not a coverage.py JSON report "
        "(make one with `coverage json`)"
    )


def _read_whole(path: Path) -> ParsedReport:
    """``json.loads`` of the whole file, then the same checks: the reference the streamed
    read equals, and its fallback (see the module's docstring)."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > WHOLE_MAX_BYTES:
                raise _too_big_whole(path, size)
            raw = f.read(WHOLE_MAX_BYTES + 1)  # a file that grows (or lies about its size)
        if len(raw) > WHOLE_MAX_BYTES:
            raise _too_big_whole(path, len(raw))
        data = json.loads(raw)
    except RecursionError:
        raise EvidenceError(f"{path}: JSON nested too deeply for a coverage report") from None
    except json.JSONDecodeError as e:
        raise EvidenceError(
            f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except ValueError:  # int() of more digits than sys.get_int_max_str_digits()
        raise EvidenceError(
            f"{path}: invalid JSON: a number of more digits than Python reads"
        ) from None
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror or e}") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise _no_files(path)
    report = ParsedReport(path, "coverage.py-json")
    for name, entry in files.items():
        report.files[name] = _lines(path, name, entry)
        try:
            _branches(report, name, entry)
        except ReportFormatError as e:
            raise EvidenceError(f"{path}: files[{name!r}]: {e}") from None
    meta = data.get("meta")
    _timestamp(report, meta.get("timestamp") if isinstance(meta, dict) else None)
    return report


def _too_big_whole(path: Path, size: int) -> EvidenceError:
    return EvidenceError(
        f"{path}: coverage.py JSON of {_size(size)} is over the {_size(WHOLE_MAX_BYTES)} "
        "limit for a report read whole (UTF-16 or UTF-32)",
        "give the Cobertura XML of the same run instead (`coverage xml`)",
    )


def _timestamp(report: ParsedReport, stamp: Any) -> None:
    if not isinstance(stamp, str):
        return
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return
    # coverage.py writes the local time without an offset: the machine's own zone.
    report.timestamp = when.timestamp()
    report.timestamp_source = "meta.timestamp"


def _lines(path: Path, name: str, entry: Any, proven: bool = False) -> bytearray:
    if not isinstance(entry, dict):
        raise EvidenceError(f"{path}: files[{name!r}] is not an object")
    lines = bytearray()
    for key, state in (("missing_lines", MISSED), ("executed_lines", COVERED)):
        _part(path, name, entry, key, state, lines, proven)
    return lines


def _part(
    path: Path,
    name: str,
    entry: dict[str, Any],
    key: str,
    state: int,
    lines: bytearray,
    proven: bool = False,
) -> None:
    try:
        valid = _mark_all(lines, entry.get(key), state, proven)
    except ReportFormatError as e:
        raise EvidenceError(f"{path}: files[{name!r}].{key}: {e}") from None
    if not valid:
        raise EvidenceError(f"{path}: files[{name!r}].{key} must be a list of positive line numbers")


def _mark_all(lines: bytearray, numbers: Any, state: int, proven: bool = False) -> bool:
    """``mark`` each of ``numbers`` in turn if they are all line numbers (ints, not
    bools, above 0: else False, nothing marked). Sorted (coverage.py's order), the table
    grows at the same numbers and by the same sizes found by bisection, so the same table
    is made and the same number raises (beyond MAX_LINE, or over the budget).
    ``proven``: the fast path decoded ``numbers`` from text of digits, commas and spaces
    only, so they are ints (their types need no second look; their values do)."""
    if not isinstance(numbers, list):
        return False
    if not numbers:
        return True
    if not proven and set(map(type, numbers)) != {int}:
        return False
    if numbers != sorted(numbers):
        if min(numbers) < 1:
            return False
        for n in numbers:
            mark(lines, n, state)
        return True
    if numbers[0] < 1:
        return False
    start = size = len(lines)
    i, count = 0, len(numbers)
    # The first number the table is too short for grows it as ``mark`` does; the growth
    # is charged at once (the budget only ever shrinks: over it at once is over it on the
    # way, in this list, with the same message).
    while (i := bisect_left(numbers, size, i)) < count:
        number = numbers[i]
        if number > MAX_LINE:
            _charge(size - start)  # what ``mark`` charged before it met this number
            raise ReportFormatError(f"line number {number} is beyond any real source file")
        size = max(number + 1, 2 * size)
    if size > start:
        _charge(size - start)
        lines.extend(bytes(size - start))
    # Missing lines come first into an empty table, executed ones (the stronger) next:
    # setting is keeping the strongest state. (A plain loop: deque(map(setitem)) is
    # slower for a bytearray.)
    for n in numbers:
        lines[n] = state
    return True


def _branches(
    report: ParsedReport, name: str, entry: dict[str, Any], proven: bool = False
) -> None:
    """``proven``: the fast path's pattern matched the arcs as lists of [from, to]
    integer pairs, ``from`` from 1 to 999,999 (``_arcs`` holds), and gives each list as
    its arcs' start lines."""
    if proven and "executed_branches" in entry:
        ran, missed = entry["executed_branches"], entry["missing_branches"]
        _count_starts(report, name, ran, chain(missed, ran))
        return
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
    for key, value in arcs.items():
        if not _arcs(value):
            raise ReportFormatError(f"{key} must be a list of [from, to] line pairs")
    executed = cast(list[list[int]], arcs["executed_branches"])
    missing = cast(list[list[int]], arcs["missing_branches"])
    _count_starts(report, name, map(itemgetter(0), executed),
                  map(itemgetter(0), chain(missing, executed)))


def _count_starts(
    report: ParsedReport, name: str, ran: Iterable[int], every: Iterable[int]
) -> None:
    """The branches of ``name`` from the start lines of its executed arcs (``ran``) and of
    all its arcs, missing ones first (``every``)."""
    # Per line the arcs that start there: executed ones, and all of them. The lines in the
    # order they first start an arc, executed ones first (the order ``add`` saw them).
    covered = Counter(ran)
    totals = Counter(every)
    if totals:
        numbers = [*covered, *filterfalse(covered.__contains__, totals)]
        _add_branches(report.branches_of(name), numbers, totals, covered)


def _add_branches(
    branches: Branches, numbers: list[int], totals: Counter[int], covered: Counter[int]
) -> None:
    """``branches.add(n, totals[n], covered[n])`` for each of ``numbers`` (distinct) in a new
    ``Branches``: the same checks and growth in the same order."""
    start = size = len(branches.total)
    if max(totals.values()) <= MAX_BRANCHES and max(numbers) <= MAX_LINE:
        # Nothing to refuse but the budget: the growth charged at once (as in _mark_all).
        for number in numbers:
            if number >= size:
                size += max(number + 1 - size, size, 16)
        _charge(4 * (size - start))
    else:
        for number in numbers:
            total = totals[number]
            if total > MAX_BRANCHES:
                raise ReportFormatError(f"{total} branches on one line is beyond any real code")
            if number >= size:
                if number > MAX_LINE:
                    raise ReportFormatError(
                        f"line number {number} is beyond any real source file"
                    )
                grow = max(number + 1 - size, size, 16)
                _charge(4 * grow)
                size += grow
    for table, counts in ((branches.total, totals), (branches.covered, covered)):
        table.extend(array("H", bytes(2 * (size - len(table)))))
        for number, count in counts.items():  # a loop: faster than deque(map(setitem))
            table[number] = count


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _arcs(value: Any) -> TypeGuard[list[list[int]]]:
    """A list of ``[from, to]``: ``from`` a line number, ``to`` a line or a negative exit."""
    if not isinstance(value, list):
        return False
    if not value:
        return True
    if set(map(type, value)) != {list} or set(map(len, value)) != {2}:
        return False
    flat = list(chain.from_iterable(value))
    return set(map(type, flat)) == {int} and min(flat[::2]) > 0
