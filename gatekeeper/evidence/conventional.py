"""Conventional Commits in the range under review: which commits claim a breaking change
or a feature.

The change's author writes these messages, and a breaking change must not be hideable, so
every line of every commit in merge-base..head is read, not only subjects:

- commits brought in by a merge are in the range like any other (``git log`` without
  ``--first-parent``), and the merge commit's own message is read too;
- a squashed commit lists the squashed subjects in its body (``* feat!: drop v1``);
- ``fixup!``/``squash!``/``amend!`` prefixes, list bullets, indentation, letter case and
  compatibility forms (full-width ``！`` and ``：``, NFKC) do not hide a marker.

This reads more than the specification's strict grammar: a false "breaking" asks for a
bigger version number; a missed one ships a breaking change as a patch.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gatekeeper.evidence.tasklist import one_line

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.git import Commit

BREAKING, FEATURE = "breaking", "feature"

_PREFIXES = r"(?:(?:fixup|squash|amend)!\s*)*"
_HEADER = re.compile(
    rf"^\s*(?:[-*+>]\s+)*{_PREFIXES}(?P<type>[A-Za-z][\w-]*)\s*(?:\([^()\n]*\))?\s*(?P<bang>!)?\s*:"
)
_FOOTER = re.compile(r"^\s*(?:[-*+>]\s+)*BREAKING[ _-]?CHANGES?\s*[:!]", re.IGNORECASE)


@dataclass(frozen=True)
class Marker:
    """One commit's claim: ``level`` (breaking or feature), the commit and the line saying so."""

    level: str
    sha: str
    line: str

    @property
    def short(self) -> str:
        return self.sha[:7]


def classify(message: str) -> tuple[str, str] | None:
    """(level, line) for the strongest claim in a commit message, or None."""
    text = unicodedata.normalize("NFKC", message)
    lines = [one_line(line) for line in text.splitlines()]
    feature = None
    for line in lines:
        if _FOOTER.match(line):
            return BREAKING, line
        m = _HEADER.match(line)
        if m and m.group("bang"):
            return BREAKING, line
        if m and feature is None and m.group("type").lower() == "feat":
            feature = line
    return (FEATURE, feature) if feature is not None else None


def markers(commits: list[Commit]) -> list[Marker]:
    """Every commit that claims a breaking change or a feature, oldest first."""
    found = []
    for commit in commits:
        claim = classify(commit.message)
        if claim is not None:
            found.append(Marker(claim[0], commit.sha, claim[1][:200]))
    return found


def in_range(ev: Evidence) -> list[Marker]:
    return ev.cached(("conventional", "markers"), lambda: markers(ev.git.commits))
