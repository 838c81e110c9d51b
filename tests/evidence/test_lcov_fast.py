"""The fast LCOV reader: the careful reader's figures on the common shapes, and a
fallback (never numbers) on anything it cannot account for."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import ParsedReport, read_report
from gatekeeper.evidence.coverage_formats import lcov as lcov_module
from gatekeeper.evidence.coverage_formats.lcov import read_lcov_lines
from gatekeeper.evidence.coverage_formats.lcov_fast import read_fast
from tests.evidence import realproject


def same(a: ParsedReport, b: ParsedReport) -> None:
    """Equal figures: line states (trailing unmeasured lines aside) and branches."""
    assert list(a.files) == list(b.files)
    for name in a.files:
        assert bytes(a.files[name]).rstrip(b"\0") == bytes(b.files[name]).rstrip(b"\0"), name
    assert {k: v.counts() for k, v in a.branches.items()} == {
        k: v.counts() for k, v in b.branches.items()
    }
    for name, branches in a.branches.items():
        other = b.branches[name]
        for n in range(max(len(branches.total), len(other.total))):
            pair = [(x.total[n], x.covered[n]) if n < len(x.total) else (0, 0)
                    for x in (branches, other)]
            assert pair[0] == pair[1], (name, n)
    assert a.format == b.format == "lcov"


def write(tmp_path: Path, text: str | bytes, name: str = "lcov.info") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def fast_and_same(path: Path) -> ParsedReport:
    fast = read_fast(path)
    assert fast is not None
    same(fast, read_lcov_lines(path))
    return fast


GENINFO = """TN:unit
SF:/src/lib.c
FN:3,9,lib_init
FNDA:1,lib_init
FNF:1
FNH:1
BRDA:4,0,0,-
BRDA:4,0,1,1
BRDA:7,0,0,0
BRDA:7,0,1,3
BRDA:7,1,0,1
BRF:5
BRH:3
DA:3,1
DA:4,0
DA:5,12000
DA:7,3
LF:4
LH:3
end_of_record
TN:unit
SF:/src/util.c
DA:1,0
DA:2,0
LF:2
LH:0
end_of_record
"""

COVERAGE_PY = """SF:pkg/calc.py
DA:1,1
DA:4,1
DA:14,1
DA:15,0
DA:16,1
DA:27,0
LF:6
LH:4
FN:4,5,add
FNDA:1,add
FNF:1
FNH:1
BRDA:14,0,jump to line 15,0
BRDA:14,0,jump to line 16,1
BRDA:27,0,jump to line 28,-
BRDA:27,0,return from function 'unused',-
BRF:4
BRH:1
end_of_record
"""


def test_geninfo_records_are_read_fast_with_the_same_figures(tmp_path) -> None:
    parsed = fast_and_same(write(tmp_path, GENINFO))
    assert parsed.files["/src/lib.c"][:8] == bytes([0, 0, 0, 2, 1, 2, 0, 2])
    assert parsed.branches["/src/lib.c"].counts() == (5, 3)
    assert "/src/util.c" not in parsed.branches


def test_coverage_py_records_are_read_fast(tmp_path) -> None:
    parsed = fast_and_same(write(tmp_path, COVERAGE_PY))
    assert parsed.branches["pkg/calc.py"].counts() == (4, 1)


def test_real_coverage_py_lcov_takes_the_fast_path(tmp_path) -> None:
    realproject.build(tmp_path)
    parsed = fast_and_same(tmp_path / "coverage.lcov")
    assert parsed.branches


@pytest.mark.parametrize("keep", [0, 1 << 24])
def test_branches_are_counted_before_their_arrays_are_built(tmp_path, monkeypatch,
                                                            keep) -> None:
    """From the BRDA run (or, past KEEP, a compact array): counts first, arrays on first
    use, and a merge with another report's branches sees the arrays."""
    from gatekeeper.evidence.coverage_formats import Branches, lcov_fast

    monkeypatch.setattr(lcov_fast, "KEEP", keep)
    parsed = read_fast(write(tmp_path, GENINFO))
    assert parsed is not None
    pending = parsed.branches["/src/lib.c"]
    assert isinstance(pending, lcov_fast._PendingBranches)
    assert (pending.run is not None) == bool(keep)
    assert pending.counts() == (5, 3)
    other = Branches()
    other.add(4, 2, 2)
    merged = other.merged(pending)
    assert (list(merged.total[:8]), list(merged.covered[:8])) == (
        [0, 0, 0, 0, 2, 0, 0, 3], [0, 0, 0, 0, 2, 0, 0, 2])
    assert pending.counts() == (5, 3)
    assert (pending.total[4], pending.covered[4], pending.total[7]) == (2, 1, 3)
    pending.add(4, 2, 2)  # a later record of the file: counts follow the arrays
    assert pending.counts() == (5, 4)
    with pytest.raises(AttributeError):
        _ = pending.missing


def test_branch_runs_are_charged_for_what_their_numbers_could_need(tmp_path) -> None:
    """A kept BRDA run is charged for arrays as long as the file's last DA line has digits;
    a longer branch line number, or a budget without room for that bound, takes the
    exact charge (and the compact array) instead."""
    from gatekeeper.evidence.coverage_formats import _budget, lcov_fast

    def kept(text: str, budget: int) -> str:
        """How the branches were kept: "run" or "sparse" (figures checked too)."""
        token = _budget.set([budget])
        try:
            parsed = read_fast(write(tmp_path, text))
        finally:
            _budget.reset(token)
        assert parsed is not None
        pending = parsed.branches["a.c"]
        assert isinstance(pending, lcov_fast._PendingBranches)
        how = "run" if pending.run is not None else "sparse"
        same(parsed, read_lcov_lines(tmp_path / "lcov.info"))
        return how

    short = "SF:a.c\nDA:5,1\nDA:9,0\nBRDA:5,0,0,1\nBRDA:5,0,1,0\nend_of_record\n"
    assert kept(short, 1 << 20) == "run"
    assert kept(short.replace("BRDA:5,0,1,0", "BRDA:12,0,1,0"), 1 << 20) == "sparse"
    wide = "SF:a.c\nDA:5,1\nDA:999,0\nBRDA:5,0,0,1\nend_of_record\n"
    assert kept(wide, 1 << 20) == "run"
    # 2,000 for the line table; the run's bound (8 * 1,000 + 64) does not fit, its exact
    # arrays (8 * 6 + 64) do.
    assert kept(wide, 2_000 + 5_000) == "sparse"


def test_reports_of_tiny_records_go_to_the_careful_reader(tmp_path, fast_results) -> None:
    """Two DA lines a record over the first MiB: the careful reader is the faster one;
    the figures are the same either way."""
    text = "".join(f"SF:f{i}.py\nDA:1,1\nDA:2,0\nend_of_record\n" for i in range(40_000))
    parsed = read_report(write(tmp_path, text))
    assert fast_results == [None]
    assert len(parsed.files) == 40_000
    assert bytes(parsed.files["f7.py"]).rstrip(b"\0") == b"\0\2\1"


def test_a_record_past_max_record_goes_to_the_careful_reader(tmp_path, monkeypatch) -> None:
    from gatekeeper.evidence.coverage_formats import lcov_fast

    monkeypatch.setattr(lcov_fast, "CHUNK", 64)
    monkeypatch.setattr(lcov_fast, "MAX_RECORD", 100)
    path = write(tmp_path, GENINFO)
    assert read_fast(path) is None
    same(read_report(path), read_lcov_lines(path))


def test_read_report_uses_the_fast_reader(tmp_path, monkeypatch) -> None:
    def refuse(path: Path) -> ParsedReport:
        raise AssertionError("careful reader called")

    monkeypatch.setattr(lcov_module, "read_lcov_lines", refuse)
    assert read_report(write(tmp_path, GENINFO)).format == "lcov"


@pytest.mark.parametrize("chunk", [1, 2, 7, 13, 64])
def test_records_across_chunk_boundaries(tmp_path, monkeypatch, chunk) -> None:
    from gatekeeper.evidence.coverage_formats import lcov_fast

    monkeypatch.setattr(lcov_fast, "CHUNK", chunk)
    fast_and_same(write(tmp_path, GENINFO + COVERAGE_PY))


READ_FAST = {
    "checksums": GENINFO.replace("DA:3,1\n", "DA:3,1,aGVsbG8\n").replace(
        "DA:4,0\n", "DA:4,0,d29ybGQ\n").replace("DA:5,12000\n", "DA:5,12000,x+/y\n").replace(
        "DA:7,3\n", "DA:7,3,\n").replace("DA:1,0\n", "DA:1,0,a\n").replace(
        "DA:2,0\n", "DA:2,0,b\n"),
    "DA lines among BRDA lines": GENINFO.replace("BRDA:4,0,1,1\n", "").replace(
        "DA:4,0\n", "DA:4,0\nBRDA:4,0,1,1\n"),
    "a line given twice": GENINFO.replace("DA:7,3\n", "DA:7,3\nDA:4,1\nDA:3,0\n"),
    "lines out of order": GENINFO.replace("DA:3,1\n", "").replace("DA:7,3\n", "DA:7,3\nDA:3,1\n")
    .replace("DA:7,3\n", "DA:7,3\nDA:70,0\nDA:3,1\n"),
    "branches out of order": GENINFO.replace("BRDA:4,0,0,-\n", "").replace(
        "BRDA:7,1,0,1\n", "BRDA:7,1,0,1\nBRDA:4,0,0,-\nBRDA:40,0,0,0\nBRDA:4,0,2,2\n"),
    "a file in two records": GENINFO + "TN:other\nSF:/src/lib.c\nDA:4,2\nDA:8,0\n"
    "BRDA:4,0,0,1\nBRDA:4,0,1,1\nBRDA:4,0,2,0\nBRDA:9,0,0,1\nend_of_record\n",
    "no final newline": GENINFO.rstrip("\n"),
    "comments, blank lines and other directives": "# geninfo\nVER:2.0\n\n" + GENINFO.replace(
        "FNF:1\n", "FNF:1\n\n# a comment\nFNL:0,3,9\nMCDC:4,2,t,0,0,a\n") + "\n# end\n",
    "a record without lines": "SF:empty.py\nend_of_record\n" + GENINFO,
    "only branches": "SF:b.c\nBRDA:3,0,0,1\nBRDA:3,0,1,0\nend_of_record\n",
    "huge count": GENINFO.replace("DA:5,12000", "DA:5," + "9" * 300),
}


@pytest.mark.parametrize("case", sorted(READ_FAST))
def test_common_variations_are_read_fast(tmp_path, case) -> None:
    fast_and_same(write(tmp_path, READ_FAST[case]))


UNUSUAL = {
    "float count": GENINFO.replace("DA:5,12000", "DA:5,1.2e+04"),
    "zero as a float": GENINFO.replace("DA:4,0\n", "DA:4,0.0\n"),
    "space after the colon": GENINFO.replace("DA:4,0", "DA: 4,0"),
    "trailing space": GENINFO.replace("DA:4,0\n", "DA:4,0 \n"),
    "indented line": GENINFO.replace("DA:4,0\n", "  DA:4,0\n"),
    "leading zero in a line number": GENINFO.replace("DA:4,0", "DA:04,0"),
    "leading zero in a count": GENINFO.replace("DA:7,3", "DA:7,03"),
    "leading zero in a branch line": GENINFO.replace("BRDA:4,0,0,-", "BRDA:04,0,0,-"),
    "crlf": GENINFO.replace("\n", "\r\n"),
    "lone cr": GENINFO.replace("DA:4,0\n", "DA:4,0\rDA:6,1\n"),
    "bom": "\ufeff" + GENINFO,
    "some lines with checksums": GENINFO.replace("DA:3,1\n", "DA:3,1,abc\n"),
    "SF twice in a record": GENINFO.replace("DA:5,12000\n", "DA:5,12000\nSF:/src/x.c\n"),
    "end_of_record with a trailing space": GENINFO.replace("end_of_record\n", "end_of_record \n"),
    "a count int() refuses": GENINFO.replace("DA:5,12000", "DA:5," + "9" * 5000),
    "underscore in a number": GENINFO.replace("DA:5,12000", "DA:5,12_000"),
}


@pytest.mark.parametrize("case", sorted(UNUSUAL))
def test_anything_unusual_goes_to_the_careful_reader(tmp_path, case) -> None:
    """The fast reader steps aside; read_report gives the careful reader's answer."""
    path = write(tmp_path, UNUSUAL[case])
    assert read_fast(path) is None
    gives_the_careful_answer(path, same)


def gives_the_careful_answer(
    path: Path, compare: Callable[[ParsedReport, ParsedReport], None]
) -> None:
    """read_report's answer is the careful reader's: the same error, or figures that
    ``compare`` finds equal."""
    try:
        careful = read_lcov_lines(path)
    except EvidenceError as e:
        with pytest.raises(EvidenceError) as err:
            read_report(path)
        assert str(err.value) == str(e)
    else:
        compare(read_report(path), careful)


PAD = b"TN:padding\n" * 500
MALFORMED = {
    "truncated": GENINFO[: GENINFO.index("DA:7,3")],
    "no end_of_record": GENINFO.replace("end_of_record\n", ""),
    "garbage line": GENINFO.replace("LF:4\n", "this is not lcov\n"),
    "lowercase directive": GENINFO.replace("LF:4\n", "lf:4\n"),
    "DA before SF": "DA:1,1\n" + GENINFO,
    "BRDA before SF": "BRDA:1,0,0,1\n" + GENINFO,
    "DA after the last record": GENINFO + "DA:1,1\n",
    "end_of_record without SF": "end_of_record\n" + GENINFO,
    "SF without a name": GENINFO.replace("SF:/src/util.c", "SF:  "),
    "line zero": GENINFO.replace("DA:4,0", "DA:0,0"),
    "negative count": GENINFO.replace("DA:4,0", "DA:4,-1"),
    "nan count": GENINFO.replace("DA:4,0", "DA:4,nan"),
    "line beyond any source file": GENINFO.replace("DA:7,3", "DA:7000000,3"),
    "DA with one field": GENINFO.replace("DA:4,0", "DA:4"),
    "DA with four fields": GENINFO.replace("DA:4,0", "DA:4,0,a,b"),
    "DA with an empty count": GENINFO.replace("DA:4,0", "DA:4,"),
    "BRDA with too few fields": GENINFO.replace("BRDA:4,0,0,-", "BRDA:4,0,-"),
    "BRDA line zero": GENINFO.replace("BRDA:4,0,0,-", "BRDA:0,0,0,-"),
    "BRDA bad taken": GENINFO.replace("BRDA:4,0,0,-", "BRDA:4,0,0,x"),
    "BRDA negative taken": GENINFO.replace("BRDA:4,0,0,-", "BRDA:4,0,0,-1"),
    "BRDA beyond any source file": GENINFO.replace("BRDA:4,0,0,-", "BRDA:4000000,0,0,-"),
    # Past the first 4,096 bytes, which decide the format.
    "invalid utf-8": PAD + GENINFO.encode().replace(b"/src/util.c", b"/src/\xffutil.c"),
    "invalid utf-8 in a directive": PAD + GENINFO.encode().replace(b"FN:3,9,lib_init",
                                                                   b"FN:3,9,lib\xc3"),
    "more branches on a line than any code has": "SF:a.c\n" + "BRDA:1,0,0,1\n" * 65_536
    + "end_of_record\n",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_reports_are_never_numbers(tmp_path, case) -> None:
    """The fast reader steps aside and the careful reader's precise error stands."""
    path = write(tmp_path, MALFORMED[case])
    assert read_fast(path) is None
    with pytest.raises(EvidenceError) as careful:
        read_lcov_lines(path)
    with pytest.raises(EvidenceError) as err:
        read_report(path)
    assert str(err.value) == str(careful.value)


@pytest.fixture
def fast_results(monkeypatch) -> list[ParsedReport | None]:
    """What the fast reader returned, each time read_report called it."""
    from gatekeeper.evidence.coverage_formats import lcov_fast

    results: list[ParsedReport | None] = []
    real = lcov_fast.read_fast

    def spy(path: Path) -> ParsedReport | None:
        results.append(real(path))
        return results[-1]

    monkeypatch.setattr(lcov_fast, "read_fast", spy)
    return results


def test_line_table_bomb_keeps_the_careful_readers_error(tmp_path, fast_results) -> None:
    text = "".join(f"SF:f{i}.py\nDA:999999,1\nend_of_record\n" for i in range(100))
    with pytest.raises(EvidenceError, match="more memory than a report of its size"):
        read_report(write(tmp_path, text))
    assert fast_results == [None]


def test_budget_the_fast_reader_used_is_given_back(tmp_path, fast_results) -> None:
    """40 tables of a million lines fit the careful reader's budget (64 MB) but not the
    fast reader's doubled charge: it steps aside and the careful reader reads it all."""
    text = "".join(f"SF:f{i}.py\nDA:999999,1\nend_of_record\n" for i in range(40))
    parsed = read_report(write(tmp_path, text))
    assert fast_results == [None]
    assert len(parsed.files) == 40
    assert all(lines[999_999] == 2 for lines in parsed.files.values())


def test_branch_tables_are_charged_to_the_budget(tmp_path, fast_results) -> None:
    text = "".join(f"SF:f{i}.py\nBRDA:999999,0,0,1\nend_of_record\n" for i in range(30))
    with pytest.raises(EvidenceError, match="more memory than a report of its size"):
        read_report(write(tmp_path, text))
    assert fast_results == [None]


# --- properties ----------------------------------------------------------------------

records = st.lists(
    st.tuples(
        st.sampled_from(["a.py", "b.py", "src/c.c", "d é.py"]),
        st.lists(st.tuples(st.integers(1, 400), st.integers(0, 3), st.booleans()), max_size=25),
        st.lists(st.tuples(st.integers(1, 400), st.sampled_from(["-", "0", "1", "7"]),
                           st.sampled_from(["0", "jump to line 3", "a,b"])), max_size=8),
        st.booleans(),
    ),
    min_size=1, max_size=5,
)


def lcov_text(recs: list, checksums: bool, interleave: bool) -> str:
    out = ""
    for name, das, brdas, sort in recs:
        out += f"TN:t\nSF:{name}\nFN:1,2,f\nFNDA:1,f\n"
        if sort:
            das, brdas = sorted(das), sorted(brdas)
        da_lines = [f"DA:{n},{c}" + (",c2Vl" if checksums else "") for n, c, _ in das]
        br_lines = [f"BRDA:{n},0,{b},{t}" for n, t, b in brdas]
        if interleave:
            lines = [x for pair in zip(da_lines, br_lines, strict=False) for x in pair]
            lines += da_lines[len(br_lines):] + br_lines[len(da_lines):]
        else:
            lines = br_lines + da_lines
        out += "".join(x + "\n" for x in lines) + f"LF:{len(das)}\nLH:0\nend_of_record\n"
    return out


settings_ = settings(max_examples=120, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings_
@given(recs=records, checksums=st.booleans(), interleave=st.booleans(),
       chunk=st.sampled_from([3, 50, 4 << 20]), keep=st.sampled_from([0, 1 << 24]))
def test_random_reports_read_fast_alike(tmp_path, monkeypatch, recs, checksums, interleave,
                                        chunk, keep) -> None:
    """Duplicates, repeated files, unsorted lines, checksums, interleaved branches, any
    chunk size, branch runs kept or not: the fast reader's figures are the careful
    reader's (branch counts before their arrays are built, and the arrays)."""
    from gatekeeper.evidence.coverage_formats import lcov_fast

    monkeypatch.setattr(lcov_fast, "CHUNK", chunk)
    monkeypatch.setattr(lcov_fast, "KEEP", keep)
    path = write(tmp_path, lcov_text(recs, checksums, interleave))
    fast_and_same(path)


CORRUPTIONS = [b"", b"\n", b",", b"-", b"0", b"9", b" ", b"\r", b"DA:", b"BRDA:", b"SF:x\n",
               b"end_of_record", b"end_of_record\n", b"\xff", b"\xc3", b"#", b",,", b"e5", b"."]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(min_value=0, max_value=len(GENINFO + COVERAGE_PY)),
    insert=st.binary(max_size=4) | st.sampled_from(CORRUPTIONS),
    drop=st.integers(min_value=0, max_value=6),
    keep=st.sampled_from([0, 1 << 24]),
)
def test_a_corrupted_report_is_read_fast_only_if_the_careful_reader_agrees(
    tmp_path, monkeypatch, cut, insert, drop, keep
) -> None:
    """Whatever the corruption, the fast reader gives the careful reader's figures or
    steps aside: it never reads a report the careful reader refuses."""
    from gatekeeper.evidence.coverage_formats import lcov_fast

    monkeypatch.setattr(lcov_fast, "KEEP", keep)
    data = (GENINFO + COVERAGE_PY).encode()
    path = write(tmp_path, data[:cut] + insert + data[cut + drop :])
    fast = read_fast(path)
    if fast is not None:
        same(fast, read_lcov_lines(path))


def test_text_that_is_not_utf8_is_named_by_its_line(tmp_path) -> None:
    """Text is decoded ahead of the line being read: the error names the bad line."""
    data = PAD + GENINFO.encode().replace(b"/src/util.c", b"/src/\xffutil.c")
    bad_line = data[: data.index(b"\xff")].count(b"\n") + 1
    with pytest.raises(EvidenceError, match=rf"lcov\.info: line {bad_line}: not UTF-8 text$"):
        read_report(write(tmp_path, data))


# Lines that only look like DA lines: digits are not where a DA line has them. The
# careful reader refuses the first kind and ignores the others (a directive it does not
# know); neither is line 94 or 93 (the digits of the line run together).
LOOKALIKES = {
    "a digit before DA": "9DA:4,0",
    "a digit in the directive's name": "DA9:3,1",
    "a digit in the directive's name, with a checksum": "DA9:3,1,abc",
}


@pytest.mark.parametrize("keep", [0, 1 << 24])
@pytest.mark.parametrize("where", ["DA:3,1\n", "DA:7,3\n"])
@pytest.mark.parametrize("case", sorted(LOOKALIKES))
def test_a_line_that_only_looks_like_a_da_line_is_not_read_as_one(
    tmp_path, monkeypatch, case, where, keep
) -> None:
    """The DA run's shape proof deletes digits: it must also pin where they stand."""
    from gatekeeper.evidence.coverage_formats import lcov_fast

    monkeypatch.setattr(lcov_fast, "KEEP", keep)
    text = GENINFO.replace(where, where + LOOKALIKES[case] + "\n", 1)
    if "checksum" in case:  # every DA line with one: the run's checksum path
        text = re.sub(r"(?m)^(DA:[0-9]+,[0-9]+)$", r"\1,x", text)
    path = write(tmp_path, text)
    try:
        careful = read_lcov_lines(path)
    except EvidenceError as e:
        assert read_fast(path) is None
        with pytest.raises(EvidenceError) as err:
            read_report(path)
        assert str(err.value) == str(e)
        return
    fast = read_fast(path)
    if fast is not None:
        same(fast, careful)
    same(read_report(path), careful)
    assert bytes(read_report(path).files["/src/lib.c"])[90:] == b""
