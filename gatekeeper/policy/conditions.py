"""``when`` conditions: does a rule apply to this run?"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gatekeeper import globs
from gatekeeper.errors import EvidenceError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence


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
