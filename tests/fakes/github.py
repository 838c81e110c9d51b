"""A fake GitHub REST API on 127.0.0.1 for tests: no network, scriptable per test.

Payloads follow GitHub's REST shapes (field names, nesting, ``Link`` pagination headers,
``{"message", "documentation_url"}`` error bodies) for the endpoints Gatekeeper uses.
Faults are scripted with ``fail(...)``: a status (or a delay) for matching requests,
a number of times or for ever. Every request is logged with its headers.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest

DOCS = "https://docs.github.com/rest"
_ids = itertools.count(1000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(n: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_750_000_000 + 60 * n))


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int | None
    times: int | None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeGitHub:
    """State of one fake repository plus the server that serves it."""

    def __init__(self, repo: str = "acme/widgets", token: str = "ghs_testtoken") -> None:
        self.repo = repo
        self.token = token
        self.pulls: dict[int, dict[str, Any]] = {}
        self.reviews: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.commits: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.files: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.check_runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.statuses: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.comments: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.teams: dict[str, set[str]] = {}
        self.roles: dict[str, str] = {}
        self.commit_pulls: dict[str, list[int]] = defaultdict(list)
        self.faults: list[Fault] = []
        self.log: list[Request] = []
        self.read_only = False
        """A fork's token: every write answers 403."""
        self.identity: str | None = None
        """The token's user (a PAT: ``GET /user`` answers it); None is the workflow token
        (an app installation: ``GET /user`` is 403, comments are ``github-actions[bot]``'s)."""
        self.raw_routes: dict[str, tuple[int, Any, dict[str, str]]] = {}
        """Exact paths answered as scripted, before authentication and routing: hostile
        pages (Link loops, links and redirects to other hosts)."""
        self._clock = itertools.count()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- server ----------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else every response waits ~40 ms (delayed ACK)

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body, headers = fake.handle(
                    self.command, self.path, dict(self.headers.items()), raw
                )
                if body is None or isinstance(body, bytes):
                    data = body or b""
                else:
                    data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def environ(self, **extra: str) -> dict[str, str]:
        """An Actions-like environment pointing at this server, with fast retry limits."""
        env = {
            "GITHUB_API_URL": self.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_REPOSITORY": self.repo,
            "GITHUB_TOKEN": self.token,
            "GITHUB_RUN_ID": "4242",
            "GATEKEEPER_GITHUB_TIMEOUT": "0.5",
            "GATEKEEPER_GITHUB_RETRIES": "2",
            "GATEKEEPER_GITHUB_BACKOFF": "0.01",
            "GATEKEEPER_GITHUB_RETRY_BUDGET": "1",
            "GATEKEEPER_GITHUB_RATE_LIMIT_WAIT": "2",
        }
        env.update(extra)
        return env

    def requests(self, method: str | None = None, contains: str = "") -> list[Request]:
        return [
            r for r in self.log if (method is None or r.method == method) and contains in r.path
        ]

    # -- scripting -------------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int | None = 500,
        times: int | None = None,
        method: str = "GET",
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Answer matching requests (``path`` is a regex searched in the path) with
        ``status`` (None: answer normally, after ``delay``), ``times`` times or for ever."""
        fault = Fault(method, re.compile(path), status, times, body, headers or {}, delay)
        self.faults.append(fault)
        return fault

    def user(self, login: str) -> dict[str, Any]:
        uid = abs(hash(login)) % 10_000_000
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_{uid}",
            "avatar_url": f"https://avatars.example/u/{uid}",
            "gravatar_id": "",
            "url": f"{self.url}/users/{login}",
            "html_url": f"https://github.example/{login}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
        }

    def _repo_obj(self) -> dict[str, Any]:
        owner, name = self.repo.split("/")
        return {
            "id": 1296269,
            "node_id": "R_1",
            "name": name,
            "full_name": self.repo,
            "owner": self.user(owner),
            "private": False,
            "html_url": f"https://github.example/{self.repo}",
            "url": f"{self.url}/repos/{self.repo}",
        }

    def add_pr(
        self,
        number: int,
        author: str = "alice",
        head_sha: str = "a" * 40,
        base_ref: str = "main",
        base_sha: str = "b" * 40,
        title: str = "Add a feature",
        head_ref: str = "feature",
        merged: bool = False,
    ) -> dict[str, Any]:
        n = next(self._clock)
        pr = {
            "url": f"{self.url}/repos/{self.repo}/pulls/{number}",
            "id": next(_ids),
            "node_id": f"PR_{number}",
            "html_url": f"https://github.example/{self.repo}/pull/{number}",
            "diff_url": f"https://github.example/{self.repo}/pull/{number}.diff",
            "issue_url": f"{self.url}/repos/{self.repo}/issues/{number}",
            "number": number,
            "state": "closed" if merged else "open",
            "locked": False,
            "title": title,
            "user": self.user(author),
            "body": "",
            "labels": [],
            "created_at": _time(n),
            "updated_at": _time(n),
            "closed_at": _time(n + 1) if merged else None,
            "merged_at": _time(n + 1) if merged else None,
            "merge_commit_sha": "c" * 40 if merged else None,
            "draft": False,
            "head": {
                "label": f"{author}:{head_ref}",
                "ref": head_ref,
                "sha": head_sha,
                "user": self.user(author),
                "repo": self._repo_obj(),
            },
            "base": {
                "label": f"{self.repo.split('/')[0]}:{base_ref}",
                "ref": base_ref,
                "sha": base_sha,
                "user": self.user(self.repo.split("/")[0]),
                "repo": self._repo_obj(),
            },
            "author_association": "CONTRIBUTOR",
            "merged": merged,
        }
        self.pulls[number] = pr
        return pr

    def add_review(
        self, pr: int, user: str, state: str, commit_id: str | None = None, body: str = ""
    ) -> dict[str, Any]:
        rid = next(_ids)
        review = {
            "id": rid,
            "node_id": f"PRR_{rid}",
            "user": self.user(user),
            "body": body,
            "state": state,
            "html_url": f"https://github.example/{self.repo}/pull/{pr}#pullrequestreview-{rid}",
            "pull_request_url": f"{self.url}/repos/{self.repo}/pulls/{pr}",
            "author_association": "MEMBER",
            "_links": {
                "html": {"href": f"https://github.example/{self.repo}/pull/{pr}"},
                "pull_request": {"href": f"{self.url}/repos/{self.repo}/pulls/{pr}"},
            },
            "submitted_at": None if state == "PENDING" else _time(next(self._clock)),
            "commit_id": commit_id or self.pulls[pr]["head"]["sha"],
        }
        self.reviews[pr].append(review)
        return review

    def push(self, pr: int, sha: str) -> None:
        """New commits on the PR branch: the head moves."""
        self.pulls[pr]["head"]["sha"] = sha

    def add_commit(
        self, pr: int, sha: str, message: str = "Change", author: str = "alice"
    ) -> dict[str, Any]:
        person = {"name": author.title(), "email": f"{author}@example.com", "date": _time(0)}
        commit = {
            "sha": sha,
            "node_id": f"C_{sha[:8]}",
            "commit": {
                "author": person,
                "committer": person,
                "message": message,
                "tree": {"sha": "d" * 40, "url": f"{self.url}/repos/{self.repo}/git/trees/x"},
                "url": f"{self.url}/repos/{self.repo}/git/commits/{sha}",
                "comment_count": 0,
                "verification": {"verified": False, "reason": "unsigned", "signature": None},
            },
            "url": f"{self.url}/repos/{self.repo}/commits/{sha}",
            "html_url": f"https://github.example/{self.repo}/commit/{sha}",
            "comments_url": f"{self.url}/repos/{self.repo}/commits/{sha}/comments",
            "author": self.user(author),
            "committer": self.user(author),
            "parents": [],
        }
        self.commits[pr].append(commit)
        return commit

    def add_file(
        self, pr: int, filename: str, status: str = "modified", previous: str | None = None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "sha": "e" * 40,
            "filename": filename,
            "status": status,
            "additions": 1,
            "deletions": 0,
            "changes": 1,
            "blob_url": f"https://github.example/{self.repo}/blob/x/{filename}",
            "raw_url": f"https://github.example/{self.repo}/raw/x/{filename}",
            "contents_url": f"{self.url}/repos/{self.repo}/contents/{filename}",
            "patch": "@@ -1 +1 @@\n-a\n+b",
        }
        if previous:
            entry["previous_filename"] = previous
        self.files[pr].append(entry)
        return entry

    def add_check_run(
        self,
        sha: str,
        name: str,
        conclusion: str | None = "success",
        status: str = "completed",
        run_id: str = "1",
    ) -> dict[str, Any]:
        cid = next(_ids)
        n = next(self._clock)
        run = {
            "id": cid,
            "head_sha": sha,
            "node_id": f"CR_{cid}",
            "external_id": "",
            "url": f"{self.url}/repos/{self.repo}/check-runs/{cid}",
            "html_url": f"https://github.example/{self.repo}/actions/runs/{run_id}/job/{cid}",
            "details_url": f"https://github.example/{self.repo}/actions/runs/{run_id}/job/{cid}",
            "status": status,
            "conclusion": conclusion if status == "completed" else None,
            "started_at": _time(n),
            "completed_at": _time(n + 1) if status == "completed" else None,
            "output": {
                "title": None,
                "summary": None,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{self.url}/repos/{self.repo}/check-runs/{cid}/annotations",
            },
            "name": name,
            "check_suite": {"id": 5},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "pull_requests": [],
        }
        self.check_runs[sha].append(run)
        return run

    def add_status(
        self, sha: str, context: str, state: str, description: str = "", target_url: str = ""
    ) -> dict[str, Any]:
        sid = next(_ids)
        n = next(self._clock)
        status = {
            "url": f"{self.url}/repos/{self.repo}/statuses/{sha}",
            "avatar_url": "https://avatars.example/u/1",
            "id": sid,
            "node_id": f"SC_{sid}",
            "state": state,
            "description": description,
            "target_url": target_url or None,
            "context": context,
            "created_at": _time(n),
            "updated_at": _time(n),
            "creator": self.user("ci-bot"),
        }
        self.statuses[sha].append(status)
        return status

    def add_comment(self, pr: int, body: str, user: str = "alice") -> dict[str, Any]:
        cid = next(_ids)
        n = next(self._clock)
        comment = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": f"{self.url}/repos/{self.repo}/issues/comments/{cid}",
            "html_url": f"https://github.example/{self.repo}/pull/{pr}#issuecomment-{cid}",
            "body": body,
            "user": self.user(user),
            "created_at": _time(n),
            "updated_at": _time(n),
            "issue_url": f"{self.url}/repos/{self.repo}/issues/{pr}",
            "author_association": "MEMBER",
        }
        self.comments[pr].append(comment)
        return comment

    # Deployments (state created on first use, so the constructor stays as it was).
    @functools.cached_property
    def deployments(self) -> list[dict[str, Any]]:
        return []

    @functools.cached_property
    def deployment_statuses(self) -> dict[int, list[dict[str, Any]]]:
        return defaultdict(list)

    def add_deployment(
        self, sha: str, environment: str, created_at: datetime, ref: str = "main"
    ) -> dict[str, Any]:
        did = next(_ids)
        when = _iso(created_at)
        deployment = {
            "url": f"{self.url}/repos/{self.repo}/deployments/{did}",
            "id": did,
            "node_id": f"DE_{did}",
            "sha": sha,
            "ref": ref,
            "task": "deploy",
            "payload": {},
            "original_environment": environment,
            "environment": environment,
            "description": None,
            "creator": self.user("github-actions[bot]"),
            "created_at": when,
            "updated_at": when,
            "statuses_url": f"{self.url}/repos/{self.repo}/deployments/{did}/statuses",
            "repository_url": f"{self.url}/repos/{self.repo}",
            "transient_environment": False,
            "production_environment": environment == "production",
        }
        self.deployments.append(deployment)
        return deployment

    def add_deployment_status(
        self, deployment: dict[str, Any], state: str, created_at: datetime
    ) -> dict[str, Any]:
        sid = next(_ids)
        did = deployment["id"]
        status = {
            "url": f"{self.url}/repos/{self.repo}/deployments/{did}/statuses/{sid}",
            "id": sid,
            "node_id": f"DES_{sid}",
            "state": state,
            "creator": self.user("github-actions[bot]"),
            "description": f"Deployment {state}",
            "environment": deployment["environment"],
            "target_url": f"https://github.example/{self.repo}/actions/runs/1",
            "created_at": _iso(created_at),
            "updated_at": _iso(created_at),
            "deployment_url": deployment["url"],
            "repository_url": f"{self.url}/repos/{self.repo}",
            "environment_url": "",
            "log_url": f"https://github.example/{self.repo}/actions/runs/1",
        }
        self.deployment_statuses[did].append(status)
        return status

    # -- routing ---------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw_path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        body = json.loads(raw) if raw else None
        with self._lock:
            self.log.append(Request(method, raw_path, query, headers, body))
            fault = next(
                (
                    f
                    for f in self.faults
                    if f.method == method and f.path.search(path) and f.times != 0
                ),
                None,
            )
            if fault and fault.times is not None:
                fault.times -= 1
        if path in self.raw_routes:
            return self.raw_routes[path]
        if fault:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                return fault.status, fault.body or self._error(fault.status), fault.headers
        auth = headers.get("Authorization", "")
        if self.token and auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return 401, {"message": "Bad credentials", "documentation_url": DOCS}, {}
        with self._lock:
            return self._route(method, path, query, body)

    @staticmethod
    def _error(status: int) -> dict[str, str]:
        messages = {
            401: "Bad credentials",
            403: "Resource not accessible by integration",
            404: "Not Found",
            422: "Validation Failed",
            500: "Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }
        return {"message": messages.get(status, "Error"), "documentation_url": DOCS}

    def _page(
        self, path: str, query: dict[str, list[str]], items: list[Any]
    ) -> tuple[list[Any], dict[str, str]]:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(p: int) -> str:
            q = {k: v[0] for k, v in query.items()}
            q.update(per_page=str(per_page), page=str(p))
            return f"<{self.url}{path}?{urlencode(q)}>"

        rels = []
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels += [f'{link(page - 1)}; rel="prev"', f'{link(1)}; rel="first"']
        return chunk, ({"Link": ", ".join(rels)} if rels else {})

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        for pattern, handler in self._routes():
            m = re.fullmatch(pattern, path)
            if m and handler[0] == method:
                if method != "GET" and self.read_only:
                    return 403, self._error(403), {}
                return handler[1](path, query, body, *m.groups())
        return 404, self._error(404), {}

    def _routes(self) -> Iterator[tuple[str, tuple[str, Any]]]:
        r = re.escape(f"/repos/{self.repo}")
        yield rf"{r}/pulls/(\d+)", ("GET", self._get_pull)
        yield rf"{r}/pulls/(\d+)/(reviews|commits|files)", ("GET", self._get_pull_list)
        yield rf"{r}/commits/(\w+)/check-runs", ("GET", self._get_check_runs)
        yield rf"{r}/commits/(\w+)/status", ("GET", self._get_combined)
        yield rf"{r}/commits/(\w+)/pulls", ("GET", self._get_commit_pulls)
        yield rf"{r}/issues/(\d+)/comments", ("GET", self._get_comments)
        yield rf"{r}/issues/(\d+)/comments", ("POST", self._post_comment)
        yield rf"{r}/issues/comments/(\d+)", ("PATCH", self._patch_comment)
        yield rf"{r}/statuses/(\w+)", ("POST", self._post_status)
        yield rf"{r}/collaborators/([^/]+)/permission", ("GET", self._get_permission)
        yield r"/orgs/([^/]+)/teams/([^/]+)", ("GET", self._get_team)
        yield r"/orgs/([^/]+)/teams/([^/]+)/memberships/([^/]+)", ("GET", self._get_membership)
        yield rf"{r}/deployments", ("GET", self._get_deployments)
        yield rf"{r}/deployments/(\d+)/statuses", ("GET", self._get_deployment_statuses)
        yield r"/user", ("GET", self._get_user)

    def _get_pull(self, path: str, query: Any, body: Any, n: str) -> Any:
        if int(n) not in self.pulls:
            return 404, self._error(404), {}
        return 200, self.pulls[int(n)], {}

    def _get_pull_list(self, path: str, query: Any, body: Any, n: str, kind: str) -> Any:
        if int(n) not in self.pulls:
            return 404, self._error(404), {}
        items = {"reviews": self.reviews, "commits": self.commits, "files": self.files}[kind]
        chunk, headers = self._page(path, query, items[int(n)])
        return 200, chunk, headers

    def _get_check_runs(self, path: str, query: Any, body: Any, sha: str) -> Any:
        runs = self.check_runs.get(sha, [])
        chunk, headers = self._page(path, query, runs)
        return 200, {"total_count": len(runs), "check_runs": chunk}, headers

    def _get_combined(self, path: str, query: Any, body: Any, sha: str) -> Any:
        latest: dict[str, dict[str, Any]] = {}
        for s in self.statuses.get(sha, []):
            latest[s["context"]] = s
        statuses = sorted(latest.values(), key=lambda s: s["id"], reverse=True)
        states = {s["state"] for s in statuses}
        if states & {"error", "failure"}:
            state = "failure"
        elif not statuses or "pending" in states:
            state = "pending"
        else:
            state = "success"
        chunk, headers = self._page(path, query, statuses)
        combined = {
            "state": state,
            "statuses": chunk,
            "sha": sha,
            "total_count": len(statuses),
            "repository": self._repo_obj(),
            "commit_url": f"{self.url}/repos/{self.repo}/commits/{sha}",
            "url": f"{self.url}/repos/{self.repo}/commits/{sha}/status",
        }
        return 200, combined, headers

    def _get_commit_pulls(self, path: str, query: Any, body: Any, sha: str) -> Any:
        pulls = [self.pulls[n] for n in self.commit_pulls.get(sha, [])]
        chunk, headers = self._page(path, query, pulls)
        return 200, chunk, headers

    def _get_comments(self, path: str, query: Any, body: Any, n: str) -> Any:
        chunk, headers = self._page(path, query, self.comments[int(n)])
        return 200, chunk, headers

    def _post_comment(self, path: str, query: Any, body: Any, n: str) -> Any:
        if not body or "body" not in body:
            return 422, self._error(422), {}
        if len(body["body"]) > 65536:
            return 422, {"message": "Validation Failed", "documentation_url": DOCS,
                         "errors": [{"resource": "IssueComment", "code": "custom",
                                     "field": "body", "message": "body is too long"}]}, {}
        author = self.identity or "github-actions[bot]"
        return 201, self.add_comment(int(n), body["body"], user=author), {}

    def _patch_comment(self, path: str, query: Any, body: Any, cid: str) -> Any:
        for comments in self.comments.values():
            for c in comments:
                if c["id"] == int(cid):
                    if len(body["body"]) > 65536:
                        return 422, self._error(422), {}
                    c["body"] = body["body"]
                    c["updated_at"] = _time(next(self._clock))
                    return 200, c, {}
        return 404, self._error(404), {}

    def _post_status(self, path: str, query: Any, body: Any, sha: str) -> Any:
        if body.get("state") not in ("error", "failure", "pending", "success"):
            return 422, self._error(422), {}
        if len(body.get("description") or "") > 140:
            return 422, self._error(422), {}
        status = self.add_status(
            sha, body.get("context", "default"), body["state"],
            body.get("description") or "", body.get("target_url") or "",
        )
        return 201, status, {}

    def _get_permission(self, path: str, query: Any, body: Any, login: str) -> Any:
        role = self.roles.get(login, "none")
        permission = {"maintain": "write", "triage": "read"}.get(role, role)
        user = self.user(login)
        return 200, {"permission": permission, "role_name": role, "user": user}, {}

    def _get_team(self, path: str, query: Any, body: Any, org: str, slug: str) -> Any:
        if f"{org}/{slug}" not in self.teams:
            return 404, self._error(404), {}
        tid = abs(hash(slug)) % 100000
        return 200, {
            "id": tid, "node_id": f"T_{tid}", "url": f"{self.url}/teams/{tid}",
            "html_url": f"https://github.example/orgs/{org}/teams/{slug}",
            "name": slug, "slug": slug, "description": "", "privacy": "closed",
            "notification_setting": "notifications_enabled", "permission": "pull",
            "members_url": f"{self.url}/teams/{tid}/members{{/member}}",
            "repositories_url": f"{self.url}/teams/{tid}/repos", "parent": None,
        }, {}

    def _get_membership(
        self, path: str, query: Any, body: Any, org: str, slug: str, login: str
    ) -> Any:
        if login not in self.teams.get(f"{org}/{slug}", set()):
            return 404, self._error(404), {}
        return 200, {
            "url": f"{self.url}/teams/1/memberships/{login}", "role": "member", "state": "active"
        }, {}

    def _get_deployments(self, path: str, query: Any, body: Any) -> Any:
        # Filtered as GitHub filters them; newest first, as GitHub lists them.
        keys = [k for k in ("sha", "ref", "task", "environment") if k in query]
        items = [d for d in self.deployments if all(d[k] == query[k][0] for k in keys)]
        items.sort(key=lambda d: (d["created_at"], d["id"]), reverse=True)
        chunk, headers = self._page(path, query, items)
        return 200, chunk, headers

    def _get_deployment_statuses(self, path: str, query: Any, body: Any, did: str) -> Any:
        if not any(d["id"] == int(did) for d in self.deployments):
            return 404, self._error(404), {}
        items = sorted(
            self.deployment_statuses[int(did)],
            key=lambda s: (s["created_at"], s["id"]),
            reverse=True,
        )
        chunk, headers = self._page(path, query, items)
        return 200, chunk, headers
    def _get_user(self, path: str, query: Any, body: Any) -> Any:
        if self.identity is None:  # an installation token has no user
            return 403, self._error(403), {}
        return 200, self.user(self.identity), {}


@pytest.fixture(name="github")
def github_fixture() -> Iterator[FakeGitHub]:
    """A started fake; import ``github_fixture`` into a test module to use ``github``."""
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
