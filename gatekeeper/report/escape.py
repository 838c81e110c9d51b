"""Escaping for text that Gatekeeper did not write (PR titles, file names, commit messages).

Such text goes into Markdown that GitHub renders; it must not break the layout, ping
people (@user, @org/team), link issues, or hide content behind HTML comments or tags.
"""

from __future__ import annotations

import re

# The patterns of Markdown text and of plain one-line text are compiled on first use (the
# `re` module caches them), not on import: a run that writes no Markdown and prints no
# error (a JSON report on a laptop) needs neither, and they cost ~0.5 ms to compile.

# Enough to stop emphasis, code, links/images, HTML, tables, strike-through, headings
# and entities; characters that matter only at the start of a line are safe in a cell.
_SPECIAL = r"([\\`*_\[\]#!|<>~&])"
# Bidirectional overrides/isolates make text read differently from what it is (and can
# hide part of it); control characters have no business in a report.
_INVISIBLE = "[\u202a-\u202e\u2066-\u2069\u200e\u200f\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _flat(text: str) -> str:
    return " ".join(re.sub(_INVISIBLE, "", printable(str(text))).split())


def md_text(text: str) -> str:
    """Escape ``text`` for inline Markdown: every markup character is backslash-escaped,
    newlines become spaces, and '@' / '#' are neutralised so nobody is mentioned."""
    flat = _flat(text)
    escaped = re.sub(_SPECIAL, r"\\\1", flat)
    # A zero-width joiner after '@' stops GitHub from turning it into a mention.
    return escaped.replace("@", "@\u200d")


def md_code(text: str) -> str:
    """``text`` as inline code: a fence longer than any backtick run inside it."""
    flat = _flat(text)
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


# Lone surrogates: the undecodable bytes of a file name that is not UTF-8 (git paths are
# decoded with 'surrogateescape'). No UTF-8 writer accepts them.
_SURROGATE = re.compile("[\ud800-\udfff]")
# What must not reach a terminal or a CI log raw: line breaks (a new line could start a
# workflow command such as ::stop-commands:: or ::add-mask::), C0/C1 controls (ESC
# restyles or rewrites the terminal), bidirectional controls, line/paragraph separators.
_UNSAFE_PLAIN = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _show_surrogate(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def _show_control(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    return _NAMED.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """``text`` with the bytes of a non-UTF-8 file name shown as ``\\xNN``: writable as
    UTF-8 anywhere (job summary, comment, status, report files, a terminal)."""
    return _SURROGATE.sub(_show_surrogate, text)


def has_surrogate(text: str) -> bool:
    """Whether ``printable`` would change ``text``."""
    return _SURROGATE.search(text) is not None


def plain(text: object) -> str:
    """``text`` as one line of plain text for a terminal or CI log: line breaks, control
    and bidirectional characters and undecodable bytes shown as escapes (``\\n``,
    ``\\x1b``, ``\\u202e``, ``\\xff``), so text from a change can neither start a line of
    its own nor restyle the output."""
    return re.sub(_UNSAFE_PLAIN, _show_control, printable(str(text)))
