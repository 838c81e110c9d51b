from __future__ import annotations

import pytest

from gatekeeper.evidence.schema.sql import classify
from gatekeeper.evidence.schema.sqltok import SqlSyntaxError


def ops(text: str) -> list[str]:
    return classify(text).operations


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("DROP TABLE IF EXISTS public.users CASCADE", "DROP TABLE public.users"),
        ("drop schema s", "DROP SCHEMA s"),
        ("DROP FUNCTION f(int)", "DROP FUNCTION f"),
        ("DROP INDEX CONCURRENTLY ix_a", "DROP INDEX ix_a"),
        ("DROP TRIGGER trg ON t", "DROP TRIGGER trg"),
        ("DROP VIEW v", "DROP VIEW v"),
        ("DROP TYPE mood", "DROP TYPE mood"),
        ("TRUNCATE TABLE audit", "TRUNCATE audit"),
        ("TRUNCATE audit", "TRUNCATE audit"),
        ("ALTER TABLE t DROP COLUMN c", "ALTER TABLE t DROP COLUMN c"),
        ("ALTER TABLE t DROP c", "ALTER TABLE t DROP COLUMN c"),
        ("ALTER TABLE t DROP CONSTRAINT fk", "ALTER TABLE t DROP CONSTRAINT fk"),
        ("ALTER TABLE t ALTER COLUMN c TYPE bigint", "ALTER TABLE t ALTER COLUMN c TYPE"),
        ("ALTER TABLE t ALTER c SET DATA TYPE text", "ALTER TABLE t ALTER COLUMN c TYPE"),
        ("ALTER TABLE t ALTER COLUMN c SET NOT NULL", "ALTER TABLE t ALTER COLUMN c SET NOT NULL"),
        ("ALTER TABLE t RENAME COLUMN a TO b", "ALTER TABLE t RENAME"),
        ("ALTER TABLE t RENAME TO u", "ALTER TABLE t RENAME"),
        ("ALTER TABLE t MODIFY COLUMN c int", "ALTER TABLE t MODIFY c"),
        ("RENAME TABLE a TO b", "RENAME a"),
        ("ALTER VIEW v RENAME TO w", "ALTER VIEW v"),
        ("ALTER TYPE mood RENAME VALUE 'a' TO 'b'", "ALTER TYPE mood"),
        ("DELETE FROM users WHERE id = 1", "DELETE FROM users"),
        ("EXEC sp_rename 'a.b', 'c', 'COLUMN'", "EXEC sp_rename"),
    ],
)
def test_destructive_statements(text: str, op: str) -> None:
    found = classify(text)
    assert found.operations == [op]
    assert found.destructive


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("CREATE TABLE IF NOT EXISTS t (a int, b text DEFAULT 'DROP TABLE x;')", "CREATE TABLE t"),
        ("CREATE UNIQUE INDEX CONCURRENTLY ix ON t (a)", "CREATE INDEX ix"),
        ("ALTER TABLE t ADD COLUMN c int", "ALTER TABLE t ADD COLUMN c"),
        ("ALTER TABLE t ALTER COLUMN c DROP NOT NULL", "ALTER TABLE t ALTER COLUMN c"),
        ("ALTER TABLE t ALTER COLUMN c DROP DEFAULT", "ALTER TABLE t ALTER COLUMN c"),
        ("INSERT INTO t VALUES (1)", "INSERT t"),
        ("UPDATE t SET a = 1", "UPDATE t"),
        ("COMMENT ON TABLE t IS 'x'", "COMMENT ON"),
    ],
)
def test_non_destructive_statements(text: str, op: str) -> None:
    found = classify(text)
    assert found.operations == [op]
    assert not found.destructive


def test_hidden_text_is_not_a_statement() -> None:
    text = """
    -- DROP TABLE a;
    /* DROP TABLE b;
       DROP TABLE c; */
    SELECT 'DROP TABLE d;', "DROP TABLE e";
    """
    assert not classify(text).destructive


def test_dml_inside_function_bodies_is_not_a_schema_change() -> None:
    text = """
    CREATE OR REPLACE FUNCTION purge_audit() RETURNS trigger AS $purge$
    BEGIN
      DELETE FROM audit WHERE created < now() - interval '30 days';
      UPDATE stats SET n = n - 1;
      RETURN NEW;
    END
    $purge$ LANGUAGE plpgsql;
    """
    found = classify(text)
    assert found.operations == ["CREATE FUNCTION purge_audit"]
    assert not found.destructive


def test_ddl_inside_a_function_body_is_reported() -> None:
    found = classify("CREATE FUNCTION f() RETURNS void AS $$ BEGIN DROP TABLE s; END $$ LANGUAGE plpgsql")
    assert "DROP TABLE s (inside f)" in found.operations and found.destructive


def test_do_blocks_run_now() -> None:
    found = classify("DO $$ DECLARE r int; BEGIN DELETE FROM users; DROP TABLE old; END $$;")
    assert found.operations == ["DO: DELETE FROM users", "DO: DROP TABLE old"]
    assert found.destructive


def test_mysql_reading_is_added_when_dialects_disagree() -> None:
    # PostgreSQL: one string; MySQL: a string, then DROP TABLE runs.
    found = classify("SELECT 'a\\''; DROP TABLE victims; -- ';")
    assert "DROP TABLE victims" in found.operations and found.destructive
    # MySQL ends a comment at the first */ (no nesting): the DROP runs there.
    found = classify("/* x /* y */ DROP TABLE t2; */ SELECT 1;")
    assert found.destructive
    found = classify("/*!50000 DROP TABLE t3 */;")
    assert "DROP TABLE t3" in found.operations


def test_unreadable_sql_raises() -> None:
    with pytest.raises(SqlSyntaxError):
        classify("DROP TABLE x; SELECT 'unterminated")
