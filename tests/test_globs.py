from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.globs import match, match_any

names = st.text(alphabet="ab.-_x*?[]!^\\", min_size=0, max_size=8)
plain = st.text(alphabet="ab.-_x[]!^\\", min_size=0, max_size=8)


@given(pattern=names, name=plain)
def test_without_slashes_it_agrees_with_fnmatch(pattern: str, name: str) -> None:
    assert match(name, pattern) == fnmatch.fnmatchcase(name, pattern)


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("src/a.py", "src/**", True),
        ("src/deep/er/a.py", "src/**", True),
        ("src/a.py", "src/*", True),
        ("src/deep/a.py", "src/*", False),
        ("a.py", "**/*.py", True),
        ("x/y/a.py", "**/*.py", True),
        ("x/y/a.pyc", "**/*.py", False),
        ("db/migrations/0001.sql", "db/**/*.sql", True),
        ("db/0001.sql", "db/**/*.sql", True),
        ("release/1.2", "release/*", True),
        ("release/1.2/hotfix", "release/*", False),
        ("main", "release/*", False),
        ("a[1].txt", "a[[]1].txt", True),
        ("ab", "a[!b]", False),
        ("ac", "a[!b]", True),
        ("new\nline", "new*", True),
    ],
)
def test_double_star_crosses_folders_single_star_does_not(
    path: str, pattern: str, expected: bool
) -> None:
    assert match(path, pattern) is expected


def test_match_any() -> None:
    assert match_any("docs/x.md", ["src/**", "docs/**"])
    assert not match_any("docs/x.md", [])
