"""The report: the decision and every rule's result, as one value renderers read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from gatekeeper import __version__
from gatekeeper.model import EXIT_CODES, Decision, RuleResult, Status, decide, nothing_judged


@dataclass
class Report:
    """One run's results and what they were judged on; the decision follows from them."""

    policy_name: str
    policy_path: str
    policy_sha256: str
    results: list[RuleResult]
    repo_path: str
    base: str | None = None
    head: str | None = None
    merge_base: str | None = None
    branch: str | None = None
    env: str | None = None
    strict: bool = False
    notes: list[str] = field(default_factory=list)
    policy_source: str | None = None
    allow_all_skipped: bool = False
    """The policy's ``allow_all_skipped``: a run that judged no rule may approve."""
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    policy_origin: str | None = None
    """``base`` or ``worktree``: which copy of the policy was applied (trust.py)."""
    policy_reason: str | None = None
    """Why that copy was applied."""
    rule_lines: dict[str, int] = field(default_factory=dict)
    """Each rule's line in the policy file (SARIF points rules without positions there)."""
    policy_repo_path: str | None = None
    """The policy file as a repository path, when it is inside the repository."""

    @property
    def decision(self) -> Decision:
        return decide(self.results, self.strict, self.allow_all_skipped)

    @property
    def nothing_judged(self) -> bool:
        """Blocked because every rule was skipped (see ``allow_all_skipped``)."""
        return nothing_judged(self.results) and not self.allow_all_skipped

    @property
    def nothing_judged_summary(self) -> str:
        total = len(self.results)
        rules = f"all {total} rules were" if total != 1 else "the only rule was"
        return (
            f"nothing was judged: {rules} skipped; a release nobody checked is not approved "
            "(the policy may set `allow_all_skipped: true`)"
        )

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]

    @property
    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for r in self.results:
            counts[r.status.value] += 1
        return counts

    def waived(self) -> list[RuleResult]:
        return [r for r in self.results if r.status is Status.WAIVED]

    def blocking(self) -> list[RuleResult]:
        """Rules that block the release (with ``strict``, warnings too)."""
        return [
            r
            for r in self.results
            if r.blocks or (self.strict and r.status in (Status.WARN, Status.FAIL))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "gatekeeper_version": __version__,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "decision": self.decision.value,
            "strict": self.strict,
            "nothing_judged": self.nothing_judged,
            "policy": {
                "path": self.policy_path,
                "name": self.policy_name,
                "sha256": self.policy_sha256,
                "source": self.policy_source or self.policy_path,
                **({"origin": self.policy_origin} if self.policy_origin else {}),
                **({"reason": self.policy_reason} if self.policy_reason else {}),
            },
            "repo": {
                "path": self.repo_path,
                "base": self.base,
                "head": self.head,
                "merge_base": self.merge_base,
                "branch": self.branch,
                "env": self.env,
            },
            "counts": self.counts,
            "notes": list(self.notes),
            "rules": [_rule_dict(r) for r in self.results],
        }


def _rule_dict(r: RuleResult) -> dict[str, Any]:
    return {
        "id": r.id,
        "check": r.check,
        "severity": r.severity.value,
        "status": r.status.value,
        "blocks": r.blocks,
        "summary": r.summary,
        "details": r.details,
        "remedy": r.remedy,
        "annotations": [asdict(a) for a in r.annotations],
        "waiver": r.waiver,
        "annotations_total": r.place_count,
    }


@cache
def report_schema() -> dict[str, Any]:
    from importlib import resources  # ~6 ms to import; rendering does not need it

    text = resources.files("gatekeeper.report").joinpath("report.schema.json").read_text("utf-8")
    return json.loads(text)
