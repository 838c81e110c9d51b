"""Raw SQL, Flyway and Liquibase migrations in tmp git repositories."""

from __future__ import annotations

from pathlib import Path

from tests.evidence.schema.helpers import changes

FUNCTION = """-- Purge job: keeps 30 days of audit rows.
CREATE TABLE audit (id bigserial PRIMARY KEY, created timestamptz NOT NULL DEFAULT now());

CREATE OR REPLACE FUNCTION purge_audit() RETURNS void AS $purge$
BEGIN
    DELETE FROM audit WHERE created < now() - interval '30 days';
    -- a comment with a ; inside
END;
$purge$ LANGUAGE plpgsql;

CREATE FUNCTION audit_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM audit_shadow WHERE id = OLD.id;
    RETURN NEW;
END $$;
"""


def test_sql_with_dollar_quoted_function_bodies_containing_delete(tmp_path: Path) -> None:
    found = changes(tmp_path, {}, {"db/migrations/0002_purge.sql": FUNCTION})
    c = found["db/migrations/0002_purge.sql"]
    assert c.kind == "sql"
    assert c.operations == (
        "CREATE TABLE audit", "CREATE FUNCTION purge_audit", "CREATE FUNCTION audit_stamp"
    )
    assert not c.destructive
    assert c.reversible is False and c.reverse_reasons == (
        "forward-only SQL: no down or undo migration",
    )


def test_up_down_pairs_and_dbmate_sections(tmp_path: Path) -> None:
    found = changes(tmp_path, {}, {
        "migrations/20240101_drop.up.sql": "ALTER TABLE users DROP COLUMN email;",
        "migrations/20240101_drop.down.sql": "ALTER TABLE users ADD COLUMN email text;",
        "db/migrate/20240102_x.sql": "-- migrate:up\nDROP TABLE t;\n-- migrate:down\nCREATE TABLE t (a int);\n",
        "db/migrate/20240103_y.sql": "-- migrate:up\nCREATE TABLE y (a int);\n-- migrate:down\n",
    })  # fmt: skip
    up = found["migrations/20240101_drop.up.sql"]
    assert up.destructive and up.reversible is True
    assert found["migrations/20240101_drop.down.sql"].reversible is None
    dbmate = found["db/migrate/20240102_x.sql"]
    assert dbmate.operations == ("DROP TABLE t",) and dbmate.reversible is True
    assert found["db/migrate/20240103_y.sql"].reversible is False


def test_sql_outside_migration_folders_counts_only_with_ddl(tmp_path: Path) -> None:
    found = changes(tmp_path, {}, {
        "reports/monthly.sql": "SELECT count(*) FROM orders; -- DROP TABLE nothing",
        "ops/cleanup.SQL": "DROP TABLE old_orders;",
    })  # fmt: skip
    assert list(found) == ["ops/cleanup.SQL"]


def test_unparsable_sql_migration_fails_closed(tmp_path: Path) -> None:
    found = changes(tmp_path, {}, {"db/migrations/3.sql": "CREATE TABLE t (a text DEFAULT 'x);"})
    c = found["db/migrations/3.sql"]
    assert (c.parsed, c.destructive, c.operations) == (False, True, ("unparsable",))
    assert "unterminated" in c.reasons[0]


def test_flyway_versioned_undo_and_repeatable(tmp_path: Path) -> None:
    base = {"src/main/resources/db/migration/V1__init.sql": "CREATE TABLE users (id int, email text);"}
    head = {
        "src/main/resources/db/migration/V2__drop_email.sql": "ALTER TABLE users DROP COLUMN email;",
        "src/main/resources/db/migration/U2__drop_email.sql": "ALTER TABLE users ADD COLUMN email text;",
        "src/main/resources/db/migration/V3__rename.sql": "ALTER TABLE users RENAME TO people;",
        "src/main/resources/db/migration/R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 1;",
        "src/main/resources/db/migration/V1__init.sql": "CREATE TABLE users (id bigint, email text);",
    }
    found = {k.rsplit("/", 1)[1]: v for k, v in changes(tmp_path, base, head).items()}
    v2, u2, v3 = found["V2__drop_email.sql"], found["U2__drop_email.sql"], found["V3__rename.sql"]
    assert (v2.kind, v2.destructive, v2.reversible) == ("flyway", True, True)
    assert v2.reverse_reasons == ("undo migration: src/main/resources/db/migration/U2__drop_email.sql",)
    assert (u2.reversible, u2.destructive) == (None, False)
    assert (v3.destructive, v3.reversible) == (True, False)
    assert found["R__views.sql"].reversible is None and not found["R__views.sql"].released
    v1 = found["V1__init.sql"]
    assert (v1.status, v1.released) == ("modified", True)


CHANGELOG = """<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog
        http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-4.20.xsd">
    <changeSet id="1" author="ann">
        <createTable tableName="users">
            <column name="id" type="int"><constraints primaryKey="true"/></column>
            <column name="email" type="varchar(200)"/>
        </createTable>
    </changeSet>
{more}</databaseChangeLog>
"""
DROP_CS = """    <changeSet id="2" author="ann">
        <dropColumn tableName="users" columnName="email"/>
    </changeSet>
"""
RENAME_CS = """    <changeSet id="3" author="ann">
        <renameColumn tableName="users" oldColumnName="name" newColumnName="full_name"/>
        <sql>UPDATE users SET full_name = trim(full_name)</sql>
        <rollback><sql>SELECT 1</sql></rollback>
    </changeSet>
"""


def test_liquibase_xml_changelog_grows_by_appending(tmp_path: Path) -> None:
    path = "db/changelog/db.changelog-master.xml"
    found = changes(tmp_path, {path: CHANGELOG.format(more="")},
                    {path: CHANGELOG.format(more=DROP_CS + RENAME_CS)})  # fmt: skip
    c = found[path]
    assert c.kind == "liquibase" and c.status == "modified" and not c.released
    assert c.operations == (
        "dropColumn users.email", "renameColumn users.name", "sql: UPDATE users"
    )
    assert c.destructive and c.reversible is False
    assert c.reverse_reasons == ("changeSet(s) without a rollback: 2",)


def test_liquibase_released_changeset_edited_is_flagged(tmp_path: Path) -> None:
    path = "db/changelog.xml"
    edited = CHANGELOG.replace("varchar(200)", "varchar(20)").format(more="")
    found = changes(tmp_path, {path: CHANGELOG.format(more="")}, {path: edited})
    assert found[path].released
    assert any("released changeSet" in r for r in found[path].reasons)


def test_liquibase_yaml_and_formatted_sql(tmp_path: Path) -> None:
    yaml_log = """databaseChangeLog:
  - changeSet:
      id: 7
      author: bob
      changes:
        - createTable:
            tableName: t
            columns: [{column: {name: id, type: int}}]
  - changeSet:
      id: 8
      author: bob
      changes:
        - dropTable: {tableName: legacy}
      rollback:
        - createTable: {tableName: legacy}
"""
    formatted = """--liquibase formatted sql

--changeset bob:1
CREATE TABLE t (id int);
--rollback DROP TABLE t;

--changeset bob:2
ALTER TABLE t DROP COLUMN id;
"""
    found = changes(tmp_path, {}, {"db/changelog.yaml": yaml_log, "db/changes.sql": formatted})
    y = found["db/changelog.yaml"]
    assert (y.operations, y.destructive, y.reversible) == (
        ("createTable t", "dropTable legacy"), True, True
    )
    f = found["db/changes.sql"]
    assert (f.kind, f.destructive, f.reversible) == ("liquibase", True, False)
    assert f.reverse_reasons == ("changeset(s) without --rollback: bob:2",)


def test_liquibase_xml_with_entities_is_refused(tmp_path: Path) -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<databaseChangeLog><changeSet id="1" author="x"><dropTable tableName="&b;"/>'
            '</changeSet></databaseChangeLog>')  # fmt: skip
    c = changes(tmp_path, {}, {"db/changelog.xml": bomb})["db/changelog.xml"]
    assert (c.parsed, c.destructive) == (False, True)
