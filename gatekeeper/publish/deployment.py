"""A GitHub deployment protection rule: judge a pending deployment, answer its callback.

GitHub sends a ``deployment_protection_rule`` event (to a GitHub App's webhook, or to a
workflow triggered by it) when a deployment to a protected environment waits for this
rule. The event names the environment, the commit (``deployment.sha``) and a
``deployment_callback_url``; the gate answers there with ``{environment_name, state:
approved | rejected, comment}``. The callback URL goes through the GitHub client, so the
token only ever goes to ``GITHUB_API_URL``'s origin, whatever the event says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import EvidenceError, UsageError

if TYPE_CHECKING:
    from gatekeeper.evidence.github import GitHubClient
    from gatekeeper.report import Report

MAX_COMMENT = 1024
"""Longer comments are cut: the deployment review shows a short note, the run has the rest."""


@dataclass(frozen=True)
class ProtectionEvent:
    environment: str
    sha: str
    callback_url: str
    default_branch: str | None = None
    repository: str | None = None


def _text(data: dict[str, Any], *keys: str) -> str | None:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


def read_event(path: Path) -> ProtectionEvent:
    """The deployment awaiting a decision, from a ``deployment_protection_rule`` payload."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as e:
        raise UsageError(f"{path}: cannot read the event payload ({e})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the event payload is not a JSON object")
    environment = _text(data, "environment") or _text(data, "deployment", "environment")
    sha = _text(data, "deployment", "sha") or _text(data, "sha")
    callback = _text(data, "deployment_callback_url")
    missing = [
        name
        for name, value in (
            ("environment", environment),
            ("deployment.sha", sha),
            ("deployment_callback_url", callback),
        )
        if value is None
    ]
    if missing or environment is None or sha is None or callback is None:
        raise UsageError(
            f"{path}: not a deployment_protection_rule event (missing {', '.join(missing)}); "
            "run deployment-gate from a workflow `on: deployment_protection_rule` or pass "
            "that webhook's payload with --event"
        )
    return ProtectionEvent(
        environment=environment,
        sha=sha,
        callback_url=callback,
        default_branch=_text(data, "repository", "default_branch"),
        repository=_text(data, "repository", "full_name"),
    )


def comment(report: Report, run_url: str | None) -> str:
    """One paragraph: the decision, each blocking rule's summary, and where to read more."""
    from gatekeeper.publish.run import status_description

    parts = [status_description(report) + "."]
    parts += [f"{r.id}: {r.summary}." for r in report.blocking()]
    link = f" Details: {run_url}" if run_url else ""
    text = " ".join(" ".join(parts).split())  # one paragraph: no line breaks from summaries
    if len(text) + len(link) > MAX_COMMENT:
        text = text[: MAX_COMMENT - len(link) - 1] + "…"
    return text + link


def answer(client: GitHubClient, event: ProtectionEvent, approved: bool, note: str) -> None:
    """Post the decision to the callback URL (retried on 5xx and timeouts: GitHub keeps
    the first answer). Raises ``EvidenceError`` when GitHub did not take it."""
    payload = {
        "environment_name": event.environment,
        "state": "approved" if approved else "rejected",
        "comment": note,
    }
    try:
        client.post(event.callback_url, payload)
    except EvidenceError as e:
        raise EvidenceError(
            f"the deployment protection rule was not answered: {e}",
            "check the token may review deployments (a GitHub App with deployments: write, "
            "or the workflow's token in a `deployment_protection_rule` run); the deployment "
            "waits until its timeout otherwise",
        ) from None
