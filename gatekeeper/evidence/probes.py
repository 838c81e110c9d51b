"""HTTP probe evidence: requests to a deployed service, repeated until they pass or time is up.

What counts as a pass is the check's business (a ``judge`` function); this module only
sends requests, measures them and keeps polling. A connection error, a TLS error or a
timeout is an attempt without a status, which no judge can pass. URLs are shown without
credentials: the user:password part and secret-looking query values (every query value,
for a URL read from the environment) are masked in everything this module returns.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gatekeeper.errors import EvidenceError

MAX_BODY = 1_000_000
"""Bytes of a response body kept for ``contains`` and ``json`` (a health page is small)."""
_SECRET_KEY = re.compile(r"token|key|secret|pass|sig|auth|cred|session|code", re.IGNORECASE)


def redact(url: str, all_query: bool = False) -> str:
    """``url`` without credentials: ``https://***@host/p?token=***``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    netloc = ("***@" if parts.username or parts.password else "") + host + port
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(k, "***" if all_query or _SECRET_KEY.search(k) else v) for k, v in pairs]
    query = urlencode(masked, safe="*") if pairs else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@dataclass(frozen=True)
class Target:
    url: str = field(repr=False)
    shown: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


def target(
    environ: Mapping[str, str],
    url: str | None,
    url_env: str | None,
    method: str = "GET",
    headers_env: Mapping[str, str] | None = None,
) -> Target:
    """A target from the policy; variables are read from ``environ``."""
    if url_env and not url:
        url = environ.get(url_env, "").strip()
        if not url:
            raise EvidenceError(
                f"the probe URL variable {url_env} is not set",
                f"set {url_env} in the job's environment (e.g. from the deploy job's output)",
            )
        shown = redact(url, all_query=True)
    elif url:
        shown = redact(url)
    else:
        raise EvidenceError("a probe target has no URL", "set url or url_env")
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise EvidenceError(f"probe URL {shown} is not http(s)", "use an http:// or https:// URL")
    headers = []
    for name, var in (headers_env or {}).items():
        if var not in environ:
            raise EvidenceError(
                f"header {name} for {shown} comes from {var}, which is not set",
                f"set {var} in the job's environment (e.g. from a secret)",
            )
        headers.append((name, environ[var]))
    return Target(url, shown, method.upper(), tuple(headers))


@dataclass(frozen=True)
class Response:
    """One attempt: a status and body, or why there was none."""

    status: int | None
    latency_ms: float
    body: bytes = b""
    error: str | None = None


def fetch(t: Target, timeout: float) -> Response:
    import requests

    started = time.monotonic()
    try:
        with requests.request(
            t.method,
            t.url,
            headers=dict(t.headers),
            timeout=timeout,
            allow_redirects=False,  # a redirect is a status to judge, not a new host to trust
            stream=True,
        ) as r:
            body = r.raw.read(MAX_BODY, decode_content=True) or b""
            status = r.status_code
    except requests.Timeout:
        return Response(None, _ms(started), error=f"timed out after {timeout:g} s")
    except requests.exceptions.SSLError:
        return Response(None, _ms(started), error="TLS error (certificate or handshake)")
    except requests.RequestException as e:
        # The exception's text carries the URL, credentials included: name the type only.
        return Response(None, _ms(started), error=f"connection failed ({type(e).__name__})")
    return Response(status, _ms(started), body)


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


Judge = Callable[[Response], "str | None"]
"""``None`` when the response passes, else why not (one short phrase)."""


@dataclass
class Progress:
    """One target's attempts so far."""

    target: Target
    attempts: int = 0
    streak: int = 0
    last: Response | None = None
    reason: str | None = "not probed"
    history: list[dict[str, Any]] = field(default_factory=list)

    def record(self, response: Response, reason: str | None, at: float) -> None:
        self.attempts += 1
        self.last, self.reason = response, reason
        self.streak = self.streak + 1 if reason is None else 0
        self.history.append(
            {
                "at_s": round(at, 2),
                "status": response.status,
                "latency_ms": response.latency_ms,
                "ok": reason is None,
                "reason": reason,
            }
        )
        del self.history[:-10]  # the last ten tell the story; the count says the rest


def poll(
    targets: list[tuple[Target, Judge]],
    *,
    timeout: float,
    within: float,
    interval: float,
    consecutive: int = 1,
    fetch_one: Callable[[Target, float], Response] = fetch,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[Progress], float]:
    """Probe every target (judged by its own judge) each ``interval`` until each has ``consecutive`` passes in a row or
    ``within`` seconds are up; returns each target's progress and the seconds spent."""
    progress = [Progress(t) for t, _ in targets]
    judges = [j for _, j in targets]
    start = clock()
    rounds = 0
    while True:
        for p, judge in zip(progress, judges, strict=True):
            if p.streak < consecutive:
                response = fetch_one(p.target, timeout)
                p.record(response, judge(response), clock() - start)
        rounds += 1
        if all(p.streak >= consecutive for p in progress):
            break
        # Compared in whole microseconds: 3 * 0.1 is 0.30000000000000004 in floats.
        if round(rounds * interval * 1e6) > round(within * 1e6):
            break
        next_round = start + rounds * interval
        sleep(max(0.0, next_round - clock()))
    return progress, clock() - start
