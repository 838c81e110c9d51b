"""``rollback-plan``: reversible migrations, a runbook, a release to roll back to."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from gatekeeper.checks import with_defaults
from gatekeeper.checks.rollback_plan import CHECK
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.rollback import missing_sections, scope, sections
from gatekeeper.model import Outcome, Status
from tests.evidence.schema.helpers import fixture
from tests.factories import RepoFactory, assert_valid_report, make_repo, run_cli, write_policy
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

REV = "migrations/versions/x1_add_nick.py"
TEMPLATE = fixture("alembic/aea34ef1c4fc_backfill.py.txt")
UP = "    op.add_column('users', sa.Column('nick', sa.String(40)))"
PASS_DOWN = TEMPLATE.replace('    """Upgrade schema."""\n    pass', UP)
REAL_DOWN = PASS_DOWN.replace('    """Downgrade schema."""\n    pass', "    op.drop_column('users', 'nick')")
RUNBOOK = """# Rolling back the nick column

## Steps
1. `alembic downgrade -1`
2. Redeploy the previous release.

## Verification
- `\\d users` shows no `nick` column.
"""


def repo_with(tmp_path: Path, files: dict[str, str | bytes | None], tag: bool = True) -> RepoFactory:
    repo = make_repo(tmp_path / "repo", {"app.py": "x = 1\n"})
    if tag:
        repo.tag("v1.4.0")
    repo.branch("feature")
    repo.commit(files, "change")
    return repo


def evaluate(path: Path, environ: dict[str, str] | None = None, pr: int | None = None,
             **options: Any) -> Outcome:  # fmt: skip
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(path, datetime.now(UTC), base="main", environ=environ or {},
                     options={"pr": pr} if pr else {})  # fmt: skip
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def cli(tmp_path: Path, repo: RepoFactory) -> tuple[int, dict[str, Any]]:
    policy = write_policy(tmp_path / "policy.yml", [
        {"id": "way-back", "check": "rollback-plan", "with": {"runbook": "docs/rollback.md"}}
    ])  # fmt: skip
    result = run_cli("check", "-p", str(policy), "--repo", str(repo.path), "--base", "main",
                     "--format", "json")  # fmt: skip
    report = json.loads(result.stdout)
    assert_valid_report(report)
    return result.exit_code, report["rules"][0]


def test_pass_downgrade_and_missing_runbook_fail_then_both_present_pass(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {REV: PASS_DOWN})
    code, rule = cli(tmp_path, repo)
    assert code == 1
    assert rule["details"]["irreversible"] == [
        {"path": REV, "why": "downgrade() does nothing (pass or raise)"}
    ]
    assert "runbook docs/rollback.md does not exist" in rule["summary"]
    assert rule["details"]["previous_release"]["tag"] == "v1.4.0"

    repo.commit({REV: REAL_DOWN}, "a real downgrade")
    code, rule = cli(tmp_path, repo)
    assert code == 1 and rule["details"]["irreversible"] == []
    assert "does not exist" in rule["summary"]

    repo.commit({"docs/rollback.md": RUNBOOK}, "runbook")
    code, rule = cli(tmp_path, repo)
    assert code == 0, rule["summary"]
    assert rule["summary"] == "1 schema change(s) reversible; previous release v1.4.0; runbook docs/rollback.md"
    assert rule["details"]["runbook"]["missing_sections"] == []


def test_a_release_tag_must_be_reachable_from_the_base(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {REV: REAL_DOWN, "docs/rollback.md": RUNBOOK}, tag=False)
    repo.tag("v9.9.9")  # on the feature branch: not a release of the base
    out = evaluate(repo.path, runbook="docs/rollback.md")
    assert out.status is Status.FAIL
    assert "no release tag matching 'v*' reachable from the base" in out.summary
    assert evaluate(repo.path, runbook="docs/rollback.md", previous_release=False).status is Status.PASS


def test_runbook_sections_need_content(tmp_path: Path) -> None:
    empty = "# Rollback\n\n## Steps\n\n## Verification\n"
    repo = repo_with(tmp_path, {REV: REAL_DOWN, "docs/rollback.md": empty})
    out = evaluate(repo.path, runbook="docs/rollback.md")
    assert out.status is Status.FAIL
    assert out.details["runbook"]["missing_sections"] == ["Steps", "Verification"]


def test_destructive_change_needs_a_backup_step(tmp_path: Path) -> None:
    drop = REAL_DOWN.replace(UP, "    op.drop_column('users', 'email')")
    repo = repo_with(tmp_path, {REV: drop, "docs/rollback.md": RUNBOOK})
    out = evaluate(repo.path, runbook="docs/rollback.md")
    assert out.status is Status.FAIL and "names no backup/restore step" in out.summary
    assert evaluate(repo.path, runbook="docs/rollback.md",
                    destructive_requires_backup=False).status is Status.PASS  # fmt: skip
    repo.commit({"docs/rollback.md": RUNBOOK + "\n## Backup\n- `pg_dump -t users` before deploy\n"})
    out = evaluate(repo.path, runbook="docs/rollback.md")
    assert out.status is Status.PASS, out.summary
    assert out.details["runbook"]["backup_step"] == "Backup"


def test_forward_only_sql_fails_unless_allowed_but_python_still_needs_a_reverse(tmp_path: Path) -> None:
    run_python = fixture("django/0005_raw_sql.py.txt").replace(
        "operations = [\n    ]", "operations = [\n        migrations.RunPython(forwards),\n    ]"
    )
    repo = repo_with(tmp_path, {"db/migrations/002_add.sql": "ALTER TABLE t ADD COLUMN c int;",
                                "shop/migrations/0005_backfill.py": run_python})  # fmt: skip
    out = evaluate(repo.path, previous_release=False)
    assert [i["path"] for i in out.details["irreversible"]] == [
        "db/migrations/002_add.sql", "shop/migrations/0005_backfill.py"
    ]
    out = evaluate(repo.path, previous_release=False, forward_only="allow")
    assert [i["path"] for i in out.details["irreversible"]] == ["shop/migrations/0005_backfill.py"]
    assert out.details["irreversible"][0]["why"] == "RunPython forwards has no reverse_code"


def test_no_schema_change_passes(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {"app.py": "x = 2\n"}, tag=False)
    out = evaluate(repo.path, runbook="pr_body")
    assert out.status is Status.PASS and out.summary == "no schema changes: nothing to roll back"


PR_BODY = """Adds a nick column.

## Rollback

### Steps
Run `alembic downgrade -1` and redeploy v1.4.0.

### Verification
The users page loads; `nick` is gone.

## Notes
Nothing else.
"""


def test_pr_body_rollback_section(github: FakeGitHub, tmp_path: Path) -> None:
    repo = repo_with(tmp_path, {REV: REAL_DOWN})
    pr = github.add_pr(1, head_sha=repo.repo.head.commit.hexsha)
    pr["body"] = PR_BODY
    out = evaluate(repo.path, github.environ(), pr=1, runbook="pr_body")
    assert out.status is Status.PASS, out.summary
    assert out.summary.endswith("runbook PR body")
    pr["body"] = "No plan.\n"
    out = evaluate(repo.path, github.environ(), pr=1, runbook="pr_body")
    assert out.status is Status.FAIL and "has no '## Rollback' section" in out.summary


def test_hostile_pr_text_cannot_fake_sections() -> None:
    hidden = """## Rollback
<!--
### Steps
do things
-->
```
### Verification
looks fine
```
"""
    part = scope(sections(hidden), "Rollback")
    assert part is not None
    assert missing_sections(part, ["Steps", "Verification"]) == ["Steps", "Verification"]
    # Sections of another heading do not count for the rollback.
    other = "## Deploy\n### Steps\nx\n### Verification\ny\n## Rollback\nnothing here\n"
    part = scope(sections(other), "Rollback")
    assert part is not None and missing_sections(part, ["Steps"]) == ["Steps"]
    assert scope(sections("# Rollbacks are fun\n"), "Rollback") is None


def test_after_the_deploy_it_judges_the_way_back_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"docs/rollback.md": RUNBOOK})
    repo.tag("v1.0.0")
    repo.commit({"a.txt": "x"}, "release")
    repo.tag("v1.1.0")  # the deployed release
    ctx = RunContext(repo.path, datetime.now(UTC), base=None)
    opts = with_defaults(CHECK, {"runbook": "docs/rollback.md"})
    out = CHECK.evaluate(opts, Evidence(ctx))
    assert out.status is Status.PASS, out.summary
    assert out.summary == ("after the deploy: migrations not judged (no diff); previous release "
                           "v1.0.0; runbook docs/rollback.md")  # fmt: skip
    (repo.path / "docs/rollback.md").unlink()
    out = CHECK.evaluate(with_defaults(CHECK, {"runbook": "docs/rollback.md",
                                               "previous_release": "release-*"}), Evidence(ctx))  # fmt: skip
    assert out.status is Status.FAIL
    assert "no release tag matching 'release-*' before the deployed commit" in out.summary
    assert "runbook docs/rollback.md does not exist" in out.summary


def test_sections_are_read_as_commonmark_renders_them() -> None:
    text = "# Rollback\n\n    ### Steps\n    indented code, not a heading\n\nVerification\n------------\nchecked\n"
    part = scope(sections(text), "Rollback")
    assert part is not None
    assert missing_sections(part, ["Steps", "Verification"]) == ["Steps"]  # setext counts
