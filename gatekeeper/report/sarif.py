"""SARIF 2.1.0: the report for GitHub code scanning and other SARIF viewers.

One run; the tool driver is ``gatekeeper`` with one reporting descriptor per check the
policy uses; one result per rule that did not pass (``error`` for fail/error, ``warning``
for warn, ``note`` for waived), with a location for each of its annotations, or at the rule's line in the
policy file when it has none. ``partialFingerprints`` hash what identifies the finding
(rule, check, first location), never the wording, so an alert stays the same alert
from one run to the next.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from gatekeeper import __version__
from gatekeeper.model import Annotation, RuleResult, Status
from gatekeeper.report.json_ import dumps
from gatekeeper.report.model import Report

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
DOCS_URL = "https://pypi.org/project/gatekeeper-release/"
"""Where the README (each check's section) is published."""
_ANCHORS = {
    "smoke-coverage": "smoke-coverage-tests-coverage-and-diff-coverage",
    "checklist": "checklist-definition-of-done",
    "risk-register": "risk-register",
    "version-bump": "version-bump",
}
_LEVELS = {
    Status.FAIL: "error",
    Status.ERROR: "error",
    Status.WARN: "warning",
    Status.WAIVED: "note",  # a failure someone accepted: still worth seeing, never blocking
}
MAX_LOCATIONS = 1000
"""GitHub code scanning reads at most 1,000 locations per result."""


def _uri(path: str) -> str:
    """A repository path as a relative URI reference (spaces, '#', '%' percent-encoded)."""
    return quote(path, safe="/")


def _location(
    path: str, line: int, end_line: int | None = None, message: str = ""
) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, line)}
    if end_line and end_line > line:
        region["endLine"] = end_line
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": _uri(path)}, "region": region}
    }
    if message:
        location["message"] = {"text": message}
    return location


def _locations(report: Report, r: RuleResult) -> list[dict[str, Any]]:
    if r.annotations:
        return [
            _location(a.path, a.line, a.end_line, a.message) for a in r.annotations[:MAX_LOCATIONS]
        ]
    if report.policy_repo_path:
        return [_location(report.policy_repo_path, report.rule_lines.get(r.id, 1) or 1)]
    return []


def _fingerprint(r: RuleResult, first: Annotation | None) -> str:
    where = f"{first.path}:{first.line}" if first else "policy"
    digest = hashlib.sha256(f"{r.id}\0{r.check}\0{where}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _message(r: RuleResult) -> str:
    return r.summary + (f"\nNext step: {r.remedy}" if r.remedy else "")


def _descriptor(name: str) -> dict[str, Any]:
    from gatekeeper.checks import registry

    check = registry().get(name)
    title = check.title if check else name
    return {
        "id": name,
        "name": name,
        "shortDescription": {"text": title},
        "fullDescription": {"text": (check.description if check else "") or title},
        "helpUri": f"{DOCS_URL}#{_ANCHORS.get(name, 'checks')}",
    }


def _suppression(waiver: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "external",
        "status": "accepted",
        "justification": f"{waiver.get('reason', '')} (approved by {waiver.get('approved_by', '')}, "
        f"expires {waiver.get('expires', '')})",
        "properties": {k: waiver.get(k) for k in ("approved_by", "expires", "source")},
    }


def to_sarif(report: Report) -> dict[str, Any]:
    checks = sorted({r.check for r in report.results})
    index = {name: i for i, name in enumerate(checks)}
    results = []
    for r in report.results:
        level = _LEVELS.get(r.status)
        if level is None:
            continue
        result: dict[str, Any] = {
            "ruleId": r.check,
            "ruleIndex": index[r.check],
            "level": level,
            "message": {"text": _message(r)},
            "partialFingerprints": {
                "gatekeeper/v1": _fingerprint(r, r.annotations[0] if r.annotations else None)
            },
            "properties": {"rule": r.id, "status": r.status.value, "blocks": r.blocks},
        }
        locations = _locations(report, r)
        if locations:
            result["locations"] = locations
        if r.status is Status.WAIVED and r.waiver:
            # SARIF's own word for an accepted finding: viewers hide or mark it as such.
            result["suppressions"] = [_suppression(r.waiver)]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "gatekeeper",
                "version": __version__,
                "informationUri": DOCS_URL,
                "rules": [_descriptor(name) for name in checks],
            }
        },
        "results": results,
        "properties": {
            "decision": report.decision.value,
            "policy": report.policy_name,
            "head": report.head,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report) -> str:
    return dumps(to_sarif(report), ensure_ascii=False) + "\n"
