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
    ('<?xml version="1.0" encoding="rot13"?><testsuites/>', "declares encoding 'rot13'"),
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


# --- issue 9: nested test cases, failing tests by name, selection by test source -------


def test_a_testcase_nested_in_a_failure_is_refused(tmp_path):
    """It used to count as a passing case of its own and turn the failure into a pass."""
    path = write(tmp_path, "junit.xml",
                 '<testsuite><testcase classname="c" name="t"><failure message="boom">'
                 '<testcase classname="c" name="t"/></failure></testcase></testsuite>')
    with pytest.raises(EvidenceError, match=r"junit\.xml: line 1: a <testcase> inside another"):
        read_junit(path)


def test_failing_tests_by_name_with_the_first_line_of_their_message(tmp_path):
    path = write(tmp_path, "junit.xml", """<testsuites><testsuite name="pytest">
  <testcase classname="tests.test_a" name="test_ok"/>
  <testcase classname="tests.test_a" name="test_fails">
    <failure message="assert 1 == 2&#10;+  where 1 = f()">long traceback</failure>
  </testcase>
  <testcase classname="tests.test_a" name="test_errors">
    <error message="">

      RuntimeError: setup fails
      more lines</error>
  </testcase>
  <testcase classname="" name="bare"><skipped/><failure/></testcase>
  <testcase classname="k" name="both"><failure message="f"/><error message="e"/></testcase>
</testsuite></testsuites>""")
    result = read_junit(path, name="reports/junit.xml")
    assert [f.as_dict() for f in result.failing] == [
        {"test": "tests.test_a::test_fails", "outcome": "failure",
         "message": "assert 1 == 2", "report": "reports/junit.xml"},
        {"test": "tests.test_a::test_errors", "outcome": "error",
         "message": "RuntimeError: setup fails", "report": "reports/junit.xml"},
        {"test": "bare", "outcome": "failure", "message": "", "report": "reports/junit.xml"},
        {"test": "k::both", "outcome": "error", "message": "e", "report": "reports/junit.xml"},
    ]
    assert counts(result) == (5, 2, 2, 0)


def test_real_pytest_failing_tests_and_test_source_selection(tmp_path):
    """pytest's default JUnit (xunit2: no file attribute, suite name "pytest"): the
    classname read as a path selects by test source file, as the README's example does."""
    import yaml

    from tests.checks.test_smoke_coverage_cli import readme_policy

    for name, body in {"tests/smoke/test_api.py": "def test_up(): assert 0, 'api is down'\n",
                       "tests/unit/test_math.py": "def test_add(): assert 1\n"}.items():
        write(tmp_path, name, body)
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "--rootdir", str(tmp_path), "--junitxml=junit.xml", "tests"],
                   cwd=tmp_path, capture_output=True, check=False)
    path = tmp_path / "junit.xml"
    readme = yaml.safe_load(readme_policy())["rules"][0]["with"]["smoke"]
    assert readme == {"tests": ["tests/smoke/**"]}
    smoke = read_junit(path, Selection.from_options(readme))
    assert counts(smoke) == (1, 1, 0, 0)
    assert smoke.failing[0].test == "tests.smoke.test_api::test_up"
    assert smoke.failing[0].message.startswith("AssertionError: api is down")
    assert counts(read_junit(path, Selection(tests=("tests/unit/test_math.py",)))) == (1, 0, 0, 0)
    assert counts(read_junit(path, Selection(suites=("pytest",)))) == (2, 1, 0, 0)


def test_selection_by_file_attribute_of_case_or_suite(tmp_path):
    path = write(tmp_path, "junit.xml", """<testsuites>
  <testsuite name="a" file="web/smoke/cart.test.ts">
    <testcase classname="cart" name="adds"/>
    <testcase classname="cart" name="pays" file="./web/unit/pay.test.ts"/>
  </testsuite>
  <testcase classname="com.acme.SmokeTest" name="x"/>
</testsuites>""")
    assert counts(read_junit(path, Selection(tests=("web/smoke/**",)))) == (1, 0, 0, 0)
    assert counts(read_junit(path, Selection(tests=("web/**/*.test.ts",)))) == (2, 0, 0, 0)
    assert counts(read_junit(path, Selection(tests=("com/acme/Smoke*",)))) == (1, 0, 0, 0)


def test_test_paths():
    assert junit.test_paths("tests.smoke.test_api.TestX") == [
        "tests.py", "tests/smoke.py", "tests/smoke/test_api.py", "tests/smoke/test_api/TestX.py",
        "tests/smoke/test_api/TestX"]
    assert junit.test_paths("anything", "./a/b.py") == ["a/b.py"]
    # jest-junit's absolute paths from the CI machine: any tail may be the repository path.
    assert junit.test_paths("x", "/home/runner/work/app/src/a.test.ts") == [
        "home/runner/work/app/src/a.test.ts", "runner/work/app/src/a.test.ts",
        "work/app/src/a.test.ts", "app/src/a.test.ts", "src/a.test.ts", "a.test.ts"]
    assert junit.test_paths("x", "C:\\ci\\src\\a.test.ts")[-2:] == ["src/a.test.ts", "a.test.ts"]
    assert junit.test_paths("") == []


def test_selection_reports_is_files():
    assert Selection.from_options({"reports": "r/*.xml", "tests": ["t/**"]}) == Selection(
        files=("r/*.xml",), tests=("t/**",))
    assert Selection.from_options({"files": "r/*.xml"}).files == ("r/*.xml",)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(st.tuples(
    st.sampled_from(["", "<failure/>", "<error/>", "<skipped/>", "<failure message='m'/>"]),
    st.sampled_from(["", "<testcase name='in'/>"])), max_size=6))
def test_nested_testcases_are_never_counted(tmp_path, cases):
    """Whatever hides inside a case's children, the counts are the outer cases' or the
    file is refused: never a failure read as a pass."""
    body = "".join(
        f"<testcase classname='c' name='t{i}'>"
        + (child.replace("/>", f">{inner}</{child[1:].split()[0].rstrip('/>')}>")
           if child and inner else child + inner)
        + "</testcase>" for i, (child, inner) in enumerate(cases))
    path = write(tmp_path, "j.xml", f"<testsuite>{body}</testsuite>")
    nested = any(inner for _, inner in cases)
    try:
        result = read_junit(path)
    except EvidenceError as e:
        assert nested and "inside another" in str(e)
    else:
        assert not nested
        assert result.tests == len(cases)
        assert result.failures + result.errors == sum(
            1 for child, _ in cases if "failure" in child or "error" in child)
        assert len(result.failing) == result.failures + result.errors


def test_failing_test_names_and_messages_cannot_inject_lines_or_escapes(tmp_path):
    """Both end up in the summary, printed to CI logs: no newline (a workflow command
    such as ::error:: on a line of its own), no C1 control (CSI), no bidi override."""
    path = write(tmp_path, "junit.xml",
                 '<testsuite><testcase classname="c&#10;::error::forged" name="t&#x9b;2J">'
                 '<failure message="&#x202e;evil&#13;::set-output name=x::y"/>'
                 "</testcase></testsuite>")
    failing = read_junit(path).failing[0]
    assert failing.test == "c ::error::forged::t 2J"
    assert failing.message == "evil"
    for text in (failing.test, failing.message):
        assert all(c.isprintable() for c in text)
