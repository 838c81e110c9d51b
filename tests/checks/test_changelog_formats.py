"""changelog reads the changelogs people have (issue 9, item 9): Markdown and
reStructuredText headings, a custom `heading` regex, and remedies in the file's format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gatekeeper.checks import registry, with_defaults
from gatekeeper.checks.changelog import example_heading, find_entry, has_entry
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Outcome, Status
from tests.factories import RepoFactory, run_cli, write_policy

CHECK = registry()["changelog"]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)

# packaging's CHANGELOG.rst, as of 23.2 (abridged).
PACKAGING = """Changelog
---------

*unreleased*
~~~~~~~~~~~~

No unreleased changes.

23.2 - 2023-10-01
~~~~~~~~~~~~~~~~~

* Document calendar-based versioning scheme (:issue:`716`)

23.1 - 2023-04-12
~~~~~~~~~~~~~~~~~

* Parse raw metadata (:issue:`671`)
"""

# attrs' CHANGELOG.md headings link to the tag.
ATTRS = """# Changelog

<!-- towncrier release notes start -->

## [23.2.0](https://github.com/python-attrs/attrs/tree/23.2.0) - 2023-12-31

### Changes

- The type annotation for `attrs.resolve_types()` is now correct.
"""


@pytest.mark.parametrize(
    ("text", "version", "found"),
    [
        (PACKAGING, "23.2", "23.2 - 2023-10-01"),
        (PACKAGING, "23.1", "23.1 - 2023-04-12"),
        (PACKAGING, "23.3", None),
        (PACKAGING, "2023", None),
        (
            ATTRS,
            "23.2.0",
            "[23.2.0](https://github.com/python-attrs/attrs/tree/23.2.0) - 2023-12-31",
        ),
        ("## Version 1.2.3\n", "1.2.3", "Version 1.2.3"),
        ("## 1.2.3 (2023-10-01)\n", "1.2.3", "1.2.3 (2023-10-01)"),
        ("Version 1.2.3\n=============\n", "1.2.3", "Version 1.2.3"),  # Markdown setext
        ("=====\n1.2.3\n=====\n", "1.2.3", "1.2.3"),  # reStructuredText with an overline
        ("1.2.3 (2023-10-01)\n^^^^^^^^^^^^^^^^^^\n", "1.2.3", "1.2.3 (2023-10-01)"),
        ("Fixed the 1.2.3 regression.\n", "1.2.3", None),  # a sentence, not a heading
        ("1.2.3\nmore text\n", "1.2.3", None),  # no underline
        ("## Version 1.2.30\n", "1.2.3", None),
        ("1.2.3-rc.1\n~~~~~~~~~~\n", "1.2.3", None),
    ],
)
def test_entries_in_markdown_and_restructuredtext(
    text: str, version: str, found: str | None
) -> None:
    assert find_entry(text, version) == found
    assert has_entry(text, version) is (found is not None)


def test_a_custom_heading_regex() -> None:
    text = "Release notes\n\nRelease 2.0 (Nov 2026)\n  - faster\n"
    assert find_entry(text, "2.0", r"^Release {version} \(\w+ \d{4}\)$") == "Release 2.0 (Nov 2026)"
    assert find_entry(text, "2.0.1", r"^Release {version}\b") is None
    assert find_entry("Release 2x0\n", "2.0", r"^Release {version}$") is None  # '.' is literal


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        (PACKAGING, "CHANGELOG.rst", "'23.3 - 2026-11-25' with '~~~~~~~~~~~~~~~~~' under it"),
        (
            ATTRS,
            "CHANGELOG.md",
            "'## [23.3.0](https://github.com/python-attrs/attrs/tree/23.3.0) - 2026-11-25'",
        ),
        ("# Changes\n\n## Version 1.0\n", "CHANGES.md", "'## Version 23.3'"),
        ("", "CHANGES.rst", "'23.3 - 2026-11-25' with '~~~~~~~~~~~~~~~~~' under it"),
        ("# Changelog\n", "CHANGELOG.md", "'## [23.3] - 2026-11-25'"),
    ],
)
def test_the_remedy_heading_follows_the_files_format(text: str, path: str, expected: str) -> None:
    version = "23.3.0" if "attrs" in text else "23.3"
    assert example_heading(text, path, version, "2026-11-25") == expected


def judge(repo: RepoFactory, **options: Any) -> Outcome:
    ctx = RunContext(repo_path=repo.path, now=NOW, base="main")
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def test_a_packaging_style_release(repo: RepoFactory) -> None:
    repo.branch("release")
    repo.commit({"CHANGELOG.rst": PACKAGING})
    repo.tag("23.2")
    passed = judge(repo, path="CHANGELOG.rst")
    assert passed.status is Status.PASS, passed.summary
    assert passed.details["heading"] == "23.2 - 2023-10-01"
    repo.tag("v23.3")
    failed = judge(repo, path="CHANGELOG.rst")
    assert failed.status is Status.FAIL
    assert failed.summary == "CHANGELOG.rst has no entry for version 23.3"
    assert failed.remedy == (
        "add the heading '23.3 - 2026-11-25' with '~~~~~~~~~~~~~~~~~' under it to CHANGELOG.rst"
    )


def test_the_heading_option_in_a_run(repo: RepoFactory) -> None:
    repo.branch("release")
    repo.commit({"NEWS": "Release 2.0\n  - faster\n"})
    assert (
        judge(repo, path="NEWS", version="2.0", heading="^Release {version}$").status is Status.PASS
    )
    failed = judge(repo, path="NEWS", version="2.1", heading="^Release {version}$")
    assert failed.remedy == "add a line matching `heading` (^Release {version}$) for 2.1 to NEWS"


@pytest.mark.parametrize(
    ("heading", "problem"),
    [("^Release$", "does not match"), ("^Release ({version}$", "not a regular expression")],
)
def test_a_bad_heading_is_an_invalid_policy(tmp_path, heading: str, problem: str) -> None:
    rule = {"id": "c", "check": "changelog", "with": {"heading": heading}}
    result = run_cli("validate", str(write_policy(tmp_path / "p.yml", [rule])))
    assert result.exit_code == 2 and problem in result.stderr, result.stderr
