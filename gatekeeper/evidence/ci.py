"""The change a CI system is building, from its environment variables: which branch a merge
or pull request targets and where its range starts, so that ``--base`` and ``--branch`` are
not needed there. GitHub Actions is read in ``git.base_from_environment``; this module reads
the others.

| system | detected by | merge/pull request | target branch | base |
|---|---|---|---|---|
| GitLab CI | ``GITLAB_CI`` | ``CI_MERGE_REQUEST_IID`` | ``CI_MERGE_REQUEST_TARGET_BRANCH_NAME`` | ``CI_MERGE_REQUEST_TARGET_BRANCH_SHA`` (merged results), ``CI_MERGE_REQUEST_DIFF_BASE_SHA``, else the target branch |
| GitLab CI, branch pipeline | ``CI_COMMIT_BRANCH`` | | ``CI_DEFAULT_BRANCH`` | the default branch (not for the default branch itself) |
| Jenkins (multibranch) | ``JENKINS_URL`` | ``CHANGE_ID`` | ``CHANGE_TARGET`` | the target branch |
| Buildkite | ``BUILDKITE`` | ``BUILDKITE_PULL_REQUEST`` (not ``false``) | ``BUILDKITE_PULL_REQUEST_BASE_BRANCH`` | the target branch |
| CircleCI | ``CIRCLECI`` | ``CIRCLE_PULL_REQUEST`` | not given: ``--base`` is needed | |

A branch name becomes ``refs/remotes/origin/<name>`` when that exists, else ``refs/heads/<name>``:
never a short name, which a tag brought along by the change could shadow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper.errors import UsageError


@dataclass(frozen=True)
class CiChange:
    """What one CI system says about the change it builds."""

    system: str
    target_branch: str | None = None
    base_sha: str | None = None
    """An exact base commit, when the system gives one (GitLab's merge request diff base)."""
    request: str | None = None
    """The merge or pull request's number, when the build is for one."""
    head_sha: str | None = None
    variable: str = ""
    """The variable the target branch came from, for messages."""


def _get(environ: Mapping[str, str], name: str) -> str | None:
    return (environ.get(name) or "").strip() or None


def _gitlab(env: Mapping[str, str]) -> CiChange:
    head = _get(env, "CI_COMMIT_SHA")
    target = _get(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
    if target:
        # A merged results pipeline builds the merge into the target's tip: the range starts
        # there. Otherwise the merge request's diff base is exactly where its range starts.
        base = _get(env, "CI_MERGE_REQUEST_TARGET_BRANCH_SHA") or _get(
            env, "CI_MERGE_REQUEST_DIFF_BASE_SHA"
        )
        return CiChange(
            "GitLab CI",
            target,
            base,
            _get(env, "CI_MERGE_REQUEST_IID"),
            head,
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
        )
    branch, default = _get(env, "CI_COMMIT_BRANCH"), _get(env, "CI_DEFAULT_BRANCH")
    if branch and default and branch != default:
        # A branch pipeline: the branch will go into the default branch.
        return CiChange("GitLab CI", default, head_sha=head, variable="CI_DEFAULT_BRANCH")
    return CiChange("GitLab CI", head_sha=head)


def _jenkins(env: Mapping[str, str]) -> CiChange:
    return CiChange(
        "Jenkins",
        _get(env, "CHANGE_TARGET"),
        request=_get(env, "CHANGE_ID"),
        head_sha=_get(env, "GIT_COMMIT"),
        variable="CHANGE_TARGET",
    )


def _buildkite(env: Mapping[str, str]) -> CiChange:
    pr = _get(env, "BUILDKITE_PULL_REQUEST")
    pr = None if pr == "false" else pr
    return CiChange(
        "Buildkite",
        _get(env, "BUILDKITE_PULL_REQUEST_BASE_BRANCH") if pr else None,
        request=pr,
        head_sha=_get(env, "BUILDKITE_COMMIT"),
        variable="BUILDKITE_PULL_REQUEST_BASE_BRANCH",
    )


def _circleci(env: Mapping[str, str]) -> CiChange:
    url = _get(env, "CIRCLE_PULL_REQUEST")
    return CiChange(
        "CircleCI", request=url.rsplit("/", 1)[-1] if url else None, head_sha=_get(env, "CIRCLE_SHA1")
    )


_SYSTEMS = (
    ("GITLAB_CI", _gitlab),
    ("JENKINS_URL", _jenkins),
    ("BUILDKITE", _buildkite),
    ("CIRCLECI", _circleci),
)


def detect(environ: Mapping[str, str]) -> CiChange | None:
    """The CI system this run is in (other than GitHub Actions), and what it says."""
    for marker, read in _SYSTEMS:
        if _get(environ, marker):
            return read(environ)
    return None


def target_branch(environ: Mapping[str, str]) -> str | None:
    """The branch the change goes into, for ``when.branches``."""
    found = detect(environ)
    return found.target_branch if found else None


def _is_commit(repo: Any, ref: str) -> bool:
    import git

    try:
        repo.git.execute(
            ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"]
        )
        return True
    except git.GitCommandError:
        return False


def base_ref(path: Path, environ: Mapping[str, str]) -> str | None:
    """The base of the change this CI build is for, or ``None`` when the system says nothing
    about one (then ``--base`` is needed)."""
    import git

    found = detect(environ)
    if found is None:
        return None
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{path}: not a git repository (pass --repo DIR)") from None
    if found.base_sha and _is_commit(repo, found.base_sha):
        return found.base_sha
    if found.target_branch:
        for candidate in (
            f"refs/remotes/origin/{found.target_branch}",
            f"refs/heads/{found.target_branch}",
        ):
            if _is_commit(repo, candidate):
                return candidate
        raise UsageError(
            f"{found.system}: {found.variable} is {found.target_branch!r} but neither "
            f"refs/remotes/origin/{found.target_branch} nor refs/heads/{found.target_branch} "
            f"exists here; fetch it (git fetch origin {found.target_branch}) or pass --base REF"
        )
    if found.request:
        raise UsageError(
            f"{found.system} builds pull request {found.request} but does not say which branch "
            "it targets; pass --base REF (e.g. --base origin/main)"
        )
    return None
