"""Reports: one model, one renderer module per format."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from enum import Enum
from importlib import import_module
from typing import Any

from gatekeeper.report.escape import has_surrogate, printable
from gatekeeper.report.model import Report, report_schema


def _imported_on_use(module: str) -> Callable[[Report], str]:
    """``gatekeeper.report.<module>.render``, imported when first called: a run loads the
    formats it writes, not all five (JUnit alone brings in xml.etree)."""

    def render(report: Report) -> str:
        renderer: Callable[[Report], str] = import_module(f"{__name__}.{module}").render
        return renderer(report)

    render.__qualname__ = render.__name__ = f"{module}.render"
    return render


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": _imported_on_use("text"),
    "json": _imported_on_use("json_"),
    "markdown": _imported_on_use("markdown"),
    "sarif": _imported_on_use("sarif"),
    "junit": _imported_on_use("junit"),
}
"""Each renderer gets a report whose strings are all writable as UTF-8 (``_printable``)."""


def render(report: Report, fmt: str) -> str:
    """``report`` in format ``fmt``. Every renderer gets a copy whose strings are all
    writable as UTF-8: a file name that is not UTF-8 shows its bytes as ``\\xNN``."""
    return RENDERERS[fmt](_printable(report))


class Rendered:
    """The formats of one finished report, each rendered at most once: standard output,
    ``--output`` files and the job summary share the same text. The report must not change
    afterwards (the CLI renders a run's report only when the run is over)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self._printable: Report | None = None
        self._texts: dict[str, str] = {}

    def printable(self) -> Report:
        if self._printable is None:
            self._printable = _printable(self.report)
        return self._printable

    def __getitem__(self, fmt: str) -> str:
        if fmt not in self._texts:
            self._texts[fmt] = RENDERERS[fmt](self.printable())
        return self._texts[fmt]


def _printable(value: Any) -> Any:
    """``value`` with ``printable`` applied to every string in it (dict keys and dataclass
    fields included). A value none of whose strings needs it (almost every report) is
    returned as it is, not copied: nothing changes a finished report."""
    return value if _all_printable(value) else _escaped(value)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _escaped(value: Any) -> Any:
    """The copy of a value that holds a string to escape somewhere. A list of plain values
    (line numbers and ranges) is looked at as a whole: kept as it is when it is clean."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list | tuple) and set(map(type, value)) <= _SCALARS:
        if not has_surrogate("".join([v for v in value if type(v) is str])):
            return value
        items = [printable(v) if type(v) is str else v for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_escaped(v) for v in value)
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _escaped(getattr(value, f.name)) for f in fields(value) if f.init}
        return replace(value, **changes)
    return value


def _all_printable(value: Any) -> bool:
    """Whether no string in ``value`` holds a lone surrogate, checked at C speed: the C
    JSON encoder (``ensure_ascii=False`` keeps every string as it is) writes the whole value
    out, one regex search reads it. Anything the encoder cannot write (a tuple as a key,
    a cycle, ...) answers False: ``_escaped`` walks it, as before."""
    try:
        whole = json.dumps(value, ensure_ascii=False, default=_fields)
    except (TypeError, ValueError, RecursionError):
        return False
    return not has_surrogate(whole)


def _fields(value: object) -> object:
    """What ``_escaped`` looks into besides JSON values: a dataclass's fields. Anything else
    (a date, an Enum that is not a string) it leaves as it is, so the check may too."""
    if isinstance(value, Enum) or not is_dataclass(value) or isinstance(value, type):
        return None
    return [getattr(value, f.name) for f in fields(value)]


__all__ = ["RENDERERS", "Rendered", "Report", "render", "report_schema"]
