"""``ci-checks``: every check run and commit status on the head commit succeeded.

The latest run per name wins (a re-run replaces the failed attempt). ``required`` names
must be present and successful; pending or missing ones fail with their name. Check runs
of this very workflow run that are still in progress (the job running Gatekeeper) are
left out unless required, or the gate could never pass.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gatekeeper.checks import Check
from gatekeeper.evidence import github as gh
from gatekeeper.model import Outcome

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": [],
            "description": "Check or status names that must be present and successful.",
        },
        "allow": {
            "type": "array",
            "items": {"enum": ["neutral", "skipped"]},
            "default": [],
            "description": "Conclusions accepted besides success.",
        },
        "ignore": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": ["gatekeeper", "gatekeeper/*"],
            "description": "Names (* and ? wildcards) left out, e.g. this gate's own status.",
        },
    },
}


@lru_cache(maxsize=256)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + r"\Z")


def _latest(items: list[dict[str, Any]], name_key: str, time_key: str) -> dict[str, dict]:
    latest: dict[str, dict[str, Any]] = {}
    for item in sorted(items, key=lambda i: (i.get(time_key) or "", i.get("id", 0))):
        latest[item[name_key]] = item
    return latest


def _entries(ev: Evidence, sha: str, run_id: str | None) -> list[dict[str, Any]]:
    entries = []
    for name, run in _latest(gh.check_runs(ev, sha), "name", "started_at").items():
        state = run.get("conclusion") if run.get("status") == "completed" else "pending"
        url = run.get("html_url") or run.get("details_url") or ""
        own = bool(run_id) and f"/actions/runs/{run_id}/" in url and state == "pending"
        entries.append(
            {
                "name": name,
                "kind": "check_run",
                "state": state or "pending",
                "url": url,
                "own_run": own,
            }
        )
    for name, status in _latest(gh.statuses(ev, sha), "context", "updated_at").items():
        entries.append(
            {
                "name": name,
                "kind": "status",
                "state": status.get("state") or "pending",
                "url": status.get("target_url") or "",
                "own_run": False,
            }
        )
    return entries


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    sha = gh.head_sha(ev)
    required: list[str] = options["required"]
    ok = {"success", *options["allow"]}
    excluded: list[str] = []
    checks: list[dict[str, Any]] = []
    for entry in _entries(ev, sha, gh.config(ev).run_id):
        name = entry.pop("name")
        if name not in required and (
            entry.pop("own_run") or any(_glob(p).match(name) for p in options["ignore"])
        ):
            excluded.append(name)
            continue
        entry.pop("own_run", None)
        checks.append({"name": name, **entry})
    names = {c["name"] for c in checks}
    pending = sorted({c["name"] for c in checks if c["state"] == "pending"})
    failing = sorted({c["name"] for c in checks if c["state"] not in ok | {"pending"}})
    missing = [r for r in required if r not in names]
    details = {
        "sha": sha,
        "checks": checks,
        "failing": failing,
        "pending": pending,
        "missing": missing,
        "excluded": sorted(excluded),
    }
    short = sha[:12]
    if not checks and not required:
        return Outcome.failed(
            f"no check runs or commit statuses on {short}: nothing shows CI passed",
            "Wait for CI to report on the head commit, or name the checks in `required`",
            **details,
        )
    problems = []
    if failing:
        states = {c["name"]: c["state"] for c in checks}
        problems.append("failing: " + ", ".join(f"{n} ({states[n]})" for n in failing))
    if pending:
        problems.append("pending: " + ", ".join(pending))
    if missing:
        problems.append("required but missing: " + ", ".join(missing))
    if problems:
        remedy = []
        if failing:
            remedy.append("fix or re-run the failing checks")
        if pending:
            remedy.append("re-run the gate once pending checks finish")
        if missing:
            remedy.append("make the missing checks run on this commit (or fix their names)")
        return Outcome.failed(
            f"{len(checks)} checks on {short}; " + "; ".join(problems),
            "; ".join(remedy).capitalize(),
            **details,
        )
    return Outcome.passed(f"all {len(checks)} checks on {short} succeeded", **details)


CHECK = Check(
    name="ci-checks",
    title="Every check run and commit status on the head commit succeeded",
    options=OPTIONS,
    evaluate=evaluate,
    example={"required": ["build", "test (3.12)"], "allow": ["skipped"]},
    description=(
        "Looks at every check run and commit status on the head commit (the PR head in a "
        "pull-request run); the latest run per name wins. `required` names must be present and "
        "successful; pending or missing ones fail with their name. `allow` accepts neutral or "
        "skipped conclusions; `ignore` leaves names out (by default this gate's own status). "
        "In-progress check runs of the current workflow run are left out unless required."
    ),
)
