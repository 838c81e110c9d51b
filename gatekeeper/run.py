"""One `gatekeeper check` run, separate from the command line that asks for it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import GatekeeperError, UsageError
from gatekeeper.evidence import Evidence, RunContext, ci
from gatekeeper.evidence.git import GitEvidence, base_from_environment

if TYPE_CHECKING:
    from gatekeeper.policy import Policy
    from gatekeeper.report import Report


@dataclass
class CheckRequest:
    """What one `gatekeeper check` judges: the policy, the change (base, head, work tree),
    the target environment and branch, and the clock."""

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
    found = ci.base_ref(req.repo, req.environ)  # GitLab CI, Jenkins, Buildkite, CircleCI
    if found:
        return found
    raise UsageError(
        "no base ref: pass --base REF (the branch or tag the release is compared with, e.g. "
        "--base origin/main), or run in a pull_request workflow where GITHUB_BASE_REF is set (or "
        "a GitLab merge request, Jenkins or Buildkite pull request build)"
    )


def target_branch(req: CheckRequest, git: GitEvidence, base: str) -> str | None:
    """The branch the change goes into, for ``when.branches``."""
    if req.branch:
        return req.branch
    env = req.environ
    if env.get("GITHUB_BASE_REF"):
        return env["GITHUB_BASE_REF"]
    if ci.target_branch(env):
        return ci.target_branch(env)
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
    from gatekeeper.trust import choose_source, trusted_policy

    # A change must not weaken its own gate: in CI its policy comes from the base commit.
    choice = choose_source(req.environ, req.options, req.policy_source)
    # git starts first (the diff runs in the background from here on), but a bad
    # work-tree policy is reported before anything git says.
    try:
        base = resolve_base(req)
        git = _open_git(req, base)
    except GatekeeperError:
        if choice.origin == "worktree":
            trusted_policy(req.policy, None, choice)
        raise
    try:
        return _run_check(req, choice, base, git)
    finally:
        git.close()


def _open_git(req: CheckRequest, base: str) -> GitEvidence:
    """The run's git evidence, its diff started. A thread asks git (resolve the refs, the
    merge base, start the diff: each step waits on git) while this one imports what the
    run needs next, which would otherwise wait its turn; it has ended on return (so the
    coverage readers may fork)."""
    import threading

    opened: list[GitEvidence] = []
    failed: list[BaseException] = []

    def open_git() -> None:
        try:
            git = GitEvidence(req.repo, base, req.head, req.worktree)
            opened.append(git)
            git.prefetch()
        except BaseException as e:
            failed.append(e)

    thread = threading.Thread(target=open_git, name="gatekeeper-git", daemon=True)
    thread.start()
    try:
        _import_run_modules()
    finally:
        thread.join()
    if failed:
        for git in opened:
            git.close()
        raise failed[0]
    return opened[0]


def _import_run_modules() -> None:
    """Import the modules ``_run_check`` uses (the policy loader, PyYAML, the engine)."""
    import gatekeeper.engine
    import gatekeeper.policy.conditions
    import gatekeeper.policy.waivers
    import gatekeeper.report  # noqa: F401


def _run_check(
    req: CheckRequest, choice: Any, base: str, git: GitEvidence
) -> tuple[Report, Evidence]:
    from gatekeeper.engine import evaluate
    from gatekeeper.policy.conditions import check_environment, waiting_note
    from gatekeeper.policy.waivers import attach as attach_waivers
    from gatekeeper.report import Report
    from gatekeeper.trust import refuse_linked_policy, relative_path, trusted_policy

    early = trusted_policy(req.policy, None, choice) if choice.origin == "worktree" else None
    notes = ["work-tree changes included (--worktree)"] if req.worktree else []
    if early is not None:
        policy, text = early
        refuse_linked_policy(git, req.policy)  # the copy read before git's answer, checked now
    else:
        policy, text = trusted_policy(req.policy, git, choice)
    notes.append(text.origin_note)
    if text.note:
        notes.append(text.note)
    notes.extend(text.base_notes)
    # Waivers come from where the policy came from: a change cannot waive its own failures.
    policy = attach_waivers(policy, req.policy, git, text.origin == "base", req.now)
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
        rule_lines={rule.id: rule.line for rule in policy.rules},
        policy_repo_path=relative_path(git, req.policy),
        allow_all_skipped=policy.allow_all_skipped,
    )
    return report, evidence


# -- gatekeeper verify: after the deploy, without a base ref or a diff ------------------

NO_DIFF = (
    "this rule needs the git diff, and `gatekeeper verify` has none (it runs after the "
    "deploy, without a base ref)"
)


@dataclass
class VerifyRequest:
    """What one `gatekeeper verify` judges: the policy and the deployed commit (no base,
    no diff)."""

    policy: Path
    now: datetime
    repo: Path = Path(".")
    head: str = "HEAD"
    env: str | None = None
    branch: str | None = None
    strict: bool = False
    release_tags: str | None = None
    """Glob of release tags, to name the previous release in a rollback remedy (default: a
    ``rollback-plan`` rule's ``previous_release``, else ``v*``)."""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    options: dict[str, Any] = field(default_factory=dict)


class VerifyEvidence(Evidence):
    """Evidence without a diff: a rule that asks for git's range is an ``error`` saying why."""

    @property
    def git(self) -> GitEvidence:
        from gatekeeper.errors import EvidenceError

        if "sha" not in self.ctx.options:
            # Reached by a rule that needs the deployed commit (promotion, --status) too.
            raise EvidenceError(
                f"{NO_DIFF}; nor is the deployed commit known ({self.ctx.repo_path} is not a git "
                "checkout and GITHUB_SHA is not set)",
                "run verify in a checkout of the deployed commit (--repo DIR) or set GITHUB_SHA; "
                "rules that need the diff belong in the `gatekeeper check` policy",
            )
        raise EvidenceError(
            NO_DIFF, "move this rule to the `gatekeeper check` policy that gates the release"
        )


def run_verify(req: VerifyRequest) -> tuple[Report, Evidence]:
    """Evaluate a policy after a deploy; a failed rule's remedy names the rollback target
    when the policy asks for rollbacks (a ``rollback-plan`` rule or a runbook)."""
    from gatekeeper.engine import evaluate
    from gatekeeper.evidence import releases
    from gatekeeper.policy import load_policy
    from gatekeeper.policy.conditions import check_environment, waiting_note
    from gatekeeper.policy.waivers import attach as attach_waivers
    from gatekeeper.report import Report

    policy = load_policy(req.policy)
    # As in `check`: an unknown --env is refused (it would skip rules by omission), and
    # waivers come with the policy (here the deployed checkout's: there is no base).
    check_environment(policy, req.env)
    policy = attach_waivers(policy, req.policy, None, False, req.now)
    head_sha = releases.resolve(req.repo, req.head)
    if head_sha is None and req.head != "HEAD":
        raise UsageError(f"head ref {req.head!r} is not a commit in {req.repo}")
    options = dict(req.options)
    if head_sha and "sha" not in options:
        options["sha"] = head_sha  # the deployed commit: what `promotion` and `--status` use
    ctx = RunContext(
        repo_path=req.repo,
        now=req.now,
        base=None,
        head=req.head,
        env=req.env,
        branch=req.branch or _verify_branch(req),
        environ=req.environ,
        options=options,
    )
    evidence = VerifyEvidence(ctx)
    results = evaluate(policy, evidence)
    notes = ["post-deploy verification (gatekeeper verify): no base ref and no diff"]
    notes += filter(None, [waiting_note(policy, req.env)])
    plan = rollback_plan(policy)
    if plan is not None:
        notes.extend(_rollback(results, req, plan))
    report = Report(
        policy_name=policy.name,
        policy_path=str(req.policy),
        policy_sha256=policy.sha256,
        policy_source=policy.source,
        results=results,
        repo_path=str(req.repo.resolve()),
        head=head_sha,
        branch=ctx.branch,
        env=req.env,
        strict=req.strict,
        notes=notes,
        policy_origin="worktree",
        policy_reason="gatekeeper verify applies the policy of the deployed checkout "
        "(it gates no change, so there is no base to read it from)",
        allow_all_skipped=policy.allow_all_skipped,
    )
    return report, evidence


def _verify_branch(req: VerifyRequest) -> str | None:
    env = req.environ
    if env.get("GITHUB_REF_TYPE") == "branch" and env.get("GITHUB_REF_NAME"):
        return env["GITHUB_REF_NAME"]
    from gatekeeper.evidence import releases

    return releases.symbolic_head(req.repo)


@dataclass(frozen=True)
class RollbackPlan:
    """What the policy says about rolling back, for ``gatekeeper verify``'s remedies."""

    runbook: str = ""
    """Where the steps are (a path, or the pull request's Rollback section); "" if unnamed."""
    tags: str | None = None
    """Release-tag glob from a ``rollback-plan`` rule's ``previous_release``."""


def rollback_plan(policy: Policy) -> RollbackPlan | None:
    """The plan when the policy has one: a top-level ``runbook:``, a ``rollback-plan`` rule,
    or a rule naming a runbook (``with: {runbook: ...}``); else None."""
    planned = policy.runbook is not None
    runbook, tags = policy.runbook or "", None
    for rule in policy.rules:
        options = rule.options if isinstance(rule.options, dict) else {}
        if rule.check == "rollback-plan":
            planned = True
            glob = options.get("previous_release", "v*")
            if tags is None and isinstance(glob, str) and glob:
                tags = glob
        path = options.get("runbook")
        if isinstance(path, str) and path:
            planned = True
            if not runbook:  # `pr_body` is rollback-plan's name for the PR's section
                runbook = "the pull request's Rollback section" if path == "pr_body" else path
    return RollbackPlan(runbook, tags) if planned else None


def _rollback(results: list[Any], req: VerifyRequest, plan: RollbackPlan) -> list[str]:
    """Name the previous release in every failed rule's remedy; the note for the report."""
    from gatekeeper.evidence import releases
    from gatekeeper.model import Status

    failed = [r for r in results if r.status is Status.FAIL and r.blocks]
    if not failed:
        return []
    glob = req.release_tags or plan.tags or "v*"
    previous = releases.previous_release(req.repo, req.head, glob)
    how = f" following {plan.runbook}" if plan.runbook else ""
    if previous:
        advice = f"if it does not recover, roll back to {previous} (the previous release){how}"
        note = f"Rollback target: {previous} (previous tag matching {glob})"
    else:
        advice = (
            f"if it does not recover, roll back{how}; no earlier release tag matching "
            f"{glob} is reachable from {req.head} (pass --release-tags GLOB)"
        )
        note = f"Rollback target unknown: no earlier tag matching {glob}"
    for r in failed:
        r.remedy = f"{r.remedy}; {advice}" if r.remedy else advice
    return [note]
