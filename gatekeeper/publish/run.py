"""The GitHub parts of ``gatekeeper check``, kept out of the CLI: run options and
publishing the verdict. (Which policy applies is decided in ``gatekeeper.trust``.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import GatekeeperError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.report import Report


def run_options(pr: int | None, repository: str | None) -> dict[str, Any]:
    """The ``RunContext.options`` the command line gives the GitHub provider."""
    options: dict[str, Any] = {}
    if pr is not None:
        options["pr"] = pr
    if repository:
        options["repository"] = repository
    return options


def status_description(report: Report) -> str:
    """One line for the commit status (GitHub cuts at 140 characters; so do we)."""
    from gatekeeper.model import Decision

    total = len(report.results)
    if report.decision is Decision.APPROVE:
        return f"Release approved: {total} rule{'s' if total != 1 else ''} checked"
    if report.nothing_judged:
        return "Release blocked: nothing was judged (every rule was skipped)"
    blocking = [r.id for r in report.blocking()]
    noun = "rule" if total == 1 else "rules"
    return f"Release blocked by {len(blocking)} of {total} {noun}: {', '.join(blocking)}"


def publish_report(
    ev: Evidence,
    report: Report,
    *,
    report_path: str | None,
    comment: bool,
    status: bool,
    err: Callable[[str], None],
    markdown: Callable[[], str] | None = None,
) -> None:
    """Publish a finished run's report (summary, outputs, annotations; comment and status
    on request) and print what happened; never raises for a publishing problem.
    ``markdown`` gives the report's Markdown when a job summary or comment needs it (the
    CLI's, rendered once for every output); by default it is rendered then."""
    from gatekeeper.model import Decision
    from gatekeeper.publish import publish

    def render_markdown() -> str:
        from gatekeeper.report import render

        return render(report, "markdown")

    try:
        published = publish(
            ev,
            policy_name=report.policy_name,
            approved=report.decision is Decision.APPROVE,
            summary=status_description(report),
            markdown=markdown or render_markdown,
            results=report.results,
            report_path=report_path,
            comment=comment,
            status=status,
        )
    except (GatekeeperError, OSError) as e:
        from gatekeeper.report.escape import plain

        err(f"gatekeeper: warning: publishing failed: {plain(e)}")
        return
    # Workflow commands go to standard error: the runner reads both streams, and standard
    # output may be the JSON report that a later step parses.
    from gatekeeper.report.escape import printable

    for line in [*published.commands, *published.warnings]:
        err(printable(line))
