"""A fast LCOV reader that proves it read every line, else steps aside.

LCOV producers (geninfo, ``coverage lcov``, c8/nyc, grcov, ...) write each source file as
a record: ``SF:<name>``, a run of ``DA:<line>,<count>[,<checksum>]`` lines, some
``BRDA:<line>,<block>,<branch>,<taken>``, ``FN``/``LF``/``LH`` summaries and
``end_of_record``. This reader takes the file in chunks of whole records and reads each
record's DA lines with a handful of C-level passes (one ``translate`` that proves their
shape, one ``json.loads`` for all their numbers) and one tight loop for the stores,
instead of a line-by-line text reader with several Python calls per line.

It only returns figures when it has accounted for every line of the file: each is a DA
line of exactly that shape (digits, no sign, no leading zero, no space), a well-formed
BRDA line, another directive the careful reader ignores, a comment or an empty line, the
file is UTF-8 without carriage returns, every record has one ``SF`` and ends with
``end_of_record``. Anything else (a count like ``1.5e+03``, spaces, ``SF`` given twice in
one record, a truncated file, a line number beyond any source file, a table the memory
budget might refuse) returns ``None``: the caller reads the file again with the careful
line-by-line reader, which gives the same figures or the precise error. It never turns a
malformed report into numbers.
"""

from __future__ import annotations

import json
import re
from array import array
from pathlib import Path

from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MAX_LINE,
    MISSED,
    ParsedReport,
    ReportFormatError,
    _charge,
)

CHUNK = 4 << 20
MAX_RECORD = 64 << 20
"""A record larger than this (no ``end_of_record`` in sight) is left to the careful reader."""

_END = b"\nend_of_record"
_DIGITS = b"0123456789"
# Lines other than DA lines, each after its "\n": a BRDA line of the careful reader's
# shape (line number, at least two more fields, a count or "-" after the last comma), a
# directive it ignores (not DA, BRDA or SF), a comment or an empty line. Line numbers and
# counts have no leading zero and a bounded length, so the careful reader's int() takes
# every one of them, and one line is never spelled two ways.
_OTHER = re.compile(
    rb"(?:\n(?:BRDA:[1-9][0-9]{0,6},[^\n]*,[^\n]*,(?:0|[1-9][0-9]{0,17}|-)"
    rb"|(?!DA:|BRDA:|SF:)[A-Z][A-Z0-9_]*:[^\n]*|#[^\n]*|)(?=\n|\Z))*+"
)
_DA_LINE = re.compile(rb"\nDA:[^\n]*")
_CHECKSUM = re.compile(rb",[^,\n]*(?=\n|\Z)")
# A BRDA line's number and its count after the last comma (the shape is proven by _OTHER).
_BRANCH = re.compile(rb"\nBRDA:([0-9]+),[^\n]*,([0-9]+|-)(?=\n|\Z)")


class _Unusual(Exception):
    """Not (or not provably) the common shape: the careful reader decides."""


def read_fast(path: Path) -> ParsedReport | None:
    """The report, or ``None`` for the careful reader (which must start afresh)."""
    report = ParsedReport(path, "lcov")
    try:
        with path.open("rb") as f:
            # A "\n" before the first line: every line, the first too, follows one.
            buf = b"\n"
            while chunk := f.read(CHUNK):
                buf += chunk
                records = buf.split(_END)
                buf = records.pop()  # the unfinished record (or the tail)
                if records:
                    _chunk(report, records)
                if len(buf) > MAX_RECORD:
                    return None
        _tail(buf)
    except (_Unusual, ReportFormatError, ValueError, OverflowError, OSError):
        return None
    if not report.files:
        return None
    return report


def _chunk(report: ParsedReport, records: list[bytes]) -> None:
    # Each record after a split starts with the "\n" that ended its end_of_record line,
    # except the chunk's first, which continues the previous chunk's unfinished one;
    # a line that only starts with "end_of_record" leaves something else after it.
    for record in records:
        if record[:1] != b"\n" or b"\r" in record:
            raise _Unusual
        if not record.isascii():
            record.decode("utf-8")  # UnicodeDecodeError is a ValueError
        _record(report, record)


def _tail(buf: bytes) -> None:
    """After the last end_of_record: only lines the careful reader ignores."""
    if not buf:
        return
    if buf[:1] != b"\n" or b"\r" in buf:
        raise _Unusual
    buf.decode("utf-8")
    if _OTHER.fullmatch(buf) is None or b"\nBRDA:" in buf:
        raise _Unusual


def _record(report: ParsedReport, record: bytes) -> None:
    """One record: "\\n"-led lines, from after the previous end_of_record to before its own."""
    sf = record.find(b"\nSF:")
    if sf < 0:
        raise _Unusual
    head = record[:sf]
    if _OTHER.fullmatch(head) is None or b"\nBRDA:" in head:
        raise _Unusual  # DA or BRDA before SF (an error), or a line it cannot account for
    eol = record.find(b"\n", sf + 4)
    if eol < 0:
        eol = len(record)
    name = record[sf + 4 : eol].decode("utf-8").strip()
    body = record[eol:]
    if not name or b"\nSF:" in body:
        raise _Unusual
    lines = report.files.setdefault(name, bytearray())
    # The DA lines are one run in every producer's output: the lines before and after
    # it are checked in place; DA lines among others are gathered first.
    first = body.find(b"\nDA:")
    regions = [(0, len(body))]
    block = b""
    if first >= 0:
        last = body.find(b"\n", body.rfind(b"\nDA:") + 1)
        if last < 0:
            last = len(body)
        block = body[first:last]
        if block.count(b"\n") == block.count(b"\nDA:"):
            regions = [(0, first), (last, len(body))]
        else:
            block = b"".join(_DA_LINE.findall(body))
            body = _DA_LINE.sub(b"", body)
            regions = [(0, len(body))]
    for start, end in regions:
        if _OTHER.fullmatch(body, start, end) is None:
            raise _Unusual
    if block:
        _lines(lines, block)
    if b"\nBRDA:" in body:
        _branches(report, name, body, regions)


def _lines(lines: bytearray, block: bytes) -> None:
    """A run of DA lines, each "\\nDA:<line>,<count>" with an optional ",<checksum>"."""
    k = block.count(b"\n")
    commas = block.count(b",")
    if commas == 2 * k:  # checksums (geninfo --checksum, coverage.py lcov_line_checksums)
        block = _CHECKSUM.sub(b"", block)
    elif commas != k:
        raise _Unusual
    # Proof of shape: with the digits gone, exactly "\\nDA:," per line is left (k
    # occurrences of those 5 bytes in 5 * k bytes).
    shape = block.translate(None, _DIGITS)
    if len(shape) != 5 * k or shape.count(b"\nDA:,") != k or b"\nDA:0," in block:
        raise _Unusual  # line 0 is the careful reader's error
    # "\\nDA:12,0\\nDA:13,5" -> [12, 0, 13, 5]: JSON refuses empty fields and leading zeros.
    flat = json.loads(block[4:].replace(b"\nDA:", b",").join((b"[", b"]")))
    # Producers list lines in ascending order: the last is the largest, and a table too
    # short for another shows as an IndexError.
    _grow(lines, flat[-2])
    try:
        _store(lines, flat)
    except IndexError:
        _grow(lines, max(flat[0::2]))
        _store(lines, flat)


def _store(lines: bytearray, flat: list[int]) -> None:
    """Per line the strongest state: a line given twice (in this record or an earlier
    one of the same file) keeps covered over missed, as the careful reader does."""
    pairs = iter(flat)
    for n, count in zip(pairs, pairs, strict=True):
        if count:
            lines[n] = COVERED
        elif not lines[n]:
            lines[n] = MISSED


def _grow(lines: bytearray, top: int) -> None:
    if top > MAX_LINE:
        raise _Unusual  # the careful reader's error
    size = len(lines)
    if top >= size:
        # Charged twice: the careful reader grows its tables geometrically, up to twice
        # this size, and must not be the one to run out of budget where this did not.
        _charge(2 * (top + 1 - size))
        lines.extend(bytes(top + 1 - size))


def _branches(
    report: ParsedReport, name: str, body: bytes, regions: list[tuple[int, int]]
) -> None:
    """BRDA lines: per line, how many branches, how many taken (a positive count)."""
    found: list[tuple[bytes, bytes]] = []
    for start, end in regions:
        found += _BRANCH.findall(body, start, end)
    # Ascending, as for DA lines: the last line is the largest, or an IndexError says so.
    top = int(found[-1][0])
    try:
        total, covered = _count_branches(top, found)
    except IndexError:
        top = max(int(line) for line, _ in found)
        total, covered = _count_branches(top, found)
    branches = report.branches_of(name)
    if branches.total:  # an earlier record of this file gave branches: per line the larger
        for n in {int(line) for line, _ in found}:
            branches.add(n, total[n], covered[n])
        return
    branches.total, branches.covered = total, covered


def _count_branches(top: int, found: list[tuple[bytes, bytes]]) -> tuple[array[int], array[int]]:
    if top > MAX_LINE:
        raise _Unusual
    # Charged twice, as line tables are (Branches.add grows geometrically).
    _charge(2 * 4 * (top + 1) + 64)
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
