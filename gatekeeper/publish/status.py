"""The commit status on the head commit: what branch protection can require."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekeeper.evidence.github import GitHubClient

MAX_DESCRIPTION = 140


def context_for(policy_name: str | None) -> str:
    return f"gatekeeper/{policy_name}" if policy_name else "gatekeeper"


def shorten(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def post(
    client: GitHubClient,
    repository: str,
    sha: str,
    *,
    approved: bool,
    description: str,
    context: str,
    target_url: str | None,
) -> None:
    payload = {
        "state": "success" if approved else "failure",
        "description": shorten(description),
        "context": context,
    }
    if target_url:
        payload["target_url"] = target_url
    client.post(f"/repos/{repository}/statuses/{sha}", payload)
