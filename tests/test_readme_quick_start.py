"""The README's first hour (issue 9, items 15 and 16): the quick-start workflow is complete,
short and valid for GitHub; its policy works on a repository tested the way the workflow
tests it; the install section names the real distribution and `python -m gatekeeper`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from gatekeeper.policy import loads_policy
from tests.factories import RepoFactory, make_repo, run_cli
from tests.test_action_scripts import check_jsonschema

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block_after(marker: str) -> str:
    """The fenced block that follows ``<!-- marker -->`` in the README."""
    m = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```", README, re.DOTALL)
    assert m, f"README has no block after <!-- {marker} -->"
    return m.group(1)


WORKFLOW = block_after("quick-start-workflow")
POLICY = block_after("quick-start-policy")


def test_the_workflow_is_at_most_twelve_lines() -> None:
    assert len(WORKFLOW.splitlines()) <= 12


def test_the_workflow_validates_against_githubs_workflow_schema(tmp_path: Path) -> None:
    path = tmp_path / "gatekeeper.yml"
    path.write_text(WORKFLOW)
    release = tmp_path / "release.yml"  # the tag-triggered release recipe, in the same run
    release.write_text(block_after("recipe-tag-release"))
    result = check_jsonschema("github-workflows", path, release)
    assert result.returncode == 0, result.stdout + result.stderr
    # The schema is not asleep: a workflow without jobs fails it.
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.split("jobs:")[0])
    assert check_jsonschema("github-workflows", broken).returncode == 1


def test_the_workflow_is_complete_for_the_gate() -> None:
    steps = yaml.safe_load(WORKFLOW)["jobs"]["gate"]["steps"]
    assert steps[0] == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}
    gate = steps[-1]
    assert gate["uses"].endswith("/gatekeeper@v0") and gate["with"]["upload-report"] is True
    run = next(s["run"] for s in steps if "run" in s)
    # The files the policy reads are the ones the workflow writes.
    policy = loads_policy(POLICY, "README quick start")
    options = policy.rules[0].options
    assert f"--junitxml={options['junit']}" in run and "coverage xml" in run
    assert options["coverage"] == "coverage.xml"


CALC = "def add(a, b):\n    return a + b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def _run_tests_as_the_workflow_does(repo: RepoFactory) -> None:
    """The workflow's test step, with the real tools: coverage.py under pytest."""
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(repo.path)}
    for args in (
        ["coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=junit.xml"],
        ["coverage", "xml"],
    ):
        subprocess.run([sys.executable, "-m", *args], cwd=repo.path, env=env, check=False,
                       capture_output=True, timeout=120)


def test_the_policy_judges_a_repository_tested_that_way(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"calc.py": CALC, "tests/test_calc.py": TEST,
                                          "gatekeeper.yml": POLICY, ".gitignore": ".coverage\n"})
    repo.branch("feature")
    sub = "\n\ndef sub(a, b):\n    return a - b\n"
    test_sub = "\n\ndef test_sub():\n    from calc import sub\n    assert sub(3, 2) == 1\n"
    repo.commit({"calc.py": CALC + sub, "tests/test_calc.py": TEST + test_sub})
    _run_tests_as_the_workflow_does(repo)
    result = run_cli(
        "check", "--repo", str(repo.path), "--policy", str(repo.path / "gatekeeper.yml"),
        "--base", "main", "--format", "json", env={"GITHUB_ACTIONS": "true"},
    )
    report = json.loads(result.stdout)
    [rule] = report["rules"]
    assert result.exit_code == 0, rule["summary"]
    assert rule["details"]["tests"]["tests"] == 2 and rule["details"]["diff_percent"] == 100.0
    assert report["policy"]["source"].endswith(":gatekeeper.yml")  # read from the base


def test_the_install_section_names_the_real_distribution() -> None:
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert f"The distribution is named `{name}`" in README
    assert f'pip install "{name} @ git+https://github.com/OWNER/gatekeeper@v0.1.0"' in README
    assert 'pipx install "git+https://github.com/OWNER/gatekeeper@v0.1.0"' in README
    assert "python -m gatekeeper --version" in README


def test_python_dash_m_gatekeeper_runs_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "gatekeeper", "--version"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.startswith("gatekeeper, version ")


def test_the_gitlab_recipe_validates_against_gitlabs_schema(tmp_path: Path) -> None:
    gitlab = tmp_path / ".gitlab-ci.yml"
    gitlab.write_text(block_after("recipe-gitlab"))
    result = check_jsonschema("gitlab-ci", gitlab)
    assert result.returncode == 0, result.stdout + result.stderr
