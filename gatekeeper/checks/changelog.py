"""``changelog``: the release updates the changelog, with an entry for its version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from gatekeeper.checks import Check, Problem
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
        "heading": {
            "type": "string",
            "pattern": r"\{version\}",
            "description": "A regular expression for a line that is the version's entry, with a "
            "{version} placeholder, e.g. '^Release {version}$' (default: Markdown and "
            "reStructuredText headings such as '## [1.2.3] - date', '## Version 1.2.3', "
            "'1.2.3 (date)' underlined with ~~~).",
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


_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_ADORNMENT = re.compile(r"^([=\-~^\"'`+*#:._])\1{2,}[ \t]*$")
_VERSION_HEADING = r"^(?:version[ \t]+|release[ \t]+)?\[?v?({version})\]?(?=$|[\s\](:,])"
_ANY_VERSION = r"\d+(?:\.\d+)+(?:[-+.]?[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Heading:
    """One heading of a changelog: its text and how it is marked up."""

    text: str
    marker: str
    """``##`` for a Markdown ATX heading, else the underline character (``~``, ``=``...)."""
    overline: bool = False

    def render(self, text: str) -> str:
        """``text`` as a heading in this one's format, for a remedy."""
        if self.marker.startswith("#"):
            return f"'{self.marker} {text}'"
        line = self.marker * len(text)
        over = f"'{line}' above and " if self.overline else ""
        return f"'{text}' with {over}'{line}' under it"


def headings(text: str) -> list[Heading]:
    """The headings of a Markdown or reStructuredText file, in order: ATX (``## x``),
    and underlined ones (Markdown setext, every reStructuredText section style)."""
    lines = text.splitlines()
    found: list[Heading] = []
    for i, line in enumerate(lines):
        atx = _ATX.match(line)
        if atx:
            found.append(Heading(atx.group(2), atx.group(1)))
            continue
        below = lines[i + 1] if i + 1 < len(lines) else ""
        under = _ADORNMENT.match(below)
        title = line.strip()
        if under and title and not _ADORNMENT.match(line) and not line[:1].isspace():
            over = i > 0 and lines[i - 1].strip() == below.strip()
            found.append(Heading(title, under.group(1), over))
    return found


def _entry_pattern(version: str, heading: str | None) -> re.Pattern[str]:
    if heading:  # replace, not str.format: the user's regex may hold {2,4} quantifiers
        return re.compile(heading.replace("{version}", re.escape(version)), re.MULTILINE)
    return re.compile(_VERSION_HEADING.format(version=re.escape(version)), re.IGNORECASE)


def find_entry(text: str, version: str, heading: str | None = None) -> str | None:
    """The heading (or, with ``heading``, the line) that is ``version``'s entry, if any."""
    pattern = _entry_pattern(version, heading)
    if heading:
        found = pattern.search(text)
        return found.group(0).strip() if found else None
    return next((h.text for h in headings(text) if pattern.search(h.text)), None)


def has_entry(text: str, version: str, heading: str | None = None) -> bool:
    """A heading for ``version``: ``## [1.2.3] - 2026-11-23``, ``## Version 1.2.3``,
    ``# 1.2.3 (date)``, ``1.2.3 - date`` underlined (reStructuredText)."""
    return find_entry(text, version, heading) is not None


def example_heading(text: str, path: str, version: str, today: str) -> str:
    """A heading for ``version`` in the format the file already uses for its versions."""
    any_version = re.compile(_VERSION_HEADING.format(version=_ANY_VERSION), re.IGNORECASE)
    for h in headings(text):
        m = any_version.search(h.text)
        if m:
            new = _DATE.sub(today, h.text.replace(m.group(1), version))
            return h.render(new)
    if PurePosixPath(path).suffix.lower() in (".rst", ".txt"):
        return Heading("", "~").render(f"{version} - {today}")
    return f"'## [{version}] - {today}'"


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    path = options["path"]
    git = ev.git
    touched = path in git.changed_paths
    version = options.get("version") or version_from_tags(git.head_tags)
    details: dict[str, Any] = {"path": path, "changed": touched, "version": version, "entry": None}
    details["heading"] = None
    if options["require_change"] and not touched:
        return Outcome.failed(
            f"{path} is not changed between {git.merge_base[:12]} and {git.head_sha[:12]}",
            f"add an entry for this release to {path}",
            **details,
        )
    if version is None:
        return Outcome.passed(f"{path} is changed (no version to look for)", **details)
    content = git.read(path)
    today = ev.now.date().isoformat()
    if content is None:
        return Outcome.failed(
            f"{path} does not exist at {git.head_sha[:12]}",
            f"create {path} with a heading {example_heading('', path, version, today)}",
            **details,
        )
    text = content.decode("utf-8", "replace")
    entry = find_entry(text, version, options.get("heading"))
    details["entry"] = entry is not None
    details["heading"] = entry
    if entry is None:
        if options.get("heading"):
            how = f"a line matching `heading` ({options['heading']}) for {version}"
        else:
            how = f"the heading {example_heading(text, path, version, today)}"
        return Outcome.failed(
            f"{path} has no entry for version {version}", f"add {how} to {path}", **details
        )
    what = "is changed and has" if touched else "has"
    return Outcome.passed(f"{path} {what} an entry for {version}", **details)


def _validate(options: dict[str, Any]) -> list[Problem]:
    heading = options.get("heading")
    if not heading:
        return []
    try:
        re.compile(heading.replace("{version}", "1.0"))
    except re.error as e:
        return [(("heading",), f"not a regular expression: {e}")]
    return []


CHECK = Check(
    name="changelog",
    title="The changelog is updated and has an entry for the released version",
    options=OPTIONS,
    evaluate=evaluate,
    description=(
        "Passes when the diff touches the changelog file and, when a version is known (option "
        "`version`, or a version tag on the head commit), the file at the head has a heading for "
        "it: Markdown or reStructuredText headings (`## [1.2.3] - date`, `## v1.2.3`, "
        "`## Version 1.2.3`, `## 1.2.3 (date)`, `1.2.3 - date` underlined with `~~~`), or a "
        "line matching the `heading` regex. The remedy shows a heading in the file's own format."
    ),
    example={"path": "CHANGELOG.md"},
    validate=_validate,
)

