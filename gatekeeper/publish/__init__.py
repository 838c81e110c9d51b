"""Publishing a verdict where GitHub users read it: the sticky PR comment, the commit
status, the job summary, step outputs and annotations.

Publishing never changes the decision or the exit code. A write GitHub refuses (a pull
request from a fork gets a read-only token: 403) is skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gatekeeper.errors import EvidenceError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.model import RuleResult


@dataclass
class Published:
    """What publishing did, and the lines the CLI prints (never containing the token)."""

    done: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    """Workflow commands (annotations) for standard output."""


def publish(
    ev: Evidence,
    *,
    policy_name: str | None,
    approved: bool,
    summary: str,
    markdown: str | Callable[[], str],
    results: list[RuleResult],
    report_path: str | None = None,
    comment: bool = False,
    status: bool = False,
) -> Published:
    """``markdown`` is the report's Markdown, or a function giving it: it is rendered only
    for a job summary or a comment (a local run needs neither)."""
    environ = ev.environ
    out = Published()
    if not wanted(environ, comment=comment, status=status):
        return out
    # Imported here: a run that publishes nothing (a laptop's) need not load them.
    from gatekeeper.publish import actions

    if environ.get("GITHUB_STEP_SUMMARY") and actions.append_summary(environ, _text(markdown)):
        out.done.append("job summary")
    outputs = {"decision": "approve" if approved else "block"}
    if report_path:
        outputs["report"] = report_path
    if actions.write_outputs(environ, outputs):
        out.done.append("step outputs")
    if environ.get("GITHUB_ACTIONS") == "true":
        out.commands = actions.annotation_lines(results)
    if comment:
        _attempt(out, environ, "PR comment", lambda: _comment(ev, policy_name, _text(markdown)))
    if status:
        _attempt(
            out,
            environ,
            "commit status",
            lambda: _status(ev, policy_name, approved, summary),
        )
    return out


def wanted(environ: Mapping[str, str], *, comment: bool, status: bool) -> bool:
    """Whether ``publish`` has anything to do: a comment or a status asked for, a job
    summary or step outputs file to write, or annotations in a GitHub Actions job. A
    laptop run has none of these, and imports no publishing module."""
    return (
        comment
        or status
        or bool(environ.get("GITHUB_STEP_SUMMARY") or environ.get("GITHUB_OUTPUT"))
        or environ.get("GITHUB_ACTIONS") == "true"
    )


def _text(markdown: str | Callable[[], str]) -> str:
    return markdown if isinstance(markdown, str) else markdown()


def _attempt(
    out: Published, environ: Mapping[str, str], what: str, action: Callable[[], str]
) -> None:
    from gatekeeper.evidence.github import GitHubHTTPError
    from gatekeeper.publish import actions

    try:
        result = action()
    except GitHubHTTPError as e:
        reason = str(e)
        if e.status == 403 and e.method != "GET":
            reason = (
                f"GitHub refused the write ({e.method} {e.endpoint}: HTTP 403); a pull request "
                "from a fork gets a read-only token"
            )
        out.warnings.append(actions.warn(environ, f"{what} skipped: {reason}"))
    except EvidenceError as e:
        out.warnings.append(actions.warn(environ, f"{what} skipped: {e}"))
    else:
        out.done.append(f"{what} {result}")


def _comment(ev: Evidence, policy_name: str | None, markdown: str) -> str:
    from gatekeeper.evidence import github as gh
    from gatekeeper.publish import comment as sticky

    cfg = gh.config(ev)
    repository = cfg.require_repository()
    if cfg.pr is None:
        raise EvidenceError("this run is not about a pull request (pass --pr N)")
    from gatekeeper.report.escape import printable

    body = printable(markdown)
    return sticky.upsert(gh.client(ev), repository, cfg.pr, policy_name, body)


def _status(ev: Evidence, policy_name: str | None, approved: bool, summary: str) -> str:
    from gatekeeper.evidence import github as gh
    from gatekeeper.publish import status as commit_status

    cfg = gh.config(ev)
    repository = cfg.require_repository()
    sha = gh.head_sha(ev)
    from gatekeeper.report.escape import printable

    context = printable(commit_status.context_for(policy_name))
    summary = printable(summary)
    commit_status.post(
        gh.client(ev),
        repository,
        sha,
        approved=approved,
        description=summary,
        context=context,
        target_url=cfg.run_url,
    )
    return f"{context} on {sha[:12]}"
