"""`gatekeeper explain CHECK`: a check's options, defaults and an example, as text."""

from __future__ import annotations

import json
from typing import Any

import yaml

from gatekeeper.checks import Check


def _type(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " | ".join(map(str, prop["enum"]))
    kinds = prop.get("type", "any")
    return " or ".join(_kind(k, prop) for k in (kinds if isinstance(kinds, list) else [kinds]))


def _kind(kind: str, prop: dict[str, Any]) -> str:
    """One JSON type, spelled out: ``list of string``, ``mapping of string to string``."""
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"list of {_type(prop['items'])}"
    values = prop.get("additionalProperties")
    if kind == "object" and isinstance(values, dict) and not prop.get("properties"):
        return f"mapping of string to {_type(values)}"
    return str(kind)


def _options(props: dict[str, Any], required: set[str], indent: str) -> list[str]:
    """One line per option (name, type, default) and its description; the keys of
    nested objects and of list items (``freeze`` entries, ``smoke``) below it."""
    lines = []
    for key, prop in props.items():
        default = (
            "required"
            if key in required
            else (f"default {json.dumps(prop['default'])}" if "default" in prop else "optional")
        )
        lines.append(f"{indent}{key} ({_type(prop)}; {default})")
        if prop.get("description"):
            lines.append(f"{indent}    {prop['description']}")
        nested, label = prop, "Keys:"
        if isinstance(prop.get("items"), dict) and prop["items"].get("properties"):
            nested, label = prop["items"], "Each item:"
        if nested.get("properties"):
            lines.append(f"{indent}    {label}")
            lines += _options(
                nested["properties"], set(nested.get("required", [])), indent + "      "
            )
    return lines


def explain_check(check: Check) -> str:
    lines = [f"{check.name}: {check.title}", ""]
    if check.description:
        lines += [check.description, ""]
    props = check.options.get("properties", {})
    required = set(check.options.get("required", []))
    lines.append("Options (under `with:`):" if props else "Options: none")
    lines += _options(props, required, "  ")
    rule: dict[str, Any] = {"id": check.name, "check": check.name}
    if check.example:
        rule["with"] = check.example
    example = yaml.safe_dump({"rules": [rule]}, sort_keys=False, allow_unicode=True)
    lines += ["", "Example:", *("  " + ln for ln in example.splitlines())]
    return "\n".join(lines)
