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
    """One kind of rule: its name, its options' schema and its pure ``evaluate``."""

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
_complete = False
"""Whether every built-in module (and every plugin) has been loaded into ``_registry``."""
_providers: dict[str, str] = {}
"""Check name → ``package version`` for checks that plugins provide."""
_failed: dict[str, str] = {}
"""Check name → why the plugin claiming it cannot be used (``package[name]`` and the error)."""


def registry() -> dict[str, Check]:
    """All registered checks by name: built-ins, then plugins from the ``gatekeeper.checks``
    entry points (modules are imported, and entry points scanned, on first use)."""
    global _complete
    if not _complete:
        for module in _MODULES:
            check: Check = importlib.import_module(f"{__name__}.{module}").CHECK
            _registry.setdefault(check.name, check)
        _complete = True
        _add_plugins()
    return _registry


def get(name: str) -> Check | None:
    """The check called ``name``. A built-in's module is found from its name
    (``smoke-coverage`` -> ``smoke_coverage``) and imported alone, so a run imports
    only the checks its policy names; anything else (plugins included) is looked up in
    the full registry."""
    if name in _registry:
        return _registry[name]
    module = name.replace("-", "_")
    if not _complete and module in _MODULES:
        check: Check = importlib.import_module(f"{__name__}.{module}").CHECK
        _registry.setdefault(check.name, check)
        if check.name == name:
            return check
    return registry().get(name)


def _add_plugins() -> None:
    from gatekeeper import plugins

    builtins = {name: check for name, check in _registry.items() if name not in _providers}
    loaded, failed = plugins.load(plugins.find(), builtins)
    for item in loaded:
        _registry[item.check.name] = item.check
        _providers[item.check.name] = f"{item.plugin.package} {item.plugin.version}"
    for error in failed:
        _failed.setdefault(error.name, str(error))


def provider(name: str) -> str | None:
    """``package version`` of the plugin that provides check ``name`` (``None``: built-in)."""
    registry()
    return _providers.get(name)


def failed_plugins() -> dict[str, str]:
    """Check names claimed by plugins that cannot be used, with the reason."""
    registry()
    return dict(_failed)


def reset() -> None:
    """Forget the registry, so that the next use scans entry points again (tests)."""
    global _complete
    _registry.clear()
    _providers.clear()
    _failed.clear()
    _complete = False


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
