"""``gatekeeper notify``: post a release notice to a channel and record a receipt.

Channels come from the policy's ``notify: channels:`` block; the webhook URL is a secret, so
it normally comes from an environment variable (``url_env``) and it never appears in any
message, log line or receipt: errors name the channel and the variable instead.

After a successful post (HTTP 2xx) a receipt — channel, time, head SHA, version, HTTP status
and the SHA-256 digest of the message — is appended to the head commit's git note under
``refs/notes/gatekeeper``. A failed post writes no receipt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from gatekeeper.errors import GatekeeperError, UsageError
from gatekeeper.evidence import notes

RETRYABLE = frozenset({429, 500, 502, 503, 504})


class NotifyError(GatekeeperError):
    """The notice could not be delivered (after retries); no receipt was written."""


@dataclass(frozen=True)
class Channel:
    name: str
    type: str
    url: str = field(repr=False)
    url_env: str | None = None

    @property
    def label(self) -> str:
        where = f"${self.url_env}" if self.url_env else "the policy's url"
        return f"channel {self.name!r} ({self.type}, URL from {where})"


@dataclass(frozen=True)
class NotifyRequest:
    policy: Path
    channels: tuple[str, ...]
    message: str
    repo: Path = Path(".")
    head: str = "HEAD"
    version: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def channel(policy_notify: dict[str, Any], name: str, environ: Mapping[str, str]) -> Channel:
    channels = (policy_notify or {}).get("channels") or {}
    if name not in channels:
        known = ", ".join(sorted(channels)) or "none"
        raise UsageError(f"no notify channel {name!r} in the policy (channels: {known})")
    spec = channels[name]
    url = spec.get("url")
    env = spec.get("url_env")
    if env:
        url = environ.get(env, "").strip()
        if not url:
            raise UsageError(f"channel {name!r}: environment variable {env} is not set")
    if not url or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise UsageError(f"channel {name!r}: the URL is not an http(s) URL")
    return Channel(name, spec["type"], url, env)


def payload(kind: str, message: str, receipt: dict[str, Any]) -> dict[str, Any]:
    """The JSON body each kind of channel expects."""
    if kind == "slack":  # Slack incoming webhooks
        return {"text": message}
    if kind == "teams":  # Teams workflow webhooks take an Adaptive Card message
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": message, "wrap": True}],
        }
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    return {"event": "release.notice", "text": message, **_public(receipt)}


def _public(receipt: dict[str, Any]) -> dict[str, Any]:
    return {k: receipt[k] for k in ("head", "version", "digest") if k in receipt}


def scrub(text: str, url: str) -> str:
    """``text`` without the URL or its secret parts (path, query)."""
    parts = urlsplit(url)
    secrets = [url, url.rstrip("/"), parts.path + ("?" + parts.query if parts.query else "")]
    secrets += [parts.query] if parts.query else []
    for secret in sorted((s for s in secrets if len(s) > 1), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _limits(environ: Mapping[str, str]) -> tuple[int, float, float]:
    def number(name: str, default: float) -> float:
        try:
            return max(0.0, float(environ.get(name, default)))
        except ValueError:
            return default

    retries = int(number("GATEKEEPER_NOTIFY_RETRIES", 3))
    return retries, number("GATEKEEPER_NOTIFY_TIMEOUT", 10), number("GATEKEEPER_NOTIFY_BACKOFF", 1)


def post(
    ch: Channel,
    body: dict[str, Any],
    environ: Mapping[str, str],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST ``body`` with retries on connection errors, 429 and 5xx (not after a read
    timeout: the notice may have arrived); returns the HTTP status, or raises
    ``NotifyError`` naming the channel (never the URL)."""
    import requests

    # urllib3 logs request lines (the secret path of a webhook URL) at DEBUG: keep it quiet.
    logging.getLogger("urllib3").setLevel(logging.INFO)
    retries, timeout, backoff = _limits(environ)
    problem = "no attempt made"
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        try:
            response = requests.post(ch.url, json=body, timeout=timeout, allow_redirects=False)
        except requests.ConnectTimeout:
            problem = f"could not connect within {timeout:g}s"
            continue
        except requests.Timeout:
            # The request went out: it may have been delivered, and a retry could post the
            # notice twice. Stop and say so.
            problem = (
                f"no answer within {timeout:g}s (the notice may have arrived: look at the "
                "channel before re-running)"
            )
            break
        except requests.RequestException as e:
            problem = f"could not connect ({type(e).__name__})"
            continue
        if 200 <= response.status_code < 300:
            return response.status_code
        excerpt = scrub(" ".join(response.text.split())[:200], ch.url)
        problem = f"HTTP {response.status_code}" + (f": {excerpt}" if excerpt else "")
        if response.status_code not in RETRYABLE:
            break
    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
    raise NotifyError(f"{ch.label}: not delivered, {problem} ({tries}); no receipt was written")


def render_template(text: str, values: Mapping[str, str]) -> str:
    """``$version``, ``$head``, ``$short_head``, ``$repository`` in a template file."""
    return Template(text).safe_substitute(values)


def digest(message: str) -> str:
    return "sha256:" + hashlib.sha256(message.encode("utf-8")).hexdigest()


def _head(repo: Path, ref: str) -> str:
    done = notes._git(
        repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
    )
    if done.returncode != 0:
        raise UsageError(f"head ref {ref!r} is not a commit in {repo}")
    return done.stdout.decode().strip()


def notify(
    req: NotifyRequest, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> list[dict[str, Any]]:
    """Post to each channel in turn and record a receipt after each delivery."""
    from gatekeeper.policy import load_policy

    policy = load_policy(req.policy)
    resolved = [channel(policy.notify, name, req.environ) for name in req.channels]
    head = _head(req.repo, req.head)
    values = {
        "version": req.version or "",
        "head": head,
        "short_head": head[:12],
        "repository": req.environ.get("GITHUB_REPOSITORY", ""),
    }
    message = render_template(req.message, values)
    if not message.strip():
        raise UsageError("the message is empty")
    out = []
    for ch in resolved:
        receipt: dict[str, Any] = {
            "type": notes.RECEIPT_TYPE,
            "schema": 1,
            "channel": ch.name,
            "channel_type": ch.type,
            "head": head,
            "version": req.version,
            "digest": digest(message),
        }
        status = post(ch, payload(ch.type, message, receipt), req.environ)
        receipt.update(time=now().isoformat(timespec="seconds"), http_status=status)
        notes.append(req.repo, head, receipt)
        out.append(receipt)
    return out
