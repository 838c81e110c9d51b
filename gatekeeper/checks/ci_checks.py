"""``ci-checks``: every check run and commit status on the head commit succeeded.

The latest run per name *and app* wins (a re-run replaces the failed attempt): a check
run of the same name from another app never hides a failure, since the pull request's
own workflow can create check runs with any name. Such runs are judged separately and
any failing one blocks; a ``required`` entry may pin the app
(``{name: build, app: github-actions}``). ``required`` checks must be present and
successful; pending or missing ones fail with their name. Check runs of this very
workflow run that are still in progress (the job running Gatekeeper) are left out unless
required, or the gate could never pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
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
            "items": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "app"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "app": {
                                "type": "string",
                                "minLength": 1,
                                "description": "The app's slug, e.g. github-actions.",
                            },
                        },
                    },
                ]
            },
            "default": [],
            "description": (
                "Check or status names that must be present and successful; "
                "{name, app} pins a check run to the app (slug) that must report it."
            ),
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


def _latest(
    items: list[dict[str, Any]], key: Callable[[dict[str, Any]], Hashable], time_key: str
) -> list[dict[str, Any]]:
    latest: dict[Hashable, dict[str, Any]] = {}
    for item in sorted(items, key=lambda i: (str(i.get(time_key) or ""), _int(i.get("id")))):
        latest[key(item)] = item
    return list(latest.values())


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _app(run: dict[str, Any]) -> str:
    app = run.get("app")
    slug = app.get("slug") if isinstance(app, dict) else None
    return slug if isinstance(slug, str) and slug else "unknown-app"


def _entries(ev: Evidence, sha: str, run_id: str | None) -> list[dict[str, Any]]:
    entries = []
    for run in _latest(gh.check_runs(ev, sha), lambda r: (_app(r), r["name"]), "started_at"):
        state = run.get("conclusion") if run.get("status") == "completed" else "pending"
        url = str(run.get("html_url") or run.get("details_url") or "")
        own = bool(run_id) and f"/actions/runs/{run_id}/" in url and state == "pending"
        entries.append(
            {
                "name": run["name"],
                "kind": "check_run",
                "app": _app(run),
                "state": str(state or "pending"),
                "url": url,
                "own_run": own,
            }
        )
    for status in _latest(gh.statuses(ev, sha), lambda s: s["context"], "updated_at"):
        entries.append(
            {
                "name": status["context"],
                "kind": "status",
                "app": None,
                "state": str(status.get("state") or "pending"),
                "url": str(status.get("target_url") or ""),
                "own_run": False,
            }
        )
    return entries


def _pins(required: list[Any]) -> list[tuple[str, str | None]]:
    """``required`` as (name, app or None)."""
    return [(r, None) if isinstance(r, str) else (r["name"], r["app"]) for r in required]


def _label(name: str, app: str | None) -> str:
    return f"{name} (app {app})" if app else name


def _state_label(check: dict[str, Any]) -> str:
    app = f", app {check['app']}" if check.get("app") else ""
    return f"{check['name']} ({check['state']}{app})"


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    sha = gh.head_sha(ev)
    pins = _pins(options["required"])
    required = {name for name, _ in pins}
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
    pending = sorted({c["name"] for c in checks if c["state"] == "pending"})
    bad = [c for c in checks if c["state"] not in ok | {"pending"}]
    failing = sorted({c["name"] for c in bad})
    missing = [
        _label(name, app)
        for name, app in pins
        if not any(c["name"] == name and (app is None or c["app"] == app) for c in checks)
    ]
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
        problems.append(
            "failing: " + ", ".join(_state_label(c) for c in sorted(bad, key=_sort_key))
        )
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


def _sort_key(check: dict[str, Any]) -> tuple[str, str]:
    return check["name"], check.get("app") or ""


CHECK = Check(
    name="ci-checks",
    title="Every check run and commit status on the head commit succeeded",
    options=OPTIONS,
    evaluate=evaluate,
    example={
        "required": ["build", "test (3.12)", {"name": "deploy-preview", "app": "vercel"}],
        "allow": ["skipped"],
    },
    description=(
        "Looks at every check run and commit status on the head commit (the PR head in a "
        "pull-request run); the latest run per name and app wins, and same-name runs of "
        "different apps are judged separately (any failing one blocks). `required` names "
        "must be present and successful ({name, app} pins the app that must report it); "
        "pending or missing ones fail with their name. `allow` accepts neutral or "
        "skipped conclusions; `ignore` leaves names out (by default this gate's own status). "
        "In-progress check runs of the current workflow run are left out unless required."
    ),
)
