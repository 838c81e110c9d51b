"""A small SQL tokenizer and statement splitter for migration files from pull requests.

It knows what hides text from a database: ``--`` and ``/* */`` comments (nested, as in
PostgreSQL), string literals (``'..'`` with ``''``, ``E'..'`` with backslash escapes),
quoted identifiers (``".."``, backticks) and dollar-quoted bodies (``$$`` and ``$tag$``).
Statements end at ``;`` outside all of those and outside ``BEGIN … END`` routine bodies.

Two dialects disagree on some texts in ways an attacker can use: MySQL treats a backslash
in ``'..'`` as an escape and ends a comment at the first ``*/``, and runs ``/*! … */``.
When a text is read differently by the two (``ambiguous``), callers read it both ways and
report the union. Cost is linear: one regular expression step per token, ``str.find``
for the ends of comments and dollar quotes, no recursion, no backtracking patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TOKENS = 2_000_000
"""Beyond this a text is refused (``SqlSyntaxError``) rather than read slowly."""


class SqlSyntaxError(ValueError):
    """The text cannot be tokenized (an unterminated literal or comment): fail closed."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    """word, qident, string, dollar, number, param, punct, semi, comment; ``delim`` for a
    MySQL ``DELIMITER`` line or custom delimiter, which always ends a statement."""
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    def body(self) -> str:
        """The inside of a dollar-quoted or string token."""
        if self.kind == "dollar":
            tag_end = self.text.index("$", 1) + 1
            return self.text[tag_end : len(self.text) - tag_end]
        if self.kind == "string":
            return self.text[self.text.index("'") + 1 : -1]
        return self.text


_STANDARD = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line>--[^\n]*)
  | (?P<estring>[eE]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*')
  | (?P<string>(?:[nNbBxX]|[uU]&)?'[^']*(?:''[^']*)*')
  | (?P<qident>(?:[uU]&)?"[^"]*(?:""[^"]*)*")
  | (?P<bident>`[^`]*(?:``[^`]*)*`)
  | (?P<dollar>\$(?:[^\W\d]\w*)?\$)
  | (?P<word>[^\W\d]\w*(?:\$\w*)*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<param>\$\d+)
  | (?P<semi>;)
  | (?P<block>/\*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# MySQL: backslash escapes in both quote styles, '#' comments, no dollar quotes.
_MYSQL = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line>(?:--(?=[ \t\r\n]|$)|\#)[^\n]*)
  | (?P<string>(?:[nNbBxX]|_\w+)?'[^'\\]*(?:(?:\\.|'')[^'\\]*)*')
  | (?P<qident>"[^"\\]*(?:(?:\\.|"")[^"\\]*)*")
  | (?P<bident>`[^`]*(?:``[^`]*)*`)
  | (?P<word>[^\W\d]\w*(?:\$\w*)*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<semi>;)
  | (?P<block>/\*)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_DELIMITER = re.compile(r"[ \t]*DELIMITER[ \t]+(\S+)[ \t]*(?:\r?\n|$)", re.IGNORECASE)


@dataclass
class Tokens:
    tokens: list[Token]
    ambiguous: bool = False
    """The other dialect would read this text differently (see the module docstring)."""


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _block_end(text: str, pos: int, nested: bool) -> tuple[int, bool]:
    """End (exclusive) of the block comment opened at ``pos``; whether it nests."""
    depth, i, nests = 1, pos + 2, False
    while depth:
        close = text.find("*/", i)
        if close < 0:
            raise SqlSyntaxError(f"unterminated /* comment starting on line {_line(text, pos)}")
        opener = text.find("/*", i, close) if nested else -1
        if opener >= 0:
            depth += 1
            nests = True
            i = opener + 2
        else:
            depth -= 1
            i = close + 2
    return i, nests


def tokenize(text: str, dialect: str = "standard") -> Tokens:
    """Tokens of ``text`` without whitespace; comments are kept (kind ``comment``)."""
    mysql = dialect == "mysql"
    pattern = _MYSQL if mysql else _STANDARD
    out: list[Token] = []
    ambiguous = False
    delimiter = ";"
    pos, n = 0, len(text)
    at_line_start = True
    while pos < n:
        if len(out) > MAX_TOKENS:
            raise SqlSyntaxError(f"more than {MAX_TOKENS} tokens")
        if mysql and at_line_start and (d := _DELIMITER.match(text, pos)):
            delimiter = d.group(1)
            out.append(Token("delim", d.group(0).strip(), pos))
            pos = d.end()
            continue
        if mysql and delimiter != ";" and text.startswith(delimiter, pos):
            out.append(Token("delim", delimiter, pos))
            pos += len(delimiter)
            at_line_start = False
            continue
        m = pattern.match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup or "punct"
        end = m.end()
        if mysql and delimiter != ";":
            # The client ends a statement at its delimiter, even inside a word (END$$);
            # ';' is then ordinary text.
            cut = text.find(delimiter, pos + 1, end)
            if cut > 0 and kind in ("word", "number", "punct"):
                end = cut
            if kind == "semi":
                kind = "punct"
        if kind == "ws":
            at_line_start = "\n" in m.group(0)
            pos = end
            continue
        at_line_start = False
        if kind == "block":
            if mysql and text.startswith(("/*!", "/*+"), pos):
                # MySQL runs the inside of /*! ... */ (optimizer hints /*+ are harmless
                # but are read the same way): tokenize it as code.
                close = text.find("*/", pos + 3)
                if close < 0:
                    raise SqlSyntaxError(f"unterminated /*! comment on line {_line(text, pos)}")
                head = re.match(r"/\*[!+]\d*", text[pos:close])
                inner_start = pos + (len(head.group(0)) if head else 3)
                inner = tokenize(text[inner_start:close], "mysql").tokens
                out.extend(Token(t.kind, t.text, t.start + inner_start) for t in inner)
                pos = close + 2
                continue
            end, nests = _block_end(text, pos, nested=not mysql)
            ambiguous |= nests or text.startswith(("/*!", "/*+"), pos)
            out.append(Token("comment", text[pos:end], pos))
        elif kind == "line":
            out.append(Token("comment", m.group(0), pos))
        elif kind == "dollar":
            tag = m.group(0)
            close = text.find(tag, end)
            if close < 0:
                raise SqlSyntaxError(f"unterminated {tag} quote starting on line {_line(text, pos)}")
            end = close + len(tag)
            out.append(Token("dollar", text[pos:end], pos))
        elif kind == "punct" and m.group(0) in "'\"`":
            raise SqlSyntaxError(f"unterminated {m.group(0)} quote on line {_line(text, pos)}")
        else:
            token_kind = {"estring": "string", "bident": "qident"}.get(kind, kind)
            token = Token(token_kind, text[pos:end], pos)
            if kind == "string" and not mysql and "\\" in token.text:
                ambiguous = True  # MySQL would read the backslash as an escape
            out.append(token)
        pos = end
    return Tokens(out, ambiguous)


@dataclass(frozen=True)
class Statement:
    tokens: tuple[Token, ...]
    """Code tokens (no comments)."""
    line: int

    @property
    def words(self) -> list[str]:
        return [t.upper for t in self.tokens]


_ROUTINES = {"FUNCTION", "PROCEDURE", "TRIGGER", "EVENT", "PACKAGE", "BODY"}
_END_NOT_CLOSING = {"IF", "LOOP", "WHILE", "REPEAT", "FOR"}


def _is_routine(code: list[Token]) -> bool:
    """A ``CREATE [OR REPLACE] … FUNCTION/PROCEDURE/TRIGGER`` whose body may hold ``;``."""
    if not code or code[0].upper != "CREATE":
        return False
    return any(t.upper in _ROUTINES for t in code[1:8])


def split(text: str, dialect: str = "standard") -> tuple[list[Statement], bool]:
    """The statements of ``text`` and whether the text is dialect-ambiguous."""
    toks = tokenize(text, dialect)
    statements: list[Statement] = []
    code: list[Token] = []
    depth = 0
    after_end = False
    for i, tok in enumerate(toks.tokens):
        if tok.kind == "comment":
            continue
        if tok.kind == "delim":
            depth = 0
        if tok.kind == "delim" or (tok.kind == "semi" and depth == 0):
            if code:
                statements.append(Statement(tuple(code), _line(text, code[0].start)))
            code = []
            after_end = False
            continue
        code.append(tok)
        if tok.kind != "word" or not _is_routine(code):
            continue
        word = tok.upper
        if after_end:  # the CASE of END CASE closes, it does not open
            after_end = False
            continue
        if word in ("BEGIN", "CASE"):
            depth += 1
        elif word == "END" and depth:
            after = _next_word(toks.tokens, i)
            if after not in _END_NOT_CLOSING:
                depth -= 1
            after_end = True
    if depth:
        raise SqlSyntaxError(
            f"routine body starting on line {_line(text, code[0].start)} has no matching END"
        )
    if code:
        statements.append(Statement(tuple(code), _line(text, code[0].start)))
    return statements, toks.ambiguous


def _next_word(tokens: list[Token], i: int) -> str:
    for tok in tokens[i + 1 : i + 3]:
        if tok.kind == "comment":
            continue
        return tok.upper
    return ""
