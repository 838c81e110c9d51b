"""Django migrations: ``<app>/migrations/NNNN_*.py`` modules defining ``class Migration``.

Operations are listed by class name from the ``operations`` list (read with ``ast``, never
imported). Destructive: DeleteModel, RemoveField, RenameField, RenameModel, AlterModelTable,
an AlterField that narrows the field (compared with the field's previous definition in the
app's earlier migrations; unknown counts as narrowing) and RunSQL whose SQL is destructive.
Irreversible: RunPython without ``reverse_code``, RunSQL without ``reverse_sql``; a declared
``noop`` reverse is reversible and reported.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import PurePosixPath

from gatekeeper.evidence.schema import pyast
from gatekeeper.evidence.schema import sql as sqlmod
from gatekeeper.evidence.schema.model import Analysis, Findings, Source, Unparsable, unparsable
from gatekeeper.evidence.schema.sqltok import SqlSyntaxError

NAME = re.compile(r"^\d{4}_\w*\.py$")
_DESTRUCTIVE = {"DeleteModel", "RemoveField", "RenameField", "RenameModel", "AlterModelTable"}
_WIDENING = {
    ("CharField", "TextField"),
    ("SmallIntegerField", "IntegerField"),
    ("SmallIntegerField", "BigIntegerField"),
    ("IntegerField", "BigIntegerField"),
    ("PositiveSmallIntegerField", "PositiveIntegerField"),
    ("PositiveIntegerField", "PositiveBigIntegerField"),
    ("AutoField", "BigAutoField"),
    ("SmallAutoField", "AutoField"),
}


def looks_like_path(path: str) -> bool:
    """``…/migrations/0001_initial.py`` (case-insensitive: a file system may be)."""
    p = PurePosixPath(path.lower())
    return len(p.parts) >= 2 and p.parts[-2] == "migrations" and NAME.match(p.name) is not None


def migration_class(tree: ast.Module) -> ast.ClassDef | None:
    for node in tree.body:
        if (
            isinstance(node, ast.ClassDef)
            and node.name == "Migration"
            and any(pyast.dotted(b).split(".")[-1] == "Migration" for b in node.bases)
        ):
            return node
    return None


def is_migration(data: bytes) -> bool:
    if b"Migration" not in data:
        return False
    try:
        return migration_class(pyast.parse(data)) is not None
    except Unparsable:
        return False


def _operations(cls: ast.ClassDef) -> list[ast.expr] | None:
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "operations" for t in node.targets
        ):
            if isinstance(node.value, ast.List | ast.Tuple):
                return list(node.value.elts)
            return None
    return []


def _kw(call: ast.Call, index: int, name: str) -> str:
    value = pyast.literal(pyast.arg(call, index, name))
    return str(value) if isinstance(value, str) else "?"


def _label(call: ast.Call, kind: str) -> str:
    if kind in ("AddField", "RemoveField", "AlterField"):
        return f"{kind} {_kw(call, 0, 'model_name').lower()}.{_kw(call, 1, 'name')}"
    if kind == "RenameField":
        model = _kw(call, 0, "model_name").lower()
        return f"{kind} {model}.{_kw(call, 1, 'old_name')} -> {_kw(call, 2, 'new_name')}"
    if kind == "RenameModel":
        return f"{kind} {_kw(call, 0, 'old_name')} -> {_kw(call, 1, 'new_name')}"
    if kind in ("CreateModel", "DeleteModel", "AlterModelTable", "AlterModelOptions"):
        return f"{kind} {_kw(call, 0, 'name')}"
    if kind in ("RunPython",):
        code = pyast.arg(call, 0, "code")
        return f"{kind} {pyast.dotted(code) if code is not None else '?'}".rstrip()
    return kind


def _is_noop(node: ast.expr | None) -> bool:
    return node is not None and pyast.dotted(node).split(".")[-1] == "noop"


def _sql_texts(node: ast.expr | None) -> list[str] | None:
    """The SQL of RunSQL's argument: a string, or a list of strings / (sql, params)."""
    if node is None:
        return None
    value = pyast.string(node)
    if value is not None:
        return [value]
    if isinstance(node, ast.List | ast.Tuple):
        out: list[str] = []
        for elt in node.elts:
            first = elt.elts[0] if isinstance(elt, ast.Tuple | ast.List) and elt.elts else elt
            text = pyast.string(first)
            if text is None:
                return None
            out.append(text)
        return out
    return None


class _Reader:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.out = Findings()
        self.irreversible: list[str] = []
        self._state: dict[tuple[str, str], ast.Call] | None = None
        self.functions: dict[str, ast.FunctionDef] = {}
        """Module-level functions, for what a RunPython runs."""

    def operation(self, node: ast.expr) -> None:
        if not isinstance(node, ast.Call):
            self.out.add("(computed operation)", True, "an operation that is not a call is "
                         "treated as destructive")
            return
        kind = pyast.call_name(node)
        label = _label(node, kind)
        if kind == "SeparateDatabaseAndState":
            ops = pyast.arg(node, 0, "database_operations")
            if isinstance(ops, ast.List | ast.Tuple):
                for inner in ops.elts:
                    self.operation(inner)
            elif ops is not None:
                self.out.add(label, True, "SeparateDatabaseAndState with computed operations")
            return
        if kind == "RunSQL":
            self.run_sql(node)
        elif kind == "RunPython":
            reverse = pyast.arg(node, 1, "reverse_code")
            self.out.add(label)
            self._reverse(label, reverse, "reverse_code")
            self.python_sql(pyast.arg(node, 0, "code"))
        elif kind == "AlterField":
            narrowing, why = self.narrows(node)
            self.out.add(label, narrowing, why)
        else:
            self.out.add(label, kind in _DESTRUCTIVE)

    def python_sql(self, code: ast.expr | None) -> None:
        """SQL that a RunPython function runs itself (``schema_editor.execute("…")``,
        ``cursor.execute("…")``) goes through the SQL rules; SQL that is not a literal there
        is unknown and treated as destructive. ORM data changes are not schema changes."""
        fn = self.functions.get(pyast.dotted(code)) if code is not None else None
        if fn is None:
            return
        for call in ast.walk(fn):
            if not (isinstance(call, ast.Call) and pyast.call_name(call) in ("execute", "executemany")):
                continue
            if not isinstance(call.func, ast.Attribute):
                continue
            text = pyast.string(call.args[0] if call.args else None)
            if text is None:
                self.out.add(f"RunPython {fn.name}: execute (computed SQL)", True,
                             f"RunPython {fn.name} runs SQL that is not a literal; treated as "
                             "destructive")  # fmt: skip
                continue
            try:
                found = sqlmod.classify(text)
            except SqlSyntaxError as e:
                self.out.add(f"RunPython {fn.name}: execute (unreadable SQL)", True, str(e))
                continue
            self.out.merge(found, prefix=f"RunPython {fn.name}: ")

    def _reverse(self, label: str, reverse: ast.expr | None, name: str) -> None:
        if reverse is None or (isinstance(reverse, ast.Constant) and reverse.value is None):
            self.irreversible.append(f"{label} has no {name}")
        elif _is_noop(reverse):
            self.out.reasons.append(f"{label}: {name} is a declared noop")

    def run_sql(self, node: ast.Call) -> None:
        texts = _sql_texts(pyast.arg(node, 0, "sql"))
        self._reverse("RunSQL", pyast.arg(node, 1, "reverse_sql"), "reverse_sql")
        if texts is None:
            self.out.add("RunSQL (computed SQL)", True, "RunSQL whose SQL is not a literal "
                         "cannot be read and is treated as destructive")
            return
        for text in texts:
            sqlmod.add_classified(self.out, text, "RunSQL", "RunSQL (unreadable SQL)", "RunSQL")

    # -- AlterField narrowing ------------------------------------------------------

    def narrows(self, node: ast.Call) -> tuple[bool, str | None]:
        model = _kw(node, 0, "model_name").lower()
        name = _kw(node, 1, "name")
        new = pyast.arg(node, 2, "field")
        old = self.state().get((model, name))
        label = f"AlterField {model}.{name}"
        if not isinstance(new, ast.Call):
            return True, f"{label}: the new field is computed; treated as narrowing"
        if old is None:
            return True, (f"{label}: previous definition not found in earlier migrations; "
                          "treated as narrowing")
        why = _narrowing(old, new)
        return (True, f"{label} narrows the field: {why}") if why else (False, None)

    def state(self) -> dict[tuple[str, str], ast.Call]:
        """Field definitions after the app's earlier migrations (by file name order)."""
        if self._state is None:
            self._state = {}
            folder, _, me = self.src.path.rpartition("/")
            earlier = [p for p in self.src.folder(folder)
                       if NAME.match(p.rpartition("/")[2]) and p.rpartition("/")[2] < me]  # fmt: skip
            self.src.prefetch(earlier)
            for path in earlier:
                data = self.src.read_head(path)
                if data is not None:
                    _apply(self._state, _ops_of(data))
        return self._state


@lru_cache(maxsize=2048)
def _ops_of(data: bytes) -> tuple[ast.Call, ...]:
    try:
        cls = migration_class(pyast.parse(data))
    except Unparsable:
        return ()
    ops = _operations(cls) if cls else None
    return tuple(o for o in ops or () if isinstance(o, ast.Call))


def _apply(state: dict[tuple[str, str], ast.Call], ops: tuple[ast.Call, ...]) -> None:
    for op in ops:
        kind = pyast.call_name(op)
        if kind == "CreateModel":
            model = _kw(op, 0, "name").lower()
            fields = pyast.arg(op, 1, "fields")
            for elt in fields.elts if isinstance(fields, ast.List | ast.Tuple) else ():
                if isinstance(elt, ast.Tuple) and len(elt.elts) == 2:
                    fname = pyast.literal(elt.elts[0])
                    if isinstance(fname, str) and isinstance(elt.elts[1], ast.Call):
                        state[(model, fname)] = elt.elts[1]
        elif kind in ("AddField", "AlterField"):
            field = pyast.arg(op, 2, "field")
            if isinstance(field, ast.Call):
                state[(_kw(op, 0, "model_name").lower(), _kw(op, 1, "name"))] = field
        elif kind == "RemoveField":
            state.pop((_kw(op, 0, "model_name").lower(), _kw(op, 1, "name")), None)
        elif kind == "RenameField":
            model = _kw(op, 0, "model_name").lower()
            old = state.pop((model, _kw(op, 1, "old_name")), None)
            if old is not None:
                state[(model, _kw(op, 2, "new_name"))] = old


def _narrowing(old: ast.Call, new: ast.Call) -> str | None:
    old_cls, new_cls = pyast.call_name(old), pyast.call_name(new)
    if old_cls != new_cls and (old_cls, new_cls) not in _WIDENING:
        return f"{old_cls} -> {new_cls}"

    def kw(call: ast.Call, name: str) -> object:
        return pyast.literal(next((k.value for k in call.keywords if k.arg == name), None))

    if kw(old, "null") is True and kw(new, "null") is not True:
        return "null=True -> NOT NULL"
    for size in ("max_length", "max_digits", "decimal_places"):
        before, after = kw(old, size), kw(new, size)
        if isinstance(before, int) and isinstance(after, int) and after < before:
            return f"{size} {before} -> {after}"
    return None


def analyze(src: Source) -> Analysis:
    try:
        tree = pyast.parse(src.head if src.head is not None else src.base or b"")
    except Unparsable as e:
        return unparsable(str(e))
    cls = migration_class(tree)
    if cls is None:
        return unparsable("a file named like a Django migration defines no Migration class")
    ops = _operations(cls)
    reader = _Reader(src)
    reader.functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    if ops is None:
        reader.out.add("(computed operations)", True,
                       "operations is not a literal list; treated as destructive")
        return reader.out.analysis(None)
    for op in ops:
        reader.operation(op)
    if reader.irreversible:
        return reader.out.analysis(False, tuple(reader.irreversible))
    return reader.out.analysis(True)
