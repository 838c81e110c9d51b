from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.evidence import Evidence, RunContext, codeowners
from tests.factories import make_repo

# (pattern, path, matches) following GitHub's documented CODEOWNERS examples.
CASES = [
    ("*", "README.md", True),
    ("*", "a/b/c.py", True),
    ("*.js", "app.js", True),
    ("*.js", "web/lib/app.js", True),
    ("*.js", "app.jsx", False),
    ("/build/logs/", "build/logs/a.log", True),
    ("/build/logs/", "build/logs/deep/a.log", True),
    ("/build/logs/", "x/build/logs/a.log", False),
    ("/build/logs/", "build/logs", False),
    ("docs/*", "docs/getting-started.md", True),
    ("docs/*", "docs/build-app/troubleshooting.md", False),
    ("/*", "setup.py", True),
    ("/*", "src/setup.py", False),
    ("apps/", "apps/web/index.ts", True),
    ("apps/", "services/apps/web/index.ts", True),
    ("apps/", "apps", False),
    ("/docs/", "docs/a.md", True),
    ("/docs/", "src/docs/a.md", False),
    ("**/logs", "logs/a.log", True),
    ("**/logs", "deep/er/logs/a.log", True),
    ("**/logs", "deep/catalogs/a", False),
    ("/scripts/", "scripts/deploy.sh", True),
    ("foo", "foo", True),
    ("foo", "bar/foo/baz", True),
    ("foo", "foo.txt", False),
    ("/foo", "bar/foo", False),
    ("foo/bar", "foo/bar/baz", True),
    ("foo/bar", "x/foo/bar", False),
    ("f*", "bar/foo/baz", True),
    ("/f*", "foo/bar", True),
    ("/f*", "bar/foo", False),
    ("foo/*/baz", "foo/bar/baz/qux", True),
    ("foo/*/baz", "foo/baz", False),
    ("foo/**/bar", "foo/bar", True),
    ("foo/**/bar", "foo/a/b/bar/c", True),
    ("foo/bar/**", "foo/bar", False),
    ("foo/bar/**", "foo/bar/baz/qux", True),
    ("foo/**/", "foo/bar", True),
    ("foo/**/", "foo", False),
    ("f?o", "foo", True),
    ("f?o", "fooo", False),
    (r"f\*o", "f*o", True),
    (r"f\*o", "foo", False),
    ("[ab].py", "[ab].py", True),
    ("[ab].py", "a.py", False),
    ("a+b(c).py", "a+b(c).py", True),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_patterns(pattern: str, path: str, expected: bool) -> None:
    assert codeowners.Rule(pattern, (), 1).matches(path) is expected


def test_last_match_wins_and_ownerless_lines_unown() -> None:
    owners = codeowners.parse(
        "# comment\n"
        "*       @acme/everyone\n"
        "*.py    @Alice  @acme/python   # trailing comment\n"
        "/docs/  docs@example.com\n"
        "/docs/generated/\n"
        "!*.md   @nobody\n"
    )
    assert owners.owners_of("src/app.py") == ("alice", "acme/python")
    assert owners.owners_of("README.md") == ("acme/everyone",)
    assert owners.owners_of("docs/intro.py") == ("docs@example.com",)
    assert owners.owners_of("docs/generated/api.md") == ()
    assert owners.problems and owners.problems[0].startswith("6: negated pattern")


segment = st.text(alphabet="abcXYZ019._-+()$^ ", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and s.strip() == s
)
paths = st.lists(segment, min_size=1, max_size=5).map("/".join)


@given(paths)
def test_a_literal_anchored_path_matches_itself_and_below_only(path: str) -> None:
    escaped = path.replace(" ", "\\ ")
    rule = codeowners.Rule("/" + escaped, (), 1)
    assert rule.matches(path)
    assert rule.matches(path + "/child")
    assert not rule.matches(path + "x")
    assert not rule.matches("other/" + path)


@given(paths, st.sampled_from(["py", "md", "x+y"]))
def test_extension_pattern_matches_by_basename_at_any_depth(path: str, ext: str) -> None:
    rule = codeowners.Rule(f"*.{ext}", (), 1)
    assert rule.matches(path) is path.rsplit("/", 1)[-1].endswith(f".{ext}")


@given(paths, st.sampled_from(["a", "b", "c"]))
def test_trailing_slash_matches_only_contents_anywhere(path: str, folder: str) -> None:
    rule = codeowners.Rule(f"{folder}/", (), 1)
    expected = folder in path.split("/")[:-1]
    assert rule.matches(path) is expected


@given(st.lists(st.sampled_from(["*", "*.py", "/src/", "docs/*", "**/test", "a/**/b"]), max_size=6),
       paths)
def test_a_final_catch_all_owns_everything(patterns: list[str], path: str) -> None:
    text = "".join(f"{p} @team{i}\n" for i, p in enumerate(patterns)) + "* @last\n"
    assert codeowners.parse(text).owners_of(path) == ("last",)


@given(st.text(max_size=300))
def test_parse_never_crashes_on_arbitrary_text(text: str) -> None:
    owners = codeowners.parse(text)
    for rule in owners.rules:
        assert isinstance(rule.regex, re.Pattern)
        rule.matches("some/path.py")


def test_load_prefers_dot_github_and_reads_the_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    base = repo.commit(
        {"CODEOWNERS": "* @root\n", ".github/CODEOWNERS": "* @dotgithub\n", "a.py": "x\n"}
    )
    repo.commit({".github/CODEOWNERS": "* @attacker\n"}, "PR edits owners")
    ev = Evidence(RunContext(tmp_path, datetime.now(UTC), base=base))
    loaded = codeowners.load(ev)
    assert loaded.path == ".github/CODEOWNERS"
    assert loaded.owners_of("a.py") == ("dotgithub",)


def test_load_without_codeowners(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    base = repo.commit({"a.py": "x\n"})
    ev = Evidence(RunContext(tmp_path, datetime.now(UTC), base=base))
    assert codeowners.load(ev).path is None
