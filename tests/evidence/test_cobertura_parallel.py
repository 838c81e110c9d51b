"""The Cobertura reader on several cores: the one-pass reader's result exactly, or (when
the pieces do not provably join) the one pass itself; never numbers for a bad document,
never a worker left behind."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    _budget,
    cobertura_fast,
    cobertura_parallel,
    parallel,
    read_report,
    states,
)
from gatekeeper.evidence.coverage_formats.xmlreports import read_xml_streaming
from tests.evidence.test_cobertura_fast import (
    BUDGET_BOMBS,
    _charged,
    doc,
    fast_report,
    klass,
    nobranch_doc,
    same,
    write,
)

_HALF = ' branch="true" condition-coverage="50% (1/2)" missing-branches="7"'


def body(files: int, lines: int = 30, prefix: str = "m") -> str:
    return "".join(
        klass(
            "".join(
                f'<line number="{n}" hits="{n % 3}"{_HALF if n % 7 == 0 else ""}/>\n'
                for n in range(1, lines)
            ),
            f"{prefix}{i}.py",
        )
        for i in range(files)
    )


@pytest.fixture(params=["held whole", "read in parts"])
def forced(request, monkeypatch) -> dict[str, list[bool]]:
    """Every document goes to the parallel reader (with 3 pieces, whatever this machine
    has): held whole, or (as one past ``READ_AT_ONCE`` is) read from the file in small
    chunks; ``outcome["read"]`` lists whether each parallel read gave a reader."""
    outcome: dict[str, list[bool]] = {"read": []}

    def spy(real: Callable[..., object]) -> Callable[..., object]:
        def read(*args: object) -> object:
            answer = real(*args)
            outcome["read"].append(answer is not None)
            return answer

        return read

    monkeypatch.setattr(cobertura_fast, "PARALLEL_MIN", 0)
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    monkeypatch.setattr(cobertura_parallel, "read", spy(cobertura_parallel.read))
    monkeypatch.setattr(cobertura_parallel, "read_file", spy(cobertura_parallel.read_file))
    if request.param == "read in parts":
        monkeypatch.setattr(cobertura_fast, "READ_AT_ONCE", 0)
        monkeypatch.setattr(cobertura_fast, "CHUNK", 97)
    return outcome


def one_pass(path: Path, monkeypatch) -> object:
    with monkeypatch.context() as m:
        m.setattr(cobertura_fast, "PARALLEL_MIN", 1 << 40)
        return fast_report(path)


def test_a_document_is_read_in_pieces_with_the_one_pass_figures(
    tmp_path, forced, monkeypatch
) -> None:
    path = write(tmp_path, doc(body(12)))
    report = fast_report(path)
    assert forced["read"] == [True]
    same(report, one_pass(path, monkeypatch))  # type: ignore[arg-type]
    same(report, read_xml_streaming(path))
    assert list(report.files) == [f"m{i}.py" for i in range(12)]  # the report's order


def test_blocks_of_other_pieces_are_views_of_the_one_document(tmp_path, forced) -> None:
    """A worker of a document held whole sends spans, not tables: the files of its piece
    are still undecoded and answer counts and lookups from the parent's copy of the
    document. One read in parts sends tables (the blocks are not here to view)."""
    path = write(tmp_path, doc(body(9)))
    report = fast_report(path)
    assert forced["read"] == [True]
    last = report.files["m8.py"]
    if cobertura_fast.READ_AT_ONCE:
        assert isinstance(last, cobertura_fast.LazyLines)
        assert last._table is None
    else:
        assert isinstance(last, bytearray)
    assert states(last, [1, 2, 3]) == bytes([2, 2, 1])


def test_sources_after_the_cut_are_kept_in_order(tmp_path, forced, monkeypatch) -> None:
    """A second <sources> after the first <packages> is in the last piece."""
    text = doc(body(6)).replace(
        "\t</packages>\n",
        "\t</packages>\n\t<sources><source>/second</source></sources>\n"
        '\t<packages><package name="p"><classes>' + body(3, prefix="late")
        + "</classes></package></packages>\n",
    )
    path = write(tmp_path, text)
    report = fast_report(path)
    assert forced["read"] == [True]
    assert report.sources == ["/work/app", "/second"]
    same(report, read_xml_streaming(path))


def test_a_file_in_two_pieces_is_left_to_the_one_pass(tmp_path, forced, monkeypatch) -> None:
    """The one pass merges a file's classes (the stronger state of each line); pieces
    read apart cannot, so the parallel reader declines and the one pass reads it."""
    text = doc(body(8) + klass('<line number="1" hits="0"/><line number="40" hits="5"/>', "m0.py"))
    path = write(tmp_path, text)
    report = fast_report(path)
    assert forced["read"] == [False]
    same(report, read_xml_streaming(path))
    assert bytes(report.files["m0.py"])[40] == 2


def test_a_cut_inside_a_comment_is_left_to_the_one_pass(tmp_path, forced) -> None:
    """A '<class ' in a comment where the document is cut: the first piece does not end
    at the cut (its comment runs past it), so the pieces are not joined."""
    text = doc(body(4) + "<!-- " + klass("", "ghost.py") * 40 + " -->\n" + body(4, prefix="n"))
    path = write(tmp_path, text)
    data = path.read_bytes()
    inside = data.index(b"<!-- \t")
    cuts = cobertura_parallel.cuts(len(data), 3, lambda at: data.find(b"<class ", at))
    assert any(inside < cut < data.index(b" -->", inside) for cut in cuts)
    report = fast_report(path)
    assert forced["read"] == [False]
    assert "ghost.py" not in report.files
    same(report, read_xml_streaming(path))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d[: len(d) * 3 // 4], id="truncated"),
        pytest.param(lambda d: d.replace(b"</coverage>", b""), id="root not closed"),
        pytest.param(lambda d: d + b"<coverage/>", id="second root"),
        pytest.param(lambda d: d[::-1].replace(b'>/"2"=stih', b'>"2"=stih', 1)[::-1],
                     id="unclosed element in the last class"),
    ],
)
def test_damage_in_a_worker_s_piece_is_never_numbers(tmp_path, forced, damage) -> None:
    path = write(tmp_path, damage(doc(body(12)).encode()))
    assert cobertura_fast.read_fast(path) is None
    with pytest.raises(EvidenceError):
        read_report(path)


@pytest.mark.parametrize("how", ["raises", "exits", "is killed"])
def test_a_worker_that_fails_leaves_the_document_to_the_one_pass(
    tmp_path, forced, monkeypatch, how
) -> None:
    def broken(*_: object) -> None:
        if how == "raises":
            raise SystemExit(0)  # not even this may let a worker run the caller's code on
        if how == "exits":
            os._exit(0)
        os.kill(os.getpid(), 9)

    monkeypatch.setattr(cobertura_parallel, "_piece", broken)
    path = write(tmp_path, doc(body(12)))
    report = fast_report(path)
    assert forced["read"] == [False]
    same(report, read_xml_streaming(path))


def test_no_worker_is_left_behind(tmp_path, forced, monkeypatch) -> None:
    """Workers of a read that stops early (the first piece is unusual) are ended and
    reaped: no process runs on, no zombie stays."""
    spawned: list[int] = []
    real = parallel._start

    def start(*args: object) -> tuple[int, int]:
        pid, fd = real(*args)  # type: ignore[arg-type]
        spawned.append(pid)
        return pid, fd

    monkeypatch.setattr(parallel, "_start", start)
    text = doc(body(12)).replace('<line number="1" hits="1"', '<line number="1" hits="1" x="&lt;"', 1)
    path = write(tmp_path, text)
    assert cobertura_fast.read_fast(path) is None
    assert len(spawned) == 2
    for pid in spawned:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize("case", sorted(BUDGET_BOMBS))
def test_the_budget_is_the_one_pass_s(tmp_path, forced, monkeypatch, case) -> None:
    """Workers' charges are added to this process's budget: what the one pass refuses
    for its memory, the pieces refuse too (and read the same, it charges the same)."""
    path = write(tmp_path, nobranch_doc(BUDGET_BOMBS[case]))
    with pytest.raises(EvidenceError, match="more memory"):
        read_report(path)
    good = write(tmp_path, doc(body(10)), "good.xml")
    parallel = _charged(cobertura_fast.read_fast, good)
    with monkeypatch.context() as m:
        m.setattr(cobertura_fast, "PARALLEL_MIN", 1 << 40)
        assert _charged(cobertura_fast.read_fast, good) == parallel > 0


def test_a_declined_read_gives_the_budget_back(tmp_path, forced) -> None:
    """The first piece's charges are not counted twice when the one pass reads again."""
    text = doc(body(8) + klass('<line number="900000" hits="0"/>', "m0.py"))
    path = write(tmp_path, text)
    budget = [1 << 40]
    token = _budget.set(budget)
    try:
        assert cobertura_fast.read_fast(path) is not None
    finally:
        _budget.reset(token)
    assert forced["read"] == [False]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(cobertura_fast, "PARALLEL_MIN", 1 << 40)
        assert (1 << 40) - budget[0] == _charged(cobertura_fast.read_fast, path)


_CLASS = st.tuples(
    st.sampled_from(["a.py", "b.py", "c.py", "d.py", "e.py", "f.py"]),
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=60),
            st.sampled_from(["0", "1", "3", "00"]),
            st.sampled_from(["", _HALF]),
        ),
        max_size=8,
    ),
    st.sampled_from(["", "\n", "<!-- <class x -->"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(classes=st.lists(_CLASS, min_size=1, max_size=10), pieces=st.integers(2, 4),
       chunk=st.sampled_from([None, 1, 13, 4096]))
def test_any_document_gives_the_one_pass_result(
    tmp_path, monkeypatch, classes, pieces, chunk
) -> None:
    """Repeated files, comments with '<class ' where a cut may fall, branches, lines out
    of order or repeated, held whole or read in chunks of any size: however it is cut,
    the result is the one pass's."""
    text = nobranch_doc("".join(
        after + klass("".join(f'<line number="{n}" hits="{h}"{b}/>' for n, h, b in lines), name)
        for name, lines, after in classes
    ))
    path = write(tmp_path, text, "any.xml")
    with monkeypatch.context() as m:
        m.setattr(cobertura_fast, "PARALLEL_MIN", 1 << 40)
        expected = fast_report(path)
    monkeypatch.setattr(cobertura_fast, "PARALLEL_MIN", 0)
    monkeypatch.setattr(parallel, "workers", lambda: pieces)
    if chunk is not None:
        monkeypatch.setattr(cobertura_fast, "READ_AT_ONCE", 0)
        monkeypatch.setattr(cobertura_fast, "CHUNK", chunk)
    same(fast_report(path), expected)


@given(data=st.binary(max_size=300), pieces=st.integers(1, 6))
def test_cuts_are_class_starts_in_order(data, pieces) -> None:
    data = data.replace(b"<class ", b"").join([b"", b"<class ", b""]) * 3 + data
    found = cobertura_parallel.cuts(len(data), pieces, lambda at: data.find(b"<class ", at))
    assert found == sorted(set(found))
    assert len(found) <= pieces - 1
    assert all(0 < at < len(data) and data.startswith(b"<class ", at) for at in found)


def test_one_process_while_other_threads_run() -> None:
    """A thread could hold a lock the forked copy would then wait on for ever."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.workers() == 1
    finally:
        stop.set()
        thread.join()


def test_no_process_to_spare_leaves_the_document_to_the_one_pass(
    tmp_path, forced, monkeypatch
) -> None:
    """A container's process limit (fork fails): the workers already started are
    stopped and the document is read in one pass."""
    real_fork = os.fork
    forks: list[int] = []

    def fork() -> int:
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    path = write(tmp_path, doc(body(12)))
    report = fast_report(path)
    assert forced["read"] == [False]
    same(report, read_xml_streaming(path))
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)


def test_a_worker_reaped_by_somebody_else_is_not_trusted(tmp_path, forced, monkeypatch) -> None:
    real_waitpid = os.waitpid

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        real_waitpid(pid, options)
        raise ChildProcessError(10, "No child processes")

    monkeypatch.setattr(os, "waitpid", waitpid)
    path = write(tmp_path, doc(body(12)))
    report = fast_report(path)
    assert forced["read"] == [False]
    same(report, read_xml_streaming(path))


def test_one_process_when_children_are_reaped_unseen() -> None:
    """SIGCHLD ignored (inherited from a parent): exit statuses would be lost."""
    import signal

    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        assert parallel.workers() == 1
    finally:
        signal.signal(signal.SIGCHLD, before)
    if threading.active_count() == 1:
        assert parallel.workers() == min(4, len(os.sched_getaffinity(0)))


@pytest.mark.parametrize(
    ("cpu_max", "cores"),
    [("max 100000\n", 4), ("100000 100000\n", 1), ("150000 100000\n", 1),
     ("250000 100000\n", 2), ("50000 100000\n", 1), ("garbage", 4), (None, 4)],
)
def test_a_container_s_cpu_limit_bounds_the_workers(tmp_path, monkeypatch, cpu_max, cores) -> None:
    """A container limited to one CPU (docker --cpus=1, a pod's limit) sees all of its
    host's cores: one process reads there."""
    limit = tmp_path / "cpu.max"
    if cpu_max is not None:
        limit.write_text(cpu_max)
    monkeypatch.setattr(parallel, "CPU_MAX", limit)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(8)))
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert parallel.workers() == cores
