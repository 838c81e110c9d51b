"""The rule engine: each rule of a policy, judged on the run's evidence."""

from __future__ import annotations

import logging

from gatekeeper.checks import Check, registry, with_defaults
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence
from gatekeeper.model import Outcome, RuleResult, Severity, Status
from gatekeeper.policy import Policy, Rule
from gatekeeper.policy.conditions import why_not

log = logging.getLogger(__name__)


def evaluate(policy: Policy, ev: Evidence) -> list[RuleResult]:
    """One result per rule, in policy order. Never raises for a rule's own failure."""
    return [evaluate_rule(rule, ev) for rule in policy.rules]


def evaluate_rule(rule: Rule, ev: Evidence) -> RuleResult:
    outcome = _outcome(rule, ev)
    status = outcome.status
    if status is Status.FAIL and rule.severity is Severity.WARN:
        status = Status.WARN
    return RuleResult(
        id=rule.id,
        check=rule.check,
        severity=rule.severity,
        status=status,
        summary=outcome.summary,
        details=outcome.details,
        remedy=outcome.remedy,
        annotations=outcome.annotations,
        annotations_total=outcome.annotations_total,
    )


def _outcome(rule: Rule, ev: Evidence) -> Outcome:
    check = registry().get(rule.check)
    if check is None:  # the loader refuses these; a plug-in may have been removed since
        return Outcome.errored(f"unknown check {rule.check!r}", "fix the policy's `check:`")
    try:
        reason = why_not(rule.when, ev)
        if reason is not None:
            return Outcome(Status.SKIPPED, f"not applicable: {reason}")
        return _checked(check.evaluate(with_defaults(check, rule.options), ev), check)
    except EvidenceError as e:
        return Outcome.errored(
            f"evidence unavailable: {e}",
            (e.remedy or "make the evidence available and re-run")
            + "; the release stays blocked until then",
        )
    except Exception as e:  # fail closed: a broken check must block, not crash or approve
        log.debug("check %s crashed", check.name, exc_info=True)
        return Outcome.errored(
            f"check {check.name!r} crashed: {type(e).__name__}: {e}",
            "this is a bug in the check; re-run with --debug and report it. "
            "The release stays blocked until the rule can be evaluated",
        )


def _checked(outcome: Outcome, check: Check) -> Outcome:
    if not isinstance(outcome, Outcome):
        raise TypeError(f"check {check.name!r} returned {type(outcome).__name__}, not an Outcome")
    if outcome.status not in (Status.PASS, Status.SKIPPED) and not outcome.remedy:
        outcome.remedy = f"see `gatekeeper explain {check.name}`"
    return outcome
