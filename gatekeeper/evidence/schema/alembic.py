"""Alembic revisions: modules assigning ``revision`` and ``down_revision``, with ``upgrade()``.

Operations are the ``op.*`` calls in ``upgrade()`` (and in helpers beside it) and the calls on ``batch_op`` (any name
bound by ``with op.batch_alter_table(...) as …``). Destructive: drop_table, drop_column,
drop_constraint, drop_index of a unique index (the downgrade recreates it unique, or its
name says so), rename_table, alter_column with ``new_column_name``, a narrowing ``type_``
(against ``existing_type``) or ``nullable=False`` without ``server_default``; ``op.execute``
SQL goes through the SQL rules. Reversible when ``downgrade()`` does more than ``pass``, a
docstring or ``raise NotImplementedError``.
"""

from __future__ import annotations

import ast

from gatekeeper.evidence.schema import pyast
from gatekeeper.evidence.schema import sql as sqlmod
from gatekeeper.evidence.schema.model import Analysis, Findings, Source, Unparsable, unparsable

_DESTRUCTIVE = {"drop_table", "drop_column", "drop_constraint", "rename_table", "drop_table_comment"}
_WIDER = {
    ("String", "Text"), ("String", "UnicodeText"), ("Unicode", "UnicodeText"),
    ("VARCHAR", "TEXT"), ("SmallInteger", "Integer"), ("SmallInteger", "BigInteger"),
    ("Integer", "BigInteger"), ("INTEGER", "BIGINT"), ("SMALLINT", "INTEGER"),
}  # fmt: skip


def is_revision(data: bytes) -> bool:
    if b"down_revision" not in data or b"revision" not in data:
        return False
    try:
        tree = pyast.parse(data)
    except Unparsable:
        return False
    # Module-level `revision` and `down_revision` make it a revision; one whose upgrade is
    # not a plain function (a lambda, an import) is then reported unparsable, not skipped.
    return (
        pyast.module_assign(tree, "revision") is not None
        and pyast.module_assign(tree, "down_revision") is not None
    )


def _is_revision(tree: ast.Module) -> bool:
    return (
        pyast.module_assign(tree, "revision") is not None
        and pyast.module_assign(tree, "down_revision") is not None
        and pyast.function(tree, "upgrade") is not None
    )


_SAME = {"VARCHAR": "String", "TEXT": "Text", "INTEGER": "Integer", "BIGINT": "BigInteger",
         "SMALLINT": "SmallInteger", "BOOLEAN": "Boolean", "NUMERIC": "Numeric"}  # fmt: skip


def _type(node: ast.expr | None) -> tuple[str, int | None]:
    """``sa.String(length=40)`` -> ("String", 40); ``sa.Text()`` -> ("Text", None);
    reflected SQL names (``sa.VARCHAR``) are the generic type they reflect."""
    if node is None:
        return "", None
    name = pyast.call_name(node) if isinstance(node, ast.Call) else pyast.dotted(node)
    name = name.split(".")[-1]
    name = _SAME.get(name, name)
    length = None
    if isinstance(node, ast.Call):
        value = pyast.literal(pyast.arg(node, 0, "length"))
        length = value if isinstance(value, int) else None
    return name, length


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _narrowing(call: ast.Call) -> str | None:
    new_name, new_len = _type(_kw(call, "type_"))
    if not new_name:
        return None
    old_name, old_len = _type(_kw(call, "existing_type"))
    if not old_name:
        return f"type changed to {new_name} (no existing_type to compare)"
    if old_name == new_name:
        if old_len is not None and (new_len is None or new_len >= old_len):
            return None
        if old_len is None and new_len is None:
            return None
        return f"{old_name}({old_len}) -> {new_name}({new_len})"
    if (old_name, new_name) in _WIDER:
        return None
    return f"{old_name} -> {new_name}"


class _Reader:
    def __init__(self, downgrade: ast.FunctionDef | None) -> None:
        self.out = Findings()
        self.downgrade = downgrade
        self.batch_names: set[str] = set()
        self.strings: dict[str, list[str | None]] = {}
        """Values assigned to each name: SQL kept in a variable is still read when every
        assignment to that name is a string literal."""

    def walk(self, tree: ast.Module) -> None:
        # The whole module but downgrade(): upgrade() may call helpers defined beside it.
        nodes = [n for n in tree.body if n is not self.downgrade]
        for node in (sub for top in nodes for sub in ast.walk(top)):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    self.strings.setdefault(target.id, []).append(pyast.string(node.value))
        for node in (sub for top in nodes for sub in ast.walk(top)):
            if isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if (
                        isinstance(item.optional_vars, ast.Name)
                        and pyast.call_name(item.context_expr) == "batch_alter_table"
                    ):
                        self.batch_names.add(item.optional_vars.id)
        for node in (sub for top in nodes for sub in ast.walk(top)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = pyast.dotted(node.func.value)
                if owner == "op" or owner in self.batch_names or owner == "batch_op":
                    self.call(node, owner)
                elif node.func.attr in ("execute", "exec_driver_sql"):
                    self.bind_execute(node)  # op.get_bind().execute(...), connection.execute

    def call(self, node: ast.Call, owner: str) -> None:
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        target = self._target(node, name)
        label = f"{name} {target}".strip() if owner == "op" else f"{owner}.{name} {target}".strip()
        if name in ("batch_alter_table", "f", "get_bind", "get_context", "inline_literal"):
            return  # helpers, not operations
        if name == "execute":
            self.execute(node)
        elif name == "alter_column":
            self.alter_column(node, label)
        elif name == "drop_index":
            unique = self._unique_index(node)
            self.out.add(label, unique, f"{label}: a unique index" if unique else None)
        else:
            self.out.add(label, name in _DESTRUCTIVE)

    def _target(self, node: ast.Call, name: str) -> str:
        args = [a.args[0] if isinstance(a, ast.Call) and pyast.call_name(a) == "f" and a.args
                else a for a in node.args[:2]]  # fmt: skip
        parts = [pyast.literal(a) for a in args if isinstance(a, ast.Constant)]
        if name in ("execute", "alter_column") and parts:
            parts = parts[:2] if name == "alter_column" else []
        return ".".join(str(p) for p in parts if isinstance(p, str))

    def alter_column(self, node: ast.Call, label: str) -> None:
        if _kw(node, "new_column_name") is not None:
            self.out.add(label + " (rename)", True)
            return
        why = _narrowing(node)
        nullable = pyast.literal(_kw(node, "nullable"))
        if why is None and nullable is False and _kw(node, "server_default") is None:
            why = "nullable=False without server_default"
        self.out.add(label, why is not None, f"{label}: {why}" if why else None)

    def _resolve(self, arg: ast.expr | None) -> ast.expr | None:
        if isinstance(arg, ast.Name):
            values = self.strings.get(arg.id, [])
            if len(values) == 1 and values[0] is not None:
                return ast.Constant(values[0])
        return arg

    def execute(self, node: ast.Call) -> None:
        text = pyast.string(self._resolve(node.args[0] if node.args else _kw(node, "sqltext")))
        if text is None:
            self.out.add("execute (computed SQL)", True,
                         "op.execute with SQL that is not a literal is treated as destructive")
            return
        sqlmod.add_classified(self.out, text, "execute", "execute (unreadable SQL)", "op.execute")

    def bind_execute(self, node: ast.Call) -> None:
        """SQL run through a connection: a literal (or ``text()``) goes through the SQL
        rules; an SQLAlchemy statement is judged by its verb; anything else is unknown."""
        arg = self._resolve(node.args[0] if node.args else None)
        chain = _chain(arg)
        if pyast.string(arg) is not None or "text" in chain:
            text = pyast.string(arg) or next(
                (pyast.string(c) for c in ast.walk(arg or ast.Constant(None)) if isinstance(c, ast.Call)
                 and pyast.call_name(c) == "text" and pyast.string(c) is not None), None,
            )  # fmt: skip
            if text is not None:
                self.execute(ast.Call(func=node.func, args=[ast.Constant(text)], keywords=[]))
                return
        for verb, destructive in (("delete", True), ("insert", False), ("update", False),
                                  ("select", False)):  # fmt: skip
            if verb in chain:
                self.out.add(f"execute: {verb.upper()} (SQLAlchemy)", destructive)
                return
        self.out.add("execute (computed SQL)", True,
                     "SQL run through a connection that cannot be read is treated as destructive")

    def _unique_index(self, node: ast.Call) -> bool:
        name = _index_name(node)
        if isinstance(name, str) and ("uq" in name.lower() or "unique" in name.lower()):
            return True
        if self.downgrade is None:
            return False
        for call in ast.walk(self.downgrade):
            if isinstance(call, ast.Call) and pyast.call_name(call) == "create_index":
                same = _index_name(call) == name
                if same and pyast.literal(_kw(call, "unique")) in (True, 1):
                    return True
        return False


def _chain(node: ast.expr | None) -> list[str]:
    """Method and function names along a call chain: ``t.delete().where(x)`` ->
    ["where", "delete"]; ``sa.text("…").bindparams()`` -> ["bindparams", "text"]."""
    names: list[str] = []
    for _ in range(50):
        if isinstance(node, ast.Call):
            names.append(pyast.call_name(node))
            node = node.func.value if isinstance(node.func, ast.Attribute) else None
        elif isinstance(node, ast.Attribute):
            node = node.value
        else:
            break
    return names


def _index_name(call: ast.Call) -> object:
    """The index name, also through ``op.f("name")`` (autogenerate writes that)."""
    node = pyast.arg(call, 0, "index_name")
    if isinstance(node, ast.Call) and pyast.call_name(node) == "f" and node.args:
        node = node.args[0]
    return pyast.literal(node)


def analyze(src: Source) -> Analysis:
    try:
        tree = pyast.parse(src.head if src.head is not None else src.base or b"")
    except Unparsable as e:
        return unparsable(str(e))
    upgrade = pyast.function(tree, "upgrade")
    if upgrade is None or not _is_revision(tree):
        return unparsable("an Alembic revision without revision, down_revision and upgrade()")
    downgrade = pyast.function(tree, "downgrade")
    reader = _Reader(downgrade)
    reader.walk(tree)
    if downgrade is None:
        return reader.out.analysis(False, ("no downgrade()",))
    if pyast.trivial_body(downgrade):
        return reader.out.analysis(False, ("downgrade() does nothing (pass or raise)",))
    return reader.out.analysis(True)
