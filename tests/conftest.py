from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from tests.factories import RepoFactory, make_repo

# Property tests explore new examples on every local run (they found real fast-path holes that
# way), but CI runs the same examples each time: a red build then means the change, not luck.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as on a laptop unless they say otherwise: in CI (CI=true) Gatekeeper
    reads the policy from the base commit, which would change what most tests check."""
    for name in ("CI", "GITHUB_ACTIONS", "JENKINS_URL", "TF_BUILD", "BUILDKITE", "TEAMCITY_VERSION",
                 "GITLAB_CI", "CIRCLECI"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> RepoFactory:
    """A fresh git repository on main with one commit."""
    return make_repo(tmp_path / "repo")


@pytest.fixture
def repo_factory(tmp_path: Path) -> Callable[..., RepoFactory]:
    counter = iter(range(1000))

    def make(files: dict[str, str | bytes | None] | None = None) -> RepoFactory:
        return make_repo(tmp_path / f"repo{next(counter)}", files)

    return make


# One real Prometheus per test session, for the `slo` tests (see tests/prometheus_server.py).
from tests.prometheus_server import prometheus  # noqa: E402, F401
