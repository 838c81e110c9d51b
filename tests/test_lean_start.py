"""`gatekeeper check` loads what its policy needs and no more (issue 14, lean start).

Asserted by which modules end up imported and which processes start, never by time:
a one-rule policy imports that rule's check alone (not all of them), the GitHub client's
`requests` only when a rule or publishing talks to GitHub, and GitPython not at all on
the hot path (importing it runs `git version` twice before any real work).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.evidence.test_coverage import _cobertura
from tests.factories import make_repo, write_policy

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
spawned = []
def hook(event, args):
    if event == "subprocess.Popen":
        spawned.append([str(a) for a in args[1]])
sys.addaudithook(hook)
sys.argv = ["gatekeeper", *sys.argv[2:]]
try:
    from gatekeeper.cli import cli
    cli(prog_name="gatekeeper")  # main() would end the process, probe and all
except SystemExit as e:
    code = e.code
with open(OUT, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules), "spawned": spawned}, f)
"""


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    out = tmp_path / "probe.json"
    code = PROBE.replace("OUT", repr(str(out)))
    done = subprocess.run(
        [sys.executable, "-c", code, "-", *args], cwd=ROOT, timeout=60, check=False,
        capture_output=True, text=True,
        env={**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)},
    )
    return {**json.loads(out.read_text()), "stderr": done.stderr}


def test_a_one_rule_check_imports_that_check_only_and_no_gitpython(tmp_path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.branch("feature")
    repo.commit({"CHANGELOG.md": "## [Unreleased]\n- x\n"})
    policy = write_policy(tmp_path / "p.yml", [{"id": "log", "check": "changelog"}])
    got = _run(tmp_path, "check", "-p", str(policy), "--repo", str(repo.path), "--base", "main")
    assert got["code"] == 0
    checks = {m for m in got["modules"] if m.startswith("gatekeeper.checks.")}
    assert checks == {"gatekeeper.checks.changelog"}
    assert "logging" not in got["modules"]  # the engine logs a crash only
    assert "jsonschema" not in got["modules"]
    assert "git" not in got["modules"]  # GitPython
    assert "requests" not in got["modules"]
    assert not [argv for argv in got["spawned"] if argv[1:2] == ["version"]]
    assert all(Path(argv[0]).name.startswith("git") for argv in got["spawned"])


# -- a coverage-only policy on a laptop (the common CI step is the same minus GitHub) ----

LAPTOP = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
"""No CI variables: the run decides the policy's origin as on a laptop (reading no event)."""
RENDERERS = {f"gatekeeper.report.{m}" for m in ("text", "json_", "markdown", "sarif", "junit")}


def _coverage_run(tmp_path: Path, options: dict) -> dict:
    repo = make_repo(tmp_path / "repo", {"app.py": "a = 1\n"})
    repo.branch("feature")
    repo.commit({"app.py": "a = 1\nb = 2\n"})
    (repo.path / "coverage.xml").write_text(_cobertura({"app.py": {1: 1, 2: 1}}))
    rule = {"id": "smoke-tested", "check": "smoke-coverage", "with": options}
    policy = write_policy(tmp_path / "p.yml", [rule])
    return _run(
        tmp_path, "check", "--policy", str(policy), "--repo", str(repo.path), "--base", "main",
        "--format", "json", "--output", f"json={tmp_path / 'report.json'}", env=LAPTOP,
    )


def test_a_coverage_only_check_imports_what_it_uses_and_nothing_else(tmp_path) -> None:
    got = _coverage_run(tmp_path, {"coverage": "coverage.xml"})
    assert got["code"] == 0, got["stderr"]
    modules = set(got["modules"])
    assert {m for m in modules if m.startswith("gatekeeper.checks.")} == {
        "gatekeeper.checks.smoke_coverage"
    }
    # A valid policy is validated by its precompiled code: jsonschema is not imported.
    assert not {m.split(".")[0] for m in modules} & {"jsonschema", "referencing", "attrs", "rpds"}
    assert "gatekeeper.policy.compiled.check_smoke_coverage" in modules
    assert {m for m in modules if m.startswith("gatekeeper.policy.compiled.check_")} == {
        "gatekeeper.policy.compiled.check_smoke_coverage"
    }
    # The one format asked for (JSON to standard output and to a file): no other renderer.
    assert modules & RENDERERS == {"gatekeeper.report.json_"}
    # No GitHub client on a laptop run that publishes nothing, no GitPython, and none of
    # the publishing modules (job summary, outputs, annotations, comment, status).
    assert not modules & {"gatekeeper.evidence.github", "requests", "git"}
    assert not modules & {
        "gatekeeper.publish.actions", "gatekeeper.publish.comment", "gatekeeper.publish.status",
    }
    # Imported only where used: an `extends` base, a typo's suggestion (difflib: click's
    # parser imports it too, but only to suggest for an option it does not know, and for
    # a short option such as `-p`, which it first tries as a long one), the report
    # schema's data file, a crash's debug log (concurrent.futures would import logging too).
    assert not modules & {
        "gatekeeper.policy.extends", "gatekeeper.suggest", "difflib", "importlib.resources",
        "logging", "concurrent.futures",
    }
    assert "fastjsonschema" not in modules and "decimal" not in modules


def test_a_coverage_only_check_does_not_import_the_junit_reader(tmp_path) -> None:
    got = _coverage_run(tmp_path, {"coverage": "coverage.xml"})
    assert got["code"] == 0, got["stderr"]
    assert "gatekeeper.evidence.junit" not in got["modules"]


def test_an_invalid_policy_is_reported_by_jsonschema_as_before(tmp_path) -> None:
    got = _coverage_run(tmp_path, {"coverage": "coverage.xml", "min_diff": 120})
    assert got["code"] == 2
    assert "p.yml:" in got["stderr"] and "min_diff" in got["stderr"]
    assert "120 is greater than the maximum of 100" in got["stderr"]
    assert "jsonschema" in got["modules"]  # the compiled code said no: jsonschema explains


def test_help_imports_no_command_s_machinery(tmp_path) -> None:
    got = _run(tmp_path, "--help", env=LAPTOP)
    assert got["code"] == 0
    modules = set(got["modules"])
    assert not modules & {
        "gatekeeper.run", "gatekeeper.policy", "gatekeeper.checks", "gatekeeper.report",
        "yaml", "jsonschema", "logging", "requests", "git",
    }


def test_the_pr_shortcut_answers_as_the_github_configuration_would(tmp_path) -> None:
    """is_pr_run skips importing the GitHub client when neither --pr nor an event file is
    there; config_from must then find no pull request either (the policy's origin, base or
    work tree, depends on it). If config_from learns another source, this fails."""
    from gatekeeper.evidence.github import config_from
    from gatekeeper.trust import is_pr_run

    actions = {
        "GITHUB_REPOSITORY": "o/r", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_HEAD_REF": "f",
        "GITHUB_BASE_REF": "main", "GITHUB_SHA": "a" * 40, "GITHUB_RUN_ID": "1",
        "GITHUB_EVENT_NAME": "pull_request", "GITHUB_TOKEN": "t",
    }
    assert config_from(actions, {}).pr is None
    assert not is_pr_run(actions, {})
    assert is_pr_run({}, {"pr": 7})
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    assert is_pr_run({"GITHUB_EVENT_PATH": str(event)}, {})
