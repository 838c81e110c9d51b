"""The LCOV reader on several cores: the one-pass fast reader's result exactly (so the
careful reader's figures), or the one pass itself; never numbers for a bad report."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    LazyLines,
    cobertura_parallel,
    lcov_fast,
    lcov_parallel,
    parallel,
    read_report,
)
from gatekeeper.evidence.coverage_formats.lcov import read_lcov_lines
from tests.evidence.test_cobertura_fast import _charged
from tests.evidence.test_lcov_fast import (
    COVERAGE_PY,
    GENINFO,
    MALFORMED,
    lcov_text,
    records,
    same,
    write,
)


def record(i: int, lines: int = 40, prefix: str = "m") -> str:
    das = "".join(f"DA:{n},{n % 3}\n" for n in range(1, lines))
    brdas = "".join(f"BRDA:{n},0,{b},{'-' if n % 5 == 0 else n % 2}\n"
                    for n in range(3, lines, 7) for b in (0, 1))
    return f"TN:t\nSF:{prefix}{i}.py\nFN:1,2,f\nFNDA:1,f\n{das}{brdas}LF:{lines}\nLH:0\nend_of_record\n"


def report(files: int, prefix: str = "m") -> str:
    return "".join(record(i, prefix=prefix) for i in range(files))


@pytest.fixture
def forced(monkeypatch) -> dict[str, list[bool]]:
    """Every report goes to the parallel reader with 3 parts (whatever this machine has),
    read in small chunks; ``outcome["read"]`` lists whether each gave a reader."""
    outcome: dict[str, list[bool]] = {"read": []}
    real = lcov_parallel.read

    def spy(*args: object) -> object:
        answer = real(*args)  # type: ignore[arg-type]
        outcome["read"].append(answer is not None)
        return answer

    monkeypatch.setattr(lcov_fast, "PARALLEL_MIN", 0)
    monkeypatch.setattr(lcov_fast, "CHUNK", 97)
    monkeypatch.setattr(lcov_fast, "TINY_AFTER", 1 << 40)
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    monkeypatch.setattr(lcov_parallel, "read", spy)
    return outcome


def one_pass(path: Path, monkeypatch) -> object:
    with monkeypatch.context() as m:
        m.setattr(lcov_fast, "PARALLEL_MIN", 1 << 40)
        return lcov_fast.read_fast(path)


def test_a_report_is_read_in_parts_with_the_one_pass_figures(
    tmp_path, forced, monkeypatch
) -> None:
    path = write(tmp_path, report(12))
    fast = lcov_fast.read_fast(path)
    assert forced["read"] == [True]
    assert fast is not None
    same(fast, one_pass(path, monkeypatch))  # type: ignore[arg-type]
    same(fast, read_lcov_lines(path))
    assert list(fast.files) == [f"m{i}.py" for i in range(12)]


def test_a_worker_sends_its_runs_as_kept_not_decoded(tmp_path, forced) -> None:
    """What the one pass keeps undecoded (DA runs, branch runs) comes back undecoded."""
    path = write(tmp_path, report(9))
    fast = lcov_fast.read_fast(path)
    assert forced["read"] == [True] and fast is not None
    last = fast.files["m8.py"]
    assert isinstance(last, LazyLines) and last._table is None
    assert last.states([1, 2, 3]) == bytes([2, 2, 1])
    assert fast.branches["m8.py"].known is not None  # type: ignore[attr-defined]
    assert fast.branches["m8.py"].counts() == read_lcov_lines(path).branches["m8.py"].counts()


def test_past_its_share_of_keep_a_part_decodes(tmp_path, forced, monkeypatch) -> None:
    """Each process keeps at most its share of KEEP: memory stays the one pass's."""
    monkeypatch.setattr(lcov_fast, "KEEP", 3000)
    path = write(tmp_path, report(12))
    fast = lcov_fast.read_fast(path)
    assert forced["read"] == [True] and fast is not None
    kept = [lines._decode.args[0] for lines in fast.files.values()  # type: ignore[union-attr]
            if isinstance(lines, LazyLines)]
    assert kept and any(isinstance(lines, bytearray) for lines in fast.files.values())
    assert sum(map(len, kept)) <= 3000  # what the one pass may keep, all parts together
    same(fast, read_lcov_lines(path))


def test_a_file_in_two_parts_is_left_to_the_one_pass(tmp_path, forced) -> None:
    path = write(tmp_path, report(8) + record(0, lines=60))
    fast = lcov_fast.read_fast(path)
    assert forced["read"] == [False] and fast is not None
    same(fast, read_lcov_lines(path))
    assert bytes(fast.files["m0.py"])[59] == 2  # from the second record: the two merged


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_record_among_others_gives_the_careful_answer(tmp_path, forced, case) -> None:
    """A malformed record at the start, in a worker's part or at the end: numbers only
    where the careful reader gives the same ones, else its precise error."""
    text = MALFORMED[case]
    body = text if isinstance(text, bytes) else text.encode()
    for data in (body + report(9).encode(), report(6).encode() + body + report(6, "z").encode(),
                 report(9).encode() + body):
        path = write(tmp_path, data)
        fast = lcov_fast.read_fast(path)
        try:
            careful = read_lcov_lines(path)
        except EvidenceError as e:
            assert fast is None
            with pytest.raises(EvidenceError) as err:
                read_report(path)
            assert str(err.value) == str(e)
        else:
            if fast is not None:
                same(fast, careful)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda t: t[: len(t) * 3 // 4], id="truncated in the last part"),
        pytest.param(lambda t: t.replace("end_of_record\n", "end_of_recordX\n", 9), id="bad end"),
        pytest.param(lambda t: t + "DA:1,1\n", id="DA after the last record"),
    ],
)
def test_damage_in_a_worker_s_part_is_never_numbers(tmp_path, forced, damage) -> None:
    path = write(tmp_path, damage(report(12)))
    assert lcov_fast.read_fast(path) is None


@pytest.mark.parametrize("how", ["raises", "exits", "is killed"])
def test_a_worker_that_fails_leaves_the_report_to_the_one_pass(
    tmp_path, forced, monkeypatch, how
) -> None:
    def broken(*_: object) -> None:
        if how == "raises":
            raise SystemExit(0)
        if how == "exits":
            os._exit(0)
        os.kill(os.getpid(), 9)

    monkeypatch.setattr(lcov_parallel, "_part", broken)
    path = write(tmp_path, report(12))
    fast = lcov_fast.read_fast(path)
    assert forced["read"] == [False] and fast is not None
    same(fast, read_lcov_lines(path))


def test_more_table_than_text_is_left_to_the_one_pass(tmp_path, forced, monkeypatch) -> None:
    """A hostile part decodes to tables larger than itself (nothing kept): not copied."""
    monkeypatch.setattr(lcov_fast, "KEEP", 0)
    bombs = "".join(f"SF:b{i}.c\nDA:999999,1\nend_of_record\n" for i in range(40))
    path = write(tmp_path, report(4) + bombs)
    fast = lcov_fast.read_fast(path)
    assert forced["read"] == [False]
    if fast is not None:
        same(fast, read_lcov_lines(path))


def test_the_budget_is_the_one_pass_s(tmp_path, forced, monkeypatch) -> None:
    """Workers' charges are added here: a read in parts charges what one pass does."""
    path = write(tmp_path, report(10))
    parallel = _charged(lcov_fast.read_fast, path)
    assert forced["read"] == [True]
    with monkeypatch.context() as m:
        m.setattr(lcov_fast, "PARALLEL_MIN", 1 << 40)
        assert _charged(lcov_fast.read_fast, path) == parallel > 0


def test_cuts_are_just_after_end_of_record_lines(tmp_path) -> None:
    text = (GENINFO + COVERAGE_PY) * 30
    path = write(tmp_path, text)
    data = path.read_bytes()
    seen: list[int] = []
    real = cobertura_parallel.cuts

    def spy(size: int, pieces: int, find: Callable[[int], int]) -> list[int]:
        seen.extend(real(size, pieces, find))
        return seen

    with pytest.MonkeyPatch.context() as m:
        m.setattr(lcov_parallel, "cuts", spy)
        m.setattr(parallel, "workers", lambda: 4)
        with path.open("rb") as f:
            lcov_parallel.read(path, f.fileno(), len(data), 4)
    assert len(seen) == 3
    assert all(data[:at].endswith(b"\nend_of_record") and data[at:at + 1] == b"\n"
               for at in seen)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recs=records, checksums=st.booleans(), interleave=st.booleans(),
       parts=st.integers(2, 4), chunk=st.sampled_from([1, 13, 4096]),
       keep=st.sampled_from([0, 200, 1 << 24]), copies=st.integers(1, 3))
def test_any_report_gives_the_one_pass_result(
    tmp_path, monkeypatch, recs, checksums, interleave, parts, chunk, keep, copies
) -> None:
    """Repeated files (in one part or two), unsorted or repeated lines, checksums, any
    chunk size and keep limit, cut anywhere an end_of_record allows: the one pass's."""
    monkeypatch.setattr(lcov_fast, "KEEP", keep)
    monkeypatch.setattr(lcov_fast, "TINY_AFTER", 1 << 40)
    path = write(tmp_path, lcov_text(recs, checksums, interleave) * copies)
    expected = one_pass(path, monkeypatch)
    monkeypatch.setattr(lcov_fast, "PARALLEL_MIN", 0)
    monkeypatch.setattr(lcov_fast, "CHUNK", chunk)
    monkeypatch.setattr(parallel, "workers", lambda: parts)
    found = lcov_fast.read_fast(path)
    assert (found is None) == (expected is None)
    if found is not None:
        same(found, expected)  # type: ignore[arg-type]


def _record(name: str, top: int, branches: str) -> str:
    return f"SF:{name}\nDA:{top},1\n{branches}end_of_record\n"


def test_a_part_charged_more_than_the_one_pass_leaves_it_to_the_one_pass(
    tmp_path, forced, monkeypatch
) -> None:
    """A worker sees the whole budget, not what the parts before it leave: it may keep a
    BRDA run (charged for 6-digit lines) where the one pass, with less left, takes the
    compact array. The join then runs out of budget: that is the one pass's to decide,
    not an error out of the fast reader (the one pass accepts this report)."""
    from gatekeeper.evidence.coverage_formats import _budget

    first = _record("a.c", 150_000, "BRDA:150000,0,0,1\nBRDA:150000,0,1,0\n")
    second = _record("b.c", 100_000, "BRDA:100000,0,0,1\nBRDA:100000,0,1,-\n")
    pad = report(50)  # the worker's part is nearly all the file: nearly all the budget
    padding = _charged(lambda p: one_pass(p, monkeypatch), write(tmp_path, pad, "pad.info"))
    path = write(tmp_path, first + second + pad)
    monkeypatch.setattr(lcov_parallel, "cuts", lambda size, pieces, find: [len(first) - 1])
    # a.c: its table and a kept run (8 MB for 6-digit lines); b.c: its table and,
    # with ~1 MB left in the one pass, a compact array; then the padding.
    budget = [2 * 150_001 + 8 * 10**6 + 56 + 2 * 100_001 + 8 * 100_001 + 64 + padding + 5000]
    token = _budget.set(budget)
    try:
        fast = lcov_fast.read_fast(path)
    finally:
        _budget.reset(token)
    assert forced["read"] == [False]
    assert fast is not None
    same(fast, one_pass(path, monkeypatch))  # type: ignore[arg-type]
    assert fast.branches["b.c"].counts() == (2, 1)


def test_a_worker_s_tables_are_bounded_by_its_part_not_the_whole_budget(tmp_path) -> None:
    """A worker starts with the whole run's budget, and all of them read at once: a
    hostile part (a line given twice at 999,999: decoded, a 1 MB table per 40 bytes)
    could make every worker allocate the budget's worth of tables at the same time,
    a multiple of the one pass's memory, before its part is found to have more table
    than text. Each worker is held to what its part's text could plausibly describe."""
    import tracemalloc

    from gatekeeper.evidence.coverage_formats import _budget

    good = report(200)
    bombs = "".join(f"SF:b{i}.c\nDA:999999,1\nDA:999999,1\nend_of_record\n" for i in range(30))
    path = write(tmp_path, good + bombs)
    start = len(good) - 1  # just after the "\nend_of_record" of the good records
    fd = os.open(path, os.O_RDONLY)
    token = _budget.set([64 << 20])
    tracemalloc.start()
    try:
        size = path.stat().st_size
        part = lcov_parallel._part(path, fd, start, size, True, 0, (size - start) / size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        _budget.reset(token)
        os.close(fd)
    assert part is None
    assert peak < 4 << 20, peak  # not 30 tables of 1 MB


def _kept_bytes(report: object) -> int:
    """Bytes of DA and BRDA runs a result keeps undecoded (what KEEP bounds)."""
    total = 0
    for lines in report.files.values():  # type: ignore[attr-defined]
        if isinstance(lines, LazyLines) and lines._table is None:
            total += len(lines._decode.args[0])  # type: ignore[union-attr]
    for found in report.branches.values():  # type: ignore[attr-defined]
        total += len(getattr(found, "run", None) or b"")
    return total


def test_kept_runs_stay_within_keep_in_parts_as_in_one_pass(
    tmp_path, forced, monkeypatch
) -> None:
    """KEEP bounds the runs kept undecoded; a BRDA run was kept whenever the count was
    below it, so each part (starting at its share) could overshoot by a whole run (up to
    MAX_RECORD): the parts together by one run each, past the one pass's bound."""
    monkeypatch.setattr(lcov_fast, "KEEP", 600)  # lcov_parallel reads it from there
    brdas = "".join(f"BRDA:{n},0,{b},1\n" for n in range(1, 40) for b in range(3))
    das = "".join(f"DA:{n},1\n" for n in range(1, 41))
    text = "".join(f"SF:w{i}.c\n{das}{brdas}end_of_record\n" for i in range(9))
    path = write(tmp_path, text)
    fast = lcov_fast.read_fast(path)
    assert forced["read"] == [True] and fast is not None
    alone = one_pass(path, monkeypatch)
    assert _kept_bytes(fast) <= 600 and _kept_bytes(alone) <= 600  # (before a look builds)
    same(fast, alone)  # type: ignore[arg-type]
