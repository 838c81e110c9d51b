"""Load and validate a policy, reporting every problem as ``FILE:LINE:COL: message``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import PolicyError, UsageError
from gatekeeper.model import Severity
from gatekeeper.policy import waivers as waiver_rules
from gatekeeper.policy import yamlpos
from gatekeeper.policy.schema import base_schema, part_schema
from gatekeeper.policy.yamlpos import Path, Positions

if TYPE_CHECKING:
    import jsonschema

    from gatekeeper.policy.extends import Origin


@dataclass(frozen=True)
class Rule:
    """One rule of a policy: id, check, severity, ``when`` conditions and ``with`` options."""

    id: str
    check: str
    severity: Severity = Severity.BLOCK
    when: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    line: int = 0


@dataclass(frozen=True)
class Policy:
    """A policy, read and validated (``extends`` bases merged in)."""

    name: str
    rules: tuple[Rule, ...]
    source: str
    """Where the text came from: a file path, or ``REF:PATH`` for a policy read from git."""
    sha256: str
    description: str = ""
    waivers: tuple[waiver_rules.Waiver, ...] = ()
    """Waivers written in the policy (``run`` adds those of ``waivers_file``)."""
    waivers_file: str | None = None
    """A waivers file named by the policy, relative to it."""
    waiver_settings: waiver_rules.Settings = field(
        default_factory=lambda: waiver_rules.Settings(frozenset())
    )
    notify: dict[str, Any] = field(default_factory=dict)
    """The ``notify:`` block: channels for ``gatekeeper notify``."""
    environments: tuple[str, ...] = ()
    """The environments ``--env`` may name: declared, or every ``when.environments`` name."""
    allow_all_skipped: bool = False
    """Approve a run in which every rule is skipped (by default it blocks)."""
    runbook: str | None = None
    """The rollback runbook (path or URL), for `gatekeeper verify`'s rollback remedy."""


@dataclass
class _Problems:
    """Every problem of one policy document, each at its ``LINE:COL``."""

    source: str
    positions: Positions
    items: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, where: tuple[int, int], message: str) -> None:
        self.items.append((*where, message))

    def lines(self) -> list[str]:
        return [f"{self.source}:{ln}:{col}: {msg}" for ln, col, msg in sorted(set(self.items))]


def load_policy(path: str | FsPath) -> Policy:
    """Read a policy file; raise ``PolicyError`` listing every problem, ``UsageError`` if unreadable."""
    try:
        raw = FsPath(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such policy file; write a starter policy with `gatekeeper init {path}` "
            "or pass --policy FILE"
        ) from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read policy: {e.strerror or e}") from None
    return loads_policy(raw, str(path))


def loads_policy(
    raw: bytes | str, source: str, origin: Origin | None = None, reads: list[Origin] | None = None
) -> Policy:
    """Parse and validate policy text; ``source`` names it in messages. ``origin`` says where
    the text was read (a file, or a commit), for its ``extends`` bases (default: the file
    ``source``). Each base read is appended to ``reads``."""
    data = raw.encode() if isinstance(raw, str) else raw
    doc, positions = document(data, source, origin, reads)
    return _build(doc, source, hashlib.sha256(data).hexdigest(), positions)


def document(
    data: bytes, source: str, origin: Origin | None = None, reads: list[Origin] | None = None
) -> tuple[Any, Positions]:
    """The validated policy document, with its ``extends`` bases merged in."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PolicyError([f"{source}:1:1: not UTF-8 text (byte {e.start})"]) from None
    try:
        doc, positions = yamlpos.parse(text)
    except yamlpos.YamlProblem as e:
        raise PolicyError([f"{source}:{e.line}:{e.col}: {e.message}"]) from None
    if isinstance(doc, dict) and "extends" in doc:
        from gatekeeper.policy.extends import Origin as _Origin
        from gatekeeper.policy.extends import resolve

        # Bases are validated where they are written; the merged policy then as a whole.
        doc, positions = resolve(doc, positions, origin or _Origin.file(source), reads=reads)
    validate_document(doc, positions, source)
    return doc, positions


def validate_document(doc: Any, positions: Positions, source: str) -> None:
    """Raise ``PolicyError`` listing every problem of a complete policy document."""
    problems = _Problems(source, positions)
    _validate(doc, problems)
    if problems.items:
        raise PolicyError(problems.lines())


def validate_part(doc: Any, positions: Positions, source: str) -> None:
    """Validate a policy that ``extends`` bases on its own: its rules are checked, but it
    may have none, and its waivers and channels are judged once merged with the bases."""
    problems = _Problems(source, positions)
    _schema_problems(part_schema(), doc, (), problems, key="policy-part")
    if isinstance(doc, dict) and isinstance(doc.get("rules"), list):
        seen: dict[str, int] = {}
        for i, rule in enumerate(doc["rules"]):
            if isinstance(rule, dict):
                _check_rule(rule, ("rules", i), problems, seen)
        _check_environments(doc, problems)
    if problems.items:
        raise PolicyError(problems.lines())


def _validate(doc: Any, problems: _Problems) -> None:
    _schema_problems(base_schema(), doc, (), problems, key="policy")
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        return
    seen: dict[str, int] = {}
    for i, rule in enumerate(doc["rules"]):
        if isinstance(rule, dict):
            _check_rule(rule, ("rules", i), problems, seen)
    _check_channels(doc, problems)
    _check_waivers(doc, problems)
    _check_environments(doc, problems)


def _check_channels(doc: dict[str, Any], problems: _Problems) -> None:
    """A `stakeholder-notified` rule names channels `notify:` defines (when the policy has a
    `notify:` block: another policy may define the channels that post the notices)."""
    notify = doc.get("notify")
    if not isinstance(notify, dict):
        return
    channels = notify.get("channels")
    defined = set(channels) if isinstance(channels, dict) else set()
    for i, rule in enumerate(doc["rules"]):
        if not isinstance(rule, dict) or rule.get("check") != "stakeholder-notified":
            continue
        wanted = (rule.get("with") or {}).get("channels")
        for j, name in enumerate(wanted if isinstance(wanted, list) else []):
            if isinstance(name, str) and name not in defined:
                path = ("rules", i, "with", "channels", j)
                problems.add(
                    problems.positions.of_value(path),
                    f"{_where(path)}: channel {name!r} is not defined under notify.channels",
                )


def _check_waivers(doc: dict[str, Any], problems: _Problems) -> None:
    items = doc.get("waivers")
    if not isinstance(items, list) or problems.items:
        return  # schema problems first: waivers are judged on a well-formed policy
    settings = waiver_rules.settings_of(doc)
    now = datetime.now(UTC)
    _, found = waiver_rules.parse(
        items, ("waivers",), problems.positions, problems.source, settings, now
    )
    for where, message in found:
        problems.add(where, message)


def _check_environments(doc: dict[str, Any], problems: _Problems) -> None:
    """A rule may only wait for an environment the policy declares (when it declares them):
    a typo there would skip the rule in every run."""
    declared = doc.get("environments")
    if not isinstance(declared, list):
        return
    for i, rule in enumerate(doc["rules"]):
        when = rule.get("when") if isinstance(rule, dict) else None
        wanted = when.get("environments") if isinstance(when, dict) else None
        for j, name in enumerate(wanted if isinstance(wanted, list) else []):
            if isinstance(name, str) and name not in declared:
                from gatekeeper.suggest import did_you_mean  # difflib: only for a typo

                path = ("rules", i, "when", "environments", j)
                problems.add(
                    problems.positions.of_value(path),
                    f"{_where(path)}: environment {name!r} is not one of the policy's "
                    f"environments ({', '.join(map(str, declared))})"
                    + did_you_mean(name, map(str, declared)),
                )


def _check_rule(
    rule: dict[str, Any], path: Path, problems: _Problems, seen: dict[str, int]
) -> None:
    from gatekeeper.checks import failed_plugins, get, registry

    rule_id = rule.get("id")
    if isinstance(rule_id, str):
        where = problems.positions.of_value((*path, "id"))
        if rule_id in seen:
            problems.add(where, f"duplicate rule id {rule_id!r} (first at line {seen[rule_id]})")
        else:
            seen[rule_id] = where[0]
    name = rule.get("check")
    if not isinstance(name, str):
        return
    check = get(name)
    # A built-in is found without scanning entry points; any other name loads the plugins,
    # and a refused plugin's own error is reported (never a traceback), only for this rule.
    broken = failed_plugins().get(name) if check is None else None
    if broken is not None:
        problems.add(problems.positions.of_value((*path, "check")), broken)
        return
    if check is None:
        from gatekeeper.suggest import did_you_mean

        checks = registry()
        known = ", ".join(sorted(checks))
        problems.add(
            problems.positions.of_value((*path, "check")),
            f"unknown check {name!r}{did_you_mean(name, checks)} (known checks: {known})",
        )
        return
    options = rule.get("with", {})
    if not isinstance(options, dict):
        return
    before = len(problems.items)
    _schema_problems(
        check.options, options, (*path, "with"), problems, f"check {name!r}", f"check:{name}"
    )
    if check.validate is not None and len(problems.items) == before:
        from gatekeeper.checks import with_defaults

        for inner, message in check.validate(with_defaults(check, options)):
            full = (*path, "with", *inner)
            problems.add(problems.positions.of_value(full), f"{_where(full)}: {message}")


def _schema_problems(
    schema: dict[str, Any],
    instance: Any,
    base: Path,
    problems: _Problems,
    owner: str = "",
    key: str | None = None,
) -> None:
    """Add each problem of ``instance`` against ``schema``. ``key`` names the schema's
    precompiled validator (see ``gatekeeper.policy.compiled``): when it accepts the
    instance, jsonschema (40 ms to import) is not needed; otherwise jsonschema judges."""
    from gatekeeper.policy import compiled

    if key is not None and compiled.accepts(key, schema, instance):
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for error in validator.iter_errors(instance):
        for where, message in _explain(error, base, problems.positions, owner):
            problems.add(where, message)


def _where(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "policy"


def _explain(
    error: jsonschema.ValidationError, base: Path, positions: Positions, owner: str
) -> Iterable[tuple[tuple[int, int], str]]:
    """Turn a jsonschema error into (position, message) pairs that point at the node."""
    path: Path = (*base, *error.absolute_path)
    subject = _where(path) + (f" ({owner} option)" if owner and path != base else "")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = _schema_of(error)
        allowed = sorted(schema.get("properties", {}))
        from gatekeeper.suggest import did_you_mean

        for key in _extra_keys(schema, error.instance):
            hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
            yield (
                positions.of_key((*path, key)),
                f"{_where(path)}: unknown key {key!r}{did_you_mean(key, allowed)}{hint}",
            )
        return
    if error.validator == "minItems" and path == ("rules",):
        yield (
            positions.of_value(path),
            "rules: a policy needs at least one rule (an empty policy would approve every release)",
        )
        return
    if error.validator == "required":
        yield positions.of_value(path), f"{_where(path)}: {error.message}"
        return
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield (
            positions.of_value(path),
            (
                f"{subject}: expected {expected}, got {_json_type(error.instance)}"
                + ("" if error.instance is None else f" {error.instance!r}")
                + _quote_hint(path, positions, "string" in str(expected))
            ),
        )
        return
    if error.validator == "pattern" and path[-1:] == ("id",):
        yield (
            positions.of_value(path),
            (
                f"{subject}: {error.instance!r} is not a valid rule id "
                "(lowercase letters, digits and '-', not starting or ending with '-')"
            ),
        )
        return
    yield positions.of_value(path), f"{subject}: {error.message}"


def _quote_hint(path: Path, positions: Positions, wants_text: bool) -> str:
    """YAML 1.1 reads some unquoted text as numbers: say so, and how to keep the text."""
    raw = positions.unquoted.get(path)
    if raw is None or not wants_text:
        return ""
    why = "a base-60 number" if ":" in raw else "a number" if raw[:1].isdigit() else "a boolean"
    return f" (YAML reads the unquoted {raw} as {why}); quote it: \"{raw}\""


def _schema_of(error: jsonschema.ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, Mapping) else {}


def _extra_keys(schema: Mapping[str, Any], instance: dict[str, Any]) -> list[str]:
    props = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return [k for k in instance if k not in props and not any(re.search(p, k) for p in patterns)]


def _json_type(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _build(doc: dict[str, Any], source: str, sha256: str, positions: Positions) -> Policy:
    rules = tuple(
        Rule(
            id=r["id"],
            check=r["check"],
            severity=Severity(r.get("severity", "block")),
            when=r.get("when", {}),
            options=r.get("with", {}),
            description=r.get("description", ""),
            line=positions.of_value(("rules", i))[0],
        )
        for i, r in enumerate(doc["rules"])
    )
    name = doc.get("name") or FsPath(source.split(":")[-1]).stem
    settings = waiver_rules.settings_of(doc)
    items = doc.get("waivers")
    waivers: list[waiver_rules.Waiver] = []
    if isinstance(items, list):
        now = datetime.now(UTC)
        waivers, _ = waiver_rules.parse(items, ("waivers",), positions, source, settings, now)
    return Policy(
        name,
        rules,
        source,
        sha256,
        doc.get("description", ""),
        waivers=tuple(waivers),
        waivers_file=items if isinstance(items, str) else None,
        waiver_settings=settings,
        notify=doc.get("notify") or {},
        environments=_environments(doc, rules),
        allow_all_skipped=doc.get("allow_all_skipped", False),
        runbook=doc.get("runbook"),
    )


def _environments(doc: dict[str, Any], rules: tuple[Rule, ...]) -> tuple[str, ...]:
    if "environments" in doc:
        return tuple(doc["environments"])
    named = (name for rule in rules for name in rule.when.get("environments", ()))
    return tuple(dict.fromkeys(named))
