"""``gatekeeper waive``: append one well-formed waiver, keeping the file as it was written.

The file is edited as text, not re-dumped, so comments, key order and quoting survive: the
new entry goes after the last item of a block ``waivers:`` list (with the same indentation),
inside a flow list (``waivers: []``), or as a new ``waivers:`` key at the end. The result is
validated as a whole before it is written; an invalid result is never written.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from gatekeeper.errors import UsageError
from gatekeeper.policy import waivers as waiver_rules


@dataclass(frozen=True)
class WaiveRequest:
    policy: Path
    rule: str
    reason: str
    approved_by: str
    days: int
    now: datetime
    paths: tuple[str, ...] = ()
    head: str | None = None


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(value, ensure_ascii=False)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def entry(req: WaiveRequest) -> dict[str, object]:
    created = req.now.astimezone(UTC).replace(microsecond=0)
    item: dict[str, object] = {
        "rule": req.rule,
        "reason": req.reason,
        "approved_by": req.approved_by,
        "created": _stamp(created),
        "expires": _stamp(created + timedelta(days=req.days)),
    }
    scope: dict[str, object] = {}
    if req.paths:
        scope["paths"] = list(req.paths)
    if req.head:
        scope["head"] = req.head
    if scope:
        item["scope"] = scope
    return item


def _block(item: dict[str, object], indent: int) -> list[str]:
    pad = " " * indent
    lines = []
    for i, (key, value) in enumerate(item.items()):
        lead = f"{pad}- " if i == 0 else f"{pad}  "
        if isinstance(value, dict):
            lines.append(f"{lead}{key}: {json.dumps(value, ensure_ascii=False)}")
        else:
            lines.append(f"{lead}{key}: {_q(str(value))}")
    return lines


def _offset(text: str, line: int, column: int) -> int:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    if line >= len(starts):
        return len(text)
    return starts[line] + column


def append_waiver(text: str, item: dict[str, object]) -> str:
    """``text`` with ``item`` appended to its top-level ``waivers`` list."""
    root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    if root is not None and not isinstance(root, yaml.MappingNode):
        raise UsageError("the file is not a YAML mapping; cannot add a waiver")
    node = None
    for key, value in root.value if root is not None else []:
        if isinstance(key, yaml.ScalarNode) and key.value == "waivers":
            node = value
    if node is None:
        tail = "" if not text or text.endswith("\n") else "\n"
        return text + tail + "waivers:\n" + "\n".join(_block(item, 2)) + "\n"
    if not isinstance(node, yaml.SequenceNode):
        raise UsageError("`waivers` is not a list here; cannot add a waiver")
    if node.flow_style:
        close = _offset(text, node.end_mark.line, node.end_mark.column) - 1
        sep = ", " if node.value else ""
        return text[:close] + sep + json.dumps(item, ensure_ascii=False) + text[close:]
    last = node.value[-1]
    end = last.end_mark
    line = end.line if end.column == 0 else end.line + 1
    # The item's node ends at the next token: step back over trailing blank and comment
    # lines, which belong to what follows.
    lines = text.split("\n")
    while line - 1 > last.start_mark.line and lines[line - 1].strip()[:1] in ("", "#"):
        line -= 1
    at = _offset(text, line, 0)
    before = text[:at] if text[:at].endswith("\n") or not text[:at] else text[:at] + "\n"
    return before + "\n".join(_block(item, node.start_mark.column)) + "\n" + text[at:]


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def waive(req: WaiveRequest) -> tuple[Path, dict[str, object]]:
    """Append the waiver to the waivers file the policy names, or to the policy itself;
    returns where it went and what was written."""
    from gatekeeper.policy import load_policy, loads_policy

    policy = load_policy(req.policy)
    if req.rule not in {r.id for r in policy.rules}:
        known = ", ".join(r.id for r in policy.rules) or "none"
        raise UsageError(f"{req.policy} has no rule {req.rule!r} (rules: {known})")
    item = entry(req)
    if policy.waivers_file:
        target = waiver_rules.companion_path(req.policy, policy.waivers_file)
        old = target.read_text(encoding="utf-8") if target.exists() else "version: 1\n"
        new = append_waiver(old, item)
        waiver_rules.loads_file(new.encode(), str(target), policy.waiver_settings, req.now)
    else:
        target = req.policy
        new = append_waiver(req.policy.read_text(encoding="utf-8"), item)
        loads_policy(new, str(target))
    _write(target, new)
    return target, item
