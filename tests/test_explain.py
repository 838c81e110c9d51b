"""`gatekeeper explain CHECK` lists nested options with their types (issue 9, item 14)."""

from __future__ import annotations

from typing import Any

import pytest

from gatekeeper.checks import registry
from gatekeeper.explain import explain_check
from tests.factories import run_cli


def test_release_window_lists_freeze_and_allow_items() -> None:
    text = run_cli("explain", "release-window").output
    assert (
        "  freeze (list of object; default [])\n"
        "      Change freezes: no release from start (inclusive) to end (exclusive).\n"
        "      Each item:\n"
        "        start (string; required)\n"
        "            ISO 8601 date or date-time.\n"
    ) in text
    assert "        days (list of mon | tue | wed | thu | fri | sat | sun; required)" in text
    assert "        reason (string; optional)" in text


def test_smoke_coverage_lists_smoke_keys_and_path_map() -> None:
    text = run_cli("explain", "smoke-coverage").output
    assert "  smoke (object; optional)" in text
    assert "      Keys:\n        tests (string or list of string; optional)" in text
    assert "        reports (string or list of string; optional)" in text
    assert "  path_map (mapping of string to string; optional)" in text
    assert "  coverage (string or list of string; required)" in text
    assert '  stale_reports (warn | fail | ignore; default "warn")' in text


def _nested(schema: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(parent, key) for every option below the top level."""
    out = []
    for key, prop in schema.get("properties", {}).items():
        inner = prop.get("items") if isinstance(prop.get("items"), dict) else prop
        for child in inner.get("properties", {}):
            out.append((key, child))
        out += _nested(inner, key)
    return out


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_nested_option_is_explained_below_its_parent(name: str) -> None:
    check = registry()[name]
    text = explain_check(check)
    lines = text.splitlines()
    for parent, child in _nested(check.options):
        parent_at = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith(f"{parent} ("))
        depth = len(lines[parent_at]) - len(lines[parent_at].lstrip())
        below = [ln for ln in lines[parent_at + 1:] if ln.lstrip().startswith(f"{child} (")]
        assert below, (parent, child)
        assert len(below[0]) - len(below[0].lstrip()) > depth, (parent, child)
