"""``promotion``: the commit being released already ran in an earlier environment, long enough.

The soak starts at the first ``success`` status of the earliest successful deployment of
the head commit to ``from`` (GitHub Deployments); with ``require_no_failures``, any
``failure`` or ``error`` status of a deployment of the same commit to that environment
since then fails the rule. Statuses after ``--now`` are not seen, so a run is repeatable.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from gatekeeper import durations, globs
from gatekeeper.checks import Check
from gatekeeper.evidence import deployments as deploys
from gatekeeper.evidence import github as gh
from gatekeeper.model import Outcome

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["from"],
    "properties": {
        "from": {
            "type": "string",
            "minLength": 1,
            "description": "The earlier environment (a GitHub deployment environment name).",
        },
        "soak": {
            **durations.SCHEMA,
            "default": "0s",
            "description": "Time since that deployment's first success status, at --now.",
        },
        "refs": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "minLength": 1},
            "description": "Count only deployments made from these branches or tags (globs, "
            "e.g. [main, 'v*']): a deployment a pull request's own workflow creates from its "
            "branch then cannot stand in for a real one. Default: any ref.",
        },
        "require_no_failures": {
            "type": "boolean",
            "default": True,
            "description": "No failure/error status on a deployment of the same commit to "
            "that environment during the soak.",
        },
    },
}

_BAD = ("failure", "error")


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    env, soak = options["from"], durations.parse(options["soak"])
    sha = gh.head_sha(ev)
    now = ev.now
    found = deploys.deployments(ev, sha, env)
    ignored = []
    if "refs" in options:
        ignored = [d for d in found if not globs.match_any(_short_ref(d.ref), options["refs"])]
        found = [d for d in found if d not in ignored]
    details: dict[str, Any] = {
        "environment": env,
        "sha": sha,
        "deployments": len(found),
        "deployment_id": None,
        "succeeded_at": None,
        "soaked_s": None,
        "soak_s": soak.total_seconds(),
        "remaining_s": None,
        "failures": [],
        "ignored": [{"deployment_id": d.id, "ref": d.ref} for d in ignored],
    }
    if not found:
        other = (
            f" from {', '.join(options['refs'])} ({len(ignored)} from other refs not counted)"
            if ignored
            else ""
        )
        return Outcome.failed(
            f"{sha[:12]} was never deployed to {env}{other}",
            f"deploy {sha[:12]} to {env} first and let it soak {options['soak']}, then promote",
            **details,
        )
    successes = [
        (status.created_at, d)
        for d in found
        for status in d.statuses
        if status.state == "success" and status.created_at <= now
    ]
    if not successes:
        latest = [s for d in found for s in d.statuses if s.created_at <= now]
        last = max(latest, key=lambda s: s.created_at).state if latest else "no status yet"
        return Outcome.failed(
            f"{sha[:12]} was deployed to {env} {len(found)} time(s) but never succeeded "
            f"(latest status: {last})",
            f"fix the {env} deployment of {sha[:12]} before promoting it",
            **details,
        )
    started, deployment = min(successes, key=lambda pair: pair[0])
    soaked = now - started
    details.update(
        deployment_id=deployment.id,
        succeeded_at=started.isoformat(),
        soaked_s=soaked.total_seconds(),
        remaining_s=max(0.0, (soak - soaked).total_seconds()),
    )
    failures = [
        {"deployment_id": d.id, "state": s.state, "at": s.created_at.isoformat()}
        for d in found
        for s in d.statuses
        if s.state in _BAD and started <= s.created_at <= now
    ]
    details["failures"] = failures
    if options["require_no_failures"] and failures:
        first = failures[0]
        return Outcome.failed(
            f"{sha[:12]} had {len(failures)} failed deployment status(es) in {env} during the "
            f"soak (first: {first['state']} at {first['at']}, deployment {first['deployment_id']})",
            f"find out why the {env} deployment failed; redeploy to {env} and soak again",
            **details,
        )
    if soaked < soak:
        left = soak - soaked
        ready = (now + left).isoformat(timespec="minutes")
        return Outcome.failed(
            f"{sha[:12]} has soaked {_ago(soaked)} in {env} (since {started.isoformat()}); "
            f"{options['soak']} required: {durations.describe(left)} left",
            f"promote at or after {ready}",
            **details,
        )
    return Outcome.passed(
        f"{sha[:12]} has soaked {_ago(soaked)} in {env} (>= {options['soak']})"
        + (", no failures" if options["require_no_failures"] else ""),
        **details,
    )


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _ago(delta: timedelta) -> str:
    return durations.describe(delta) if delta.total_seconds() > 0 else "0s"


CHECK = Check(
    name="promotion",
    title="The released commit was deployed to an earlier environment and soaked there",
    options=OPTIONS,
    evaluate=evaluate,
    description=(
        "Asks GitHub Deployments for deployments of the head commit to `from` and their "
        "statuses. Fails when there is none, when none succeeded, when the first `success` "
        "is less than `soak` before --now (saying how long is left) or, with "
        "`require_no_failures`, when a deployment of the same commit there reported "
        "`failure`/`error` since. Works in `gatekeeper check` and `gatekeeper verify`; needs "
        "a token that can read deployments (`permissions: deployments: read`)."
    ),
    example={"from": "staging", "soak": "2h", "require_no_failures": True},
)
