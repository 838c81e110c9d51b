"""Base ref and target branch from other CI systems' variables (issue 15, "Other CI
systems"): no --base or --branch needed in a GitLab merge request pipeline, a Jenkins or
Buildkite pull request build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.errors import UsageError
from gatekeeper.evidence import ci
from tests.factories import RepoFactory, run_cli, write_policy

PATHS_RULE = {"id": "src", "check": "changelog", "when": {"paths": ["src/**"]}}


def test_detects_each_system() -> None:
    gitlab = ci.detect({
        "GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "7", "CI_COMMIT_SHA": "c" * 40,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_MERGE_REQUEST_DIFF_BASE_SHA": "b" * 40,
    })
    assert gitlab == ci.CiChange(
        "GitLab CI", "main", "b" * 40, "7", "c" * 40, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"
    )
    branch = ci.detect({"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "topic", "CI_DEFAULT_BRANCH": "main"})
    assert branch is not None and branch.target_branch == "main"
    default = ci.detect({"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"})
    assert default is not None and default.target_branch is None
    jenkins = ci.detect({"JENKINS_URL": "https://ci/", "CHANGE_ID": "5", "CHANGE_TARGET": "release/2"})
    assert jenkins is not None and (jenkins.target_branch, jenkins.request) == ("release/2", "5")
    buildkite = {"BUILDKITE": "true", "BUILDKITE_PULL_REQUEST_BASE_BRANCH": "main"}
    assert ci.target_branch({**buildkite, "BUILDKITE_PULL_REQUEST": "12"}) == "main"
    assert ci.target_branch({**buildkite, "BUILDKITE_PULL_REQUEST": "false"}) is None
    circle = ci.detect({"CIRCLECI": "true", "CIRCLE_PULL_REQUEST": "https://github.com/o/r/pull/9"})
    assert circle is not None and (circle.request, circle.target_branch) == ("9", None)
    assert ci.detect({"CI": "true"}) is None


@pytest.fixture
def mr(repo: RepoFactory) -> tuple[RepoFactory, str]:
    """A merge request branched off main, after which main moved on (with its own src change)."""
    fork = repo.commit({"src/base.py": "x = 1\n"}, "main before the branch")
    repo.branch("feature")
    repo.commit({"src/feature.py": "y = 2\n"}, "the merge request's change")
    repo.checkout("main")
    repo.commit({"src/later.py": "z = 3\n"}, "main moved on")
    repo.checkout("feature")
    return repo, fork


def check(repo: RepoFactory, tmp_path: Path, env: dict[str, str | None]) -> dict:
    policy = write_policy(tmp_path / "p.yml", [PATHS_RULE])
    result = run_cli(
        "check", "--policy", str(policy), "--repo", str(repo.path), "--format", "json",
        "--policy-source", "worktree", env=env,
    )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_a_gitlab_merge_request_pipeline_judges_the_merge_requests_range(
    mr: tuple[RepoFactory, str], tmp_path: Path
) -> None:
    repo, fork = mr
    env: dict[str, str | None] = {
        "GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "7", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": fork, "CI_COMMIT_SHA": repo.repo.head.commit.hexsha,
        "CI_DEFAULT_BRANCH": "main",
    }
    report = check(repo, tmp_path, env)
    assert report["repo"]["merge_base"] == fork == report["repo"]["base"]
    assert report["repo"]["head"] == repo.repo.head.commit.hexsha
    assert report["repo"]["branch"] == "main"
    # Only the merge request's own change is judged (changelog untouched: fail, not skipped).
    assert report["rules"][0]["status"] == "fail"


def test_gitlab_without_the_diff_base_uses_the_target_branch(
    mr: tuple[RepoFactory, str], tmp_path: Path
) -> None:
    repo, fork = mr
    repo.repo.git.update_ref("refs/remotes/origin/main", "main")
    env: dict[str, str | None] = {
        "GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    }
    report = check(repo, tmp_path, env)
    assert report["repo"]["base"] == repo.repo.commit("main").hexsha
    assert report["repo"]["merge_base"] == fork


@pytest.mark.parametrize(
    "env",
    [
        {"JENKINS_URL": "https://jenkins/", "CHANGE_ID": "5", "CHANGE_TARGET": "main"},
        {"BUILDKITE": "true", "BUILDKITE_PULL_REQUEST": "12",
         "BUILDKITE_PULL_REQUEST_BASE_BRANCH": "main"},
        {"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "feature", "CI_DEFAULT_BRANCH": "main"},
    ],
    ids=["jenkins", "buildkite", "gitlab-branch"],
)
def test_pull_request_builds_find_base_and_branch(
    mr: tuple[RepoFactory, str], tmp_path: Path, env: dict[str, str | None]
) -> None:
    repo, fork = mr
    report = check(repo, tmp_path, env)
    assert report["repo"]["base"] == repo.repo.commit("main").hexsha
    assert (report["repo"]["merge_base"], report["repo"]["branch"]) == (fork, "main")


def test_a_target_branch_that_is_not_here_is_a_usage_error(repo: RepoFactory) -> None:
    env = {"JENKINS_URL": "https://jenkins/", "CHANGE_ID": "5", "CHANGE_TARGET": "develop"}
    with pytest.raises(UsageError, match=r"CHANGE_TARGET is 'develop'.*git fetch origin develop"):
        ci.base_ref(repo.path, env)


def test_circleci_pull_requests_need_base(repo: RepoFactory) -> None:
    env = {"CIRCLECI": "true", "CIRCLE_PULL_REQUEST": "https://github.com/o/r/pull/9"}
    with pytest.raises(UsageError, match="CircleCI builds pull request 9 but does not say"):
        ci.base_ref(repo.path, env)
    assert ci.base_ref(repo.path, {"CIRCLECI": "true"}) is None


def test_a_gitlab_merged_results_pipeline_starts_at_the_targets_tip(
    mr: tuple[RepoFactory, str], tmp_path: Path
) -> None:
    # HEAD is the merge of the merge request into main's tip: main's later change is not its.
    repo, fork = mr
    source = repo.repo.head.commit.hexsha
    target = repo.repo.commit("main").hexsha
    repo.repo.git.checkout("-q", "--detach", "main")
    repo.repo.git.merge("-q", "--no-ff", "-m", "merged result", source)
    env: dict[str, str | None] = {
        "GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_MERGE_REQUEST_DIFF_BASE_SHA": fork,
        "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": target, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": source,
    }
    report = check(repo, tmp_path, env)
    assert report["repo"]["base"] == report["repo"]["merge_base"] == target
    assert ci.base_ref(repo.path, env) == target
    changed = repo.repo.git.diff("--name-only", f"{target}..HEAD").split()
    assert changed == ["src/feature.py"]  # not main's src/later.py
