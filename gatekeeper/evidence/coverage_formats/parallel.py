"""Reading one report in several processes: the mechanism the format readers share.

A reader cuts a report into parts (``cuts``) where its format lets a part be read on its
own, reads the first here and has forked workers read the others (``split_work``), each
sending back what it found, ``marshal``-ed; it joins those only where that is provably
the one-pass result, and otherwise reads the report in one pass (``in_parallel`` gives the
line-table budget back). ``cobertura_parallel`` and ``lcov_parallel`` use it; their
readers import it only for a report large enough to be worth it.

Only on Linux, where ``fork`` is cheap and safe for a process without threads, and only
when there are no other threads (a lock one of them held would stay held in the copy) and
SIGCHLD is left alone (ignored, the kernel reaps the workers; a handler may reap them: no
exit status to read, and a pid to SIGKILL that may be another process's by then); never
more workers than the cgroup's CPU limit.

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
from typing import Any, TypeVar

from gatekeeper.evidence.coverage_formats import Branches, ParsedReport, _budget

T = TypeVar("T")

MAX_WORKERS = 4
"""Pieces at most: past a few, forking and joining cost more than they save."""
WINDOW = 1 << 20
"""Bytes of a file searched for a cut after each target (a part boundary, such as a
Cobertura class or an LCOV record, is rarely further)."""


def in_parallel(attempt: Callable[[int], T | None]) -> T | None:
    """``attempt(processes)``'s answer where several processes may read a report
    (``workers``); ``None``: read it in one pass. If the attempt gives up, the line-table
    budget is as it was before it: the one pass decides."""
    processes = workers()
    if processes < 2:
        return None
    budget = _budget.get(None)
    left = budget[0] if budget is not None else 0
    found = attempt(processes)
    if found is None and budget is not None:
        budget[0] = left
    return found


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


def file_finder(fd: int, needle: bytes, after: int = 0) -> Callable[[int], int]:
    """``cuts``'s ``find`` for the open file ``fd``: where ``needle`` is first found from a
    target (within ``WINDOW`` bytes), plus ``after``; -1 if not there."""

    def find(target: int) -> int:
        at = os.pread(fd, WINDOW, target).find(needle)
        return target + at + after if at >= 0 else -1

    return find


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
