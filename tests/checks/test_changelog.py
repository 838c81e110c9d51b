from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gatekeeper.checks import registry, with_defaults
from gatekeeper.checks.changelog import has_entry, version_from_tags
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Outcome, Status
from tests.factories import RepoFactory

CHECK = registry()["changelog"]


def judge(repo: RepoFactory, **options: Any) -> Outcome:
    ctx = RunContext(repo_path=repo.path, now=datetime.now(UTC), base="main")
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


@pytest.fixture
def release(repo: RepoFactory) -> RepoFactory:
    repo.commit({"CHANGELOG.md": "# Changelog\n\n## [1.0.0] - 2026-01-01\n- First.\n"}, "1.0.0")
    repo.branch("release")
    repo.commit({"src/app.py": "x = 1\n"}, "feature")
    return repo


def test_untouched_changelog_fails(release: RepoFactory) -> None:
    out = judge(release)
    assert out.status is Status.FAIL
    assert "CHANGELOG.md is not changed" in out.summary
    assert out.details["changed"] is False


def test_touched_changelog_passes_without_a_version(release: RepoFactory) -> None:
    release.commit({"CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n- More.\n\n## [1.0.0]\n"})
    out = judge(release)
    assert out.status is Status.PASS and out.details["version"] is None


def test_version_tag_on_head_needs_an_entry(release: RepoFactory) -> None:
    release.commit({"CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n- More.\n\n## [1.0.0]\n"})
    release.tag("v1.1.0")
    out = judge(release)
    assert out.status is Status.FAIL
    assert out.summary == "CHANGELOG.md has no entry for version 1.1.0"
    release.commit(
        {"CHANGELOG.md": "# Changelog\n\n## [1.1.0] - 2026-11-23\n- More.\n\n## [1.0.0]\n"}
    )
    release.tag("v1.1.0-final")
    assert judge(release, version="1.1.0").status is Status.PASS


def test_custom_path_and_missing_file(release: RepoFactory) -> None:
    out = judge(release, path="docs/CHANGES.md", version="1.1.0", require_change=False)
    assert out.status is Status.FAIL and "does not exist" in out.summary


def test_renamed_changelog_counts_as_changed(release: RepoFactory) -> None:
    release.commit(
        {"CHANGELOG.md": None, "HISTORY.md": "# Changelog\n\n## [1.0.0] - 2026-01-01\n- First.\n"}
    )
    assert judge(release, path="HISTORY.md").status is Status.PASS


@pytest.mark.parametrize(
    ("text", "version", "found"),
    [
        ("## [1.2.3] - 2026-11-23\n", "1.2.3", True),
        ("## v1.2.3\n", "1.2.3", True),
        ("# 1.2.3 (2026-11-23)\n", "1.2.3", True),
        ("## [1.2.30] - 2026-11-23\n", "1.2.3", False),
        ("- fixed 1.2.3 regression\n", "1.2.3", False),
        ("## [1.2.3-rc.1]\n", "1.2.3", False),
    ],
)
def test_has_entry(text: str, version: str, found: bool) -> None:
    assert has_entry(text, version) is found


def test_version_from_tags_picks_the_highest_version() -> None:
    assert version_from_tags(["v1.9.0", "v1.10.0", "latest"]) == "1.10.0"
    assert version_from_tags(["latest", "deploy-2026"]) is None
