"""Rollback evidence: the runbook (a file at the head, or the PR body's ``## Rollback``
section) and the previous release tag to roll back to.

Runbook text may come from the pull request, so it is read as a person sees it rendered
(CommonMark): headings inside HTML comments or code blocks do not count, and a heading with
nothing under it is empty.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gatekeeper.evidence import github as gh

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

MAX_TEXT = 1_000_000
BACKUP = re.compile(r"\b(back[ -]?ups?|restore[sd]?|snapshots?|pg_dump|mysqldump|dump)\b", re.I)
_TEXT_TOKENS = {"inline", "fence", "code_block"}


@dataclass
class Section:
    title: str
    level: int
    lines: list[str] = field(default_factory=list)
    """The text under the heading (paragraphs, list items, code), not its subsections."""

    @property
    def has_content(self) -> bool:
        return any(line.strip() for line in self.lines)


def sections(text: str) -> list[Section]:
    """The sections of Markdown as CommonMark renders it (markdown-it-py, as ``checklist``
    reads PR text): a heading inside a code block or an HTML comment is not a heading, and
    an HTML block (a comment) is not content. Text before the first heading is a section
    titled ``""`` at level 0."""
    from gatekeeper.evidence.tasklist import markdown_parser, one_line

    tokens = markdown_parser().parse(text[:MAX_TEXT])
    out = [Section("", 0)]
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            title = one_line(tokens[i + 1].content) if i + 1 < len(tokens) else ""
            out.append(Section(title, int(token.tag[1])))
        elif token.type in _TEXT_TOKENS and not (i and tokens[i - 1].type == "heading_open"):
            out[-1].lines.extend(token.content.splitlines())
    return out


def scope(all_sections: list[Section], title: str) -> list[Section] | None:
    """The section titled ``title`` and its subsections, or None if absent."""
    for i, s in enumerate(all_sections):
        if s.title.lower().rstrip(":") == title.lower():
            end = next(
                (j for j in range(i + 1, len(all_sections)) if all_sections[j].level <= s.level),
                len(all_sections),
            )
            return all_sections[i:end]
    return None


def missing_sections(part: list[Section], required: list[str]) -> list[str]:
    """Required headings that are absent or have nothing under them."""
    missing = []
    for name in required:
        want = name.lower()
        found = [s for s in part[1:] if s.title.lower().rstrip(":").startswith(want)]
        if not any(_filled(part, s) for s in found):
            missing.append(name)
    return missing


def _filled(part: list[Section], section: Section) -> bool:
    """A heading has content if it, or a subsection below it, has a non-blank line."""
    i = part.index(section)
    for s in part[i:]:
        if s is not section and s.level <= section.level:
            return False
        if s.has_content:
            return True
    return False


def backup_step(part: list[Section]) -> str | None:
    """The first heading or line naming a backup/restore step (commands in code count)."""
    for s in part:
        if BACKUP.search(s.title):
            return s.title
        for line in s.lines:
            if BACKUP.search(line):
                return line.strip()[:120]
    return None


@dataclass(frozen=True)
class Runbook:
    source: str
    """The path, or ``pr_body``."""
    text: str | None
    """None: the file (or PR body) does not exist."""


def runbook(ev: Evidence, source: str) -> Runbook:
    def read() -> Runbook:
        if source == "pr_body":
            body = gh.pull_request(ev).get("body")
            return Runbook(source, body if isinstance(body, str) else None)
        if not ev.ctx.base:
            # After the deploy (`gatekeeper verify`): no diff, the checkout is the release.
            path = ev.resolve_path(source)
            data = path.read_bytes() if path.is_file() else None
        else:
            data = ev.git.read(source)
        return Runbook(source, data.decode("utf-8", "replace") if data is not None else None)

    return ev.cached(("rollback", "runbook", source), read)


def previous_release(ev: Evidence, pattern: str) -> tuple[str, str] | None:
    """The highest tag (version order) matching ``pattern`` reachable from the base
    commit, and its commit; a tag on the base itself counts (it is what runs now).

    Read from the base (never the PR's head): the PR cannot make a release appear. After
    a deploy (no base) it is the release before the deployed commit, as ``verify`` names it.
    """
    if not ev.ctx.base:
        from gatekeeper.evidence import releases

        head = str(ev.ctx.options.get("sha") or ev.ctx.head)
        name = releases.previous_release(ev.repo_path, head, pattern)
        return (name, releases.resolve(ev.repo_path, name) or "") if name else None


    def read() -> tuple[str, str] | None:
        git = ev.git
        out = git.git(
            "for-each-ref",
            f"--merged={git.base_sha}",
            "--sort=-v:refname",
            "--format=%(refname:strip=2)%00%(*objectname)%00%(objectname)",
            "refs/tags",
        ).decode("utf-8", "replace")
        for line in out.splitlines():
            name, peeled, obj = [*line.split("\0"), "", ""][:3]
            if fnmatch.fnmatchcase(name, pattern):
                return name, peeled or obj
        return None

    return ev.cached(("rollback", "previous_release", pattern), read)
