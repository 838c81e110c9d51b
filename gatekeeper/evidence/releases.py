"""Release tags: which release a failed deploy should roll back to.

Read from git tags (glob ``v*`` by default) without a base ref or a diff, so that
``gatekeeper verify`` can name the previous release after a deploy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def resolve(repo: Path, ref: str) -> str | None:
    """The commit ``ref`` names in ``repo``, or None (not a repository, unknown ref)."""
    out = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return out.strip() or None if out else None


def previous_release(repo: Path, head: str, glob: str = "v*") -> str | None:
    """The newest tag matching ``glob`` reachable from ``head`` that does not point at
    ``head`` itself (that one is the release being verified); newest by version order."""
    head_sha = resolve(repo, head)
    if head_sha is None:
        return None
    out = _git(
        repo,
        "for-each-ref",
        "--merged",
        head_sha,
        "--sort=-v:refname",
        "--format=%(refname:short)%00%(*objectname)%00%(objectname)",
        f"refs/tags/{glob}",
    )
    for line in (out or "").splitlines():
        name, peeled, target = [*line.split("\0"), "", ""][:3]
        if (peeled or target) != head_sha:
            return name
    return None


def symbolic_head(repo: Path) -> str | None:
    """The checked-out branch, or None (detached, or not a repository)."""
    out = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
    return out.strip() or None if out else None
