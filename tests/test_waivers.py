"""Waivers end to end: applied, expired, scoped, validated, and `gatekeeper waive`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.policy import load_policy
from gatekeeper.policy.waive import append_waiver
from tests.factories import RepoFactory, assert_valid_report, run_cli

INSIDE = "2026-12-23T10:00:00+00:00"  # inside the freeze, while the waiver is valid
LATER = "2026-12-24T10:00:00+00:00"  # inside the freeze, after the waiver expired

POLICY = """\
# Production gate
version: 1
name: Prod
rules:
  - id: freeze
    check: release-window
    with:
      freeze: [{start: "2026-12-21", end: "2027-01-04", reason: Year-end freeze}]
"""

WAIVER = """\
waivers:
  - rule: freeze
    reason: CVE-2026-1234 security fix
    approved_by: alice
    created: 2026-12-22
    expires: 2026-12-24
"""


def check(repo: RepoFactory, policy: Path, now: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "check", "--policy", str(policy), "--repo", str(repo.path), "--base", "main",
        "--now", now, "--format", "json", *extra,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    assert_valid_report(data)
    return result.exit_code, data


@pytest.fixture
def app(repo: RepoFactory) -> RepoFactory:
    repo.commit({"src/auth/login.py": "x = 1\n", "src/app.py": "y = 1\n"})
    repo.branch("fix")
    repo.commit({"src/auth/login.py": "x = 2\n"}, "Fix the CVE")
    return repo


def test_a_valid_waiver_approves_and_marks_the_rule_waived(
    app: RepoFactory, tmp_path: Path
) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY + WAIVER)
    code, data = check(app, policy, INSIDE)
    assert code == 0 and data["decision"] == "approve"
    rule = data["rules"][0]
    assert rule["status"] == "waived" and rule["blocks"] is False
    assert rule["waiver"]["approved_by"] == "alice" and rule["waiver"]["state"] == "applied"
    assert data["counts"]["waived"] == 1 and data["counts"]["fail"] == 0
    text = run_cli("check", "--policy", str(policy), "--repo", str(app.path), "--base", "main",
                   "--now", INSIDE).output  # fmt: skip
    assert "~WAIVED" in text and "CVE-2026-1234 security fix (approved by alice" in text


def test_an_expired_waiver_blocks_and_says_so(app: RepoFactory, tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY + WAIVER)
    code, data = check(app, policy, LATER)
    assert code == 1 and data["decision"] == "block"
    rule = data["rules"][0]
    assert rule["status"] == "fail"
    assert "waiver by alice expired 2026-12-24T00:00+00:00, not applied" in rule["summary"]
    assert rule["waiver"]["state"] == "expired"


def test_errors_are_never_waived(app: RepoFactory, tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(
        POLICY
        + "  - id: cov\n    check: smoke-coverage\n    with: {coverage: [missing.xml]}\n"
        + WAIVER.replace("rule: freeze", "rule: cov")
    )
    code, data = check(app, policy, INSIDE)
    assert code == 1 and data["rules"][1]["status"] == "error"


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ('{paths: ["src/auth/**"]}', "waived"),
        ('{paths: ["db/**"]}', "fail"),
        ('{head: "0000000"}', "fail"),
    ],
)
def test_scope(app: RepoFactory, tmp_path: Path, scope: str, status: str) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY + WAIVER + f"    scope: {scope}\n")
    _, data = check(app, policy, INSIDE)
    assert data["rules"][0]["status"] == status
    if status == "fail":
        assert "not applied" in data["rules"][0]["summary"]
        assert data["rules"][0]["waiver"]["state"] == "out-of-scope"


def test_a_path_scope_needs_every_changed_path_inside(app: RepoFactory, tmp_path: Path) -> None:
    app.commit({"src/app.py": "y = 2\n"}, "and something else")
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY + WAIVER + '    scope: {paths: ["src/auth/**"]}\n')
    code, data = check(app, policy, INSIDE)
    assert code == 1
    assert "src/app.py is outside its scope (src/auth/**)" in data["rules"][0]["summary"]


def test_head_scope_matches_a_prefix(app: RepoFactory, tmp_path: Path) -> None:
    head = app.repo.head.commit.hexsha
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY + WAIVER + f'    scope: {{head: "{head[:10]}"}}\n')
    assert check(app, policy, INSIDE)[0] == 0


def test_a_waiver_beyond_max_days_from_the_evaluation_time_is_a_policy_error(
    app: RepoFactory, tmp_path: Path
) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY + WAIVER.replace("    created: 2026-12-22\n", ""))
    result = run_cli("check", "--policy", str(policy), "--repo", str(app.path), "--base", "main",
                     "--now", "2026-08-01T00:00:00+00:00")  # fmt: skip
    assert result.exit_code == 2
    assert "more than max_waiver_days (90) after now" in result.output


def test_release_window_remedy_names_the_waive_command(app: RepoFactory, tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY)
    _, data = check(app, policy, INSIDE)
    assert (
        "`gatekeeper waive freeze --reason WHY --approved-by WHO --days N`"
        in (data["rules"][0]["remedy"])
    )


# --- waivers file and the trusted path ---------------------------------------------------


def gate_repo(repo: RepoFactory, waivers: str) -> RepoFactory:
    repo.commit({"gatekeeper.yml": POLICY + "waivers: waivers.yml\n", "waivers.yml": waivers,
                 "src/auth/login.py": "x = 1\n"})  # fmt: skip
    repo.branch("fix")
    return repo


def test_a_waivers_file_named_by_the_policy_is_applied(repo: RepoFactory) -> None:
    gate_repo(repo, "version: 1\n" + WAIVER)
    repo.commit({"src/auth/login.py": "x = 2\n"})
    code, data = check(repo, repo.path / "gatekeeper.yml", INSIDE, "--pr", "7")
    assert code == 0 and data["rules"][0]["status"] == "waived"
    assert data["rules"][0]["waiver"]["source"].endswith(":waivers.yml:3")


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


def test_a_waivers_file_missing_on_the_base_is_a_usage_error(repo: RepoFactory) -> None:
    repo.commit({"gatekeeper.yml": POLICY + "waivers: waivers.yml\n"})
    repo.branch("fix")
    repo.commit({"waivers.yml": "version: 1\n" + WAIVER})
    result = run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                     str(repo.path), "--base", "main", "--now", INSIDE, "--pr", "7")  # fmt: skip
    assert result.exit_code == 2
    assert "waivers.yml does not exist on the base commit" in result.output


def test_a_waivers_file_outside_the_policy_folder_is_refused(repo: RepoFactory) -> None:
    repo.commit({"gatekeeper.yml": POLICY + "waivers: ../waivers.yml\n"})
    result = run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                     str(repo.path), "--base", "main", "--now", INSIDE)  # fmt: skip
    assert result.exit_code == 2 and "without '..'" in result.output


def test_an_invalid_waivers_file_points_at_the_node(repo: RepoFactory) -> None:
    gate_repo(repo, "version: 1\nwaivers:\n  - rule: freeze\n    approved_by: bob\n")
    result = run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                     str(repo.path), "--base", "main", "--now", INSIDE)  # fmt: skip
    assert result.exit_code == 2
    assert "waivers.yml:3:5: waivers[0]: 'reason' is a required property" in result.output


# --- gatekeeper waive -------------------------------------------------------------------------


def test_waive_appends_to_the_policy_keeping_comments(repo: RepoFactory, tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY)
    result = run_cli("waive", "freeze", "--policy", str(policy), "--reason", 'hotfix "login"',
                     "--approved-by", "alice", "--days", "3", "--path", "src/auth/**",
                     "--now", INSIDE)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "expires 2026-12-26T10:00:00Z" in result.output
    text = policy.read_text()
    assert text.startswith(POLICY) and "# Production gate" in text
    waiver = load_policy(policy).waivers[0]
    assert waiver.reason == 'hotfix "login"' and waiver.paths == ("src/auth/**",)
    app_repo = repo
    app_repo.commit({"src/auth/a.py": "1\n"})
    app_repo.branch("fix")
    app_repo.commit({"src/auth/a.py": "2\n"})
    assert check(app_repo, policy, INSIDE)[0] == 0


def test_waive_appends_to_the_named_file_and_refuses_bad_waivers(tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(POLICY.replace("version: 1\n", "version: 1\nmax_waiver_days: 7\n"
                                     "waiver_approvers: [alice]\nwaivers: w.yml\n"))  # fmt: skip
    (tmp_path / "w.yml").write_text("# reviewed by release managers\nversion: 1\nwaivers: []\n")
    base = ["waive", "freeze", "--policy", str(policy), "--reason", "r", "--now", INSIDE]
    assert run_cli(*base, "--approved-by", "alice", "--days", "2").exit_code == 0
    assert run_cli(*base, "--approved-by", "alice", "--days", "3").exit_code == 0
    too_long = run_cli(*base, "--approved-by", "alice", "--days", "30")
    assert too_long.exit_code == 2 and "max_waiver_days (7)" in too_long.output
    wrong = run_cli(*base, "--approved-by", "mallory", "--days", "1")
    assert wrong.exit_code == 2 and "'mallory' may not approve waivers" in wrong.output
    unknown = run_cli("waive", "nope", "--policy", str(policy), "--reason", "r",
                      "--approved-by", "alice", "--days", "1")  # fmt: skip
    assert unknown.exit_code == 2 and "has no rule 'nope'" in unknown.output
    text = (tmp_path / "w.yml").read_text()
    assert text.startswith("# reviewed by release managers\n")
    assert [w["expires"] for w in yaml.safe_load(text)["waivers"]] == [
        "2026-12-25T10:00:00Z",
        "2026-12-26T10:00:00Z",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\n",
        "version: 1",
        "waivers: []\nx: 1\n",
        "waivers: [{rule: a}]  # c\n",
        "waivers:\n- rule: a\n",
        "waivers:\n  # c\n  - rule: a\n    reason: b # why\n\n# tail\nother: 1\n",
    ],
)
def test_append_waiver_keeps_the_rest_and_adds_one_item(text: str) -> None:
    item = {"rule": "freeze", "reason": "a: b # not a comment", "approved_by": "x",
            "created": "2026-01-01T00:00:00Z", "expires": "2026-01-02T00:00:00Z",
            "scope": {"paths": ["src/**"]}}  # fmt: skip
    out = append_waiver(text, item)
    before = yaml.safe_load(text) or {}
    after = yaml.safe_load(out)
    assert after["waivers"][-1] == item
    assert len(after["waivers"]) == len(before.get("waivers") or []) + 1
    assert {k: v for k, v in after.items() if k != "waivers"} == {
        k: v for k, v in before.items() if k != "waivers"
    }
    for line in text.splitlines():
        if line.strip().startswith("#"):
            assert line in out


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
