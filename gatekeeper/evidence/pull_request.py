"""The pull request's own text (its description), from the GitHub API.

Everything here is what the PR's author wrote: a checklist in it is a claim, not proof.
The API is asked rather than the Actions event payload, which keeps the description as it
was when the event fired: an edit made since then is what reviewers see now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gatekeeper.evidence import github

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence


def number(ev: Evidence) -> int | None:
    """The pull request this run is about, or None (no pull_request event, no --pr)."""
    return github.config(ev).pr


def body(ev: Evidence) -> str | None:
    """The description of this run's pull request ('' when empty); None without a PR.
    API failures raise ``EvidenceError`` (the rule errors and blocks)."""
    if number(ev) is None:
        return None
    text = github.pull_request(ev).get("body")
    return text if isinstance(text, str) else ""
