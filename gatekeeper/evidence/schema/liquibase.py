"""Liquibase changelogs in XML, YAML or JSON (formatted SQL is read in ``sql.py``).

Each changeSet's changes are operations (``dropColumn users.email``). Destructive: every
``drop*`` and ``rename*`` change, ``modifyDataType``, ``addNotNullConstraint``, ``delete``,
``mergeColumns``, and ``sql`` whose SQL is destructive. A changeSet is reversible when it
declares a ``rollback`` or all its changes are ones Liquibase can roll back by itself.
XML is read with defusedxml (no entities), YAML with ``safe_load``.
"""

from __future__ import annotations

import json
from typing import Any

from gatekeeper.evidence.schema import sql as sqlmod
from gatekeeper.evidence.schema.model import Analysis, Findings, Source, decode, unparsable

_AUTO_ROLLBACK = {
    "createTable", "addColumn", "renameColumn", "renameTable", "renameView", "renameSequence",
    "createIndex", "addForeignKeyConstraint", "addPrimaryKey", "addUniqueConstraint",
    "createView", "createSequence", "addNotNullConstraint", "dropNotNullConstraint",
    "addDefaultValue", "tagDatabase", "addLookupTable", "createSynonym", "addAutoIncrement",
}  # fmt: skip
_NOT_CHANGES = {"comment", "rollback", "preConditions", "validCheckSum", "modifySql"}
_DESTRUCTIVE = {"modifyDataType", "addNotNullConstraint", "delete", "mergeColumns"}
MAX_CHANGES = 100_000


def sniff(data: bytes) -> bool:
    return b"databaseChangeLog" in data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _destructive(change: str) -> bool:
    return (
        change.startswith("drop") and change != "dropNotNullConstraint"
    ) or change.startswith("rename") or change in _DESTRUCTIVE


# A changeSet as (id, [(change name, attributes, sql text or None)], has rollback,
# fingerprint of its whole text: a released changeSet must keep it).
ChangeSet = tuple[str, list[tuple[str, dict[str, Any], str | None]], bool, str]


def _xml_changesets(data: bytes) -> list[ChangeSet]:
    import defusedxml.ElementTree as ET

    root = ET.fromstring(data)
    if _local(root.tag) != "databaseChangeLog":
        raise ValueError("the root element is not databaseChangeLog")
    sets: list[ChangeSet] = []
    for cs in root:
        if not isinstance(cs.tag, str) or _local(cs.tag) != "changeSet":
            continue
        changes: list[tuple[str, dict[str, Any], str | None]] = []
        rollback = False
        for ch in cs:
            if not isinstance(ch.tag, str):
                continue
            name = _local(ch.tag)
            if name == "rollback":
                rollback = True
            elif name not in _NOT_CHANGES:
                attrs = dict(ch.attrib)
                if name == "dropColumn" and "columnName" not in attrs:
                    cols = [c.get("name", "?") for c in ch if _local(str(c.tag)) == "column"]
                    attrs["columnName"] = ",".join(cols)
                text = "".join(ch.itertext()) if name == "sql" else None
                changes.append((name, attrs, text))
        from xml.etree.ElementTree import tostring

        ident = f'{cs.get("id", "?")}::{cs.get("author", "")}'
        cs.tail = None  # the whitespace after it changes when a changeSet is appended
        sets.append((ident, changes, rollback, tostring(cs).decode("utf-8", "replace")))
    return sets


def _doc_changesets(doc: Any) -> list[ChangeSet]:
    if not isinstance(doc, dict) or not isinstance(doc.get("databaseChangeLog"), list):
        raise ValueError("no databaseChangeLog list")
    sets: list[ChangeSet] = []
    for entry in doc["databaseChangeLog"][:MAX_CHANGES]:
        cs = entry.get("changeSet") if isinstance(entry, dict) else None
        if not isinstance(cs, dict):
            continue
        changes: list[tuple[str, dict[str, Any], str | None]] = []
        raw = cs.get("changes")
        for item in raw[:MAX_CHANGES] if isinstance(raw, list) else []:
            if not isinstance(item, dict):
                continue
            for name, attrs in list(item.items())[:1]:
                attrs = attrs if isinstance(attrs, dict) else {}
                text = attrs.get("sql") if name == "sql" else None
                changes.append((str(name), attrs, text if isinstance(text, str) else None))
        ident = f'{cs.get("id", "?")}::{cs.get("author", "")}'
        fingerprint = json.dumps(cs, sort_keys=True, default=str)
        sets.append((ident, changes, "rollback" in cs, fingerprint))
    return sets


def _label(name: str, attrs: dict[str, Any]) -> str:
    table = attrs.get("tableName") or attrs.get("viewName") or attrs.get("sequenceName") or ""
    column = attrs.get("columnName") or attrs.get("oldColumnName") or attrs.get("indexName") or ""
    target = ".".join(str(p) for p in (table, column) if p)
    return f"{name} {target}".strip()


def load(data: bytes, path: str) -> list[ChangeSet]:
    if data.lstrip()[:1] == b"<":
        return _xml_changesets(data)
    if path.lower().endswith(".json"):
        return _doc_changesets(json.loads(decode(data)))
    import yaml

    from gatekeeper.policy.yamlpos import BoundedSafeLoader  # a change's YAML: bounded

    return _doc_changesets(yaml.load(decode(data), Loader=BoundedSafeLoader))


def is_changelog(data: bytes, path: str) -> bool:
    try:
        load(data, path)
    except Exception:
        return False
    return True


def analyze(src: Source) -> Analysis:
    """Operations of the changeSets the change adds; a released changeSet that is changed
    or removed marks the file ``released`` (Liquibase would refuse its checksum anyway)."""
    try:
        head = load(src.head, src.path) if src.head is not None else []
        base = load(src.base, src.old_path or src.path) if src.base is not None else []
    except Exception as e:  # any parser failure on hostile input is "unparsable"
        return unparsable(f"Liquibase changelog cannot be read: {type(e).__name__}: {e}"[:300])
    before = {cs[0]: cs[3] for cs in base}
    now = {cs[0]: cs[3] for cs in head}
    changed = [i.split("::")[0] for i, r in before.items() if now.get(i) != r]
    out = Findings()
    missing: list[str] = []
    for cs_id, changes, rollback, _ in head:
        if before.get(cs_id) == now[cs_id]:
            continue  # released and unchanged
        for name, attrs, text in changes:
            label = _label(name, attrs)
            if name == "sql":
                _sql(out, text)
            elif name == "sqlFile":
                out.add(label + f" {attrs.get('path', '?')}", True,
                        "sqlFile: the referenced SQL is not read; treated as destructive")
            else:
                out.add(label, _destructive(name))
        auto = all(name in _AUTO_ROLLBACK for name, _, _ in changes)
        if not rollback and not auto:
            missing.append(cs_id.split("::")[0])
    if changed:
        out.reasons.append(f"released changeSet(s) changed or removed: {', '.join(changed)}")
    extra = (f"changeSet(s) without a rollback: {', '.join(missing)}",) if missing else ()
    return out.analysis(not missing, extra, released=bool(changed))


def _sql(out: Findings, text: str | None) -> None:
    if text is None:
        out.add("sql (computed)", True, "sql change without literal SQL")
        return
    sqlmod.add_classified(out, text, "sql", "sql (unreadable)", "sql change")
