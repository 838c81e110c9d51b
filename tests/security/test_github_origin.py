"""Threat: the GitHub API (or whoever answers in its name) steers the client elsewhere.

A ``Link: rel="next"`` header or a redirect can name any URL; followed blindly, the
client sends the token there (even over plain ``http://``) and reads the answer as
evidence, and a ``Link`` loop pages for ever. The token goes only to
``GITHUB_API_URL``'s scheme, host and port; a list stops with an evidence error on a
repeated page or past a page cap; a redirect elsewhere is an evidence error and its body
is never used.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence import github as gh
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401


class Elsewhere:
    """Another HTTP server on 127.0.0.1 (another port: another origin) that records
    what it receives and answers with a check run that would pass."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.seen.append(dict(self.headers.items()))
                data = b'[{"id": 1, "state": "APPROVED", "user": {"login": "mallory"}}]'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    server = Elsewhere()
    yield server
    server.server.shutdown()
    server.server.server_close()


def client(fake: FakeGitHub, **env: str) -> gh.GitHubClient:
    ctx = RunContext(Path("."), datetime.now(UTC), environ=fake.environ(**env))
    return gh.client(Evidence(ctx))


REVIEWS = "/repos/acme/widgets/pulls/1/reviews"


def test_a_link_to_another_host_is_not_followed(github: FakeGitHub, elsewhere) -> None:
    github.add_pr(1)
    github.raw_routes[REVIEWS] = (
        200, [], {"Link": f'<{elsewhere.url}/page2>; rel="next"'}
    )
    with pytest.raises(gh.GitHubHTTPError, match=r"Link points at http://127\.0\.0\.1:") as e:
        client(github).get_list(REVIEWS)
    assert "token is sent nowhere else" in str(e.value)
    assert elsewhere.seen == []


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_link_with_another_scheme_or_port_is_not_followed(
    github: FakeGitHub, scheme: str
) -> None:
    github.add_pr(1)
    host = github.url.split("://", 1)[1]
    other = f"https://{host}" if scheme == "https" else f"http://{host.split(':')[0]}:1"
    github.raw_routes[REVIEWS] = (200, [], {"Link": f'<{other}{REVIEWS}?page=2>; rel="next"'})
    with pytest.raises(gh.GitHubHTTPError, match="not at GITHUB_API_URL"):
        client(github).get_list(REVIEWS)
    assert len(github.requests("GET", REVIEWS)) == 1


def test_a_link_loop_stops_with_an_evidence_error(github: FakeGitHub) -> None:
    page = f"{github.url}{REVIEWS}?per_page=100"
    github.raw_routes[REVIEWS] = (200, [{"id": 1}], {"Link": f'<{page}>; rel="next"'})
    with pytest.raises(gh.GitHubHTTPError, match="repeats a page already read"):
        client(github).get_list(REVIEWS)
    assert len(github.requests("GET", REVIEWS)) == 1


def test_pages_are_capped_per_list_and_the_cap_is_configurable(github: FakeGitHub) -> None:
    github.add_pr(1)
    for i in range(250):
        github.add_review(1, f"user{i}", "COMMENTED")
    with pytest.raises(gh.GitHubHTTPError, match="more than 2 pages") as e:
        client(github, GATEKEEPER_GITHUB_MAX_PAGES="2").get_list(REVIEWS)
    assert "GATEKEEPER_GITHUB_MAX_PAGES" in str(e.value)
    assert len(github.requests("GET", REVIEWS)) == 2
    assert len(client(github).get_list(REVIEWS)) == 250  # the default (100 pages) suffices


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_to_another_host_is_an_error_and_its_body_unused(
    github: FakeGitHub, elsewhere, status: int
) -> None:
    github.add_pr(1)
    github.raw_routes[REVIEWS] = (
        status, {"id": 1, "state": "APPROVED"}, {"Location": f"{elsewhere.url}/x"}
    )
    with pytest.raises(gh.GitHubHTTPError, match=r"redirected to http://127\.0\.0\.1:") as e:
        client(github).get_list(REVIEWS)
    assert "the response was not used" in str(e.value) and e.value.status == status
    assert elsewhere.seen == []


def test_a_redirect_within_the_api_is_followed(github: FakeGitHub) -> None:
    github.add_pr(1)
    github.add_review(1, "bob", "APPROVED")
    github.raw_routes["/repos/acme/old-name/pulls/1/reviews"] = (
        301, None, {"Location": f"{REVIEWS}?per_page=100"}
    )
    reviews = client(github).get_list("/repos/acme/old-name/pulls/1/reviews")
    assert [r["user"]["login"] for r in reviews] == ["bob"]


def test_an_absolute_url_elsewhere_never_gets_the_token(github: FakeGitHub, elsewhere) -> None:
    with pytest.raises(gh.GitHubHTTPError, match="refusing to send the token"):
        client(github).get(f"{elsewhere.url}/repos/acme/widgets")
    assert elsewhere.seen == []
