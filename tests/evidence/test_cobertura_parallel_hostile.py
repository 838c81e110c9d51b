"""Hostile documents and a hostile process against the Cobertura reader on several cores.

The invariant: whatever the document and wherever it is cut, the pieces give exactly the
one-pass reader's answer (the same figures, or ``None`` where it says ``None``). The cuts
here are forced, at any position (the real reader cuts at ``<class `` starts only, a
subset), so that every place a cut can land is tried. And the workers are copies of the
caller's process: none may run the caller's code, be left behind, or leak a descriptor,
whatever the process is doing (signals, failing forks, ignored SIGCHLD, pending garbage).
"""

from __future__ import annotations

import gc
import os
import signal
import threading
from contextlib import suppress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.evidence.coverage_formats import (
    ParsedReport,
    cobertura_fast,
    cobertura_parallel,
    parallel,
)
from tests.evidence.test_cobertura_fast import doc, klass, same, write
from tests.evidence.test_cobertura_parallel import body

Result = tuple[ParsedReport, dict[str, str]] | None


def one_pass(path: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    with monkeypatch.context() as m:
        m.setattr(cobertura_fast, "PARALLEL_MIN", 1 << 40)
        return cobertura_fast.read_fast(path)


def in_pieces(
    path: Path, monkeypatch: pytest.MonkeyPatch, at: list[int], spawned: list[int],
    large: bool = False,
) -> tuple[Result, bool]:
    """The reader's answer with the document cut at ``at``, and whether the pieces joined
    (the workers' pids added to ``spawned``). ``large``: as a document too large to hold
    (each process reads its part of the file)."""
    answers: list[bool] = []
    name = "read_file" if large else "read"
    real = getattr(cobertura_parallel, name)
    fork = os.fork

    def recorded() -> int:
        pid = fork()
        if pid:
            spawned.append(pid)
        return pid

    def spy(*args: object) -> object:
        reader = real(*args)
        answers.append(reader is not None)
        return reader

    with monkeypatch.context() as m:
        m.setattr(cobertura_fast, "PARALLEL_MIN", 0)
        m.setattr(parallel, "workers", lambda: len(at) + 1)
        m.setattr(cobertura_parallel, "cuts", lambda size, pieces, find: list(at))
        m.setattr(cobertura_parallel, name, spy)
        if large:
            m.setattr(cobertura_fast, "READ_AT_ONCE", 0)
        m.setattr(os, "fork", recorded)
        result = cobertura_fast.read_fast(path)
    return result, answers == [True]


def agree(a: Result, b: Result) -> None:
    """The same answer: both ``None``, or the same files in the same order, the same
    figures and the same root."""
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        same(a[0], b[0])
        assert list(a[0].files) == list(b[0].files)
        assert a[1] == b[1]


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def check_cuts(
    path: Path, monkeypatch: pytest.MonkeyPatch, cuts: list[list[int]], large: bool = False
) -> int:
    """Each set of cuts gives the one pass's answer, and no worker or descriptor stays
    behind; how many of them joined."""
    expected = one_pass(path, monkeypatch)
    joined = 0
    before = open_fds()
    spawned: list[int] = []
    for at in cuts:
        found, ok = in_pieces(path, monkeypatch, at, spawned, large)
        agree(found, expected)
        joined += ok
    assert open_fds() == before
    assert _reaped(spawned)  # no worker left, not even a zombie
    return joined


def _class_starts(data: bytes) -> list[int]:
    """Where the real reader may cut: every ``<class `` (in a comment too)."""
    found, at = [], data.find(b"<class ")
    while at >= 0:
        found.append(at)
        at = data.find(b"<class ", at + 1)
    return found


GHOST = klass('<line number="1" hits="1"/>\n', "ghost.py")
"""A class that is text in the documents below (in a comment, a CDATA section...)."""

CRAFTED = {
    "class in a comment between classes": doc(body(3) + f"<!-- {GHOST} -->\n" + body(3, prefix="n")),
    "class in a comment before the declaration": f"<!-- {GHOST} -->\n" + doc(body(4)),
    "class in a comment before the root": doc(body(4)).replace(
        "<coverage ", f"<!-- {GHOST} -->\n<coverage ", 1),
    "class in a comment after the root": doc(body(4)) + f"<!-- {GHOST} -->\n",
    "class after the root": doc(body(4)) + GHOST,
    "class in a doctype": doc(body(4)).replace(
        "<coverage ", f"<!DOCTYPE coverage [ <!-- {GHOST} --> ]>\n<coverage ", 1),
    "class in a CDATA source": doc(body(4)).replace(
        "<source>/work/app</source>", f"<source><![CDATA[{GHOST}]]></source>"),
    "class in a processing instruction": doc(body(2) + f"<?pi {GHOST} ?>\n" + body(2, prefix="n")),
    "class in an attribute value": doc(body(2)).replace(
        '<package name="."', f'<package name="{GHOST.strip()}"'),
    "class in a source": doc(body(4)).replace("/work/app", GHOST.strip()),
    "class under sources": doc(body(4)).replace("<source>/work/app</source>", GHOST),
    "class under packages": doc(body(3)).replace("<packages>", "<packages>" + GHOST, 1),
    "class under package": doc(body(3)).replace("<classes>", GHOST + "<classes>", 1),
    "class in a class": doc(body(2) + GHOST.replace("<lines>", "<lines>" + GHOST) + body(2, prefix="n")),
    "class in a second root": doc(body(3)) + doc(body(3, prefix="n")).split("?>", 1)[1],
    "class before the root": GHOST + doc(body(3)),
    "a second packages": doc(body(3)).replace(
        "\t</packages>\n",
        '\t</packages>\n\t<packages><package name="q"><classes>' + body(3, prefix="q")
        + "</classes></package></packages>\n"),
    "a second package": doc(body(3)).replace(
        "\t\t</package>\n",
        '\t\t</package>\n<package name="q"><classes>' + body(3, prefix="q") + "</classes></package>\n"),
    "sources after packages": doc(body(3)).replace(
        "\t</packages>\n",
        "\t</packages>\n\t<sources><source>/late</source></sources>\n\t<packages><package name="
        '"q"><classes>' + body(3, prefix="q") + "</classes></package></packages>\n"),
    "classes closed early": doc(body(2) + "</classes><classes>" + body(2, prefix="n")),
    "root closed in the middle": doc(body(2) + "</classes></package></packages></coverage>"
                                     + body(2, prefix="n")),
    "a file in the first and last piece": doc(body(4) + klass('<line number="3" hits="7"/>\n', "m0.py")),
    "a file as lines/ then lines": doc(
        klass("", "x.py").replace("<lines>\n\t\t\t\t\t</lines>", "<lines/>") + body(3)
        + klass('<line number="2" hits="1"/>\n', "x.py")),
    "a file with lines then lines/": doc(
        klass('<line number="2" hits="0"/>\n', "x.py") + body(3)
        + klass("", "x.py").replace("<lines>\n\t\t\t\t\t</lines>", "<lines/>")),
    "a file in two classes with branches": doc(
        klass('<line number="5" hits="0" branch="true" condition-coverage="0% (0/2)"/>\n', "x.py")
        + body(3) + klass('<line number="5" hits="1" branch="true" condition-coverage="50% (1/2)"/>\n',
                          "x.py")),
    "composed and decomposed names": doc(
        klass('<line number="1" hits="0"/>\n', "caf\u00e9.py") + body(3)
        + klass('<line number="1" hits="1"/>\n', "cafe\u0301.py")),
    "a name with an entity": doc(body(3) + klass('<line number="1" hits="1"/>\n', "m0&#46;py")),
    "a name with a tab": doc(body(3) + klass('<line number="1" hits="1"/>\n', "m0\t.py")),
    "repeated lines in a later class": doc(body(3) + klass(
        '<line number="2" hits="0"/>\n<line number="2" hits="4"/>\n', "z.py")),
    "line numbers out of order": doc(body(2) + klass(
        '<line number="20" hits="0"/>\n<line number="3" hits="4"/>\n', "z.py")),
    "an unclosed comment": doc(body(3)).replace("</classes>", "<!-- </classes>", 1),
    "a truncated class": doc(body(4))[:-200],
    "whitespace before the declaration": "\n" + doc(body(3)),
    "a second declaration": doc(body(2) + '<?xml version="1.0"?>' + body(2, prefix="n")),
    "an unknown element between classes": doc(body(2) + "<extra/>" + body(2, prefix="n")),
    "text between classes": doc(body(2) + "text" + body(2, prefix="n")),
    "a class tag with no space": doc(body(2) + GHOST.replace("<class name", "<class\tname")
                                     + body(2, prefix="n")),
}


@pytest.mark.parametrize("large", [False, True], ids=["held", "too large to hold"])
@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_wherever_a_crafted_document_is_cut_the_answer_is_the_one_pass_s(
    tmp_path, monkeypatch, case, large
) -> None:
    """Every '<class' is a cut on its own, and a few pairs and triples of them: the
    pieces either join into the one pass's figures or leave the document to it. Held in
    memory, or read by each process from its part of the file."""
    path = write(tmp_path, CRAFTED[case])
    starts = _class_starts(path.read_bytes())
    assert starts
    sets = [[at] for at in starts] + [starts[::2], starts[1::2], starts[::3], starts[-3:]]
    joined = check_cuts(path, monkeypatch, [sorted(set(at)) for at in sets if at], large)
    # Some join wherever the one pass gives figures (none of these cuts a file in two);
    # none where it gives none.
    assert bool(joined) == (one_pass(path, monkeypatch) is not None)


def test_a_piece_with_more_table_than_text_is_left_to_the_one_pass(tmp_path, monkeypatch) -> None:
    """A line at 900000 in a block the reader decodes at once (hits="00") is a 900 kB
    table from 40 bytes: a worker would send a copy of it, to be copied again. The one
    pass reads such a document (its budget bounds the tables it holds, not the copies)."""
    bombs = "".join(klass('<line number="900000" hits="00"/>\n', f"b{i}.py") for i in range(3))
    path = write(tmp_path, doc(bombs + body(6)))
    at = _class_starts(path.read_bytes())
    expected = one_pass(path, monkeypatch)
    assert expected is not None
    spawned: list[int] = []
    found, joined = in_pieces(path, monkeypatch, [at[1], at[6]], spawned)
    assert not joined
    agree(found, expected)
    found, joined = in_pieces(path, monkeypatch, [at[3], at[6]], spawned)  # read by this process
    assert joined
    agree(found, expected)
    assert _reaped(spawned)


def test_a_cut_anywhere_is_the_one_pass_s(tmp_path, monkeypatch) -> None:
    """Not only at '<class': in the middle of a tag, a comment, whitespace, a source;
    before '</classes>' (where the reader stands in <classes> too)."""
    text = doc(body(2, 4) + f"<!-- {GHOST} -->" + body(2, 4, prefix="n"))
    path = write(tmp_path, text)
    data = path.read_bytes()
    joined = check_cuts(path, monkeypatch, [[at] for at in range(1, len(data), 5)])
    assert joined  # a few land between classes, where the pieces join


_LINES = st.sampled_from(
    [
        '<line number="1" hits="1"/>\n<line number="2" hits="0"/>\n',  # kept undecoded
        '<line number="3" hits="2" branch="true" condition-coverage="50% (1/2)"/>\n',
        '<line number="2" hits="0"/>\n<line number="2" hits="1"/>\n',  # a line twice
        '<line number="40" hits="00"/>\n',  # not canonical: decoded at once
        '<line number="900000" hits="1"/>\n',
        "",
    ]
)
_CHUNKS = st.one_of(
    st.builds(klass, _LINES, st.sampled_from([f"{name}.py" for name in "abcdefghijkl"])),
    st.sampled_from(
        [
            klass("", "d.py").replace("<lines>\n\t\t\t\t\t</lines>", "<lines/>"),
            f"<!-- {GHOST} -->\n",
            "\n",
            '</classes></package><package name="q"><classes>',
            "</classes></package></packages><sources><source>/s</source></sources>"
            '<packages><package name="r"><classes>',
        ]
    ),
)
_DAMAGE = st.sampled_from([b"", b"<", b">", b'"', b"/", b"-", b" ", b"&", b"<class ", b"<!--", b"-->"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chunks=st.lists(_CHUNKS, min_size=1, max_size=8),
    damage=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), _DAMAGE), max_size=2),
    cuts=st.lists(st.floats(0, 1), min_size=1, max_size=3),
    at_class=st.booleans(),
    large=st.booleans(),
)
def test_any_damaged_document_cut_anywhere_is_the_one_pass_s(
    tmp_path, monkeypatch, chunks, damage, cuts, at_class, large
) -> None:
    """A differential fuzzer: a coverage.py-like document of classes, comments holding a
    class, repeated files, later packages and sources; bytes deleted or XML
    punctuation put in; then cut at '<class' starts or anywhere."""
    data = doc("".join(chunks)).encode()
    for where, drop, put in damage:
        at = int(where * len(data))
        data = data[:at] + put + data[at + drop:]
    path = write(tmp_path, data, "fuzz.xml")
    starts = _class_starts(data) if at_class else list(range(1, len(data)))
    if not starts:
        return
    at = sorted({starts[min(int(c * len(starts)), len(starts) - 1)] for c in cuts})
    check_cuts(path, monkeypatch, [at], large)


# The process: the workers are forked copies of whatever process reads the report.


@pytest.fixture
def forced(monkeypatch) -> list[int]:
    """Three pieces for every document read at once; the pids of the workers started."""
    spawned: list[int] = []
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid:
            spawned.append(pid)
        return pid

    monkeypatch.setattr(cobertura_fast, "PARALLEL_MIN", 0)
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    monkeypatch.setattr(os, "fork", fork)
    return spawned


def _reaped(pids: list[int]) -> bool:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


def test_a_fork_that_fails_leaves_the_document_to_the_one_pass(tmp_path, monkeypatch) -> None:
    """No process left to fork (a runner's process limit, which the tests of a pull
    request can exhaust): read in one pass, no pipe left open, no error."""
    monkeypatch.setattr(cobertura_fast, "PARALLEL_MIN", 0)
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    path = write(tmp_path, doc(body(12)))
    expected = one_pass(path, monkeypatch)
    calls = []

    def fork() -> int:
        calls.append(1)
        raise BlockingIOError(11, "Resource temporarily unavailable")

    before = open_fds()
    monkeypatch.setattr(os, "fork", fork)
    agree(cobertura_fast.read_fast(path), expected)
    assert calls and open_fds() == before


def test_a_second_fork_that_fails_ends_the_first_worker(tmp_path, monkeypatch, forced) -> None:
    path = write(tmp_path, doc(body(12)))
    expected = one_pass(path, monkeypatch)
    real = os.fork
    calls: list[int] = []

    def fork() -> int:
        calls.append(1)
        if len(calls) > 1:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real()

    before = open_fds()
    monkeypatch.setattr(os, "fork", fork)
    agree(cobertura_fast.read_fast(path), expected)
    assert len(forced) == 1 and _reaped(forced)
    assert open_fds() == before


def test_with_sigchld_ignored_the_answer_is_the_one_pass_s(tmp_path, monkeypatch, forced) -> None:
    """A caller that ignores SIGCHLD has its children reaped by the kernel: no exit
    status to read, so no proof; the one pass reads (no error, nothing left behind)."""
    path = write(tmp_path, doc(body(12)))
    expected = one_pass(path, monkeypatch)
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        found = cobertura_fast.read_fast(path)
    finally:
        signal.signal(signal.SIGCHLD, old)
    agree(found, expected)
    assert len(forced) == 2


def _reap_all(*_: object) -> None:
    """A server's SIGCHLD handler: every child that has exited is reaped."""
    with suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def test_a_caller_that_reaps_its_children_gets_the_one_pass_s_answer(
    tmp_path, monkeypatch, forced
) -> None:
    """Its handler takes a worker's exit status: no proof, the one pass reads."""
    path = write(tmp_path, doc(body(200)))
    expected = one_pass(path, monkeypatch)
    old = signal.signal(signal.SIGCHLD, _reap_all)
    try:
        found = cobertura_fast.read_fast(path)
    finally:
        signal.signal(signal.SIGCHLD, old)
    agree(found, expected)
    assert _reaped(forced)


@pytest.mark.parametrize("handler", [signal.SIG_IGN, _reap_all], ids=["ignored", "reaped by a handler"])
def test_no_worker_is_forked_unless_sigchld_is_left_alone(handler) -> None:
    """Not even tried: a worker reaped by the kernel or the caller's handler leaves its
    pid free for another process, which SIGKILL could then reach."""
    old = signal.signal(signal.SIGCHLD, handler)
    try:
        assert parallel.workers() == 1
    finally:
        signal.signal(signal.SIGCHLD, old)


def test_a_signal_right_after_the_fork_never_runs_the_caller_s_code_in_a_worker(
    tmp_path, monkeypatch, forced
) -> None:
    """Ctrl-C reaches the whole process group, the workers too, at any moment: one that
    raised KeyboardInterrupt before it stood in its own ``try`` would unwind into the
    caller (its ``except`` and ``finally`` blocks: cleanup, reports, API calls). A worker
    has every signal blocked from its first instruction; only SIGKILL ends it."""
    path = write(tmp_path, doc(body(12)))
    expected = one_pass(path, monkeypatch)
    escaped = tmp_path / "escaped"
    caller = os.getpid()
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid == 0:
            os.kill(os.getpid(), signal.SIGINT)  # as if Ctrl-C came right now
        return pid

    monkeypatch.setattr(os, "fork", fork)
    try:
        found = cobertura_fast.read_fast(path)
    finally:
        if os.getpid() != caller:  # a worker in the caller's code: say so, and stop it
            escaped.write_text("a worker ran the caller's code")
            os._exit(3)
    assert not escaped.exists()
    agree(found, expected)
    assert _reaped(forced)


def _interrupted(path: Path, monkeypatch: pytest.MonkeyPatch, wait: bool) -> int:
    """Read ``path`` while the first worker sends this process SIGINT (once this process
    sleeps, waiting for that worker, if ``wait``): how many times the handler ran. The
    KeyboardInterrupt is expected from the read, but Python drops one raised in a
    finalizer that happened to run then; what counts is what is left behind."""
    real = cobertura_parallel._piece

    def piece(reader: object, feed: object, start: int, stop: int, last: bool) -> object:
        if not last:  # the first worker only
            parent = os.getppid()
            for _ in range(100_000 if wait else 0):  # until it sleeps on this pipe
                with open(f"/proc/{parent}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "S":
                        break
            os.kill(parent, signal.SIGINT)
        return real(reader, feed, start, stop, last)  # type: ignore[arg-type]

    came: list[int] = []

    def handler(*_: object) -> None:
        came.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(cobertura_parallel, "_piece", piece)
    old = signal.signal(signal.SIGINT, handler)
    try:
        with suppress(KeyboardInterrupt):
            cobertura_fast.read_fast(path)
    finally:
        signal.signal(signal.SIGINT, old)
    return len(came)


@pytest.mark.parametrize("wait", [True, False], ids=["while waiting for it", "at its start"])
def test_ctrl_c_from_a_worker_leaves_nothing_behind(tmp_path, monkeypatch, forced, wait) -> None:
    """A real SIGINT to this process while it forks, reads its own piece or waits for a
    worker: every worker is ended and reaped, every pipe closed."""
    path = write(tmp_path, doc(body(200)))
    before = open_fds()
    assert _interrupted(path, monkeypatch, wait) == 1
    assert len(forced) == 2 and _reaped(forced)
    assert open_fds() == before


def test_the_caller_s_garbage_is_not_collected_in_a_worker(tmp_path, monkeypatch, forced) -> None:
    """A worker is a copy of the caller's heap: a cyclic collection there would run the
    caller's finalizers (``__del__``, ``weakref.finalize``: a buffered file flushing its
    data a second time, a temporary directory removed, a connection's goodbye sent)."""
    path = write(tmp_path, doc(body(2000)))
    ran = tmp_path / "finalizers"
    ran.write_text("")

    class Finalized:
        me: object

        def __del__(self) -> None:
            with ran.open("a") as f:
                f.write(f"{os.getpid()}\n")

    start = parallel._start

    def garbage_then_start(*args: object) -> tuple[int, int]:
        cycle = Finalized()
        cycle.me = cycle  # unreachable after this: garbage for the next collection
        del cycle
        return start(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "_start", garbage_then_start)
    assert cobertura_fast.read_fast(path) is not None
    gc.collect()
    assert ran.read_text().split() == [str(os.getpid())] * 2


def test_no_document_read_at_once_fills_what_a_reader_keeps() -> None:
    """Each piece's reader starts with nothing kept, the one pass with what the pieces
    before kept: they decide alike (keep a block, or decode it for want of room) only
    while no document read at once can hold more than ``KEEP`` bytes of blocks."""
    assert cobertura_fast.PARALLEL_MIN <= cobertura_fast.READ_AT_ONCE <= cobertura_fast.KEEP


def _feed_fifo(path: Path, data: bytes) -> threading.Thread:
    """A FIFO at ``path`` that a thread fills with ``data`` (once, for one reader)."""
    os.mkfifo(path)

    def write() -> None:
        with path.open("wb") as out:
            out.write(data)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_fifo_is_never_read_at_once(tmp_path, monkeypatch) -> None:
    """A pull request's tests can leave a FIFO where the report should be, its writer
    running: its size says 0, and reading it "at once" took all it wrote (a writer that
    never stops: all memory), then cut that into pieces as a document of at most
    ``READ_AT_ONCE`` bytes. It is read in ``CHUNK`` pieces, like a large file."""
    text = doc(body(40)).encode()
    monkeypatch.setattr(cobertura_fast, "READ_AT_ONCE", len(text) // 4)
    at_once: list[int] = []
    real = cobertura_fast._read_at_once
    monkeypatch.setattr(cobertura_fast, "_read_at_once",
                        lambda path, data: at_once.append(len(data)) or real(path, data))
    expected = one_pass(write(tmp_path, text), monkeypatch)
    fifo = tmp_path / "fifo.xml"
    thread = _feed_fifo(fifo, text)
    try:
        found = cobertura_fast.read_fast(fifo)
    finally:
        thread.join()
    assert all(n <= cobertura_fast.READ_AT_ONCE for n in at_once)
    agree(found, expected)


def test_a_file_that_grows_while_read_is_never_read_at_once_past_its_limit(
    tmp_path, monkeypatch
) -> None:
    """Its size was small when asked (a process of the pull request's tests still
    appending): what is read at once stops a byte past that size, and a document longer
    than it said is left to the streaming reader."""
    text = doc(body(40)).encode()
    path = write(tmp_path, text)
    monkeypatch.setattr(cobertura_fast, "READ_AT_ONCE", len(text) // 4)
    real = os.fstat

    def fstat(fd: int) -> os.stat_result:
        found = real(fd)
        return os.stat_result((*found[:6], 100, *found[7:]))  # st_size: 100, as it was

    reads: list[int] = []
    opened = Path.open

    def open_(self: Path, *args: object, **kwargs: object) -> object:
        f = opened(self, *args, **kwargs)  # type: ignore[arg-type]
        read = f.read

        def counted(*n: int) -> bytes:
            data = read(*n)
            reads.append(len(data))
            return data

        f.read = counted  # type: ignore[method-assign]
        return f

    monkeypatch.setattr(os, "fstat", fstat)
    monkeypatch.setattr(Path, "open", open_)
    assert cobertura_fast.read_fast(path) is None
    assert max(reads) == 101
