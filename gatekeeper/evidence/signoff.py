"""Sign-off evidence: who approved a set of changed paths, by commit trailer or by review.

A trailer (``Schema-Approved-By: Name <email>``) is read by git's own trailer parser (only
the message's last paragraph holds trailers). Anyone can type one into their own commit, so
a trailer counts only when

- its identity (the e-mail, or the login of a GitHub no-reply address) is a listed signer;
- no later commit in the range touches the signed paths (a sign-off is for what it saw,
  as a stale approval is dismissed);
- the signer authored none of the range's commits that touch those paths: nobody signs off
  their own migration (as GitHub never counts a PR author's own approval).

Git identities are not authenticated: where contributors are not trusted, ask for sign-off
by review (``via: [review]``), which GitHub authenticates. A review counts when it is the
reviewer's latest, APPROVED, on the head commit, by a listed user or team member, read
through ``evidence.reviews`` exactly as ``code-review`` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gatekeeper.evidence import github as gh
from gatekeeper.evidence.reviews import review_state

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

_ANGLE = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_BARE = re.compile(r"^\s*([^<>\s]+@[^<>\s]+)\s*$")
_NOREPLY = re.compile(r"^(?:\d+\+)?([a-z0-9][a-z0-9-]*)@users\.noreply\.github\.com$")
TRAILER_NAME = r"^[A-Za-z0-9][A-Za-z0-9-]*$"


@dataclass(frozen=True)
class Trailer:
    sha: str
    value: str
    email: str | None


@dataclass(frozen=True)
class RangeCommit:
    sha: str
    author_email: str
    paths: frozenset[str]
    trailers: tuple[Trailer, ...]


def identity(value: str) -> str | None:
    """The e-mail of ``Name <email>`` (or of a bare address), lower-cased."""
    m = _ANGLE.search(value) or _BARE.match(value)
    return m.group(1).lower() if m else None


def trailer_commits(ev: Evidence, key: str) -> list[RangeCommit]:
    """Commits of merge-base..head, oldest first, with their paths and ``key`` trailers."""

    def read() -> list[RangeCommit]:
        git = ev.git
        rng = f"{git.merge_base}..{git.head_sha}"
        fmt = f"%x1e%H%x00%ae%x00%(trailers:key={key},valueonly,separator=%x1f)%x00"
        out = git.git(
            "log", "--reverse", "--no-renames", "--name-only", "-z", f"--format={fmt}", rng
        ).decode("utf-8", "surrogateescape")
        commits = []
        for record in filter(None, out.split("\x1e")):
            sha, email, values, *paths = record.split("\x00")
            trailers = tuple(
                Trailer(sha, v.strip(), identity(v)) for v in values.split("\x1f") if v.strip()
            )
            files = frozenset(p.strip("\n") for p in paths if p.strip("\n"))
            commits.append(RangeCommit(sha, email.lower(), files, trailers))
        return commits

    return ev.cached(("signoff", "trailers", key.lower()), read)


def _signer_matches(email: str, signers: list[str]) -> str | None:
    wanted = {s.lower().lstrip("@") for s in signers}
    if email in wanted:
        return email
    m = _NOREPLY.match(email)
    if m and m.group(1) in wanted:
        return m.group(1)
    return None


def by_trailer(
    ev: Evidence, key: str, signers: list[str], paths: set[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Counted trailer sign-offs (``{by, via, commit}``) and why others did not count."""
    commits = trailer_commits(ev, key)
    counted: list[dict[str, Any]] = []
    ignored: list[str] = []
    authors = {c.author_email for c in commits if c.paths & paths}
    for index, commit in enumerate(commits):
        later = any(c.paths & paths for c in commits[index + 1 :])
        for trailer in commit.trailers:
            short = f"{key}: {trailer.value[:80]} ({commit.sha[:12]})"
            who = _signer_matches(trailer.email, signers) if trailer.email else None
            if who is None:
                ignored.append(f"{short}: not a listed signer")
            elif trailer.email in authors:
                ignored.append(f"{short}: the signer authored a commit changing these files")
            elif later:
                ignored.append(f"{short}: a later commit changes the signed files again")
            else:
                counted.append({"by": who, "via": "trailer", "commit": commit.sha})
    return counted, ignored


def review_available(ev: Evidence) -> bool:
    cfg = gh.config(ev)
    return cfg.pr is not None and bool(cfg.token and cfg.repository)


def by_review(ev: Evidence, signers: list[str]) -> list[dict[str, Any]]:
    """Approving reviews on the head commit by listed users or members of listed teams."""
    reviewers = [s.lstrip("@") for s in signers if "@" not in s.lstrip("@")]
    if not reviewers or not review_available(ev):
        return []
    options = {"stale": "dismiss", "ignore": ["*[bot]"], "reviewers": reviewers}
    state = review_state(ev, gh.pull_request(ev), gh.reviews(ev), options, gh.head_sha(ev))
    return [{"by": login, "via": "review"} for login in state.counted]
