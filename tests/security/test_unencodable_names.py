"""Threat: a file name that is not UTF-8 silences the gate's voice.

Git paths are bytes. A change that adds ``caf\\xe9.py`` (Latin-1) made writing the job
summary raise ``UnicodeEncodeError``: no summary, no comment, no status, a traceback.
Every output (text, JSON and Markdown reports on stdout and in files, the job summary,
step outputs, annotations, the PR comment, the commit status) shows such bytes as
``\\xNN`` and is written. Issue 8, item 13.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.evidence.test_coverage import _cobertura
from tests.factories import make_repo
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
NAME = b"app/caf\xe9.py"


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes")
@pytest.mark.parametrize("fmt", ["text", "json"])  # Markdown: the file and the comment
def test_a_non_utf8_file_name_is_published_everywhere(github: FakeGitHub, tmp_path, fmt) -> None:
    repo = make_repo(tmp_path / "repo", {"app/core.py": "a = 1\n"})
    base = repo.repo.head.commit.hexsha
    repo.branch("feature")
    os.makedirs(repo.path / "app", exist_ok=True)
    with open(os.path.join(os.fsencode(repo.path), NAME), "wb") as f:
        f.write(b"x = 1\n")
    head = repo.commit({"app/core.py": "a = 1\nb = 2\n"}, "Add caf\xe9")
    (repo.path / "coverage.xml").write_text(_cobertura({"app/core.py": {1: 1, 2: 1}}))
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nname: release\nrules:\n  - id: smoke\n    check: "
                      "smoke-coverage\n    with: {coverage: coverage.xml}\n")
    github.add_pr(1, author="alice", head_sha=head, base_sha=base, title="caf\xe9")
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    out = {f: tmp_path / f"report.{f}" for f in ("text", "json", "markdown")}
    env = {**os.environ, **github.environ(), "PYTHONPATH": str(ROOT), "GITHUB_ACTIONS": "true",
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs),
           "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "check", "-p", str(policy), "--repo",
         str(repo.path), "--base", "main", "--policy-source", "worktree", "--format", fmt, "--comment", "--status", "--pr",
         "1", *(f"--output={f}={p}" for f, p in out.items())],
        capture_output=True, timeout=60, cwd=ROOT, env=env,
    )
    stdout, stderr = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 1, stdout + stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    for path in (summary, out["text"], out["markdown"]):
        assert "caf\\xe9.py" in path.read_text(encoding="utf-8"), path
    shown = json.dumps(json.loads(stdout)) if fmt == "json" else stdout
    assert "caf\\xe9.py" in shown.replace("\\\\", "\\")
    report = json.loads(out["json"].read_text(encoding="utf-8"))
    assert report["rules"][0]["details"]["files_missing_from_report"] == ["app/caf\\xe9.py"]
    assert outputs.read_text().startswith("decision=block")
    assert "::error file=app/caf\\xe9.py" in stderr
    [comment] = github.comments[1]
    assert "caf\\\\xe9.py" in comment["body"]  # Markdown-escaped backslash
    [status] = github.statuses[head]
    assert status["state"] == "failure"
