"""`gatekeeper check` loads what its policy needs and no more (issue 14, lean start).

Asserted by which modules end up imported and which processes start, never by time:
a one-rule policy imports that rule's check alone (not all of them), the GitHub client's
`requests` only when a rule or publishing talks to GitHub, and GitPython not at all on
the hot path (importing it runs `git version` twice before any real work).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import make_repo, write_policy

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
spawned = []
def hook(event, args):
    if event == "subprocess.Popen":
        spawned.append([str(a) for a in args[1]])
sys.addaudithook(hook)
sys.argv = ["gatekeeper", *sys.argv[2:]]
try:
    from gatekeeper.cli import main
    main()
except SystemExit as e:
    code = e.code
with open(OUT, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules), "spawned": spawned}, f)
"""


def _run(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "probe.json"
    code = PROBE.replace("OUT", repr(str(out)))
    subprocess.run(
        [sys.executable, "-c", code, "-", *args], cwd=ROOT, timeout=60, check=False,
        capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(out.read_text())


def test_a_one_rule_check_imports_that_check_only_and_no_gitpython(tmp_path) -> None:
    repo = make_repo(tmp_path / "repo")
    repo.branch("feature")
    repo.commit({"CHANGELOG.md": "## [Unreleased]\n- x\n"})
    policy = write_policy(tmp_path / "p.yml", [{"id": "log", "check": "changelog"}])
    got = _run(tmp_path, "check", "-p", str(policy), "--repo", str(repo.path), "--base", "main")
    assert got["code"] == 0
    checks = {m for m in got["modules"] if m.startswith("gatekeeper.checks.")}
    assert checks == {"gatekeeper.checks.changelog"}
    assert "git" not in got["modules"]  # GitPython
    assert "requests" not in got["modules"]
    assert not [argv for argv in got["spawned"] if argv[1:2] == ["version"]]
    assert all(Path(argv[0]).name.startswith("git") for argv in got["spawned"])
