"""The terminal report: decision first, then each rule with its summary and next step."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

import click

from gatekeeper.model import Decision, RuleResult, Status
from gatekeeper.report.model import Report

MARKS = {
    Status.PASS: ("✓ PASS", "green"),
    Status.WARN: ("! WARN", "yellow"),
    Status.FAIL: ("✗ FAIL", "red"),
    Status.ERROR: ("✗ ERROR", "red"),
    Status.SKIPPED: ("- SKIP", "bright_black"),
    Status.WAIVED: ("~WAIVED", "cyan"),
}


def _headline(report: Report, style: Callable[..., str]) -> str:
    blocking = report.blocking()
    if report.decision is Decision.APPROVE:
        text = style("APPROVE", fg="green", bold=True)
        waived = len(report.waived())
        extra = f" or is waived ({waived} waived)" if waived else ""
        return f"Decision: {text}: every blocking rule passed{extra}"
    if report.nothing_judged:
        return f"Decision: {style('BLOCK', fg='red', bold=True)}: {report.nothing_judged_summary}"
    noun = "rule blocks" if len(blocking) == 1 else "rules block"
    ids = ", ".join(r.id for r in blocking)
    return f"Decision: {style('BLOCK', fg='red', bold=True)}: {len(blocking)} {noun} the release ({ids})"


MAX_PLACES = 5
"""File positions shown per rule on a terminal; the JSON report has them all."""


def _places(r: RuleResult) -> str:
    shown = ", ".join(a.where for a in r.annotations[:MAX_PLACES])
    more = r.place_count - min(MAX_PLACES, len(r.annotations))
    return shown + (f" and {more} more" if more > 0 else "")


def waiver_line(waiver: dict[str, Any]) -> str:
    """A waiver in one line: reason, approver, expiry and scope."""
    scope = waiver.get("scope") or {}
    parts = [f"approved by {waiver['approved_by']}", f"expires {waiver['expires']}"]
    if scope.get("paths"):
        parts.append(f"paths {', '.join(scope['paths'])}")
    if scope.get("head"):
        parts.append(f"head {scope['head']}")
    return f"{waiver['reason']} ({'; '.join(parts)})"


def _plain(text: str, **_: object) -> str:
    return text


def _wrap(first: str, text: str, indent: int, width: int | None) -> list[str]:
    """``first`` + ``text``, folded to ``width`` with continuation lines under the text."""
    if width is None or indent + 20 > width:
        return [first + text]
    folded = textwrap.wrap(text, width - indent, break_on_hyphens=False) or [""]
    return [first + folded[0], *(" " * indent + part for part in folded[1:])]


def render(report: Report, color: bool = False, width: int | None = None) -> str:
    """The report for a terminal; ``color`` adds ANSI styles and ``width`` folds long
    lines (the CLI asks for both on a TTY; logs and files get one line per fact)."""
    style = click.style if color else _plain
    lines = [
        f"Gatekeeper: {report.policy_name} ({report.policy_source or report.policy_path})",
        _headline(report, style),
    ]
    if report.head:
        span = (
            f"{report.merge_base[:12]}..{report.head[:12]}"
            if report.merge_base
            else report.head[:12]
        )
        extra = "".join(
            f", {k} {v}" for k, v in (("branch", report.branch), ("env", report.env)) if v
        )
        lines.append(f"Range: {span}{extra}")
    lines.extend(f"Note: {n}" for n in report.notes)
    lines.append("")
    column = max((len(r.id) + len(r.check) for r in report.results), default=0) + 3
    for r in report.results:
        mark, colour = MARKS[r.status]
        label = f"{r.id} ({r.check})"
        head = f"  {style(f'{mark:<7}', fg=colour)}  {label:<{column}}  "
        pad = " " * (13 + column)
        lines += _wrap(head, r.summary, len(pad), width)
        if r.status is Status.WAIVED and r.waiver:
            lines += _wrap(pad, f"waived: {waiver_line(r.waiver)}", len(pad) + 8, width)
        elif r.remedy and r.status is not Status.PASS:
            lines += _wrap(pad, f"→ {r.remedy}", len(pad) + 2, width)
        if r.annotations and r.status not in (Status.PASS, Status.SKIPPED):
            lines += _wrap(pad, f"at {_places(r)}", len(pad) + 3, width)
    counts = ", ".join(f"{n} {s}" for s, n in report.counts.items() if n)
    total = len(report.results)
    lines += ["", f"{total} rule{'' if total == 1 else 's'}: {counts or 'none'}"]
    return "\n".join(lines) + "\n"
