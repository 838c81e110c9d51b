"""Read a large Cobertura document on several cores, with the one-pass reader's result.

The fast reader's work is per class (a regex proof of the ``<lines>`` block, its counts)
and a coverage.py report is thousands of classes, so the document is cut at ``<class``
starts into one piece per core. This process reads the first piece; a forked copy of it
reads each other piece, as the one-pass reader would go on from a ``<class>`` start
(stack ``coverage/packages/package/classes``), and sends back what it found in a few
``marshal``-ed lists: per file its decoded table, or, for a document held in memory
(``read``), its counts and the span of its block in the shared document; the branch
arrays, ``<source>`` texts and the line-table budget it used. A document too large to
hold (``read_file``) is read by each process from its own part of the file, ``CHUNK``
bytes at a time, so memory stays bounded per process.

Pieces join only where the proof holds: each piece but the last must end exactly at the
next cut with ``classes`` open (a cut inside a comment, or anything else that is not
a ``<class>`` start, fails this), the last must close the root, and no file may appear in
two pieces (the one-pass reader merges those). Anything else, a worker that fails or
dies, or one that finds the document unusual, and ``read`` says no: the caller reads the
document in one pass, which then decides. So the figures are always the one pass's.

The fork, the wait and the join, and when workers may be used at all, are ``parallel``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gatekeeper.evidence.coverage_formats import (
    LazyLines,
    ParsedReport,
    _budget,
    _charge,
    table,
)
from gatekeeper.evidence.coverage_formats.cobertura_fast import (
    IN_CLASSES,
    ReportFormatError,
    _Reader,
    _Unusual,
    kept_lines,
    read_in_pieces,
)
from gatekeeper.evidence.coverage_formats.parallel import (
    FilePart,
    add_branches,
    cuts,
    file_finder,
    sent_branches,
    split_work,
)

CUT = b"<class "
Piece = tuple[list[tuple[str, tuple[int, int, int, int] | bytes | bytearray]],
              list[tuple[str, bytes, bytes]], list[str], int]
"""What a worker sends back: files (name, (start, end, missed, covered) of a kept block or
its table), branches (name, totals, covered, as 16-bit arrays' bytes), sources, budget used."""

Feed = Callable[[_Reader, int, int, bool], bool]
"""Feed a reader its piece (start, stop, last): whether it ended exactly at ``stop``."""


def read(path: Path, data: bytes, pieces: int) -> _Reader | None:
    """The reader of ``data``, the whole document, cut into up to ``pieces`` read side by
    side; ``None`` if the pieces do not provably make the one-pass result."""

    def feed(reader: _Reader, start: int, stop: int, last: bool) -> bool:
        return reader.feed(data, eof=last, start=start, stop=stop) == stop

    bounds = [0, *cuts(len(data), pieces, lambda at: data.find(CUT, at)), len(data)]
    return _read(bounds, lambda: _Reader.whole_of(path, data), feed)


def read_file(path: Path, fd: int, size: int, pieces: int) -> _Reader | None:
    """``read`` for a document too large to hold: each process reads its part of the open
    file ``fd`` (``os.pread``: no shared file position) ``CHUNK`` bytes at a time, and the
    workers decode their tables (memory per process stays bounded)."""

    def feed(reader: _Reader, start: int, stop: int, last: bool) -> bool:
        part = FilePart(fd, start, None if last else stop)
        return read_in_pieces(part.read, reader, eof=last) and (last or part.pos == stop)

    def new() -> _Reader:
        return _Reader(ParsedReport(path, "cobertura"))

    def worker() -> _Reader:
        reader = new()
        reader.keep = 0  # a kept block would have to be sent whole: send its table
        return reader

    bounds = [0, *cuts(size, pieces, file_finder(fd, CUT)), size]
    return _read(bounds, new, feed, worker)


def _read(
    bounds: list[int],
    new: Callable[[], _Reader],
    feed: Feed,
    worker: Callable[[], _Reader] | None = None,
) -> _Reader | None:
    """Read the pieces between ``bounds``: the first here with a ``new`` reader, each
    other in a worker (its reader from ``worker``, default ``new``); join them."""
    if len(bounds) < 3:
        return None
    reader = new()

    def own() -> bool:
        return feed(reader, 0, bounds[1], False) and _open(reader)

    def work(start: int, stop: int, last: bool) -> Piece | None:
        return _piece((worker or new)(), feed, start, stop, last)

    if not split_work(bounds, own, work, lambda piece: _join(reader, piece)):
        return None
    # The last piece's reader closed the root after the rest of the document.
    reader.stack = []
    reader.closed = True
    return reader


def _open(reader: _Reader) -> bool:
    """Whether the reader stands where the next piece's reader started."""
    return reader.stack == IN_CLASSES and not reader.closed


def _piece(reader: _Reader, feed: Feed, start: int, stop: int, last: bool) -> Piece | None:
    """Read one piece as the one-pass reader would from a ``<class>`` start; ``None`` if
    it does not end where the next piece starts (or the document there) or is unusual."""
    budget = _budget.get(None)
    left = budget[0] if budget is not None else 0
    reader.resume_in_classes()
    try:
        if not feed(reader, start, stop, last):
            return None
    except (_Unusual, ReportFormatError, ValueError):
        return None
    if not (reader.closed if last else _open(reader)):
        return None
    report = reader.report
    files: list[tuple[str, tuple[int, int, int, int] | bytes | bytearray]] = []
    for name, lines in report.files.items():
        span = reader.spans.get(name)
        if isinstance(lines, LazyLines) and span is not None:
            files.append((name, (*span, lines.missed, lines.covered)))
        else:
            files.append((name, table(lines)))  # marshal sends it as bytes
    branches = sent_branches(report)
    # Tables are sent as copies (and copied again to be joined): a few small ones in a
    # real report, but a hostile one can decode a megabyte from a line of text. More table
    # than text, and the one pass reads it, with no copies (the budget bounds its tables).
    tables = sum(len(lines) for _, lines in files if not isinstance(lines, tuple))
    if tables + sum(len(total) * 2 for _, total, _ in branches) > stop - start:
        return None
    used = left - budget[0] if budget is not None else 0
    return files, branches, report.sources, used


def _join(reader: _Reader, piece: Piece) -> bool:
    """Add a worker's piece to what ``reader`` read; ``False`` if a file of it was in an
    earlier piece (the one-pass reader merges those, keeping the stronger state)."""
    files, branches, sources, used = piece
    report = reader.report
    for k, (name, lines) in enumerate(files):
        if name in report.files:
            return False
        if isinstance(lines, tuple):  # only a worker of ``read`` sends spans
            whole = reader.whole
            assert whole is not None
            start, stop, missed, covered = lines
            report.files[name] = kept_lines(whole[start:stop], missed, covered)
            reader.spans[name] = (start, stop)
        else:
            report.files[name] = bytearray(lines)
            files[k] = (name, b"")  # its copy is the table now: no need for both
    add_branches(report, branches)
    report.sources.extend(sources)
    _charge(used)
    return True


