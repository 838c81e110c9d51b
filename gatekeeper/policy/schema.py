"""The policy schema: the shipped base schema plus each registered check's options."""

from __future__ import annotations

import copy
import json
import pkgutil
from functools import cache
from typing import Any


@cache
def base_schema() -> dict[str, Any]:
    """The policy format's JSON Schema as shipped (structure; check options are separate)."""
    # pkgutil reads package data as importlib.resources does, without its 5 ms import.
    data = pkgutil.get_data("gatekeeper.policy", "policy.schema.json")
    if data is None:  # a loader that cannot read data files: not one Python ships
        raise FileNotFoundError("gatekeeper/policy/policy.schema.json")
    return json.loads(data)


def part_schema() -> dict[str, Any]:
    """The base schema for a policy that ``extends`` bases, validated on its own: it may
    have no rules of its own (the merged policy is then validated as a whole)."""
    schema = copy.deepcopy(base_schema())
    schema["required"] = ["version"]
    return schema


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
