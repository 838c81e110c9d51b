"""Decision records: `check --record`, `--record-note`, `record verify`, `schema --record`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatekeeper.evidence.notes import read, records
from gatekeeper.record import NOTES_REF, RECORD_TYPE, record_schema
from tests.factories import RepoFactory, run_cli
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401
from tests.test_github_cli import PullRequestRun, pr_run  # noqa: F401

COVERAGE = {
    "meta": {"version": "7.4.0", "timestamp": "2026-11-23T12:00:00", "branch_coverage": False,
             "show_contexts": False},
    "files": {"src/app.py": {"executed_lines": [1], "missing_lines": [],
                             "summary": {"covered_lines": 1, "num_statements": 1}}},
    "totals": {"covered_lines": 1, "num_statements": 1, "percent_covered": 100.0},
}  # fmt: skip

POLICY = """\
version: 1
name: recorded
rules:
  - id: covered
    check: smoke-coverage
    with: {coverage: [build/coverage.json], min_diff: 50}
  - id: changelog
    check: changelog
    with: {require_change: false, version: "1.0.0"}
"""


@pytest.fixture
def app(repo: RepoFactory) -> RepoFactory:
    repo.commit(
        {"gatekeeper.yml": POLICY, "src/app.py": "x = 1\n", "CHANGELOG.md": "# C\n\n## [1.0.0]\n"}
    )
    repo.branch("release")
    repo.commit({"src/app.py": "x = 2\n"})
    repo.write({"build/coverage.json": json.dumps(COVERAGE)})
    return repo


def record_run(app: RepoFactory, *extra: str) -> tuple[Any, dict[str, Any]]:
    out = app.path.parent / "record.json"
    result = run_cli("check", "--policy", str(app.path / "gatekeeper.yml"), "--repo",
                     str(app.path), "--base", "main", "--record", str(out), *extra)  # fmt: skip
    return result, json.loads(out.read_text())


def test_record_then_verify_matches_and_names_an_edited_report(app: RepoFactory) -> None:
    result, data = record_run(app)
    assert result.exit_code == 0, result.output
    jsonschema.Draft202012Validator(record_schema()).validate(data)
    assert data["type"] == RECORD_TYPE and data["decision"] == "approve"
    kinds = {(i["kind"], Path(i["path"]).name) for i in data["inputs"]}
    assert ("file", "coverage.json") in kinds and ("git", "CHANGELOG.md") in kinds
    assert not any(i["path"].endswith(".py") for i in data["inputs"] if i["kind"] == "file")
    record = str(app.path.parent / "record.json")

    ok = run_cli("record", "verify", record)
    assert ok.exit_code == 0, ok.output
    assert "every part matches" in ok.output and "changed" not in ok.output

    (app.path / "build/coverage.json").write_text(json.dumps(COVERAGE, indent=1))
    bad = run_cli("record", "verify", record)
    assert bad.exit_code == 1
    assert f"changed  {app.path / 'build/coverage.json'}" in bad.output
    assert "1 of " in bad.output and "parts differ" in bad.output


def test_a_tampered_decision_and_a_moved_policy_are_named(app: RepoFactory) -> None:
    _, data = record_run(app)
    data["decision"] = "block"
    path = app.path.parent / "tampered.json"
    path.write_text(json.dumps(data))
    (app.path / "gatekeeper.yml").unlink()
    out = run_cli("record", "verify", str(path))
    assert out.exit_code == 1
    assert "changed  decision block from the recorded results (recomputed: approve)" in out.output
    assert "missing  policy" in out.output


def test_not_a_record_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"type": "something else"}')
    out = run_cli("record", "verify", str(bad))
    assert out.exit_code == 2 and "not a valid decision record" in out.output


def test_record_note_on_the_head(app: RepoFactory) -> None:
    result, data = record_run(app, "--record-note")
    assert result.exit_code == 0
    head = app.repo.head.commit.hexsha
    [stored] = records(read(app.path, head, NOTES_REF), RECORD_TYPE)
    assert stored["report"]["repo"]["head"] == head and stored["inputs"] == data["inputs"]


def test_schema_record_prints_the_schema() -> None:
    out = run_cli("schema", "--record")
    assert (
        out.exit_code == 0 and json.loads(out.output)["$id"] == "urn:gatekeeper:decision-record:1"
    )


def test_github_responses_are_digested_and_unchecked_offline(pr_run: PullRequestRun) -> None:  # noqa: F811
    record = pr_run.repo.path.parent / "rec.json"
    pr_run.check("--record", str(record))
    data = json.loads(record.read_text())
    github = [i for i in data["inputs"] if i["kind"] == "github"]
    assert github and all(len(i["sha256"]) == 64 for i in github)
    runner_out = run_cli("record", "verify", str(record))
    assert "unchecked" in runner_out.output
    # The policy came from the base commit in this pull-request run: verified there.
    assert data["policy"]["origin"] == "base" and data["policy"]["commit"] == data["repo"]["base"]
    [line] = [x for x in runner_out.output.splitlines() if "policy " in x]
    assert line.split() == ["match", "policy", f"{data['repo']['base'][:12]}:gatekeeper.yml"]
