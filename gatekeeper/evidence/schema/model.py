"""The records every schema detector returns, and what a detector is given to read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("django", "alembic", "sql", "flyway", "liquibase", "prisma", "openapi")
MAX_BYTES = 4_000_000
"""A larger schema file is not read: it is reported as unparsable (fail closed)."""


@dataclass(frozen=True)
class SchemaChange:
    """One changed file that changes a database or API schema (the shared contract)."""

    path: str
    kind: str
    """django | alembic | sql | flyway | liquibase | prisma | openapi"""
    status: str
    """added | modified | deleted | renamed"""
    operations: tuple[str, ...]
    destructive: bool
    """A destructive migration or a breaking API change (unparsable counts as destructive)."""
    reversible: bool | None
    """Has a working reverse; None where the question does not apply (schemas, undo files)."""
    reasons: tuple[str, ...]
    old_path: str | None = None
    """For a rename: the path on the base."""
    released: bool = False
    """The file exists on the base (a released migration) and is modified, deleted or
    renamed here: released migrations must not change."""
    parsed: bool = True
    """False: the file looks like a migration but could not be read (see ``reasons``)."""
    reverse_reasons: tuple[str, ...] = ()
    """Why ``reversible`` is what it is (also in ``reasons``): the missing reverse, or
    where the reverse is."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "operations": list(self.operations),
            "destructive": self.destructive,
            "reversible": self.reversible,
            "reasons": list(self.reasons),
            "old_path": self.old_path,
            "released": self.released,
            "parsed": self.parsed,
            "reverse_reasons": list(self.reverse_reasons),
        }


@dataclass(frozen=True)
class Analysis:
    """What a detector found in one file."""

    operations: tuple[str, ...] = ()
    destructive: bool = False
    reversible: bool | None = None
    reasons: tuple[str, ...] = ()
    parsed: bool = True
    reverse_reasons: tuple[str, ...] = ()
    released: bool | None = None
    """Set by a detector that knows better than the file status (Liquibase changelogs
    grow by appending changeSets: only a changed released changeSet counts)."""


class Unparsable(Exception):
    """The file is of a schema kind but cannot be read; the message says why."""


def unparsable(reason: str) -> Analysis:
    return Analysis(("unparsable",), True, None, (reason,), parsed=False)


@dataclass
class Source:
    """One changed file as a detector sees it: both sides and a way to read siblings."""

    path: str
    status: str
    head: bytes | None
    base: bytes | None
    old_path: str | None = None
    head_files: frozenset[str] = frozenset()
    read_head: Callable[[str], bytes | None] = field(default=lambda _p: None, repr=False)
    prefetch: Callable[[list[str]], None] = field(default=lambda _p: None, repr=False)
    listing: Callable[[str], list[str]] | None = field(default=None, repr=False)
    """Head files directly in a folder, sorted (default: filtered from ``head_files``)."""
    """Read these head files in one go before ``read_head`` asks for them one by one."""

    def folder(self, name: str) -> list[str]:
        if self.listing is not None:
            return self.listing(name)
        return sorted(p for p in self.head_files if p.rpartition("/")[0] == name)

    @property
    def text(self) -> str:
        return decode(self.head if self.head is not None else self.base or b"")


def decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


@dataclass
class Findings:
    """An accumulator detectors fill while walking a file."""

    operations: list[str] = field(default_factory=list)
    destructive: bool = False
    reasons: list[str] = field(default_factory=list)

    def add(self, op: str, destructive: bool = False, reason: str | None = None) -> None:
        self.operations.append(op)
        if destructive:
            self.destructive = True
        if reason:
            self.reasons.append(reason)

    def merge(self, other: Findings, prefix: str = "") -> None:
        self.operations.extend(prefix + op for op in other.operations)
        self.destructive |= other.destructive
        self.reasons.extend(other.reasons)

    def analysis(
        self, reversible: bool | None, extra: tuple[str, ...] = (), released: bool | None = None
    ) -> Analysis:
        reasons = tuple(dict.fromkeys([*self.reasons, *extra]))
        return Analysis(
            tuple(self.operations),
            self.destructive,
            reversible,
            reasons,
            reverse_reasons=extra,
            released=released,
        )
