"""Keeping the run's secrets (the GitHub token) out of everything Gatekeeper writes.

The GitHub client scrubs its own messages; this is the backstop for text that leaves
through other paths (a crashing check, an internal error, a publishing warning): the
report, standard output and error, the job summary and the PR comment. Redaction
happens on the raw text, before Markdown escaping: an escaped token (``ghs\\_x``) would
no longer match the runner's own secret masking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
"""Environment variables whose values are secrets."""
MASK = "***"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MIN_PIECE = 8
"""A piece of a token split by control characters is masked from this length on (shorter
pieces would mask ordinary words)."""


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Every form of the secrets in ``environ`` that may appear in a message: the value
    as given, stripped, and each of its pieces between control characters."""
    found: set[str] = set()
    for name in SECRET_VARIABLES:
        value = environ.get(name) or ""
        stripped = value.strip()
        if len(stripped) >= 4:
            found.add(stripped)
        found.update(p.strip() for p in _CONTROL.split(value) if len(p.strip()) >= _MIN_PIECE)
    # Longest first: masking a piece before its whole would leave the rest visible.
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_data(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (JSON-like data) with every string redacted."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact_data(k, secrets): redact_data(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v, secrets) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_data(v, secrets) for v in value)
    return value
