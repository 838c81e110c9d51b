"""Prisma schemas (``*.prisma``): models, fields and enums compared base vs head.

Destructive: a model, field, enum or enum value removed, a field's type changed, an optional
field made required, a required field added without ``@default``. Comments (``//``) and
strings are skipped, so a ``}`` inside ``@default("}")`` does not end a block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gatekeeper.evidence.schema.model import (
    Analysis,
    Findings,
    Source,
    Unparsable,
    decode,
    unparsable,
)

_BLOCK = re.compile(r"^\s*(model|enum|view|type)\s+(\w+)\s*\{\s*$")
_OTHER = re.compile(r"^\s*(datasource|generator)\s+\w+\s*\{\s*$")
_FIELD = re.compile(r"^\s*(\w+)\s+([\w.]+)(\[\])?(\?)?(.*)$")
MAX_LINES = 200_000


@dataclass
class Field:
    type: str
    optional: bool
    has_default: bool


@dataclass
class Schema:
    models: dict[str, dict[str, Field]] = field(default_factory=dict)
    enums: dict[str, list[str]] = field(default_factory=dict)


def _strip(line: str) -> str:
    """The line without a ``//`` comment and with string contents blanked."""
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if c == '"':
            j = i + 1
            while j < n and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            out.append('""')
            i = j + 1
            continue
        if line.startswith("//", i):
            break
        out.append(c)
        i += 1
    return "".join(out)


def parse(text: str) -> Schema:
    schema = Schema()
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise Unparsable(f"more than {MAX_LINES} lines")
    block: tuple[str, str] | None = None
    for number, raw in enumerate(lines, 1):
        line = _strip(raw).strip()
        if not line:
            continue
        if block is None:
            m = _BLOCK.match(line)
            if m:
                block = (m.group(1), m.group(2))
                if m.group(1) == "enum":
                    schema.enums[m.group(2)] = []
                else:
                    schema.models[m.group(2)] = {}
            elif _OTHER.match(line):
                block = ("other", "")
            else:
                raise Unparsable(f"line {number}: unexpected {line[:60]!r} outside a block")
            continue
        if line == "}":
            block = None
            continue
        if "{" in line or "}" in line.replace("{}", ""):
            raise Unparsable(f"line {number}: unexpected brace in {line[:60]!r}")
        kind, name = block
        if line.startswith("@@") or kind == "other":
            continue
        if kind == "enum":
            schema.enums[name].append(line.split()[0])
            continue
        f = _FIELD.match(line)
        if not f:
            raise Unparsable(f"line {number}: not a field: {line[:60]!r}")
        type_ = f.group(2) + (f.group(3) or "")
        attrs = f.group(5)
        schema.models[name][f.group(1)] = Field(type_, bool(f.group(4)), "@default" in attrs
                                                or "@updatedAt" in attrs or f.group(3) is not None)
    if block is not None:
        raise Unparsable(f"block {block[1]} is not closed")
    return schema


def _compare(old: Schema, new: Schema, out: Findings) -> None:
    for model, fields in old.models.items():
        if model not in new.models:
            out.add(f"remove model {model}", True)
            continue
        for name, f in fields.items():
            g = new.models[model].get(name)
            if g is None:
                out.add(f"remove field {model}.{name}", True)
            elif g.type != f.type:
                out.add(f"change type {model}.{name} {f.type} -> {g.type}", True)
            elif f.optional and not g.optional:
                out.add(f"make required {model}.{name}", True)
            elif g.optional and not f.optional:
                out.add(f"make optional {model}.{name}")
        for name, g in new.models[model].items():
            if name not in fields:
                required = not g.optional and not g.has_default and g.type not in new.models
                out.add(f"add field {model}.{name}", required,
                        f"{model}.{name} is required without @default" if required else None)
    for model in new.models:
        if model not in old.models:
            out.add(f"add model {model}")
    for enum, values in old.enums.items():
        if enum not in new.enums:
            out.add(f"remove enum {enum}", True)
            continue
        for value in values:
            if value not in new.enums[enum]:
                out.add(f"remove enum value {enum}.{value}", True)
        for value in new.enums[enum]:
            if value not in values:
                out.add(f"add enum value {enum}.{value}")
    for enum in new.enums:
        if enum not in old.enums:
            out.add(f"add enum {enum}")


def analyze(src: Source) -> Analysis:
    try:
        old = parse(decode(src.base)) if src.base is not None else Schema()
        new = parse(decode(src.head)) if src.head is not None else Schema()
    except Unparsable as e:
        return unparsable(f"Prisma schema cannot be read: {e}")
    out = Findings()
    _compare(old, new, out)
    return out.analysis(None)
