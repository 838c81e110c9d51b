"""``when`` conditions: does a rule apply to this run?"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gatekeeper import globs
from gatekeeper.errors import EvidenceError, UsageError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.policy import Policy


def _environments(wanted: list[str], ev: Evidence) -> str | None:
    if ev.env in wanted:
        return None
    seen = f"environment {ev.env!r}" if ev.env else "no --env given"
    return f"{seen}; the rule applies to environments {', '.join(wanted)}"


def _branches(wanted: list[str], ev: Evidence) -> str | None:
    branch = ev.ctx.branch
    if branch is None:
        # Skipping would approve by omission; an unknown branch is an error instead.
        raise EvidenceError(
            f"the rule applies to branches {', '.join(wanted)} but the target branch is "
            "unknown (base is not a branch name); pass --branch NAME"
        )
    if globs.match_any(branch, wanted):
        return None
    return f"target branch {branch!r} matches none of {', '.join(wanted)}"


def _paths(wanted: list[str], ev: Evidence) -> str | None:
    # A rename touches both places: moving a file out of db/ is a change to db/.
    touched = (p for f in ev.git.changed_files for p in (f.path, f.old_path) if p)
    if any(globs.match_any(path, wanted) for path in touched):
        return None
    return f"no changed path matches {', '.join(wanted)}"


_CONDITIONS: dict[str, Callable[[list[str], Evidence], str | None]] = {
    "environments": _environments,
    "branches": _branches,
    "paths": _paths,
}


def why_not(when: dict[str, list[str]], ev: Evidence) -> str | None:
    """``None`` when every condition holds, else why the rule is skipped."""
    for key, wanted in when.items():
        reason = _CONDITIONS[key](wanted, ev)
        if reason is not None:
            return reason
    return None


def check_environment(policy: Policy, env: str | None) -> None:
    """Refuse an ``--env`` the policy does not know: a typo (``prod`` for ``production``)
    would skip every rule limited to environments and approve by omission."""
    if env is None or not policy.environments or env in policy.environments:
        return
    from gatekeeper.suggest import did_you_mean  # difflib: only for a typo

    raise UsageError(
        f"--env {env!r} is not an environment of the policy {policy.source} "
        f"({', '.join(policy.environments)}){did_you_mean(env, policy.environments)}; "
        "declare it under `environments:` if it is new"
    )


def waiting_note(policy: Policy, env: str | None) -> str | None:
    """With no ``--env`` (a pull-request run), rules limited to environments are skipped;
    one line names them so that a deploy job that forgot ``--env`` shows at a glance."""
    if env is not None:
        return None
    waiting = [
        f"{r.id} ({', '.join(r.when['environments'])})"
        for r in policy.rules
        if r.when.get("environments")
    ]
    if not waiting:
        return None
    noun = "rule waits" if len(waiting) == 1 else "rules wait"
    return (
        f"no --env given: {len(waiting)} {noun} for an environment and "
        f"{'is' if len(waiting) == 1 else 'are'} skipped: {'; '.join(waiting)}"
    )
