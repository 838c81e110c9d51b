"""The first hour with the command line (issue 9, item 12): the default policy name,
one-line usage errors, "did you mean", singular counts, and place counts that agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.model import Annotation, RuleResult, Severity, Status
from gatekeeper.publish.actions import annotation_lines
from gatekeeper.publish.run import status_description
from gatekeeper.report import Report, render
from tests.factories import RepoFactory, run_cli, write_policy

CHANGELOG_RULE = {"id": "changelog", "check": "changelog"}


def test_policy_defaults_to_gatekeeper_yml(
    repo: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.path)
    repo.branch("feature")
    repo.commit({"CHANGELOG.md": "# log\n"})
    missing = run_cli("check", "--base", "main")
    assert missing.exit_code == 2
    assert missing.stderr == (
        "gatekeeper: error: gatekeeper.yml: no such policy file; write a starter policy with "
        "`gatekeeper init gatekeeper.yml` or pass --policy FILE\n"
    )
    write_policy(repo.path / "gatekeeper.yml", [CHANGELOG_RULE])
    found = run_cli("check", "--base", "main")
    assert found.exit_code == 0, found.output
    assert "Gatekeeper: Test policy (gatekeeper.yml)" in found.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["chek"], "No such command 'chek'. (Did you mean one of: 'check', 'checks'"),
        (["check", "--bse", "main"], "No such option '--bse'. (Did you mean one of: '--base'"),
        (["check", "--now", "noon"], "'noon' is not ISO 8601"),
        (["explain"], "Missing argument 'NAME'"),
    ],
)
def test_usage_errors_are_one_line_on_stderr(args: list[str], expected: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("gatekeeper: error: ") and expected in line
    assert line.endswith("--help`)")


def test_help_and_version_still_exit_zero() -> None:
    assert run_cli("--help").exit_code == 0
    assert run_cli("--version").exit_code == 0
    assert run_cli("check", "--help").exit_code == 0


def test_unknown_check_names_get_a_suggestion(tmp_path: Path) -> None:
    explained = run_cli("explain", "chanelog")
    assert explained.exit_code == 2
    assert "unknown check 'chanelog' (did you mean 'changelog'?)" in explained.stderr
    policy = write_policy(tmp_path / "p.yml", [{"id": "c", "check": "code-reveiw"}])
    validated = run_cli("validate", str(policy))
    assert "unknown check 'code-reveiw' (did you mean 'code-review'?)" in validated.stderr


def test_unknown_options_get_a_suggestion(tmp_path: Path) -> None:
    rule = {"id": "r", "check": "code-review", "with": {"min_aprovals": 2}}
    result = run_cli("validate", str(write_policy(tmp_path / "p.yml", [rule])))
    assert "unknown key 'min_aprovals' (did you mean 'min_approvals'?)" in result.stderr


def report_of(*results: RuleResult) -> Report:
    return Report("P", "p.yml", "a" * 64, list(results), "/repo")


def test_one_rule_is_one_rule() -> None:
    failed = RuleResult("a", "changelog", Severity.BLOCK, Status.FAIL, "no entry", remedy="add")
    report = report_of(failed)
    assert render(report, "text").endswith("\n1 rule: 1 fail\n")
    assert "<sub>1 rule: 1 fail</sub>" in render(report, "markdown")
    assert status_description(report) == "Release blocked by 1 of 1 rule: a"


def test_text_markdown_and_json_count_the_same_places() -> None:
    # smoke-coverage keeps the first 100 of 140 places; every renderer must say 140.
    kept = [Annotation("src/a.py", line) for line in range(1, 200, 2)][:100]
    failed = RuleResult(
        "smoke",
        "smoke-coverage",
        Severity.BLOCK,
        Status.FAIL,
        "low",
        remedy="cover them",
        annotations=kept,
        annotations_total=140,
    )
    report = report_of(failed)
    assert "and 135 more" in render(report, "text")  # 5 shown
    markdown = render(report, "markdown")
    assert "<summary>smoke: 140 places</summary>" in markdown
    assert "- and 110 more (see the JSON report)" in markdown  # 30 shown
    assert json.loads(render(report, "json"))["rules"][0]["annotations_total"] == 140
    commands = annotation_lines([failed], limit=10)
    assert commands[-1] == "::notice::130 more annotations not shown (limit 10)"


def test_smoke_coverage_counts_every_uncovered_place(tmp_path: Path) -> None:
    from tests.evidence.test_coverage import _cobertura
    from tests.factories import make_repo

    repo = make_repo(tmp_path / "repo")
    repo.branch("feature")
    repo.commit({"app/big.py": "".join(f"x{i} = {i}\n" for i in range(1, 301))})
    hits = {line: line % 2 for line in range(1, 301)}  # every even line missed: 150 places
    (repo.path / "coverage.xml").write_text(_cobertura({"app/big.py": hits}))
    rule = {
        "id": "smoke",
        "check": "smoke-coverage",
        "with": {"coverage": "coverage.xml", "min_diff": 90},
    }
    policy = write_policy(tmp_path / "p.yml", [rule])
    args = ("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main")
    [result] = json.loads(run_cli(*args, "--format", "json").stdout)["rules"]
    assert (len(result["annotations"]), result["annotations_total"]) == (100, 150)
    assert "and 145 more" in run_cli(*args).stdout
    assert "<summary>smoke: 150 places</summary>" in run_cli(*args, "--format", "markdown").stdout


def test_a_fresh_repository_gets_a_clear_message_in_ci(
    repo: RepoFactory, tmp_path: Path
) -> None:
    # Issue 9, item 15: the first pull request adds the policy; the base has none yet.
    repo.branch("add-gate")
    repo.commit({"gatekeeper.yml": json.dumps({"version": 1, "rules": [CHANGELOG_RULE]})})
    result = run_cli(
        "check",
        "--repo",
        str(repo.path),
        "--policy",
        str(repo.path / "gatekeeper.yml"),
        "--base",
        "main",
        env={"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": None},
    )
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "gatekeeper.yml does not exist on the base commit" in line
    assert "yet: this change adds it" in line and "--policy-source worktree" in line
