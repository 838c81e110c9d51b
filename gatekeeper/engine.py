"""The rule engine: each rule of a policy, judged on the run's evidence."""

from __future__ import annotations

from dataclasses import replace

from gatekeeper.checks import Check, get, with_defaults
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence
from gatekeeper.model import Outcome, RuleResult, Severity, Status
from gatekeeper.policy import Policy, Rule
from gatekeeper.policy.conditions import why_not
from gatekeeper.secrets import redact, redact_data, secret_values


def evaluate(policy: Policy, ev: Evidence) -> list[RuleResult]:
    """One result per rule, in policy order. Never raises for a rule's own failure."""
    from gatekeeper.policy.waivers import apply

    results = [evaluate_rule(rule, ev) for rule in policy.rules]
    return apply(results, policy.waivers, ev) if policy.waivers else results


def evaluate_rule(rule: Rule, ev: Evidence) -> RuleResult:
    outcome = _redacted(_outcome(rule, ev), secret_values(ev.environ))
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
        remedy=_named_remedy(outcome.remedy, rule.id),
        annotations=outcome.annotations,
        annotations_total=outcome.annotations_total,
    )


_WAIVE_HINT = "gatekeeper waive RULE "


def _named_remedy(remedy: str | None, rule_id: str) -> str | None:
    """A check does not know the rule's id; a remedy that names `gatekeeper waive RULE`
    gets the id filled in, so the command can be copied as it is."""
    if remedy and _WAIVE_HINT in remedy:
        return remedy.replace(_WAIVE_HINT, f"gatekeeper waive {rule_id} ")
    return remedy


def _outcome(rule: Rule, ev: Evidence) -> Outcome:
    check = get(rule.check)
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
        import logging  # only here: a run without a crash need not import it

        logging.getLogger(__name__).debug("check %s crashed", check.name, exc_info=True)
        return Outcome.errored(
            f"check {check.name!r} crashed: {type(e).__name__}: {e}",
            "this is a bug in the check; re-run with --debug and report it. "
            "The release stays blocked until the rule can be evaluated",
        )


def _redacted(outcome: Outcome, secrets: tuple[str, ...]) -> Outcome:
    """The outcome with the run's secrets masked wherever a message may have carried
    them (a crash's text, an echoed response): every report is built from it."""
    if not secrets:
        return outcome
    outcome.summary = redact(outcome.summary, secrets)
    outcome.remedy = redact_data(outcome.remedy, secrets)
    outcome.details = redact_data(outcome.details, secrets)
    outcome.annotations = [
        replace(a, message=redact(a.message, secrets)) for a in outcome.annotations
    ]
    return outcome


def _checked(outcome: Outcome, check: Check) -> Outcome:
    if not isinstance(outcome, Outcome):
        raise TypeError(f"check {check.name!r} returned {type(outcome).__name__}, not an Outcome")
    if outcome.status not in (Status.PASS, Status.SKIPPED) and not outcome.remedy:
        outcome.remedy = f"see `gatekeeper explain {check.name}`"
    return outcome
