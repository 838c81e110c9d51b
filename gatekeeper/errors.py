"""The two kinds of failure Gatekeeper knows.

``UsageError`` means no decision could be made (bad policy, bad flags, not a repo):
exit code 2.  ``EvidenceError`` means one rule could not gather what it needs: that
rule becomes ``error`` and the release is blocked (fail closed).
"""

from __future__ import annotations


class GatekeeperError(Exception):
    """Base of Gatekeeper's own errors; the message is meant for the user."""


class UsageError(GatekeeperError):
    """Bad input that prevents any decision (exit 2)."""


class PolicyError(UsageError):
    """An invalid policy; carries every problem as ``FILE:LINE:COL: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class EvidenceError(GatekeeperError):
    """Evidence was missing, unreadable or unavailable; the rule errors and blocks.

    ``remedy`` says what would make the evidence available, when the provider knows.
    """

    def __init__(self, message: str, remedy: str | None = None) -> None:
        super().__init__(message)
        self.remedy = remedy
