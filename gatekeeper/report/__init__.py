"""Reports: one model, one renderer module per format."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields, is_dataclass, replace
from enum import Enum
from typing import Any

from gatekeeper.report.escape import printable
from gatekeeper.report.model import Report, report_schema

_MODULES = {"text": "text", "json": "json_", "markdown": "markdown", "sarif": "sarif", "junit": "junit"}
"""Format -> the module that renders it."""


class _Renderers(Mapping[str, Callable[[Report], str]]):
    """Format -> its renderer's ``render``. A renderer's module is imported when its format
    is asked for: a run imports the one or two it writes, not all five."""

    def __getitem__(self, fmt: str) -> Callable[[Report], str]:
        module = importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
        render: Callable[[Report], str] = module.render
        return render

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


RENDERERS: Mapping[str, Callable[[Report], str]] = _Renderers()


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
