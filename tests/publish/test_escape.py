"""PR-originated text through the shared escaping helper (gatekeeper.report.escape)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.report.escape import md_code, md_text

ZWJ = "\u200d"


def test_mentions_do_not_ping() -> None:
    out = md_text("cc @octocat and @acme/security")
    assert not re.search(r"@[A-Za-z0-9]", out)
    assert out.replace(ZWJ, "").replace("\\", "") == "cc @octocat and @acme/security"


def test_html_cannot_hide_content() -> None:
    out = md_text("fix <!-- hidden --> <img src=x onerror=alert(1)>")
    assert not re.search(r"(?<!\\)[<>]", out)


def test_markdown_cannot_break_a_table_or_link() -> None:
    out = md_text("a | b ](http://evil) **bold** `code`\n# heading")
    assert "\n" not in out
    assert all(f"\\{c}" in out for c in "|]*`#")


def test_bidi_overrides_and_controls_are_removed() -> None:
    assert md_text("abc\u202edcba\x00") == "abcdcba"
    assert md_code("a\u2066b") == "`ab`"


def test_code_span_cannot_be_closed_early() -> None:
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"


@given(st.text(max_size=200))
def test_escaped_text_has_no_active_markup(text: str) -> None:
    out = md_text(text)
    assert "\n" not in out and "\r" not in out
    assert not re.search(f"@(?!{ZWJ})", out)
    unescaped = re.sub(r"\\.", "", out)
    assert not re.search(r"[`*_\[\]|#<>]", unescaped)
