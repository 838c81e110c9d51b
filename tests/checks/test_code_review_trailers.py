"""code-review without a PR: a ``Reviewed-by:`` trailer from the commit's own author (under
any spelling, also through ``.mailmap``) or from a bot is no review (issue 9, item 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gatekeeper.checks import with_defaults
from gatekeeper.checks.code_review import CHECK
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Outcome, Status
from tests.factories import RepoFactory

# The factory's author is "Test Author <author@example.com>".
MAILMAP = "Test Author <author@example.com> <alias@home.org>\n"


def judge(repo: RepoFactory, base: str, **options: Any) -> Outcome:
    ctx = RunContext(repo.path, datetime.now(UTC), base=base, environ={})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def judge_one(repo: RepoFactory, trailer: str) -> Outcome:
    """One commit on top of the head whose only trailer is ``Reviewed-by: <trailer>``."""
    base = repo.repo.head.commit.hexsha
    repo.commit({"a.txt": trailer}, f"Change\n\nReviewed-by: {trailer}")
    return judge(repo, base)


@pytest.mark.parametrize(
    "trailer",
    [
        "Test Author <author@example.com>",
        "test author <someone-else@example.com>",  # same name, any case
        "Someone Else <AUTHOR@Example.com>",  # same email, any case
        "author@example.com",  # a bare address
    ],
)
def test_the_authors_own_trailer_does_not_count(repo: RepoFactory, trailer: str) -> None:
    outcome = judge_one(repo, trailer)
    assert outcome.status is Status.FAIL
    [discounted] = outcome.details["discounted_trailers"]
    assert discounted["reason"] == "own author" and discounted["trailer"] == trailer
    assert "1 Reviewed-by: trailer(s) not counted" in outcome.summary


def test_the_author_under_a_mailmap_alias_does_not_count(repo: RepoFactory) -> None:
    repo.commit({".mailmap": MAILMAP}, "mailmap")
    outcome = judge_one(repo, "Home Me <alias@home.org>")
    assert outcome.status is Status.FAIL
    assert outcome.details["discounted_trailers"][0]["reason"] == "own author"


def test_without_the_mailmap_the_alias_is_someone_else(repo: RepoFactory) -> None:
    assert judge_one(repo, "Home Me <alias@home.org>").status is Status.PASS


@pytest.mark.parametrize(
    "trailer",
    [
        "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
        "Renovate <29139614+renovate[bot]@users.noreply.github.com>",
        "release-bot <release@example.com>",
    ],
)
def test_a_bots_trailer_does_not_count(repo: RepoFactory, trailer: str) -> None:
    outcome = judge_one(repo, trailer)
    assert outcome.status is Status.FAIL
    assert outcome.details["discounted_trailers"][0]["reason"] == "bot"


def test_the_ignore_patterns_apply_to_trailers(repo: RepoFactory) -> None:
    base = repo.repo.head.commit.hexsha
    repo.commit({"a.txt": "x"}, "Change\n\nReviewed-by: ci-runner <ci@example.com>")
    assert judge(repo, base).status is Status.PASS
    assert judge(repo, base, ignore=["ci-*"]).status is Status.FAIL


def test_another_persons_trailer_counts_next_to_the_authors(repo: RepoFactory) -> None:
    base = repo.repo.head.commit.hexsha
    repo.commit(
        {"a.txt": "x"},
        "Change\n\nReviewed-by: Test Author <author@example.com>\nReviewed-by: Bob <bob@example.com>",
    )
    outcome = judge(repo, base)
    assert outcome.status is Status.PASS
    assert len(outcome.details["discounted_trailers"]) == 1


@pytest.mark.parametrize("trailer", ["--help <x@example.com>", "Bob <bob@example.com> <evil>"])
def test_hostile_trailers_are_judged_not_run(repo: RepoFactory, trailer: str) -> None:
    # A name that looks like an option, or text that is no contact, is compared as written.
    assert judge_one(repo, trailer).status is Status.PASS
