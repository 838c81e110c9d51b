"""``risk-register``: every serious open risk has an owner and a mitigation, none is too big.

A risk's score is likelihood × impact (1-5 each, so 1-25). An open risk scoring
``max_open_score`` or more blocks the release unless someone accepts it (status
``accepted`` with ``accepted_by``); an open risk scoring ``min_score`` or more needs the
``require``d fields; with ``review_days`` an open risk not reviewed within that many days
of ``--now`` is stale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gatekeeper.checks import Check
from gatekeeper.evidence import risks as register
from gatekeeper.model import Annotation, Outcome

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.risks import Risk

MAX_LISTED = 10
"""Offending risks named in the summary; ``details.offenders`` has them all."""

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["path"],
    "properties": {
        "path": {
            "type": "string",
            "minLength": 1,
            "description": "The register at the head: YAML (.yml/.yaml: a list, or a `risks:` "
            "list), CSV (.csv, with a header row) or a Markdown table (.md).",
        },
        "max_open_score": {
            "type": "integer",
            "minimum": 1,
            "maximum": 26,
            "default": 15,
            "description": "An open risk whose likelihood × impact reaches this blocks unless "
            "accepted (26: never).",
        },
        "require": {
            "type": "array",
            "items": {"enum": ["owner", "mitigation"]},
            "uniqueItems": True,
            "default": ["owner", "mitigation"],
            "description": "Fields every open risk at or above `min_score` must have.",
        },
        "min_score": {
            "type": "integer",
            "minimum": 1,
            "maximum": 25,
            "default": 9,
            "description": "The score from which `require` applies.",
        },
        "review_days": {
            "type": "integer",
            "minimum": 1,
            "description": "An open risk whose `reviewed` date is older than this at --now (or "
            "that has none) is stale.",
        },
    },
}


def _reasons(risk: Risk, options: dict[str, Any], ev: Evidence) -> list[str]:
    """Why ``risk`` blocks the release (empty: it does not)."""
    if risk.status == "accepted":
        return [] if risk.accepted_by else ["accepted without `accepted_by`"]
    if risk.status != "open":
        return []
    reasons = []
    score, limit = risk.score, options["max_open_score"]
    if score >= limit:
        reasons.append(
            f"open with score {score} (likelihood {risk.likelihood} × impact {risk.impact}) "
            f">= max_open_score {limit}"
        )
    if score >= options["min_score"]:
        reasons += [f"no {name}" for name in options["require"] if not getattr(risk, name)]
    if "review_days" in options:
        reasons += _stale(risk, options["review_days"], ev)
    return reasons


def _stale(risk: Risk, days: int, ev: Evidence) -> list[str]:
    today = ev.now.date()
    if risk.reviewed is None:
        return ["never reviewed (no `reviewed` date)"]
    age = (today - risk.reviewed).days
    if age < 0:
        return [f"reviewed date {risk.reviewed} is after {today}"]
    if age > days:
        return [f"last reviewed {risk.reviewed}, {age} days ago (review_days {days})"]
    return []


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    path = options["path"]
    entries = register.register(ev, path)
    offenders: list[dict[str, Any]] = [
        {"id": r.id, "line": r.line, "score": r.score, "status": r.status, "reasons": reasons}
        for r in entries
        if (reasons := _reasons(r, options, ev))
    ]
    details: dict[str, Any] = {
        "path": path,
        "risks": [
            {"id": r.id, "score": r.score, "status": r.status, "line": r.line} for r in entries
        ],
        "offenders": offenders,
    }
    if offenders:
        named = [f"{o['id']} ({'; '.join(o['reasons'])})" for o in offenders[:MAX_LISTED]]
        more = len(offenders) - MAX_LISTED
        outcome = Outcome.failed(
            f"{len(offenders)} risk(s) in {path} block the release: {', '.join(named)}"
            + (f" and {more} more" if more > 0 else ""),
            "give each open risk at or above min_score an owner and a mitigation, reduce or "
            "mitigate risks at or above max_open_score, or record who accepted them "
            "(status: accepted, accepted_by); review stale risks",
            **details,
        )
        outcome.annotations = [
            Annotation(path, o["line"], message=f"risk {o['id']}: {'; '.join(o['reasons'])}")
            for o in offenders
        ]
        return outcome
    return Outcome.passed(_passed(entries, options, path), **details)


def _passed(entries: list[Risk], options: dict[str, Any], path: str) -> str:
    open_risks = [r for r in entries if r.status == "open"]
    top = max((r.score for r in open_risks), default=0)
    return (
        f"{len(entries)} risk(s) in {path}, {len(open_risks)} open; highest open score {top} < "
        f"max_open_score {options['max_open_score']}"
    )


CHECK = Check(
    name="risk-register",
    title="Serious open risks have an owner and a mitigation; none is too big to ship",
    options=OPTIONS,
    evaluate=evaluate,
    description=(
        "Reads the risk register (YAML, CSV or a Markdown table; fields id, title, likelihood, "
        "impact, owner, mitigation, status (open | mitigated | accepted | closed), reviewed, "
        "accepted_by). An open risk whose likelihood × impact reaches `max_open_score` blocks "
        "unless accepted; open risks at or above `min_score` need the `require`d fields; an "
        "accepted risk needs `accepted_by`; with `review_days` an open risk not reviewed "
        "recently is stale. A register that does not parse, or a bad entry, is an error "
        "naming the file and line."
    ),
    example={"path": "docs/risks.yml", "max_open_score": 15, "review_days": 90},
)
