"""``rollback-plan``: a release that changes a schema has a way back.

Every new migration has a working reverse (Alembic ``downgrade()``, Django reverses, a
Flyway undo file, a Liquibase rollback); raw forward-only SQL fails unless ``forward_only:
allow``. A runbook (a file at the head, or the PR body's ``## Rollback`` section) exists and
has the ``sections`` headings with content; a release tag reachable from the base exists to
roll back to; a destructive change needs a backup/restore step in the runbook.
"""

from __future__ import annotations

from typing import Any

from gatekeeper.checks import Check
from gatekeeper.evidence import Evidence
from gatekeeper.evidence import rollback as rb
from gatekeeper.evidence.schema import SELECTION_OPTIONS, SchemaChange, schema_changes
from gatekeeper.model import Outcome

_MIGRATIONS = {"django", "alembic", "sql", "flyway", "liquibase"}
_RAW_SQL = {"sql", "flyway"}

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "reversible_migrations": {
            "type": "boolean",
            "default": True,
            "description": "Every new migration has a working reverse.",
        },
        "forward_only": {
            "enum": ["allow", "fail"],
            "default": "fail",
            "description": "allow: raw SQL without a down/undo file does not fail.",
        },
        "runbook": {
            "type": "string",
            "minLength": 1,
            "description": "A runbook path at the head (e.g. docs/rollback.md), or pr_body "
            "for the pull request's '## Rollback' section.",
        },
        "sections": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": ["Steps", "Verification"],
            "description": "Headings the runbook must have, each with content.",
        },
        "previous_release": {
            "anyOf": [{"type": "string", "minLength": 1}, {"const": False}],
            "default": "v*",
            "description": "Glob of release tags; one reachable from the base must exist "
            "(false: do not ask).",
        },
        "destructive_requires_backup": {
            "type": "boolean",
            "default": True,
            "description": "A destructive change needs a backup/restore step in the runbook.",
        },
        **SELECTION_OPTIONS,
    },
}


def _irreversible(changes: list[SchemaChange], options: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for c in changes:
        if c.kind not in _MIGRATIONS or c.status == "deleted":
            continue
        if not c.parsed:
            out.append({"path": c.path, "why": "cannot be read: " + "; ".join(c.reasons)})
        elif c.reversible is False and options["reversible_migrations"]:
            if c.kind in _RAW_SQL and options["forward_only"] == "allow":
                continue
            out.append({"path": c.path, "why": "; ".join(c.reverse_reasons) or "no reverse"})
    return out


def _runbook(
    ev: Evidence, options: dict[str, Any], destructive: bool
) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    source = options.get("runbook")
    needs_backup = destructive and options["destructive_requires_backup"]
    if not source:
        if needs_backup:
            return None, ["a destructive change but no runbook to name a backup step"], [
                "set `runbook` (a path or pr_body) and describe the backup and restore"
            ]
        return None, [], []
    book = rb.runbook(ev, source)
    where = "the PR body" if source == "pr_body" else source
    info: dict[str, Any] = {"source": source, "exists": book.text is not None,
                            "missing_sections": [], "backup_step": None}  # fmt: skip
    if book.text is None or not book.text.strip():
        what = "is empty" if book.text is not None else "does not exist"
        fix = ("add a '## Rollback' section to the PR description" if source == "pr_body"
               else f"write {source}")  # fmt: skip
        return info, [f"runbook {where} {what}"], [f"{fix} with {', '.join(options['sections'])}"]
    parts = rb.sections(book.text)
    if source == "pr_body":
        part = rb.scope(parts, "Rollback")
        if part is None:
            info["exists"] = False
            return info, ["the PR body has no '## Rollback' section"], [
                f"add '## Rollback' with {', '.join(options['sections'])} to the PR description"
            ]
    else:
        part = parts
    problems, remedies = [], []
    info["missing_sections"] = missing = rb.missing_sections(part, options["sections"])
    if missing:
        problems.append(f"runbook {where} lacks section(s) with content: {', '.join(missing)}")
        remedies.append(f"add headings {', '.join(missing)} with their steps to {where}")
    info["backup_step"] = step = rb.backup_step(part)
    if needs_backup and step is None:
        problems.append(f"a destructive change but runbook {where} names no backup/restore step")
        remedies.append(f"add a backup and restore step to {where}")
    return info, problems, remedies


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    if not ev.ctx.base:
        return _after_deploy(options, ev)
    changes = schema_changes(ev, options.get("kinds"), options["exclude"], options.get("paths"))
    details: dict[str, Any] = {"irreversible": [], "previous_release": None, "runbook": None}
    if not changes:
        return Outcome.passed("no schema changes: nothing to roll back", **details)
    problems: list[str] = []
    remedies: list[str] = []
    details["irreversible"] = irreversible = _irreversible(changes, options)
    if irreversible:
        shown = "; ".join(f"{i['path']} ({i['why']})" for i in irreversible[:5])
        problems.append(f"{len(irreversible)} migration(s) without a working reverse: {shown}")
        remedies.append(
            "write the reverse (downgrade(), reverse_code/reverse_sql, a Flyway U file, a "
            "Liquibase rollback)"
            + ("" if options["forward_only"] == "allow" else " or set forward_only: allow for raw SQL")
        )
    tag = None
    if options["previous_release"] is not False:
        found = rb.previous_release(ev, options["previous_release"])
        if found:
            tag = found[0]
            details["previous_release"] = {"tag": found[0], "commit": found[1]}
        else:
            problems.append(f"no release tag matching {options['previous_release']!r} "
                            "reachable from the base to roll back to")  # fmt: skip
            remedies.append("tag the release currently in production (e.g. `git tag v1.2.3`)")
    destructive = any(c.destructive for c in changes)
    info, more, fixes = _runbook(ev, options, destructive)
    details["runbook"] = info
    problems += more
    remedies += fixes
    if problems:
        return Outcome.failed("; ".join(problems), _sentence("; ".join(remedies)), **details)
    parts = [f"{len(changes)} schema change(s) reversible"]
    if tag:
        parts.append(f"previous release {tag}")
    if info:
        parts.append(f"runbook {'PR body' if info['source'] == 'pr_body' else info['source']}")
    return Outcome.passed("; ".join(parts), **details)


def _after_deploy(options: dict[str, Any], ev: Evidence) -> Outcome:
    """``gatekeeper verify`` (no base, no diff): the migrations were judged before the
    deploy; what can still be judged is the way back: the release before the deployed
    commit and the runbook in the deployed checkout."""
    details: dict[str, Any] = {"irreversible": None, "previous_release": None, "runbook": None}
    problems, remedies, parts = [], [], ["after the deploy: migrations not judged (no diff)"]
    if options["previous_release"] is not False:
        found = rb.previous_release(ev, options["previous_release"])
        if found:
            details["previous_release"] = {"tag": found[0], "commit": found[1]}
            parts.append(f"previous release {found[0]}")
        else:
            problems.append(f"no release tag matching {options['previous_release']!r} before "
                            "the deployed commit to roll back to")  # fmt: skip
            remedies.append("tag each release (e.g. `git tag v1.2.3`) so there is one to go back to")
    if options.get("runbook") and options["runbook"] != "pr_body":
        info, more, fixes = _runbook(ev, options, destructive=False)
        details["runbook"] = info
        problems += more
        remedies += fixes
        parts.append(f"runbook {options['runbook']}")
    if problems:
        return Outcome.failed("; ".join(problems), _sentence("; ".join(remedies)), **details)
    return Outcome.passed("; ".join(parts), **details)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


CHECK = Check(
    name="rollback-plan",
    title="A schema-changing release has reversible migrations, a runbook and a release to "
    "roll back to",
    options=OPTIONS,
    evaluate=evaluate,
    example={"runbook": "pr_body", "sections": ["Steps", "Verification"], "previous_release": "v*"},
    description=(
        "When the diff changes a schema: every new migration has a working reverse (Alembic "
        "downgrade() that does more than pass, Django reverse_code/reverse_sql, a Flyway U "
        "file, a Liquibase rollback; raw forward-only SQL fails unless `forward_only: allow`); "
        "the runbook (`runbook`: a path, or `pr_body` for the PR's '## Rollback' section) "
        "exists with each of `sections` as a heading with content; a tag matching "
        "`previous_release` is reachable from the base (the summary names it); a destructive "
        "change needs a backup/restore step in the runbook."
    ),
)
