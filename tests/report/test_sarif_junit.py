"""SARIF 2.1.0 and JUnit output (issue 15): validated against the SARIF 2.1.0 JSON Schema
(the OASIS errata01 schema, shipped in fixtures/) and read back by Gatekeeper's own
JUnit reader."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import jsonschema

from gatekeeper.model import Annotation, RuleResult, Severity, Status
from gatekeeper.report import render
from gatekeeper.report.model import Report
from tests.evidence.test_coverage import _cobertura
from tests.factories import make_repo, run_cli, write_policy
from tests.report.test_renderers import sample

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def sarif_schema() -> dict[str, Any]:
    return json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def assert_valid_sarif(data: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(
        sarif_schema(), format_checker=jsonschema.FormatChecker()
    ).validate(data)


def test_schema_fixture_is_the_sarif_2_1_0_schema_and_rejects_bad_logs() -> None:
    assert sarif_schema()["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    data = json.loads(render(sample(), "sarif"))
    assert_valid_sarif(data)
    data["runs"][0]["results"][0]["level"] = "fatal"
    try:
        assert_valid_sarif(data)
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema accepted an invalid level")


def test_one_result_per_non_passing_rule_with_levels() -> None:
    run = json.loads(render(sample(), "sarif"))["runs"][0]
    results = {r["properties"]["rule"]: r for r in run["results"]}
    assert set(results) == {"freeze", "docs", "coverage", "cve-fix"}  # not pass or skipped
    assert results["freeze"]["level"] == "error"
    assert results["cve-fix"]["level"] == "note"  # waived: seen, never blocking
    assert results["cve-fix"]["properties"]["blocks"] is False
    assert results["docs"]["level"] == "warning"
    assert results["coverage"]["level"] == "error"
    assert results["coverage"]["message"]["text"] == (
        "coverage.xml: no such file\nNext step: upload the coverage report"
    )
    assert results["coverage"]["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "src/a.py"}, "region": {"startLine": 3, "endLine": 5}}}]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["changelog", "release-window", "smoke-coverage"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])
    assert run["tool"]["driver"]["name"] == "gatekeeper"


def test_rules_without_positions_point_at_the_policy_line() -> None:
    report = sample()
    report.policy_repo_path = "policies/prod.yml"
    report.rule_lines = {"freeze": 12}
    results = json.loads(render(report, "sarif"))["runs"][0]["results"]
    freeze = next(r for r in results if r["properties"]["rule"] == "freeze")
    location = freeze["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "policies/prod.yml"},
                        "region": {"startLine": 12}}


def test_fingerprints_are_stable_across_runs_and_wording() -> None:
    def fingerprints(summary: str) -> list[str]:
        report = sample()
        report.results[3].summary = summary
        data = json.loads(render(report, "sarif"))
        return [r["partialFingerprints"]["gatekeeper/v1"] for r in data["runs"][0]["results"]]

    first = fingerprints("coverage 10%")
    assert first == fingerprints("coverage 11%")
    assert len(set(first)) == len(first)


def test_hostile_paths_are_uri_encoded() -> None:
    report = sample()
    report.results[3].annotations = [Annotation("src/a b#c%.py", 1)]
    data = json.loads(render(report, "sarif"))
    assert_valid_sarif(data)
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in data["runs"][0]["results"] for loc in r.get("locations", [])]
    assert "src/a%20b%23c%25.py" in uris


def test_sarif_from_a_run_with_an_uncovered_changed_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/core.py": "a = 1\n"})
    repo.branch("feature")
    repo.commit({"app/core.py": "a = 1\nb = 2\n"})
    (repo.path / "coverage.xml").write_text(_cobertura({"app/core.py": {1: 1, 2: 0}}))
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "smoke", "check": "smoke-coverage", "with": {"coverage": "coverage.xml",
                                                            "min_diff": 80}}])
    out_file = tmp_path / "out" / "gatekeeper.sarif"
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main",
                     "--format", "sarif", "--output", f"sarif={out_file}")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data == json.loads(out_file.read_text(encoding="utf-8"))
    assert_valid_sarif(data)
    [res] = data["runs"][0]["results"]
    assert res["ruleId"] == "smoke-coverage" and res["level"] == "error"
    assert {"physicalLocation": {"artifactLocation": {"uri": "app/core.py"},
                                 "region": {"startLine": 2}}} in res["locations"]


def test_policy_inside_the_repository_gives_its_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write_policy(repo.path / "gate.yml", [
        {"id": "log", "check": "changelog", "with": {"path": "CHANGES.md"}}])
    repo.commit({}, "policy")
    repo.branch("feature")
    repo.commit({"x.py": "x = 1\n"})
    result = run_cli("check", "-p", str(repo.path / "gate.yml"), "--repo", str(repo.path),
                     "--base", "main", "--format", "sarif")
    [res] = json.loads(result.stdout)["runs"][0]["results"]
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "gate.yml"
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] > 1


# -- JUnit ---------------------------------------------------------------------------------


def test_junit_counts_and_cases() -> None:
    root = SafeET.fromstring(render(sample(), "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "6", "failures": "1", "errors": "1", "skipped": "1"}
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["freeze"].find("failure") is not None
    assert cases["coverage"].find("error") is not None
    assert cases["db"].find("skipped") is not None
    assert len(cases["changelog"]) == 0
    out = cases["cve-fix"].find("system-out")
    assert out is not None and (out.text or "").startswith("waived: ")


def test_junit_is_read_back_by_gatekeepers_junit_reader(tmp_path: Path) -> None:
    from gatekeeper.evidence.junit import read_junit

    path = tmp_path / "gate.xml"
    path.write_text(render(sample(), "junit"), encoding="utf-8")
    counts = read_junit(path)
    assert (counts.tests, counts.failures, counts.errors, counts.skipped) == (6, 1, 1, 1)


def test_junit_drops_characters_xml_cannot_carry() -> None:
    report = Report("p", "p.yml", "a" * 64, [RuleResult(
        "r", "checklist", Severity.BLOCK, Status.FAIL, "item \x01\x1b[31m red\ud800",
        remedy="tick")], "/repo")
    root = SafeET.fromstring(render(report, "junit"))
    failure = next(root.iter("failure"))
    assert failure.get("message") == "item [31m red"
