"""The policy schema: the shipped base schema plus each registered check's options."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def base_schema() -> dict[str, Any]:
    """The policy format's JSON Schema as shipped (structure; check options are separate)."""
    text = resources.files("gatekeeper.policy").joinpath("policy.schema.json").read_text("utf-8")
    return json.loads(text)


def full_schema() -> dict[str, Any]:
    """Base schema + check names + each check's options, for editors and `gatekeeper schema`."""
    from gatekeeper.checks import registry

    schema = copy.deepcopy(base_schema())
    checks = registry()
    rule = schema["$defs"]["rule"]
    rule["properties"]["check"]["enum"] = sorted(checks)
    rule["allOf"] = [
        {
            "if": {"properties": {"check": {"const": name}}, "required": ["check"]},
            "then": {"properties": {"with": check.options}},
        }
        for name, check in sorted(checks.items())
    ]
    return schema
