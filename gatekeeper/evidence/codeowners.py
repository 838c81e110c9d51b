"""CODEOWNERS as GitHub reads it: which users and teams own a changed path.

GitHub uses the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and ``docs/CODEOWNERS``
that exists, and the *last* matching line wins. Patterns follow gitignore rules with
GitHub's exceptions: no ``!`` negation and no ``[...]`` ranges (taken literally here);
a pattern matches the path itself or anything below it, except that a trailing ``/*``
segment (``docs/*``, ``/*``) matches only the files directly in that folder; a trailing
``/`` matches only what is below the folder. A line with a pattern and no owners makes
the path unowned. The file is read from the trusted base, like the policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


def translate(pattern: str) -> str:
    """The regular expression (unanchored at neither end: use fullmatch) for a pattern."""
    dir_only = pattern.endswith("/")
    body = pattern.rstrip("/") if pattern != "/" else ""
    anchored = "/" in body  # a leading or middle slash anchors to the root
    body = body.lstrip("/")
    segments = body.split("/")
    out: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            # "**/" matches zero or more folders; a trailing "/**" everything below.
            out.append(".+" if last else "(?:[^/]*/)*")
            continue
        out.append(_segment(segment) + ("" if last else "/"))
    regex = "".join(out)
    if not anchored:
        regex = "(?:[^/]*/)*" + regex
    if segments[-1] == "**":
        return regex
    if dir_only:
        return regex + "/.+"
    if anchored and segments[-1] == "*":
        return regex
    return regex + "(?:/.+)?"


def _segment(segment: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "\\" and i + 1 < len(segment):
            out.append(re.escape(segment[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    line: int

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(translate(self.pattern), re.DOTALL)

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


@dataclass(frozen=True)
class CodeOwners:
    path: str | None
    """Where the file was found (None: no CODEOWNERS)."""
    rules: tuple[Rule, ...]
    problems: tuple[str, ...] = ()
    """Lines GitHub would reject (e.g. ``!`` negation), as ``LINE: message``."""

    def rule_for(self, path: str) -> Rule | None:
        for rule in reversed(self.rules):
            if rule.matches(path):
                return rule
        return None

    def owners_of(self, path: str) -> tuple[str, ...]:
        rule = self.rule_for(path)
        return rule.owners if rule else ()


def parse(text: str, path: str | None = None) -> CodeOwners:
    rules: list[Rule] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = _split(line)
        pattern, owners = fields[0], []
        for owner in fields[1:]:
            if owner.startswith("#"):
                break  # a trailing comment
            owners.append(owner.lstrip("@").lower() if owner.startswith("@") else owner.lower())
        if pattern.startswith("!"):
            problems.append(f"{number}: negated pattern {pattern!r} is not supported by GitHub")
            continue
        rules.append(Rule(pattern, tuple(owners), number))
    return CodeOwners(path, tuple(rules), tuple(problems))


def _split(line: str) -> list[str]:
    """Whitespace-separated fields, where ``\\ `` keeps a space inside the pattern."""
    fields, current, i = [], "", 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == " ":
            current += "\\ "
            i += 2
            continue
        if c.isspace():
            if current:
                fields.append(current)
                current = ""
        else:
            current += c
        i += 1
    if current:
        fields.append(current)
    return fields


def load(ev: Evidence, ref: str | None = None) -> CodeOwners:
    """The repository's CODEOWNERS at ``ref`` (default: the trusted base), memoized."""

    def read() -> CodeOwners:
        at = ref or ev.git.base_sha
        for location in LOCATIONS:
            data = ev.git.read(location, ref=at)
            if data is not None:
                return parse(data.decode("utf-8", "replace"), location)
        return CodeOwners(None, ())

    return ev.cached(("codeowners", ref), read)
