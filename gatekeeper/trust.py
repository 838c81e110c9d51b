"""Which policy a run applies, and why: the trust decision of every ``gatekeeper check``.

A change under review must not be able to weaken its own gate. So in CI
(``GITHUB_ACTIONS``, or any ``CI=true`` environment), and in any run about a pull request,
the policy file is read from the base commit (``git show <base>:<path>``), in every kind
of event: ``pull_request``, ``merge_group``, ``issue_comment`` and ``push`` alike. Only an
explicit ``--policy-source worktree`` opts out. On a laptop (no CI environment) the work
tree's copy stays the default, so that a policy author can try an edit.

The policy path is mapped into the repository without following symbolic links, and a
path that is a symlink (or runs through one) on the base, the head or the work tree is
refused: a link would let the change point the gate at another file of the base.
When the change edits the policy, the report says the edit takes effect only after merge.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import UsageError

if TYPE_CHECKING:
    from gatekeeper.evidence.git import GitEvidence
    from gatekeeper.policy import Policy

SOURCES = ("base", "worktree")
_CI_TRUE = {"true", "1", "yes"}
_SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class PolicyChoice:
    """Where this run reads its policy from (``base`` or ``worktree``) and why."""

    origin: str
    reason: str


@dataclass(frozen=True)
class PolicyText:
    """The policy text a run applies: where it was read (the base or the work tree) and why."""

    text: str
    source: str
    """Where the text came from, for messages: a path, or ``REF:PATH`` from git."""
    origin: str
    """``base`` or ``worktree``."""
    changed_in_pr: bool = False
    reason: str = ""
    """Why this origin was chosen (see ``choose_source``)."""
    base_notes: tuple[str, ...] = ()
    """One line per ``extends`` base the change edits (its trusted copy was applied)."""

    @property
    def note(self) -> str | None:
        if not self.changed_in_pr:
            return None
        path = self.source.split(":", 1)[-1]
        return (
            f"This pull request changes {path}; the base version was applied. "
            "The change takes effect once it is merged."
        )

    @property
    def origin_note(self) -> str:
        """One line for the report: which copy of the policy was applied, and why."""
        where = "the base commit" if self.origin == "base" else "the work tree"
        return f"Policy read from {where} ({self.source}): {self.reason}."


def ci_marker(environ: Mapping[str, str]) -> str | None:
    """The variable that says this is a CI run (``GITHUB_ACTIONS=true``, ``CI=true``...),
    or ``None`` on a laptop."""
    if environ.get("GITHUB_ACTIONS", "").strip().lower() == "true":
        return "GITHUB_ACTIONS=true"
    ci = environ.get("CI", "").strip().lower()
    if ci in _CI_TRUE:
        return f"CI={environ['CI'].strip()}"
    # CI systems that do not set CI=true themselves.
    for name in ("JENKINS_URL", "TF_BUILD", "BUILDKITE", "TEAMCITY_VERSION"):
        if environ.get(name, "").strip():
            return f"{name} is set"
    return None


def is_pr_run(environ: Mapping[str, str], options: Mapping[str, Any]) -> bool:
    """Whether this run is about a pull request (from the event payload or ``--pr``)."""
    if not options.get("pr") and not environ.get("GITHUB_EVENT_PATH"):
        return False  # nothing to read: a laptop run need not import the GitHub client
    from gatekeeper.evidence.github import config_from

    return config_from(environ, options).pr is not None


def choose_source(
    environ: Mapping[str, str], options: Mapping[str, Any], requested: str | None = None
) -> PolicyChoice:
    """Base or work tree, and the reason, for a run that judges a change against a base."""
    if requested is not None and requested not in SOURCES:
        raise UsageError(f"--policy-source must be one of {', '.join(SOURCES)}")
    if requested == "worktree":
        return PolicyChoice("worktree", "--policy-source worktree was given")
    if requested == "base":
        return PolicyChoice("base", "--policy-source base was given")
    marker = ci_marker(environ)
    if marker:
        return PolicyChoice(
            "base",
            f"a CI run ({marker}) judging a change against its base applies the base's "
            "policy, so the change cannot weaken its own gate (--policy-source worktree "
            "opts out)",
        )
    if is_pr_run(environ, options):
        return PolicyChoice(
            "base",
            "a pull-request run applies the base's policy, so the pull request cannot "
            "weaken its own gate (--policy-source worktree opts out)",
        )
    return PolicyChoice(
        "worktree",
        "a local run (no CI environment) applies the work tree's copy, so an edit can be "
        "tried (--policy-source base applies the base's)",
    )


def _roots(git: GitEvidence) -> list[Path]:
    root = Path(os.path.abspath(git.path))
    return list(dict.fromkeys([root, Path(os.path.realpath(root))]))


def relative_path(git: GitEvidence, policy: Path) -> str | None:
    """``policy`` as a repository path, mapped without following any symbolic link
    (``None`` if it is not inside the work tree)."""
    path = Path(os.path.abspath(policy))  # lexical: '..' folded, links left alone
    for root in _roots(git):
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            continue
        return rel if rel not in ("", ".") else None
    return None


def _prefixes(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _tree_modes(git: GitEvidence, sha: str, rel: str) -> dict[str, str]:
    """Git modes of ``rel`` and of every folder above it in commit ``sha``."""

    def listing(*args: str) -> dict[str, str]:
        out = git.git("--literal-pathspecs", "ls-tree", "--full-tree", "-z", *args)
        modes = {}
        for entry in filter(None, out.split(b"\0")):
            meta, _, name = entry.partition(b"\t")
            modes[name.decode("utf-8", "surrogateescape")] = meta.split(b" ", 1)[0].decode()
        return modes

    modes = listing("-r", "-t", sha, "--", rel)
    # git does not descend through a symlink: the first component it did not list is
    # either absent or a link (or a file); list that one entry by itself.
    gap = next((p for p in _prefixes(rel) if p not in modes), None)
    if gap is not None and gap != rel:
        modes.update(listing(sha, "--", gap))
    return modes


def refuse_symlinks(git: GitEvidence, rel: str) -> None:
    """A policy path that is, or runs through, a symbolic link on the base, the head or
    the work tree is an error: it would let a change choose which file is the policy."""
    for sha, label in ((git.base_sha, "base"), (git.head_sha, "head")):
        modes = _tree_modes(git, sha, rel)
        link = next((p for p in _prefixes(rel) if modes.get(p) == _SYMLINK_MODE), None)
        if link is not None:
            _symlink_error(rel, link, f"on the {label} commit {sha[:12]}")
    for prefix in _prefixes(rel):
        if (git.path / prefix).is_symlink():
            _symlink_error(rel, prefix, "in the work tree")


def refuse_linked_policy(git: GitEvidence, policy: Path) -> None:
    """``refuse_symlinks`` for a policy path, if it lies inside the repository."""
    rel = relative_path(git, policy)
    if rel is not None:
        refuse_symlinks(git, rel)


def _symlink_error(rel: str, link: str, where: str) -> None:
    what = "is a symbolic link" if link == rel else f"runs through the symbolic link {link}"
    raise UsageError(
        f"{rel}: the policy path {what} {where}; a policy must be a regular file in the "
        "repository (a link would let a change choose which file is its gate)"
    )


def _read_worktree(policy: Path, choice: PolicyChoice) -> PolicyText:
    try:
        # O_NOFOLLOW: the last component must not be a link (checked again with git).
        fd = os.open(policy, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as e:
        if policy.is_symlink():
            raise UsageError(
                f"{policy}: the policy path is a symbolic link; a policy must be a regular "
                "file (a link would let a change choose which file is its gate)"
            ) from None
        if isinstance(e, FileNotFoundError):
            raise UsageError(
                f"{policy}: no such policy file; write a starter policy with "
                f"`gatekeeper init {policy}` or pass --policy FILE"
            ) from None
        raise UsageError(f"{policy}: cannot read the policy ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise UsageError(f"{policy}: the policy is not a regular file")
        data = f.read()
    return PolicyText(
        data.decode("utf-8", "replace"), str(policy), "worktree", reason=choice.reason
    )


def read_policy(policy: Path, git: GitEvidence | None, choice: PolicyChoice) -> PolicyText:
    """The policy text this run must apply."""
    rel = relative_path(git, policy) if git is not None else None
    if git is not None:
        refuse_linked_policy(git, policy)
    if choice.origin == "worktree" or git is None:
        return _read_worktree(policy, choice)
    if rel is None:
        raise UsageError(
            f"{policy}: this run reads the policy from the base commit, so it must be a file "
            "inside the repository (or pass --policy-source worktree)"
        )
    base = git.read(rel, ref=git.base_sha)
    if base is None and (policy.is_file() or git.read(rel) is not None):
        # The first change of a new repository adds its policy: say what happens next.
        raise UsageError(
            f"{rel} does not exist on the base commit {git.base_sha[:12]} yet: this change "
            "adds it. The policy is read from the base so that a change cannot write its own gate; it "
            "applies from the next change once this one is merged (to try it now, run "
            "gatekeeper check --policy-source worktree)"
        )
    if base is None:
        raise UsageError(
            f"{rel} does not exist on the base commit {git.base_sha[:12]}: this run reads the "
            "policy from the base so a change cannot weaken its own gate; merge the "
            "policy first (or pass --policy-source worktree to trust this change's copy)"
        )
    head = policy.read_bytes() if policy.is_file() else git.read(rel)
    return PolicyText(
        base.decode("utf-8", "replace"),
        f"{git.base_sha[:12]}:{rel}",
        "base",
        changed_in_pr=head is None or head != base,
        reason=choice.reason,
    )


def trusted_policy(
    policy_path: Path, git: GitEvidence | None, choice: PolicyChoice
) -> tuple[Policy, PolicyText]:
    """The policy this run applies, parsed; and where its text came from."""
    from gatekeeper.policy import loads_policy

    text = read_policy(policy_path, git, choice)
    if text.origin != "base" or git is None:
        return loads_policy(text.text, text.source), text
    from gatekeeper.policy.extends import Origin

    # Its `extends` paths are read at the same trusted commit, not from the change.
    origin = Origin.git(git.path, git.base_sha, text.source.split(":", 1)[1])
    reads: list[Origin] = []
    policy = loads_policy(text.text, text.source, origin, reads)
    notes = tuple(
        f"This pull request changes {base.path}, a base of the policy (extends); the base "
        "commit's version was applied. The change takes effect once it is merged."
        for base in dict.fromkeys(reads)
        if base.repo == git.path and base.commit == git.base_sha and _edited(git, base.path)
    )
    return policy, replace(text, base_notes=notes)


def _edited(git: GitEvidence, rel: str) -> bool:
    """Whether the change's copy of ``rel`` (work tree, else head) differs from the base's."""
    file = git.path / rel
    head = file.read_bytes() if file.is_file() and not file.is_symlink() else git.read(rel)
    return head != git.read(rel, ref=git.base_sha)
