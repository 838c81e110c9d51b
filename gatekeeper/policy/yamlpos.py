"""YAML parsing that remembers where every value came from.

PyYAML's composer gives nodes with line/column marks; building the data from the
nodes ourselves lets every validation problem point at the offending node, and lets
us refuse duplicate keys, which plain ``yaml.safe_load`` silently drops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document starts, 1-based."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    unquoted: dict[Path, str] = field(default_factory=dict)
    """The source text of unquoted values YAML turned into numbers or booleans
    (``10:00`` is 600 in YAML 1.1, ``23.2`` a float), for a hint to quote them."""

    def of_value(self, path: Path) -> tuple[int, int]:
        """The position of the value at ``path``, or of its nearest parent that has one."""
        for i in range(len(path), -1, -1):
            if path[:i] in self.values:
                return self.values[path[:i]]
        return (1, 1)

    def of_key(self, path: Path) -> tuple[int, int]:
        return self.keys.get(path) or self.of_value(path)


class YamlProblem(Exception):
    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self) -> None:
        self.positions = Positions()
        self.constructor = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _TIMESTAMP:
            # Times stay text: the schema and the checks parse them with their time zone.
            return node.value
        value = self.constructor.construct_object(node, deep=True)
        plain = isinstance(node, yaml.ScalarNode) and node.style is None
        if plain and isinstance(value, int | float):  # bool is an int too
            self.positions.unquoted[path] = node.value
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem(
                    *_mark(key_node),
                    "YAML merge keys (<<) are not supported: anchor the whole value instead "
                    "(with: &common {...}, then with: *common)",
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem(*_mark(key_node), "a mapping key must be a plain value")
            key = self.constructor.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                first = self.positions.keys[(*path, key)]
                raise YamlProblem(
                    *_mark(key_node), f"duplicate key {key!r} (first at line {first[0]})"
                )
            self.positions.keys[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out


def parse(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document into plain data and the positions of its nodes."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = ", ".join(part for part in (e.context, e.problem) if part)
        raise YamlProblem(line, col, f"YAML syntax error: {what}") from None
    except yaml.YAMLError as e:
        raise YamlProblem(1, 1, f"YAML error: {e}") from None
    if node is None:
        raise YamlProblem(1, 1, "the file is empty")
    builder = _Builder()
    try:
        return builder.build(node, ()), builder.positions
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlProblem(line, col, f"YAML error: {e.problem}") from None
