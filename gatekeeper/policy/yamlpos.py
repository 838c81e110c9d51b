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

MAX_ALIASES = 100
"""Alias uses (``*name``) per document: a policy reuses a block a few times; a bomb needs
many. Past this the policy is refused at the alias."""
MAX_EXPANSION = 10_000
"""Values aliases may add beyond the document's own nodes: each alias copies its anchor's
whole subtree, so a few nested anchors of a 1 KB file would expand to billions."""
MAX_DEPTH = 64
"""Nesting of collections: policies need about six; the composer recurses per level."""


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


class YamlRefused(yaml.MarkedYAMLError):
    """A document past the bounds of ``BoundedSafeLoader`` (a YAML error like any other)."""


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose composer refuses hostile documents before anything is
    built or walked: more than ``MAX_ALIASES`` alias uses, nesting deeper than
    ``MAX_DEPTH`` (the composer recurses per level), or aliases that would expand the
    document by more than ``MAX_EXPANSION`` values (safe_load shares an alias's object,
    but whatever walks the result walks every copy). For any YAML a change can supply:
    ``yaml.load(text, Loader=BoundedSafeLoader)``, ``yaml.compose(text, Loader=...)``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0
        self.depth = 0
        self.first_alias: Any = None
        """Where the first alias is used: what an expansion error points at."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            self.first_alias = self.first_alias or mark
            if self.aliases > MAX_ALIASES:
                raise YamlRefused(
                    problem=f"more than {MAX_ALIASES} YAML aliases (*name); refusing a "
                    "document that could expand without bound (an alias bomb)",
                    problem_mark=mark,
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise YamlRefused(
                    problem=f"nested deeper than {MAX_DEPTH} levels",
                    problem_mark=mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None and _expanded_size(node) > _count_nodes(node) + MAX_EXPANSION:
            raise YamlRefused(
                problem=f"YAML aliases expand this document by more than {MAX_EXPANSION:,} "
                "values; refusing it (an alias bomb?)",
                problem_mark=self.first_alias or node.start_mark,
            )
        return node


_BoundedLoader = BoundedSafeLoader


def _expanded_size(root: yaml.Node) -> int:
    """Values the document holds once every alias is copied out (depth is bounded)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) not in sizes:
            total = 1
            if isinstance(node, yaml.SequenceNode):
                total += sum(size(item) for item in node.value)
            elif isinstance(node, yaml.MappingNode):
                total += sum(size(k) + size(v) for k, v in node.value)
            sizes[id(node)] = total
        return sizes[id(node)]

    return size(root)


def _yaml_mark(error: yaml.MarkedYAMLError) -> tuple[int, int]:
    mark = error.problem_mark
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _count_nodes(root: yaml.Node) -> int:
    """Distinct nodes in the composed graph (an alias is the same node object)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                todo.extend((key, value))
    return len(seen)


class _Builder:
    def __init__(self, budget: int = 1 << 62) -> None:
        self.positions = Positions()
        self.constructor = yaml.SafeLoader("")
        self.budget = budget
        """Values this document may still build; aliases spend it again per use."""

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlProblem(
                *_mark(node),
                f"YAML aliases expand this document by more than {MAX_EXPANSION:,} values; "
                "refusing it (an alias bomb?)",
            )
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Path | None = None) -> Any:
        if node.tag == _TIMESTAMP:
            # Times stay text: the schema and the checks parse them with their time zone.
            return node.value
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError) as e:  # e.g. a date PyYAML's regex lets through
            raise YamlProblem(*_mark(node), f"cannot read the value {node.value!r}: {e}") from None
        plain = isinstance(node, yaml.ScalarNode) and node.style is None
        if path is not None and plain and isinstance(value, int | float):  # bool is an int too
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
            key = self._scalar(key_node)
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
        node = yaml.compose(text, Loader=_BoundedLoader)
    except YamlRefused as e:
        raise YamlProblem(*_yaml_mark(e), str(e.problem)) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = ", ".join(part for part in (e.context, e.problem) if part)
        raise YamlProblem(line, col, f"YAML syntax error: {what}") from None
    except yaml.YAMLError as e:
        raise YamlProblem(1, 1, f"YAML error: {e}") from None
    if node is None:
        raise YamlProblem(1, 1, "the file is empty")
    builder = _Builder(_count_nodes(node) + MAX_EXPANSION)
    try:
        return builder.build(node, ()), builder.positions
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlProblem(line, col, f"YAML error: {e.problem}") from None
