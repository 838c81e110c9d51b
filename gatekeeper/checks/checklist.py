"""``checklist``: a Markdown task list (Definition of Done, release checklist) is complete.

The list comes from the pull request's description (``source: pr_body``) or from a file
at the head (``docs/releases/{version}.md``). Either way it is what the change's author
claims was done: ``required`` items make sure the claims that matter are at least made.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gatekeeper.checks import Check, Problem
from gatekeeper.checks.changelog import version_from_tags
from gatekeeper.evidence import pull_request, tasklist
from gatekeeper.model import Annotation, Outcome

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.tasklist import TaskItem

PR_BODY = "pr_body"
MAX_LISTED = 20
"""Items named in the summary; ``details`` lists them all."""
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "source": {
            "type": "string",
            "minLength": 1,
            "default": PR_BODY,
            "description": "`pr_body` (the pull request's description, from the GitHub API) or "
            "a file at the head; `{version}` is filled from `version` or the head's version tag.",
        },
        "section": {
            "type": "string",
            "minLength": 1,
            "description": "Only the items under this heading (up to the next heading of the "
            "same or a higher level); default: the whole text.",
        },
        "required": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": [],
            "description": "Items that must be present and ticked (case-insensitive, trimmed).",
        },
        "min_items": {
            "type": "integer",
            "minimum": 0,
            "default": 1,
            "description": "Fewer items than this fails: an empty checklist is not a complete one.",
        },
        "version": {
            "type": "string",
            "minLength": 1,
            "description": "Fills `{version}` in `source`; default: the head's version tag.",
        },
    },
}


def validate(options: dict[str, Any]) -> list[Problem]:
    source = str(options.get("source", PR_BODY))
    return [
        (("source",), f"unknown placeholder {{{name}}} (only {{version}} is filled)")
        for name in _PLACEHOLDER.findall(source)
        if name != "version"
    ]


def _where(item: TaskItem) -> str:
    return f"'{item.text}' (line {item.line})"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _text(options: dict[str, Any], ev: Evidence) -> tuple[str, str | None, Outcome | None]:
    """(what was read, its text) or a failing Outcome saying why there is nothing to read."""
    source: str = options["source"]
    if source == PR_BODY:
        if pull_request.number(ev) is None:
            return (
                "the pull request description",
                None,
                Outcome.failed(
                    "source: pr_body, but this run has no pull request",
                    "run Gatekeeper on a pull_request event or pass --pr N",
                    source=source,
                ),
            )
        return (
            f"the description of pull request #{pull_request.number(ev)}",
            pull_request.body(ev),
            None,
        )
    if "{version}" in source:
        version = options.get("version") or version_from_tags(ev.git.head_tags)
        if version is None:
            return (
                source,
                None,
                Outcome.failed(
                    f"{source} needs a version, and the head has no version tag",
                    "tag the release (v1.2.3) or set the rule's `version` option",
                    source=source,
                ),
            )
        source = source.replace("{version}", version)
    text = tasklist.document(ev, source)
    if text is None:
        return (
            source,
            None,
            Outcome.failed(
                f"{source} does not exist at {ev.git.head_sha[:12]}",
                f"add the checklist {source} to the release",
                source=source,
            ),
        )
    return source, text, None


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    what, text, problem = _text(options, ev)
    if problem is not None:
        return problem
    section = options.get("section")
    found = tasklist.parse(text or "", section)
    where = f"under '{section}' in {what}" if section else f"in {what}"
    details: dict[str, Any] = {
        "source": what,
        "section": section,
        "items": len(found.items),
        "ticked": len(found.items) - len(found.unticked),
        "unticked": [{"text": i.text, "line": i.line} for i in found.unticked],
        "missing": [],
    }
    if not found.section_found:
        return Outcome.failed(
            f"no heading '{section}' in {what}",
            f"add a '## {section}' section with the checklist to {what}",
            **details,
        )
    present = {tasklist.normalise(i.text) for i in found.items}
    missing = [r for r in options["required"] if tasklist.normalise(r) not in present]
    details["missing"] = missing
    problems = _problems(found.unticked, missing, len(found.items), options["min_items"])
    if problems:
        outcome = Outcome.failed(
            f"{'; '.join(problems)} {where}",
            _remedy(found.unticked, missing, what),
            **details,
        )
        if options["source"] != PR_BODY:  # a file: CI can point at the unticked lines
            outcome.annotations = [
                Annotation(what, i.line, message=f"unticked: {i.text}") for i in found.unticked
            ]
        return outcome
    return Outcome.passed(
        f"all {len(found.items)} item(s) ticked {where}"
        + (f", {len(options['required'])} required present" if options["required"] else ""),
        **details,
    )


def _problems(unticked: list[TaskItem], missing: list[str], count: int, minimum: int) -> list[str]:
    problems = []
    if unticked:
        problems.append(
            f"{len(unticked)} of {count} item(s) unticked: "
            + _listed([_where(i) for i in unticked])
        )
    if missing:
        problems.append(
            "required item(s) missing: " + _listed([f"'{tasklist.one_line(m)}'" for m in missing])
        )
    if count < minimum:
        problems.append(f"{count} task item(s), at least {minimum} expected")
    return problems


def _remedy(unticked: list[TaskItem], missing: list[str], what: str) -> str:
    steps = []
    if unticked:
        steps.append("finish and tick the unticked items (or remove those that do not apply)")
    if missing:
        steps.append(f"add the required items to {what} and tick them once done")
    if not steps:
        steps.append(f"add the checklist's items to {what}")
    return "; ".join(steps)


CHECK = Check(
    name="checklist",
    title="A Markdown task list (Definition of Done) is complete",
    options=OPTIONS,
    evaluate=evaluate,
    validate=validate,
    description=(
        "Passes when every GitHub task-list item (`- [ ]`, `- [x]`, `1. [X]`, nested) in the "
        "pull request's description or in a file at the head, optionally only under one "
        "heading, is ticked, every `required` item is present and ticked, and there are at "
        "least `min_items`. Items inside code blocks and HTML comments do not count. The list "
        "is what the author claims; `required` items make sure the important claims are made."
    ),
    example={
        "source": "docs/releases/{version}.md",
        "section": "Definition of Done",
        "required": ["Security review", "Rollback plan tested"],
    },
)
