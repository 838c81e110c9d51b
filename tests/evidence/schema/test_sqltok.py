from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.evidence.schema.sqltok import SqlSyntaxError, split, tokenize


def kinds(text: str, dialect: str = "standard") -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text, dialect).tokens]


def statements(text: str, dialect: str = "standard") -> list[str]:
    return [" ".join(t.text for t in s.tokens) for s in split(text, dialect)[0]]


def test_comments_strings_and_identifiers_hide_semicolons() -> None:
    text = """SELECT 'a;b''c' -- x; y
    ; /* one /* nested ; */ still comment ; */ SELECT "we;ird" ; SELECT E'q\\';r'"""
    assert statements(text) == ["SELECT 'a;b''c'", 'SELECT "we;ird"', "SELECT E'q\\';r'"]


def test_dollar_quotes_with_and_without_tags() -> None:
    text = "CREATE FUNCTION f() AS $fn$ DELETE FROM t; $x$ ; $fn$ LANGUAGE sql; SELECT $$a;b$$"
    toks = kinds(text)
    assert ("dollar", "$fn$ DELETE FROM t; $x$ ; $fn$") in toks
    assert ("dollar", "$$a;b$$") in toks
    assert len(statements(text)) == 2


def test_positional_parameters_and_dollar_in_identifiers_are_not_quotes() -> None:
    assert kinds("SELECT $1, a$b$ FROM t") == [
        ("word", "SELECT"), ("param", "$1"), ("punct", ","), ("word", "a$b$"),
        ("word", "FROM"), ("word", "t"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["SELECT 'open", 'SELECT "open', "SELECT $$ open", "/* open", "/* a /* b */", "SELECT $t$ x $u$"],
)
def test_unterminated_constructs_are_errors(text: str) -> None:
    with pytest.raises(SqlSyntaxError):
        tokenize(text)


def test_routine_bodies_keep_their_semicolons_until_end() -> None:
    text = (
        "CREATE PROCEDURE p() BEGIN DELETE FROM t; IF x THEN SELECT 1; END IF; "
        "CASE WHEN a THEN SELECT 2; END CASE; END; DROP TABLE y;"
    )
    out = statements(text)
    assert len(out) == 2 and out[1] == "DROP TABLE y"


def test_transaction_begin_is_not_a_block() -> None:
    assert statements("BEGIN; DROP TABLE a; COMMIT;") == ["BEGIN", "DROP TABLE a", "COMMIT"]


def test_unbalanced_routine_body_is_an_error_not_a_hiding_place() -> None:
    with pytest.raises(SqlSyntaxError):
        split("CREATE PROCEDURE p() BEGIN SELECT 1; DROP TABLE secret;")


def test_mysql_delimiter_and_executable_comments() -> None:
    text = "DELIMITER $$\nCREATE PROCEDURE p() BEGIN DELETE FROM t; END$$\nDELIMITER ;\nDROP TABLE z;"
    out = statements(text, "mysql")
    assert out[0].startswith("CREATE PROCEDURE p") and out[0].endswith("END")
    assert out[-1] == "DROP TABLE z"
    assert statements("/*!50000 DROP TABLE q */;", "mysql") == ["DROP TABLE q"]


def test_ambiguous_texts_are_marked() -> None:
    assert split("SELECT 'a\\'")[1] is True
    assert split("/* a /* b */ c */ SELECT 1")[1] is True
    assert split("/*!50000 DROP TABLE q */")[1] is True
    assert split("SELECT 'plain'; -- fine")[1] is False


SQLISH = st.text(
    alphabet=st.sampled_from(list("abDROP TABLE;'\"`$/*-\n#\\()E")) | st.characters(),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(SQLISH, st.sampled_from(["standard", "mysql"]))
def test_tokenizer_never_crashes_and_covers_the_text(text: str, dialect: str) -> None:
    try:
        toks = tokenize(text, dialect).tokens
    except SqlSyntaxError:
        return
    # Every token is a slice of the text at its offset, in order, without overlap.
    end = 0
    for tok in toks:
        assert tok.start >= end or dialect == "mysql"
        if dialect == "standard":
            assert text[tok.start : tok.start + len(tok.text)] == tok.text
        end = tok.start + len(tok.text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["SELECT 1", "DROP TABLE t", "CREATE TABLE u (a int)"]), max_size=8),
       st.sampled_from(["-- c;\n", "/* ; */", " ", "\n"]))
def test_split_finds_every_statement_whatever_the_comments(parts: list[str], gap: str) -> None:
    text = gap.join(p + ";" for p in parts)
    assert [s.replace(" ", "") for s in statements(text)] == [p.replace(" ", "") for p in parts]
