from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.errors import UsageError
from gatekeeper.evidence.git import GitEvidence
from gatekeeper.trust import PolicyChoice, read_policy
from tests.factories import RepoFactory, make_repo

STRICT = "rules: strict\n"
WEAK = "rules: weak\n"
BASE = PolicyChoice("base", "test")
WORKTREE = PolicyChoice("worktree", "test")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[RepoFactory, str]:
    repo = make_repo(tmp_path)
    base = repo.commit({"gatekeeper.yml": STRICT})
    repo.branch("feature")
    repo.commit({"gatekeeper.yml": WEAK}, "Weaken the gate")
    return repo, base


def test_pr_run_reads_the_base_version(repo) -> None:
    r, base = repo
    got = read_policy(r.path / "gatekeeper.yml", GitEvidence(r.path, base), BASE)
    assert got.text == STRICT and got.origin == "base" and got.changed_in_pr
    assert got.source == f"{base[:12]}:gatekeeper.yml"
    assert "changes gatekeeper.yml; the base version was applied" in got.note


def test_worktree_opt_out_and_non_pr_runs_read_the_file(repo) -> None:
    r, base = repo
    git = GitEvidence(r.path, base)
    assert read_policy(r.path / "gatekeeper.yml", git, WORKTREE).text == WEAK


def test_unchanged_policy_has_no_note(tmp_path) -> None:
    r = make_repo(tmp_path)
    base = r.commit({"gatekeeper.yml": STRICT})
    r.commit({"a.txt": "x"})
    got = read_policy(r.path / "gatekeeper.yml", GitEvidence(r.path, base), BASE)
    assert got.note is None


def test_policy_missing_on_base_is_a_usage_error(tmp_path) -> None:
    r = make_repo(tmp_path)
    base = r.commit({"a.txt": "x"})
    r.commit({"gatekeeper.yml": WEAK})
    with pytest.raises(UsageError, match="does not exist on the base commit"):
        read_policy(r.path / "gatekeeper.yml", GitEvidence(r.path, base), BASE)


def test_policy_outside_the_repository_is_a_usage_error(repo, tmp_path_factory) -> None:
    r, base = repo
    outside = tmp_path_factory.mktemp("elsewhere") / "p.yml"
    outside.write_text(WEAK)
    with pytest.raises(UsageError, match="inside the repository"):
        read_policy(outside, GitEvidence(r.path, base), BASE)
