"""Schema changes of the diff: database migrations and API schemas, classified.

The shared contract (read by ``schema-change``, ``rollback-plan`` and ``version-bump``):
``SchemaChange`` and ``schema_changes(ev, kinds=None, exclude=())``. Fields may be added;
none is removed or renamed. One module per kind (``django``, ``alembic``, ``sql`` for raw
SQL, Flyway and Liquibase formatted SQL, ``liquibase``, ``prisma``, ``openapi``); the
``registry`` decides which changed file is which kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gatekeeper.evidence.schema.model import KINDS, SchemaChange
from gatekeeper.globs import match_any

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

__all__ = ["KINDS", "SELECTION_OPTIONS", "SchemaChange", "schema_changes"]

SELECTION_OPTIONS: dict[str, Any] = {
    "kinds": {
        "type": "array",
        "items": {"enum": list(KINDS)},
        "uniqueItems": True,
        "description": "Schema kinds to consider (default: all).",
    },
    "exclude": {
        "oneOf": [
            {"type": "array", "items": {"type": "string", "minLength": 1}},
            {
                "type": "object",
                "propertyNames": {"enum": [*KINDS, "*"]},
                "additionalProperties": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                },
            },
        ],
        "default": [],
        "description": "Globs of paths that are not schema changes (e.g. test apps); "
        "or per kind: {django: [globs], '*': [globs]}.",
    },
    "paths": {
        "type": "object",
        "propertyNames": {"enum": list(KINDS)},
        "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "description": "Extra globs per kind: matching files are that kind even where "
        "detection would not say so (e.g. {sql: ['changes/**']}).",
    },
}
"""The options that choose which schema changes a rule looks at (``kinds``, ``exclude``,
``paths``), shared by every rule that reads this evidence."""


def schema_changes(
    ev: Evidence,
    kinds: Iterable[str] | None = None,
    exclude: Iterable[str] | Mapping[str, Iterable[str]] = (),
    paths: Mapping[str, Iterable[str]] | None = None,
) -> list[SchemaChange]:
    """The schema changes of merge-base..head (cached per run), sorted by path.

    ``kinds`` keeps only those kinds. ``exclude`` drops a change whose path matches one of
    the globs (a mapping gives globs per kind, ``"*"`` for all), and for a rename only when
    its old path matches too (moving a migration into an excluded folder must not hide it).
    ``paths`` adds globs per kind: matching files are that kind even where detection by
    name and content would not say so.
    """
    from gatekeeper.evidence.schema.registry import scan

    wanted = set(kinds) if kinds is not None else None
    extra = {k: tuple(v) for k, v in (paths or {}).items()}
    out = []
    for change in scan(ev, extra):
        if wanted is not None and change.kind not in wanted:
            continue
        patterns = _patterns(exclude, change.kind)
        sides = [change.path] + ([change.old_path] if change.old_path else [])
        if patterns and all(match_any(p, patterns) for p in sides):
            continue
        out.append(change)
    return out


def _patterns(exclude: Iterable[str] | Mapping[str, Iterable[str]], kind: str) -> tuple[str, ...]:
    if isinstance(exclude, Mapping):
        return (*exclude.get(kind, ()), *exclude.get("*", ()))
    return tuple(exclude)
