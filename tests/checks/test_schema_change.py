"""``schema-change``: detection end to end, sign-off by trailer and by review."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from gatekeeper.checks import with_defaults
from gatekeeper.checks.schema_change import CHECK
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Outcome, Status
from tests.evidence.schema.helpers import fixture
from tests.factories import RepoFactory, assert_valid_report, make_repo, run_cli, write_policy
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

VERSIONS = "migrations/versions/"
TEMPLATE = fixture("alembic/aea34ef1c4fc_backfill.py.txt")
DROP = TEMPLATE.replace('    """Upgrade schema."""\n    pass', "    op.drop_column('users', 'email')")
ADD = TEMPLATE.replace('    """Upgrade schema."""\n    pass',
                       "    op.add_column('users', sa.Column('x', sa.Integer()))")  # fmt: skip
DBA = "DBA <dba@example.com>"


def drop_repo(tmp_path: Path, migration: str = DROP) -> RepoFactory:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    repo.branch("feature")
    repo.commit({f"{VERSIONS}x1_drop_email.py": migration}, "drop users.email")
    return repo


def sign(repo: RepoFactory, value: str, author: str = DBA, body: str = "Reviewed the migration.") -> None:
    repo.repo.git.commit(
        "--allow-empty", "-q", "-m", f"Schema sign-off\n\n{body}\n\nSchema-Approved-By: {value}",
        f"--author={author}",
    )


def check_cli(tmp_path: Path, repo: RepoFactory, **options: Any) -> tuple[int, dict[str, Any]]:
    policy = write_policy(tmp_path / "policy.yml", [{
        "id": "schema", "check": "schema-change",
        "with": {"signers": ["dba@example.com", "acme/dba"], **options},
    }])  # fmt: skip
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main",
                     "--format", "json")  # fmt: skip
    report = json.loads(result.stdout)
    assert_valid_report(report)
    return result.exit_code, report["rules"][0]


def evaluate(path: Path, environ: dict[str, str] | None = None, pr: int | None = None,
             **options: Any) -> Outcome:  # fmt: skip
    options.setdefault("signers", ["dba@example.com"])
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(path, datetime.now(UTC), base="main", environ=environ or {},
                     options={"pr": pr} if pr else {})  # fmt: skip
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def test_dropping_a_column_fails_then_a_listed_signer_trailer_passes(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    code, rule = check_cli(tmp_path, repo)
    assert code == 1 and rule["status"] == "fail"
    assert f"{VERSIONS}x1_drop_email.py (drop_column users.email)" in rule["summary"]
    assert rule["details"]["unsigned"] == [f"{VERSIONS}x1_drop_email.py"]
    [change] = rule["details"]["changes"]
    assert change["operations"] == ["drop_column users.email"] and change["destructive"]
    assert "Schema-Approved-By: Name <email>" in rule["remedy"]
    assert rule["annotations"][0]["path"] == f"{VERSIONS}x1_drop_email.py"

    sign(repo, "Eve Outsider <eve@example.com>", author="Eve Outsider <eve@example.com>")
    code, rule = check_cli(tmp_path, repo)
    assert code == 1, "an unlisted signer does not count"
    assert "not a listed signer" in rule["details"]["ignored_signoffs"][0]

    sign(repo, DBA)
    code, rule = check_cli(tmp_path, repo)
    assert code == 0 and rule["status"] == "pass", rule["summary"]
    assert rule["details"]["signoffs"][0]["by"] == "dba@example.com"
    assert rule["details"]["signoffs"][0]["via"] == "trailer"
    assert "signed off by dba@example.com (trailer)" in rule["summary"]


def test_the_migrations_author_cannot_sign_it_off(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    sign(repo, "Test Author <author@example.com>", author="Test Author <author@example.com>")
    out = evaluate(repo.path, signers=["author@example.com"])
    assert out.status is Status.FAIL
    assert "authored a commit changing these files" in out.details["ignored_signoffs"][0]


def test_a_sign_off_before_a_later_change_to_the_migration_is_stale(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    sign(repo, DBA)
    assert evaluate(repo.path).status is Status.PASS
    repo.commit({f"{VERSIONS}x1_drop_email.py": DROP + "\n# and more\n"}, "touch again")
    out = evaluate(repo.path)
    assert out.status is Status.FAIL
    assert "a later commit changes the signed files again" in out.details["ignored_signoffs"][0]


def test_a_trailer_outside_the_last_paragraph_is_not_a_trailer(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    repo.repo.git.commit("--allow-empty", "-q", "-m",
                         f"x\n\nSchema-Approved-By: {DBA}\n\nNot a trailer block.",
                         f"--author={DBA}")  # fmt: skip
    assert evaluate(repo.path).status is Status.FAIL


def test_trailers_do_not_count_with_via_review(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    sign(repo, DBA)
    assert evaluate(repo.path, via=["review"]).status is Status.FAIL


def test_require_signoff_any_and_none(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path, ADD)
    out = evaluate(repo.path)
    assert out.status is Status.PASS and out.summary == "1 schema change(s), 0 needing sign-off"
    assert evaluate(repo.path, require_signoff="any").status is Status.FAIL
    assert evaluate(repo.path, require_signoff="none", signers=[]).status is Status.PASS


def test_unparsable_migration_needs_sign_off(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path, "revision = 'x'\ndown_revision = None\ndef upgrade(:\n")
    repo.commit({"app/migrations/0002_x.py": "def broken(:\n"})
    out = evaluate(repo.path)
    assert out.status is Status.FAIL
    assert out.details["unsigned"] == ["app/migrations/0002_x.py"]


def test_released_migration_modified_fails_unless_allowed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {f"{VERSIONS}x1_add.py": ADD})
    repo.branch("feature")
    repo.commit({f"{VERSIONS}x1_add.py": ADD.replace("'x'", "'y'")})
    out = evaluate(repo.path)
    assert out.status is Status.FAIL
    assert f"released migration(s) changed: {VERSIONS}x1_add.py (modified)" in out.summary
    assert "add a new migration instead" in (out.remedy or "")
    assert evaluate(repo.path, allow_modified=True).status is Status.PASS


def test_no_schema_change_passes_and_kinds_exclude_filter(tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    assert evaluate(repo.path, kinds=["django"]).summary == "no schema changes in the diff"
    assert evaluate(repo.path, exclude=["migrations/**"]).status is Status.PASS


def test_signers_are_required_unless_require_signoff_none() -> None:
    assert CHECK.validate is not None
    assert CHECK.validate({"signers": []}) == [(("signers",), "require_signoff needs at least one signer")]
    assert CHECK.validate({"require_signoff": "none"}) == []


def test_sign_off_by_an_approving_review_on_the_head(github: FakeGitHub, tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    head = repo.repo.head.commit.hexsha
    github.add_pr(1, author="alice", head_sha=head)
    github.teams["acme/dba"] = {"dora"}
    signers = ["dba@example.com", "acme/dba", "bob"]
    out = evaluate(repo.path, github.environ(), pr=1, signers=signers)
    assert out.status is Status.FAIL
    github.add_review(1, "carol", "APPROVED", commit_id=head)  # not a signer
    github.add_review(1, "bob", "APPROVED", commit_id="0" * 40)  # an older commit
    assert evaluate(repo.path, github.environ(), pr=1, signers=signers).status is Status.FAIL
    github.add_review(1, "dora", "APPROVED", commit_id=head)  # a member of acme/dba
    out = evaluate(repo.path, github.environ(), pr=1, signers=signers)
    assert out.status is Status.PASS, out.summary
    assert out.details["signoffs"] == [{"by": "dora", "via": "review"}]


def test_the_pr_author_cannot_approve_their_own_schema_change(github: FakeGitHub, tmp_path: Path) -> None:
    repo = drop_repo(tmp_path)
    head = repo.repo.head.commit.hexsha
    github.add_pr(1, author="bob", head_sha=head)
    github.add_review(1, "bob", "APPROVED", commit_id=head)
    assert evaluate(repo.path, github.environ(), pr=1, signers=["bob"]).status is Status.FAIL


def test_the_readme_example_is_a_valid_policy() -> None:
    import re

    from gatekeeper.policy import loads_policy

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Schema changes: schema-change and rollback-plan", 1)[1]
    block = re.findall(r"```yaml\n(.*?)```", section, re.S)[0]
    policy = loads_policy("version: 1\nrules:\n" + block, "README.md")
    assert [r.check for r in policy.rules] == ["schema-change", "rollback-plan"]
