"""Schema changes of the diff: database migrations and API schemas, classified.

The shared contract (read by ``schema-change``, ``rollback-plan`` and ``version-bump``):
``SchemaChange`` and ``schema_changes(ev, kinds=None, exclude=())``. Fields may be added;
none is removed or renamed. One module per kind (``django``, ``alembic``, ``sql`` for raw
SQL, Flyway and Liquibase formatted SQL, ``liquibase``, ``prisma``, ``openapi``); the
``registry`` decides which changed file is which kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from gatekeeper.evidence.schema.model import KINDS, SchemaChange
from gatekeeper.globs import match_any

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

__all__ = ["KINDS", "SchemaChange", "schema_changes"]


def schema_changes(
    ev: Evidence, kinds: Iterable[str] | None = None, exclude: Iterable[str] = ()
) -> list[SchemaChange]:
    """The schema changes of merge-base..head (cached per run), sorted by path.

    ``kinds`` keeps only those kinds; ``exclude`` drops a change whose path matches one of
    the globs, and for a rename only when its old path matches too (moving a migration
    into an excluded folder must not hide it).
    """
    from gatekeeper.evidence.schema.registry import scan

    wanted = set(kinds) if kinds is not None else None
    patterns = tuple(exclude)
    out = []
    for change in scan(ev):
        if wanted is not None and change.kind not in wanted:
            continue
        paths = [change.path] + ([change.old_path] if change.old_path else [])
        if patterns and all(match_any(p, patterns) for p in paths):
            continue
        out.append(change)
    return out
