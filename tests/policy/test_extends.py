"""`extends`: shared organisation policies from files and from pinned git bases
(real git repositories in tmp dirs, fetched over file:// URLs: no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gatekeeper.errors import PolicyError
from gatekeeper.policy import load_policy
from gatekeeper.policy.extends import BaseProblem, Spec, parse_spec
from tests.factories import RepoFactory, make_repo, run_cli

FREEZE = {
    "id": "freeze",
    "check": "release-window",
    "with": {"freeze": [{"start": "2026-12-21T00:00:00Z", "end": "2027-01-04T00:00:00Z",
                         "reason": "Year-end freeze"}]},
}
LOG = {"id": "log", "check": "changelog"}
NOW = "2026-12-22T10:00:00+00:00"


def _policy(rules: list[dict], **top: object) -> str:
    return json.dumps({"version": 1, **top, "rules": rules}, indent=2) if rules else json.dumps(
        {"version": 1, **top}, indent=2)


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def org(tmp_path: Path) -> RepoFactory:
    """The organisation's policy repository: tag v1, then main moves on."""
    repo = make_repo(tmp_path / "org", {"org.yml": _policy([FREEZE, LOG], name="Org")})
    repo.tag("v1")
    repo.commit({"org.yml": _policy([LOG], name="Org")}, "drop the freeze on main")
    return repo


def _url(repo: RepoFactory) -> str:
    return repo.path.as_uri()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_git_base_at_a_tag_local_rule_replaces_the_base_rule(
    org: RepoFactory, tmp_path: Path, _cache: Path
) -> None:
    local_log = {"id": "log", "check": "changelog", "with": {"require_change": False},
                 "severity": "warn"}
    extra = {"id": "extra", "check": "changelog", "with": {"path": "CHANGES.md"}}
    policy = _write(tmp_path / "p.yml", _policy(
        [local_log, extra], extends=[f"{_url(org)}@v1#org.yml"]))
    loaded = load_policy(policy)
    # Base rules first (the freeze exists only at v1, not on main), the local `log` in place.
    assert [r.id for r in loaded.rules] == ["freeze", "log", "extra"]
    log = loaded.rules[1]
    assert log.options == {"require_change": False} and log.severity.value == "warn"
    assert (_cache / "gatekeeper" / "extends").is_dir()

    out = run_cli("validate", "--resolved", str(policy))
    assert out.exit_code == 0, out.output
    resolved = yaml.safe_load(out.output.split("\n", 1)[1].rsplit(f"{policy}: ok", 1)[0])
    assert [r["id"] for r in resolved["rules"]] == ["freeze", "log", "extra"]
    assert resolved["rules"][1] == local_log and "extends" not in resolved


def test_git_base_pinned_to_a_full_sha(org: RepoFactory, tmp_path: Path) -> None:
    sha = org.repo.git.rev_parse("v1")
    policy = _write(tmp_path / "p.yml", _policy([], extends=[f"{_url(org)}@{sha}#org.yml"]))
    assert [r.id for r in load_policy(policy).rules] == ["freeze", "log"]


def test_a_branch_is_an_error_naming_the_line_unless_allowed(
    org: RepoFactory, tmp_path: Path
) -> None:
    text = f"version: 1\nextends:\n  - {_url(org)}@main#org.yml\n"
    policy = _write(tmp_path / "p.yml", text)
    out = run_cli("validate", str(policy))
    assert out.exit_code == 2
    assert f"{policy}:3:5:" in out.output and "'main' is a branch" in out.output
    _write(policy, text + "allow_unpinned: true\n")
    assert [r.id for r in load_policy(policy).rules] == ["log"]  # main's policy


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{url}@v9#org.yml", "no tag or branch 'v9'"),
        ("{url}@v1#missing.yml", "missing.yml does not exist"),
        ("{url}#org.yml", "must be pinned"),
        ("{url}@v1", "needs the policy's path"),
        ("file:///nonexistent/repo@v1#org.yml", "cannot reach the repository"),
        ("nope.yml", "no such base policy file"),
    ],
)
def test_unreachable_bases_are_file_line_errors(
    org: RepoFactory, tmp_path: Path, entry: str, message: str
) -> None:
    policy = _write(tmp_path / "p.yml", f"version: 1\nrules: [{json.dumps(LOG)}]\nextends:\n"
                    f"  - {entry.format(url=_url(org))}\n")
    with pytest.raises(PolicyError) as e:
        load_policy(policy)
    assert len(e.value.problems) == 1
    assert e.value.problems[0].startswith(f"{policy}:4:5: ") and message in e.value.problems[0]


def test_a_cycle_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "a.yml", _policy([LOG], extends=["b.yml"]))
    _write(tmp_path / "b.yml", _policy([], extends=["a.yml"]))
    out = run_cli("validate", str(tmp_path / "a.yml"))
    assert out.exit_code == 2
    assert "extends cycle" in out.output and "a.yml" in out.output and "Traceback" not in out.output
    line = next(ln for ln in out.output.splitlines() if "extends cycle" in ln)
    assert line.startswith(f"{tmp_path / 'b.yml'}:")


def test_disable_and_merge_by_key(tmp_path: Path) -> None:
    waiver = {"rule": "log", "reason": "old", "approved_by": "alice", "expires": "2099-01-01",
              "created": "2098-12-01"}
    _write(tmp_path / "base.yml", _policy(
        [FREEZE, LOG], waivers=[waiver], environments=["staging", "production"],
        notify={"channels": {"ops": {"type": "webhook", "url_env": "OPS_URL"}}}))
    local = _write(tmp_path / "p.yml", _policy(
        [], extends=["base.yml"], disable=["freeze"],
        waivers=[{**waiver, "reason": "new"}]))
    policy = load_policy(local)
    assert [r.id for r in policy.rules] == ["log"]
    assert [w.reason for w in policy.waivers] == ["new"]
    assert policy.environments == ("staging", "production")
    assert "ops" in policy.notify["channels"]
    _write(local, _policy([], extends=["base.yml"], disable=["nope"]))
    with pytest.raises(PolicyError, match="no base defines a rule 'nope'"):
        load_policy(local)


def test_errors_in_a_base_point_into_the_base(tmp_path: Path) -> None:
    _write(tmp_path / "base.yml", "version: 1\nrules:\n  - id: x\n    check: no-such-check\n")
    local = _write(tmp_path / "p.yml", _policy([], extends=["base.yml"]))
    with pytest.raises(PolicyError) as e:
        load_policy(local)
    assert e.value.problems[0].startswith(f"{tmp_path / 'base.yml'}:4:")


def test_a_pr_that_edits_a_local_base_is_judged_by_the_trusted_copy(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", {
        "org/base.yml": _policy([FREEZE]),
        "gatekeeper.yml": _policy([], extends=["org/base.yml"]),
    })
    repo.branch("feature")
    # The change replaces the shared base's freeze with a harmless rule.
    repo.commit({"org/base.yml": _policy([{**LOG, "with": {"require_change": False}}])}, "weaken")

    def check(*extra: str) -> int:
        return run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                       str(repo.path), "--base", "main", "--now", NOW, *extra,
                       env={"CI": "true"}).exit_code

    assert check() == 1  # the base commit's org/base.yml: the freeze blocks
    assert check("--policy-source", "worktree") == 0  # the edited copy, only on request
    out = run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                  str(repo.path), "--base", "main", "--now", NOW, "--format", "json",
                  env={"CI": "true"})
    notes = json.loads(out.output)["notes"]
    assert any("This pull request changes org/base.yml, a base of the policy" in n for n in notes)


def test_no_base_note_when_the_change_leaves_the_base_alone(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", {
        "org/base.yml": _policy([FREEZE]),
        "gatekeeper.yml": _policy([], extends=["org/base.yml"]),
    })
    repo.branch("feature")
    repo.commit({"x.txt": "x\n"})
    out = run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                  str(repo.path), "--base", "main", "--now", NOW, "--format", "json",
                  env={"CI": "true"})
    assert out.exit_code == 1
    assert not [n for n in json.loads(out.output)["notes"] if "a base of the policy" in n]


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("shared/base.yml", Spec("shared/base.yml")),
        ("https://github.com/acme/p.git@v3#policies/a.yml",
         Spec("policies/a.yml", "https://github.com/acme/p.git", "v3")),
        ("https://user@host/acme/p.git@release/v1#a.yml",
         Spec("a.yml", "https://user@host/acme/p.git", "release/v1")),
        ("git@github.com:acme/p.git@" + "a" * 40 + "#a.yml",
         Spec("a.yml", "git@github.com:acme/p.git", "a" * 40)),
    ],
)
def test_parse_spec(text: str, spec: Spec) -> None:
    assert parse_spec(text) == spec


@pytest.mark.parametrize(
    "text", ["git@github.com:acme/p.git#a.yml", "--upload-pack=touch x", "https://h/p.git@v1#"]
)
def test_parse_spec_refuses(text: str) -> None:
    with pytest.raises(BaseProblem):
        parse_spec(text)


def test_a_symlinked_base_on_the_trusted_commit_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", {
        "org/real.yml": _policy([FREEZE]),
        "gatekeeper.yml": _policy([], extends=["org/base.yml"]),
    })
    (repo.path / "org" / "base.yml").symlink_to("real.yml")
    repo.commit({}, "link")
    repo.branch("feature")
    repo.commit({"x.txt": "x\n"})
    out = run_cli("check", "--policy", str(repo.path / "gatekeeper.yml"), "--repo",
                  str(repo.path), "--base", "main", "--now", NOW, env={"CI": "true"})
    assert out.exit_code == 2 and "symbolic link" in out.output
