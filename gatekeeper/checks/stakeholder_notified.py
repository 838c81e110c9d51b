"""``stakeholder-notified``: the release was announced, early enough, on every channel."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.checks import Check
from gatekeeper.checks.changelog import has_entry, version_from_tags
from gatekeeper.evidence import Evidence
from gatekeeper.evidence import notes as note_evidence
from gatekeeper.model import Outcome

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["channels"],
    "properties": {
        "channels": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "minLength": 1},
            "description": "Channels (from the policy's `notify:`) that must have a receipt for "
            "this head commit or version.",
        },
        "lead_time": {
            "type": "string",
            "pattern": _DURATION.pattern,
            "default": "0h",
            "description": "How old the notice must be at the evaluation time (30m, 24h, 2d).",
        },
        "changelog": {
            "type": ["boolean", "string"],
            "default": False,
            "description": "Also require a changelog entry for the version (true: CHANGELOG.md, "
            "or the file's path).",
        },
        "version": {
            "type": "string",
            "description": "The version released; default: a version tag on the head.",
        },
    },
}


def duration(text: str) -> timedelta:
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like 24h")
    return timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})


def _time(receipt: dict[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(receipt.get("time")))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _delivered(r: dict[str, Any]) -> bool:
    status = r.get("http_status")
    return isinstance(status, int) and 200 <= status < 300 and _time(r) is not None


def _fmt(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    git = ev.git
    version = options.get("version") or version_from_tags(git.head_tags)
    lead = duration(options["lead_time"])
    found = [r for r in note_evidence.receipts(ev, version) if _delivered(r)]
    matching = [
        r
        for r in found
        if r.get("head") == git.head_sha or (version and r.get("version") == version)
    ]
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for r in matching:
        by_channel.setdefault(str(r.get("channel")), []).append(r)
    missing = [c for c in options["channels"] if c not in by_channel]
    too_recent = []
    for name in options["channels"]:
        if name in by_channel:
            first = min(by_channel[name], key=lambda r: _time(r) or ev.now)
            sent = _time(first) or ev.now
            if ev.now - sent < lead:
                too_recent.append(
                    {"channel": name, "sent": _fmt(sent), "ready_at": _fmt(sent + lead)}
                )
    details: dict[str, Any] = {
        "version": version,
        "head": git.head_sha,
        "lead_time": options["lead_time"],
        "receipts": [r for c in options["channels"] for r in by_channel.get(c, [])],
        "missing_channels": missing,
        "too_recent": too_recent,
        "changelog": None,
    }
    problems = _receipt_problems(missing, too_recent, git.head_sha, version, options["lead_time"])
    if options["changelog"] is not False:
        problems += _changelog_problems(ev, options["changelog"], version, details)
    if problems:
        return Outcome.failed(
            "; ".join(p for p, _ in problems), "; ".join(r for _, r in problems), **details
        )
    channels = ", ".join(options["channels"])
    return Outcome.passed(
        f"notified {channels} for {version or git.head_sha[:12]} at least {options['lead_time']} ago",
        **details,
    )


def _receipt_problems(
    missing: list[str], too_recent: list[dict[str, str]], head: str, version: str | None, lead: str
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    target = f"head {head[:12]}" + (f" or version {version}" if version else "")
    if missing:
        names = ", ".join(repr(c) for c in missing)
        out.append(
            (
                f"no notification receipt for channel {names} on {target}",
                f"run `gatekeeper notify --channel {missing[0]} --message ...` and push the receipt "
                f"(`git push origin {note_evidence.NOTIFY_REF}`); CI must fetch "
                f"{note_evidence.NOTIFY_REF} to see it",
            )
        )
    for late in too_recent:
        out.append(
            (
                f"the notice to {late['channel']!r} was sent {late['sent']}, less than {lead} ago",
                f"release at or after {late['ready_at']}",
            )
        )
    return out


def _changelog_problems(
    ev: Evidence, option: bool | str, version: str | None, details: dict[str, Any]
) -> list[tuple[str, str]]:
    path = option if isinstance(option, str) else "CHANGELOG.md"
    if version is None:
        details["changelog"] = {"path": path, "entry": None}
        return [
            ("no version to look for in the changelog", "tag the head (v1.2.3) or set `version`")
        ]
    content = ev.git.read(path)
    found = content is not None and has_entry(content.decode("utf-8", "replace"), version)
    details["changelog"] = {"path": path, "entry": found}
    if found:
        return []
    return [(f"{path} has no entry for {version}", f"add a heading '## [{version}]' to {path}")]


CHECK = Check(
    name="stakeholder-notified",
    title="A release notice went to every channel, early enough (git-note receipts)",
    options=OPTIONS,
    evaluate=evaluate,
    description=(
        "Reads the receipts `gatekeeper notify` writes as git notes under refs/notes/gatekeeper. "
        "Each of `channels` needs a delivered notice for the head commit or the version (option "
        "`version`, or a version tag on the head) sent at least `lead_time` before the evaluation "
        "time. With `changelog`, the changelog at the head also needs an entry for the version."
    ),
    example={"channels": ["releases"], "lead_time": "24h", "changelog": True},
)
