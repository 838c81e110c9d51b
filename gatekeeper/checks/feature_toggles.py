"""``feature-toggles``: risky changes ship behind declared, owned, off-by-default flags."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from gatekeeper import globs
from gatekeeper.checks import Check, Problem
from gatekeeper.evidence import Evidence
from gatekeeper.evidence import flags as flag_evidence
from gatekeeper.evidence.flags import PERMANENT, Flag, Reference
from gatekeeper.model import Annotation, Outcome

MAX_AGE_DEFAULTS = {"release": 40, "experiment": 40, "ops": 7}

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["registry"],
    "properties": {
        "registry": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "minLength": 1},
            "description": "Flag registry files at the head (globs allowed; `{env}` is replaced "
            "by --env): OpenFeature flagd JSON/YAML or a plain YAML `flags:` list.",
        },
        "patterns": {
            "type": "array",
            "default": [],
            "items": {"type": "string", "minLength": 1},
            "description": "Extra regular expressions that find a flag key in code; each has a "
            'named group `key` (e.g. `feature\\("(?P<key>[\\w-]+)"`).',
        },
        "guarded_paths": {
            "type": "array",
            "default": [],
            "items": {"type": "string", "minLength": 1},
            "description": "Globs: a changed file here whose added lines reference no flag fails "
            "(a risky change not behind a toggle).",
        },
        "max_age_days": {
            "type": "object",
            "default": {},
            "additionalProperties": False,
            "properties": {t: {"type": "integer", "minimum": 1} for t in MAX_AGE_DEFAULTS},
            "description": "Age after which a temporary flag is stale, by type (default release "
            "40, experiment 40, ops 7); permission and kill-switch flags are permanent.",
        },
        "require_owner": {
            "type": "boolean",
            "default": True,
            "description": "Every flag the change adds or references names an owner.",
        },
    },
}


def validate(options: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for i, pattern in enumerate(options.get("patterns", [])):
        try:
            compiled = re.compile(pattern)
        except re.error as e:
            problems.append((("patterns", i), f"not a regular expression: {e}"))
            continue
        if "key" not in compiled.groupindex:
            problems.append((("patterns", i), "needs a named group `key`: (?P<key>...)"))
    return problems


def _referenced(refs: list[Reference]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for ref in refs:
        out.setdefault(ref.key, []).append(ref.where)
    return out


def _stale(flag: Flag, today: date, max_age: dict[str, int]) -> str | None:
    kind = flag.type or "release"  # an untyped flag is treated as temporary
    if kind in PERMANENT:
        return None
    if flag.expires is not None and flag.expires < today:
        return f"expired {flag.expires.isoformat()}"
    limit = max_age.get(kind, MAX_AGE_DEFAULTS.get(kind))
    if flag.created is not None and limit and flag.created + timedelta(days=limit) < today:
        return f"created {flag.created.isoformat()}, older than {limit} days for a {kind} flag"
    return None


def _unguarded(
    ev: Evidence, patterns: list[str], refs: list[Reference], skip: set[str]
) -> list[str]:
    if not patterns:
        return []
    guarded = {r.path for r in refs}
    return [
        f.path
        for f in ev.git.changed_files
        if f.added_lines
        and f.path not in skip
        and globs.match_any(f.path, patterns)
        and f.path not in guarded
    ]


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    registry = flag_evidence.registry(ev, options["registry"])
    skip = set(registry.files)
    refs = flag_evidence.references(ev, options["patterns"], skip)
    old = flag_evidence.base_keys(ev, options["registry"])
    new_keys = sorted(set(registry.flags) - old)
    referenced = _referenced(refs)
    today = ev.now.date()
    max_age = {**MAX_AGE_DEFAULTS, **options["max_age_days"]}

    undeclared = [r for r in refs if r.key not in registry.flags]
    unsafe = [k for k in new_keys if registry.flags[k].default_on(ev.env)]
    concerned = sorted(set(new_keys) | (set(referenced) & set(registry.flags)))
    ownerless = (
        [k for k in concerned if not registry.flags[k].owner] if options["require_owner"] else []
    )
    stale = {
        k: why for k, f in sorted(registry.flags.items()) if (why := _stale(f, today, max_age))
    }
    unguarded = _unguarded(ev, options["guarded_paths"], refs, skip)

    details: dict[str, Any] = {
        "registry": registry.files,
        "referenced": referenced,
        "new_flags": new_keys,
        "undeclared": [{"key": r.key, "where": r.where} for r in undeclared],
        "unsafe_defaults": unsafe,
        "ownerless": ownerless,
        "stale": [
            {"key": k, "why": why, "where": registry.flags[k].source} for k, why in stale.items()
        ],
        "unguarded": unguarded,
    }
    problems = _problems(undeclared, unsafe, ownerless, stale, unguarded, ev.env)
    if not problems:
        return Outcome.passed(_pass_summary(referenced, new_keys), **details)
    outcome = Outcome.failed(
        "; ".join(p for p, _ in problems), "; ".join(r for _, r in problems), **details
    )
    outcome.annotations = [
        Annotation(r.path, r.line, message=f"flag {r.key!r} is not declared in the registry")
        for r in undeclared
    ] + [
        Annotation(path, _first_added(ev, path), message="changed without a feature flag")
        for path in unguarded
    ]
    return outcome


def _first_added(ev: Evidence, path: str) -> int:
    for f in ev.git.changed_files:
        if f.path == path and f.added_lines:
            return f.added_lines[0]
    return 1


def _problems(
    undeclared: list[Reference],
    unsafe: list[str],
    ownerless: list[str],
    stale: dict[str, str],
    unguarded: list[str],
    env: str | None,
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if undeclared:
        where = ", ".join(f"{r.key!r} at {r.where}" for r in undeclared[:10])
        more = f" and {len(undeclared) - 10} more" if len(undeclared) > 10 else ""
        out.append(
            (
                f"undeclared flag {where}{more}",
                "declare each flag in the registry with an owner and a default of off",
            )
        )
    if unsafe:
        target = f"in {env}" if env else "by default"
        out.append(
            (
                f"new flag {', '.join(map(repr, unsafe))} is on {target}",
                "ship new flags switched off (defaultVariant off / default: false) and turn them on after release",
            )
        )
    if ownerless:
        out.append(
            (f"flag {', '.join(map(repr, ownerless))} has no owner", "name an owner for every flag")
        )
    if stale:
        listed = ", ".join(f"{k!r} ({why})" for k, why in list(stale.items())[:10])
        out.append(
            (
                f"stale flag {listed}",
                "remove stale flags from code and registry, or extend their expiry",
            )
        )
    if unguarded:
        out.append(
            (
                f"risky change not behind a toggle: {', '.join(unguarded[:10])}",
                "put the change under guarded_paths behind a feature flag",
            )
        )
    return out


def _pass_summary(referenced: dict[str, list[str]], new_keys: list[str]) -> str:
    if not referenced and not new_keys:
        return "no feature flags referenced in the changed lines; registry valid"
    parts = [f"{len(referenced)} flag{'s' if len(referenced) != 1 else ''} referenced"]
    if new_keys:
        parts.append(f"{len(new_keys)} new, off by default")
    return ", ".join(parts) + "; every flag declared and owned"


CHECK = Check(
    name="feature-toggles",
    title="Changed code uses declared, owned, off-by-default feature flags",
    options=OPTIONS,
    evaluate=evaluate,
    validate=validate,
    description=(
        "Reads the flag registry at the head (OpenFeature flagd JSON/YAML, or a plain YAML "
        "`flags:` list) and the flag keys used in the change's added lines (OpenFeature, "
        "LaunchDarkly and Unleash call shapes, plus `patterns`; comments do not count). Fails "
        "on an undeclared key, a new flag that is on for the evaluated environment, a flag "
        "without an owner, a stale temporary flag, or a change under `guarded_paths` that "
        "references no flag. An invalid registry is an error."
    ),
    example={
        "registry": ["flags.yaml"],
        "guarded_paths": ["src/checkout/**"],
        "max_age_days": {"release": 30},
    },
)
