"""One `gatekeeper check` run, separate from the command line that asks for it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gatekeeper.errors import UsageError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.git import GitEvidence, base_from_environment
from gatekeeper.report import Report


@dataclass
class CheckRequest:
    policy: Path
    now: datetime
    repo: Path = Path(".")
    base: str | None = None
    head: str = "HEAD"
    env: str | None = None
    branch: str | None = None
    strict: bool = False
    worktree: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    options: dict[str, Any] = field(default_factory=dict)
    """Run options for evidence providers (``pr``, ``repository`` for GitHub)."""
    policy_source: str | None = None
    """``base`` or ``worktree``; ``None`` decides (base in CI or a PR run): see trust.py."""


def resolve_base(req: CheckRequest) -> str:
    if req.base:
        return req.base
    found = base_from_environment(req.repo, dict(req.environ))
    if found:
        return found
    raise UsageError(
        "no base ref: pass --base REF (the branch or tag the release is compared with, e.g. "
        "--base origin/main), or run in a pull_request workflow where GITHUB_BASE_REF is set"
    )


def target_branch(req: CheckRequest, git: GitEvidence, base: str) -> str | None:
    """The branch the change goes into, for ``when.branches``."""
    if req.branch:
        return req.branch
    env = req.environ
    if env.get("GITHUB_BASE_REF"):
        return env["GITHUB_BASE_REF"]
    from_base = git.branch_of(base)
    if from_base:
        return from_base
    if env.get("GITHUB_REF_TYPE") == "branch" and env.get("GITHUB_REF_NAME"):
        return env["GITHUB_REF_NAME"]
    return git.current_branch()


def run_check(req: CheckRequest) -> Report:
    """Load the policy, gather evidence, evaluate every rule; the decision is on the report."""
    return run_check_with_evidence(req)[0]


def run_check_with_evidence(req: CheckRequest) -> tuple[Report, Evidence]:
    """``run_check``, also returning the run's evidence (publishing reuses its GitHub
    client, so nothing is fetched twice)."""
    from gatekeeper.engine import evaluate
    from gatekeeper.policy.conditions import check_environment, waiting_note
    from gatekeeper.trust import choose_source, refuse_symlinks, relative_path, trusted_policy

    # A change must not weaken its own gate: in CI its policy comes from the base commit.
    choice = choose_source(req.environ, req.options, req.policy_source)
    # A work-tree policy is read first, so that a bad policy is reported before git runs.
    early = trusted_policy(req.policy, None, choice) if choice.origin == "worktree" else None
    base = resolve_base(req)
    git = GitEvidence(req.repo, base, req.head, req.worktree)
    notes = ["work-tree changes included (--worktree)"] if req.worktree else []
    if early is not None:
        policy, text = early
        rel = relative_path(git, req.policy)
        if rel is not None:
            refuse_symlinks(git, rel)
    else:
        policy, text = trusted_policy(req.policy, git, choice)
    notes.append(text.origin_note)
    if text.note:
        notes.append(text.note)
    ctx = RunContext(
        repo_path=git.path,
        now=req.now,
        base=base,
        head=req.head,
        env=req.env,
        worktree=req.worktree,
        branch=target_branch(req, git, base),
        environ=req.environ,
        options=req.options,
    )
    check_environment(policy, req.env)
    evidence = Evidence(ctx, git)
    results = evaluate(policy, evidence)
    notes += filter(None, [waiting_note(policy, req.env)])
    report = Report(
        policy_name=policy.name,
        policy_path=str(req.policy),
        policy_sha256=policy.sha256,
        policy_source=policy.source,
        results=results,
        repo_path=str(git.path),
        base=git.base_sha,
        head=git.head_sha,
        merge_base=git.merge_base,
        branch=ctx.branch,
        env=req.env,
        strict=req.strict,
        notes=notes,
        policy_origin=text.origin,
        policy_reason=text.reason,
        allow_all_skipped=policy.allow_all_skipped,
    )
    return report, evidence
