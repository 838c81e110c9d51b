"""Third-party checks from the ``gatekeeper.checks`` entry-point group, as flake8 finds plugins.

Two phases, two small types. ``find()`` lists every ``Plugin(package, version, entry_point)``
from ``importlib.metadata`` without importing anything; ``load()`` imports each one and gives a
``LoadedPlugin`` only when the import worked and gave a valid ``Check`` whose name clashes with
nothing. Every other outcome is a ``FailedToLoadPlugin`` naming the plugin as
``package[entry-name]`` with the original error, never a traceback: a broken plugin blocks only
the policies that use its check (``gatekeeper validate`` and ``check`` exit 2 for those).

An entry point names either a ``Check`` object (``pkg.module:CHECK``) or a module exposing
``CHECK``, as built-in check modules do. Nothing here runs on import of ``gatekeeper`` or for
``--help``: the registry scans entry points the first time a command asks for checks.
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import jsonschema

from gatekeeper.checks import Check
from gatekeeper.errors import GatekeeperError

GROUP = "gatekeeper.checks"


@dataclass(frozen=True)
class Plugin:
    """An entry point in the group, found without importing it."""

    package: str
    version: str
    entry_point: md.EntryPoint

    @property
    def label(self) -> str:
        return f"{self.package}[{self.entry_point.name}]"


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin whose import worked and gave a valid ``Check``."""

    plugin: Plugin
    check: Check


class FailedToLoadPlugin(GatekeeperError):
    """A plugin that cannot be used: the check name it claims and why, in one sentence."""

    def __init__(self, plugin: Plugin, reason: str) -> None:
        self.plugin = plugin
        self.name = plugin.entry_point.name
        self.reason = reason
        super().__init__(
            f"check plugin {plugin.label} (version {plugin.version}) cannot be used: {reason}"
        )


def find(entry_points: Iterable[md.EntryPoint] | None = None) -> list[Plugin]:
    """Every plugin in the group, sorted by name then package (nothing is imported)."""
    eps = md.entry_points(group=GROUP) if entry_points is None else entry_points
    found = {
        (ep.name, _package(ep), ep.value): Plugin(_package(ep), _version(ep), ep) for ep in eps
    }
    # The same distribution seen twice on sys.path (e.g. a --target dir and site-packages)
    # is one plugin, not a clash with itself.
    return [found[key] for key in sorted(found)]


def _package(ep: md.EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "unknown package"


def _version(ep: md.EntryPoint) -> str:
    return ep.dist.version if ep.dist is not None else "?"


def load(
    plugins: Iterable[Plugin], builtins: Mapping[str, Check]
) -> tuple[list[LoadedPlugin], list[FailedToLoadPlugin]]:
    """Import each plugin; refuse those that fail, are not a valid Check, or clash by name."""
    plugins = list(plugins)
    loaded: list[LoadedPlugin] = []
    failed: list[FailedToLoadPlugin] = []
    claims: dict[str, list[Plugin]] = {}
    for plugin in plugins:
        claims.setdefault(plugin.entry_point.name, []).append(plugin)
    for plugin in plugins:
        try:
            loaded.append(_load_one(plugin, builtins, claims))
        except FailedToLoadPlugin as e:
            failed.append(e)
    return loaded, failed


def _load_one(
    plugin: Plugin, builtins: Mapping[str, Check], claims: Mapping[str, list[Plugin]]
) -> LoadedPlugin:
    name = plugin.entry_point.name
    if name in builtins:
        raise FailedToLoadPlugin(plugin, f"its name {name!r} is a built-in check's")
    rivals = [p.label for p in claims.get(name, []) if p != plugin]
    if rivals:
        # Neither wins: which one a policy meant is not ours to guess.
        raise FailedToLoadPlugin(
            plugin, f"another plugin claims the name {name!r} too: {', '.join(rivals)}"
        )
    try:
        obj = plugin.entry_point.load()
    except Exception as e:  # any import-time failure of third-party code
        raise FailedToLoadPlugin(plugin, f"import failed: {type(e).__name__}: {e}") from None
    check = obj.CHECK if isinstance(obj, ModuleType) and hasattr(obj, "CHECK") else obj
    problem = invalid(check, name)
    if problem:
        raise FailedToLoadPlugin(plugin, problem)
    return LoadedPlugin(plugin, check)


def invalid(check: Any, name: str) -> str | None:
    """Why ``check`` is not a usable Check named ``name`` (``None`` if it is)."""
    if not isinstance(check, Check):
        return (
            f"{type(check).__name__} is not a gatekeeper.checks.Check (the entry point must "
            "name a Check object or a module exposing CHECK)"
        )
    if check.name != name:
        return f"the entry point is named {name!r} but its Check is named {check.name!r}"
    if not callable(check.evaluate) or (check.validate is not None and not callable(check.validate)):
        return "Check.evaluate (and Check.validate, if given) must be callable"
    try:
        jsonschema.Draft202012Validator.check_schema(check.options)
        jsonschema.validate(check.example, check.options, jsonschema.Draft202012Validator)
    except jsonschema.SchemaError as e:
        return f"Check.options is not a valid JSON Schema: {e.message}"
    except jsonschema.ValidationError as e:
        return f"Check.example does not validate against Check.options: {e.message}"
    return None
