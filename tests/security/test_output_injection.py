"""Threat: text from the change is read as a command, or as Gatekeeper's own voice.

The text report is the action's standard output, and the Actions runner treats any log
line that starts with ``::`` as a workflow command: a file name containing
``\\n::stop-commands::x`` switches off command processing, ``\\n::add-mask::`` hides
text, ``\\n::error ...`` forges an annotation. An ESC byte restyles or erases a terminal
line. Every string the change controls (file and branch names, summaries and remedies
that quote them, notes) is flattened to one line with its control characters shown as
escapes; our own lines are the only ones that can start a line. Issue 8, item 9.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gatekeeper.model import Annotation, RuleResult, Severity, Status
from gatekeeper.report import Report, text
from tests.evidence.test_coverage import _cobertura
from tests.factories import make_repo, write_policy

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "app/x.py\n::stop-commands::pwned\n::error title=forged::approved\r\x1b[2Kz.py"
OUR_LINE_STARTS = ("Gatekeeper: ", "Decision: ", "Range: ", "Note: ", "  ")


def test_a_hostile_file_name_cannot_start_a_log_line(tmp_path) -> None:
    repo = make_repo(tmp_path / "repo", {"app/core.py": "a = 1\n"})
    repo.branch("feature")
    repo.commit({"app/core.py": "a = 1\nb = 2\n", HOSTILE: "x = 1\n"})
    (repo.path / "coverage.xml").write_text(_cobertura({"app/core.py": {1: 1, 2: 1}}))
    policy = write_policy(tmp_path / "policy.yml", [
        {"id": "smoke", "check": "smoke-coverage", "with": {"coverage": "coverage.xml"}}])
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "check", "-p", str(policy), "--repo",
         str(repo.path), "--base", "main", "--policy-source", "worktree"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "GITHUB_ACTIONS": "true",
             "GITHUB_STEP_SUMMARY": "", "GITHUB_OUTPUT": ""},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "::stop-commands::" in done.stdout  # it is shown...
    for line in done.stdout.splitlines():  # ...but never at the start of a line
        assert not line.lstrip().startswith("::"), line
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    assert "app/x.py\\n::stop-commands::pwned\\n::error title=forged::approved\\r\\x1b[2Kz.py" in (
        done.stdout)
    # The annotation on stderr is our one command, its data escaped as the runner expects.
    [command] = [ln for ln in done.stderr.splitlines() if ln.startswith("::error")]
    assert command.startswith("::error file=app/x.py%0A%3A%3Astop-commands%3A%3Apwned")


def _report(s: str) -> Report:
    return Report(
        policy_name=s, policy_path=s, policy_sha256="a" * 64, repo_path="/r", head="b" * 40,
        merge_base="c" * 40, branch=s, env=s, notes=[s],
        results=[RuleResult("r", "c", Severity.BLOCK, Status.FAIL, s, {"x": s}, s,
                            [Annotation(s, 1, None, s)])],
    )


@settings(deadline=None)  # first calls import lazily; time is not what is tested
@given(st.text())
@example(HOSTILE)
def test_every_line_of_the_text_report_is_gatekeeper_s_own(s: str) -> None:
    for width in (None, 60):
        out = text.render(_report(s), width=width)
        for line in out.split("\n"):
            assert line == "" or line.startswith(OUR_LINE_STARTS) or line[0].isdigit(), line
        assert not set(out) & {"\r", "\x1b", "\x00", "\x85", "\u2028", "\u2029", "\u202e"}
        out.encode("utf-8")  # never an unencodable character either (issue 8, item 13)


@settings(deadline=None)
@given(st.text())
@example(HOSTILE)
@example("caf\udce9.py\n  ::error::x\u2028::warning::y")
def test_every_report_format_stays_valid_for_any_text(s: str) -> None:
    """Each renderer (and any format added later: they all go through ``render``) writes
    any text as UTF-8; JSON-based formats stay parseable."""
    from gatekeeper.report import RENDERERS, render

    for fmt in RENDERERS:
        out = render(_report(s), fmt)
        out.encode("utf-8")
        # Any format may be printed to a CI log (--format): no line may be a command.
        lines = re.split(r"\r\n|\r|\n", out)  # the line ends a runner reads logs by
        assert not [ln for ln in lines if ln.lstrip().startswith("::")], fmt
        if fmt in ("json", "sarif"):
            json.loads(out)
    data = json.loads(render(_report(s), "json"))
    data["rules"][0]["summary"].encode("utf-8")
