"""Stale coverage reports: made before the code they are supposed to measure.

A report is stale when it was made before the newest commit of the range under review
(committer time), or, with ``--worktree``, before the last change to a work-tree file it
measures: its figures then describe other code. When a report was made is what it says
itself (Cobertura ``timestamp``, coverage.py JSON ``meta.timestamp``), else the file's
modification time.

Commit times come from the change itself, so a change can set them as it likes: this is
a hygiene check (did CI measure this code?), not a defence against a hostile change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.coverage import CoverageData


@dataclass(frozen=True)
class StaleReport:
    """A coverage report made before what it is read for: what changed after it, and when."""

    path: str
    """The report, as the policy names it."""
    made: float
    """When it was made (seconds since the epoch)."""
    made_from: str
    """``timestamp``, ``meta.timestamp`` or ``mtime``."""
    newer: str
    """``commit`` or ``file``: what changed after the report was made."""
    name: str
    """The commit's SHA or the work-tree file's path."""
    changed: float
    """When that commit was made or that file last changed."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "made": _iso(self.made),
            "made_from": self.made_from,
            "newer": self.newer,
            "name": self.name,
            "changed": _iso(self.changed),
        }


def stale_reports(ev: Evidence, data: CoverageData) -> list[StaleReport]:
    """The reports of ``data`` made before the code they measure (memoized per run)."""
    return ev.cached(("stale-reports", tuple(data.timestamps)), lambda: _stale(ev, data))


def _stale(ev: Evidence, data: CoverageData) -> list[StaleReport]:
    newest = newest_commit(ev)
    out = []
    for name, (stamp, source) in data.timestamps.items():
        made, made_from = (stamp, source) if stamp is not None else _mtime(data, name)
        if made is None:
            continue
        if newest is not None and made < newest[1]:
            out.append(StaleReport(name, made, made_from, "commit", newest[0], newest[1]))
            continue
        if ev.git.worktree:
            changed = _newest_file(ev, data.measured_by.get(name, []))
            if changed is not None and made < changed[1]:
                out.append(StaleReport(name, made, made_from, "file", changed[0], changed[1]))
    return out


def newest_commit(ev: Evidence) -> tuple[str, float] | None:
    """The SHA and committer time of the newest commit in merge-base..head."""
    repo = ev.git
    out = repo.git("log", "--format=%H %ct", f"{repo.merge_base}..{repo.head_sha}")
    best: tuple[str, float] | None = None
    for record in out.decode("ascii", "replace").splitlines():
        sha, _, when = record.partition(" ")
        if when.isdigit() and (best is None or int(when) > best[1]):
            best = (sha, float(when))
    return best


def _mtime(data: CoverageData, name: str) -> tuple[float | None, str]:
    path = data.paths.get(name)
    try:
        return (os.stat(path).st_mtime if path is not None else None), "mtime"
    except OSError:
        return None, "mtime"


def _newest_file(ev: Evidence, paths: list[str]) -> tuple[str, float] | None:
    best: tuple[str, float] | None = None
    for rel in paths:
        try:
            when = os.lstat(ev.repo_path / rel).st_mtime
        except OSError:
            continue
        if best is None or when > best[1]:
            best = (rel, when)
    return best


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")
