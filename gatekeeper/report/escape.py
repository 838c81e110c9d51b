"""Escaping of untrusted text (PR titles, branch and file names, commit messages) for
GitHub-flavoured Markdown.

Anyone who opens a pull request chooses these strings, and Gatekeeper's report is posted
with the workflow's token. Escaped text must render as the same characters, but cannot
break the surrounding Markdown (tables, links, emphasis, headings), ping people or teams
(``@name``), hide content (HTML comments and tags, bidirectional overrides) or start new
blocks (newlines).
"""

from __future__ import annotations

import re

_ZWSP = "\u200b"
# Bidirectional overrides/isolates can make text read differently from what it is.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NEWLINES = re.compile(r"\r\n|\r|\n")
# ASCII punctuation that means something in GFM; a backslash before it renders it as is.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


def escape_markdown(text: str, *, inline: bool = True) -> str:
    """``text`` made inert for Markdown: it renders as written and nothing else.

    ``inline`` (the default) folds newlines into spaces so a value stays in its table
    cell or list item; with ``inline=False`` newlines become Markdown hard breaks.
    """
    text = _BIDI.sub("", _CONTROL.sub("", text))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN.sub(r"\\\1", text)
    # A zero-width space after '@' stops mentions (users and org/team) from pinging.
    text = text.replace("@", "@" + _ZWSP)
    if inline:
        return _NEWLINES.sub(" ", text)
    return _NEWLINES.sub("  \n", text)


def escape_code(text: str) -> str:
    """``text`` as an inline code span that it cannot close early (no escaping inside
    code spans exists in Markdown, so the fence grows instead)."""
    text = _NEWLINES.sub(" ", _BIDI.sub("", _CONTROL.sub("", text)))
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
