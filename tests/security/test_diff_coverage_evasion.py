"""Threat: a change switches off its own diff coverage.

Git skips files it calls binary, and what it calls binary is up to the change: a
``.gitattributes`` line (``*.py -diff``, ``*.py binary``, a ``diff=`` driver configured as
binary) or a single NUL byte in a source file. A skipped file has no changed lines to
measure and is never "missing from the report", so an untested change approved. The
diff is taken with ``--text --no-ext-diff --no-textconv`` (attributes from the base
where git supports ``GIT_ATTR_SOURCE``), and a changed source file that git still
calls binary is judged like any other. Issue 8, item 4.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.evidence.git import GitEvidence
from tests.evidence.test_coverage import _cobertura
from tests.factories import RepoFactory, make_repo, run_cli, write_policy

CORE = "a = 1\nb = 2\n"


def attacked(tmp_path: Path, files: dict[str, str | bytes | None], config: dict[str, str] | None = None):
    """app/core.py gains an untested line 3 and app/new.py is new and untested."""
    repo = make_repo(tmp_path / "repo", {"app/core.py": CORE})
    for key, value in (config or {}).items():
        repo.repo.git.config(key, value)
    repo.branch("feature")
    change: dict[str, str | bytes | None] = {
        "app/core.py": CORE + "c = 3\n", "app/new.py": "def untested():\n    pass\n"}
    repo.commit({**change, **files})
    (repo.path / "coverage.xml").write_text(_cobertura({"app/core.py": {1: 1, 2: 1, 3: 0}}))
    return repo


def gate(tmp_path: Path, repo: RepoFactory) -> tuple[int, dict]:
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "smoke", "check": "smoke-coverage",
        "with": {"coverage": "coverage.xml", "min_diff": 80},
    }])
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main",
                     "--format", "json")
    return result.exit_code, json.loads(result.stdout)["rules"][0]


@pytest.mark.parametrize(
    "files, config",
    [
        ({".gitattributes": "*.py -diff\n"}, None),
        ({".gitattributes": "*.py binary\n"}, None),
        ({".gitattributes": "* -text -diff\n"}, None),
        ({".gitattributes": "*.py diff=opaque\n"}, {"diff.opaque.binary": "true"}),
        ({".gitattributes": "*.py diff=conv\n"}, {"diff.conv.textconv": "true"}),
    ],
    ids=["minus-diff", "binary-macro", "all-files", "binary-driver", "textconv"],
)
def test_gitattributes_in_the_change_do_not_hide_changed_lines(tmp_path, files, config) -> None:
    code, rule = gate(tmp_path, attacked(tmp_path, files, config))
    assert code == 1
    assert rule["status"] == "fail"
    assert rule["details"]["diff_lines"] == 1 and rule["details"]["diff_covered"] == 0
    assert rule["details"]["files_missing_from_report"] == ["app/new.py"]


def test_a_nul_byte_does_not_hide_a_source_file(tmp_path) -> None:
    repo = attacked(tmp_path, {
        "app/core.py": CORE.encode() + b"c = 3  # \x00\n",
        "app/new.py": b"\x00def untested():\n    pass\n",
    })
    files = {f.path: f for f in GitEvidence(repo.path, "main").changed_files}
    assert files["app/new.py"].binary and files["app/core.py"].binary
    code, rule = gate(tmp_path, repo)
    assert code == 1
    assert rule["details"]["diff_lines"] == 1 and rule["details"]["diff_covered"] == 0
    assert rule["details"]["files_missing_from_report"] == ["app/new.py"]


def test_an_untracked_binary_source_file_counts_as_missing_in_worktree_mode(tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/core.py": CORE})
    (repo.path / "coverage.xml").write_text(_cobertura({"app/core.py": {1: 1, 2: 1}}))
    (repo.path / "app" / "new.py").write_bytes(b"\x00x = 1\n")
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "smoke", "check": "smoke-coverage", "with": {"coverage": "coverage.xml"},
    }])
    repo.write({".gitignore": "coverage.xml\n"})
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "HEAD",
                     "--worktree", "--format", "json")
    rule = json.loads(result.stdout)["rules"][0]
    assert result.exit_code == 1
    assert rule["details"]["files_missing_from_report"] == ["app/new.py"]


def test_binary_assets_are_not_source_files(tmp_path) -> None:
    repo = attacked(tmp_path, {"app/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00data",
                               "app/font.woff2": b"wOF2\x00\x01"})
    _, rule = gate(tmp_path, repo)
    assert rule["details"]["files_missing_from_report"] == ["app/new.py"]
