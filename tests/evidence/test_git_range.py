"""The range under review: merge base, work-tree mode, branches, commits and tags."""

from __future__ import annotations

import pytest

from gatekeeper.errors import UsageError
from gatekeeper.evidence.git import GitEvidence, base_from_environment
from tests.factories import RepoFactory


@pytest.fixture
def diverged(repo: RepoFactory) -> RepoFactory:
    repo.branch("feature")
    repo.commit({"src/a.py": "a = 1\n"}, "feature work\n\nReviewed-by: Ada <ada@example.com>")
    repo.checkout("main")
    repo.commit({"src/main_only.py": "m = 1\n"}, "main moves on")
    repo.checkout("feature")
    return repo


def test_range_starts_at_the_merge_base_not_the_base_tip(diverged: RepoFactory) -> None:
    git = GitEvidence(diverged.path, "main")
    assert git.changed_paths == ["src/a.py"]
    assert git.merge_base == diverged.repo.commit("main~1").hexsha
    assert git.base_sha == diverged.repo.commit("main").hexsha


def test_commits_are_oldest_first_with_full_messages(diverged: RepoFactory) -> None:
    diverged.commit({"src/b.py": "b = 1\n"}, "second")
    commits = GitEvidence(diverged.path, "main").commits
    assert [c.subject for c in commits] == ["feature work", "second"]
    assert "Reviewed-by: Ada <ada@example.com>" in commits[0].message
    assert commits[0].author_email == "author@example.com"


def test_worktree_mode_adds_staged_unstaged_and_untracked(diverged: RepoFactory) -> None:
    diverged.write({"src/a.py": "a = 1\nb = 2\n", "notes.txt": "one\ntwo\nthree"})
    diverged.repo.git.add("src/a.py")
    diverged.write({"README.md": "# project\nmore\n"})
    git = GitEvidence(diverged.path, "main", worktree=True)
    files = {f.path: f for f in git.changed_files}
    assert set(files) == {"README.md", "notes.txt", "src/a.py"}
    assert files["src/a.py"].added_lines == (1, 2)
    assert files["README.md"].added_lines == (2,)
    assert files["notes.txt"].status == "added" and files["notes.txt"].added_lines == (1, 2, 3)
    assert git.read("notes.txt") == b"one\ntwo\nthree"
    assert GitEvidence(diverged.path, "main").read("notes.txt") is None


def test_head_tags_and_branch_names(diverged: RepoFactory) -> None:
    diverged.tag("v2.0.0")
    git = GitEvidence(diverged.path, "main")
    assert git.head_tags == ["v2.0.0"]
    assert git.branch_of("main") == "main"
    assert git.branch_of("v2.0.0") is None
    assert git.current_branch() == "feature"


def test_base_from_the_pull_request_environment(diverged: RepoFactory) -> None:
    assert base_from_environment(diverged.path, {}) is None
    assert base_from_environment(diverged.path, {"GITHUB_BASE_REF": "main"}) == "refs/heads/main"
    diverged.repo.git.update_ref("refs/remotes/origin/main", "main")
    got = base_from_environment(diverged.path, {"GITHUB_BASE_REF": "main"})
    assert got == "refs/remotes/origin/main"
    assert GitEvidence(diverged.path, got).branch_of(got) == "main"
    assert GitEvidence(diverged.path, "origin/main").branch_of("origin/main") == "main"
    with pytest.raises(UsageError, match="neither refs/remotes/origin/gone nor refs/heads/gone exists"):
        base_from_environment(diverged.path, {"GITHUB_BASE_REF": "gone"})


def test_unrelated_histories_are_a_usage_error(diverged: RepoFactory) -> None:
    diverged.repo.git.checkout("-q", "--orphan", "other")
    diverged.commit({"x.txt": "x\n"}, "unrelated")
    with pytest.raises(UsageError, match="no common ancestor"):
        GitEvidence(diverged.path, "main")


def test_read_returns_file_contents_byte_for_byte(repo: RepoFactory) -> None:
    repo.branch("feature")
    repo.commit({"blank-tail.txt": "a\n\n", "no-newline.txt": "b"})
    git = GitEvidence(repo.path, "main")
    assert git.read("blank-tail.txt") == b"a\n\n"
    assert git.read("no-newline.txt") == b"b"
