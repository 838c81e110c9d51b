"""``changelog``: the release updates the changelog, with an entry for its version."""

from __future__ import annotations

import re
from typing import Any

from gatekeeper.checks import Check
from gatekeeper.evidence import Evidence
from gatekeeper.model import Outcome

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "path": {"type": "string", "default": "CHANGELOG.md", "description": "The changelog file."},
        "version": {
            "type": "string",
            "description": "Version that must have an entry; default: a version tag on the head "
            "(v1.2.3 or 1.2.3), if any.",
        },
        "require_change": {
            "type": "boolean",
            "default": True,
            "description": "The diff must touch the changelog file.",
        },
    },
}

_VERSION_TAG = re.compile(r"^v?(\d+(?:\.\d+)+(?:[-+.][0-9A-Za-z.+-]+)?)$")


def version_from_tags(tags: list[str]) -> str | None:
    """The highest-looking version among tags like ``v1.2.3`` (others are ignored)."""
    versions = [m.group(1) for t in tags if (m := _VERSION_TAG.match(t))]
    return (
        max(versions, key=lambda v: [int(p) if p.isdigit() else -1 for p in re.split(r"[.+-]", v)])
        if versions
        else None
    )


def has_entry(text: str, version: str) -> bool:
    """A heading for ``version``: ``## [1.2.3] - 2026-11-23``, ``## v1.2.3``, ``# 1.2.3 (date)``."""
    pattern = re.compile(rf"^#+\s*\[?v?{re.escape(version)}\]?(?=\s|$|\])", re.MULTILINE)
    return pattern.search(text) is not None


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    path = options["path"]
    git = ev.git
    touched = path in git.changed_paths
    version = options.get("version") or version_from_tags(git.head_tags)
    details: dict[str, Any] = {"path": path, "changed": touched, "version": version, "entry": None}
    if options["require_change"] and not touched:
        return Outcome.failed(
            f"{path} is not changed between {git.merge_base[:12]} and {git.head_sha[:12]}",
            f"add an entry for this release to {path}",
            **details,
        )
    if version is None:
        return Outcome.passed(f"{path} is changed (no version to look for)", **details)
    content = git.read(path)
    if content is None:
        return Outcome.failed(
            f"{path} does not exist at {git.head_sha[:12]}",
            f"create {path} with a section '## [{version}]'",
            **details,
        )
    found = has_entry(content.decode("utf-8", "replace"), version)
    details["entry"] = found
    if not found:
        return Outcome.failed(
            f"{path} has no entry for version {version}",
            f"add a heading '## [{version}] - YYYY-MM-DD' to {path}",
            **details,
        )
    what = "is changed and has" if touched else "has"
    return Outcome.passed(f"{path} {what} an entry for {version}", **details)


CHECK = Check(
    name="changelog",
    title="The changelog is updated and has an entry for the released version",
    options=OPTIONS,
    evaluate=evaluate,
    description=(
        "Passes when the diff touches the changelog file and, when a version is known (option "
        "`version`, or a version tag on the head commit), the file at the head has a heading for "
        "it (Keep a Changelog style `## [1.2.3]`, or `## v1.2.3`)."
    ),
    example={"path": "CHANGELOG.md"},
)
