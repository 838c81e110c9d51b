"""The sticky pull-request comment: one per policy, found by a hidden marker, updated
in place on every run so re-runs never pile up comments."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekeeper.evidence.github import GitHubClient

MAX_BODY = 65536
"""GitHub rejects comment bodies longer than this (characters)."""
_UNSAFE = re.compile(r"[^\w./ -]")


def marker(policy_name: str | None) -> str:
    # The name goes inside an HTML comment: anything that could close it is removed.
    name = re.sub(r"-{2,}", "-", _UNSAFE.sub("-", (policy_name or "default").strip()))
    name = name or "default"
    return f"<!-- gatekeeper:{name} -->"


def fit(body: str, limit: int = MAX_BODY) -> str:
    """``body`` cut to ``limit`` characters, with a note saying so."""
    if len(body) <= limit:
        return body
    note = (
        f"\n\n---\n*Report truncated: it is {len(body):,} characters, over GitHub's "
        f"{limit:,}-character comment limit. The job summary has the full report.*\n"
    )
    cut = body[: limit - len(note)]
    # Cutting inside a table row or code span is harmless, but an open code fence would
    # swallow the note: close it.
    if cut.count("\n```") % 2:
        cut = cut[: limit - len(note) - 4] + "\n```"
    return cut + note


WORKFLOW_BOT = "github-actions[bot]"
"""Who the workflow's GITHUB_TOKEN writes as."""


def own_login(client: GitHubClient) -> str:
    """The login this token's comments carry: ``GET /user`` for a user's token; an app
    installation token (the workflow's GITHUB_TOKEN) has no user (403), and writes as
    ``github-actions[bot]``, or as ``GATEKEEPER_COMMENT_AUTHOR`` (another app's
    ``slug[bot]``) when that is set."""
    user = client.get_optional("/user", absent=(403,))
    if isinstance(user, dict) and isinstance(user.get("login"), str):
        return str(user["login"])
    return client.config.comment_author or WORKFLOW_BOT


def _author(comment: dict[str, Any]) -> str | None:
    user = comment.get("user")
    return user.get("login") if isinstance(user, dict) else None


def upsert(
    client: GitHubClient, repository: str, pr: int, policy_name: str | None, markdown: str
) -> str:
    """Create or update the policy's comment on the PR; returns what was done:
    ``created``, ``updated`` or ``unchanged``."""
    mark = marker(policy_name)
    body = fit(f"{mark}\n{markdown}")
    comments = client.get_list(f"/repos/{repository}/issues/{pr}/comments")
    # Anyone can write the marker: only a comment this token wrote is ours. A forged one
    # is left alone (a new comment follows it, so the latest verdict is the gate's).
    me = own_login(client)
    ours = [
        c
        for c in comments
        if (c.get("body") or "").split("\n", 1)[0].strip() == mark and _author(c) == me
    ]
    if not ours:
        # Not retried: a create that timed out may have happened, and a duplicate comment
        # is worse than one missing until the next run finds and updates it.
        client.post(f"/repos/{repository}/issues/{pr}/comments", {"body": body}, retry=False)
        return "created"
    # The oldest one is the sticky comment; GitHub lists comments oldest first.
    first = min(ours, key=lambda c: (c.get("created_at") or "", c["id"]))
    if first.get("body") == body:
        return "unchanged"
    client.patch(f"/repos/{repository}/issues/comments/{first['id']}", {"body": body})
    return "updated"
