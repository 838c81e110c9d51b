"""Raw SQL migrations: plain ``*.sql``, Flyway ``V/U/R`` files and Liquibase formatted SQL.

Statements come from the tokenizer (``sqltok``), so a ``DROP`` inside a comment, a string or
a dollar-quoted function body is not a statement. Destructive: ``DROP …``, ``TRUNCATE``,
``ALTER … DROP``, a column type change, ``SET NOT NULL``, ``RENAME`` (and ``DELETE``, which
loses rows). DML inside a function body is not a schema change, but a ``DO`` block runs
now, so its body is read like top-level SQL, and DDL inside any routine body is reported.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from gatekeeper.evidence.schema.model import Analysis, Findings, Source, decode, unparsable
from gatekeeper.evidence.schema.sqltok import SqlSyntaxError, Statement, Token, split

_NAME_KINDS = {"word", "qident"}
_CREATE_SKIP = {
    "OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "UNIQUE",
    "MATERIALIZED", "RECURSIVE", "CONSTRAINT", "DEFINER", "ALGORITHM", "SQL", "SECURITY",
    "FULLTEXT", "SPATIAL", "ONLINE", "OFFLINE", "CLUSTERED", "NONCLUSTERED", "FOREIGN",
    "TRUSTED", "PROCEDURAL", "EXTERNAL", "AGGREGATE", "DEFAULT",
}  # fmt: skip
_NAME_SKIP = {"IF", "NOT", "EXISTS", "CONCURRENTLY", "ONLY", "ON", "DATA"}
_DDL = {"CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "COMMENT", "GRANT", "REVOKE"}
_DML = {"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT", "COPY"}
_VERBS = _DDL | _DML | {"DO"}
_HARMLESS_DROPS = {"DEFAULT", "NOT", "IDENTITY", "EXPRESSION"}
MAX_DEPTH = 4
"""How deep DO blocks and routine bodies are re-read (each level reads its own text)."""


def _name_at(tokens: list[Token], start: int) -> tuple[str, int]:
    """The object name at ``start`` (``schema.table`` joined), skipping IF EXISTS etc.,
    and the index after it."""
    i = start
    while i < len(tokens) and tokens[i].upper in _NAME_SKIP:
        i += 1
    parts: list[str] = []
    while i < len(tokens):
        psql_var = tokens[i].text == ":" and i + 1 < len(tokens) and tokens[i + 1].kind in _NAME_KINDS
        if psql_var:  # psql's :VARIABLE (e.g. a schema name set by the migration runner)
            i += 1
        elif tokens[i].kind not in _NAME_KINDS:
            break
        parts.append((":" if psql_var else "") + tokens[i].text)
        i += 1
        if i + 1 < len(tokens) and tokens[i].text == "." and (
            tokens[i + 1].kind in _NAME_KINDS or tokens[i + 1].text == ":"
        ):
            i += 1
            continue
        break
    return ".".join(parts) or "?", i


def _name(tokens: list[Token], start: int) -> str:
    return _name_at(tokens, start)[0]


def _split_top(tokens: list[Token], start: int) -> list[list[Token]]:
    """Comma-separated parts of ``tokens[start:]`` outside parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens[start:]:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth = max(0, depth - 1)
        elif tok.text == "," and depth == 0:
            parts.append([])
            continue
        parts[-1].append(tok)
    return [p for p in parts if p]


def _alter_action(table: str, action: list[Token], out: Findings) -> None:
    words = [t.upper for t in action]
    head = words[0]
    if head == "DROP":
        what = words[1] if len(words) > 1 else ""
        if what in _HARMLESS_DROPS:
            out.add(f"ALTER TABLE {table} DROP {what}")
            return
        if what in ("COLUMN", "CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "PARTITION"):
            out.add(f"ALTER TABLE {table} DROP {what} {_name(action, 2)}", destructive=True)
        else:
            out.add(f"ALTER TABLE {table} DROP COLUMN {_name(action, 1)}", destructive=True)
    elif head in ("RENAME",):
        out.add(f"ALTER TABLE {table} RENAME", destructive=True)
    elif head in ("MODIFY", "CHANGE"):
        col = _name(action, 2 if len(words) > 1 and words[1] == "COLUMN" else 1)
        out.add(f"ALTER TABLE {table} {head} {col}", destructive=True)
    elif head == "ALTER":
        col = _name(action, 2 if len(words) > 1 and words[1] == "COLUMN" else 1)
        if "TYPE" in words:
            out.add(f"ALTER TABLE {table} ALTER COLUMN {col} TYPE", destructive=True)
        elif "SET" in words and "NOT" in words and "NULL" in words:
            out.add(f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL", destructive=True)
        elif "DROP" in words and not (set(words) & _HARMLESS_DROPS):
            out.add(f"ALTER TABLE {table} ALTER COLUMN {col} DROP", destructive=True)
        else:
            out.add(f"ALTER TABLE {table} ALTER COLUMN {col}")
    elif head == "ADD":
        what = words[1] if len(words) > 1 and words[1] in ("COLUMN", "CONSTRAINT", "INDEX") else ""
        target = _name(action, 2 if what else 1)
        out.add(f"ALTER TABLE {table} ADD {what + ' ' if what else ''}{target}".replace("  ", " "))
    else:
        out.add(f"ALTER TABLE {table} {head}")


def _alter(st: Statement, out: Findings) -> None:
    toks = list(st.tokens)
    words = st.words
    obj = words[1] if len(words) > 1 else ""
    if obj == "TABLE":
        table, i = _name_at(toks, 2)
        for action in _split_top(toks, i):
            _alter_action(table, action, out)
        return
    name = _name(toks, 2)
    destructive = "RENAME" in words or any(
        w == "DROP" and (words[i + 1] if i + 1 < len(words) else "") not in _HARMLESS_DROPS
        for i, w in enumerate(words)
    )
    out.add(f"ALTER {obj} {name}", destructive=destructive)


def _create(st: Statement, out: Findings, depth: int) -> None:
    toks = list(st.tokens)
    i = 1
    while i < len(toks) and (toks[i].upper in _CREATE_SKIP or toks[i].kind != "word"):
        i += 1  # also skips DEFINER = `x`@`y` and ALGORITHM = MERGE values
        if i < len(toks) and toks[i - 1].text == "=":
            i += 1
    obj = toks[i].upper if i < len(toks) else "?"
    name = _name(toks, i + 1)
    if obj == "INDEX" and name == "?":
        name = "(unnamed)"
    out.add(f"CREATE {obj} {name}")
    if obj in ("FUNCTION", "PROCEDURE", "TRIGGER", "PACKAGE", "EVENT", "RULE"):
        _routine_body(toks, name, out, depth)


def _routine_body(toks: list[Token], name: str, out: Findings, depth: int) -> None:
    """DDL inside a routine runs when the routine is called: report it; DML is not a
    schema change. Bodies come as dollar/string literals or as BEGIN … END code."""
    bodies = [t.body() for t in toks if t.kind in ("dollar", "string") and len(t.text) > 12]
    begin = next((k for k, t in enumerate(toks) if t.upper in ("BEGIN", "AS", "RETURN")), None)
    if begin is not None:
        bodies.append(" ".join(t.text for t in toks[begin + 1 :] if t.kind != "dollar"))
    for body in bodies:
        found = _read(body, depth + 1)
        if found is None:
            continue
        for op in found.operations:
            verb = op.split(" ", 1)[0]
            if verb in ("DROP", "TRUNCATE", "ALTER", "RENAME"):
                destructive = verb != "ALTER" or found.destructive
                out.add(f"{op} (inside {name})", destructive=destructive)


def _do_block(st: Statement, out: Findings, depth: int) -> None:
    """``DO $$ … $$`` runs now: its statements count as if written at the top level."""
    for tok in st.tokens:
        if tok.kind in ("dollar", "string"):
            found = _read(tok.body(), depth + 1)
            if found is None:
                out.add(
                    "DO (body not readable)",
                    destructive=True,
                    reason="a DO block whose body cannot be read is treated as destructive",
                )
            else:
                out.merge(found, prefix="DO: ")
            return
    out.add("DO")


def _read(text: str, depth: int) -> Findings | None:
    if depth > MAX_DEPTH:
        return None
    try:
        return classify(text, depth)
    except SqlSyntaxError:
        return None


def _statement(st: Statement, out: Findings, depth: int) -> None:
    words = st.words
    head = words[0]
    if head == "WITH":
        head = next((w for w in words if w in _DML), "SELECT")
    if head == "CREATE":
        _create(st, out, depth)
    elif head == "DROP":
        obj = words[1] if len(words) > 1 else "?"
        out.add(f"DROP {obj} {_name(list(st.tokens), 2)}", destructive=True)
    elif head == "ALTER":
        _alter(st, out)
    elif head == "TRUNCATE":
        rest = 2 if len(words) > 1 and words[1] == "TABLE" else 1
        out.add(f"TRUNCATE {_name(list(st.tokens), rest)}", destructive=True)
    elif head == "RENAME":
        out.add(f"RENAME {_name(list(st.tokens), 2)}", destructive=True)
    elif head in ("EXEC", "EXECUTE") and any(t.text.lower() == "sp_rename" for t in st.tokens):
        out.add("EXEC sp_rename", destructive=True)
    elif head == "DELETE":
        out.add(f"DELETE FROM {_name(list(st.tokens), 2)}", destructive=True)
    elif head in _DML:
        at = 2 if len(words) > 1 and words[1] in ("INTO", "FROM") else 1
        out.add(f"{head} {_name(list(st.tokens), at)}")
    elif head == "DO":
        _do_block(st, out, depth)
    elif head in ("COMMENT", "GRANT", "REVOKE"):
        out.add(" ".join(words[:2]).strip())


def _each(st: Statement, out: Findings, depth: int) -> None:
    if depth:
        # Inside a body, statements follow block words (BEGIN, DECLARE …; IF … THEN):
        # start each at its first verb.
        words = st.words
        k = next((i for i, w in enumerate(words) if w in _VERBS), None)
        if k is None:
            return
        st = Statement(st.tokens[k:], st.line)
    if st.tokens[0].kind == "word":
        _statement(st, out, depth)


def add_classified(out: Findings, text: str, label: str, unreadable: str, context: str) -> None:
    """Classify one SQL text into ``out`` as ``label: OPERATION`` (``label`` alone for SQL
    that changes no schema); SQL that cannot be read is an operation of its own,
    ``unreadable``, and destructive (fail closed)."""
    try:
        found = classify(text)
    except SqlSyntaxError as e:
        out.add(unreadable, True, f"{context}: {e}")
        return
    if not found.operations:
        out.add(label)
    out.merge(found, prefix=f"{label}: ")


def classify(text: str, depth: int = 0) -> Findings:
    """Operations of a SQL text; raises ``SqlSyntaxError`` when it cannot be read.

    A dialect-ambiguous text is read as standard SQL and as MySQL, and the operations of
    both readings are reported (an attacker must not choose the reading we see).
    """
    statements, ambiguous = split(text)
    out = Findings()
    for st in statements:
        _each(st, out, depth)
    if ambiguous:
        try:
            other, _ = split(text, "mysql")
        except SqlSyntaxError:
            return out
        alt = Findings()
        for st in other:
            _each(st, alt, depth)
        for op in alt.operations:
            if op not in out.operations:
                out.add(op, reason="read differently by MySQL: " + op)
        out.destructive |= alt.destructive
    return out


def has_ddl(findings: Findings) -> bool:
    return any(op.split(" ", 1)[0] in _DDL or op.startswith("DO") for op in findings.operations)


# -- files --------------------------------------------------------------------------

FLYWAY = re.compile(r"^([VUR])(\d+(?:[._]\d+)*)?__.*\.sql$", re.IGNORECASE)
_LIQUIBASE_HEADER = re.compile(r"\A(?:\s*)--\s*liquibase\s+formatted\s+sql", re.IGNORECASE)
_CHANGESET = re.compile(r"^\s*--\s*changeset\s+(\S+)", re.IGNORECASE | re.MULTILINE)
_ROLLBACK = re.compile(
    r"^\s*--\s*rollback\b(.*)$|/\*\s*liquibase\s+rollback\b", re.IGNORECASE | re.MULTILINE
)
_DBMATE_DOWN = re.compile(r"^\s*--\s*migrate:down\b", re.IGNORECASE | re.MULTILINE)


def is_liquibase_sql(text: str) -> bool:
    return _LIQUIBASE_HEADER.match(text) is not None


def flyway_parts(path: str) -> tuple[str, str] | None:
    """(prefix, version) of a Flyway file name (``V1_2__x.sql`` -> ``("V", "1.2")``)."""
    m = FLYWAY.match(PurePosixPath(path).name)
    if not m:
        return None
    return m.group(1).upper(), (m.group(2) or "").replace("_", ".")


def _findings(text: str) -> Findings | Analysis:
    try:
        return classify(text)
    except SqlSyntaxError as e:
        return unparsable(f"SQL cannot be read: {e}")


def analyze_flyway(src: Source) -> Analysis:
    parts = flyway_parts(src.path) or ("V", "")
    found = _findings(src.text)
    if isinstance(found, Analysis):
        return found
    prefix, version = parts
    if prefix == "U":
        return found.analysis(None, ("an undo migration (the reverse of V" + version + ")",))
    if prefix == "R":
        return found.analysis(None, ("a repeatable migration: re-applied when it changes",))
    undo = _flyway_undo(src, version)
    if undo:
        return found.analysis(True, (f"undo migration: {undo}",))
    return found.analysis(False, (f"no Flyway undo migration U{version}__*.sql",))


def _flyway_undo(src: Source, version: str) -> str | None:
    for path in sorted(src.head_files):
        parts = flyway_parts(path)
        if parts and parts[0] == "U" and parts[1] == version:
            return path
    return None


def _changesets(text: str) -> dict[str, str]:
    chunks = _CHANGESET.split(text)
    return {chunks[k]: chunks[k + 1] for k in range(1, len(chunks), 2)}


def analyze_liquibase_sql(src: Source) -> Analysis:
    """Only the changesets the change adds or edits are read; an edited released changeset
    marks the file ``released``."""
    head = _changesets(src.text if src.head is not None else "")
    base = _changesets(decode(src.base)) if src.base is not None else {}
    changed = [cid for cid, body in base.items() if head.get(cid) != body]
    fresh = {cid: body for cid, body in head.items() if base.get(cid) != body}
    found = _findings("\n".join(fresh.values()))
    if isinstance(found, Analysis):
        return found
    missing = [cid for cid, body in fresh.items() if not _ROLLBACK.search(body)]
    if changed:
        found.reasons.append(f"released changeset(s) changed or removed: {', '.join(changed)}")
    extra = (f"changeset(s) without --rollback: {', '.join(missing)}",) if missing else ()
    return found.analysis(not missing, extra, released=bool(changed))


def analyze_sql(src: Source) -> Analysis:
    text = src.text
    name = PurePosixPath(src.path).name.lower()
    down = _DBMATE_DOWN.search(text)
    found = _findings(text[: down.start()] if down else text)
    if isinstance(found, Analysis):
        return found
    if down:
        rest = text[down.end() :].strip()
        return found.analysis(bool(rest), () if rest else ("the migrate:down section is empty",))
    if name.endswith(".down.sql") or name.endswith("_down.sql") or name == "down.sql":
        return found.analysis(None, ("a down migration (the reverse of its up file)",))
    for up, dn in ((".up.sql", ".down.sql"), ("_up.sql", "_down.sql"), ("up.sql", "down.sql")):
        if name.endswith(up):
            pair = src.path[: len(src.path) - len(up)] + dn
            if pair in src.head_files or pair.lower() in {p.lower() for p in src.head_files}:
                return found.analysis(True, (f"down migration: {pair}",))
            return found.analysis(False, (f"no down migration {pair}",))
    return found.analysis(False, ("forward-only SQL: no down or undo migration",))
