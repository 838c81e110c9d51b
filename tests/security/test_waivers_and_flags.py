"""Attacks on waivers and feature-flag references from the change under review."""

from __future__ import annotations

import pytest

from gatekeeper.evidence.flags import SDK_PATTERNS, references_in
from tests.factories import RepoFactory, run_cli
from tests.test_waivers import INSIDE, POLICY, WAIVER, check, gate_repo


def test_a_pull_request_cannot_waive_its_own_failure(repo: RepoFactory) -> None:
    """The attacker adds a waiver to the waivers file, and one inline in the policy, in the
    PR itself: in a PR run both files come from the base commit, so the release blocks."""
    gate_repo(repo, "version: 1\nwaivers: []\n")
    repo.commit(
        {
            "src/auth/login.py": "x = 2\n",
            "waivers.yml": "version: 1\n" + WAIVER,
            "gatekeeper.yml": POLICY + WAIVER,
        },
        "Sneak in a waiver",
    )
    code, data = check(repo, repo.path / "gatekeeper.yml", INSIDE, "--pr", "7")
    assert code == 1 and data["rules"][0]["status"] == "fail"
    assert data["rules"][0]["waiver"] is None


def test_a_waivers_file_behind_a_symlink_is_refused(repo: RepoFactory) -> None:
    """The change turns waivers.yml into a link to a base file that holds a waiver."""
    gate_repo(repo, "version: 1\nwaivers: []\n")
    repo.commit({"docs/example-waivers.yml": "version: 1\n" + WAIVER})
    repo.repo.git.checkout("-q", "main")
    repo.repo.git.merge("-q", "fix")
    repo.repo.git.checkout("-q", "-b", "attack")
    (repo.path / "waivers.yml").unlink()
    (repo.path / "waivers.yml").symlink_to("docs/example-waivers.yml")
    repo.commit({"src/auth/login.py": "x = 2\n"})
    result = run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                     str(repo.path), "--base", "main", "--now", INSIDE, "--pr", "7")  # fmt: skip
    assert result.exit_code == 2 and "symbolic link" in result.output


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # A '#' or '//' inside a string does not start a comment that would hide the call.
        ("src/a.py", 's = "#"; ok = is_enabled("ghost")\n'),
        ("src/a.py", "s = '''\\n# not a comment'''; ok = is_enabled('ghost')\n"),
        ("src/a.ts", 'const u = "http://x"; if (isEnabled("ghost")) {}\n'),
        ("src/a.ts", 'const c = "/* no comment"; variation("ghost", u, false); // */\n'),
        ("src/a.ts", "const t = `//`; getBooleanValue('ghost', false);\n"),
        # An escaped quote does not end the string early or late.
        ("src/a.py", 's = "\\"#"; is_enabled("ghost")\n'),
    ],
)
def test_a_real_call_cannot_be_hidden_behind_comment_markers_in_strings(
    path: str, text: str
) -> None:
    assert [r.key for r in references_in(text, path, [1], SDK_PATTERNS)] == ["ghost"]
