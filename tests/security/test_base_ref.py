"""Threat: a tag moves the base of the range.

``origin/main`` is looked up by git among tags before remote branches. A tag named
``origin/main`` on the change's own head makes the range empty: nothing changed, every
path-conditioned rule is skipped, and the gate approves. The base of a pull-request run
is therefore the full ref ``refs/remotes/origin/<branch>`` (then ``refs/heads/<branch>``),
and a short ``--base``/``--head`` name that a tag and a branch both answer to, with
different commits, is an error. Issue 8, item 3.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import RepoFactory
from tests.security.helpers import gate, strict_base

PATH_RULE = """\
version: 1
name: strict
rules:
  - id: changelog
    check: changelog
    when: {paths: ["src/**"]}
"""


@pytest.fixture
def shadowed(tmp_path: Path) -> RepoFactory:
    repo = strict_base(tmp_path / "repo", {"gatekeeper.yml": PATH_RULE})
    repo.repo.git.update_ref("refs/remotes/origin/main", "main")
    repo.commit({"src/app.py": "x = 2\n"}, "Change the code")
    repo.tag("origin/main")  # the attacker's tag: the head itself
    return repo


def test_github_base_ref_is_not_shadowed_by_a_tag(shadowed: RepoFactory) -> None:
    result, report = gate(shadowed, GITHUB_BASE_REF="main", GITHUB_ACTIONS="true")
    assert result.exit_code == 1, result.output
    assert report["repo"]["base"] == shadowed.repo.commit("refs/remotes/origin/main").hexsha
    assert report["rules"][0]["status"] == "fail"


def test_github_base_ref_falls_back_to_the_local_branch(shadowed: RepoFactory) -> None:
    shadowed.repo.git.update_ref("-d", "refs/remotes/origin/main")
    result, report = gate(shadowed, GITHUB_BASE_REF="main")
    assert result.exit_code == 1, result.output
    assert report["repo"]["base"] == shadowed.repo.commit("refs/heads/main").hexsha


def test_an_ambiguous_short_base_is_refused(shadowed: RepoFactory) -> None:
    result, _ = gate(shadowed, "--base", "origin/main")
    assert result.exit_code == 2
    assert "base ref 'origin/main' is ambiguous" in result.stderr
    assert "refs/remotes/origin/main and refs/tags/origin/main" in result.stderr
    result, _ = gate(shadowed, "--base", "refs/remotes/origin/main")
    assert result.exit_code == 1


def test_a_tag_and_branch_on_the_same_commit_are_not_ambiguous(shadowed: RepoFactory) -> None:
    shadowed.repo.git.tag("-f", "origin/main", "refs/remotes/origin/main")
    result, _ = gate(shadowed, "--base", "origin/main")
    assert result.exit_code == 1, result.output
