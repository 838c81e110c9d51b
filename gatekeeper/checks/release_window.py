"""``release-window``: no release inside a change freeze or outside the deploy windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gatekeeper.checks import Check, Problem
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence
from gatekeeper.model import Outcome

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 400  # how far ahead to look for the next allowed time
# The engine puts the rule's id in place of RULE.
WAIVE = "`gatekeeper waive RULE --reason WHY --approved-by WHO --days N`"
_HHMM = "^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "timezone": {
            "type": "string",
            "default": "UTC",
            "description": "IANA zone for freeze times without an offset and windows without their own.",
        },
        "freeze": {
            "type": "array",
            "default": [],
            "description": "Change freezes: no release from start (inclusive) to end (exclusive).",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["start", "end"],
                "properties": {
                    "start": {"type": "string", "description": "ISO 8601 date or date-time."},
                    "end": {"type": "string", "description": "ISO 8601 date or date-time."},
                    "reason": {"type": "string"},
                    "timezone": {"type": "string"},
                },
            },
        },
        "allow": {
            "type": "array",
            "default": [],
            "description": "Weekly deploy windows; when given, a release must fall inside one.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["days", "start", "end"],
                "properties": {
                    "days": {"type": "array", "minItems": 1, "items": {"enum": list(DAYS)}},
                    "start": {
                        "type": "string",
                        "pattern": _HHMM,
                        "description": "HH:MM local time.",
                    },
                    "end": {
                        "type": "string",
                        "pattern": _HHMM,
                        "description": "HH:MM local time; an end before the start runs past midnight.",
                    },
                    "timezone": {"type": "string"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime
    label: str

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self, label_key: str) -> dict[str, str]:
        """The interval for the report's details, its label under ``label_key``."""
        return {label_key: self.label, "start": _fmt(self.start), "end": _fmt(self.end)}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise EvidenceError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def _moment(text: str, zone: ZoneInfo) -> datetime:
    """An ISO date or date-time; without an offset it is local to ``zone``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise EvidenceError(f"{text!r} is not an ISO 8601 date or date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def freezes(options: dict[str, Any]) -> list[Interval]:
    default = options["timezone"]
    out = []
    for item in options["freeze"]:
        zone = _zone(item.get("timezone", default))
        start, end = _moment(item["start"], zone), _moment(item["end"], zone)
        if end <= start:
            raise EvidenceError(f"freeze {item['start']} .. {item['end']}: end is not after start")
        out.append(Interval(start, end, item.get("reason") or "change freeze"))
    return out


def _hhmm(text: str) -> time | None:
    return None if text == "24:00" else time.fromisoformat(text)


def _local(day: date, at: time | None, zone: ZoneInfo) -> datetime:
    """Local wall time as an aware instant; a time skipped by DST moves forward like a clock."""
    if at is None:
        day, at = day + timedelta(days=1), time(0)
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    # Round-trip through UTC normalises wall times that do not exist (spring forward).
    return aware.astimezone(UTC).astimezone(zone)


def windows(options: dict[str, Any], around: datetime) -> list[Interval]:
    """Every allowed window that overlaps [around - 2 days, around + horizon]."""
    out = []
    for item in options["allow"]:
        zone = _zone(item.get("timezone", options["timezone"]))
        start_t, end_t = _hhmm(item["start"]), _hhmm(item["end"])
        overnight = end_t is not None and start_t is not None and end_t <= start_t
        first = around.astimezone(zone).date() - timedelta(days=2)
        label = f"{','.join(item['days'])} {item['start']}-{item['end']} {zone.key}"
        for offset in range(_HORIZON_DAYS + 3):
            day = first + timedelta(days=offset)
            if DAYS[day.weekday()] not in item["days"]:
                continue
            start = _local(day, start_t, zone)
            end = _local(day + timedelta(days=1) if overnight else day, end_t, zone)
            if end > start:
                out.append(Interval(start, end, label))
    return out


def _allowed(
    moment: datetime, frozen: list[Interval], allowed: list[Interval], any_window: bool
) -> bool:
    if any(moment in f for f in frozen):
        return False
    return not any_window or any(moment in w for w in allowed)


def next_allowed(
    now: datetime, frozen: list[Interval], allowed: list[Interval], any_window: bool
) -> datetime | None:
    """The first instant at or after ``now`` that is outside every freeze and inside a window."""
    candidates = {now} | {f.end for f in frozen if f.end > now}
    candidates |= {w.start for w in allowed if w.start > now}
    for moment in sorted(candidates):
        if _allowed(moment, frozen, allowed, any_window):
            return moment
    return None


def _fmt(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def validate(options: dict[str, Any]) -> list[Problem]:
    """Time zones and freeze dates that the schema cannot judge."""
    problems: list[Problem] = []
    zones: list[tuple[tuple[str | int, ...], str]] = [(("timezone",), options["timezone"])]
    for key in ("freeze", "allow"):
        zones += [
            ((key, i, "timezone"), item["timezone"])
            for i, item in enumerate(options[key])
            if "timezone" in item
        ]
    for where, name in zones:
        try:
            _zone(name)
        except EvidenceError as e:
            problems.append((where, str(e)))
    if problems:
        return problems
    for i, item in enumerate(options["freeze"]):
        zone = _zone(item.get("timezone", options["timezone"]))
        try:
            start, end = _moment(item["start"], zone), _moment(item["end"], zone)
        except EvidenceError as e:
            problems.append((("freeze", i), str(e)))
            continue
        if end <= start:
            problems.append(
                (("freeze", i, "end"), f"{item['end']} is not after the start {item['start']}")
            )
    return problems


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    now = ev.now
    frozen, allowed = freezes(options), windows(options, now)
    any_window = bool(options["allow"])
    upcoming = next_allowed(now, frozen, allowed, any_window)
    details: dict[str, Any] = {
        "now": _fmt(now),
        "next_allowed": _fmt(upcoming) if upcoming else None,
        "freeze": None,
        "window": None,
    }
    when_next = (
        f"next allowed time: {_fmt(upcoming)}" if upcoming else "no allowed time within 400 days"
    )
    active = next((f for f in frozen if now in f), None)
    if active:
        details["freeze"] = active.describe("reason")
        return Outcome.failed(
            f"{_fmt(now)} is inside the freeze '{active.label}' "
            f"({_fmt(active.start)} to {_fmt(active.end)}); {when_next}",
            f"release at or after {_fmt(upcoming)}, or get an approved waiver: {WAIVE}"
            if upcoming
            else f"change the policy's freeze and allow windows, or get an approved waiver: {WAIVE}",
            **details,
        )
    if any_window:
        inside = next((w for w in allowed if now in w), None)
        if inside is None:
            labels = "; ".join(dict.fromkeys(w.label for w in allowed))
            return Outcome.failed(
                f"{_fmt(now)} is outside every deploy window ({labels}); {when_next}",
                f"release inside a deploy window, e.g. at {_fmt(upcoming)}"
                if upcoming
                else "change the policy's allow windows",
                **details,
            )
        details["window"] = inside.describe("label")
        return Outcome.passed(
            f"{_fmt(now)} is inside the deploy window {inside.label} (until {_fmt(inside.end)}) "
            "and in no freeze",
            **details,
        )
    return Outcome.passed(f"{_fmt(now)} is in no change freeze", **details)


CHECK = Check(
    name="release-window",
    title="No release inside a change freeze or outside the weekly deploy windows",
    options=OPTIONS,
    evaluate=evaluate,
    validate=validate,
    description=(
        "Fails inside any `freeze` interval (start inclusive, end exclusive) and, when `allow` "
        "windows are given, outside all of them. Times are DST-correct (zoneinfo). The clock is "
        "the run's `--now` (default: the current time). The summary names the window and the "
        "next time a release is allowed."
    ),
    example={
        "timezone": "Europe/Berlin",
        "freeze": [
            {"start": "2026-12-21T00:00", "end": "2027-01-04T00:00", "reason": "Year-end freeze"}
        ],
        "allow": [{"days": ["mon", "tue", "wed", "thu"], "start": "09:00", "end": "16:00"}],
    },
)
