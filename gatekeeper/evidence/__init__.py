"""Evidence: the facts rules are judged on, gathered lazily and at most once per run.

Each source has its own module here (git, coverage, junit, github, ci env). They are the
only code that touches git, files or HTTP; checks ask through an ``Evidence`` object.
A provider that cannot produce its facts raises ``EvidenceError``; the engine turns that
into an ``error`` result, which blocks the release.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gatekeeper.errors import EvidenceError

if TYPE_CHECKING:
    from gatekeeper.evidence.git import GitEvidence

T = TypeVar("T")


@dataclass
class RunContext:
    """What the run was asked to judge: which repository, range, environment and time."""

    repo_path: Path
    now: datetime
    base: str | None = None
    head: str = "HEAD"
    env: str | None = None
    worktree: bool = False
    branch: str | None = None
    """The target branch for ``when.branches``; derived from the base when not given."""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    options: dict[str, Any] = field(default_factory=dict)
    """Extra run options for providers (e.g. ``pr``, ``repository`` for GitHub)."""


class Memo:
    """Once-per-run results by key; a failure is remembered too, so that two rules
    needing the same broken evidence do not ask twice (and see the same error)."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._failures: dict[Hashable, EvidenceError] = {}

    def get(self, key: Hashable, factory: Callable[[], T]) -> T:
        if key in self._failures:
            raise self._failures[key]
        if key not in self._values:
            try:
                self._values[key] = factory()
            except EvidenceError as e:
                self._failures[key] = e
                raise
        return self._values[key]

    def peek(self, key: Hashable) -> Any | None:
        """The value computed for ``key``, or ``None`` (never computes)."""
        return self._values.get(key)

    def items(self) -> list[tuple[Hashable, Any]]:
        """Every value computed so far (decision records digest them)."""
        return list(self._values.items())


class Evidence:
    """The facts of one run; every provider result is cached for the run's lifetime."""

    def __init__(self, ctx: RunContext, git: GitEvidence | None = None) -> None:
        self.ctx = ctx
        self._git = git
        self._memo = Memo()

    @property
    def now(self) -> datetime:
        return self.ctx.now

    @property
    def env(self) -> str | None:
        return self.ctx.env

    @property
    def environ(self) -> Mapping[str, str]:
        return self.ctx.environ

    @property
    def repo_path(self) -> Path:
        return self.git.path if self._git is not None else self.ctx.repo_path

    @property
    def git(self) -> GitEvidence:
        if self._git is None:
            if not self.ctx.base:
                raise EvidenceError("no base ref to diff against; pass --base REF")
            from gatekeeper.evidence.git import GitEvidence

            self._git = GitEvidence(
                self.ctx.repo_path, self.ctx.base, self.ctx.head, self.ctx.worktree
            )
        return self._git

    def peek(self, key: Hashable) -> Any | None:
        """A provider's cached result if this run computed it, else ``None``."""
        return self._memo.peek(key)

    def cached(self, key: Hashable, factory: Callable[[], T]) -> T:
        """Compute ``factory()`` once per run for ``key`` (failures included)."""
        return self._memo.get(key, factory)

    def resolve_path(self, name: str) -> Path:
        """A path from the policy, relative to the repository root unless absolute."""
        path = Path(name)
        return path if path.is_absolute() else self.repo_path / path
