"""Threat: a file from the pull request costs the job unbounded memory or time.

``gatekeeper validate`` runs on PR-supplied policies (pre-commit), and reports may come
from the PR's own build. A 1 KB YAML anchor bomb took 24 GB; deeply nested JSON crashed
with ``RecursionError``; deeply nested XML kept every open element in expat (40 times the
file's size); coverage.py JSON took 9 times its size. The policy loader refuses aliases
past a small budget (at the alias: ``FILE:LINE:COL``) and bounds nesting; report readers
bound nesting and refuse coverage.py JSON past a size limit, each as one clear evidence
error. (Memory and time budgets are asserted by ``benchmarks/hostile_inputs.py``.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.errors import EvidenceError, PolicyError
from gatekeeper.evidence.coverage_formats import read_report
from gatekeeper.evidence.junit import read_junit
from gatekeeper.policy import loads_policy
from tests.factories import run_cli

HEAD = "version: 1\nrules:\n  - id: a\n    check: changelog\n"


def bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs" in YAML: ~350 bytes, width**levels values."""
    lines = ["x0: &x0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * width) + "]")
    return "version: 1\nrules: []\nbomb:\n" + "".join(f"  {line}\n" for line in lines)


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        loads_policy(text, "gatekeeper.yml")
    return caught.value.problems


def test_a_yaml_alias_bomb_is_refused_at_a_file_position() -> None:
    [problem] = problems(bomb())
    assert problem.startswith("gatekeeper.yml:")
    assert "YAML aliases expand this document by more than 10,000 values" in problem


def test_validate_refuses_the_bomb_with_exit_2(tmp_path: Path) -> None:
    policy = tmp_path / "gatekeeper.yml"
    policy.write_text(bomb(levels=12))
    result = run_cli("validate", str(policy))
    assert result.exit_code == 2
    assert f"{policy}:" in result.stderr and "alias bomb" in result.stderr


def test_too_many_aliases_are_refused_at_the_alias() -> None:
    uses = "".join(f"      k{i}: *v\n" for i in range(101))
    text = HEAD + "    with:\n      v0: &v CHANGES.md\n" + uses
    [problem] = problems(text)
    assert problem.startswith(f"gatekeeper.yml:{7 + 100}:")  # the 101st alias
    assert "more than 100 YAML aliases" in problem


def test_ordinary_anchors_still_work() -> None:
    text = (
        "version: 1\nrules:\n"
        "  - id: a\n    check: changelog\n    with: &opts {path: CHANGES.md}\n"
        "  - id: b\n    check: changelog\n    with: *opts\n"
    )
    policy = loads_policy(text, "p.yml")
    assert [r.options for r in policy.rules] == [{"path": "CHANGES.md"}] * 2


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_deep_yaml_nesting_is_refused_without_a_crash(opener: str) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    body = opener * 5000 + "1" + closer * 5000
    sep = "\n" if opener == "- " else " "  # a block sequence starts on its own line
    [problem] = problems("version: 1\nrules: []\nx:" + sep + body + "\n")
    assert "nested deeper than 64 levels" in problem


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_deeply_nested_json_is_an_evidence_error_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "coverage.json", '{"files": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(EvidenceError, match="JSON nested too deeply") as caught:
        read_report(path)
    assert "Recursion" not in str(caught.value)


def test_coverage_py_json_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"src/m{i}.py": {"executed_lines": [1, 2], "missing_lines": [3]} for i in range(99)}
    path = write(tmp_path, "coverage.json", json.dumps({"files": files}))
    assert len(read_report(path).files) == 99
    monkeypatch.setenv("GATEKEEPER_MAX_JSON_REPORT_MB", "0.001")
    with pytest.raises(EvidenceError, match="is over the 1,048 bytes limit") as caught:
        read_report(path)
    assert "coverage xml" in (caught.value.remedy or "")


COBERTURA = (
    '<?xml version="1.0"?><coverage><packages><package name="p"><classes>'
    '<class filename="a.py">{}<lines><line number="1" hits="1"/></lines></class>'
    "</classes></package></packages></coverage>"
)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cobertura.xml", COBERTURA.format("<x>" * 300 + "</x>" * 300)),
        ("cobertura-after-lines.xml", COBERTURA.replace("</lines>", "</lines>" + "<x>" * 300)),
        ("jacoco.xml", '<report name="r"><package name="p">' + "<group>" * 300),
        ("junit.xml", "<testsuites>" + "<testsuite>" * 300),
    ],
)
def test_deeply_nested_xml_is_refused(tmp_path: Path, name: str, text: str) -> None:
    path = write(tmp_path, name, text)
    reader = read_junit if name == "junit.xml" else read_report
    with pytest.raises(EvidenceError, match="nested deeper than 256 levels"):
        reader(path)


def test_conditions_nested_inside_lines_are_refused_early(tmp_path: Path) -> None:
    """Inside <lines> no end events are seen, so expat's open elements grew with a
    <condition> bomb (about 12x the file in memory); now they are counted per line."""
    bomb = COBERTURA.format("").replace(
        '<line number="1" hits="1"/></lines>', "<condition>" * 70_000
    ).split("<condition>", 1)
    path = write(tmp_path, "bomb.xml", bomb[0] + "<condition>" * 70_000)
    with pytest.raises(EvidenceError, match="beyond any real report"):
        read_report(path)


def test_real_conditions_after_branch_lines_are_still_read(tmp_path: Path) -> None:
    """gcovr's shape: each branch line followed by its <conditions>; the count restarts."""
    one = (
        '<line number="{n}" hits="1" branch="true" condition-coverage="50% (1/2)">'
        '<conditions><condition number="0" type="jump" coverage="50%"/></conditions></line>'
    )
    body = "".join(one.format(n=n) for n in range(1, 70_001))
    path = write(tmp_path, "gcovr.xml", COBERTURA.format("").replace('<line number="1" hits="1"/>', body))
    report = read_report(path)
    assert report.branches["a.py"].counts() == (140_000, 70_000)


def test_the_nesting_count_survives_many_classes_and_packages(tmp_path: Path) -> None:
    """Inside <lines> the reader sees no ends; leaving it must not leak depth."""
    classes = "".join(
        f'<class filename="p{p}/m{c}.py"><methods><method name="f"><lines>'
        f'<line number="1" hits="1"/></lines></method></methods>'
        f'<lines><line number="1" hits="1"/><line number="2" hits="0"/></lines></class>'
        for c in range(150)
        for p in [0]
    )
    packages = "".join(
        f'<package name="p{p}"><classes>{classes.replace("p0/", f"p{p}/")}</classes></package>'
        for p in range(4)
    )
    text = f'<?xml version="1.0"?><coverage><packages>{packages}</packages></coverage>'
    assert len(read_report(write(tmp_path, "big.xml", text)).files) == 600


def test_every_yaml_a_change_supplies_is_bounded() -> None:
    """Not only the policy: Liquibase and OpenAPI YAML in the change, and a risk register,
    go through the same bounded loader (refused, never expanded or walked)."""
    import yaml

    from gatekeeper.evidence import risks
    from gatekeeper.evidence.schema import liquibase, openapi

    text = bomb().replace("version: 1\nrules: []\n", "openapi: 3.0.0\n")
    with pytest.raises(openapi.Unparsable, match="alias bomb"):
        openapi.load(text.encode(), "api.yaml")
    with pytest.raises(yaml.YAMLError, match="alias bomb"):
        liquibase.load(text.encode(), "changelog.yaml")
    with pytest.raises(EvidenceError, match="alias bomb"):
        risks.parse("risks.yml", text + "risks: [*x8]\n")
    deep = "databaseChangeLog: " + "[" * 5000 + "]" * 5000
    with pytest.raises(yaml.YAMLError, match="nested deeper than 64 levels"):
        liquibase.load(deep.encode(), "changelog.yaml")


def test_a_changes_package_json_costs_linear_time_and_no_recursion_crash() -> None:
    from gatekeeper.evidence.versions import _package_json

    many = "{" + ",".join(f'"k{i}": 1' for i in range(100_000)) + ', "version": "1.2.3"}'
    assert _package_json(many, "package.json") == ("1.2.3", '"version"')  # was quadratic
    with pytest.raises(EvidenceError, match="duplicate key 'a'"):
        _package_json('{"version": "1.0.0", "a": 1, "a": 2}', "package.json")
    with pytest.raises(EvidenceError, match="JSON nested too deeply"):
        _package_json('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", "package.json")
