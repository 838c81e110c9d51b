"""The Markdown report, used by the PR comment and the job summary.

Everything that did not come from Gatekeeper itself (summaries quote file names and
branch names from the change) goes through ``escape.md_text``.
"""

from __future__ import annotations

from gatekeeper.model import Decision, RuleResult, Status
from gatekeeper.report.escape import md_code, md_text
from gatekeeper.report.model import Report
from gatekeeper.report.text import waiver_line

ICONS = {
    Status.PASS: "✅",
    Status.WARN: "⚠️",
    Status.FAIL: "❌",
    Status.ERROR: "🛑",
    Status.SKIPPED: "⏭️",
    Status.WAIVED: "🎫",
}


def _title(report: Report) -> str:
    name = md_text(report.policy_name)
    if report.decision is Decision.APPROVE:
        waived = len(report.waived())
        return f"### ✅ Release approved: {name}" + (f" ({waived} waived)" if waived else "")
    if report.nothing_judged:
        return f"### ❌ Release blocked: {name} ({report.nothing_judged_summary})"
    blocking = report.blocking()
    noun = "rule blocks" if len(blocking) == 1 else "rules block"
    return f"### ❌ Release blocked: {name} ({len(blocking)} {noun})"


def _context(report: Report) -> str:
    parts = [f"policy {md_code(report.policy_source or report.policy_path)}"]
    if report.head:
        parts.append(f"head {md_code(report.head[:12])}")
    if report.merge_base:
        parts.append(f"since {md_code(report.merge_base[:12])}")
    if report.branch:
        parts.append(f"branch {md_code(report.branch)}")
    if report.env:
        parts.append(f"environment {md_code(report.env)}")
    return " · ".join(parts)


MAX_PLACES = 30
"""Places listed per rule in the comment; the JSON report has them all."""


def _places(r: RuleResult) -> list[str]:
    """A folded list of the file positions a non-passing rule points at."""
    if r.status in (Status.PASS, Status.SKIPPED) or not r.annotations:
        return []
    total = r.place_count
    noun = "place" if total == 1 else "places"
    # Rule ids are [a-z0-9-] (schema), safe inside HTML as they are.
    out = ["", f"<details><summary>{r.id}: {total} {noun}</summary>", ""]
    shown = r.annotations[:MAX_PLACES]
    for a in shown:
        out.append(f"- {md_code(a.where)} {md_text(a.message)}".rstrip())
    if total > len(shown):
        out.append(f"- and {total - len(shown)} more (see the JSON report)")
    out += ["", "</details>"]
    return out


MAX_FAILING_TESTS = 30
"""Failing tests listed per rule in the comment; ``details.failing_tests`` has them all."""


def _failing_tests(r: RuleResult) -> list[str]:
    """A folded list of the failing tests a rule names (``details.failing_tests``)."""
    failing = r.details.get("failing_tests") if r.status is not Status.SKIPPED else None
    if not failing or not isinstance(failing, list):
        return []
    noun = "failing test" if len(failing) == 1 else "failing tests"
    out = ["", f"<details><summary>{r.id}: {len(failing)} {noun}</summary>", ""]
    for f in failing[:MAX_FAILING_TESTS]:
        message = f" {md_text(f['message'])}" if f.get("message") else ""
        out.append(f"- {md_code(f['test'])} ({f['outcome']}){message}")
    if len(failing) > MAX_FAILING_TESTS:
        out.append(f"- and {len(failing) - MAX_FAILING_TESTS} more (see the JSON report)")
    out += ["", "</details>"]
    return out


def render(report: Report) -> str:
    lines = [_title(report), "", _context(report), ""]
    lines += [f"> {md_text(n)}" for n in report.notes]
    if report.notes:
        lines.append("")
    lines += ["| | Rule | Result |", "|---|---|---|"]
    for r in report.results:
        summary = md_text(r.summary)
        if r.status is Status.WAIVED and r.waiver:
            summary += f"<br>**Waived:** {md_text(waiver_line(r.waiver))}"
        elif r.remedy and r.status is not Status.PASS:
            summary += f"<br>**Next step:** {md_text(r.remedy)}"
        lines.append(
            f"| {ICONS[r.status]} {r.status.value} | {md_code(r.id)} ({md_code(r.check)}) | {summary} |"
        )
    for r in report.results:
        lines += _places(r)
        lines += _failing_tests(r)
    counts = ", ".join(f"{n} {s}" for s, n in report.counts.items() if n)
    total = len(report.results)
    lines += ["", f"<sub>{total} rule{'' if total == 1 else 's'}: {counts or 'none'}</sub>"]
    return "\n".join(lines) + "\n"
