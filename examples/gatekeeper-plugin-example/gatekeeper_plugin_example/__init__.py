"""``max-changed-files``: a release changes at most ``limit`` files (an example plugin).

A check is pure: it asks Gatekeeper's evidence for facts (here the changed paths of the
range being judged) and returns an ``Outcome``; it never runs git or reads files itself.
"""

from __future__ import annotations

from typing import Any

from gatekeeper.checks import Check
from gatekeeper.evidence import Evidence
from gatekeeper.model import Outcome

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "limit": {
            "type": "integer",
            "minimum": 1,
            "default": 50,
            "description": "The most files one release may change.",
        },
    },
}


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    paths = ev.git.changed_paths
    limit = options["limit"]
    if len(paths) <= limit:
        return Outcome.passed(f"{len(paths)} files changed (limit {limit})", changed=len(paths))
    return Outcome.failed(
        f"{len(paths)} files changed, more than the limit of {limit}",
        "split the change into smaller releases, or raise `limit` in the policy",
        changed=len(paths),
        limit=limit,
    )


CHECK = Check(
    name="max-changed-files",
    title="A release changes at most `limit` files",
    options=OPTIONS,
    evaluate=evaluate,
    example={"limit": 20},
    description="Large releases are hard to review and to roll back; keep them small.",
)
