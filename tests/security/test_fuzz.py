"""Threat: a hostile policy or report makes a reader crash (a traceback, a "crashed"
rule whose text the attacker chose) or hang, instead of one clear error.

Property for every reader that takes PR-controlled bytes (the policy loader; Cobertura,
JaCoCo, LCOV, coverage.py JSON and JUnit): whatever the input, it returns a result or
raises Gatekeeper's own error (``PolicyError`` / ``EvidenceError``), nothing else.
Inputs are valid samples mutated (bytes spliced, cut, repeated, format tokens such as
aliases, entities, deep nesting inserted) and token soups. Examples are few and small so
the whole set runs in seconds in CI; budgets for big inputs are in
``benchmarks/hostile_inputs.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError, PolicyError
from gatekeeper.evidence.coverage_formats import read_report
from gatekeeper.evidence.junit import read_junit
from gatekeeper.policy import loads_policy

FUZZ = settings(
    max_examples=40,
    deadline=None,  # a shared CI machine stalls now and then; the benchmark times things
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: CI stays reproducible
)

POLICY = """\
version: 1
name: Production
rules:
  - id: freeze
    check: release-window
    with: &w
      timezone: Europe/Berlin
      freeze: [{start: "2026-12-21T00:00", end: "2027-01-04T00:00", reason: Year end}]
  - id: changelog
    check: changelog
    when: {branches: [main], paths: ["src/**"]}
    with: {path: CHANGELOG.md}
"""
YAML_TOKENS = [
    "&a ", "*a", "&b [*a, *a, *a]", "[", "]", "{", "}", "- ", ": ", "\n", "  ", "<<: *a",
    "!!python/object:os.system ", "!!binary ", "%YAML 1.1\n", "---\n", "...\n", "'", '"',
    "# c", "? ", "|\n", ">-\n", "\t", "\x00", "\ufeff", "1e999", "~", "2026-13-45",
]

COBERTURA = """<?xml version="1.0"?>
<coverage line-rate="0.5"><sources><source>/app</source></sources>
<packages><package name="p"><classes>
<class name="a" filename="src/a.py"><methods><method name="f"><lines>
<line number="1" hits="1"/></lines></method></methods>
<lines><line number="1" hits="1"/><line number="2" hits="0" branch="true"
 condition-coverage="50% (1/2)"><conditions><condition number="0" coverage="50%"/>
</conditions></line></lines></class></classes></package></packages></coverage>
"""
JACOCO = """<?xml version="1.0"?><report name="r"><group name="g"><package name="com/x">
<sourcefile name="A.java"><line nr="3" mi="0" ci="2" mb="0" cb="0"/>
<line nr="4" mi="1" ci="0"/><counter type="LINE" missed="1" covered="1"/></sourcefile>
</package></group></report>
"""
LCOV = "TN:\nSF:src/a.py\nFN:1,f\nFNDA:1,f\nDA:1,1\nDA:2,0,abc\nBRDA:2,0,0,1\nLF:2\nLH:1\nend_of_record\n"
COVERAGE_JSON = (
    '{"meta": {"format": 3}, "files": {"src/a.py": {"executed_lines": [1, 3], '
    '"missing_lines": [2], "excluded_lines": [], "summary": {"covered_lines": 2}}}}'
)
JUNIT = """<?xml version="1.0"?><testsuites><testsuite name="smoke" tests="2">
<testcase classname="t.a" name="one"/><testcase classname="t.a" name="two">
<failure message="x">boom</failure></testcase><testsuite name="inner">
<testcase name="three"><skipped/></testcase></testsuite></testsuite></testsuites>
"""
XML_TOKENS = [
    "<", ">", "/>", "</", "<line", "<class", "<lines>", "</lines>", "<testcase>",
    "<testsuite>", "<sourcefile name='B'>", '<line number="9999999" hits="1"/>',
    '<line number="-1" hits="x"/>', "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", "&a;",
    "<!ENTITY e SYSTEM 'file:///etc/passwd'>", "<![CDATA[", "]]>", "<?pi?>", "\x00",
    "\xff", "&#0;", "<a>" * 300, '"', "'", "=", " number=", " hits=",
]
JSON_TOKENS = [
    "{", "}", "[", "]", ",", ":", '"files"', '"executed_lines"', "[" * 5000, "1e400",
    "-1", "0", "true", "null", '"\\ud800"', "\x00", "NaN", "99999999999999999999",
]
LCOV_TOKENS = [
    "SF:", "DA:", "end_of_record\n", "\n", ",", "DA:999999999,1\n", "DA:-1,1\n", "DA:1\n",
    "LF:x\n", "\x00", "\xff", "junk line\n", "SF:/etc/passwd\n",
]


def mutated(sample: str, tokens: list[str]) -> st.SearchStrategy[bytes]:
    """``sample`` with a few edits: a token or random bytes inserted, a span cut or
    repeated, the end cut off."""
    data = sample.encode()

    @st.composite
    def strategy(draw: Callable[..., Any]) -> bytes:
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(out)))
            kind = draw(st.sampled_from(["token", "bytes", "cut", "repeat", "truncate"]))
            if kind == "token":
                out[at:at] = draw(st.sampled_from(tokens)).encode("utf-8", "surrogatepass")
            elif kind == "bytes":
                out[at:at] = draw(st.binary(max_size=8))
            elif kind == "cut":
                del out[at : at + draw(st.integers(1, 40))]
            elif kind == "repeat":
                out[at:at] = out[at : at + draw(st.integers(1, 60))] * draw(st.integers(2, 20))
            else:
                del out[at:]
        return bytes(out)

    return strategy()


def soup(tokens: list[str]) -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(tokens), max_size=40).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    )


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def _policy_ok(raw: bytes) -> None:
    try:
        loads_policy(raw, "fuzz.yml")
    except PolicyError as e:
        assert all(p.startswith("fuzz.yml:") for p in e.problems), e.problems


@FUZZ
@given(mutated(POLICY, YAML_TOKENS) | soup(YAML_TOKENS) | st.binary(max_size=200))
@example(b"0000-00-00: 1")  # found by this test: a date key PyYAML cannot build crashed
@example(b"version: 1\nrules: []\nx: 2026-02-30\n")
def test_policy_loader_raises_only_policy_errors(raw: bytes) -> None:
    _policy_ok(raw)


def _read(scratch: Path, name: str, raw: bytes, reader: Callable[[Path], Any]) -> None:
    path = scratch / name
    path.write_bytes(raw)
    try:
        reader(path)
    except EvidenceError as e:
        assert str(e)


@FUZZ
@given(raw=mutated(COBERTURA, XML_TOKENS) | soup(XML_TOKENS))
def test_cobertura_reader_raises_only_evidence_errors(scratch: Path, raw: bytes) -> None:
    _read(scratch, "coverage.xml", raw, read_report)


@FUZZ
@given(raw=mutated(JACOCO, XML_TOKENS))
def test_jacoco_reader_raises_only_evidence_errors(scratch: Path, raw: bytes) -> None:
    _read(scratch, "jacoco.xml", raw, read_report)


@FUZZ
@given(raw=mutated(LCOV, LCOV_TOKENS) | soup(LCOV_TOKENS))
def test_lcov_reader_raises_only_evidence_errors(scratch: Path, raw: bytes) -> None:
    _read(scratch, "lcov.info", raw, read_report)


@FUZZ
@given(raw=mutated(COVERAGE_JSON, JSON_TOKENS) | soup(JSON_TOKENS))
def test_coverage_json_reader_raises_only_evidence_errors(scratch: Path, raw: bytes) -> None:
    _read(scratch, "coverage.json", raw, read_report)


@FUZZ
@given(raw=mutated(JUNIT, XML_TOKENS) | soup(XML_TOKENS))
def test_junit_reader_raises_only_evidence_errors(scratch: Path, raw: bytes) -> None:
    _read(scratch, "junit.xml", raw, read_junit)
