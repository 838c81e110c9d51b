"""Rollback evidence: the runbook (a file at the head, or the PR body's ``## Rollback``
section) and the previous release tag to roll back to.

Runbook text may come from the pull request, so it is read as a person would see it:
HTML comments and fenced code blocks hide nothing here (headings inside them do not
count), a heading with nothing under it is empty, and the work is line by line.
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
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
BACKUP = re.compile(r"\b(back[ -]?ups?|restore[sd]?|snapshots?|pg_dump|mysqldump|dump)\b", re.I)


@dataclass
class Section:
    title: str
    level: int
    lines: list[str] = field(default_factory=list)

    @property
    def has_content(self) -> bool:
        return any(line.strip() for line in self.lines)


def sections(text: str) -> list[Section]:
    """ATX-heading sections of Markdown, without comments and code-fence headings.

    Lines before the first heading form a section titled ``""`` at level 0. Lines inside
    code fences count as content but never as headings.
    """
    text = _COMMENT.sub("", text[:MAX_TEXT])
    out = [Section("", 0)]
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if m and (fence is None or (m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence))):
            fence = None if fence else m.group(1)
            out[-1].lines.append(line)
            continue
        h = None if fence else _HEADING.match(line)
        if h:
            out.append(Section((h.group(2) or "").strip(), len(h.group(1))))
        else:
            out[-1].lines.append(line)
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
    """The first line or heading naming a backup/restore step, outside code fences."""
    for s in part:
        if BACKUP.search(s.title):
            return s.title
        fence = False
        for line in s.lines:
            if _FENCE.match(line):
                fence = not fence
                continue
            if not fence and BACKUP.search(line):
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
