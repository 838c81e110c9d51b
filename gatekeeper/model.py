"""The result model: what a check returns and how results become a decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"
    WAIVED = "waived"
    """A failure covered by a valid waiver: shown with the waiver, never blocks."""


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


class Decision(StrEnum):
    APPROVE = "approve"
    BLOCK = "block"


@dataclass(frozen=True)
class Annotation:
    """A position in the repository that a failing rule points at (CI annotations)."""

    path: str
    line: int
    end_line: int | None = None
    message: str = ""

    @property
    def where(self) -> str:
        """``path:line`` or ``path:line-end``."""
        if self.end_line in (None, self.line):
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}-{self.end_line}"


@dataclass
class Outcome:
    """What a check returns: a status with its explanation.

    ``summary`` says what was seen versus what was expected, in one line;
    ``remedy`` says what to do next (required for anything that does not pass).
    ``details`` is part of the JSON report contract for that check.
    """

    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    remedy: str | None = None
    annotations: list[Annotation] = field(default_factory=list)
    annotations_total: int | None = None
    """How many places there are when ``annotations`` holds only the first of them."""

    @classmethod
    def passed(cls, summary: str, **details: Any) -> Outcome:
        return cls(Status.PASS, summary, dict(details))

    @classmethod
    def failed(cls, summary: str, remedy: str, **details: Any) -> Outcome:
        return cls(Status.FAIL, summary, dict(details), remedy)

    @classmethod
    def errored(cls, summary: str, remedy: str, **details: Any) -> Outcome:
        return cls(Status.ERROR, summary, dict(details), remedy)


@dataclass
class RuleResult:
    """One rule's verdict in the report."""

    id: str
    check: str
    severity: Severity
    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    remedy: str | None = None
    annotations: list[Annotation] = field(default_factory=list)
    waiver: dict[str, Any] | None = None
    """The waiver considered for this rule (``state``: applied, expired, out-of-scope)."""
    annotations_total: int | None = None

    @property
    def place_count(self) -> int:
        """Every place the rule points at, also those beyond the ``annotations`` kept."""
        return max(self.annotations_total or 0, len(self.annotations))

    @property
    def blocks(self) -> bool:
        # An error blocks whatever the severity: without the evidence nobody can say
        # the rule would have passed, and Gatekeeper fails closed.
        if self.status is Status.ERROR:
            return True
        return self.severity is Severity.BLOCK and self.status is Status.FAIL


def nothing_judged(results: list[RuleResult]) -> bool:
    """No rule was evaluated: every one was skipped (or the policy had none)."""
    return all(r.status is Status.SKIPPED for r in results)


def decide(
    results: list[RuleResult], strict: bool = False, allow_all_skipped: bool = False
) -> Decision:
    """Block if any blocking rule failed or errored; with ``strict``, warnings block too.

    A run in which nothing was judged blocks too (unless the policy allows it): skipping
    every rule is not evidence that the release is fine."""
    if nothing_judged(results) and not allow_all_skipped:
        return Decision.BLOCK
    for result in results:
        if result.blocks or (strict and result.status in (Status.WARN, Status.FAIL)):
            return Decision.BLOCK
    return Decision.APPROVE


EXIT_CODES = {Decision.APPROVE: 0, Decision.BLOCK: 1}
EXIT_USAGE = 2
