"""Durations in policies (``500ms``, ``30s``, ``5m``, ``2h``, ``1d``, ``1h30m``): one parser
and one JSON Schema pattern, shared by every check that takes a duration."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = r"\d+(?:\.\d+)?(?:ms|s|m|h|d|w)"
PATTERN = rf"^(?:{_PART})+$"
_PARTS = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")

SCHEMA: dict[str, str] = {
    "type": "string",
    "pattern": PATTERN,
    "description": "A duration: a number and a unit (ms, s, m, h, d, w), e.g. 30s, 5m, 1h30m.",
}


def parse(text: str) -> timedelta:
    """``'1h30m'`` -> 90 minutes. Raises ``ValueError`` for anything else (the schema
    refuses those first, so policies never get here with a bad value)."""
    if not re.fullmatch(PATTERN, text or ""):
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 5m, 2h, 1d)")
    seconds = sum(float(n) * UNITS[unit] for n, unit in _PARTS.findall(text))
    return timedelta(seconds=seconds)


def seconds(text: str) -> float:
    return parse(text).total_seconds()


def describe(delta: timedelta) -> str:
    """A short human form: ``1h 30m``, ``45s``, ``0.25s``; negative values are shown as 0s."""
    total = delta.total_seconds()
    if total < 60:
        return f"{max(total, 0):.3g}s"
    minutes = int(total // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    return " ".join(p for p in parts if p)


def promql(delta: timedelta) -> str:
    """The same duration in PromQL's syntax (integers only): the largest exact unit."""
    ms = round(delta.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
