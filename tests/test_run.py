"""One check run: git is asked on a thread while the run's modules are imported; the
thread is gone when the run goes on, and what git refuses is the run's error."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from gatekeeper import run
from gatekeeper.errors import UsageError
from tests.factories import make_repo, write_policy


def request(tmp_path, base: str) -> run.CheckRequest:
    repo = make_repo(tmp_path / "repo")
    repo.branch("feature")
    repo.commit({"app.py": "x = 1\n"})
    policy = write_policy(tmp_path / "policy.yml", [{"id": "log", "check": "changelog"}])
    return run.CheckRequest(policy=policy, now=datetime.now(UTC), repo=repo.path, base=base,
                            environ={})


def git_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gatekeeper-git"]


def test_git_is_opened_with_its_diff_started_and_no_thread_left(tmp_path) -> None:
    req = request(tmp_path, "main")
    git = run._open_git(req, "main")
    try:
        assert not git_threads()  # the coverage readers may fork
        assert git.base_sha != git.head_sha
        assert any(args[0] == "diff" for args in git._started)
    finally:
        git.close()


def test_what_git_refuses_is_the_run_s_error(tmp_path) -> None:
    req = request(tmp_path, "no-such-branch")
    with pytest.raises(UsageError, match="'no-such-branch' is not a commit"):
        run.run_check(req)
    assert not git_threads()


def test_a_failure_after_git_opened_closes_it(tmp_path, monkeypatch) -> None:
    """The diff started ahead is stopped, not left running, when the opening fails late."""
    events: list[str] = []
    real_close = run.GitEvidence.close

    def prefetch(self: run.GitEvidence) -> None:
        events.append("prefetch")
        raise UsageError("prefetch refused")

    def close(self: run.GitEvidence) -> None:
        events.append("close")
        real_close(self)

    monkeypatch.setattr(run.GitEvidence, "prefetch", prefetch)
    monkeypatch.setattr(run.GitEvidence, "close", close)
    with pytest.raises(UsageError, match="prefetch refused"):
        run._open_git(request(tmp_path, "main"), "main")
    assert events[events.index("prefetch"):] == ["prefetch", "close"]
