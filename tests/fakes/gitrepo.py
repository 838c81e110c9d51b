"""A tiny git-repository builder for GitHub tests (real git, in a tmp dir)."""

from __future__ import annotations

from pathlib import Path

import git


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.repo = git.Repo.init(path, initial_branch="main")
        with self.repo.config_writer() as cw:
            cw.set_value("user", "name", "Test")
            cw.set_value("user", "email", "test@example.com")
            cw.set_value("commit", "gpgsign", "false")

    def commit(self, files: dict[str, str | None], message: str = "Change") -> str:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                self.repo.index.remove([name], working_tree=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            self.repo.index.add([name])
        when = "2026-01-01T00:00:00"
        return self.repo.index.commit(message, author_date=when, commit_date=when).hexsha

    def branch(self, name: str) -> None:
        self.repo.git.checkout("-b", name)

    def checkout(self, name: str) -> None:
        self.repo.git.checkout(name)
