"""Threat: the GitHub token leaks into what the job prints or publishes.

The report, standard output and error, the JSON report and the job summary are read by
anyone who can see the pull request's checks (for a public repository: everyone); the
job summary is Markdown-escaped, which also defeats the runner's own secret masking. A
token pasted with a trailing newline made ``http.client`` raise ``ValueError: Invalid
header value b'Bearer <token>\\n'`` and that text reached all of them. The token is
stripped, refused (without being shown) when it has control characters inside, and
every exception text leaving the GitHub client is scrubbed, whatever raised it; the
engine and the CLI mask the token again as a backstop.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import github as gh
from gatekeeper.secrets import redact, secret_values
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401
from tests.test_github_cli import PullRequestRun, pr_run  # noqa: F401

TOKEN = "ghs_testtoken"  # the fake's token


def outputs(run: PullRequestRun, *args: str) -> tuple[int, dict[str, Any], str]:
    """Exit code, JSON report, and everything the run wrote anywhere, joined."""
    summary = run.repo.path.parent / "summary.md"
    run.env["GITHUB_STEP_SUMMARY"] = str(summary)
    run.env["GITHUB_ACTIONS"] = "true"
    code, out, err, report = run.check(*args)
    written = summary.read_text() if summary.exists() else ""
    everything = "\n".join([out, err, json.dumps(report), written])
    everything += "".join(c["body"] for c in run.github.comments[1])
    return code, report, everything


def test_a_token_with_a_trailing_newline_is_stripped_and_never_printed(
    pr_run: PullRequestRun,  # noqa: F811
) -> None:
    pr_run.env["GITHUB_TOKEN"] = TOKEN + "\n"
    _, report, everything = outputs(pr_run, "--comment", "--status")
    ci = next(r for r in report["rules"] if r["id"] == "ci")
    assert ci["status"] == "pass", ci  # the stripped token worked
    assert TOKEN not in everything
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in pr_run.github.log)


@pytest.mark.parametrize("bad", [f"ghs_test\ntoken{TOKEN}", f"{TOKEN}\x01x", f"{TOKEN} more"])
def test_a_token_with_control_characters_inside_is_refused_without_showing_it(
    pr_run: PullRequestRun, bad: str  # noqa: F811
) -> None:
    pr_run.env["GITHUB_TOKEN"] = bad
    code, report, everything = outputs(pr_run, "--comment", "--status")
    assert code == 1
    ci = next(r for r in report["rules"] if r["id"] == "ci")
    assert ci["status"] == "error"
    assert "has a control, space or non-ASCII character at position" in ci["summary"]
    for piece in (TOKEN, "ghs_test", bad.strip()):
        assert piece not in everything
    assert "skipped" in everything  # publishing says why it did nothing
    assert not pr_run.github.log  # the token was never sent


class _Exploding:
    """A session whose transport raises an arbitrary exception quoting the token."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.headers: dict[str, str] = {}
        self.auth: Any = None

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise self.exc


@pytest.mark.parametrize(
    "exc",
    [
        ValueError(f"Invalid header value b'Bearer {TOKEN}\\n'"),
        RuntimeError(f"proxy said: Authorization: token {TOKEN}"),
        UnicodeEncodeError("latin-1", f"Bearer {TOKEN}\u2019", 18, 19, "ordinal not in range"),
    ],
)
def test_every_exception_leaving_the_client_is_scrubbed(exc: Exception) -> None:
    config = gh.GitHubConfig(api_url="https://api.github.com", token=TOKEN)
    client = gh.GitHubClient(config, session=_Exploding(exc))  # type: ignore[arg-type]
    with pytest.raises(gh.GitHubHTTPError) as caught:
        client.get("/repos/acme/widgets/pulls/1")
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert type(exc).__name__ in str(caught.value)


def test_a_crashing_check_quoting_the_token_is_masked_in_every_output(
    pr_run: PullRequestRun, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from gatekeeper.checks import ci_checks

    def leak(ev: Any, sha: str) -> list[Any]:
        raise KeyError(f"token={ev.environ['GITHUB_TOKEN']}")

    monkeypatch.setattr(ci_checks.gh, "check_runs", leak)
    _, report, everything = outputs(pr_run, "--comment")
    ci = next(r for r in report["rules"] if r["id"] == "ci")
    assert ci["status"] == "error" and "***" in ci["summary"]
    assert TOKEN not in everything


def test_secret_values_cover_every_form_of_the_token() -> None:
    secrets = secret_values({"GITHUB_TOKEN": " ghs_abcdefgh\x01ijklmnop\n", "GH_TOKEN": "ab"})
    text = redact("a ghs_abcdefgh\x01ijklmnop b ghs_abcdefgh c ijklmnop ab", secrets)
    assert text == "a *** b *** c *** ab"


def test_check_token_names_the_position_only() -> None:
    with pytest.raises(EvidenceError) as caught:
        gh.check_token("abcdef\tghijkl")
    assert "position 7 of 13" in str(caught.value) and "abcdef" not in str(caught.value)
    gh.check_token("ghp_" + "A1" * 18)  # a real token's shape is fine
