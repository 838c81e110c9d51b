"""Read a large Cobertura document on several cores, with the one-pass reader's result.

The fast reader's work is per class (a regex proof of the ``<lines>`` block, its counts)
and a coverage.py report is thousands of classes, so the document held in memory is cut
at ``<class`` starts into one piece per core. This process reads the first piece; a
forked copy of it reads each other piece, as the one-pass reader would go on from a
``<class>`` start (stack ``coverage/packages/package/classes``), and sends back what it
found in a few ``marshal``-ed lists: per file the counts and the span of its kept block
in the shared document (or its decoded table), the branch arrays, ``<source>`` texts and
the line-table budget it used.

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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from gatekeeper.evidence.coverage_formats import (
    Branches,
    LazyLines,
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
)

MAX_WORKERS = 4
"""Pieces at most: past a few, forking and joining cost more than they save."""

Piece = tuple[list[tuple[str, tuple[int, int, int, int] | bytes | bytearray]],
              list[tuple[str, bytes, bytes]], list[str], int]
"""What a worker sends back: files (name, (start, end, missed, covered) of a kept block or
its table), branches (name, totals, covered, as 16-bit arrays' bytes), sources, budget used."""


def workers() -> int:
    """How many processes may read one document (1: read it in this one)."""
    if (
        sys.platform != "linux"
        or threading.active_count() > 1
        or signal.getsignal(signal.SIGCHLD) != signal.SIG_DFL
    ):
        return 1
    return min(MAX_WORKERS, len(os.sched_getaffinity(0)))


def cuts(data: bytes, pieces: int) -> list[int]:
    """Where to cut ``data`` into about ``pieces`` equal pieces: at ``<class `` starts,
    in ascending order, neither at 0 nor at the end."""
    found: list[int] = []
    for k in range(1, pieces):
        at = data.find(b"<class ", max(k * len(data) // pieces, found[-1] + 1 if found else 1))
        if at < 0:
            break
        found.append(at)
    return found


def read(reader: _Reader, data: bytes, pieces: int) -> bool:
    """Feed ``reader`` (fresh, for all of ``data``) the document, cut into up to ``pieces``
    read side by side; ``False`` if the pieces do not provably make the one-pass result
    (``reader`` is then spent: read again with a new one)."""
    bounds = [0, *cuts(data, pieces), len(data)]
    if len(bounds) < 3:
        return False
    started: list[tuple[int, int]] = []  # workers not reaped yet, their pipes still open
    try:
        with _undisturbed():  # and so is every worker, for good
            for k in range(1, len(bounds) - 1):
                started.append(_start(reader.report.path, data, bounds[k], bounds[k + 1]))
        if reader.feed(data, eof=False, stop=bounds[1]) != bounds[1] or not _open(reader):
            return False
        while started:
            piece = _result(started)
            if piece is None or not _join(reader, piece):
                return False
        # The last piece's reader closed the root after the rest of the document.
        reader.stack = []
        reader.closed = True
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


def _start(path: Path, data: bytes, start: int, stop: int) -> tuple[int, int]:
    """Fork a worker reading ``data[start:stop]``: its pid and the pipe to read it from."""
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
            piece = _piece(path, data, start, stop)
            with os.fdopen(wfd, "wb") as out:
                out.write(marshal.dumps(piece))
            code = 0
        except BaseException:
            pass  # the parent sees the exit code
        finally:
            os._exit(code)
    os.close(wfd)  # or the next worker would hold this pipe open too
    return pid, rfd


def _piece(path: Path, data: bytes, start: int, stop: int) -> Piece | None:
    """Read one piece as the one-pass reader would from a ``<class>`` start; ``None`` if
    it does not end where the next piece starts (or the document there) or is unusual."""
    budget = _budget.get(None)
    left = budget[0] if budget is not None else 0
    reader = _Reader.whole_of(path, data)
    reader.resume_in_classes()
    last = stop == len(data)
    try:
        end = reader.feed(data, eof=last, start=start, stop=stop)
    except (_Unusual, ReportFormatError, ValueError):
        return None
    if end != stop or not (reader.closed if last else _open(reader)):
        return None
    report = reader.report
    files: list[tuple[str, tuple[int, int, int, int] | bytes | bytearray]] = []
    for name, lines in report.files.items():
        span = reader.spans.get(name)
        if isinstance(lines, LazyLines) and span is not None:
            files.append((name, (*span, lines.missed, lines.covered)))
        else:
            files.append((name, table(lines)))  # marshal sends it as bytes
    branches = [
        (name, found.total.tobytes(), found.covered.tobytes())
        for name, found in report.branches.items()
    ]
    # Tables are sent as copies (and copied again to be joined): a few small ones in a
    # real report, but a hostile one can decode a megabyte from a line of text. More table
    # than text, and the one pass reads it, with no copies (the budget bounds its tables).
    tables = sum(len(lines) for _, lines in files if not isinstance(lines, tuple))
    if tables + sum(len(total) * 2 for _, total, _ in branches) > stop - start:
        return None
    used = left - budget[0] if budget is not None else 0
    return files, branches, report.sources, used


def _result(started: list[tuple[int, int]]) -> Piece | None:
    """The first worker's piece, once it has exited and is off ``started``; ``None`` if
    it failed or found none."""
    pid, fd = started[0]
    with open(fd, "rb", closefd=False) as source:
        sent = source.read()  # may be interrupted: the worker is still on ``started``
    with _undisturbed():
        started.pop(0)
        os.close(fd)
        _, status = os.waitpid(pid, 0)  # it closed its pipe: it is exiting
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        piece: Piece | None = marshal.loads(sent)
    except (EOFError, ValueError, TypeError):
        return None  # it exited without its answer (or with part of one)
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
    whole = reader.whole
    assert whole is not None
    for name, lines in files:
        if name in report.files:
            return False
        if isinstance(lines, tuple):
            start, stop, missed, covered = lines
            report.files[name] = kept_lines(whole[start:stop], missed, covered)
            reader.spans[name] = (start, stop)
        else:
            report.files[name] = bytearray(lines)
    for name, total, covered_branches in branches:
        found = report.branches[name] = Branches()
        found.total = array("H", total)
        found.covered = array("H", covered_branches)
    report.sources.extend(sources)
    _charge(used)
    return True
