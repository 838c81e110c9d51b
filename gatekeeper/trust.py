"""Where the policy is read from: the trusted base in a pull-request run.

A pull request must not be able to weaken its own gate, so in a PR run the policy file is
read from the base commit (``git show <base>:<path>``), not from the checked-out head.
``--policy-source worktree`` opts out explicitly. When the PR changes the policy file the
report says that the change takes effect only after merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.errors import UsageError

if TYPE_CHECKING:
    from gatekeeper.evidence.git import GitEvidence

SOURCES = ("base", "worktree")


@dataclass(frozen=True)
class PolicyText:
    text: str
    source: str
    """Where the text came from, for messages: a path, or ``REF:PATH`` from git."""
    origin: str
    """``base`` or ``worktree``."""
    changed_in_pr: bool = False

    @property
    def note(self) -> str | None:
        if not self.changed_in_pr:
            return None
        path = self.source.split(":", 1)[-1]
        return (
            f"This pull request changes {path}; the base version was applied. "
            "The change takes effect once it is merged."
        )


def _relative(git: GitEvidence, policy: Path) -> str:
    path = policy if policy.is_absolute() else Path.cwd() / policy
    try:
        return path.resolve().relative_to(git.path.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"{policy}: in a pull-request run the policy is read from the base commit, so it "
            "must be inside the repository (or pass --policy-source worktree)"
        ) from None


def read_policy(
    policy: Path, git: GitEvidence | None, *, pr_run: bool, source: str = "base"
) -> PolicyText:
    """The policy text this run must apply."""
    if source not in SOURCES:
        raise UsageError(f"--policy-source must be one of {', '.join(SOURCES)}")
    if not pr_run or source == "worktree" or git is None:
        try:
            return PolicyText(policy.read_text(encoding="utf-8"), str(policy), "worktree")
        except OSError as e:
            raise UsageError(f"{policy}: cannot read the policy ({e.strerror})") from None
    rel = _relative(git, policy)
    base = git.read(rel, ref=git.base_sha)
    if base is None:
        raise UsageError(
            f"{rel} does not exist on the base commit {git.base_sha[:12]}: in a pull-request "
            "run the policy comes from the base so a PR cannot weaken its own gate; merge the "
            "policy first (or pass --policy-source worktree to trust this PR's copy)"
        )
    head = policy.read_bytes() if policy.is_file() else git.read(rel)
    changed = head is None or head != base
    return PolicyText(
        base.decode("utf-8", "replace"),
        f"{git.base_sha[:12]}:{rel}",
        "base",
        changed_in_pr=changed,
    )
