"""The risk register: one entry per risk, read from YAML, CSV or a Markdown table.

Every entry keeps the line it starts on, so that a bad entry, and a risk that blocks,
can be named as ``FILE:LINE``. A register that does not parse, or an entry with an
unknown status or a likelihood/impact outside 1-5, is an ``EvidenceError``: nobody can
say whether the release is safe, so the rule errors and blocks.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.tasklist import one_line

if TYPE_CHECKING:
    from markdown_it.token import Token

    from gatekeeper.evidence import Evidence

STATUSES = ("open", "mitigated", "accepted", "closed")
FIELDS = (
    "id",
    "title",
    "likelihood",
    "impact",
    "owner",
    "mitigation",
    "status",
    "reviewed",
    "accepted_by",
)
REMEDY = (
    "fix the register: each entry needs an id, a status (open | mitigated | accepted | closed) "
    "and a likelihood and an impact from 1 to 5"
)
_INT = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Risk:
    id: str
    line: int
    likelihood: int
    impact: int
    status: str
    title: str = ""
    owner: str = ""
    mitigation: str = ""
    reviewed: date | None = None
    accepted_by: str = ""

    @property
    def score(self) -> int:
        return self.likelihood * self.impact


class RegisterError(EvidenceError):
    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}", REMEDY)


def register(ev: Evidence, path: str) -> list[Risk]:
    """The register at the head (or in the work tree with ``--worktree``)."""

    def read() -> list[Risk]:
        data = ev.git.read(path)
        if data is None:
            raise EvidenceError(
                f"risk register {path} does not exist at {ev.git.head_sha[:12]}",
                f"add the register {path} or fix the rule's `path`",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RegisterError(path, 1, f"not UTF-8 text ({e.reason})") from None
        return parse(path, text)

    return ev.cached(("risks", path), read)


def parse(path: str, text: str) -> list[Risk]:
    """The entries of a register, by its file name's extension."""
    lower = path.lower()
    if lower.endswith((".yml", ".yaml")):
        rows = list(_yaml_rows(path, text))
    elif lower.endswith(".csv"):
        rows = list(_csv_rows(path, text))
    elif lower.endswith((".md", ".markdown")):
        rows = list(_markdown_rows(path, text))
    else:
        raise RegisterError(path, 1, "unknown register format: use .yml, .yaml, .csv or .md")
    risks = [_risk(path, line, row) for line, row in rows]
    seen: dict[str, int] = {}
    for risk in risks:
        if risk.id in seen:
            raise RegisterError(
                path, risk.line, f"duplicate risk id {risk.id!r} (first at line {seen[risk.id]})"
            )
        seen[risk.id] = risk.line
    return risks


def _key(name: object) -> str:
    """A field name as written in a header or a YAML key: 'Accepted by' -> 'accepted_by'."""
    return re.sub(r"[\s-]+", "_", str(name).strip().lower())


# -- formats --------------------------------------------------------------------------


def _yaml_rows(path: str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise RegisterError(
            path, mark.line + 1 if mark else 1, f"YAML syntax error: {e.problem or e.context}"
        ) from None
    except yaml.YAMLError as e:
        raise RegisterError(path, 1, f"YAML error: {e}") from None
    items = _yaml_sequence(path, root)
    loader = yaml.SafeLoader("")
    for node in items.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            raise RegisterError(path, line, "a risk must be a mapping of fields")
        keys = [_key(k.value) for k, _ in node.value]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise RegisterError(path, line, f"duplicate field {duplicates[0]!r}")
        try:
            data = loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            raise RegisterError(path, line, f"YAML error: {e}") from None
        yield line, {_key(k): v for k, v in data.items()}


def _yaml_sequence(path: str, root: Any) -> Any:
    """The list of risks: the document itself, or its ``risks:`` key."""
    import yaml

    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "risks":
                root = value
                break
    if not isinstance(root, yaml.SequenceNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise RegisterError(path, line, "expected a list of risks (or a `risks:` list)")
    return root


def _csv_rows(path: str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [_key(h) for h in next(reader, [])]
        if "id" not in header:
            raise RegisterError(path, 1, "the header row has no `id` column")
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise RegisterError(
                    path, line, f"{len(row)} fields, but the header has {len(header)}"
                )
            yield line, dict(zip(header, row, strict=False))
    except csv.Error as e:
        raise RegisterError(path, reader.line_num or 1, f"CSV error: {e}") from None


def _markdown_rows(path: str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    from gatekeeper.evidence.tasklist import markdown_parser

    tokens = markdown_parser().parse(text)
    for start, token in enumerate(tokens):
        if token.type == "table_open":
            rows = list(_table(tokens, start))
            if rows and "id" in [_key(c) for c in rows[0][1]]:
                header = [_key(c) for c in rows[0][1]]
                for line, cells in rows[1:]:
                    yield line, dict(zip(header, cells, strict=False))
                return
    raise RegisterError(path, 1, "no Markdown table with an `id` column")


def _table(tokens: list[Token], start: int) -> Iterator[tuple[int, list[str]]]:
    """(line, cell texts) for each row of the table opened at ``tokens[start]``."""
    line, cells = 0, list[str]()
    for token in tokens[start + 1 :]:
        if token.type == "table_close":
            return
        if token.type == "tr_open":
            line, cells = (token.map or [0])[0] + 1, []
        elif token.type == "inline":
            cells.append(token.content)
        elif token.type == "tr_close":
            yield line, cells


# -- one entry ----------------------------------------------------------------------


def _risk(path: str, line: int, row: dict[str, Any]) -> Risk:
    def text(name: str) -> str:
        value = row.get(name)
        if value is None:
            return ""
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return one_line("; ".join(value))
        if isinstance(value, dict | list):
            raise RegisterError(path, line, f"`{name}` must be text")
        return one_line(str(value))

    risk_id = text("id")
    if not risk_id:
        raise RegisterError(path, line, "a risk without an `id`")
    status = text("status").lower()
    if status not in STATUSES:
        shown = f"{status!r}" if status else "none"
        raise RegisterError(
            path,
            line,
            f"risk {risk_id}: unknown status {shown} (open | mitigated | accepted | closed)",
        )
    return Risk(
        id=risk_id,
        line=line,
        likelihood=_rating(path, line, risk_id, "likelihood", row.get("likelihood")),
        impact=_rating(path, line, risk_id, "impact", row.get("impact")),
        status=status,
        title=text("title"),
        owner=text("owner"),
        mitigation=text("mitigation"),
        reviewed=_date(path, line, risk_id, row.get("reviewed")),
        accepted_by=text("accepted_by"),
    )


def _rating(path: str, line: int, risk_id: str, name: str, value: Any) -> int:
    """A likelihood or impact: a whole number from 1 to 5, nothing else."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INT.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not 1 <= number <= 5:
        shown = "missing" if value in (None, "") else repr(value)
        raise RegisterError(
            path, line, f"risk {risk_id}: {name} {shown} is not a number from 1 to 5"
        )
    return number


def _date(path: str, line: int, risk_id: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RegisterError(
            path, line, f"risk {risk_id}: reviewed {value!r} is not a date (YYYY-MM-DD)"
        ) from None
