"""Escaping for text that Gatekeeper did not write (PR titles, file names, commit messages).

Such text goes into Markdown that GitHub renders; it must not break the layout, ping
people (@user, @org/team), link issues, or hide content behind HTML comments or tags.
"""

from __future__ import annotations

import re

# Enough to stop emphasis, code, links/images, HTML, tables, strike-through, headings
# and entities; characters that matter only at the start of a line are safe in a cell.
_SPECIAL = re.compile(r"([\\`*_\[\]#!|<>~&])")
# Bidirectional overrides/isolates make text read differently from what it is (and can
# hide part of it); control characters have no business in a report.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _flat(text: str) -> str:
    return " ".join(_INVISIBLE.sub("", str(text)).split())


def md_text(text: str) -> str:
    """Escape ``text`` for inline Markdown: every markup character is backslash-escaped,
    newlines become spaces, and '@' / '#' are neutralised so nobody is mentioned."""
    flat = _flat(text)
    escaped = _SPECIAL.sub(r"\\\1", flat)
    # A zero-width joiner after '@' stops GitHub from turning it into a mention.
    return escaped.replace("@", "@\u200d")


def md_code(text: str) -> str:
    """``text`` as inline code: a fence longer than any backtick run inside it."""
    flat = _flat(text)
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
