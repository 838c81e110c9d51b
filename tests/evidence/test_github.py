from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence import github as gh
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401


def evidence(fake: FakeGitHub, tmp_path: Path, **options: object) -> Evidence:
    ctx = RunContext(tmp_path, datetime.now(UTC), environ=fake.environ(), options=dict(options))
    return Evidence(ctx)


def test_config_from_event_file(tmp_path: Path) -> None:
    event = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "user": {"login": "alice"},
            "head": {"sha": "a" * 40, "ref": "feature"},
            "base": {"sha": "b" * 40, "ref": "main"},
        },
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    env = {
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "acme/widgets",
        "GH_TOKEN": "t0k",
        "GITHUB_RUN_ID": "99",
    }
    cfg = gh.config_from(env)
    assert (cfg.pr, cfg.head_sha, cfg.base_ref, cfg.base_sha) == (7, "a" * 40, "main", "b" * 40)
    assert cfg.api_url == "https://api.github.com"
    assert cfg.token == "t0k" and "t0k" not in repr(cfg)
    assert cfg.run_url == "https://github.com/acme/widgets/actions/runs/99"
    # --pr for another PR must not borrow this event's head SHA.
    other = gh.config_from(env, {"pr": 8, "repository": "o/r"})
    assert (other.pr, other.head_sha, other.repository) == (8, None, "o/r")


def test_pagination_follows_link_headers_with_per_page_100(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    for i in range(250):
        github.add_file(1, f"src/f{i}.py")
    ev = evidence(github, tmp_path, pr=1)
    files = gh.pr_files(ev)
    assert [f["filename"] for f in files] == [f"src/f{i}.py" for i in range(250)]
    pages = github.requests("GET", "/files")
    assert len(pages) == 3
    assert all(r.query["per_page"] == ["100"] for r in pages)


def test_no_request_is_made_twice(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    github.add_review(1, "bob", "APPROVED")
    ev = evidence(github, tmp_path, pr=1)
    for _ in range(3):
        gh.pull_request(ev)
        gh.reviews(ev)
    assert len(github.log) == 2


def test_500s_then_success_is_retried(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1, title="ok")
    github.fail(r"/pulls/1$", 502, times=2)
    ev = evidence(github, tmp_path, pr=1)
    assert gh.pull_request(ev)["title"] == "ok"
    assert len(github.requests("GET", "/pulls/1")) == 3


def test_persistent_500_errors_naming_endpoint_and_status(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    github.fail(r"/pulls/1$", 500)
    ev = evidence(github, tmp_path, pr=1)
    started = time.monotonic()
    with pytest.raises(EvidenceError) as e:
        gh.pull_request(ev)
    assert time.monotonic() - started < 1
    message = str(e.value)
    assert "GET /repos/acme/widgets/pulls/1" in message and "HTTP 500" in message
    assert "gave up after 3 attempts" in message
    # The failure is remembered: asking again does not hit the server again.
    with pytest.raises(EvidenceError):
        gh.pull_request(ev)
    assert len(github.requests("GET", "/pulls/1")) == 3


def test_timeouts_are_retried_then_error(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    github.fail(r"/pulls/1$", None, delay=0.7)
    env = github.environ(GATEKEEPER_GITHUB_TIMEOUT="0.2", GATEKEEPER_GITHUB_RETRIES="1")
    ev = Evidence(RunContext(tmp_path, datetime.now(UTC), environ=env, options={"pr": 1}))
    expected = r"GET /repos/acme/widgets/pulls/1 failed: no response \(timed out after 0.2 s"
    with pytest.raises(EvidenceError, match=expected):
        gh.pull_request(ev)


def test_connection_refused_is_an_error(tmp_path) -> None:
    env = {"GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_REPOSITORY": "a/b",
           "GATEKEEPER_GITHUB_RETRIES": "1", "GATEKEEPER_GITHUB_BACKOFF": "0.01"}
    ev = Evidence(RunContext(tmp_path, datetime.now(UTC), environ=env, options={"pr": 3}))
    expected = r"GET /repos/a/b/pulls/3 failed: no response \(connection failed"
    with pytest.raises(EvidenceError, match=expected):
        gh.pull_request(ev)


def test_401_explains_the_token(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    env = github.environ(GITHUB_TOKEN="wrong-token-value")
    ev = Evidence(RunContext(tmp_path, datetime.now(UTC), environ=env, options={"pr": 1}))
    with pytest.raises(EvidenceError) as e:
        gh.pull_request(ev)
    assert "HTTP 401 (Bad credentials)" in str(e.value)
    assert "github.token" in str(e.value)
    assert "wrong-token-value" not in str(e.value)
    assert len(github.log) == 1  # a 401 is not retried


def test_404_explains_the_permission(github: FakeGitHub, tmp_path) -> None:
    ev = evidence(github, tmp_path, pr=404)
    with pytest.raises(EvidenceError, match=r"HTTP 404 \(Not Found\).*pull-requests: read"):
        gh.pull_request(ev)


def test_rate_limit_waits_when_it_fits_the_budget(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1, title="ok")
    github.fail(r"/pulls/1$", 429, times=1, headers={"retry-after": "1"})
    ev = evidence(github, tmp_path, pr=1)
    slept: list[float] = []
    client = gh.GitHubClient(gh.config(ev), sleep=slept.append)
    assert client.get("/repos/acme/widgets/pulls/1")["title"] == "ok"
    assert slept == [1.0]


def test_rate_limit_beyond_the_budget_fails_at_once(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    reset = str(int(time.time()) + 3600)
    github.fail(
        r"/pulls/1$", 403,
        body={"message": "API rate limit exceeded for installation ID 1.",
              "documentation_url": "https://docs.github.com/rest/rate-limit"},
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )
    ev = evidence(github, tmp_path, pr=1)
    started = time.monotonic()
    with pytest.raises(EvidenceError) as e:
        gh.pull_request(ev)
    assert time.monotonic() - started < 0.5
    assert "HTTP 403 (rate limited: API rate limit exceeded" in str(e.value)
    assert "GET /repos/acme/widgets/pulls/1" in str(e.value)
    assert len(github.log) == 1


def test_token_is_sent_but_never_shown(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    echo = {"message": f"echo {github.token}", "documentation_url": ""}
    github.fail(r"/pulls/1$", 500, body=echo)
    ev = evidence(github, tmp_path, pr=1)
    with pytest.raises(EvidenceError) as e:
        gh.pull_request(ev)
    assert github.log[0].headers["Authorization"] == f"Bearer {github.token}"
    assert github.token not in str(e.value) and github.token not in repr(e.value)
    assert github.token not in repr(gh.client(ev)) and github.token not in repr(gh.config(ev))


def test_team_membership(github: FakeGitHub, tmp_path) -> None:
    github.teams["acme/core"] = {"bob"}
    ev = evidence(github, tmp_path)
    assert gh.team_member(ev, "acme/core", "bob")
    assert not gh.team_member(ev, "acme/core", "carol")
    with pytest.raises(EvidenceError, match="read:org"):
        gh.team_member(ev, "acme/ghost", "bob")


def test_missing_repository_is_explained(tmp_path) -> None:
    ev = Evidence(RunContext(tmp_path, datetime.now(UTC), environ={}, options={"pr": 1}))
    with pytest.raises(EvidenceError, match="GITHUB_REPOSITORY"):
        gh.pull_request(ev)


def test_a_non_json_answer_is_an_evidence_error(github: FakeGitHub, tmp_path) -> None:
    github.add_pr(1)
    github.fail(r"/pulls/1$", 200, body=b"<html>proxy login</html>")
    ev = evidence(github, tmp_path, pr=1)
    expected = r"GET /repos/acme/widgets/pulls/1 failed: HTTP 200 \(the response is not JSON"
    with pytest.raises(EvidenceError, match=expected):
        gh.pull_request(ev)


def test_an_unreadable_event_payload_is_a_usage_error(tmp_path) -> None:
    from gatekeeper.errors import UsageError

    broken = tmp_path / "event.json"
    broken.write_text("{not json")
    with pytest.raises(UsageError, match="GITHUB_EVENT_PATH"):
        gh.config_from({"GITHUB_EVENT_PATH": str(broken)})
