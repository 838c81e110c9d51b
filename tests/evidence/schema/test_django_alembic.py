"""Django and Alembic migrations made by the real tools, in tmp git repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.evidence.schema.helpers import branch_repo, changes, evidence, fixture

APP = "shop/migrations/"
DJ = {f"{APP}{n}.py": fixture(f"django/{n}.py.txt") for n in
      ("0001_initial", "0002_author_changes", "0003_delete_book", "0004_backfill")}  # fmt: skip
EMPTY = fixture("django/0005_raw_sql.py.txt")


def with_ops(ops: str) -> str:
    """The generated empty migration (0005) with ``ops`` as its operations."""
    return EMPTY.replace("operations = [\n    ]", f"operations = [\n{ops}\n    ]")


def test_generated_django_migrations_operations_and_destructive(tmp_path: Path) -> None:
    base = {f"{APP}__init__.py": "", f"{APP}0001_initial.py": DJ[f"{APP}0001_initial.py"]}
    found = changes(tmp_path, base, {k: v for k, v in DJ.items() if "0001" not in k})
    c2 = found[f"{APP}0002_author_changes.py"]
    assert (c2.kind, c2.status, c2.reversible) == ("django", "added", True)
    assert c2.operations == ("RemoveField author.nick", "AddField author.bio", "AlterField author.email")
    assert c2.destructive
    assert any("null=True -> NOT NULL" in r for r in c2.reasons)
    c3 = found[f"{APP}0003_delete_book.py"]
    assert c3.operations == ("DeleteModel Book",) and c3.destructive
    c4 = found[f"{APP}0004_backfill.py"]
    assert c4.operations == () and not c4.destructive and c4.reversible is True


def test_alter_field_widening_is_not_destructive(tmp_path: Path) -> None:
    widen = with_ops("        migrations.AlterField(model_name='author', name='email', "
                     "field=models.CharField(max_length=300, null=True)),")  # fmt: skip
    found = changes(tmp_path, {f"{APP}0001_initial.py": DJ[f"{APP}0001_initial.py"]},
                    {f"{APP}0005_widen.py": widen.replace("from django.db import migrations",
                     "from django.db import migrations, models")})  # fmt: skip
    assert not found[f"{APP}0005_widen.py"].destructive


@pytest.mark.parametrize(
    ("ops", "destructive", "reversible", "reason"),
    [
        ("        migrations.RunPython(forwards),", False, False, "RunPython forwards has no reverse_code"),
        ("        migrations.RunPython(forwards, migrations.RunPython.noop),", False, True, "declared noop"),
        ("        migrations.RunPython(forwards, reverse_code=backwards),", False, True, None),
        ("        migrations.RunSQL('ALTER TABLE shop_author DROP COLUMN bio'),", True, False,
         "RunSQL has no reverse_sql"),
        ("        migrations.RunSQL(sql=['CREATE INDEX ix ON shop_author (email)'], "
         "reverse_sql=['DROP INDEX ix']),", False, True, None),
        ("        migrations.RunSQL(\"SELECT 1\", reverse_sql=migrations.RunSQL.noop),", False, True,
         "declared noop"),
        ("        migrations.RunSQL(SQL_FROM_ELSEWHERE, reverse_sql=''),", True, True,
         "not a literal"),
        ("        migrations.RenameField('author', 'email', 'mail'),", True, True, None),
        ("        migrations.RenameModel('Author', 'Writer'),", True, True, None),
        ("        migrations.SeparateDatabaseAndState(database_operations=["
         "migrations.DeleteModel('Author')]),", True, True, None),
    ],
)
def test_django_run_python_run_sql_and_renames(
    tmp_path: Path, ops: str, destructive: bool, reversible: bool, reason: str | None
) -> None:
    found = changes(tmp_path, {}, {f"{APP}0005_raw_sql.py": with_ops(ops)})
    c = found[f"{APP}0005_raw_sql.py"]
    assert (c.destructive, c.reversible) == (destructive, reversible), c
    if reason:
        assert any(reason in r for r in c.reasons), c.reasons


def test_a_test_module_named_like_migrations_is_not_a_migration(tmp_path: Path) -> None:
    test = "from django.db.migrations.loader import MigrationLoader\n\ndef test_x():\n    pass\n"
    assert changes(tmp_path, {}, {"tests/test_migrations.py": test}) == {}


def test_escapes_from_the_migrations_folder_are_still_migrations(tmp_path: Path) -> None:
    base = {f"{APP}0001_initial.py": DJ[f"{APP}0001_initial.py"],
            f"{APP}0003_delete_book.py": DJ[f"{APP}0003_delete_book.py"]}  # fmt: skip
    head = {
        "shop/Migrations/0002_author_changes.py": DJ[f"{APP}0002_author_changes.py"],
        "lib/not_a_migration_folder.py": DJ[f"{APP}0003_delete_book.py"].replace("Book", "Author"),
        f"{APP}0003_delete_book.py": None,  # moved out, see below
        "shop/archive/delete_book.py": DJ[f"{APP}0003_delete_book.py"],
    }
    found = changes(tmp_path, base, head, exclude=["shop/archive/**"])
    assert found["shop/Migrations/0002_author_changes.py"].destructive
    assert found["lib/not_a_migration_folder.py"].operations == ("DeleteModel Author",)
    moved = found["shop/archive/delete_book.py"]
    assert (moved.status, moved.old_path, moved.released) == (
        "renamed", f"{APP}0003_delete_book.py", True
    )


def test_a_symlinked_migration_is_unparsable(tmp_path: Path) -> None:
    repo = branch_repo(tmp_path, {}, {"evil.py": "x = 1\n"})
    os.makedirs(tmp_path / "shop/migrations")
    os.symlink("../../evil.py", tmp_path / "shop/migrations/0002_link.py")
    repo.commit({}, "link")
    from gatekeeper.evidence.schema import schema_changes

    [c] = schema_changes(evidence(tmp_path))
    assert (c.path, c.parsed, c.destructive) == ("shop/migrations/0002_link.py", False, True)
    assert "symlink" in c.reasons[0]


def test_released_migration_modified_or_deleted_is_flagged(tmp_path: Path) -> None:
    base = {f"{APP}0001_initial.py": DJ[f"{APP}0001_initial.py"],
            f"{APP}0003_delete_book.py": DJ[f"{APP}0003_delete_book.py"]}  # fmt: skip
    head = {f"{APP}0001_initial.py": DJ[f"{APP}0001_initial.py"].replace("200", "20"),
            f"{APP}0003_delete_book.py": None}  # fmt: skip
    found = changes(tmp_path, base, head)
    assert found[f"{APP}0001_initial.py"].released
    assert found[f"{APP}0001_initial.py"].status == "modified"
    deleted = found[f"{APP}0003_delete_book.py"]
    assert (deleted.status, deleted.released) == ("deleted", True)
    assert "released migration" in deleted.reasons[0]


def test_syntax_error_in_a_migration_is_reported_not_skipped(tmp_path: Path) -> None:
    found = changes(tmp_path, {}, {f"{APP}0002_broken.py": "class Migration(:\n"})
    c = found[f"{APP}0002_broken.py"]
    assert (c.parsed, c.destructive, c.operations) == (False, True, ("unparsable",))


# -- Alembic -------------------------------------------------------------------------

VERSIONS = "migrations/versions/"
CREATE = fixture("alembic/533e02512c26_create_users.py.txt")
DROP = fixture("alembic/c4cae16f2486_drop_email.py.txt")
TEMPLATE = fixture("alembic/aea34ef1c4fc_backfill.py.txt")


def test_generated_alembic_revisions(tmp_path: Path) -> None:
    found = changes(tmp_path, {f"{VERSIONS}533e_create.py": CREATE},
                    {f"{VERSIONS}c4ca_drop_email.py": DROP, f"{VERSIONS}aea3_backfill.py": TEMPLATE})
    drop = found[f"{VERSIONS}c4ca_drop_email.py"]
    assert drop.kind == "alembic" and drop.reversible is True and drop.destructive
    assert drop.operations == (
        "alter_column users.name", "drop_index uq_users_name", "drop_column users.email"
    )
    assert any("String(100) -> String(40)" in r for r in drop.reasons)
    assert any("unique index" in r for r in drop.reasons)
    backfill = found[f"{VERSIONS}aea3_backfill.py"]
    assert backfill.reversible is False and backfill.reverse_reasons == (
        "downgrade() does nothing (pass or raise)",
    )


def body(upgrade: str, downgrade: str = "    pass") -> str:
    return (
        TEMPLATE.replace('    """Upgrade schema."""\n    pass', upgrade)
        .replace('    """Downgrade schema."""\n    pass', downgrade)
    )


@pytest.mark.parametrize(
    ("upgrade", "downgrade", "ops", "destructive", "reversible"),
    [
        ("    op.drop_table('users')", "    raise NotImplementedError()", ("drop_table users",), True, False),
        ("    op.add_column('users', sa.Column('x', sa.Integer()))", '    """no way back."""',
         ("add_column users",), False, False),
        ("    with op.batch_alter_table('users') as batch_op:\n        batch_op.drop_column('email')",
         "    op.add_column('users', sa.Column('email', sa.String()))",
         ("batch_op.drop_column email",), True, True),
        ("    op.execute(\"CREATE FUNCTION f() RETURNS int AS $$ DELETE FROM t; SELECT 1 $$ "
         "LANGUAGE sql\")", "    op.execute('DROP FUNCTION f')", ("execute: CREATE FUNCTION f",),
         False, True),
        ("    op.execute(sa.text('TRUNCATE audit'))", "    pass", ("execute: TRUNCATE audit",), True, False),
        ("    _hide()\n\n\ndef _hide():\n    op.drop_column('users', 'email')", "    pass",
         ("drop_column users.email",), True, False),
        ("    op.alter_column('users', 'name', nullable=False)", "    pass",
         ("alter_column users.name",), True, False),
        ("    op.alter_column('users', 'name', nullable=False, server_default='x')", "    pass",
         ("alter_column users.name",), False, False),
        ("    op.alter_column('users', 'name', new_column_name='full_name')", "    pass",
         ("alter_column users.name (rename)",), True, False),
        ("    op.alter_column('users', 'name', type_=sa.Text(), existing_type=sa.String(40))", "    pass",
         ("alter_column users.name",), False, False),
    ],
)
def test_alembic_operations(
    tmp_path: Path, upgrade: str, downgrade: str, ops: tuple[str, ...], destructive: bool,
    reversible: bool,
) -> None:
    found = changes(tmp_path, {}, {f"{VERSIONS}x1_rev.py": body(upgrade, downgrade)})
    c = found[f"{VERSIONS}x1_rev.py"]
    assert (c.operations, c.destructive, c.reversible) == (ops, destructive, reversible), c


def test_a_released_migration_reformatted_only_is_not_a_change(tmp_path: Path) -> None:
    old = DJ[f"{APP}0003_delete_book.py"]
    reformatted = old.replace("        migrations.DeleteModel(\n            name='Book',\n        ),",
                              '        migrations.DeleteModel(name="Book"),  # same operation')
    assert reformatted != old
    found = changes(tmp_path, {f"{APP}0003_delete_book.py": old},
                    {f"{APP}0003_delete_book.py": reformatted})  # fmt: skip
    c = found[f"{APP}0003_delete_book.py"]
    assert (c.status, c.released) == ("modified", False)
    assert "reformatted only" in c.reasons[-1]


def test_an_alembic_revision_without_a_plain_upgrade_is_unparsable(tmp_path: Path) -> None:
    odd = "revision = 'b2'\ndown_revision = 'a1'\nfrom alembic import op\nupgrade = lambda: op.drop_table('users')\n"
    c = changes(tmp_path, {}, {"anywhere/b2.py": odd})["anywhere/b2.py"]
    assert (c.kind, c.parsed, c.destructive) == ("alembic", False, True)
