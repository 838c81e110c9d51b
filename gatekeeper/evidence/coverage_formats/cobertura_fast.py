"""A fast reader for the common Cobertura layout, which proves it read everything.

coverage.py (and most Cobertura writers) lay a report out the same way: a prolog,
``<sources>``, then ``<packages><package><classes>`` and per class an empty ``<methods/>``
and ``<lines>`` of ``<line number=".." hits=".."/>`` elements, some with
``branch="true" condition-coverage="50% (1/2)"``. For that layout the bulk of the document
(the ``<line>`` elements) is read with compiled byte patterns, a few C-level passes per
class, instead of one Python call per element.

It only ever returns figures for a document it has accounted for completely: every
byte of every ``<lines>`` block is a ``<line>`` element of the known shape or XML
whitespace, every other tag is one the layout allows in its place, every attribute value
is plain text (no entity, no control character, valid UTF-8), and the document ends
after its root. Anything else (a DTD, entities, methods with lines, single quotes, a
truncated file, an unknown element, text where none belongs) returns ``None`` and the
caller reads the file with the full, hardened streaming reader, which gives the same
figures or the precise error. It never turns a malformed report into numbers.
"""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import add
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MAX_LINE,
    MISSED,
    NOT_MEASURED,
    LazyLines,
    ParsedReport,
    ReportFormatError,
    _charge,
    table,
)

CHUNK = 4 << 20
MAX_BLOCK = 64 << 20
"""A class larger than this (without its ``</class>``) is left to the streaming reader."""
KEEP = 20 << 20
"""Bytes of ``<lines>`` blocks kept undecoded for later (a few times the tables they
stand for); past this, blocks are decoded as they are read, so memory stays bounded."""
READ_AT_ONCE = KEEP
"""A document of at most this size is read in one piece and its kept blocks are views of
it; a larger one is read in ``CHUNK`` pieces and its kept blocks are copies."""
PARALLEL_MIN = 4 << 20
"""A document read at once and at least this large is read on several cores, if any."""

_WS = rb"[ \t\r\n]"
_ATTRS = rb'((?:' + _WS + rb'+[A-Za-z_][A-Za-z0-9_.-]*="[^"<&\x00-\x1f]*")*)' + _WS + rb"*"
_SPACE = re.compile(_WS + rb"*")
_TAG = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9_.-]*)" + _ATTRS + rb"(/?)>")
_ATTR_TEXT = re.compile(r'([A-Za-z_][A-Za-z0-9_.-]*)="([^"]*)"')
_DECL = re.compile(
    rb'<\?xml version="1\.0"(?: encoding="(?:UTF|utf)-8")?(?: standalone="(?:yes|no)")? ?\?>'
)
_SOURCE = re.compile(rb"<source>([^<&\x00-\x08\x0b\x0c\x0d\x0e-\x1f]*)</source>")
_BAD_COMMENT = re.compile(rb"--|[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CLASS_START = re.compile(rb"<class[ \t\r\n>]")
_CLASS_HEAD = re.compile(
    rb"<class" + _ATTRS + rb">" + _WS + rb"*+(?:<methods" + _WS + rb"*/>|<methods>" + _WS
    + rb"*</methods>)?" + _WS + rb"*+<lines(" + _WS + rb"*/)?>"
)
_BRANCH_ATTRS = (
    rb'(?: branch="true" condition-coverage="\d+% \(\d+/\d+\)"'
    rb'(?: missing-branches="[^"<&\x00-\x1f\x7f-\xff]*")?)?/>'
)
# Whole elements: a line is missed (hits all zeros) or covered, never both, so the two
# patterns together match each well-formed <line> exactly once.
# Hit counts are bounded in length: Python's int() refuses over 4,300 digits, so the
# streaming reader refuses such a report, and this reader must not read it either.
_MISSED = re.compile(rb'<line number="(\d+)" hits="0{1,18}"' + _BRANCH_ATTRS)
_COVERED = re.compile(rb'<line number="(\d+)" hits="(?!0{1,18}")\d{1,18}"' + _BRANCH_ATTRS)
_STRAY = re.compile(rb">[ \t\r\n]*+[^< \t\r\n]")
# A <lines> block that is nothing but canonical <line> elements and whitespace: hit
# counts and line numbers without leading zeros (so equal numbers are equal bytes and
# "missed" is exactly hits="0"), line numbers of at most six digits (below MAX_LINE).
# One C-level match, no object per line; possessive everywhere, as it never backtracks.
# One pattern per line-number length (1 to 6 digits): matched in turn, each going on where
# the one before stopped, they say how many digits the longest number has (the budget).
_CANONICAL_BLOCKS = [
    re.compile(
        rb'(?:[ \t\r\n]*+<line number="[1-9]\d{0,%d}+" hits="(?:0|[1-9]\d{0,17}+)"'
        rb'(?:/>| branch="true" condition-coverage="\d++%% \(\d++/\d++\)"'
        rb'(?: missing-branches="[^"<&\x00-\x1f\x7f-\xff]*+")?/>))*+[ \t\r\n]*+' % (digits - 1)
    )
    for digits in range(1, 7)
]
_CANONICAL_BLOCK = _CANONICAL_BLOCKS[-1]
_CLASS_TAIL = re.compile(rb"</lines>[ \t\r\n]*+</class>")
_BRANCH_ATTR = re.compile(
    rb' branch="true" condition-coverage="\d+% \(\d+/\d+\)"(?: missing-branches="[^"<&\x00-\x1f\x7f-\xff]*")?'
)
# Once a block is proven canonical and its branch attributes are gone, deleting these
# leaves " NUMBER HITS" per element.
_MARKUP = bytes(range(ord("a"), ord("z") + 1)) + b'<>/="'
_BRANCH = re.compile(
    rb'<line number="(\d+)" hits="\d+" branch="true" condition-coverage="\d+% \((\d+)/(\d+)\)"'
)
_ALLOWED = {
    None: {b"coverage"},
    b"coverage": {b"sources", b"packages"},
    b"sources": {b"source"},
    b"packages": {b"package"},
    b"package": {b"classes"},
    b"classes": {b"class"},
}


class _Unusual(Exception):
    """The document is not (or not provably) the common layout: use the full reader."""


def read_fast(path: Path) -> tuple[ParsedReport, dict[str, str]] | None:
    """The report and its root's attributes, or ``None`` for the full reader."""
    try:
        with path.open("rb") as f:
            found = os.fstat(f.fileno())
            size = found.st_size
            # Only a regular file says its size (a FIFO says 0 and has no end), and only
            # as it was: read at once no more than it said (at most the limit, which the
            # parallel reader relies on too); one that grew since is the streaming
            # reader's, which reads any size in bounded memory.
            if stat.S_ISREG(found.st_mode) and size <= READ_AT_ONCE:
                data = f.read(size + 1)  # one allocation of the right size
                if len(data) > size:
                    return None
                reader = _read_at_once(path, data)
            else:
                reader = _read_large(path, f, size)
        if not reader.closed:
            return None
    except (_Unusual, ReportFormatError, ValueError):
        return None
    return reader.report, reader.root


def _read_at_once(path: Path, data: bytes) -> _Reader:
    """Read a document held whole, on several cores if it can be (see ``_in_parallel``).
    Kept blocks are views of the one buffer, not copies of it (half the memory, a third
    fewer page faults)."""
    reader = _in_parallel(len(data), lambda parallel, n: parallel.read(path, data, n))
    if reader is None:
        reader = _Reader.whole_of(path, data)
        reader.feed(data, eof=True)  # at EOF feed uses it all
    return reader


def _read_large(path: Path, f: BinaryIO, size: int) -> _Reader:
    """Read a document too large to hold whole ``CHUNK`` bytes at a time, on several cores
    (each reading its own part of the file) if it can be (see ``_in_parallel``)."""
    fd = f.fileno()
    reader = _in_parallel(size, lambda parallel, n: parallel.read_file(path, fd, size, n))
    if reader is None:
        reader = _Reader(ParsedReport(path, "cobertura"))
        read_in_pieces(f.read, reader)
    return reader


def _in_parallel(size: int, attempt: Callable[[ModuleType, int], _Reader | None]) -> _Reader | None:
    """``attempt(cobertura_parallel, processes)``'s reader for a document large enough,
    where several processes may read it (``parallel.in_parallel``); ``None``: one pass."""
    if size < PARALLEL_MIN:
        return None
    from gatekeeper.evidence.coverage_formats import cobertura_parallel, parallel

    return parallel.in_parallel(lambda processes: attempt(cobertura_parallel, processes))


def read_in_pieces(read: Callable[[int], bytes], reader: _Reader, eof: bool = True) -> bool:
    """Feed ``reader`` what ``read(CHUNK)`` returns until it returns nothing, which is the
    document's end if ``eof``; whether the reader used it all (``_Unusual`` past
    ``MAX_BLOCK`` without the end of a token)."""
    buf = b""
    while True:
        chunk = read(CHUNK)
        buf += chunk
        used = reader.feed(buf, eof=eof and not chunk)
        buf = buf[used:]
        if not chunk:
            return not buf
        if len(buf) > MAX_BLOCK:
            raise _Unusual


def _text(raw: bytes) -> str:
    """Attribute or character data as expat would give it, or ``_Unusual``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Unusual from None
    if "\ufffe" in text or "\uffff" in text:
        raise _Unusual
    return text


def _attrs(raw: bytes) -> dict[str, str]:
    # One decode for all: the separators are ASCII, so the whole is valid exactly when
    # every name and value is.
    pairs = _ATTR_TEXT.findall(_text(raw))
    named = dict(pairs)
    if len(named) != len(pairs):
        raise _Unusual  # a repeated attribute is not well-formed XML
    if "xmlns" in named:
        raise _Unusual  # a default namespace renames every element for the full reader
    return named


IN_CLASSES = [b"coverage", b"packages", b"package", b"classes"]
"""The open elements wherever a ``<class>`` may start (see ``_ALLOWED``)."""


class _Reader:
    def __init__(self, report: ParsedReport) -> None:
        self.report = report
        self.stack: list[bytes] = []
        self.root: dict[str, str] = {}
        self.started = False
        self.closed = False
        self.kept = 0
        self.keep = KEEP
        """Bytes of blocks this reader may keep undecoded (``KEEP``)."""
        self.whole: memoryview | None = None
        """The whole document, when it was read at once (``feed`` is given all of it)."""
        self.spans: dict[str, tuple[int, int]] = {}
        """Where in ``whole`` each file's kept block is (files kept as views of it)."""

    @classmethod
    def whole_of(cls, path: Path, data: bytes) -> _Reader:
        """A reader for ``data``, the whole document, read at once."""
        reader = cls(ParsedReport(path, "cobertura"))
        reader.whole = memoryview(data)
        return reader

    def resume_in_classes(self) -> None:
        """Go on as if everything before had been read and ended where a ``<class>`` may
        start (the reader of the piece before must prove that it did)."""
        self.stack = list(IN_CLASSES)
        self.started = True

    def feed(self, buf: bytes, eof: bool, start: int = 0, stop: int | None = None) -> int:
        """Consume the complete tokens of ``buf`` from ``start``; return where they end.
        With ``stop``, tokens from before it only (the last may end past it)."""
        pos = start
        end = len(buf) if stop is None else stop
        while True:
            start, pos = pos, _SPACE.match(buf, pos).end()  # type: ignore[union-attr]
            # Whitespace is a start too: none may stand before an XML declaration, even
            # when it fills the reads before the one where the declaration comes.
            self.started = self.started or pos > start
            if pos >= end:
                return pos
            if buf[pos] != 0x3C:  # '<': text outside any element that allows it
                raise _Unusual
            nxt = self._token(buf, pos)
            if nxt is None:  # the token runs past the buffer
                if eof:
                    raise _Unusual
                return pos
            pos = nxt

    def _token(self, buf: bytes, pos: int) -> int | None:
        if _CLASS_START.match(buf, pos) and not self.closed:
            return self._class(buf, pos)
        if buf.startswith(b"<!--", pos):
            close = buf.find(b"-->", pos + 4)
            if close < 0:
                return None
            body = buf[pos + 4 : close]
            if _BAD_COMMENT.search(body) or body.endswith(b"-"):
                raise _Unusual
            _text(body)
            # A comment is a start too: a declaration after it is an error for expat,
            # even when the comment filled the reads before the one where it comes.
            self.started = True
            return close + 3
        if len(buf) - pos < 5 and b"<?xml".startswith(buf[pos:]):
            return None  # too short to tell a declaration from a tag yet
        if buf.startswith(b"<?xml", pos):
            if self.started or pos != 0:
                raise _Unusual
            m = _DECL.match(buf, pos)
            if m is None:
                if buf.find(b"?>", pos) < 0:
                    return None
                raise _Unusual
            self.started = True
            return m.end()
        self.started = True
        if buf.startswith(b"<source>", pos):
            return self._source(buf, pos)
        m = _TAG.match(buf, pos)
        if m is None:
            if buf.find(b">", pos) < 0:
                return None
            raise _Unusual
        self._tag(m[1] == b"/", m[2], m[3], m[4] == b"/")
        return m.end()

    def _tag(self, closing: bool, name: bytes, attrs: bytes, empty: bool) -> None:
        if self.closed:
            raise _Unusual  # a second root, or anything after the root but comments
        if closing:
            if attrs or empty or not self.stack or self.stack[-1] != name:
                raise _Unusual
            self.stack.pop()
            self.closed = not self.stack
            return
        parent = self.stack[-1] if self.stack else None
        # (An element in <source attr="..."> has no entry: <source> holds only text.)
        if name not in _ALLOWED.get(parent, ()) or name == b"class":
            raise _Unusual
        named = _attrs(attrs)
        if name == b"coverage":
            if "clover" in named:
                raise _Unusual
            self.root = named
        if not empty:
            self.stack.append(name)
        elif name == b"coverage":
            self.closed = True

    def _source(self, buf: bytes, pos: int) -> int | None:
        m = _SOURCE.match(buf, pos)
        if m is None:
            if buf.find(b"</source>", pos) < 0:
                return None
            raise _Unusual
        if not self.stack or self.stack[-1] != b"sources" or b"]]>" in m[1]:
            raise _Unusual  # "]]>" may not appear in character data
        source = _text(m[1]).strip()
        if source:
            self.report.sources.append(source)
        return m.end()

    def _class(self, buf: bytes, pos: int) -> int | None:
        if not self.stack or self.stack[-1] != b"classes":
            raise _Unusual
        # The common case in one pass: the head, a canonical <lines> block matched in place
        # (where it ends is where the regex stops), then </lines> and </class>. The block
        # holds no '<' but its elements', so these are the ends the search below would find.
        head = _CLASS_HEAD.match(buf, pos)
        if head is not None and head[2] is None:
            start = block_end = head.end()
            # Numbers in ascending order: each pattern matches the lines of its length, and
            # the last to match one (a match holds its trailing whitespace) has the most digits.
            digits = 1
            for length, pattern in enumerate(_CANONICAL_BLOCKS, 1):
                end = pattern.match(buf, block_end).end()  # type: ignore[union-attr]
                if end > block_end:
                    digits, block_end = length, end
                if buf.startswith(b"</lines>", block_end):
                    break
            tail = _CLASS_TAIL.match(buf, block_end)
            if tail is not None:
                span = None if self.whole is None else (start, block_end)
                self._block(self._filename(head), buf[start:block_end], digits, span)
                return tail.end()
        return self._class_searched(buf, pos)

    def _filename(self, head: re.Match[bytes]) -> str:
        filename = _attrs(head[1]).get("filename")
        if not filename:
            raise _Unusual  # a nameless class: the full reader knows what to ignore
        return filename

    def _class_searched(self, buf: bytes, pos: int) -> int | None:
        """A class found by its ``</class>`` (any <lines> content, ``<lines/>``, or one
        that runs past the buffer)."""
        close = buf.find(b"</class>", pos)
        if close < 0:
            return None
        head = _CLASS_HEAD.match(buf, pos, close)
        if head is None:
            raise _Unusual
        filename = self._filename(head)
        if head[2] is not None:  # <lines/>
            self.report.files.setdefault(filename, bytearray())
            rest = buf[head.end() : close]
        else:
            lines_end = buf.rfind(b"</lines>", head.end(), close)
            if lines_end < 0:
                raise _Unusual
            rest = buf[lines_end + 8 : close]
            self._block(filename, buf[head.end() : lines_end])
        if rest.strip(b" \t\r\n"):
            raise _Unusual
        return close + 8

    def _block(
        self,
        filename: str,
        block: bytes,
        digits: int = 0,
        span: tuple[int, int] | None = None,
    ) -> None:
        """Record one class's ``<lines>``: kept undecoded if it is canonical, its numbers
        distinct and there is room; decoded now otherwise (a canonical block from its
        tokens, any other by its elements, keeping the stronger state of a repeated line).
        ``digits``: see ``_lazy``; ``span``: where the same bytes are in the whole
        document, to keep a view of instead of ``block``."""
        files = self.report.files
        if filename not in files:
            kept = None if span is None or self.whole is None else self.whole[slice(*span)]
            lazy = self._lazy(filename, block, digits, kept)
            if isinstance(lazy, LazyLines) and self.kept + len(block) > self.keep:
                files[filename] = lazy.table()  # no room to keep it: decoded now
                return
            if lazy is not None:
                files[filename] = lazy
                self.kept += len(block)
                if kept is not None and span is not None:
                    self.spans[filename] = span
                return
        lines = files[filename] = table(files.get(filename, bytearray()))
        self._lines(filename, lines, block)

    def _lazy(
        self,
        filename: str,
        block: bytes,
        digits: int = 0,
        kept: memoryview | None = None,
    ) -> LazyLines | bytearray | None:
        """Counts of a canonical block with distinct line numbers (C-level passes only),
        the table to be decoded on first use; ``None`` if it is not such a block.
        ``digits``: the caller has matched it already, and its line numbers have at most
        that many digits (0: not matched yet)."""
        if not digits and _CANONICAL_BLOCK.fullmatch(block) is None:
            return None
        # In a canonical block '%' stands only in condition-coverage="50% (1/2)": one
        # single-byte search says whether any line has branches.
        branched = b"%" in block
        tokens = _tokens(block)
        # Kept as read (a view of the whole document if there is one: no copy of its own);
        # the branch attributes are stripped again if it is ever decoded.
        raw: bytes | memoryview = block if kept is None else kept
        numbers = tokens[0::2]
        if len(set(numbers)) != len(numbers):
            return None  # a line listed twice: decoded now, keeping the stronger state
        if not numbers:
            return bytearray()
        # Charged now, not when the table is decoded: counts and lookups never decode it,
        # and a report the streaming reader refuses for its line numbers must not give
        # figures here. That reader's table grows geometrically, to at most twice the top
        # line, and the top is below 10 ** digits (numbers without leading zeros).
        _charge(2 * 10 ** (digits or max(map(len, numbers))))
        if branched:
            # Distinct lines (proved above): recorded at once, no Python step per line.
            columns = zip(*_BRANCH.findall(block), strict=True)
            at, ran, total = (list(map(int, column)) for column in columns)
            self.report.branches_of(filename).fill(at, total, ran)
        missed = tokens[1::2].count(b"0")  # canonical: "0" is exactly a missed line
        return kept_lines(raw, missed, len(numbers) - missed)

    def _lines(self, filename: str, lines: bytearray, block: bytes) -> None:
        missed = list(map(int, _MISSED.findall(block)))
        covered = list(map(int, _COVERED.findall(block)))
        # Every '<' must start a whole <line> of the known shape (a match holds exactly
        # one '<'), and between them, and before the first, only whitespace may stand.
        if block.count(b"<") != len(missed) + len(covered) or _STRAY.search(block):
            raise _Unusual
        if block.lstrip(b" \t\r\n")[:1] not in (b"<", b""):
            raise _Unusual
        if not missed and not covered:
            return
        top = max(max(missed, default=0), max(covered, default=0))
        if top > MAX_LINE or min(min(missed, default=1), min(covered, default=1)) < 1:
            raise _Unusual
        fresh = not lines
        if top >= len(lines):
            grow = top + 1 - len(lines)
            # Twice: the streaming reader grows its table geometrically, to up to twice
            # the top line, and must not be the one to run out of budget where this did not.
            _charge(2 * grow)
            lines.extend(bytes(grow))
        if fresh:
            # Missed first, then covered: a line listed both ways ends covered, the
            # streaming reader's per-line max. The stores run in C (map into a deque).
            deque(map(lines.__setitem__, missed, repeat(MISSED)), maxlen=0)
            deque(map(lines.__setitem__, covered, repeat(COVERED)), maxlen=0)
        else:  # a file named by an earlier class too: keep the stronger state
            for n in missed:
                if not lines[n]:
                    lines[n] = MISSED
            for n in covered:
                lines[n] = COVERED
        if b'branch="true"' in block:
            found = [(int(n), int(c), int(t)) for n, c, t in _BRANCH.findall(block)]
            branches = self.report.branches_of(filename)
            if branches.total:
                # Arrays an earlier class made (``fill``: exactly as long as needed) grow
                # from another size than the streaming reader's: charge all that reader's
                # arrays for this file could take (4 bytes a line, up to twice the top).
                _charge(8 * (max(n for n, _, _ in found) + 1) + 64)
            for number, covered_branches, total in found:
                branches.add(number, total, covered_branches)


def _tokens(block: bytes | memoryview) -> list[bytes]:
    """NUMBER, HITS, NUMBER, HITS... of a canonical block (its branch attributes, where
    '%' says it has some, removed first)."""
    data = bytes(block)
    if b"%" in data:
        data = _BRANCH_ATTR.sub(b"", data)
    return data.translate(None, _MARKUP).split()


def kept_lines(raw: bytes | memoryview, missed: int, covered: int) -> LazyLines:
    """The lines of a block ``_Reader._lazy`` proved canonical with distinct numbers,
    counted already, decoded when first looked at."""
    return LazyLines(missed, covered, lambda: _decode(raw), lambda wanted: _lookup(raw, wanted))


_STATE = {None: NOT_MEASURED, b"0": MISSED}
"""A line's state from its hit count token (``None``: not listed); any other is covered."""


def _lookup(block: bytes | memoryview, wanted: Sequence[int]) -> bytes:
    """The states of the lines ``wanted`` in a block ``_Reader._lazy`` proved canonical with
    distinct numbers, without a table: numbers are canonical, so ``str(n)`` is the key."""
    tokens = _tokens(block)
    hits = dict(zip(tokens[0::2], tokens[1::2], strict=True))
    found = map(hits.get, map(str.encode, map(str, wanted)))
    return bytes(map(_STATE.get, found, repeat(COVERED)))


def _decode(block: bytes | memoryview) -> bytearray:
    """The line table of a block ``_Reader._lazy`` proved canonical with distinct numbers;
    its memory was charged to the budget when it was read."""
    tokens = _tokens(block)
    numbers = list(map(int, tokens[0::2]))
    lines = bytearray(max(numbers) + 1)
    # hits "0" -> MISSED (1), anything else -> COVERED (2); the stores run in C.
    states = map(add, map(b"0".__ne__, tokens[1::2]), repeat(MISSED))
    deque(map(lines.__setitem__, numbers, states), maxlen=0)
    return lines
