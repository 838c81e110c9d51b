"""`gatekeeper explain CHECK`: a check's options, defaults and an example, as text."""

from __future__ import annotations

import json
from typing import Any

import yaml

from gatekeeper.checks import Check


def _type(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " | ".join(map(str, prop["enum"]))
    kind = prop.get("type", "any")
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"list of {_type(prop['items'])}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


def explain_check(check: Check) -> str:
    lines = [f"{check.name}: {check.title}", ""]
    if check.description:
        lines += [check.description, ""]
    props = check.options.get("properties", {})
    required = set(check.options.get("required", []))
    lines.append("Options (under `with:`):" if props else "Options: none")
    for key, prop in props.items():
        default = (
            "required"
            if key in required
            else (f"default {json.dumps(prop['default'])}" if "default" in prop else "optional")
        )
        lines.append(f"  {key} ({_type(prop)}; {default})")
        if prop.get("description"):
            lines.append(f"      {prop['description']}")
    rule: dict[str, Any] = {"id": check.name, "check": check.name}
    if check.example:
        rule["with"] = check.example
    example = yaml.safe_dump({"rules": [rule]}, sort_keys=False, allow_unicode=True)
    lines += ["", "Example:", *("  " + ln for ln in example.splitlines())]
    return "\n".join(lines)
