"""GitHub evidence: a small REST client configured from the Actions environment.

Every GET is memoized for the run (one request per URL, failures remembered too), lists
are followed through ``Link`` headers with ``per_page=100``, transient faults (5xx,
connection errors, timeouts) are retried a bounded number of times within a bounded
time, and rate limiting waits only when the wait fits a total budget. Anything else
ends as an ``EvidenceError`` naming the endpoint and HTTP status, which blocks the
release (fail closed).

The token goes only to ``GITHUB_API_URL``'s origin (scheme, host and port): a ``Link``
or redirect elsewhere is an evidence error and its body is never read. The token is
stripped of surrounding whitespace, refused with control characters in it, and scrubbed
from every message that leaves the client, whatever raised it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

from gatekeeper.errors import EvidenceError, UsageError
from gatekeeper.evidence import Memo

if TYPE_CHECKING:
    import requests

    from gatekeeper.evidence import Evidence

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
PER_PAGE = 100
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_TRANSIENT = {500, 502, 503, 504}
_REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
"""What a token may contain: printable ASCII without spaces (GitHub's tokens are
``[A-Za-z0-9_]``); anything else cannot go into an HTTP header unmangled."""
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WRITE_ROLES = {"admin", "maintain", "write"}


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """How patient the client is. Small by default: a gate must answer in minutes,
    and a GitHub outage should block quickly with a clear message, not hang."""

    timeout: float = 10.0
    """Seconds per request (connect and read)."""
    retries: int = 3
    """Extra attempts after a 5xx, connection error or timeout."""
    backoff: float = 0.5
    """First retry delay; doubles on each further retry."""
    retry_budget: float = 30.0
    """Total seconds one request may take with its retries: no retry starts past it."""
    rate_limit_wait: float = 30.0
    """Total seconds the whole run may sleep waiting for a rate limit to reset."""
    max_pages: int = 100
    """Pages one list may take (100 items each): a server that pages on for ever is an
    error, not a hang."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Limits:
        d = cls()
        return cls(
            timeout=_float(environ, "GATEKEEPER_GITHUB_TIMEOUT", d.timeout),
            retries=int(_float(environ, "GATEKEEPER_GITHUB_RETRIES", d.retries)),
            backoff=_float(environ, "GATEKEEPER_GITHUB_BACKOFF", d.backoff),
            retry_budget=_float(environ, "GATEKEEPER_GITHUB_RETRY_BUDGET", d.retry_budget),
            rate_limit_wait=_float(environ, "GATEKEEPER_GITHUB_RATE_LIMIT_WAIT", d.rate_limit_wait),
            max_pages=max(1, int(_float(environ, "GATEKEEPER_GITHUB_MAX_PAGES", d.max_pages))),
        )


@dataclass(frozen=True)
class GitHubConfig:
    """Where and as whom to talk to GitHub, and which pull request this run is about."""

    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    repository: str | None = None
    pr: int | None = None
    head_sha: str | None = None
    base_ref: str | None = None
    base_sha: str | None = None
    server_url: str = DEFAULT_SERVER_URL
    run_id: str | None = None
    limits: Limits = field(default_factory=Limits)
    comment_author: str | None = None
    """The login an app installation token writes as, when not ``github-actions[bot]``
    (``GATEKEEPER_COMMENT_AUTHOR``, e.g. ``my-app[bot]``)."""

    @property
    def run_url(self) -> str | None:
        if self.repository and self.run_id:
            return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return None

    def require_repository(self) -> str:
        if not self.repository or "/" not in self.repository:
            raise EvidenceError(
                "GitHub repository unknown: set GITHUB_REPOSITORY=owner/name or pass "
                "--repository OWNER/NAME"
            )
        return self.repository

    def require_pr(self) -> int:
        if self.pr is None:
            raise EvidenceError("no pull request: this run has no pull_request event; pass --pr N")
        return self.pr


def _read_event(path: str | None) -> dict[str, Any]:
    """The Actions event payload. Unreadable is an error, not "no pull request": that
    would quietly read the policy from the PR's own head."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"GITHUB_EVENT_PATH={path}: cannot read the event payload ({e})") from None
    return event if isinstance(event, dict) else {}


def config_from(
    environ: Mapping[str, str], options: Mapping[str, Any] | None = None
) -> GitHubConfig:
    """The configuration of this run: the Actions environment, overridden by run options
    (``pr``, ``repository``) given on the command line."""
    options = options or {}
    event = _read_event(environ.get("GITHUB_EVENT_PATH"))
    pull: dict[str, Any] = (
        event["pull_request"] if isinstance(event.get("pull_request"), dict) else {}
    )
    pr: Any = options.get("pr") or pull.get("number") or None
    head = pull.get("head") or {}
    base = pull.get("base") or {}
    from_event = options.get("pr") in (None, pull.get("number"))
    # A secret pasted with its trailing newline is still the secret.
    token = (environ.get("GITHUB_TOKEN") or environ.get("GH_TOKEN") or "").strip() or None
    return GitHubConfig(
        api_url=(environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        token=token,
        repository=options.get("repository") or environ.get("GITHUB_REPOSITORY") or None,
        pr=int(pr) if pr is not None else None,
        head_sha=head.get("sha") if from_event else None,
        base_ref=base.get("ref") if from_event else None,
        base_sha=base.get("sha") if from_event else None,
        server_url=(environ.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
        run_id=environ.get("GITHUB_RUN_ID") or None,
        limits=Limits.from_environ(environ),
        comment_author=environ.get("GATEKEEPER_COMMENT_AUTHOR") or None,
    )


class GitHubHTTPError(EvidenceError):
    """A GitHub request that ended in an HTTP error (after retries)."""

    def __init__(self, message: str, method: str, endpoint: str, status: int | None) -> None:
        super().__init__(message)
        self.method, self.endpoint, self.status = method, endpoint, status


def _hint(status: int, method: str) -> str:
    if status == 401:
        return (
            "the token is missing, expired or invalid; in a workflow pass "
            "`token: ${{ github.token }}` (or set GITHUB_TOKEN)"
        )
    if status == 404:
        return (
            "not found or not visible to this token: check GITHUB_REPOSITORY/--repository "
            "and the pull request number, and grant the job `permissions:` contents: read, "
            "pull-requests: read (statuses/checks: read for CI checks)"
        )
    if status == 403 and method != "GET":
        return (
            "the token may not write here (a pull request from a fork gets a read-only "
            "token); grant `permissions:` pull-requests: write, statuses: write"
        )
    if status == 403:
        return "the token lacks a permission this request needs (see the job's `permissions:`)"
    return ""


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = -1  # a malformed port matches no origin
    return scheme, (parts.hostname or "").lower(), port


def _show_origin(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def check_token(token: str | None) -> None:
    """Refuse a token that cannot be sent as is, naming the problem, never the token."""
    if token is None or _TOKEN_CHARS.fullmatch(token):
        return
    bad = next(i for i, c in enumerate(token) if not _TOKEN_CHARS.fullmatch(c))
    raise EvidenceError(
        f"the GitHub token (GITHUB_TOKEN or GH_TOKEN) has a control, space or non-ASCII "
        f"character at position {bad + 1} of {len(token)}; it was not used",
        "set the secret to the token alone (no line breaks or spaces inside it)",
    )


def _bearer(token: str) -> Callable[[Any], Any]:
    def auth(request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    return auth


class GitHubClient:
    """A per-run REST client: memoized GETs, pagination, bounded retries, no token leaks."""

    def __init__(
        self,
        config: GitHubConfig,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests  # lazily: `gatekeeper --help` must stay fast

        check_token(config.token)
        self.config = config
        self.limits = config.limits
        self._session = session or requests.Session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "gatekeeper-release",
            }
        )
        if config.token:
            # As session auth (not a bare header) so a ~/.netrc cannot replace it.
            self._session.auth = _bearer(config.token)
        self._sleep = sleep
        self._memo = Memo()
        self._rate_waited = 0.0
        self.requests_made = 0

    def __repr__(self) -> str:
        cfg = self.config
        return f"GitHubClient(api_url={cfg.api_url!r}, repository={cfg.repository!r})"

    # -- public API ---------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """``text`` with the token (and any Authorization value) masked."""
        token = self.config.token
        if token:
            text = text.replace(token, "***")
        return text

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` has GITHUB_API_URL's scheme, host and port: the only place
        the token may go."""
        return origin(url) == origin(self.config.api_url)

    def get(self, path: str) -> Any:
        """The JSON of one GET, memoized for the run."""
        return self._cached(path, lambda: self._json(self._request("GET", self._url(path))))

    def get_list(self, path: str, key: str | None = None) -> list[Any]:
        """Every item of a paginated list (``key`` names the list inside an object, as in
        ``{"total_count": .., "check_runs": [..]}``), following ``Link: rel="next"``."""

        def fetch() -> list[Any]:
            items: list[Any] = []
            totals: set[Any] = set()
            sep = "&" if "?" in path else "?"
            first = self._url(f"{path}{sep}per_page={PER_PAGE}")
            url: str | None = first
            seen: set[str] = set()
            while url:
                self._check_page(first, url, seen)
                response = self._request("GET", url)
                page_items, total = self._page_items(url, response, key)
                items.extend(page_items)
                totals.add(total)
                url = self._next(response.headers.get("Link", ""), url)
            if key is not None:
                self._check_total(first, totals, len(items))
            return items

        return self._cached(f"list:{key}:{path}", fetch)

    def post(self, path: str, payload: dict[str, Any], retry: bool = True) -> Any:
        """``retry=False`` for a create that must not happen twice: after a 5xx or a
        timeout the write may have happened anyway."""
        return self._json(self._request("POST", self._url(path), payload, retry=retry))

    def patch(self, path: str, payload: dict[str, Any]) -> Any:
        return self._json(self._request("PATCH", self._url(path), payload))

    def get_optional(self, path: str, absent: tuple[int, ...] = (404,)) -> Any | None:
        """The JSON of a GET where an ``absent`` status (404: "not a member") is an
        answer, then None; memoized."""

        def fetch() -> Any | None:
            response = self._request("GET", self._url(path), ok_statuses=absent)
            return None if response.status_code in absent else self._json(response)

        return self._cached(f"optional:{absent}:{path}", fetch)

    # -- machinery ----------------------------------------------------------------

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.config.api_url + path

    def _endpoint(self, url: str) -> str:
        """The path of a URL, without host and query: what error messages name."""
        path = urlsplit(url).path
        base = urlsplit(self.config.api_url).path.rstrip("/")
        return path[len(base) :] if base and path.startswith(base) else path

    def _next(self, link: str, url: str) -> str | None:
        m = _LINK_NEXT.search(link)
        return urljoin(url, m.group(1)) if m else None

    def _check_page(self, first: str, url: str, seen: set[str]) -> None:
        """Pagination stays on the API, never loops and ends within the page budget."""
        if not self.same_origin(url):
            raise self._error(
                "GET", first, None,
                f"the next page's Link points at {_show_origin(url)}, not at GITHUB_API_URL "
                f"({_show_origin(self.config.api_url)}); the token is sent nowhere else",
            )
        if url in seen:
            raise self._error(
                "GET", first, None,
                f"the Link to the next page repeats a page already read (page {len(seen) + 1}); "
                "the list would never end",
            )
        if len(seen) >= self.limits.max_pages:
            raise self._error(
                "GET", first, None,
                f"more than {self.limits.max_pages} pages",
                "raise GATEKEEPER_GITHUB_MAX_PAGES if the list really is that long",
            )
        seen.add(url)

    def _page_items(
        self, url: str, response: requests.Response, key: str | None
    ) -> tuple[list[Any], Any]:
        """A page's items (and its ``total_count`` when the list is wrapped in an object),
        after checking the page has the documented shape."""
        page = self._json(response)
        if key is None:
            if not isinstance(page, list):
                raise self._error("GET", url, response.status_code, "expected a JSON list")
            return page, None
        if not isinstance(page, dict) or not isinstance(page.get(key), list):
            raise self._error(
                "GET", url, response.status_code, f"the response has no {key!r} list"
            )
        total = page.get("total_count")
        if not isinstance(total, int) or isinstance(total, bool):
            raise self._error(
                "GET", url, response.status_code, "the response has no integer 'total_count'"
            )
        return page[key], total

    def _check_total(self, url: str, totals: set[Any], count: int) -> None:
        if totals != {count}:
            said = " then ".join(str(t) for t in sorted(totals))
            raise self._error(
                "GET", url, None,
                f"GitHub counted {said} items (total_count) but the pages listed {count}; "
                "the list changed while it was read, or pages are missing",
                "re-run the job",
            )

    def _cached(self, key: str, factory: Callable[[], Any]) -> Any:
        return self._memo.get(key, factory)

    def _error(
        self, method: str, url: str, status: int | None, what: str, hint: str = ""
    ) -> GitHubHTTPError:
        endpoint = self._endpoint(url)
        code = f"HTTP {status}" if status is not None else "no response"
        message = f"GitHub {method} {endpoint} failed: {code} ({what})"
        if hint:
            message += f"; {hint}"
        return GitHubHTTPError(self.scrub(message), method, endpoint, status)

    def _json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except (ValueError, RecursionError):
            request = response.request
            raise self._error(
                request.method or "GET",
                request.url or "",
                response.status_code,
                "the response is not JSON",
                "check GITHUB_API_URL points at the REST API",
            ) from None

    @staticmethod
    def _message(response: requests.Response) -> str:
        try:
            body = response.json()
        except (ValueError, RecursionError):
            return response.reason or "error"
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])[:200]
        return response.reason or "error"

    def _rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds to wait when this response is a rate limit, else None."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        if headers.get("retry-after"):
            try:
                return max(0.0, float(headers["retry-after"]))
            except ValueError:
                return 60.0
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                return max(0.0, float(headers.get("x-ratelimit-reset", "0")) - time.time())
            except ValueError:
                return 60.0
        return None

    def _send(self, method: str, url: str, payload: dict[str, Any] | None) -> requests.Response:
        """One request, following redirects only within the API's origin. Whatever the
        HTTP stack raises leaves as a scrubbed ``GitHubHTTPError`` (``requests``' own
        connection errors and timeouts excepted: the caller retries those)."""
        import requests

        for _ in range(MAX_REDIRECTS + 1):
            if not self.same_origin(url):
                raise self._error(
                    method, url, None,
                    f"refusing to send the token to {_show_origin(url)}: not GITHUB_API_URL's "
                    f"origin ({_show_origin(self.config.api_url)})",
                )
            try:
                response = self._session.request(
                    method, url, json=payload, timeout=self.limits.timeout, allow_redirects=False
                )
            except requests.RequestException:
                raise
            except Exception as e:  # e.g. http.client's ValueError quoting a bad header
                raise self._error(
                    method, url, None, f"request failed: {type(e).__name__}: {str(e)[:200]}"
                ) from None
            if response.status_code not in _REDIRECTS:
                return response
            url = self._redirect(method, url, response)
        raise self._error(method, url, None, f"more than {MAX_REDIRECTS} redirects")

    def _redirect(self, method: str, url: str, response: requests.Response) -> str:
        """Where a redirect within the API leads; anywhere else is an error, and the
        redirect's body is never read as evidence."""
        target = urljoin(url, response.headers.get("Location", ""))
        status = response.status_code
        response.close()
        if not self.same_origin(target):
            raise self._error(
                method, url, status,
                f"redirected to {_show_origin(target)}, not GITHUB_API_URL's origin "
                f"({_show_origin(self.config.api_url)}); the response was not used",
            )
        if method != "GET" and status not in (307, 308):
            raise self._error(method, url, status, "a write was redirected; it was not repeated")
        return target

    def _request(
        self,
        method: str,
        url: str,
        payload: dict[str, Any] | None = None,
        ok_statuses: tuple[int, ...] = (),
        retry: bool = True,
    ) -> requests.Response:
        import requests

        limits = self.limits
        attempt, started = 0, time.monotonic()
        while True:
            attempt += 1
            self.requests_made += 1
            try:
                response = self._send(method, url, payload)
            except requests.Timeout:
                failure: tuple[int | None, str] = (None, f"timed out after {limits.timeout:g} s")
            except requests.RequestException as e:
                failure = (None, f"connection failed: {type(e).__name__}")
            else:
                if response.status_code < 400 or response.status_code in ok_statuses:
                    return response
                wait = self._rate_limit_wait(response)
                if wait is not None:
                    if self._rate_waited + wait > limits.rate_limit_wait:
                        raise self._error(
                            method,
                            url,
                            response.status_code,
                            f"rate limited: {self._message(response)}",
                            f"the limit resets in {wait:.0f} s, beyond the "
                            f"{limits.rate_limit_wait:g} s this run may wait; re-run later",
                        )
                    self._rate_waited += wait
                    self._sleep(wait)
                    continue
                if response.status_code not in _TRANSIENT:
                    raise self._error(
                        method,
                        url,
                        response.status_code,
                        self._message(response),
                        _hint(response.status_code, method),
                    )
                failure = (response.status_code, self._message(response))
            delay = limits.backoff * (2 ** (attempt - 1))
            elapsed = time.monotonic() - started
            out_of_tries = attempt > (limits.retries if retry else 0)
            if out_of_tries or elapsed + delay > limits.retry_budget:
                status, what = failure
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                raise self._error(
                    method,
                    url,
                    status,
                    f"{what}; gave up after {tries}",
                    "GitHub may be unavailable; re-run the job later",
                )
            self._sleep(delay)


# -- providers: what checks ask for, memoized through the run's Evidence ----------


def config(ev: Evidence) -> GitHubConfig:
    return ev.cached(("github", "config"), lambda: config_from(ev.environ, ev.ctx.options))


def client(ev: Evidence) -> GitHubClient:
    def make() -> GitHubClient:
        return GitHubClient(config(ev))

    return ev.cached(("github", "client"), make)


def _repo_path(ev: Evidence) -> str:
    return f"/repos/{config(ev).require_repository()}"


def pull_request(ev: Evidence, number: int | None = None) -> dict[str, Any]:
    n = number if number is not None else config(ev).require_pr()
    return client(ev).get(f"{_repo_path(ev)}/pulls/{n}")


def reviews(ev: Evidence, number: int | None = None) -> list[dict[str, Any]]:
    """The pull request's reviews, oldest first (as GitHub lists them)."""
    n = number if number is not None else config(ev).require_pr()
    return client(ev).get_list(f"{_repo_path(ev)}/pulls/{n}/reviews")


def pr_commits(ev: Evidence) -> list[dict[str, Any]]:
    return client(ev).get_list(f"{_repo_path(ev)}/pulls/{config(ev).require_pr()}/commits")


def pr_files(ev: Evidence) -> list[dict[str, Any]]:
    return client(ev).get_list(f"{_repo_path(ev)}/pulls/{config(ev).require_pr()}/files")


def _named(items: list[Any], name_key: str, endpoint: str) -> list[dict[str, Any]]:
    """``items`` after checking each is an object with a text ``name_key``: a malformed
    entry must not be skipped (it could be the failing one)."""
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get(name_key), str):
            raise EvidenceError(
                f"GitHub GET {endpoint}: item {i + 1} has no {name_key!r} text; "
                "unexpected response shape",
                "check GITHUB_API_URL points at GitHub's REST API, and re-run",
            )
    return items


def check_runs(ev: Evidence, sha: str) -> list[dict[str, Any]]:
    path = f"{_repo_path(ev)}/commits/{sha}/check-runs"
    return _named(client(ev).get_list(path, key="check_runs"), "name", path)


def statuses(ev: Evidence, sha: str) -> list[dict[str, Any]]:
    """The latest status per context on ``sha`` (GitHub's combined status)."""
    path = f"{_repo_path(ev)}/commits/{sha}/status"
    return _named(client(ev).get_list(path, key="statuses"), "context", path)


def pulls_for_commit(ev: Evidence, sha: str) -> list[dict[str, Any]]:
    return client(ev).get_list(f"{_repo_path(ev)}/commits/{sha}/pulls")


def permission(ev: Evidence, login: str) -> str:
    """The user's permission on the repository: admin, maintain, write, triage, read, none."""
    data = client(ev).get(f"{_repo_path(ev)}/collaborators/{quote(login, safe='')}/permission")
    return str(data.get("role_name") or data.get("permission") or "none")


def can_write(ev: Evidence, login: str) -> bool:
    return permission(ev, login) in _WRITE_ROLES


def team_member(ev: Evidence, team: str, login: str) -> bool:
    """Whether ``login`` is an active member of ``org/team``. The team itself must be
    visible (a 404 there means the token cannot read the org's teams, which is an error);
    a 404 on the membership then means "not a member"."""
    org, _, slug = (quote(part, safe="") for part in team.partition("/"))
    gh = client(ev)
    try:
        gh.get(f"/orgs/{org}/teams/{slug}")
    except GitHubHTTPError as e:
        if e.status in (403, 404):
            raise EvidenceError(
                f"GitHub GET /orgs/{org}/teams/{slug} failed: HTTP {e.status}; team {team} is not "
                "visible to this token: team membership needs a token with org read access "
                "(the workflow GITHUB_TOKEN cannot read teams; use a GitHub App or PAT token "
                "with read:org)"
            ) from None
        raise
    membership = gh.get_optional(f"/orgs/{org}/teams/{slug}/memberships/{quote(login, safe='')}")
    return isinstance(membership, dict) and membership.get("state") == "active"


def head_sha(ev: Evidence) -> str:
    """The commit under review: the PR head (not the merge commit) when there is a PR."""
    cfg = config(ev)
    if ev.ctx.options.get("sha"):
        return str(ev.ctx.options["sha"])
    if cfg.pr is not None:
        return cfg.head_sha or pull_request(ev)["head"]["sha"]
    if not ev.ctx.base and ev.environ.get("GITHUB_SHA"):
        return ev.environ["GITHUB_SHA"]
    return ev.git.head_sha
