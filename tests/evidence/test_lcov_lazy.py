"""The fast LCOV reader's undecoded DA runs: counts known without a table, lines looked
up or the table built on demand, all equal to the careful reader's; and every run it
cannot prove simple read the exact way (or the file left to the careful reader)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    LazyLines,
    ParsedReport,
    _budget,
    counts,
    lcov_fast,
    read_report,
    states,
    table,
)
from gatekeeper.evidence.coverage_formats.lcov import read_lcov_lines
from gatekeeper.evidence.coverage_formats.lcov_fast import read_fast
from tests.evidence.test_lcov_fast import gives_the_careful_answer

RECORD = """TN:
SF:{name}
FN:1,9,f
FNDA:1,f
FNF:1
FNH:1
DA:1,1
DA:2,0
DA:4,12
DA:7,0
DA:9,3
BRDA:4,0,0,1
BRDA:4,0,1,-
BRF:2
BRH:1
LF:5
LH:3
end_of_record
"""


def write(tmp_path: Path, text: str | bytes, name: str = "lcov.info") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def undecoded(lines: object) -> bool:
    return isinstance(lines, LazyLines) and lines._table is None


def agree(fast: ParsedReport, careful: ParsedReport, wanted: range = range(0, 40)) -> None:
    """The careful reader's figures: counts first (no table built for them), then the
    states of ``wanted`` lines, then the tables."""
    assert list(fast.files) == list(careful.files)
    for name, lines in fast.files.items():
        lazy = undecoded(lines)
        assert counts(lines) == counts(careful.files[name]), name
        assert undecoded(lines) == lazy  # counting built no table
        assert states(lines, list(wanted)) == states(careful.files[name], list(wanted)), name
        assert undecoded(lines) == lazy  # nor did looking lines up
        assert bytes(table(lines)).rstrip(b"\0") == bytes(careful.files[name]).rstrip(b"\0")
    assert {k: v.counts() for k, v in fast.branches.items()} == {
        k: v.counts() for k, v in careful.branches.items()
    }


def read_both(path: Path) -> tuple[ParsedReport, ParsedReport]:
    fast = read_fast(path)
    assert fast is not None
    careful = read_lcov_lines(path)
    return fast, careful


def test_a_plain_run_is_kept_undecoded_with_the_careful_figures(tmp_path) -> None:
    path = write(tmp_path, RECORD.format(name="a.c") + RECORD.format(name="b.c"))
    fast, careful = read_both(path)
    assert all(undecoded(lines) for lines in fast.files.values())
    assert counts(fast.files["a.c"]) == (2, 3)
    assert states(fast.files["a.c"], [9, 2, 3, 1, 100]) == bytes([2, 1, 0, 2, 0])
    agree(fast, careful)
    assert not undecoded(fast.files["a.c"])  # table() built it, once
    assert fast.files["a.c"].table() is fast.files["a.c"].table()


@pytest.mark.parametrize(
    ("case", "text"),
    [
        ("lines out of order", RECORD.replace("DA:1,1\n", "").replace("DA:9,3\n",
                                                                      "DA:9,3\nDA:1,1\n")),
        ("checksums", RECORD.replace("DA:1,1\n", "DA:1,1,YWJj\n").replace(
            "DA:2,0\n", "DA:2,0,ZGVm\n").replace("DA:4,12\n", "DA:4,12,\n").replace(
            "DA:7,0\n", "DA:7,0,x+/=\n").replace("DA:9,3\n", "DA:9,3,eQ\n")),
        ("branches before the lines (geninfo)", RECORD.replace(
            "BRDA:4,0,0,1\nBRDA:4,0,1,-\nBRF:2\nBRH:1\n", "").replace(
            "FNH:1\n", "FNH:1\nBRDA:4,0,0,1\nBRDA:4,0,1,-\nBRF:2\nBRH:1\n")),
        ("branch names (coverage.py)", RECORD.replace(
            "BRDA:4,0,0,1", "BRDA:4,0,jump to line 5,1").replace(
            "BRDA:4,0,1,-", "BRDA:4,0,return from function 'f',-")),
        ("a huge count", RECORD.replace("DA:4,12", "DA:4," + "9" * 400)),
        ("the last line missed", RECORD.replace("DA:9,3", "DA:9,0")),
        ("a branch name with a comma", RECORD.replace("BRDA:4,0,0,1", "BRDA:4,0,jump, to 5,1")),
        ("dashes in branch names", RECORD.replace("BRDA:4,0,0,1", "BRDA:4,0,-,1").replace(
            "BRDA:4,0,1,-", "BRDA:4,0,x-y,-")),
        ("a branch line of seven digits (counted per line)", RECORD.replace(
            "BRDA:4,0,0,1", "BRDA:1000000,0,0,1")),
        ("every line missed", RECORD.replace("DA:1,1", "DA:1,0").replace(
            "DA:4,12", "DA:4,0").replace("DA:9,3", "DA:9,0")),
        ("no final newline", RECORD.rstrip("\n")),
        ("no branches", RECORD.replace("BRDA:4,0,0,1\nBRDA:4,0,1,-\n", "")),
        ("a comment after the run", RECORD.replace("LF:5", "# done\nLF:5")),
    ],
)
def test_simple_runs_are_kept_undecoded(tmp_path, case, text) -> None:
    fast, careful = read_both(write(tmp_path, text.replace("{name}", "a.c")))
    assert all(undecoded(lines) for lines in fast.files.values()), case
    agree(fast, careful)


@pytest.mark.parametrize(
    ("case", "text"),
    [
        # Each is read exactly (a table now) with the careful reader's figures.
        ("a line given twice", RECORD.replace("DA:9,3\n", "DA:9,3\nDA:2,5\n")),
        ("a line given twice, missed both times", RECORD.replace("DA:9,3\n", "DA:9,3\nDA:2,0\n")),
        ("a file in two records", RECORD.format(name="a.c") + RECORD.format(name="b.c")
         + RECORD.format(name="a.c").replace("DA:2,0", "DA:2,1").replace("DA:9,3", "DA:30,0")),
        ("DA lines among BRDA lines", RECORD.replace("DA:7,0\n", "").replace(
            "BRDA:4,0,1,-\n", "BRDA:4,0,1,-\nDA:7,0\n")),
        ("a comment among the DA lines", RECORD.replace("DA:4,12\n", "DA:4,12\n# x\n")),
    ],
)
def test_runs_not_provably_simple_are_decoded_now(tmp_path, case, text) -> None:
    fast, careful = read_both(write(tmp_path, text.replace("{name}", "a.c")))
    assert not undecoded(fast.files["a.c"]), case
    agree(fast, careful)


def test_past_keep_runs_are_decoded_now(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(lcov_fast, "KEEP", 0)
    fast, careful = read_both(write(tmp_path, RECORD.format(name="a.c")))
    assert isinstance(fast.files["a.c"], bytearray)
    agree(fast, careful)


UNUSUAL = {
    # The fast reader steps aside; the careful reader reads these or names the error.
    "leading zero in a line number": RECORD.replace("DA:4,12", "DA:04,12"),
    "leading zero in a count": RECORD.replace("DA:4,12", "DA:4,012"),
    "a count of zeros": RECORD.replace("DA:4,12", "DA:4,00"),
    "a float count": RECORD.replace("DA:4,12", "DA:4,12.0"),
    "line 0": RECORD.replace("DA:1,1", "DA:0,1"),
    "line 0, missed": RECORD.replace("DA:1,1", "DA:0,0"),
    "line 0 in a run with a line given twice": RECORD.replace("DA:1,1", "DA:0,1\nDA:2,1"),
    "truncated in the DA run": RECORD[: RECORD.index("DA:7,0")],
    "truncated in a DA line": RECORD[: RECORD.index("DA:7,0") + 4],
    "a letter in a count": RECORD.replace("DA:4,12", "DA:4,1x2"),
    "true as a count": RECORD.replace("DA:4,12", "DA:4,true"),
    "a negative count": RECORD.replace("DA:4,12", "DA:4,-12"),
    "an empty count": RECORD.replace("DA:4,12", "DA:4,"),
    "an empty line number": RECORD.replace("DA:4,12", "DA:,12"),
    "a DA line with one field": RECORD.replace("DA:4,12", "DA:4"),
    "checksums on some lines only": RECORD.replace("DA:4,12", "DA:4,12,YWJj"),
    "a DA line with four fields": RECORD.replace("DA:4,12", "DA:4,12,a,b"),
    "a space in a DA line": RECORD.replace("DA:4,12", "DA:4, 12"),
    "a line beyond any source file": RECORD.replace("DA:9,3", "DA:9000000,3"),
    "SF twice in a record": RECORD.replace("DA:7,0\n", "DA:7,0\nSF:b.c\n"),
    "DA after end_of_record": RECORD + "DA:1,1\n",
    "a garbage line after the run": RECORD.replace("BRF:2", "BRF 2"),
    "a branch line with a bad count": RECORD.replace("BRDA:4,0,0,1", "BRDA:4,0,0,1x"),
    "a branch count of zeros": RECORD.replace("BRDA:4,0,0,1", "BRDA:4,0,0,00"),
    "a branch count with a leading zero": RECORD.replace("BRDA:4,0,0,1", "BRDA:4,0,0,05"),
    "a branch count of 19 digits": RECORD.replace("BRDA:4,0,0,1", "BRDA:4,0,0," + "1" * 19),
    "branch line 0": RECORD.replace("BRDA:4,0,0,1", "BRDA:0,0,0,1"),
}


@pytest.mark.parametrize("keep", [0, 1 << 24])
@pytest.mark.parametrize("case", sorted(UNUSUAL))
def test_anything_else_goes_to_the_careful_reader(tmp_path, monkeypatch, case, keep) -> None:
    """Whether the run would be kept or decoded now (KEEP 0)."""
    monkeypatch.setattr(lcov_fast, "KEEP", keep)
    path = write(tmp_path, UNUSUAL[case].replace("{name}", "a.c"))
    assert read_fast(path) is None
    gives_the_careful_answer(path, agree)


def test_a_kept_run_is_charged_when_read(tmp_path) -> None:
    """As a table read now would be (twice its size): a bomb of kept runs is refused by
    the budget and the careful reader's error stands."""
    text = "".join(f"SF:f{i}.c\nDA:5,1\nDA:999999,0\nend_of_record\n" for i in range(100))
    path = write(tmp_path, text)
    token = _budget.set([64 << 20])
    try:
        assert read_fast(path) is None
    finally:
        _budget.reset(token)
    with pytest.raises(EvidenceError, match="more memory than a report of its size"):
        read_report(path)
    token = _budget.set([1 << 30])
    try:
        fast = read_fast(path)
        assert fast is not None
        assert _budget.get()[0] == (1 << 30) - 100 * 2 * 1_000_000
    finally:
        _budget.reset(token)
    assert all(undecoded(lines) for lines in fast.files.values())
    assert counts(fast.files["f3.c"]) == (1, 1)


# --- a differential property: generated LCOV, fast vs careful ------------------------

BIG = {61: 999_999, 62: 1_000_000, 63: 1_000_001}
line_numbers = st.integers(1, 63).map(lambda n: BIG.get(n, n))
counts_ = st.sampled_from(["0", "1", "7", "123456789012345678901234"])
da_runs = st.lists(st.tuples(line_numbers, counts_), max_size=12)
ODD = ["DA:0,1", "DA:05,1", "DA:3,00", "DA:3,01", "DA:3,-1", "DA:3,1.0", "DA:3,", "DA:3,x",
       "DA:3", "# c", "", "BRDA:3,0,0,1", "LF:3", "SF:d.c"]
"""Lines that make a run not simple: the careful reader reads some, refuses others."""


@st.composite
def reports(draw: st.DrawFn) -> str:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(["a.c", "b.c", "c.py"]))
        das = draw(da_runs)
        if draw(st.booleans()):
            das = sorted(set(das))
        lines = [f"DA:{n},{c}" for n, c in das]
        if draw(st.booleans()) and lines:
            lines = [x + "," + draw(st.sampled_from(["YWJj", "", "x+/="])) for x in lines]
        if draw(st.integers(0, 9)) == 0 and lines:
            lines[draw(st.integers(0, len(lines) - 1))] = draw(st.sampled_from(ODD))
        brdas = [f"BRDA:{n},0,{b},{t}" for n, b, t in draw(st.lists(st.tuples(
            st.integers(1, 60), st.integers(0, 2), st.sampled_from(["-", "0", "2"])),
            max_size=4))]
        body = brdas + lines if draw(st.booleans()) else lines + brdas
        out.append("\n".join(["TN:", f"SF:{name}", "FNF:0", *body, "LF:0", "end_of_record"]))
    text = "\n".join(out) + "\n"
    cut = draw(st.integers(0, 40))
    return text[: len(text) - cut] if draw(st.integers(0, 5)) == 0 else text


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=reports(), keep=st.sampled_from([0, 1 << 24]),
       chunk=st.sampled_from([7, 64, lcov_fast.CHUNK]))
def test_generated_reports_fast_or_careful_alike(tmp_path, monkeypatch, text, keep,
                                                 chunk) -> None:
    """Whatever the report (and however it is cut into reads), the fast reader gives the
    careful reader's counts (before any table is built), line states and tables, or steps
    aside; it never reads a report the careful reader refuses."""
    monkeypatch.setattr(lcov_fast, "KEEP", keep)
    monkeypatch.setattr(lcov_fast, "CHUNK", chunk)
    path = write(tmp_path, text)
    token = _budget.set([1 << 30])
    try:
        fast = read_fast(path)
    finally:
        _budget.reset(token)
    try:
        careful = read_lcov_lines(path)
    except EvidenceError:
        assert fast is None
        return
    if fast is not None:
        agree(fast, careful, range(0, 70))


def test_real_coverage_py_lcov_is_read_by_the_runs_alone(tmp_path, monkeypatch) -> None:
    """coverage.py's records (DA run, then named BRDA lines) need no line-by-line pattern:
    every DA run is kept, every BRDA run proven by its run pattern."""
    from tests.evidence import realproject

    real = lcov_fast._OTHER

    class NoBranches:
        """_OTHER for the lines after the last record, never for BRDA lines."""

        def fullmatch(self, text: bytes, *span: int) -> object:
            assert b"\nBRDA:" not in text[slice(*span or (None,))], "BRDA lines one by one"
            return real.fullmatch(text, *span)

    def general(*args: object) -> None:
        raise AssertionError("a record read the general way")

    realproject.build(tmp_path)
    path = tmp_path / "coverage.lcov"
    careful = read_lcov_lines(path)
    monkeypatch.setattr(lcov_fast, "_OTHER", NoBranches())
    monkeypatch.setattr(lcov_fast._Reader, "_lines", general)
    fast = read_fast(path)
    assert fast is not None
    assert fast.branches
    assert all(undecoded(lines) or not table(lines) for lines in fast.files.values())
    agree(fast, careful)
