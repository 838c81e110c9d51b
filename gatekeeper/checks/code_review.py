"""``code-review``: the change was reviewed the way GitHub itself counts reviews.

Per reviewer only the latest APPROVED, CHANGES_REQUESTED or DISMISSED review counts (a
later COMMENTED review does not undo an approval; DISMISSED cancels it). The PR author's
own approval never counts, nor do logins matching ``ignore`` (bots). With ``stale:
dismiss`` an approval counts only if it was given on the current head commit.
Without a pull request (a branch or tag run), each commit in the range must carry a
``Reviewed-by:`` trailer or have come through a merged PR with a qualifying approval.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gatekeeper.checks import Check
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import codeowners, mailmap
from gatekeeper.evidence import github as gh
from gatekeeper.evidence.reviews import ReviewState, ignored, review_state
from gatekeeper.model import Outcome

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.git import Commit

_TRAILER = re.compile(r"^Reviewed-by:[ \t]*(\S[^\n]*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_CONTACT = re.compile(r"^(.*?)\s*<([^<>]*)>$")
_TRAILER_BOTS = ["*[bot]", "*-bot"]
"""Never reviewers in a trailer, whatever ``ignore`` says: a bot cannot review."""

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min_approvals": {
            "type": "integer",
            "minimum": 0,
            "default": 1,
            "description": "Approvals needed from qualifying reviewers.",
        },
        "stale": {
            "enum": ["dismiss", "keep"],
            "default": "dismiss",
            "description": "dismiss: an approval counts only on the current head commit.",
        },
        "changes_requested": {
            "enum": ["block", "ignore"],
            "default": "block",
            "description": "block while any reviewer's latest review requests changes.",
        },
        "reviewers": {
            "type": "array",
            # A GitHub login, or org/team-slug; an optional leading '@' as in CODEOWNERS.
            "items": {
                "type": "string",
                "pattern": r"^@?[A-Za-z0-9][A-Za-z0-9-]*(/[A-Za-z0-9._-]+)?$",
            },
            "description": "Users and org/team slugs whose approvals count "
            "(default: anyone with write access).",
        },
        "codeowners": {
            "type": "boolean",
            "default": False,
            "description": "Each changed path owned in CODEOWNERS needs an owner's approval.",
        },
        "ignore": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "default": ["*[bot]"],
            "description": "Login patterns (* and ? wildcards) whose reviews are ignored.",
        },
        "min_reviewed_ratio": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 1.0,
            "description": "Without a PR: the share of commits that must be reviewed.",
        },
    },
}


def _owner_approved(ev: Evidence, owners: tuple[str, ...], approvers: list[str]) -> bool:
    for owner in owners:
        if "/" in owner:
            if any(gh.team_member(ev, owner, login) for login in approvers):
                return True
        elif owner in approvers:
            return True  # an e-mail owner cannot be matched to a login and never is
    return False


def _missing_owners(
    ev: Evidence, state: ReviewState, options: dict[str, Any]
) -> dict[str, list[str]]:
    owners_file = codeowners.load(ev)
    if owners_file.path is None:
        raise EvidenceError(
            "codeowners: true, but there is no CODEOWNERS in .github/, the root or docs/ "
            "on the base commit"
        )
    # Owners must have write access for GitHub to accept the CODEOWNERS line, so an
    # owner's valid (non-stale) approval is enough here, whatever `reviewers` says.
    keep = options["stale"] == "keep"
    approvers = [a["user"] for a in state.approvals if a["current"] or keep]
    paths: list[str] = []
    for f in gh.pr_files(ev):
        paths.append(f["filename"])
        if f.get("previous_filename"):
            paths.append(f["previous_filename"])
    missing: dict[str, list[str]] = {}
    for path in sorted(set(paths)):
        owners = owners_file.owners_of(path)
        if owners and not _owner_approved(ev, owners, approvers):
            missing[path] = [o if "@" in o and "/" not in o else f"@{o}" for o in owners]
    return missing


def _evaluate_pr(options: dict[str, Any], ev: Evidence) -> Outcome:
    pr = gh.pull_request(ev)
    # Approvals are judged against the commit this run evaluates (the event's head), so a
    # push after the run started cannot borrow approvals for code that was not checked.
    state = review_state(ev, pr, gh.reviews(ev), options, gh.head_sha(ev))
    need = options["min_approvals"]
    missing = _missing_owners(ev, state, options) if options["codeowners"] else {}
    details = {
        "approvals": state.approvals,
        "changes_requested": state.changes_requested,
        "missing_owners": missing,
        "unreviewed_commits": [],
        "head_sha": state.head_sha,
    }
    problems, remedies = [], []
    if len(state.counted) < need:
        stale = [a["user"] for a in state.approvals if not a["current"]]
        seen = f"{len(state.counted)} qualifying approval(s)"
        if stale and options["stale"] == "dismiss":
            seen += f" ({', '.join(stale)} approved an older commit)"
        problems.append(f"{seen}, {need} required")
        remedies.append(
            "get an approval on the current head commit"
            if stale and options["stale"] == "dismiss"
            else "ask a reviewer with write access"
            + (f" ({', '.join(options['reviewers'])})" if options.get("reviewers") else "")
            + " to approve"
        )
    if state.changes_requested and options["changes_requested"] == "block":
        problems.append(f"changes requested by {', '.join(state.changes_requested)}")
        remedies.append("address the requested changes and get those reviewers to approve")
    if missing:
        shown = "; ".join(f"{p} (owners: {' '.join(o)})" for p, o in list(missing.items())[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        problems.append(f"no code-owner approval for {shown}{more}")
        remedies.append("get an approval from an owner of each listed path")
    if problems:
        return Outcome.failed(
            f"PR #{pr['number']}: " + "; ".join(problems),
            "; ".join(remedies).capitalize(),
            **details,
        )
    who = ", ".join(state.counted) or "none needed"
    return Outcome.passed(
        f"PR #{pr['number']}: {len(state.counted)} qualifying approval(s) ({who}), {need} required",
        **details,
    )


def _merged_pr_approved(ev: Evidence, sha: str, options: dict[str, Any]) -> bool:
    need = max(1, options["min_approvals"])
    for pr in gh.pulls_for_commit(ev, sha):
        if not pr.get("merged_at"):
            continue
        state = review_state(ev, pr, gh.reviews(ev, pr["number"]), options)
        if len(state.counted) >= need:
            return True
    return False


def _contact(text: str) -> mailmap.Contact:
    """``Name <email>``, a bare address or a bare name, as (name, email)."""
    m = _CONTACT.match(text)
    if m:
        return (m.group(1).strip().strip('"'), m.group(2).strip())
    return ("", text) if "@" in text and " " not in text else (text, "")


def _same_person(a: mailmap.Contact, b: mailmap.Contact) -> bool:
    """The same name or the same email, ignoring case (either is enough)."""
    return any(x and x.casefold() == y.casefold() for x, y in zip(a, b, strict=True))


def _is_bot(contact: mailmap.Contact, patterns: list[str]) -> bool:
    name, email = contact
    # GitHub's noreply addresses: 49699333+dependabot[bot]@users.noreply.github.com
    login = email.split("@", 1)[0].rsplit("+", 1)[-1] if "@" in email else ""
    return any(ignored(who, patterns) for who in (name, login) if who)


def _trailer_verdicts(
    ev: Evidence, commits: list[Commit], options: dict[str, Any]
) -> tuple[set[str], list[dict[str, str]]]:
    """Commits with a ``Reviewed-by:`` from someone else, and the trailers that did not
    count: the commit's own author (as written or through ``.mailmap``) or a bot."""
    found = [(c, text, _contact(text)) for c in commits for text in _TRAILER.findall(c.message)]
    authors = {c.sha: (c.author_name, c.author_email) for c in commits}
    mapped = mailmap.canonical(ev, [*authors.values(), *(who for *_, who in found)])
    bots = [*_TRAILER_BOTS, *options.get("ignore", [])]
    reviewed: set[str] = set()
    discounted: list[dict[str, str]] = []
    for commit, text, who in found:
        author = authors[commit.sha]
        if _same_person(who, author) or _same_person(
            mapped.get(who, who), mapped.get(author, author)
        ):
            discounted.append({"commit": commit.sha, "trailer": text, "reason": "own author"})
        elif _is_bot(who, bots):
            discounted.append({"commit": commit.sha, "trailer": text, "reason": "bot"})
        else:
            reviewed.add(commit.sha)
    return reviewed, discounted


def _evaluate_range(options: dict[str, Any], ev: Evidence) -> Outcome:
    commits = ev.git.commits
    cfg = gh.config(ev)
    use_api = bool(cfg.token and cfg.repository)
    by_trailer, discounted = _trailer_verdicts(ev, commits, options)
    unreviewed = [
        c.sha
        for c in commits
        if c.sha not in by_trailer and not (use_api and _merged_pr_approved(ev, c.sha, options))
    ]
    details = {
        "approvals": [],
        "changes_requested": [],
        "missing_owners": {},
        "unreviewed_commits": unreviewed,
        "discounted_trailers": discounted,
    }
    if not commits:
        return Outcome.passed("no commits in the range to review", **details)
    reviewed = len(commits) - len(unreviewed)
    ratio = reviewed / len(commits)
    need = options["min_reviewed_ratio"]
    seen = f"{reviewed} of {len(commits)} commits reviewed ({ratio:.0%})"
    how = "a Reviewed-by: trailer" + (" or an approved merged PR" if use_api else "")
    if ratio >= need:
        return Outcome.passed(f"{seen}, {need:.0%} required", **details)
    remedy = f"Review the listed commits ({how})"
    if not use_api:
        remedy += "; set GITHUB_TOKEN and GITHUB_REPOSITORY so merged PRs' approvals count"
    short = ", ".join(s[:12] for s in unreviewed[:5])
    ignored = (
        f"; {len(discounted)} Reviewed-by: trailer(s) not counted (the commit's own author "
        "or a bot)"
        if discounted
        else ""
    )
    return Outcome.failed(
        f"{seen}, {need:.0%} required; unreviewed: {short}{ignored}", remedy, **details
    )


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    if gh.config(ev).pr is not None:
        return _evaluate_pr(options, ev)
    return _evaluate_range(options, ev)


CHECK = Check(
    name="code-review",
    title="The change was approved by reviewers, as GitHub counts reviews",
    options=OPTIONS,
    evaluate=evaluate,
    example={"min_approvals": 2, "stale": "dismiss", "codeowners": True},
    description=(
        "Counts reviews as GitHub does: per reviewer the latest APPROVED, CHANGES_REQUESTED or "
        "DISMISSED review (a later comment does not undo an approval); the author's own and "
        "ignored logins (bots) never count. With `stale: dismiss` an approval counts only on "
        "the head commit. `codeowners: true` asks for an owner's approval on every owned "
        "changed path (CODEOWNERS read from the base). Without a pull request, each commit in "
        "the range needs a `Reviewed-by:` trailer or an approved merged PR; a trailer naming "
        "the commit's own author (name or email, any case, also through `.mailmap`) or a bot "
        "(`*[bot]`, `*-bot`, the `ignore` patterns) does not count."
    ),
)
