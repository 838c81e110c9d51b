"""Which changed files are schema changes, of which kind: the one list of detectors.

Detection looks at both sides of every change (a rename out of ``migrations/`` is still a
migration that moved) and at content, not only at names: a Python module defining a Django
``Migration`` class or an Alembic ``revision`` is one wherever it lives and however its
folder is spelled (``Migrations/``). Symlinks that look like schema files are reported as
unreadable (their target is not what the database tool would read). Blobs are read through
one ``git cat-file --batch`` process; files over ``MAX_BYTES`` are not read (unparsable).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.schema import alembic, django, liquibase, openapi, prisma, pyast
from gatekeeper.evidence.schema import sql as sqlmod
from gatekeeper.evidence.schema.model import (
    MAX_BYTES,
    Analysis,
    SchemaChange,
    Source,
    decode,
    unparsable,
)

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.git import GitEvidence

Analyzer = Callable[[Source], Analysis]
ANALYZERS: dict[str, Analyzer] = {
    "django": django.analyze,
    "alembic": alembic.analyze,
    "sql": sqlmod.analyze_sql,
    "flyway": sqlmod.analyze_flyway,
    "liquibase-sql": sqlmod.analyze_liquibase_sql,
    "liquibase": liquibase.analyze,
    "prisma": prisma.analyze,
    "openapi": openapi.analyze,
}
MIGRATION_KINDS = {"django", "alembic", "sql", "flyway", "liquibase"}
_SQL_DIRS = {
    "migrations", "migration", "migrate", "db", "database", "sql", "schema", "schemas",
    "flyway", "liquibase", "changelog", "changelogs", "ddl", "versions",
}  # fmt: skip
_VERSIONED_SQL = re.compile(r"^(?:v?\d|\d)", re.IGNORECASE)
_OPENAPI_KEY = re.compile(rb"""(?:^|[{,])\s*["']?openapi["']?\s*:""", re.MULTILINE)
_TEXT_EXT = (".py", ".sql", ".xml", ".yaml", ".yml", ".json", ".prisma")
_ZERO = "0" * 40
_STATUS = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "added",
           "T": "modified"}  # fmt: skip


@dataclass(frozen=True)
class RawEntry:
    """One line of ``git diff --raw``: modes, blobs, status and both paths."""

    old_mode: str
    new_mode: str
    old_blob: str
    new_blob: str
    status: str
    path: str
    old_path: str | None

    @property
    def symlink(self) -> bool:
        return "120000" in (self.old_mode, self.new_mode)


def parse_raw(raw: bytes) -> list[RawEntry]:
    fields = raw.split(b"\0")
    out: list[RawEntry] = []
    i = 0
    while i < len(fields) and fields[i].startswith(b":"):
        meta = fields[i][1:].decode().split(" ")
        letter = meta[4][:1]
        if letter in ("R", "C"):
            old = fields[i + 1].decode("utf-8", "surrogateescape")
            new = fields[i + 2].decode("utf-8", "surrogateescape")
            i += 3
        else:
            old = new = fields[i + 1].decode("utf-8", "surrogateescape")
            i += 2
        out.append(
            RawEntry(meta[0], meta[1], meta[2], meta[3], _STATUS.get(letter, "modified"), new,
                     old if letter in ("R", "C") else None)
        )  # fmt: skip
    return out


class BlobReader:
    """Blob contents by id through one ``git cat-file --batch`` (sizes checked first)."""

    def __init__(self, git: GitEvidence) -> None:
        self.git = git
        self.cache: dict[str, bytes | None] = {}

    def _run(self, args: list[str], stdin: bytes) -> bytes:
        proc = subprocess.run(
            ["git", *args], cwd=self.git.path, input=stdin, capture_output=True, check=False
        )
        if proc.returncode != 0:
            raise EvidenceError(f"git {' '.join(args)} failed: {proc.stderr.decode()[:200]}")
        return proc.stdout

    def load(self, blobs: Iterable[str]) -> None:
        wanted = sorted({b for b in blobs if b and b != _ZERO and b not in self.cache})
        if not wanted:
            return
        sizes = self._run(["cat-file", "--batch-check"], "\n".join(wanted).encode() + b"\n")
        small = []
        for line in sizes.decode().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "blob" and int(parts[2]) <= MAX_BYTES:
                small.append(parts[0])
            elif parts:
                self.cache[parts[0]] = None  # too large or missing: unparsable
        if not small:
            return
        out = self._run(["cat-file", "--batch"], "\n".join(small).encode() + b"\n")
        pos = 0
        while pos < len(out):
            nl = out.index(b"\n", pos)
            oid, _type, size = out[pos:nl].decode().split()
            start = nl + 1
            self.cache[oid] = out[start : start + int(size)]
            pos = start + int(size) + 1

    def get(self, blob: str) -> bytes | None:
        self.load([blob])
        return self.cache.get(blob)


def _ext(path: str) -> str:
    return PurePosixPath(path.lower()).suffix


def _in_sql_dir(path: str) -> bool:
    return any(part in _SQL_DIRS for part in PurePosixPath(path.lower()).parts[:-1])


def _py_kind(data: bytes | None, path: str) -> str | None:
    if data is not None:
        if django.is_migration(data):
            return "django"
        if alembic.is_revision(data):
            return "alembic"
    if django.looks_like_path(path):
        return "django"
    return None


def _sql_kind(data: bytes | None, path: str) -> str | None:
    if sqlmod.flyway_parts(path):
        return "flyway"
    text = decode(data or b"")
    if sqlmod.is_liquibase_sql(text):
        return "liquibase-sql"
    if _in_sql_dir(path):
        return "sql"
    try:
        return "sql" if sqlmod.has_ddl(sqlmod.classify(text)) else None
    except sqlmod.SqlSyntaxError:
        return None  # SQL outside migration folders that does not even tokenize


def _doc_kind(data: bytes | None, path: str) -> str | None:
    if data is None:
        return None
    if liquibase.sniff(data) and (liquibase.is_changelog(data, path) or _ext(path) == ".xml"):
        return "liquibase"
    if openapi.sniff(data) and _OPENAPI_KEY.search(data[:4096]):
        return "openapi"
    return None


def kind_of(path: str, data: bytes | None) -> str | None:
    """The schema kind of one side of a change (path and content), or None."""
    ext = _ext(path)
    if ext == ".py":
        return _py_kind(data, path)
    if ext == ".sql":
        return _sql_kind(data, path)
    if ext in (".xml", ".yaml", ".yml", ".json"):
        return _doc_kind(data, path)
    if ext == ".prisma":
        return "prisma"
    return None


def _public_kind(kind: str) -> str:
    return "liquibase" if kind == "liquibase-sql" else kind


def _released(kind: str, entry: RawEntry, analysis: Analysis) -> bool:
    if analysis.released is not None:
        return analysis.released
    if entry.status == "added" or _public_kind(kind) not in MIGRATION_KINDS:
        return False
    name = PurePosixPath(entry.old_path or entry.path).name
    if kind == "flyway":
        return (sqlmod.flyway_parts(name) or ("",))[0] == "V"
    if kind == "sql":
        # A versioned file (0001_x.sql, 2024…_x.sql, V1__x.sql) is a released migration;
        # an unversioned one (schema.sql, structure.sql) is a dump that changes by design.
        return _VERSIONED_SQL.match(name) is not None
    return True


class Scanner:
    def __init__(self, ev: Evidence) -> None:
        self.ev = ev
        self.git = ev.git
        self.blobs = BlobReader(self.git)
        self.scanned = 0

    def entries(self) -> list[RawEntry]:
        git = self.git
        rng = [git.merge_base] if git.worktree else [git.merge_base, git.head_sha]
        raw = git.git("diff", "--raw", "-z", "-M", "--no-abbrev", "--no-ext-diff", *rng, "--")
        entries = parse_raw(raw)
        if git.worktree:
            seen = {e.path for e in entries}
            for f in git.changed_files:
                if f.path not in seen and f.status == "added":
                    entries.append(RawEntry("000000", "100644", _ZERO, _ZERO, "added", f.path, None))
        return entries

    def head_of(self, entry: RawEntry) -> bytes | None:
        if entry.status == "deleted":
            return None
        if entry.new_blob == _ZERO:
            return self.git.read(entry.path)
        return self.blobs.get(entry.new_blob)

    def base_of(self, entry: RawEntry) -> bytes | None:
        if entry.status == "added" or entry.old_blob == _ZERO:
            return None
        return self.blobs.get(entry.old_blob)

    def scan(self) -> list[SchemaChange]:
        entries = [e for e in self.entries() if not e.new_mode.startswith("160")]
        candidates = [
            e for e in entries if e.symlink or {_ext(e.path), _ext(e.old_path or "")} & set(_TEXT_EXT)
        ]
        self.scanned = len(candidates)
        self.blobs.load(b for e in candidates for b in (e.old_blob, e.new_blob))
        changes = [c for e in candidates if (c := self.change(e)) is not None]
        return sorted(changes, key=lambda c: c.path)

    def change(self, entry: RawEntry) -> SchemaChange | None:
        head, base = self.head_of(entry), self.base_of(entry)
        if entry.symlink:
            return self.symlink(entry, head, base)
        kind = kind_of(entry.path, head) if entry.status != "deleted" else None
        old_kind = kind_of(entry.old_path or entry.path, base) if base is not None else None
        kind = kind or old_kind
        if kind is None:
            return None
        too_big = [
            side for side, blob, data in (("head", entry.new_blob, head), ("base", entry.old_blob, base))
            if data is None and blob != _ZERO and (side == "head") == (entry.status != "deleted")
            and not (side == "base" and entry.status == "added")
        ]  # fmt: skip
        src = Source(entry.path, entry.status, head, base, entry.old_path,
                     self.git.files, self.read_head, self.prefetch, self.listing)  # fmt: skip
        if too_big:
            analysis = unparsable(f"larger than {MAX_BYTES} bytes (or unreadable); not read")
        else:
            analysis = ANALYZERS[kind](src)
        if (
            kind in ("django", "alembic") and entry.status == "modified" and head and base
            and pyast.same_tree(base, head)
        ):  # fmt: skip
            note = "a released migration reformatted only (same syntax tree): not a change"
            analysis = replace(analysis, released=False, reasons=(*analysis.reasons, note))
        return self.record(kind, entry, analysis, old_kind)

    def record(
        self, kind: str, entry: RawEntry, analysis: Analysis, old_kind: str | None
    ) -> SchemaChange:
        released = _released(kind, entry, analysis) or (
            entry.status == "renamed" and old_kind is not None and _public_kind(old_kind)
            in MIGRATION_KINDS
        )  # fmt: skip
        reasons = list(analysis.reasons)
        if released:
            verb = {"deleted": "deleted", "renamed": "renamed"}.get(entry.status, "modified")
            reasons.insert(0, f"released migration (exists on the base) is {verb}")
        if entry.status == "renamed" and old_kind and kind != old_kind:
            reasons.append(f"was a {_public_kind(old_kind)} file at {entry.old_path}")
        return SchemaChange(
            path=entry.path,
            kind=_public_kind(kind),
            status=entry.status,
            operations=analysis.operations,
            destructive=analysis.destructive,
            reversible=analysis.reversible,
            reasons=tuple(reasons),
            old_path=entry.old_path,
            released=released,
            parsed=analysis.parsed,
            reverse_reasons=analysis.reverse_reasons,
        )

    def symlink(self, entry: RawEntry, head: bytes | None, base: bytes | None) -> SchemaChange | None:
        target = decode(head or base or b"")
        kind = kind_of(entry.path, None) or kind_of(entry.old_path or entry.path, None)
        if kind is None and "migration" in (entry.path + target).lower():
            kind = "sql" if target.lower().endswith(".sql") else "django"
        if kind is None:
            kind = kind_of(target, None)
        if kind is None:
            return None
        analysis = unparsable(
            f"a symlink to {target[:200]!r}: schema files must be regular files to be reviewed"
        )
        return self.record(kind, entry, analysis, None)

    @cached_property
    def head_blobs(self) -> dict[str, str]:
        """Blob id of every file in the head tree (one ``git ls-tree``)."""
        out = self.git.git("ls-tree", "-r", "-z", "--full-tree", self.git.head_sha)
        blobs = {}
        for record in filter(None, out.split(b"\0")):
            meta, _, path = record.partition(b"\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == b"blob":
                blobs[path.decode("utf-8", "surrogateescape")] = parts[2].decode()
        return blobs

    @cached_property
    def folders(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for path in sorted(self.git.files):
            index.setdefault(path.rpartition("/")[0], []).append(path)
        return index

    def listing(self, folder: str) -> list[str]:
        return self.folders.get(folder, [])

    def prefetch(self, paths: list[str]) -> None:
        if not self.git.worktree:
            self.blobs.load(self.head_blobs[p] for p in paths if p in self.head_blobs)

    def read_head(self, path: str) -> bytes | None:
        if self.git.worktree:
            return self.git.read(path)
        blob = self.head_blobs.get(path)
        return self.blobs.get(blob) if blob else None


def scan(ev: Evidence) -> list[SchemaChange]:
    return ev.cached(("schema", "changes"), lambda: Scanner(ev).scan())
