"""Reading Python migration modules with ``ast`` (never importing or running them)."""

from __future__ import annotations

import ast
import warnings
from functools import lru_cache

from gatekeeper.evidence.schema.model import Unparsable

MAX_NODES = 400_000
"""A module with more AST nodes than this is refused rather than walked."""


def parse(data: bytes) -> ast.Module:
    """The module's AST; ``Unparsable`` on a syntax error or an oversized tree.

    Cached by content: detection and analysis read the same module (trees are not
    modified by their readers).

    ``ast.parse`` reads the coding cookie from the bytes; deep nesting raises
    ``RecursionError``/``MemoryError`` inside CPython's parser, caught here.
    """
    return _parse(data)


@lru_cache(maxsize=512)
def _parse(data: bytes) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes in PR code
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise Unparsable(f"Python cannot be parsed: {type(e).__name__}: {e}") from None
    for count, _ in enumerate(ast.walk(tree)):
        if count >= MAX_NODES:
            raise Unparsable(f"more than {MAX_NODES} syntax nodes")
    return tree


def same_tree(a: bytes, b: bytes) -> bool:
    """Both parse to the same syntax tree: a change of layout or comments only."""
    try:
        return ast.dump(parse(a)) == ast.dump(parse(b))
    except Unparsable:
        return False


def call_name(node: ast.AST) -> str:
    """``migrations.AddField`` -> ``AddField``; ``op.drop_column`` -> ``drop_column``."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def arg(call: ast.Call, index: int, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return call.args[index]
    return None


def literal(node: ast.expr | None) -> object:
    """The value of a literal expression, or ``None`` when it is not one."""
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None


def string(node: ast.expr | None) -> str | None:
    """A string literal's text, also through ``sa.text("...")`` / ``text("...")``."""
    if isinstance(node, ast.Call) and call_name(node) == "text" and node.args:
        node = node.args[0]
    value = literal(node)
    return value if isinstance(value, str) else None


def module_assign(tree: ast.Module, name: str) -> ast.expr | None:
    """The value assigned to ``name`` at module level (``x = …`` or ``x: T = …``)."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            return node.value if node.value is not None else ast.Constant(None)
    return None


def function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    return None


def trivial_body(fn: ast.FunctionDef) -> bool:
    """Only ``pass``, ``...``, docstrings/comments, or ``raise NotImplementedError``."""
    for stmt in fn.body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring or `...`
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if dotted(exc).split(".")[-1] in ("NotImplementedError", "NotImplemented"):
                continue
        return False
    return True
