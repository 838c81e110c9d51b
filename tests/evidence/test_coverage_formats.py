"""Coverage report readers: formats from several producers, bad input, properties."""

from __future__ import annotations

import json
import sqlite3
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
DA:7,-1
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
    # Not in any report, and of a kind (.py) the reports measure (none when empty).
    assert diff.missing_files == (sorted(p for p in added if p not in report) if report else [])
