"""Hostile input: every detector answers (a result or "unparsable"), never crashes or hangs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.evidence.schema import alembic, django, liquibase, openapi, prisma
from gatekeeper.evidence.schema import sql as sqlmod
from gatekeeper.evidence.schema.model import Analysis, Source
from gatekeeper.evidence.schema.sqltok import SqlSyntaxError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SQL_WORDS = st.sampled_from([
    "CREATE", "TABLE", "DROP", "ALTER", "COLUMN", "TYPE", "FUNCTION", "PROCEDURE", "BEGIN",
    "END", "CASE", "IF", "DO", "DELETE", "FROM", "t", "x", ";", "(", ")", ",", "'", "''",
    "\"", "$$", "$a$", "--", "\n", "/*", "*/", "E'", "\\", "#", "DELIMITER", "//", "/*!",
    "RENAME", "TRUNCATE", "AS", "LANGUAGE", "`", ".",
])  # fmt: skip


def check(result: Analysis) -> None:
    assert isinstance(result, Analysis)
    if not result.parsed:
        assert result.destructive and result.operations == ("unparsable",)


@FAST
@given(st.lists(SQL_WORDS, max_size=60).map(" ".join))
def test_sql_classify_answers_or_refuses(text: str) -> None:
    try:
        found = sqlmod.classify(text)
    except SqlSyntaxError:
        return
    assert all(isinstance(op, str) for op in found.operations)


@FAST
@given(st.lists(SQL_WORDS, max_size=60).map(" ".join),
       st.sampled_from(["db/1.sql", "V1__x.sql", "db/a.up.sql"]))  # fmt: skip
def test_sql_file_analyzers_never_crash(text: str, path: str) -> None:
    src = Source(path, "added", text.encode(), None)
    for analyze in (sqlmod.analyze_sql, sqlmod.analyze_flyway, sqlmod.analyze_liquibase_sql):
        check(analyze(src))


PY_PARTS = st.sampled_from([
    "class Migration(migrations.Migration):\n", "    operations = [", "]\n", "migrations.RunSQL(",
    "migrations.RunPython(", "'DROP TABLE x'", ")", ",", "reverse_sql=", "revision = 'a'\n",
    "down_revision = None\n", "def upgrade():\n", "def downgrade():\n", "    pass\n",
    "    op.drop_column('t', 'c')\n", "op.execute(", "with op.batch_alter_table('t') as b:\n",
    "        b.drop_column('c')\n", "(", "[", "\n", "    ", "migrations.AlterField(",
    "model_name='a', name='b', field=models.CharField(max_length=1)", "sa.text(", "\\",
])  # fmt: skip


@FAST
@given(st.lists(PY_PARTS, max_size=40).map("".join))
def test_python_migration_analyzers_never_crash(text: str) -> None:
    src = Source("app/migrations/0002_x.py", "added", text.encode(), None)
    check(django.analyze(src))
    check(alembic.analyze(src))


def test_deeply_nested_python_is_unparsable_not_a_crash() -> None:
    text = "class Migration(migrations.Migration):\n    operations = " + "[" * 5000 + "]" * 5000
    result = django.analyze(Source("a/migrations/0001_x.py", "added", text.encode(), None))
    assert not result.parsed


@FAST
@given(st.text(alphabet=st.sampled_from(list("model enum User{}?[]@default(\"}//\n id Int String")),
               max_size=300), st.text(max_size=50))  # fmt: skip
def test_prisma_never_crashes(head: str, base: str) -> None:
    check(prisma.analyze(Source("schema.prisma", "modified", head.encode(), base.encode())))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(
        ["3.0.0", "string", "integer", "#/components/schemas/A", "#/", "#/paths", "get", "200"]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["openapi", "paths", "/a", "get", "post", "parameters", "responses",
                         "200", "content", "application/json", "schema", "$ref", "required",
                         "properties", "type", "name", "in", "requestBody", "components",
                         "schemas", "A"]),
        inner, max_size=5),
    max_leaves=40,
)  # fmt: skip


@FAST
@given(JSONISH, JSONISH)
def test_openapi_diff_never_crashes(old: object, new: object) -> None:
    import json

    def doc(value: object) -> bytes:
        body = value if isinstance(value, dict) else {"x": value}
        return json.dumps({**body, "openapi": "3.0.0"}).encode()

    check(openapi.analyze(Source("api.json", "modified", doc(new), doc(old))))


def test_openapi_alias_bomb_is_bounded() -> None:
    lines = ["openapi: 3.0.0", "a0: &a0 {type: object, properties: {p: {type: string}}}"]
    for i in range(1, 12):
        refs = ", ".join(f"k{j}: *a{i - 1}" for j in range(10))
        lines.append(f"a{i}: &a{i} {{type: object, properties: {{{refs}}}}}")
    paths = ", ".join(f"'/p{j}': {{get: {{responses: {{'200': {{content: {{application/json: "
                      f"{{schema: *a11}}}}}}}}}}}}" for j in range(50))  # fmt: skip
    lines.append(f"paths: {{{paths}}}")
    text = "\n".join(lines).encode()
    result = openapi.analyze(Source("api.yaml", "modified", text.replace(b"string", b"integer"), text))
    assert isinstance(result, Analysis)  # finished: the step budget bounds the walk


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_liquibase_never_crashes(data: bytes) -> None:
    for path in ("db/changelog.xml", "db/changelog.yaml", "db/changelog.json"):
        body = b"databaseChangeLog" + data
        check(liquibase.analyze(Source(path, "added", body, None)))


def test_openapi_step_budget_refuses_a_document_too_large_to_compare(monkeypatch) -> None:
    monkeypatch.setattr(openapi, "BUDGET", 50)
    doc = "openapi: 3.0.0\npaths:\n" + "".join(f"  /p{i}: {{get: {{}}}}\n" for i in range(100))
    result = openapi.analyze(Source("api.yaml", "modified", doc.encode(), doc.encode()))
    assert not result.parsed and "exceeds 50 steps" in result.reasons[0]
