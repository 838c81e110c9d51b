"""JUnit XML evidence: real pytest output, Surefire and jest-junit shapes, selection,
merging, bad input."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import junit
from gatekeeper.evidence.junit import Selection, read_junit
from tests.evidence.test_coverage import evidence
from tests.factories import make_repo

JEST = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="4" failures="1" errors="0" time="1.2">
  <testsuite name="smoke: checkout" errors="0" failures="1" skipped="0" tests="2"
      timestamp="2026-11-23T18:00:00" time="0.8">
    <testcase classname="smoke: checkout pays" name="smoke: checkout pays" time="0.3"/>
    <testcase classname="smoke: checkout refunds" name="smoke: checkout refunds" time="0.5">
      <failure>Error: expect(received).toBe(expected)</failure>
    </testcase>
  </testsuite>
  <testsuite name="unit: money" errors="0" failures="0" skipped="1" tests="2" time="0.1">
    <testcase classname="unit: money adds" name="unit: money adds" time="0.01"/>
    <testcase classname="unit: money rounds" name="unit: money rounds" time="0">
      <skipped/>
    </testcase>
  </testsuite>
</testsuites>
"""

BARE = """<?xml version="1.0" encoding="utf-8"?>
<testsuite errors="0" failures="0" name="pytest" skipped="0" tests="2" time="0.02">
  <testcase classname="tests.test_a" name="test_one" time="0.001"/>
  <testcase classname="tests.test_a" name="test_two" time="0.001"/>
</testsuite>
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def counts(c: junit.TestCounts) -> tuple[int, int, int, int]:
    return (c.tests, c.failures, c.errors, c.skipped)


def test_real_pytest_output(tmp_path):
    (tmp_path / "test_mixed.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("setup fails")

        def test_ok(): pass
        def test_fails(): assert 1 == 2
        def test_errors(broken): pass
        @pytest.mark.skip(reason="later")
        def test_skipped(): pass
        @pytest.mark.xfail
        def test_xfail(): assert False
        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_param(n): assert n
    """))
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--junitxml=junit.xml", "test_mixed.py"], cwd=tmp_path,
                   capture_output=True, check=False)
    result = read_junit(tmp_path / "junit.xml")
    # pytest: 8 cases, 1 failed, 1 error, 2 skipped (skip and xfail).
    assert counts(result) == (8, 1, 1, 2)


def test_surefire():
    path = Path(__file__).parent / "fixtures" / "TEST-com.acme.shop.CartTest.xml"
    assert counts(read_junit(path)) == (5, 1, 1, 1)


def test_jest_junit_and_selection_by_suite_and_classname(tmp_path):
    path = write(tmp_path, "jest.xml", JEST)
    assert counts(read_junit(path)) == (4, 1, 0, 1)
    assert counts(read_junit(path, Selection(suites=("smoke:*",)))) == (2, 1, 0, 0)
    assert counts(read_junit(path, Selection(classnames=("*rounds",)))) == (1, 0, 0, 1)
    assert counts(read_junit(path, Selection(suites=("nothing",)))) == (0, 0, 0, 0)


def test_bare_testsuite(tmp_path):
    assert counts(read_junit(write(tmp_path, "old.xml", BARE))) == (2, 0, 0, 0)


def test_several_files_merge_and_file_glob_selects(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n"})
    write(tmp_path, "reports/smoke/jest.xml", JEST)
    write(tmp_path, "reports/unit/old.xml", BARE)
    ev = evidence(tmp_path, "HEAD")
    merged = junit.load(ev, ["reports/**/*.xml"])
    assert counts(merged) == (6, 1, 0, 1)
    assert merged.files == ["reports/smoke/jest.xml", "reports/unit/old.xml"]
    smoke = junit.load(ev, ["reports/**/*.xml"], Selection(files=("reports/smoke/**",)))
    assert counts(smoke) == (4, 1, 0, 1)
    with pytest.raises(EvidenceError, match="matches the smoke selection"):
        junit.load(ev, ["reports/**/*.xml"], Selection(files=("nope/**",)))


def test_selection_from_options():
    sel = Selection.from_options({"suites": "smoke*", "classnames": ["a.*", "b.*"]})
    assert sel == Selection((), ("smoke*",), ("a.*", "b.*"))
    assert Selection.from_options(None) == Selection()


@pytest.mark.parametrize(("content", "expected"), [
    ("", "JUnit report is empty"),
    (b"\x00\x01binary", "JUnit report is binary data"),
    ("tests=3", "JUnit report is not XML"),
    ('<?xml version="1.0"?><testsuites><testsuite name="a"><testcase', "truncated"),
    ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><testsuites>&a;</testsuites>',
     "declares entities"),
    ('<?xml version="1.0"?><coverage/>', "<coverage> is not JUnit XML"),
])
def test_bad_junit_is_an_evidence_error_naming_the_file(tmp_path, content, expected):
    path = write(tmp_path, "junit.xml", content)
    with pytest.raises(EvidenceError) as err:
        read_junit(path)
    assert str(err.value).startswith(f"{path}:")
    assert expected in str(err.value)


def test_missing_junit(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n"})
    with pytest.raises(EvidenceError, match=r"^junit\.xml: JUnit report not found"):
        junit.load(evidence(tmp_path, "HEAD"), ["junit.xml"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(
    st.binary(max_size=300),
    st.builds(lambda s: "<testsuites>" + s, st.text(max_size=200)),
    st.builds(lambda cases: "<testsuite>" + "".join(
        f'<testcase classname="c" name="t{i}">{child}</testcase>' for i, child in enumerate(cases)
    ) + "</testsuite>", st.lists(st.sampled_from(["", "<failure/>", "<error/>", "<skipped/>",
                                                  "<error/><failure/>", "<system-out>x</system-out>"]),
                                 max_size=8)),
))
def test_any_input_gives_counts_or_an_evidence_error(tmp_path, content):
    path = write(tmp_path, "fuzz.xml", content)
    try:
        result = read_junit(path)
    except EvidenceError as e:
        assert str(e).startswith(str(path))
    else:
        assert result.failures + result.errors + result.skipped <= result.tests
