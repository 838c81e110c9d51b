"""Reports: one model, one renderer module per format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from enum import Enum
from typing import Any

from gatekeeper.report import json_, junit, markdown, sarif, text
from gatekeeper.report.escape import printable
from gatekeeper.report.model import Report, report_schema

RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "junit": junit.render,
}


def render(report: Report, fmt: str) -> str:
    """``report`` in format ``fmt``. Every renderer gets a copy whose strings are all
    writable as UTF-8: a file name that is not UTF-8 shows its bytes as ``\\xNN``."""
    return RENDERERS[fmt](_printable(report))


def _printable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_printable(v) for v in value)
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _printable(getattr(value, f.name)) for f in fields(value) if f.init}
        return replace(value, **changes)
    return value


__all__ = ["RENDERERS", "Report", "render", "report_schema"]
