"""Feature-flag evidence: the flag registry and the flag keys the change's lines use.

Two registry formats are read, told apart by their shape:

- OpenFeature **flagd** flag definitions (JSON or YAML): ``flags: {KEY: {state, variants,
  defaultVariant, metadata}}``. flagd has no fields for owner, type or expiry, so they live in
  each flag's ``metadata`` (``owner``, ``type``, ``created``, ``expires``).
- A plain YAML registry: ``flags: [{key, owner, type, created, expires, default}]`` where
  ``default`` is a boolean or a map of environment to boolean (``"*"`` for the rest).

Registries and code are read from the head commit: the change under review may declare its
own flags (that is the point). Files are parsed with the policy's YAML reader (duplicate keys
refused, positions kept), never executed.

Code references are found in the changed lines only, through the common SDK call shapes and
the rule's own patterns. A small scanner marks which characters of a file are code, string or
comment, so a call mentioned in a comment or quoted inside a string does not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from gatekeeper import globs
from gatekeeper.errors import EvidenceError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

TYPES = ("release", "experiment", "ops", "permission", "kill-switch")
PERMANENT = frozenset({"permission", "kill-switch"})
MAX_REGISTRY_BYTES = 5 * 1024 * 1024
_TRUTHY_STRINGS = frozenset({"on", "true", "yes", "enabled", "enable", "1"})


@dataclass(frozen=True)
class Flag:
    key: str
    source: str
    """``path:line`` of the declaration."""
    owner: str | None
    type: str | None
    created: date | None
    expires: date | None
    defaults: dict[str, bool]
    """Whether the flag is on by default, per environment; ``"*"`` for any other."""

    def default_on(self, env: str | None) -> bool:
        if env is not None and env in self.defaults:
            return self.defaults[env]
        return self.defaults.get("*", False)


@dataclass(frozen=True)
class Reference:
    key: str
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Registry:
    flags: dict[str, Flag] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


# --- registry -------------------------------------------------------------------------


def _as_date(value: Any, where: str, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise EvidenceError(
        f"{where}: {name} {value!r} is not an ISO 8601 date",
        "write dates as YYYY-MM-DD in the flag registry",
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in _TRUTHY_STRINGS
    return False


def _bad(where: str, message: str) -> EvidenceError:
    return EvidenceError(f"{where}: {message}", "fix the flag registry so that it validates")


def _flagd_flag(key: str, spec: Any, where: str) -> Flag:
    if not isinstance(spec, dict):
        raise _bad(where, f"flag {key!r} must be a mapping")
    variants, default = spec.get("variants"), spec.get("defaultVariant")
    state = spec.get("state", "ENABLED")
    if state not in ("ENABLED", "DISABLED"):
        raise _bad(where, f"flag {key!r}: state {state!r} is not ENABLED or DISABLED")
    if not isinstance(variants, dict) or not variants:
        raise _bad(where, f"flag {key!r} has no variants")
    if default not in variants:
        raise _bad(where, f"flag {key!r}: defaultVariant {default!r} is not among its variants")
    meta = spec.get("metadata") or {}
    if not isinstance(meta, dict):
        raise _bad(where, f"flag {key!r}: metadata must be a mapping")
    # A DISABLED flag makes flagd return the caller's code default: not switched on here.
    on = state == "ENABLED" and _truthy(variants[default])
    return _flag(key, where, meta.get("owner"), meta.get("type"), meta, {"*": on})


def _plain_flag(spec: Any, where: str) -> Flag:
    if not isinstance(spec, dict) or not isinstance(spec.get("key"), str) or not spec["key"]:
        raise _bad(where, "each entry of `flags` needs a `key`")
    key = spec["key"]
    default = spec.get("default", False)
    if isinstance(default, dict):
        defaults = {str(env): _truthy(v) for env, v in default.items()}
    else:
        defaults = {"*": _truthy(default)}
    return _flag(key, where, spec.get("owner"), spec.get("type"), spec, defaults)


def _flag(
    key: str, where: str, owner: Any, kind: Any, dates: dict[str, Any], defaults: dict[str, bool]
) -> Flag:
    if kind is not None and kind not in TYPES:
        raise _bad(where, f"flag {key!r}: type {kind!r} is not one of {', '.join(TYPES)}")
    return Flag(
        key=key,
        source=where,
        owner=str(owner).strip() or None if owner is not None else None,
        type=kind,
        created=_as_date(dates.get("created"), where, "created"),
        expires=_as_date(dates.get("expires"), where, "expires"),
        defaults=defaults,
    )


def parse_registry(text: str, path: str) -> dict[str, Flag]:
    """The flags one registry file declares (flagd or plain YAML, by shape)."""
    from gatekeeper.policy import yamlpos

    try:
        doc, positions = yamlpos.parse(text)
    except yamlpos.YamlProblem as e:
        raise _bad(f"{path}:{e.line}:{e.col}", e.message) from None
    flags = doc.get("flags") if isinstance(doc, dict) else None
    out: dict[str, Flag] = {}
    if isinstance(flags, dict):  # flagd: flags keyed by name
        for key, spec in flags.items():
            line = positions.of_key(("flags", key))[0]
            out[key] = _flagd_flag(key, spec, f"{path}:{line}")
    elif isinstance(flags, list):  # plain registry: a list of entries
        for i, spec in enumerate(flags):
            flag = _plain_flag(spec, f"{path}:{positions.of_value(('flags', i))[0]}")
            if flag.key in out:
                raise _bad(flag.source, f"flag {flag.key!r} is declared twice")
            out[flag.key] = flag
    else:
        raise _bad(path, "not a flag registry: expected a top-level `flags` mapping or list")
    return out


def _registry_paths(ev: Evidence, patterns: list[str], env: str | None) -> list[str]:
    wanted = [p.replace("{env}", env or "default") for p in patterns]
    files = ev.git.files
    found: list[str] = []
    for pattern in wanted:
        matches = sorted(f for f in files if globs.match(f, pattern))
        if not matches:
            raise EvidenceError(
                f"flag registry {pattern} not found at the head commit",
                "commit the flag registry or fix the rule's `registry` option",
            )
        found += [m for m in matches if m not in found]
    return found


def _read_registry(ev: Evidence, paths: list[str], ref: str | None) -> Registry:
    registry = Registry(files=list(paths))
    for path in paths:
        data = ev.git.read(path, ref=ref)
        if data is None:
            continue
        if len(data) > MAX_REGISTRY_BYTES:
            raise _bad(path, f"larger than {MAX_REGISTRY_BYTES // (1024 * 1024)} MB")
        for key, flag in parse_registry(data.decode("utf-8", "replace"), path).items():
            if key in registry.flags:
                raise _bad(
                    flag.source, f"flag {key!r} is also declared in {registry.flags[key].source}"
                )
            registry.flags[key] = flag
    return registry


def registry(ev: Evidence, patterns: list[str]) -> Registry:
    """The registry at the head commit (cached per run)."""
    key = ("flags.registry", tuple(patterns), ev.env)
    return ev.cached(key, lambda: _read_registry(ev, _registry_paths(ev, patterns, ev.env), None))


def base_keys(ev: Evidence, patterns: list[str]) -> set[str]:
    """Flags the merge base already declared (a registry file new in the change adds all)."""

    def read() -> set[str]:
        paths = _registry_paths(ev, patterns, ev.env)
        try:
            return set(_read_registry(ev, paths, ev.git.merge_base).flags)
        except EvidenceError:
            return set()  # a broken old registry: every flag counts as new (stricter)

    return ev.cached(("flags.base", tuple(patterns), ev.env), read)


# --- code references ------------------------------------------------------------------

CODE, STRING, COMMENT = 0, 1, 2

_HASH = frozenset(
    {".py", ".rb", ".sh", ".bash", ".yml", ".yaml", ".toml", ".pl", ".r", ".ex", ".exs"}
)
_SLASH = frozenset(
    {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".java", ".kt", ".kts", ".go", ".cs",
     ".swift", ".scala", ".c", ".h", ".cc", ".cpp", ".hpp", ".rs", ".dart", ".groovy"}
)  # fmt: skip

_KEY = r"""\s*(?:[A-Za-z_][\w.]*\s*,\s*)?(?P<q>["'`])(?P<key>[^"'`\\\s]{1,200})(?P=q)"""
SDK_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile("(?:" + p + r")\s*\(" + _KEY)
    for p in (
        # OpenFeature: get_boolean_value / getBooleanValue / GetBooleanValue(ctx, ...) / *Details
        r"\b(?:get_(?:boolean|string|integer|int|float|number|double|object)_(?:value|details)"
        r"|[gG]et(?:Boolean|String|Integer|Int|Float|Number|Double|Object)(?:Value|Details)(?:Async)?)",
        # LaunchDarkly: variation / bool_variation / boolVariation / BoolVariationDetail
        r"\b(?:\w+_)?variation(?:_detail)?|\b\w*Variation(?:Detail)?",
        # Unleash: is_enabled / isEnabled / IsEnabled
        r"\b(?:is_enabled|isEnabled|IsEnabled)",
    )
)


_SPECIAL = re.compile(r"[\"'`/]")
_SPECIAL_HASH = re.compile(r"[\"'`/#]")
_PROSE = frozenset({".md", ".markdown", ".rst", ".txt", ".adoc"})
"""Documentation: a call shape in prose or an example is not a use of the flag."""


def _styles(path: str) -> tuple[bool, bool, bool]:
    """(hash comments, slash comments, triple-quoted strings) for a file's language."""
    ext = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if ext in _HASH:
        return True, False, ext == ".py"
    if ext in _SLASH:
        return False, True, False
    if ext == ".php":
        return True, True, False
    return True, True, True  # unknown: the stricter reading hides more from the scan


def classify(text: str, path: str) -> bytearray:
    """The kind (CODE, STRING, COMMENT) of every character of ``text``."""
    hashes, slashes, triples = _styles(path)
    kinds = bytearray(len(text))
    i, n = 0, len(text)
    special = _SPECIAL_HASH if hashes else _SPECIAL
    while i < n:
        # Jump over plain code to the next character that may open a comment or string.
        found = special.search(text, i)
        if found is None:
            break
        i = found.start()
        c = text[i]
        if (hashes and c == "#") or (slashes and text.startswith("//", i)):
            end = text.find("\n", i)
            end = n if end == -1 else end
            kinds[i:end] = bytes([COMMENT]) * (end - i)
            i = end
        elif slashes and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            kinds[i:end] = bytes([COMMENT]) * (end - i)
            i = end
        elif c in "\"'`":
            end = _string_end(text, i, triples)
            kinds[i:end] = bytes([STRING]) * (end - i)
            i = end
        else:
            i += 1
    return kinds


def _string_end(text: str, i: int, triples: bool) -> int:
    quote = text[i]
    if triples and text.startswith(quote * 3, i):
        end = text.find(quote * 3, i + 3)
        return len(text) if end == -1 else end + 3
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == quote:
            return j + 1
        if ch == "\n" and quote != "`":  # an unterminated literal ends at the line
            return j
        j += 1
    return len(text)


def references_in(
    text: str, path: str, lines: Iterable[int], patterns: Iterable[re.Pattern[str]]
) -> list[Reference]:
    """Flag keys used in code on the given lines of one file."""
    wanted = set(lines)
    if not wanted:
        return []
    kinds = classify(text, path)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    found: dict[tuple[str, int], Reference] = {}
    for pattern in patterns:
        for m in pattern.finditer(text):
            if kinds[m.start()] != CODE or not m.group("key"):
                continue
            line = _line_of(starts, m.start("key"))
            if line in wanted:
                found.setdefault((m.group("key"), line), Reference(m.group("key"), path, line))
    return sorted(found.values(), key=lambda r: (r.path, r.line, r.key))


def _line_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


def compile_patterns(user: list[str]) -> list[re.Pattern[str]]:
    return [*SDK_PATTERNS, *(re.compile(p) for p in user)]


def references(ev: Evidence, user_patterns: list[str], skip: Iterable[str] = ()) -> list[Reference]:
    """Flag references in the change's added lines (registry files themselves skipped)."""

    def scan() -> list[Reference]:
        patterns = compile_patterns(user_patterns)
        skipped = set(skip)
        out: list[Reference] = []
        for f in ev.git.changed_files:
            if f.binary or not f.added_lines or f.path in skipped or f.status == "deleted":
                continue
            if f.path[f.path.rfind(".") :].lower() in _PROSE:
                continue
            data = ev.git.read(f.path)
            if data is None or len(data) > MAX_REGISTRY_BYTES:
                continue
            out += references_in(data.decode("utf-8", "replace"), f.path, f.added_lines, patterns)
        return out

    return ev.cached(("flags.references", tuple(user_patterns), tuple(sorted(skip))), scan)
