"""Markdown task lists (``- [ ] item``) as GitHub renders them, with their line numbers.

The text is parsed by a CommonMark parser (markdown-it-py), not by line patterns: what
counts as a task item must be what a reader sees rendered. An item inside a fenced or
indented code block or an HTML comment is not one, and a fence that CommonMark does not
open must not hide the unticked items after it. A release document is read from the head
commit (``git show``, so a symlink is its target's name, never the file it points at).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

    from gatekeeper.evidence import Evidence

# GFM: a task list item marker is '[', a space or x/X, ']' followed by whitespace. Any
# whitespace counts as "unticked": reading fewer forms than GitHub would miss an item.
_MARKER = re.compile(r"\[([ \t\xa0xX])\](?=\s|$)")
# Control and bidi characters make an item's text read differently from what it is.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\x00-\x1f\x7f]")


@dataclass(frozen=True)
class TaskItem:
    text: str
    """The item's first paragraph without the marker, on one line."""
    checked: bool
    line: int
    """1-based line of the item in the document."""
    depth: int = 0
    """0 for a top-level item, 1 for an item nested in another list item, ..."""


@dataclass(frozen=True)
class TaskList:
    items: tuple[TaskItem, ...]
    section_found: bool
    """False when a section was asked for and no heading has its title."""

    @property
    def unticked(self) -> list[TaskItem]:
        return [i for i in self.items if not i.checked]


def one_line(text: str) -> str:
    """``text`` flattened: no newlines or control characters, single spaces."""
    return " ".join(_INVISIBLE.sub(" ", text).split())


def normalise(text: str) -> str:
    """How item texts and headings are compared: trimmed, single-spaced, case-folded."""
    return one_line(text).casefold()


@cache
def markdown_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt  # lazily: `gatekeeper --help` must stay fast

    return MarkdownIt("commonmark").enable("table")


def parse(text: str, section: str | None = None) -> TaskList:
    """Every task item of ``text`` (only those under the heading titled ``section``, up to
    the next heading of the same or a higher level, when given; every such section)."""
    tokens = markdown_parser().parse(text)
    wanted = normalise(section) if section is not None else None
    inside, level, found = wanted is None, 0, False
    items: list[TaskItem] = []
    depth = -1
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            this = int(token.tag[1])
            title = normalise(tokens[i + 1].content)
            # A heading of the same or a higher level ends a section; a deeper one is in it.
            if wanted is not None and (not inside or this <= level):
                inside = title == wanted
                if inside:
                    level, found = this, True
        elif token.type == "list_item_open":
            depth += 1
            item = _task(tokens, i, depth)
            if item is not None and inside:
                items.append(item)
        elif token.type == "list_item_close":
            depth -= 1
    return TaskList(tuple(items), found or wanted is None)


def _task(tokens: list[Token], i: int, depth: int) -> TaskItem | None:
    """The task item opened at ``tokens[i]``, if its first block is a paragraph with a marker."""
    if i + 2 >= len(tokens) or tokens[i + 1].type != "paragraph_open":
        return None
    inline = tokens[i + 2]
    m = _MARKER.match(inline.content)
    if not m:
        return None
    line = (inline.map or tokens[i].map or [0])[0] + 1
    return TaskItem(one_line(_visible(inline)[m.end() :]), m.group(1) in "xX", line, depth)


def _visible(inline: Token) -> str:
    """The text a reader sees: emphasis, link and code markup and inline HTML (comments
    included) removed, so that ``**Security review** <!-- x -->`` is ``Security review``."""
    parts = []
    for child in inline.children or ():
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def document(ev: Evidence, path: str) -> str | None:
    """The text of ``path`` at the head (None when it does not exist)."""

    def read() -> str | None:
        data = ev.git.read(path)
        return None if data is None else data.decode("utf-8", "replace")

    return ev.cached(("tasklist", "document", path), read)
