"""Waivers: a signed, expiring exception to one rule, instead of a disabled check.

A waiver lives in the policy (top-level ``waivers:`` list) or in a waivers file the policy
names (``waivers: PATH``, relative to the policy file). Either way it comes from the same
place as the policy: in a pull-request run, the base commit, so a pull request cannot waive
its own failures.

A waiver applies to a ``fail`` or ``warn`` (never to an ``error``: missing evidence is not a known
failure) of its rule when it has not expired and its ``scope`` covers the change:
``scope.head`` must be a prefix of the head SHA, and with ``scope.paths`` every changed path
(both sides of a rename) and every position the failure points at must match one of the
globs. An expired waiver is not applied and the rule's summary says when it expired.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from gatekeeper import globs
from gatekeeper.errors import EvidenceError, PolicyError, UsageError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.git import GitEvidence
    from gatekeeper.model import RuleResult
    from gatekeeper.policy.loader import Policy
    from gatekeeper.policy.yamlpos import Positions

DEFAULT_MAX_DAYS = 90
MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Waiver:
    """One waiver as written: the rule, why, who approved it, until when, and its scope."""

    rule: str
    reason: str
    approved_by: str
    expires: datetime
    created: datetime | None = None
    paths: tuple[str, ...] = ()
    head: str | None = None
    source: str = ""
    """``FILE:LINE`` where the waiver was written."""

    def to_dict(self, state: str) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        if self.paths:
            scope["paths"] = list(self.paths)
        if self.head:
            scope["head"] = self.head
        return {
            "state": state,
            "rule": self.rule,
            "reason": self.reason,
            "approved_by": self.approved_by,
            "expires": self.expires.isoformat(timespec="seconds"),
            "created": self.created.isoformat(timespec="seconds") if self.created else None,
            "scope": scope,
            "source": self.source,
        }


def parse_time(value: Any) -> datetime:
    """An ISO 8601 date (the start of that day, UTC) or date-time (UTC without an offset)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"{value!r} is not an ISO 8601 date or date-time")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Settings:
    """What a policy says about its waivers: its rule ids, the longest a waiver may run
    (``max_waiver_days``) and who may approve one (``waiver_approvers``)."""

    rule_ids: frozenset[str]
    max_days: int = DEFAULT_MAX_DAYS
    approvers: tuple[str, ...] = ()


Problem = tuple[tuple[int, int], str]


def parse(
    items: list[Any],
    prefix: tuple[str | int, ...],
    positions: Positions,
    source: str,
    settings: Settings,
    now: datetime,
) -> tuple[list[Waiver], list[Problem]]:
    """Waivers from already schema-checked items, and what is wrong with them."""
    waivers: list[Waiver] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        path = (*prefix, i)

        def at(key: str, path: tuple[str | int, ...] = path) -> tuple[int, int]:
            return positions.of_value((*path, key))

        waiver, found = _one(item, at, f"{source}:{positions.of_value(path)[0]}", settings, now)
        label = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        problems += [(where, f"{label}: {message}") for where, message in found]
        if waiver is not None and not found:
            waivers.append(waiver)
    return waivers, problems


def _one(
    item: dict[str, Any], at: Any, where: str, settings: Settings, now: datetime
) -> tuple[Waiver | None, list[Problem]]:
    problems: list[Problem] = []
    if not all(isinstance(item.get(k), str) for k in ("rule", "reason", "approved_by")):
        return None, problems  # the schema has said what is missing
    times: dict[str, datetime | None] = {"expires": None, "created": None}
    for key in times:
        if item.get(key) is None:
            continue
        try:
            times[key] = parse_time(item[key])
        except ValueError:
            problems.append((at(key), f"waiver {key}: {item[key]!r} is not an ISO 8601 date"))
    if item["rule"] not in settings.rule_ids:
        problems.append((at("rule"), f"waiver for unknown rule {item['rule']!r}"))
    approvers = {a.casefold() for a in settings.approvers}
    if approvers and item["approved_by"].casefold() not in approvers:
        problems.append(
            (
                at("approved_by"),
                f"{item['approved_by']!r} may not approve waivers (waiver_approvers: "
                f"{', '.join(settings.approvers)})",
            )
        )
    expires, created = times["expires"], times["created"]
    if expires is None:
        return None, problems
    problems += horizon_problems(expires, created, settings.max_days, now, at)
    scope = item.get("scope") or {}
    waiver = Waiver(
        rule=item["rule"],
        reason=item["reason"].strip(),
        approved_by=item["approved_by"].strip(),
        expires=expires,
        created=created,
        paths=tuple(scope.get("paths") or ()),
        head=scope.get("head"),
        source=where,
    )
    return waiver, problems


def horizon_problems(
    expires: datetime, created: datetime | None, max_days: int, now: datetime, at: Any
) -> list[Problem]:
    start = created or now
    if created is not None and expires <= created:
        return [(at("expires"), "waiver expires before it was created")]
    if expires - start > timedelta(days=max_days):
        since = "its created date" if created else "now"
        return [
            (
                at("expires"),
                f"waiver expires {expires.date().isoformat()}, more than max_waiver_days "
                f"({max_days}) after {since}",
            )
        ]
    return []


def settings_of(doc: dict[str, Any]) -> Settings:
    found = doc.get("rules")
    rules: list[Any] = found if isinstance(found, list) else []
    return Settings(
        rule_ids=frozenset(
            r["id"] for r in rules if isinstance(r, dict) and isinstance(r.get("id"), str)
        ),
        max_days=int(doc.get("max_waiver_days", DEFAULT_MAX_DAYS)),
        approvers=tuple(doc.get("waiver_approvers") or ()),
    )


# --- the waivers file: read from where the policy was read -----------------------------


def file_schema() -> dict[str, Any]:
    from gatekeeper.policy.schema import base_schema

    base = base_schema()
    return {
        "$schema": base["$schema"],
        "type": "object",
        "additionalProperties": False,
        "required": ["waivers"],
        "properties": {
            "version": {"const": 1},
            "waivers": {"type": "array", "items": {"$ref": "#/$defs/waiver"}},
        },
        "$defs": copy.deepcopy(base["$defs"]),
    }


def loads_file(raw: bytes, source: str, settings: Settings, now: datetime) -> list[Waiver]:
    """Parse and validate a waivers file; ``PolicyError`` with positions when it is wrong."""
    from gatekeeper.policy import yamlpos
    from gatekeeper.policy.loader import _Problems, _schema_problems

    try:
        text = raw.decode("utf-8")
        doc, positions = yamlpos.parse(text)
    except UnicodeDecodeError as e:
        raise PolicyError([f"{source}:1:1: not UTF-8 text (byte {e.start})"]) from None
    except yamlpos.YamlProblem as e:
        raise PolicyError([f"{source}:{e.line}:{e.col}: {e.message}"]) from None
    problems = _Problems(source, positions)
    _schema_problems(file_schema(), doc, (), problems, key="waivers-file")
    if problems.items:
        raise PolicyError(problems.lines())
    waivers, found = parse(doc["waivers"], ("waivers",), positions, source, settings, now)
    for where, message in found:
        problems.add(where, message)
    if problems.items:
        raise PolicyError(problems.lines())
    return waivers


def companion_path(policy_path: FsPath, name: str) -> FsPath:
    """The waivers file named by a policy: relative to the policy file's folder."""
    if FsPath(name).is_absolute() or ".." in FsPath(name).parts:
        raise UsageError(
            f"{policy_path}: waivers file {name!r} must be a relative path without '..'"
        )
    return policy_path.parent / name


def read_file(
    policy_path: FsPath, name: str, git: GitEvidence | None, from_base: bool
) -> tuple[bytes, str]:
    """The waivers file's bytes from the same place as the policy, and its name for messages.

    When the policy came from the base commit, so does the waivers file: a pull request
    that adds or edits a waiver changes nothing until it is merged.
    """
    path = companion_path(policy_path, name)
    if not from_base or git is None:
        try:
            return _capped(path.read_bytes(), str(path)), str(path)
        except OSError as e:
            raise UsageError(f"{path}: cannot read the waivers file ({e.strerror})") from None
    from gatekeeper.trust import refuse_symlinks, relative_path

    # Mapped and checked exactly like the policy: lexically, and no symbolic link on the
    # way (a link would let the change choose which file of the base is read).
    rel = relative_path(git, path)
    if rel is None:
        raise UsageError(f"{path}: the waivers file must be inside the repository")
    refuse_symlinks(git, rel)
    data = git.read(rel, ref=git.base_sha)
    if data is None:
        raise UsageError(
            f"{rel} does not exist on the base commit {git.base_sha[:12]}: the waivers file is "
            "read from the same commit as the policy; merge it first"
        )
    source = f"{git.base_sha[:12]}:{rel}"
    return _capped(data, source), source


def _capped(data: bytes, source: str) -> bytes:
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"{source}: the waivers file is larger than 1 MB")
    return data


def attach(
    policy: Policy, policy_path: FsPath, git: GitEvidence | None, from_base: bool, now: datetime
) -> Policy:
    """The policy with the waivers of the file it names (read through the trusted path),
    every waiver checked against the evaluation time."""
    waivers = list(policy.waivers)
    if policy.waivers_file:
        raw, source = read_file(policy_path, policy.waivers_file, git, from_base)
        waivers += loads_file(raw, source, policy.waiver_settings, now)
    problems = []
    for w in waivers:
        for _, message in horizon_problems(
            w.expires, w.created, policy.waiver_settings.max_days, now, lambda _: (0, 0)
        ):
            problems.append(
                f"{w.source}: {message} (evaluation time {now.isoformat(timespec='seconds')})"
            )
    if problems:
        raise PolicyError(problems)
    return replace(policy, waivers=tuple(waivers))


# --- applying waivers to results --------------------------------------------------------


def _changed_paths(ev: Evidence) -> list[str]:
    return [p for f in ev.git.changed_files for p in (f.path, f.old_path) if p]


def _out_of_scope(w: Waiver, result: RuleResult, ev: Evidence) -> str | None:
    """Why the waiver does not cover this change, or ``None`` when it does."""
    try:
        if w.head and not ev.git.head_sha.lower().startswith(w.head.lower()):
            return f"it is scoped to head {w.head}, not {ev.git.head_sha[:12]}"
        if w.paths:
            places = [*_changed_paths(ev), *(a.path for a in result.annotations)]
            outside = [p for p in places if not globs.match_any(p, w.paths)]
            if outside:
                return f"{outside[0]} is outside its scope ({', '.join(w.paths)})"
    except EvidenceError as e:  # cannot tell what changed: do not waive (fail closed)
        return f"the change could not be read ({e})"
    return None


def apply(
    results: Iterable[RuleResult], waivers: Iterable[Waiver], ev: Evidence
) -> list[RuleResult]:
    """Results with each covered failure turned into ``waived``; others say why not."""
    by_rule: dict[str, list[Waiver]] = {}
    for w in waivers:
        by_rule.setdefault(w.rule, []).append(w)
    return [_waive(r, by_rule.get(r.id, []), ev) for r in results]


def _waive(result: RuleResult, waivers: list[Waiver], ev: Evidence) -> RuleResult:
    from gatekeeper.model import Status

    # A warning is waivable too (it blocks under --strict); an error never is.
    if not waivers or result.status not in (Status.FAIL, Status.WARN):
        return result
    live = sorted((w for w in waivers if w.expires > ev.now), key=lambda w: w.expires, reverse=True)
    reasons = []
    for w in live:
        why = _out_of_scope(w, result, ev)
        if why is None:
            return replace(result, status=Status.WAIVED, waiver=w.to_dict("applied"))
        reasons.append((w, why))
    if reasons:
        w, why = reasons[0]
        note = f"waiver by {w.approved_by} not applied: {why}"
        return replace(
            result, summary=f"{result.summary}; {note}", waiver=w.to_dict("out-of-scope")
        )
    latest = max(waivers, key=lambda w: w.expires)
    note = (
        f"waiver by {latest.approved_by} expired {latest.expires.isoformat(timespec='minutes')}, "
        "not applied"
    )
    return replace(result, summary=f"{result.summary}; {note}", waiver=latest.to_dict("expired"))
