"""Coverage report readers: formats from several producers, bad input, properties."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import coverage
from gatekeeper.evidence.coverage_formats import read_report, sniff
from tests.evidence.test_coverage import evidence
from tests.factories import make_repo

COVERED, MISSED = 2, 1


def states(lines: bytearray) -> dict[int, int]:
    return {n: s for n, s in enumerate(lines) if s}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


# --- producers -------------------------------------------------------------------------


def test_gcovr_cobertura_lines_under_methods_are_not_counted_twice(tmp_path):
    report = write(tmp_path, "gcovr.xml", """<?xml version='1.0' encoding='UTF-8'?>
<!DOCTYPE coverage SYSTEM 'http://cobertura.sourceforge.net/xml/coverage-04.dtd'>
<coverage line-rate="0.5" branch-rate="0.5" lines-covered="2" lines-valid="4" version="gcovr 7.2">
  <sources><source>/build/proj</source></sources>
  <packages><package name="src" line-rate="0.5"><classes>
    <class name="main_c" filename="src/main.c" line-rate="0.5">
      <methods><method name="main" signature="" line-rate="0.5">
        <lines><line number="3" hits="1"/><line number="4" hits="0"/></lines>
      </method></methods>
      <lines>
        <line number="3" hits="1" branch="false"/>
        <line number="4" hits="0" branch="false"/>
        <line number="6" hits="12" branch="true" condition-coverage="50% (1/2)">
          <conditions><condition number="0" type="jump" coverage="50%"/></conditions>
        </line>
        <line number="7" hits="0" branch="false"/>
      </lines>
    </class>
  </classes></package></packages>
</coverage>
""")
    parsed = read_report(report)
    assert parsed.format == "cobertura"
    assert parsed.sources == ["/build/proj"]
    assert states(parsed.files["src/main.c"]) == {3: COVERED, 4: MISSED, 6: COVERED, 7: MISSED}


def test_istanbul_cobertura_with_absolute_source(tmp_path):
    make_repo(tmp_path, {"app/src/util.js": "x\n" * 5})
    write(tmp_path, "cobertura-coverage.xml", f"""<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage lines-valid="3" lines-covered="2" line-rate="0.6666" timestamp="1" version="0.1">
  <sources><source>{tmp_path}/app</source></sources>
  <packages><package name="src" line-rate="0.6666"><classes>
    <class name="util.js" filename="src/util.js" line-rate="0.6666">
      <methods><method name="(anonymous_0)" hits="1" signature="()V">
        <lines><line number="1" hits="1"/></lines></method></methods>
      <lines>
        <line number="1" hits="1"/><line number="2" hits="3"/><line number="5" hits="0"/>
      </lines>
    </class>
  </classes></package></packages>
</coverage>
""")
    data = coverage.load(evidence(tmp_path, "HEAD"), ["cobertura-coverage.xml"])
    assert states(data.files["app/src/util.js"]) == {1: COVERED, 2: COVERED, 5: MISSED}


def test_geninfo_lcov_with_every_directive(tmp_path):
    report = write(tmp_path, "lcov.info", """# produced by geninfo
VER:2.0
TN:unit
SF:/src/lib.c
FN:3,9,lib_init
FNL:0,3,9
FNA:0,1,lib_init
FNDA:1,lib_init
FNF:1
FNH:1
DA:3,1,aGVsbG8
DA:4,0
DA:5,1.2e+03
DA:7,3
BRDA:4,0,0,-
BRDA:4,0,1,1
BRF:2
BRH:1
MCDC:4,2,t,0,0,a
LF:4
LH:3
end_of_record

TN:unit
SF:/src/lib.c
DA:4,2
DA:8,0
end_of_record
""")
    parsed = read_report(report)
    assert parsed.format == "lcov"
    # Two records of one file merge: line 4 ran in the second.
    assert states(parsed.files["/src/lib.c"]) == {3: COVERED, 4: COVERED, 5: COVERED,
                                                   7: COVERED, 8: MISSED}
    assert parsed.branches["/src/lib.c"].counts() == (2, 1)


def test_coveragepy_json_format_3(tmp_path):
    report = write(tmp_path, "cov.json", json.dumps({
        "meta": {"format": 3, "version": "7.6.1"},
        "files": {"pkg/a.py": {"executed_lines": [1, 2], "missing_lines": [4],
                               "excluded_lines": [6], "summary": {}}},
        "totals": {"covered_lines": 2, "num_statements": 3},
    }))
    parsed = read_report(report)
    assert parsed.format == "coverage.py-json"
    assert states(parsed.files["pkg/a.py"]) == {1: COVERED, 2: COVERED, 4: MISSED}


def test_format_comes_from_content_not_name(tmp_path):
    report = write(tmp_path, "coverage.xml", "SF:a.py\nDA:1,1\nend_of_record\n")
    assert read_report(report).format == "lcov"
    report = write(tmp_path, "lcov.info", '{"files": {}}')
    assert read_report(report).format == "coverage.py-json"


# --- bad input: each is an error naming the file and the problem ------------------------

XML_HEAD = '<?xml version="1.0"?>'
BAD = {
    "empty": ("", "is empty"),
    "blank": ("  \n\t\n", "is empty"),
    "truncated-xml": ('<?xml version="1.0" ?>\n<coverage><packages><package><classes>'
                      '<class filename="a.py"><lines><line number="1" hits="1"/>',
                      "truncated"),
    "billion-laughs": (XML_HEAD + '<!DOCTYPE coverage [<!ENTITY a "aaaaaaaaaa">'
                       '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><coverage>&b;</coverage>',
                       "declares entities"),
    "external-entity": (XML_HEAD + '<!DOCTYPE coverage [<!ENTITY x SYSTEM '
                        '"file:///etc/passwd">]><coverage>&x;</coverage>',
                        "external entity"),
    "undefined-entity": (XML_HEAD + "<coverage>&x;</coverage>", "undefined entity"),
    "wrong-root": (XML_HEAD + "<html><body/></html>", "<html> is not a coverage report"),
    "clover": (XML_HEAD + '<coverage clover="4.4.1"><project/></coverage>', "Clover"),
    "bad-line-number": (XML_HEAD + '<coverage><class filename="a.py"><lines>'
                        '<line number="x" hits="1"/></lines></class></coverage>', "bad value"),
    "line-without-number": (XML_HEAD + '<coverage><class filename="a.py"><lines>'
                            '<line hits="1"/></lines></class></coverage>', "'number' attribute"),
    "huge-line-number": ("SF:a.py\nDA:123456789,1\nend_of_record\n", "beyond any real"),
    "json-huge-line-number": ('{"files": {"a.py": {"executed_lines": [5000000], '
                              '"missing_lines": []}}}', "beyond any real source file"),
    "xml-huge-line-number": (XML_HEAD + '<coverage><class filename="a.py"><lines>'
                             '<line number="5000000" hits="1"/></lines></class></coverage>',
                             "line 1: line number 5000000 is beyond any real source file"),
    "line-table-bomb": ("".join(f"SF:f{i}.py\nDA:999999,1\nend_of_record\n" for i in range(100)),
                        "more memory than a report of its size can plausibly describe"),
    "lcov-garbage": ("SF:a.py\nDA:1,1\nthis is not lcov\nend_of_record\n", "line 3: not an LCOV"),
    "lcov-bad-da": ("SF:a.py\nDA:1\nend_of_record\n", "line 2: malformed DA"),
    "lcov-bad-count": ("SF:a.py\nDA:1,lots\nend_of_record\n", "line 2: bad number"),
    "lcov-da-outside-record": ("TN:\nDA:1,1\n", "line 2: DA record outside"),
    "lcov-unterminated": ("SF:a.py\nDA:1,1\n", "no end_of_record"),
    "json-invalid": ('{"files": {"a.py": ', "invalid JSON"),
    "json-no-files": ('{"meta": {}}', "without a 'files' object"),
    "json-bad-lines": ('{"files": {"a.py": {"executed_lines": ["1"], "missing_lines": []}}}',
                       "executed_lines must be a list"),
    # Python looks a declared encoding up among its codecs: a LookupError (an internal
    # error) for one it does not know or one that is not a text encoding.
    "xml-unknown-encoding": ('<?xml version="1.0" encoding="x-none"?><coverage/>',
                             "encoding 'x-none'"),
    "xml-not-a-text-encoding": ('<?xml version="1.0" encoding="rot13"?><coverage/>',
                                "encoding 'rot13'"),
    "unknown-text": ("hello world\n", "not a coverage report format"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_report_is_an_evidence_error_naming_the_file(tmp_path, case):
    content, expected = BAD[case]
    path = write(tmp_path, f"{case}.report", content)
    with pytest.raises(EvidenceError) as err:
        read_report(path)
    message = str(err.value)
    assert message.startswith(str(path) + ":")
    assert expected in message
    assert "\n" not in message


def test_coverage_data_file_is_refused_as_binary(tmp_path):
    path = tmp_path / ".coverage"
    sqlite3.connect(path).execute("create table meta (key text, value text)").connection.commit()
    with pytest.raises(EvidenceError, match=r"\.coverage: binary data.*coverage xml"):
        read_report(path)


def test_missing_report(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n"})
    with pytest.raises(EvidenceError, match=r"^coverage\.xml: coverage report not found"):
        coverage.load(evidence(tmp_path, "HEAD"), ["coverage.xml"])
    with pytest.raises(EvidenceError, match=r"no coverage report matches 'build/\*\*/\*\.xml'"):
        coverage.load(evidence(tmp_path, "HEAD"), ["build/**/*.xml"])


def test_report_measuring_none_of_the_repository(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n"})
    write(tmp_path, "other.lcov", "SF:/elsewhere/b.py\nDA:1,1\nend_of_record\n")
    with pytest.raises(EvidenceError, match=r"other\.lcov: none of the 1 files .*'/elsewhere/b"
                                            r"\.py'.*path_map"):
        coverage.load(evidence(tmp_path, "HEAD"), ["other.lcov"])


def test_report_measuring_no_files(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n"})
    write(tmp_path, "c.xml", '<?xml version="1.0"?><coverage><packages/></coverage>')
    with pytest.raises(EvidenceError, match=r"c\.xml: the cobertura report measures no files"):
        coverage.load(evidence(tmp_path, "HEAD"), ["c.xml"])


# --- properties ------------------------------------------------------------------------

line_sets = st.dictionaries(
    st.from_regex(r"[a-z]{1,8}(/[a-z_]{1,8}){0,2}\.(py|js|c)", fullmatch=True),
    st.dictionaries(st.integers(1, 5000), st.integers(0, 10**6), min_size=1, max_size=40),
    min_size=1, max_size=6,
)
settings_ = settings(max_examples=60, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def expected(files: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
    return {f: {n: COVERED if h else MISSED for n, h in lines.items()}
            for f, lines in files.items()}


@settings_
@given(files=line_sets)
def test_lcov_round_trip(tmp_path, files):
    text = "".join(
        "TN:\nSF:" + name + "\n" + "".join(f"DA:{n},{h}\n" for n, h in lines.items())
        + f"LF:{len(lines)}\nLH:{sum(1 for h in lines.values() if h)}\nend_of_record\n"
        for name, lines in files.items()
    )
    parsed = read_report(write(tmp_path, "r.lcov", text))
    assert {f: states(b) for f, b in parsed.files.items()} == expected(files)


LINE_SHAPES = (
    '<line number="{n}" hits="{h}"/>',
    '<line hits="{h}" number="{n}"/>',
    '<line number="{n}" hits="{h}" branch="true" condition-coverage="50% (1/2)">'
    '<conditions><condition number="0" type="jump" coverage="50%"/></conditions></line>',
    '<line number="{n}"  hits="{h}" branch="false"></line>',
)


@settings_
@given(files=st.dictionaries(
    st.from_regex(r"[a-z]{1,8}(/[a-z_]{1,8}){0,2}\.(py|js|c)", fullmatch=True),
    st.dictionaries(st.integers(1, 200_000), st.integers(0, 10**6), min_size=1, max_size=40),
    min_size=1, max_size=6,
), per_class=st.integers(1, 3), shapes=st.lists(st.sampled_from(LINE_SHAPES), min_size=1))
def test_cobertura_from_random_line_sets(tmp_path, files, per_class, shapes):
    """A file's lines may be split over several <class> elements (inner classes), and
    line elements come in every shape producers write (the fast path and the careful
    one must agree)."""
    classes = []
    k = 0
    for name, lines in files.items():
        items = sorted(lines.items())
        for part in range(per_class):
            chunk = items[part::per_class]
            body = ""
            for n, h in chunk:
                body += shapes[k % len(shapes)].format(n=n, h=h)
                k += 1
            classes.append(f'<class name="c{part}" filename="{name}"><methods/><lines>{body}'
                           "</lines></class>")
    xml = ('<?xml version="1.0" ?><coverage><packages><package name="p"><classes>'
           + "".join(classes) + "</classes></package></packages></coverage>")
    parsed = read_report(write(tmp_path, "c.xml", xml))
    assert {f: states(b) for f, b in parsed.files.items()} == expected(files)


@settings_
@given(files=line_sets)
def test_coveragepy_json_from_random_line_sets(tmp_path, files):
    data = {"files": {f: {"executed_lines": sorted(n for n, h in ls.items() if h),
                          "missing_lines": sorted(n for n, h in ls.items() if not h)}
                      for f, ls in files.items()}}
    parsed = read_report(write(tmp_path, "c.json", json.dumps(data)))
    assert {f: states(b) for f, b in parsed.files.items()} == expected(files)


@given(a=st.binary(max_size=300), b=st.binary(max_size=300))
def test_merge_is_per_line_max_and_commutative(a, b):
    a, b = bytearray(x % 3 for x in a), bytearray(x % 3 for x in b)
    merged = coverage.merge_lines(a, b)
    assert merged == coverage.merge_lines(b, a)
    assert len(merged) == max(len(a), len(b))
    assert all(merged[i] == max(a[i] if i < len(a) else 0, b[i] if i < len(b) else 0)
               for i in range(len(merged)))


@settings_
@given(content=st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400),
    st.builds(lambda s: "SF:a.py\n" + s, st.text(max_size=200)),
    st.builds(lambda s: "<coverage>" + s, st.text(max_size=200)),
    st.builds(lambda v: json.dumps({"files": v}), st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.none(), st.integers(), st.dictionaries(
            st.sampled_from(["executed_lines", "missing_lines"]),
            st.lists(st.one_of(st.integers(-5, 2_000_000), st.text(max_size=2)), max_size=3),
        )),
        max_size=3,
    )),
))
def test_any_input_gives_a_report_or_an_evidence_error(tmp_path, content):
    """Never a traceback: whatever the bytes, the reader returns or says what is wrong."""
    path = write(tmp_path, "fuzz", content)
    try:
        read_report(path)
    except EvidenceError as e:
        assert str(e).startswith(str(path))


@given(st.binary(max_size=200))
def test_sniff_never_raises(head):
    assert sniff(head) in {"xml", "json", "lcov", "binary", "empty", "unknown"}


@given(
    report=st.dictionaries(st.sampled_from(["a.py", "b.py", "c.py"]),
                           st.dictionaries(st.integers(1, 60), st.booleans(), max_size=40),
                           max_size=3),
    added=st.dictionaries(st.sampled_from(["a.py", "b.py", "c.py", "d.py"]),
                          st.sets(st.integers(1, 60), min_size=1, max_size=30), max_size=4),
)
def test_diff_figures_match_diff_covers_set_formula(report, added):
    """diff-cover: measured changed = measured ∩ added; missed = uncovered ∩ added."""
    from gatekeeper.evidence.git import ChangedFile

    files = {}
    for name, lines in report.items():
        files[name] = bytearray(61)
        for n, hit in lines.items():
            files[name][n] = COVERED if hit else MISSED
    data = coverage.CoverageData(files, set(files), [])
    changed = [ChangedFile(p, "modified", added_lines=tuple(sorted(added[p])))
               for p in sorted(added)]
    diff = coverage.diff_coverage(data, changed)
    measured = sum(len(set(report.get(p, {})) & ls) for p, ls in added.items())
    missed = {p: sorted(n for n in ls if report.get(p, {}).get(n) is False)
              for p, ls in added.items()}
    assert diff.lines == measured
    assert diff.missing == sum(map(len, missed.values()))
    assert diff.uncovered == {p: ls for p, ls in missed.items() if ls}
    # Not in any report, and of a kind (.py) the reports measure (none when empty), or
    # listed with no measured line (measured nothing).
    assert diff.missing_files == (
        sorted(p for p in added if not report.get(p)) if report else [])
    assert diff.measured_nothing == sorted(p for p in added if p in report and not report[p])


# --- issue 9: parsers that accepted and misread; branch data --------------------------


def _class(body: str, methods: str = "<methods/>", name: str = "a.py") -> str:
    return (f'<?xml version="1.0" ?><coverage><packages><package name="p"><classes>'
            f'<class name="c" filename="{name}">{methods}<lines>{body}</lines></class>'
            "</classes></package></packages></coverage>")


@pytest.mark.parametrize("intruder", [
    "<extra/>",
    "<extra><line number='9' hits='1'/></extra>",
    "<method/>",
    "<class filename='b.py'/>",
    "<lines/>",
])
def test_cobertura_unexpected_element_inside_lines_is_refused(tmp_path, intruder):
    """It used to end the file's lines there: the later miss was dropped (50 % -> 100 %)."""
    body = f'<line number="1" hits="1"/>{intruder}<line number="2" hits="0"/>'
    with pytest.raises(EvidenceError, match=r"unexpected <\w+> inside a class's <lines>"):
        read_report(write(tmp_path, "c.xml", _class(body)))


def test_cobertura_unexpected_element_inside_a_line_is_refused(tmp_path):
    body = '<line number="1" hits="1"><extra/></line><line number="2" hits="0"/>'
    with pytest.raises(EvidenceError, match=r"c\.xml: line 1: unexpected <extra>"):
        read_report(write(tmp_path, "c.xml", _class(body)))


def test_cobertura_elements_after_lines_are_read_as_before(tmp_path):
    """After </lines>, the class may end and others follow: nothing is lost or refused."""
    xml = ('<coverage><packages><package name="p"><classes>'
           '<class filename="a.py"><methods/><lines><line number="1" hits="1"/>'
           '<line number="2" hits="0"><conditions><condition number="0"/></conditions>'
           '</line></lines></class></classes></package><package name="q"><classes>'
           '<class filename="b.py"><lines><line number="3" hits="0"/></lines><methods/>'
           '</class></classes></package></packages></coverage>')
    parsed = read_report(write(tmp_path, "c.xml", xml))
    assert {f: states(b) for f, b in parsed.files.items()} == {
        "a.py": {1: COVERED, 2: MISSED}, "b.py": {3: MISSED}}


def test_cobertura_lines_only_under_methods_are_read(tmp_path):
    methods = ('<methods><method name="f"><lines><line number="1" hits="1"/>'
               '<line number="2" hits="0" branch="true" condition-coverage="50% (1/2)"/>'
               '</lines></method><method name="g"><lines><line number="5" hits="0"/>'
               "</lines></method></methods>")
    parsed = read_report(write(tmp_path, "c.xml", _class("", methods)))
    assert states(parsed.files["a.py"]) == {1: COVERED, 2: MISSED, 5: MISSED}
    assert parsed.branches["a.py"].counts() == (2, 1)
    # With lines of its own, the class's method lines are repeats and not counted twice.
    both = _class('<line number="1" hits="1"/>', methods)
    parsed = read_report(write(tmp_path, "d.xml", both))
    assert states(parsed.files["a.py"]) == {1: COVERED}
    assert "a.py" not in parsed.branches


def test_cobertura_branches_declared_but_not_placed_is_an_error(tmp_path):
    xml = _class('<line number="1" hits="1" branch="true"/>').replace(
        "<coverage>", '<coverage branches-valid="4" branches-covered="2">')
    with pytest.raises(EvidenceError, match=r"declares 4 branches .* no <line> says whose"):
        read_report(write(tmp_path, "c.xml", xml))


def test_cobertura_bad_condition_coverage_is_an_error(tmp_path):
    for bad in ("50%", "50% (3/2)", "x (1/2)"):
        body = f'<line number="1" hits="1" branch="true" condition-coverage="{bad}"/>'
        with pytest.raises(EvidenceError, match=r"c\.xml: line 1: "):
            read_report(write(tmp_path, "c.xml", _class(body)))


@pytest.mark.parametrize("count", ["nan", "inf", "-inf", "-1", "NaN", "1e999", "-0.5"])
def test_lcov_count_that_is_not_a_finite_non_negative_number_is_an_error(tmp_path, count):
    """They used to count as covered."""
    report = write(tmp_path, "r.lcov", f"SF:a.py\nDA:1,0\nDA:2,{count}\nend_of_record\n")
    with pytest.raises(EvidenceError, match=r"r\.lcov: line 3: count .* finite number >= 0"):
        read_report(report)
    brda = write(tmp_path, "b.lcov", f"SF:a.py\nDA:1,1\nBRDA:1,0,0,{count}\nend_of_record\n")
    with pytest.raises(EvidenceError, match=r"b\.lcov: line 3: count"):
        read_report(brda)


def test_lcov_malformed_brda_is_an_error(tmp_path):
    for bad in ("BRDA:1,0", "BRDA:0,0,0,1", "BRDA:x,0,0,1", "BRDA:1,0,0,x"):
        report = write(tmp_path, "r.lcov", f"SF:a.py\nDA:1,1\n{bad}\nend_of_record\n")
        with pytest.raises(EvidenceError, match=r"r\.lcov: line 3: "):
            read_report(report)


def test_coveragepy_json_branch_arcs_and_summary_only(tmp_path):
    arcs = {"files": {"a.py": {"executed_lines": [1, 2], "missing_lines": [3],
                               "executed_branches": [[1, 2], [2, -1]],
                               "missing_branches": [[1, 3], [2, 3]]}},
            "meta": {"timestamp": "2026-01-02T03:04:05.000006"}}
    parsed = read_report(write(tmp_path, "c.json", json.dumps(arcs)))
    branches = parsed.branches["a.py"]
    assert (branches.total[1], branches.covered[1], branches.counts()) == (2, 1, (4, 2))
    assert parsed.timestamp_source == "meta.timestamp"
    old = {"files": {"a.py": {"executed_lines": [1], "missing_lines": [],
                              "summary": {"num_branches": 6, "covered_branches": 5}}}}
    assert read_report(write(tmp_path, "o.json", json.dumps(old))).branches[
        "a.py"].counts() == (6, 5)
    for bad in ([[0, 1]], [[1]], [["1", 2]], "x"):
        arcs["files"]["a.py"]["missing_branches"] = bad
        with pytest.raises(EvidenceError, match=r"missing_branches must be a list"):
            read_report(write(tmp_path, "c.json", json.dumps(arcs)))


# A file's lines: line -> (hits, branches, covered branches); branches 0 = no branch line.
branchy_files = st.dictionaries(
    st.from_regex(r"[a-z]{1,8}(/[a-z_]{1,8}){0,2}\.py", fullmatch=True),
    st.dictionaries(
        st.integers(1, 3000),
        st.tuples(st.integers(0, 3), st.integers(0, 4)).flatmap(
            lambda hb: st.tuples(st.just(hb[0]), st.just(hb[1]), st.integers(0, hb[1]))),
        min_size=1, max_size=30),
    min_size=1, max_size=5,
)


def _as_cobertura(files, intruder: str = "") -> str:
    classes = []
    for name, lines in files.items():
        body = ""
        for n, (h, b, c) in sorted(lines.items()):
            extra = f' branch="true" condition-coverage="{100 * c // b}% ({c}/{b})"' if b else ""
            body += f'<line number="{n}" hits="{h}"{extra}/>' + intruder
        classes.append(f'<class name="x" filename="{name}"><methods/><lines>{body}</lines>'
                       "</class>")
    return ('<?xml version="1.0" ?><coverage><packages><package name="p"><classes>'
            + "".join(classes) + "</classes></package></packages></coverage>")


def _as_lcov(files) -> str:
    out = ""
    for name, lines in files.items():
        out += f"SF:{name}\n"
        for n, (h, b, c) in sorted(lines.items()):
            out += f"DA:{n},{h}\n"
            for k in range(b):
                taken = "-" if not h else ("1" if k < c else "0")
                out += f"BRDA:{n},0,jump to line {k},{taken}\n"
        out += "end_of_record\n"
    return out


def _as_json(files) -> str:
    out = {}
    for name, lines in files.items():
        executed, missing = [], []
        for n, (_, b, c) in lines.items():
            executed += [[n, -k - 1] for k in range(c)]
            missing += [[n, -k - 1] for k in range(c, b)]
        out[name] = {"executed_lines": sorted(n for n, v in lines.items() if v[0]),
                     "missing_lines": sorted(n for n, v in lines.items() if not v[0]),
                     "executed_branches": executed, "missing_branches": missing}
    return json.dumps({"files": out})


@settings_
@given(files=branchy_files)
def test_branches_read_alike_from_cobertura_lcov_and_json(tmp_path, files):
    """The same lines and branches written in three formats read back the same."""
    # LCOV cannot say a line that never ran took a branch: keep the data consistent.
    files = {f: {n: (h, b, c if h else 0) for n, (h, b, c) in ls.items()}
             for f, ls in files.items()}
    want_lines = expected({f: {n: v[0] for n, v in ls.items()} for f, ls in files.items()})
    want_branches = {f: (sum(v[1] for v in ls.values()), sum(v[2] for v in ls.values()))
                     for f, ls in files.items()}
    want_branches = {f: v for f, v in want_branches.items() if v[0]}
    for name, text in (("c.xml", _as_cobertura(files)), ("c.lcov", _as_lcov(files)),
                       ("c.json", _as_json(files))):
        parsed = read_report(write(tmp_path, name, text))
        assert {f: states(b) for f, b in parsed.files.items()} == want_lines, name
        got = {f: b.counts() for f, b in parsed.branches.items() if b.counts()[0]}
        assert got == want_branches, name


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=branchy_files, intruder=st.sampled_from(["<x/>", "<extra a='1'></extra>",
                                                      "<methods/>", "<lines/>"]))
def test_cobertura_with_any_intruder_inside_lines_is_refused(tmp_path, files, intruder):
    with pytest.raises(EvidenceError, match="unexpected"):
        read_report(write(tmp_path, "c.xml", _as_cobertura(files, intruder)))


@given(a=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 9), st.integers(0, 9)),
                  max_size=20),
       b=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 9), st.integers(0, 9)),
                  max_size=20))
def test_branch_merge_is_per_line_max_and_commutative(a, b):
    from gatekeeper.evidence.coverage_formats import Branches

    def build(items):
        out = Branches()
        for line, x, y in items:
            out.add(line, max(x, y), min(x, y))
        return out

    left, right = build(a), build(b)
    merged, other = left.merged(right), right.merged(left)
    assert (merged.total, merged.covered) == (other.total, other.covered)
    for n in range(len(merged.total)):
        for side in (left, right):
            if n < len(side.total):
                assert merged.total[n] >= side.total[n]
                assert merged.covered[n] >= side.covered[n]
    assert all(c <= t for c, t in zip(merged.covered, merged.total, strict=True))


@settings_
@given(files=st.dictionaries(
    st.from_regex(r"[A-Z][a-z]{1,8}\.java", fullmatch=True),
    st.dictionaries(st.integers(1, 3000), st.tuples(
        st.integers(0, 5), st.integers(0, 5), st.integers(0, 4), st.integers(0, 4)),
        min_size=1, max_size=30),
    min_size=1, max_size=4))
def test_jacoco_lines_and_branches_from_random_counters(tmp_path, files):
    """Covered when any instruction ran (ci > 0); branches mb + cb, cb of them covered."""
    sources = "".join(
        f'<sourcefile name="{name}">' + "".join(
            f'<line nr="{n}" mi="{mi}" ci="{ci}" mb="{mb}" cb="{cb}"/>'
            for n, (mi, ci, mb, cb) in sorted(lines.items())) + "</sourcefile>"
        for name, lines in files.items())
    xml = f'<report name="r"><package name="com/acme">{sources}</package></report>'
    parsed = read_report(write(tmp_path, "jacoco.xml", xml))
    assert {f: states(b) for f, b in parsed.files.items()} == {
        f"com/acme/{name}": {n: COVERED if v[1] else MISSED for n, v in lines.items()}
        for name, lines in files.items()}
    got = {f: b.counts() for f, b in parsed.branches.items()}
    want = {f"com/acme/{name}": (sum(v[2] + v[3] for v in lines.values()),
                                 sum(v[3] for v in lines.values()))
            for name, lines in files.items()}
    assert got == {f: c for f, c in want.items() if c[0]}


def test_branches_filled_at_once_equal_branches_added_one_by_one() -> None:
    from gatekeeper.evidence.coverage_formats import Branches

    lines, total, covered = [3, 9, 4], [2, 4, 1], [1, 4, 0]
    one_by_one, at_once = Branches(), Branches()
    for line, t, c in zip(lines, total, covered, strict=True):
        one_by_one.add(line, t, c)
    at_once.fill(lines, total, covered)
    assert at_once.counts() == one_by_one.counts() == (7, 5)
    assert [at_once.total[n] for n in (3, 4, 9)] == [2, 1, 4]


@pytest.mark.parametrize(
    ("total", "covered", "message"),
    [([2], [3], "3 of 2 branches covered"), ([70000], [1], "70000 branches on one line")],
)
def test_filling_impossible_branches_says_what_add_says(total, covered, message) -> None:
    from gatekeeper.evidence.coverage_formats import Branches, ReportFormatError

    with pytest.raises(ReportFormatError, match=message):
        Branches().fill([5], total, covered)


def refused_at_once(read: Callable[[Path], object], fifo: Path) -> BaseException:
    """What ``read(fifo)`` raised, within 10 s (a FIFO without a writer blocks an open
    for ever: the gate would hang until the job's timeout)."""
    import os
    import threading

    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            read(fifo)
        except BaseException as e:  # the outcome is asserted by the caller
            outcome.append(e)

    reader = threading.Thread(target=run, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock it before failing
        with open(fifo, "wb"):
            pass
        pytest.fail(f"{read.__name__} waited on a FIFO")
    return outcome[0]


def test_a_fifo_where_the_report_should_be_is_refused_at_once(tmp_path) -> None:
    """A change's tests can leave a FIFO at the report's path. It is refused, as is any
    file that is not a regular one."""
    error = refused_at_once(read_report, tmp_path / "coverage.xml")
    assert isinstance(error, EvidenceError) and "not a regular file" in str(error)


def test_a_fifo_where_a_junit_report_should_be_is_refused(tmp_path) -> None:
    from gatekeeper.evidence.junit import read_junit

    error = refused_at_once(read_junit, tmp_path / "junit.xml")
    assert isinstance(error, EvidenceError) and "not a regular file" in str(error)


def test_a_directory_where_the_report_should_be_says_so(tmp_path) -> None:
    (tmp_path / "coverage.xml").mkdir()
    with pytest.raises(EvidenceError, match="is a directory, not a coverage report"):
        read_report(tmp_path / "coverage.xml")
