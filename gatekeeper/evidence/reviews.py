"""Pull-request reviews as GitHub counts them: per reviewer the latest APPROVED,
CHANGES_REQUESTED or DISMISSED review; the author's own and ignored logins never count.

Shared by ``code-review`` and ``schema-change`` (sign-off by an approving review), so the
two rules cannot disagree about who approved what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from gatekeeper.evidence import github as gh

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

_COUNTED = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


@lru_cache(maxsize=256)
def _login_glob(pattern: str) -> re.Pattern[str]:
    # Only * and ? are wildcards: "[bot]" in "*[bot]" is literal, as in GitHub logins.
    body = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.compile(body + r"\Z")


def ignored(login: str, patterns: list[str]) -> bool:
    return any(_login_glob(p).match(login.lower()) for p in patterns)


@dataclass
class ReviewState:
    """What the reviews of one pull request add up to."""

    head_sha: str
    author: str
    approvals: list[dict[str, Any]] = field(default_factory=list)
    counted: list[str] = field(default_factory=list)
    changes_requested: list[str] = field(default_factory=list)


def review_state(
    ev: Evidence,
    pr: dict[str, Any],
    reviews: list[dict[str, Any]],
    options: dict[str, Any],
    head_sha: str | None = None,
) -> ReviewState:
    """``head_sha``: the commit judged (default: the PR's head as the API sees it)."""
    author = ((pr.get("user") or {}).get("login") or "").lower()
    state = ReviewState(head_sha=head_sha or pr["head"]["sha"], author=author)
    latest: dict[str, dict[str, Any]] = {}
    # GitHub lists reviews oldest first; sorting keeps that true if a server does not.
    for review in sorted(reviews, key=lambda r: (r.get("submitted_at") or "", r.get("id", 0))):
        login = ((review.get("user") or {}).get("login") or "").lower()
        if not login or review.get("state") not in _COUNTED:
            continue
        if login == author or ignored(login, options.get("ignore", [])):
            continue
        latest[login] = review
    for login, review in latest.items():
        if review["state"] == "CHANGES_REQUESTED":
            state.changes_requested.append(login)
        elif review["state"] == "APPROVED":
            current = review.get("commit_id") == state.head_sha
            valid = current or options.get("stale") == "keep"
            counts = valid and qualifies(ev, login, options.get("reviewers"))
            state.approvals.append(
                {
                    "user": login,
                    "commit_id": review.get("commit_id"),
                    "current": current,
                    "counts": counts,
                }
            )
            if counts:
                state.counted.append(login)
    return state


def qualifies(ev: Evidence, login: str, reviewers: list[str] | None) -> bool:
    if not reviewers:
        return gh.can_write(ev, login)
    if login in {r.lstrip("@").lower() for r in reviewers if "/" not in r}:
        return True
    return any(gh.team_member(ev, r.lstrip("@"), login) for r in reviewers if "/" in r)
