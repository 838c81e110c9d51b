"""``version-bump``: the release's version goes up, by as much as the change needs.

The head's version (from version files or a version tag) is compared with the merge
base's. A breaking change (a destructive migration or breaking API change from the
schema-change evidence, or a Conventional Commit ``feat!:`` / ``BREAKING CHANGE:``) needs
a major bump, a ``feat:`` a minor one; before 1.0.0 a breaking change needs a minor bump
(SemVer's 0.x rule). Any change needs a higher version than the base.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gatekeeper.checks import Check
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import conventional, versions
from gatekeeper.evidence.conventional import BREAKING, FEATURE
from gatekeeper.evidence.versions import Version, VersionError
from gatekeeper.model import Outcome

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

SCHEMA, COMMITS, BOTH = "schema-change", "conventional-commits", "both"

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "files": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "description": "Where the version lives: pyproject.toml ([project].version), "
            "package.json, Cargo.toml ([package].version) or a Python file (__version__); "
            "default: those of the first three at the root.",
        },
        "tag": {
            "type": "boolean",
            "default": False,
            "description": "Use the head's version tag (v1.2.3) instead of files; the base "
            "version is the highest version tag at or before the merge base.",
        },
        "breaking": {
            "enum": [SCHEMA, COMMITS, BOTH],
            "default": BOTH,
            "description": "What finds a breaking change: destructive schema changes, "
            "Conventional Commits (feat!:, BREAKING CHANGE:), or both.",
        },
        "scheme": {
            "enum": ["auto", "semver", "pep440"],
            "default": "auto",
            "description": "How versions are read: auto (PEP 440 for pyproject.toml and Python "
            "files, SemVer for package.json, Cargo.toml and tags), semver or pep440.",
        },
    },
}


@dataclass(frozen=True)
class Reason:
    """Why the release needs at least a ``level`` bump, in words naming the evidence."""

    level: str
    what: str
    ref: str | None = None
    """The commit (short SHA) or file that says so."""

    def describe(self) -> str:
        return f"{self.what} in {self.ref}" if self.ref else self.what


# -- what the change needs -------------------------------------------------------------


def _reasons(options: dict[str, Any], ev: Evidence) -> list[Reason]:
    reasons: list[Reason] = []
    if options["breaking"] in (SCHEMA, BOTH):
        reasons += _schema_reasons(ev)
    if options["breaking"] in (COMMITS, BOTH):
        reasons += [Reason(m.level, m.line, m.short) for m in conventional.in_range(ev)]
    return reasons


def _schema_reasons(ev: Evidence) -> list[Reason]:
    """Destructive schema changes, from the schema-change evidence. When that evidence
    cannot be read the rule errors: a breaking change must never pass unseen."""
    try:
        # Imported by name: the schema-change evidence is another module's contract
        # (SchemaChange, schema_changes), and this rule must load without it.
        schema_changes = importlib.import_module("gatekeeper.evidence.schema").schema_changes
    except (ImportError, AttributeError) as e:
        raise EvidenceError(
            "`breaking: schema-change` needs the schema-change evidence "
            f"(gatekeeper.evidence.schema), which cannot be loaded: {e}",
            "use a Gatekeeper with schema-change evidence, or set `breaking: "
            "conventional-commits` if schema changes are not to be judged",
        ) from None
    changes = schema_changes(ev)
    return [
        Reason(
            BREAKING,
            f"destructive {c.kind} change" + (f" ({'; '.join(c.reasons)})" if c.reasons else ""),
            c.path,
        )
        for c in changes
        if c.destructive
    ]


def required(base: Version, level: str) -> tuple[int, int, int] | None:
    """The smallest release (major, minor, patch) that a ``level`` change allows after
    ``base``; None when any higher version will do. Before 1.0.0 a breaking change needs
    only a minor bump. A pre-release base (2.0.0-rc.1) already is the bump it leads to."""
    if level not in (BREAKING, FEATURE):
        return None
    major, minor, patch = base.release
    if level == BREAKING and major > 0:
        already = base.prerelease and minor == 0 and patch == 0
        return (major, 0, 0) if already else (major + 1, 0, 0)
    already = base.prerelease and patch == 0
    return (major, minor, 0) if already else (major, minor + 1, 0)


# -- the versions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Versions:
    base: Version | None
    head: Version
    where: str
    """Where the head's version comes from, for messages."""
    files: list[dict[str, Any]]


class Failed(Exception):
    """A failing verdict found while reading the versions (not an evidence error)."""

    def __init__(self, summary: str, remedy: str) -> None:
        super().__init__(summary)
        self.summary, self.remedy = summary, remedy


def _scheme(options: dict[str, Any], path: str | None) -> str:
    if options["scheme"] != "auto":
        return str(options["scheme"])
    return versions.scheme_of(path) if path else "semver"


def _parse(text: str, scheme: str, where: str) -> Version:
    try:
        return versions.parse(text, scheme)
    except VersionError as e:
        raise Failed(
            f"{where}: {e}",
            "write a valid version "
            + (
                "(PEP 440, normalized: 1.2.0, 1.2.0rc1)"
                if scheme == "pep440"
                else "(SemVer: MAJOR.MINOR.PATCH, e.g. 1.2.0 or 2.0.0-rc.1)"
            ),
        ) from None


def _from_tags(options: dict[str, Any], ev: Evidence) -> Versions:
    scheme = _scheme(options, None)
    heads = [v for t in versions.head_tags(ev) if (v := versions.tag_version(t, scheme))]
    if not heads:
        raise Failed(
            f"the head {ev.git.head_sha[:12]} has no version tag",
            "tag the release commit (git tag v1.2.3) before the gate runs",
        )
    bases = [v for t in versions.base_tags(ev) if (v := versions.tag_version(t, scheme))]
    head = max(heads, key=lambda v: v.key)
    base = max(bases, key=lambda v: v.key) if bases else None
    return Versions(base, head, f"tag {head.text}", [])


def _from_files(options: dict[str, Any], ev: Evidence) -> Versions:
    paths = options.get("files") or versions.detect(ev)
    if not paths:
        raise EvidenceError(
            "no version file at the root (pyproject.toml, package.json, Cargo.toml)",
            "name the file that holds the version in the rule's `files`, or use `tag: true`",
        )
    files, heads, bases = [], [], []
    for path in paths:
        head, base = _file_versions(path, options, ev, explicit=bool(options.get("files")))
        if head is None and base is None:
            continue
        if head is None:
            raise Failed(
                f"{path} states the version at the merge base but not at the head",
                f"keep the version in {path}, or name the new file in `files`",
            )
        files.append({"path": path, "base": base and base.text, "head": head.text})
        heads.append((path, head))
        if base is not None:
            bases.append(base)
    if not heads:
        raise EvidenceError(
            f"no version in {', '.join(paths)}",
            "name the file that holds the version in the rule's `files`, or use `tag: true`",
        )
    texts = {v.text for _, v in heads}
    if len(texts) > 1:
        listed = ", ".join(f"{p} {v.text}" for p, v in heads)
        raise Failed(f"the version files disagree: {listed}", "write the same version in each")
    # Files that disagreed at the base: the release must pass the highest of them.
    base = max(bases, key=lambda v: v.key) if bases else None
    return Versions(base, heads[0][1], " and ".join(p for p, _ in heads), files)


def _file_versions(
    path: str, options: dict[str, Any], ev: Evidence, explicit: bool
) -> tuple[Version | None, Version | None]:
    scheme = _scheme(options, path)
    out: list[Version | None] = []
    for at_base in (False, True):
        try:
            found = versions.read_version(ev, path, base=at_base)
        except versions.NoVersion:
            # A detected pyproject.toml with a dynamic version says nothing; a file the
            # policy names must hold the version.
            if explicit and not at_base:
                raise
            found = None
        if found is None and explicit and not at_base:
            raise Failed(f"{path} does not exist at the head", f"fix `files` or add {path}")
        where = f"{path} ({'merge base' if at_base else 'head'})"
        out.append(_parse(found.text, scheme, where) if found else None)
    return out[0], out[1]


# -- the verdict --------------------------------------------------------------------------


def _fmt(release: tuple[int, int, int]) -> str:
    return ".".join(map(str, release))


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    try:
        found = _from_tags(options, ev) if options["tag"] else _from_files(options, ev)
    except Failed as f:
        return Outcome.failed(f.summary, f.remedy, version=None, base_version=None)
    reasons = _reasons(options, ev)
    head, base = found.head, found.base
    details: dict[str, Any] = {
        "version": head.text,
        "base_version": base.text if base else None,
        "source": found.where,
        "files": found.files,
        "required": None,
        "level": None,
        "reasons": [{"level": r.level, "what": r.what, "ref": r.ref} for r in reasons],
        "zero_major": bool(base and base.release[0] == 0),
    }
    if base is None:
        return Outcome.passed(
            f"{found.where}: {head.text}, no version at the merge base (a first release)", **details
        )
    return _judge(base, head, reasons, found, details)


def _judge(
    base: Version, head: Version, reasons: list[Reason], found: Versions, details: dict[str, Any]
) -> Outcome:
    if head.epoch != base.epoch:
        return Outcome.failed(
            f"{found.where}: the PEP 440 epoch changed ({base.text} -> {head.text})",
            "keep the epoch and bump the release number",
            **details,
        )
    if head.key == base.key:
        return Outcome.failed(
            f"{found.where}: version {head.text} is unchanged since the merge base",
            f"bump the version above {base.text}",
            **details,
        )
    if head.key < base.key:
        return Outcome.failed(
            f"{found.where}: version goes backwards ({base.text} -> {head.text})",
            f"set a version above {base.text}",
            **details,
        )
    level = (
        BREAKING if any(r.level == BREAKING for r in reasons) else (FEATURE if reasons else None)
    )
    need = required(base, level) if level else None
    zero_breaking = level == BREAKING and base.release[0] == 0
    details["level"] = (
        "minor" if level == FEATURE or zero_breaking else ("major" if level == BREAKING else None)
    )
    details["required"] = _fmt(need) if need else None
    zero = " (0.x: a breaking change needs a minor bump)" if zero_breaking else ""
    if need is not None and head.release < need:
        why = [r for r in reasons if r.level == level]
        more = f" (and {len(why) - 1} more)" if len(why) > 1 else ""
        return Outcome.failed(
            f"{why[0].describe()}{more} needs {_fmt(need)}, got {head.text}{zero}",
            f"bump the version to {_fmt(need)} or higher (from {base.text})",
            **details,
        )
    kind = {BREAKING: "breaking change", FEATURE: "feature"}.get(level or "", "change")
    return Outcome.passed(
        f"{found.where}: {base.text} -> {head.text}, enough for a {kind}{zero}", **details
    )


CHECK = Check(
    name="version-bump",
    title="The version is bumped, by as much as the change needs (SemVer)",
    options=OPTIONS,
    evaluate=evaluate,
    description=(
        "Compares the version at the head (version files or a version tag) with the merge "
        "base's. Fails when it is unchanged, goes backwards, is not valid SemVer/PEP 440, or "
        "is smaller than required: a breaking change (destructive schema change, `feat!:` or "
        "`BREAKING CHANGE:` in any commit of the range) needs a major bump (a minor one before "
        "1.0.0), a `feat:` a minor one. The failure names the commit or file."
    ),
    example={"files": ["pyproject.toml"], "breaking": "conventional-commits"},
)
