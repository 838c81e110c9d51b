from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper import __version__
from tests.factories import RepoFactory, assert_valid_report, run_cli, write_policy

FREEZE_RULE = {
    "id": "freeze",
    "check": "release-window",
    "with": {
        "freeze": [
            {
                "start": "2026-12-21T00:00:00+01:00",
                "end": "2027-01-04T00:00:00+01:00",
                "reason": "Year-end freeze",
            }
        ]
    },
}


@pytest.fixture
def release(repo: RepoFactory) -> RepoFactory:
    repo.branch("release/1.0")
    repo.commit({"src/app.py": "print('hello')\n"}, "feature")
    return repo


def check(repo: RepoFactory, policy: Path, *extra: str, env: dict[str, str | None] | None = None):
    return run_cli("check", "--policy", str(policy), "--repo", str(repo.path), *extra, env=env)


def test_inside_the_freeze_blocks_outside_approves(release: RepoFactory, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "p.yml", [FREEZE_RULE])

    def at(now: str) -> tuple[int, dict]:
        result = check(release, policy, "--base", "main", "--now", now, "--format", "json")
        report = json.loads(result.output)
        assert_valid_report(report)
        return result.exit_code, report

    code, report = at("2026-12-24T10:00:00+01:00")
    assert code == 1
    assert report["decision"] == "block"
    assert report["rules"][0]["status"] == "fail"
    assert report["counts"] == {"pass": 0, "warn": 0, "fail": 1, "error": 0, "skipped": 0, "waived": 0}
    assert report["repo"]["head"] == release.repo.head.commit.hexsha
    assert report["repo"]["base"] == release.repo.commit("main").hexsha

    code, report = at("2027-01-05T10:00:00+01:00")
    assert code == 0
    assert report["decision"] == "approve"


def test_outputs_write_every_format(release: RepoFactory, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "p.yml", [FREEZE_RULE])
    result = check(
        release,
        policy,
        "--base",
        "main",
        "--now",
        "2026-12-24T10:00:00Z",
        "--output",
        f"json={tmp_path}/out/r.json",
        "--output",
        f"markdown={tmp_path}/r.md",
        "--output",
        f"text={tmp_path}/r.txt",
    )
    assert result.exit_code == 1
    assert "Decision: BLOCK" in result.output
    assert_valid_report(json.loads((tmp_path / "out/r.json").read_text()))
    assert (tmp_path / "r.md").read_text().startswith("### ❌ Release blocked")
    assert "\x1b[" not in (tmp_path / "r.txt").read_text()


def test_strict_makes_warnings_block(release: RepoFactory, tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "p.yml", [{**FREEZE_RULE, "severity": "warn"}])
    args = ("--base", "main", "--now", "2026-12-24T10:00:00Z")
    assert check(release, policy, *args).exit_code == 0
    assert check(release, policy, *args, "--strict").exit_code == 1


def test_base_from_github_base_ref_prefers_origin(release: RepoFactory, tmp_path: Path) -> None:
    policy = write_policy(
        tmp_path / "p.yml", [{"id": "w", "check": "release-window", "when": {"branches": ["main"]}}]
    )
    result = check(release, policy, "--format", "json", env={"GITHUB_BASE_REF": "main"})
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["repo"]["branch"] == "main" and report["rules"][0]["status"] == "pass"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no base ref: pass --base REF"),
        (("--base", "nope"), "base ref 'nope' is not a commit"),
        (("--base", "main", "--head", "nope"), "head ref 'nope' is not a commit"),
        (("--base", "main", "--now", "2026-12-24T10:00"), "has no UTC offset"),
        (("--base", "main", "--now", "tomorrow"), "is not ISO 8601"),
        (("--base", "main", "--output", "pdf=x.pdf"), "expected FORMAT=PATH"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    release: RepoFactory, tmp_path: Path, args, message
) -> None:
    policy = write_policy(tmp_path / "p.yml", [FREEZE_RULE])
    result = check(release, policy, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_not_a_git_repository_exits_2(tmp_path: Path) -> None:
    policy = write_policy(tmp_path / "p.yml", [FREEZE_RULE])
    (tmp_path / "plain").mkdir()
    result = run_cli(
        "check", "--policy", str(policy), "--repo", str(tmp_path / "plain"), "--base", "main"
    )
    assert result.exit_code == 2 and "not a git repository" in result.output


def test_invalid_policy_in_check_exits_2_with_positions(
    release: RepoFactory, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "p.yml", "version: 1\nrules:\n  - id: x\n    check: nope\n")
    result = check(release, policy, "--base", "main")
    assert result.exit_code == 2
    assert f"{policy}:4:12: unknown check 'nope'" in result.output


def test_shallow_clone_without_merge_base_suggests_fetch_depth(
    tmp_path: Path, repo: RepoFactory
) -> None:
    for i in range(3):
        repo.commit({"f.txt": f"{i}\n"}, f"main {i}")
    repo.branch("feature")
    repo.commit({"g.txt": "g\n"}, "feature")
    clone = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            f"file://{repo.path}",
            str(clone),
        ],
        check=True,
    )
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", "feature"], check=True)
    policy = write_policy(tmp_path / "p.yml", [FREEZE_RULE])
    result = run_cli(
        "check", "--policy", str(policy), "--repo", str(clone), "--base", "origin/main"
    )
    assert result.exit_code == 2
    assert "shallow clone" in result.output and "fetch-depth: 0" in result.output


def test_init_writes_a_policy_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "gatekeeper.yml"
    assert run_cli("init", str(target)).exit_code == 0
    assert run_cli("validate", str(target)).exit_code == 0
    again = run_cli("init", str(target))
    assert again.exit_code == 2 and "--force" in again.output
    assert run_cli("init", str(target), "--force").exit_code == 0


def test_checks_and_explain() -> None:
    listing = run_cli("checks")
    assert listing.exit_code == 0
    assert "release-window" in listing.output and "changelog" in listing.output
    explained = run_cli("explain", "release-window")
    assert explained.exit_code == 0
    assert 'timezone (string; default "UTC")' in explained.output
    assert "Example:" in explained.output and "check: release-window" in explained.output
    unknown = run_cli("explain", "nope")
    assert unknown.exit_code == 2 and "known checks:" in unknown.output


def test_every_explain_example_validates(tmp_path: Path) -> None:
    from gatekeeper.checks import registry

    rules = [{"id": name, "check": name, "with": c.example} for name, c in registry().items()]
    policy = write_policy(tmp_path / "examples.yml", rules)
    result = run_cli("validate", str(policy))
    assert result.exit_code == 0, result.output


def test_schema_commands_print_json() -> None:
    policy_schema = json.loads(run_cli("schema").output)
    assert "release-window" in policy_schema["$defs"]["rule"]["properties"]["check"]["enum"]
    report_schema = json.loads(run_cli("schema", "--report").output)
    assert report_schema["title"] == "Gatekeeper report"


def test_demo_prints_a_block_then_an_approve() -> None:
    result = run_cli("demo")
    assert result.exit_code == 0, result.output
    first, second = result.output.split("Fix:")
    assert "Decision: BLOCK" in first and "exit code 1" in first
    assert "Decision: APPROVE" in second and "exit code 0" in second


def test_version() -> None:
    assert run_cli("--version").output.strip() == f"gatekeeper, version {__version__}"


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from gatekeeper.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('git', 'requests', 'jsonschema', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_closed_pipe_is_not_an_internal_error(tmp_path) -> None:
    """`gatekeeper demo | head -1`: the reader leaves early; no traceback, no 'internal
    error', and never exit 0 (the output was not all delivered)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", "demo"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "internal error" not in err and "Traceback" not in err, err


def test_a_closed_pipe_still_gets_the_files_and_the_job_summary(
    release: RepoFactory, tmp_path: Path
) -> None:
    """`gatekeeper check ... | head`: the reader of standard output leaves before the
    report is printed. The report files and the job summary are still written (a later
    step, or the reviewer, reads them), and the exit is still non-zero."""
    import os

    policy = write_policy(tmp_path / "p.yml", [FREEZE_RULE])
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env |= {"PYTHONUNBUFFERED": "1", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    for k in ("GITHUB_TOKEN", "GH_TOKEN"):
        env.pop(k, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", "check", "--policy", str(policy), "--repo",
         str(release.path), "--base", "main", "--now", "2027-01-05T10:00:00Z",
         "--output", f"json={tmp_path}/r.json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the process has printed anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1, err
    assert "Traceback" not in err, err
    assert json.loads((tmp_path / "r.json").read_text())["decision"] == "approve"
    assert "Release" in (tmp_path / "summary.md").read_text()
