"""Factories for tests: real git repositories, policies and CLI runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import jsonschema
from click.testing import CliRunner, Result

from gatekeeper.cli import cli
from gatekeeper.report import report_schema


@dataclass
class RepoFactory:
    """A real git repository in a tmp dir, with one-call commits."""

    repo: git.Repo

    @property
    def path(self) -> Path:
        return Path(self.repo.working_tree_dir or ".")

    def write(self, files: dict[str, str | bytes | None]) -> None:
        for name, content in files.items():
            target = self.path / name
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    def commit(self, files: dict[str, str | bytes | None], message: str = "change") -> str:
        """Write (or delete, with None) files, stage everything and commit; returns the SHA."""
        self.write(files)
        self.repo.git.add("-A")
        self.repo.git.commit("-q", "--allow-empty", "-m", message)
        return self.repo.head.commit.hexsha

    def branch(self, name: str) -> None:
        self.repo.git.checkout("-q", "-b", name)

    def checkout(self, name: str) -> None:
        self.repo.git.checkout("-q", name)

    def tag(self, name: str) -> None:
        self.repo.create_tag(name)


def make_repo(root: Path, files: dict[str, str | bytes | None] | None = None) -> RepoFactory:
    """A repository on branch main with one commit of ``files`` (default: a README)."""
    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test Author")
        cfg.set_value("user", "email", "author@example.com")
        cfg.set_value("commit", "gpgsign", "false")
    factory = RepoFactory(repo)
    factory.commit(files or {"README.md": "# project\n"}, "initial")
    return factory


def write_policy(path: Path, rules: list[dict[str, Any]] | str, name: str = "Test policy") -> Path:
    """Write a policy file from rule dicts (as JSON, which is YAML) or from raw YAML text."""
    text = (
        rules
        if isinstance(rules, str)
        else json.dumps({"version": 1, "name": name, "rules": rules}, indent=2)
    )
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """Run the CLI in-process with a clean GitHub environment."""
    base_env: dict[str, str | None] = {
        k: None
        for k in (
            "GITHUB_BASE_REF",
            "GITHUB_REF_NAME",
            "GITHUB_REF_TYPE",
            "GITHUB_TOKEN",
            "GH_TOKEN",
        )
    }
    return CliRunner().invoke(
        cli, list(args), env={**base_env, **(env or {})}, catch_exceptions=False
    )


def assert_valid_report(data: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(
        report_schema(), format_checker=jsonschema.FormatChecker()
    ).validate(data)
