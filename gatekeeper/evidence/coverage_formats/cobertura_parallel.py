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

Only on Linux, where ``fork`` is cheap and safe for a process without threads, and only
when there are no other threads (a lock one of them held would stay held in the copy) and
SIGCHLD is left alone (ignored, the kernel reaps the workers; a handler may reap them: no
exit status to read, and a pid to SIGKILL that may be another process's by then).

A worker is a copy of the caller's process, so it must never run the caller's code: it is
forked with every signal blocked and the garbage collector off, and keeps them so until
``os._exit`` (no handler raising KeyboardInterrupt into the caller's frames, no finalizer
of the caller's garbage flushing or deleting anything a second time). The parent's
bookkeeping of its workers is not interrupted either (none is left behind, not even a
zombie, nor a pipe); a fork or pipe the system refuses means one pass.
"""

from __future__ import annotations

import gc
import marshal
import os
import signal
import sys
import threading
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

from gatekeeper.evidence.coverage_formats import (
    Branches,
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

MAX_WORKERS = 4
"""Pieces at most: past a few, forking and joining cost more than they save."""
CUT = b"<class "
WINDOW = 1 << 20
"""Bytes of a file searched for a cut after each target (a class is rarely this long)."""

Piece = tuple[list[tuple[str, tuple[int, int, int, int] | bytes | bytearray]],
              list[tuple[str, bytes, bytes]], list[str], int]
"""What a worker sends back: files (name, (start, end, missed, covered) of a kept block or
its table), branches (name, totals, covered, as 16-bit arrays' bytes), sources, budget used."""

Feed = Callable[[_Reader, int, int, bool], bool]
"""Feed a reader its piece (start, stop, last): whether it ended exactly at ``stop``."""


def workers() -> int:
    """How many processes may read one document (1: read it in this one)."""
    if (
        sys.platform != "linux"
        or threading.active_count() > 1
        or signal.getsignal(signal.SIGCHLD) != signal.SIG_DFL
    ):
        return 1
    return min(MAX_WORKERS, len(os.sched_getaffinity(0)), _quota())


CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
"""cgroup v2's CPU limit of this process's group (a container's ``--cpus``, a pod's limit)."""


def _quota() -> int:
    """Cores this process's cgroup may use at once (``MAX_WORKERS`` if unlimited or not
    known). A container limited to one CPU still sees every core of its host in its
    affinity: workers there would only take turns, and be throttled."""
    try:
        quota, period = CPU_MAX.read_text().split()[:2]
        if quota == "max":
            return MAX_WORKERS
        return max(1, int(quota) // int(period))
    except (OSError, ValueError):
        return MAX_WORKERS


def cuts(size: int, pieces: int, find: Callable[[int], int]) -> list[int]:
    """Where to cut a document of ``size`` bytes into about ``pieces`` equal pieces: at
    ``find(target)``, the first ``<class `` from ``target`` (-1: none), ascending, neither
    at 0 nor at the end."""
    found: list[int] = []
    for k in range(1, pieces):
        at = find(max(k * size // pieces, found[-1] + 1 if found else 1))
        if at < 0:
            break
        found.append(at)
    return found


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

    def find(target: int) -> int:
        at = os.pread(fd, WINDOW, target).find(CUT)
        return target + at if at >= 0 else -1

    def feed(reader: _Reader, start: int, stop: int, last: bool) -> bool:
        part = FilePart(fd, start, None if last else stop)
        return read_in_pieces(part.read, reader, eof=last) and (last or part.pos == stop)

    def new() -> _Reader:
        return _Reader(ParsedReport(path, "cobertura"))

    def worker() -> _Reader:
        reader = new()
        reader.keep = 0  # a kept block would have to be sent whole: send its table
        return reader

    bounds = [0, *cuts(size, pieces, find), size]
    return _read(bounds, new, feed, worker)


class FilePart:
    """Reads of one part of a file, from ``pos`` to ``stop`` (``None``: its end)."""

    def __init__(self, fd: int, pos: int, stop: int | None) -> None:
        self.fd, self.pos, self.stop = fd, pos, stop

    def read(self, size: int) -> bytes:
        if self.stop is not None:
            size = min(size, self.stop - self.pos)
        if size <= 0:
            return b""
        chunk = os.pread(self.fd, size, self.pos)
        self.pos += len(chunk)
        return chunk


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


def split_work(
    bounds: list[int],
    own: Callable[[], bool],
    work: Callable[[int, int, bool], object],
    join: Callable[[Any], bool],
) -> bool:
    """Between ``bounds``: ``own()`` does the first piece here, a forked worker sends back
    ``work(start, stop, last)`` of each other piece (``None``: it could not), ``join``
    takes those in order; whether all three succeeded for every piece. Exceptions of
    ``own`` and ``join`` go to the caller; workers are ended and reaped whatever happens."""
    started: list[tuple[int, int]] = []  # workers not reaped yet, their pipes still open
    try:
        with _undisturbed():  # and so is every worker, for good
            for k in range(1, len(bounds) - 1):
                last = k == len(bounds) - 2
                started.append(_start(partial(work, bounds[k], bounds[k + 1], last)))
        if not own():
            return False
        while started:
            piece = _result(started)
            if piece is None or not join(piece):
                return False
        return True
    except OSError:
        # No process or pipe to be had (a runner's limits, which a pull request's tests
        # can exhaust), or no exit status (the kernel reaped a worker): one pass reads.
        return False
    finally:
        with _undisturbed():
            for pid, fd in started:
                _stop(pid, fd)


@contextmanager
def _undisturbed() -> Iterator[None]:
    """No signal handler and no garbage collection in between. A worker forked here
    keeps both off (it never leaves this block: ``os._exit``), so it never runs the
    caller's handlers or finalizers; the parent's bookkeeping of its workers is never
    left halfway (a signal comes after it)."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _open(reader: _Reader) -> bool:
    """Whether the reader stands where the next piece's reader started."""
    return reader.stack == IN_CLASSES and not reader.closed


def _start(work: Callable[[], Any]) -> tuple[int, int]:
    """Fork a worker that sends back ``work()`` (``marshal``-ed): its pid and the pipe to
    read it from."""
    rfd, wfd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(rfd)
        os.close(wfd)
        raise
    if pid == 0:  # the worker: never returns, whatever happens
        code = 1
        try:
            os.close(rfd)
            piece = work()
            with os.fdopen(wfd, "wb") as out:
                out.write(marshal.dumps(piece))
            code = 0
        except BaseException:
            pass  # the parent sees the exit code
        finally:
            os._exit(code)
    os.close(wfd)  # or the next worker would hold this pipe open too
    return pid, rfd


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


def _result(started: list[tuple[int, int]]) -> Any:
    """The first worker's piece, once it has exited and is off ``started``; ``None`` if
    it failed or found none."""
    pid, fd = started[0]
    piece = None
    # Decoded as it arrives: the whole message and its objects are never both held.
    with open(fd, "rb", closefd=False) as source:  # may be interrupted: still on ``started``
        with suppress(EOFError, ValueError, TypeError):  # no answer, or part of one
            piece = marshal.load(source)
        source.read()  # to the end: the worker has closed its pipe, it is exiting
    with _undisturbed():
        started.pop(0)
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    return piece


def _stop(pid: int, fd: int) -> None:
    """End a worker whose piece is no longer wanted."""
    os.close(fd)
    # Not reaped yet, so the pid is still this worker's (unless SIGCHLD was set where
    # ``workers`` cannot see it, in C: then kill and wait may find none).
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with suppress(ChildProcessError):
        os.waitpid(pid, 0)


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


def sent_branches(report: ParsedReport) -> list[tuple[str, bytes, bytes]]:
    """A worker's branches, to be sent: per file its two arrays as bytes."""
    return [
        (name, found.total.tobytes(), found.covered.tobytes())
        for name, found in report.branches.items()
    ]


def add_branches(report: ParsedReport, branches: list[tuple[str, bytes, bytes]]) -> None:
    """The branches a worker sent (``sent_branches``), for files new to ``report``."""
    for name, total, covered in branches:
        found = report.branches[name] = Branches()
        found.total = array("H", total)
        found.covered = array("H", covered)
