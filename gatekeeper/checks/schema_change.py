"""``schema-change``: database migrations and API schema changes are signed off.

Schema changes come from ``evidence.schema`` (Django, Alembic, raw SQL, Flyway, Liquibase,
Prisma, OpenAPI). With ``require_signoff: destructive`` (default) a destructive migration, a
breaking API change or a file that cannot be read needs a sign-off; with ``any`` every
schema change does. A sign-off is a commit trailer from a listed signer or an approving
review on the head commit by a listed user or team member (``evidence.signoff``). A
released migration that is modified, deleted or renamed fails unless ``allow_modified``.
"""

from __future__ import annotations

from typing import Any

from gatekeeper.checks import Check, Problem
from gatekeeper.evidence import Evidence
from gatekeeper.evidence import signoff as so
from gatekeeper.evidence.schema import SELECTION_OPTIONS, SchemaChange, schema_changes
from gatekeeper.model import Annotation, Outcome

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "require_signoff": {
            "enum": ["destructive", "any", "none"],
            "default": "destructive",
            "description": "Which schema changes need a sign-off.",
        },
        "signers": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": [],
            "description": "E-mails, GitHub logins or org/team slugs whose sign-off counts.",
        },
        "trailer": {
            "type": "string",
            "pattern": so.TRAILER_NAME,
            "default": "Schema-Approved-By",
            "description": "The commit trailer that carries a sign-off (Name <email>).",
        },
        "via": {
            "type": "array",
            "items": {"enum": ["trailer", "review"]},
            "minItems": 1,
            "uniqueItems": True,
            "default": ["trailer", "review"],
            "description": "Where sign-offs may come from (trailers are unauthenticated "
            "git text: use [review] where contributors are not trusted).",
        },
        **SELECTION_OPTIONS,
        "allow_modified": {
            "type": "boolean",
            "default": False,
            "description": "Allow released migrations (on the base) to be modified or deleted.",
        },
    },
}


def validate(options: dict[str, Any]) -> list[Problem]:
    if options.get("require_signoff", "destructive") != "none" and not options.get("signers"):
        return [(("signers",), "require_signoff needs at least one signer")]
    return []


def _needs(change: SchemaChange, mode: str) -> bool:
    if mode == "none":
        return False
    return mode == "any" or change.destructive or not change.parsed


def _describe(change: SchemaChange, limit: int = 3) -> str:
    ops = [op for op in change.operations if op != "unparsable"] or list(change.reasons[:1])
    shown = "; ".join(ops[:limit]) + (f" and {len(ops) - limit} more" if len(ops) > limit else "")
    return f"{change.path} ({shown})" if shown else change.path


def _signoffs(
    ev: Evidence, options: dict[str, Any], paths: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    signers, via = options["signers"], options["via"]
    found: list[dict[str, Any]] = []
    ignored: list[str] = []
    if "trailer" in via:
        found, ignored = so.by_trailer(ev, options["trailer"], signers, paths)
    if not found and "review" in via:
        found = so.by_review(ev, signers)
    return found, ignored


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    changes = schema_changes(ev, options.get("kinds"), options["exclude"], options.get("paths"))
    mode = options["require_signoff"]
    needing = [c for c in changes if _needs(c, mode)]
    released = [c for c in changes if c.released] if not options["allow_modified"] else []
    details: dict[str, Any] = {
        "changes": [c.to_json() for c in changes],
        "signoffs": [],
        "unsigned": [],
    }
    if not changes:
        return Outcome.passed("no schema changes in the diff", **details)
    problems, remedies = [], []
    if needing:
        paths = {p for c in needing for p in (c.path, c.old_path) if p}
        found, ignored = _signoffs(ev, options, paths)
        details["signoffs"] = found
        if ignored:
            details["ignored_signoffs"] = ignored
        if not found:
            details["unsigned"] = [c.path for c in needing]
            what = "destructive " if mode == "destructive" else ""
            shown = "; ".join(_describe(c) for c in needing[:5])
            more = f" and {len(needing) - 5} more" if len(needing) > 5 else ""
            problems.append(f"{len(needing)} {what}schema change(s) without sign-off: {shown}{more}")
            remedies.append(_remedy(options, ignored))
    if released:
        shown = ", ".join(f"{c.path} ({c.status})" for c in released[:5])
        problems.append(f"released migration(s) changed: {shown}")
        remedies.append(
            "leave released migrations as they are and add a new migration instead "
            "(or set allow_modified: true)"
        )
    annotations = [
        Annotation(c.path, 1, None, _describe(c, 10)) for c in needing + released if c.status != "deleted"
    ]
    if problems:
        outcome = Outcome.failed("; ".join(problems), "; ".join(remedies), **details)
        outcome.annotations = annotations[:100]
        return outcome
    summary = f"{len(changes)} schema change(s), {len(needing)} needing sign-off"
    if details["signoffs"]:
        who = ", ".join(sorted({f"{s['by']} ({s['via']})" for s in details["signoffs"]}))
        summary += f"; signed off by {who}"
    return Outcome.passed(summary, **details)


def _remedy(options: dict[str, Any], ignored: list[str]) -> str:
    ways = []
    if "trailer" in options["via"]:
        ways.append(f"a listed signer adds a commit with '{options['trailer']}: Name <email>'")
    if "review" in options["via"]:
        ways.append("a listed signer approves the pull request on its head commit")
    text = "Get a sign-off: " + " or ".join(ways) + f" (signers: {', '.join(options['signers'])})"
    if ignored:
        text += f"; not counted: {ignored[0]}"
    return text


CHECK = Check(
    name="schema-change",
    title="Database migrations and API schema changes are detected and signed off",
    options=OPTIONS,
    evaluate=evaluate,
    example={
        "require_signoff": "destructive",
        "signers": ["dba@example.com", "acme/dba"],
        "exclude": ["tests/**"],
    },
    description=(
        "Detects schema changes in the diff by parsing them (Django and Alembic with ast, raw "
        "SQL, Flyway and Liquibase formatted SQL with a SQL tokenizer, Liquibase XML/YAML, "
        "Prisma, OpenAPI 3 base vs head) and classifies their operations. Destructive changes "
        "(or all, `require_signoff: any`) need a sign-off: a commit trailer "
        "(`Schema-Approved-By: Name <email>`) from a listed signer who did not write the "
        "migration, added after its last change, or an approving review on the head commit by "
        "a listed user or team member. A released migration that is modified, deleted or "
        "renamed fails unless `allow_modified: true`. A file that cannot be parsed counts as "
        "destructive (fail closed)."
    ),
    validate=validate,
)
