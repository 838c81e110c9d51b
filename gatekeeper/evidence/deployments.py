"""GitHub Deployments evidence: where a commit was deployed, and how each deployment went.

``GET /repos/{o}/{r}/deployments?sha=&environment=`` lists the deployments of one commit
to one environment; ``/deployments/{id}/statuses`` lists each one's statuses (newest
first). Both are paginated and go through the run's GitHub client (retries, memoized
GETs, token scrubbing); an API failure is an ``EvidenceError``, so the rule errors and
blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import github as gh

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence


@dataclass(frozen=True)
class DeploymentStatus:
    state: str
    """error, failure, inactive, in_progress, queued, pending or success."""
    created_at: datetime
    description: str = ""


@dataclass(frozen=True)
class Deployment:
    id: int
    sha: str
    environment: str
    created_at: datetime
    ref: str
    statuses: tuple[DeploymentStatus, ...]
    """Oldest first."""

    def first(self, state: str) -> DeploymentStatus | None:
        return next((s for s in self.statuses if s.state == state), None)


def _time(value: Any, what: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise EvidenceError(
            f"GitHub returned a {what} time that is not ISO 8601: {str(value)[:40]!r}",
            "check GITHUB_API_URL points at the GitHub REST API",
        ) from None


def deployments(ev: Evidence, sha: str, environment: str) -> list[Deployment]:
    """Every deployment of ``sha`` to ``environment``, oldest first, with its statuses."""
    return ev.cached(("deployments", sha, environment), lambda: _fetch(ev, sha, environment))


def _fetch(ev: Evidence, sha: str, environment: str) -> list[Deployment]:
    repo = gh.config(ev).require_repository()
    client = gh.client(ev)
    query = urlencode({"sha": sha, "environment": environment})
    found = []
    for item in client.get_list(f"/repos/{repo}/deployments?{query}"):
        # The API filters already; a proxy or an old server that ignores a filter must not
        # let another commit's or environment's deployment count.
        if item.get("sha") != sha or item.get("environment") != environment:
            continue
        raw = client.get_list(f"/repos/{repo}/deployments/{int(item['id'])}/statuses")
        statuses = sorted(
            (
                DeploymentStatus(
                    str(s.get("state")),
                    _time(s.get("created_at"), "status"),
                    str(s.get("description") or ""),
                )
                for s in raw
            ),
            key=lambda s: s.created_at,
        )
        found.append(
            Deployment(
                int(item["id"]),
                sha,
                environment,
                _time(item.get("created_at"), "deployment"),
                str(item.get("ref") or ""),
                tuple(statuses),
            )
        )
    return sorted(found, key=lambda d: (d.created_at, d.id))
