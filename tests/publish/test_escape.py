from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.report.escape import escape_code, escape_markdown


def test_mentions_do_not_ping() -> None:
    out = escape_markdown("cc @octocat and @acme/security")
    assert not re.search(r"@[A-Za-z0-9]", out)
    assert out.replace("\u200b", "").replace("\\", "") == "cc @octocat and @acme/security"


def test_html_cannot_hide_content() -> None:
    out = escape_markdown("fix <!-- hidden --> <img src=x onerror=alert(1)>")
    assert "<" not in out and ">" not in out
    assert "&lt;" in out


def test_markdown_cannot_break_a_table_or_link() -> None:
    out = escape_markdown("a | b ](http://evil) **bold** `code`\n# heading")
    assert "\n" not in out
    assert all(f"\\{c}" in out for c in "|]()*`#")


def test_bidi_overrides_are_removed() -> None:
    assert escape_markdown("abc\u202edcba") == "abcdcba"


def test_code_span_cannot_be_closed_early() -> None:
    assert escape_code("a`b") == "``a`b``"
    assert escape_code("`x`") == "`` `x` ``"


@given(st.text(max_size=200))
def test_escaped_text_has_no_active_markup(text: str) -> None:
    out = escape_markdown(text)
    assert "<" not in out and ">" not in out and "\n" not in out and "\r" not in out
    assert not re.search(r"@(?!\u200b)", out)
    # Every Markdown-significant character is backslash-escaped.
    unescaped = re.sub(r"\\.", "", out)
    assert not re.search(r"[`*_\[\]|#]", unescaped)
