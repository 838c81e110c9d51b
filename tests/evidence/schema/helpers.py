"""A tmp git repository with a base and a feature branch, and its schema changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.schema import SchemaChange, schema_changes
from tests.factories import RepoFactory, make_repo

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def branch_repo(
    root: Path, base: dict[str, str | bytes | None], head: dict[str, str | bytes | None]
) -> RepoFactory:
    repo = make_repo(root, {"README.md": "# app\n", **base})
    repo.branch("feature")
    repo.commit(head, "change")
    return repo


def evidence(root: Path, base: str = "main") -> Evidence:
    return Evidence(RunContext(root, datetime.now(UTC), base=base))


def changes(
    root: Path,
    base: dict[str, str | bytes | None],
    head: dict[str, str | bytes | None],
    **kw: object,
) -> dict[str, SchemaChange]:
    branch_repo(root, base, head)
    return {c.path: c for c in schema_changes(evidence(root), **kw)}  # type: ignore[arg-type]
