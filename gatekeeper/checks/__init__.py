"""The registry of checks: the one list of rule kinds Gatekeeper knows.

A check is a small pure function of (options, evidence) to an ``Outcome``. Each lives in
its own module in this package and exposes ``CHECK``; adding one is a module plus a line
in ``_MODULES``. The registry feeds the policy schema (check names and options),
``gatekeeper checks`` and ``gatekeeper explain``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.model import Outcome

Evaluate = Callable[[dict[str, Any], "Evidence"], "Outcome"]
Problem = tuple[tuple[str | int, ...], str]
"""A problem in a rule's options: the path inside ``with`` and a message."""

_MODULES = (
    "release_window",
    "changelog",
    "code_review",
    "ci_checks",
    "smoke_coverage",
    "feature_toggles",
    "stakeholder_notified",
    "checklist",
    "risk_register",
    "version_bump",
    "http_probe",
    "slo",
    "promotion",
    "schema_change",
    "rollback_plan",
)


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    """One line for ``gatekeeper checks``."""
    options: dict[str, Any]
    """JSON Schema of the rule's ``with`` block; ``default`` values are applied before evaluate."""
    evaluate: Evaluate
    example: dict[str, Any] = field(default_factory=dict)
    """A ``with`` block shown by ``gatekeeper explain`` (it must validate)."""
    description: str = ""
    validate: Callable[[dict[str, Any]], list[Problem]] | None = None
    """Checks beyond the schema (time zones, dates), run by ``gatekeeper validate``."""


_registry: dict[str, Check] = {}


def registry() -> dict[str, Check]:
    """All registered checks by name (modules are imported on first use)."""
    if not _registry:
        for module in _MODULES:
            check: Check = importlib.import_module(f"{__name__}.{module}").CHECK
            _registry[check.name] = check
    return _registry


def register(check: Check) -> Check:
    """Add a check at run time (tests and plug-ins); returns it for use as a value."""
    registry()[check.name] = check
    return check


def unregister(name: str) -> None:
    registry().pop(name, None)


def with_defaults(check: Check, options: dict[str, Any] | None) -> dict[str, Any]:
    """The rule's options with the schema's top-level defaults filled in."""
    merged = dict(options or {})
    for key, prop in check.options.get("properties", {}).items():
        if key not in merged and "default" in prop:
            merged[key] = prop["default"]
    return merged
