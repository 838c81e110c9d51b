from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.checks import registry, with_defaults
from gatekeeper.checks.version_bump import required
from gatekeeper.engine import evaluate_rule
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.conventional import classify
from gatekeeper.evidence.versions import VersionError, parse_pep440, parse_semver, version_in
from gatekeeper.model import Outcome, Status
from gatekeeper.policy import Rule
from tests.factories import RepoFactory

CHECK = registry()["version-bump"]
COMMITS = {"breaking": "conventional-commits"}


def pyproject(version: str) -> str:
    return f'[project]\nname = "app"\nversion = "{version}"\n'


def judge(repo: RepoFactory, **options: Any) -> Outcome:
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(repo_path=repo.path, now=datetime.now(UTC), base="main", environ={})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def result(repo: RepoFactory, **options: Any):
    ctx = RunContext(repo_path=repo.path, now=datetime.now(UTC), base="main", environ={})
    return evaluate_rule(Rule("version", "version-bump", options=options), Evidence(ctx))


@pytest.fixture
def app(repo: RepoFactory) -> RepoFactory:
    repo.commit({"pyproject.toml": pyproject("1.4.0")}, "release 1.4.0")
    repo.branch("release")
    return repo


# -- what it must show -------------------------------------------------------------------


def test_unchanged_version_fails(app: RepoFactory) -> None:
    app.commit({"src/app.py": "x = 1\n"}, "fix: off by one")
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL
    assert out.summary == "pyproject.toml: version 1.4.0 is unchanged since the merge base"
    assert out.remedy == "bump the version above 1.4.0"


def test_breaking_commit_needs_a_major_bump_and_names_the_commit(app: RepoFactory) -> None:
    sha = app.commit({"src/api.py": "v2 = 1\n"}, "feat!: drop v1 API\n\nGone for good.")
    app.commit({"pyproject.toml": pyproject("1.5.0")}, "chore: release 1.5.0")
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL
    assert out.summary == f"feat!: drop v1 API in {sha[:7]} needs 2.0.0, got 1.5.0"
    assert out.details["required"] == "2.0.0" and out.details["level"] == "major"
    assert out.details["reasons"] == [
        {"level": "breaking", "what": "feat!: drop v1 API", "ref": sha[:7]}
    ]
    app.commit({"pyproject.toml": pyproject("2.0.0")}, "chore: release 2.0.0")
    out = judge(app, **COMMITS)
    assert out.status is Status.PASS, out.summary
    assert out.summary == "pyproject.toml: 1.4.0 -> 2.0.0, enough for a breaking change"


def test_feature_commit_needs_a_minor_bump(app: RepoFactory) -> None:
    sha = app.commit({"src/app.py": "y = 2\n"}, "feat(ui): dark mode")
    app.commit({"pyproject.toml": pyproject("1.4.1")}, "chore: 1.4.1")
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL
    assert out.summary == f"feat(ui): dark mode in {sha[:7]} needs 1.5.0, got 1.4.1"
    app.commit({"pyproject.toml": pyproject("1.5.0")}, "chore: 1.5.0")
    assert judge(app, **COMMITS).status is Status.PASS


def test_breaking_change_footer_counts(app: RepoFactory) -> None:
    app.commit({"a.py": ""}, "refactor: config\n\nBREAKING CHANGE: `port` is now `listen`")
    app.commit({"pyproject.toml": pyproject("1.5.0")})
    assert "BREAKING CHANGE: `port` is now `listen` in" in judge(app, **COMMITS).summary


def test_plain_commits_need_any_higher_version(app: RepoFactory) -> None:
    app.commit({"pyproject.toml": pyproject("1.4.1")}, "fix: typo")
    assert judge(app, **COMMITS).status is Status.PASS
    app.commit({"pyproject.toml": pyproject("1.4.0.post1")}, "docs: typo")
    assert judge(app, **COMMITS).status is Status.PASS


def test_version_going_backwards_fails(app: RepoFactory) -> None:
    app.commit({"pyproject.toml": pyproject("1.3.9")}, "oops")
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL and "goes backwards (1.4.0 -> 1.3.9)" in out.summary


# -- 0.x and pre-releases -----------------------------------------------------------------


def test_zero_major_breaking_change_needs_a_minor_bump_and_says_so(repo: RepoFactory) -> None:
    repo.commit({"package.json": json.dumps({"name": "w", "version": "0.3.2"})})
    repo.branch("release")
    sha = repo.commit({"package.json": json.dumps({"name": "w", "version": "0.3.3"})},
                      "feat!: new config format")
    out = judge(repo, **COMMITS)
    assert out.summary == (
        f"feat!: new config format in {sha[:7]} needs 0.4.0, got 0.3.3 "
        "(0.x: a breaking change needs a minor bump)"
    )
    repo.commit({"package.json": json.dumps({"name": "w", "version": "0.4.0"})})
    out = judge(repo, **COMMITS)
    assert out.status is Status.PASS and out.summary.endswith("(0.x: a breaking change needs a minor bump)")
    assert out.details["level"] == "minor" and out.details["zero_major"] is True


def test_prerelease_of_the_next_major_is_a_major_bump(app: RepoFactory) -> None:
    app.commit({"pyproject.toml": pyproject("2.0.0rc1")}, "feat!: drop v1")
    assert judge(app, **COMMITS).status is Status.PASS


@pytest.mark.parametrize(
    ("base", "level", "need"),
    [
        ("1.4.0", "breaking", (2, 0, 0)),
        ("1.4.0", "feature", (1, 5, 0)),
        ("1.4.0", None, None),
        ("0.3.2", "breaking", (0, 4, 0)),
        ("0.3.2", "feature", (0, 4, 0)),
        ("2.0.0-rc.1", "breaking", (2, 0, 0)),  # the pre-release already leads to 2.0.0
        ("2.1.0-rc.1", "breaking", (3, 0, 0)),
        ("1.5.0-beta", "feature", (1, 5, 0)),
        ("1.5.1-beta", "feature", (1, 6, 0)),
    ],
)
def test_required_release(base: str, level: str | None, need: tuple[int, int, int] | None) -> None:
    assert required(parse_semver(base), level or "other") == need


# -- version files --------------------------------------------------------------------------


def test_detects_package_json_and_cargo_and_they_must_agree(repo: RepoFactory) -> None:
    cargo = '[package]\nname = "w"\nversion = "{}"\n'
    repo.commit({"package.json": '{"version": "1.0.0"}', "Cargo.toml": cargo.format("1.0.0")})
    repo.branch("release")
    repo.commit({"package.json": '{"version": "1.1.0"}', "Cargo.toml": cargo.format("1.0.1")})
    out = judge(repo)
    assert out.status is Status.FAIL
    assert out.summary == "the version files disagree: package.json 1.1.0, Cargo.toml 1.0.1"
    repo.commit({"Cargo.toml": cargo.format("1.1.0")})
    out = judge(repo, **COMMITS)
    assert out.status is Status.PASS, out.summary
    assert out.details["files"] == [
        {"path": "package.json", "base": "1.0.0", "head": "1.1.0"},
        {"path": "Cargo.toml", "base": "1.0.0", "head": "1.1.0"},
    ]


def test_python_version_file_read_with_ast(repo: RepoFactory) -> None:
    repo.commit({"src/pkg/__init__.py": '"""Pkg."""\n__version__ = "1.0.0"\n'})
    repo.branch("release")
    repo.commit({"src/pkg/__init__.py": '"""Pkg."""\n__version__: str = "1.1.0"\n'}, "feat: x")
    out = judge(repo, files=["src/pkg/__init__.py"], **COMMITS)
    assert out.status is Status.PASS, out.summary


@pytest.mark.parametrize(
    "source",
    [
        '__version__ = "2.0.0"\n__version__ = "1.0.0"\n',
        '__version__ = "2.0.0"\nif True:\n    __version__ = compute()\n',
        '__version__ = "2.0.0"\nfrom ._v import __version__\n',
        "__version__ = get_version()\n",
        '__version__ = "2.0.0"\ndef f():\n    global __version__\n    __version__ = "x"\n',
        '__version__ = other = "2.0.0"\n',
    ],
)
def test_python_version_must_be_one_literal(source: str) -> None:
    from gatekeeper.errors import EvidenceError

    with pytest.raises(EvidenceError, match="assigned once, as a string literal"):
        version_in("pkg/__init__.py", source)


def test_a_version_in_a_comment_or_string_is_not_one() -> None:
    from gatekeeper.evidence.versions import NoVersion

    with pytest.raises(NoVersion):
        version_in("v.py", '# __version__ = "9.0.0"\ndoc = """__version__ = "9.0.0\"""\n')


def test_package_json_with_duplicate_version_keys_is_an_error(app: RepoFactory) -> None:
    app.commit({"package.json": '{"version": "2.0.0", "version": "1.4.0"}'})
    out = result(app, files=["package.json"], **COMMITS)
    assert out.status is Status.ERROR and "duplicate key 'version'" in out.summary


def test_dynamic_pyproject_version_is_an_error_naming_the_remedy(repo: RepoFactory) -> None:
    repo.commit({"pyproject.toml": '[project]\nname = "a"\ndynamic = ["version"]\n'})
    out = result(repo, **COMMITS)
    assert out.status is Status.ERROR
    assert "no version in pyproject.toml" in out.summary
    out = result(repo, files=["pyproject.toml"], **COMMITS)
    assert out.status is Status.ERROR and "the version is dynamic" in out.summary


def test_broken_toml_is_an_error_naming_the_file(app: RepoFactory) -> None:
    app.commit({"pyproject.toml": "[project\nversion = 2"})
    out = result(app, **COMMITS)
    assert out.status is Status.ERROR
    assert "pyproject.toml at the head: TOML syntax error" in out.summary


def test_removed_version_file_fails(app: RepoFactory) -> None:
    app.commit({"pyproject.toml": None, "package.json": '{"version": "9.0.0"}'})
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL
    assert out.summary == "pyproject.toml states the version at the merge base but not at the head"


def test_first_release_passes(repo: RepoFactory) -> None:
    repo.branch("release")
    repo.commit({"pyproject.toml": pyproject("0.1.0")}, "feat!: everything")
    out = judge(repo, **COMMITS)
    assert out.status is Status.PASS and "a first release" in out.summary


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("v1.5.0", "is not in normalized PEP 440 form; write '1.5.0'"),
        ("1.5.0-RC1", "write '1.5.0rc1'"),
        (" 1.5.0", "write '1.5.0'"),
        ("1.5.x", "is not a PEP 440 version"),
    ],
)
def test_pep440_versions_are_parsed_strictly(app: RepoFactory, written: str, message: str) -> None:
    app.commit({"pyproject.toml": pyproject(written)})
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL
    assert out.summary.startswith("pyproject.toml (head): ") and message in out.summary


def test_epoch_change_fails(app: RepoFactory) -> None:
    app.commit({"pyproject.toml": pyproject("1!1.4.1")}, "feat!: x")
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL and "epoch changed" in out.summary


# -- tags ----------------------------------------------------------------------------------


def test_tag_mode_compares_the_head_tag_with_the_last_tag_before_the_merge_base(
    repo: RepoFactory,
) -> None:
    repo.tag("v1.4.0")
    repo.commit({"a": "1"}, "unrelated")
    repo.tag("nightly")
    repo.branch("release")
    sha = repo.commit({"b": "1"}, "feat!: new protocol")
    out = judge(repo, tag=True, **COMMITS)
    assert out.status is Status.FAIL and "has no version tag" in out.summary
    repo.tag("v1.5.0")
    out = judge(repo, tag=True, **COMMITS)
    assert out.summary == f"feat!: new protocol in {sha[:7]} needs 2.0.0, got 1.5.0"
    repo.tag("v2.0.0")
    assert judge(repo, tag=True, **COMMITS).status is Status.PASS


# -- hiding a breaking change ------------------------------------------------------------


def test_breaking_commit_behind_a_merge_commit_is_found(app: RepoFactory) -> None:
    app.branch("side")
    sha = app.commit({"api.py": "x"}, "feat!: remove endpoint")
    app.checkout("release")
    app.commit({"other.py": "y"}, "fix: z")
    app.repo.git.merge("--no-ff", "-q", "-m", "Merge branch 'side'", "side")
    app.commit({"pyproject.toml": pyproject("1.5.0")}, "chore: 1.5.0")
    out = judge(app, **COMMITS)
    assert out.status is Status.FAIL and f"in {sha[:7]} needs 2.0.0" in out.summary


@pytest.mark.parametrize(
    "message",
    [
        "feat: release train (#12)\n\n* feat!: drop v1 API\n* fix: typo",  # a squash merge
        "fixup! feat!: drop v1 API",
        "FEAT!: shout",
        "feat(api)!: scoped",
        "feat\uff01\uff1a full-width",
        "Update things\n\nBREAKING-CHANGE: gone",
        "chore: x\n\n  breaking change: lower case in an indented footer",
        "Merge pull request #3 from a/b\n\nrefactor!: rename everything",
    ],
)
def test_breaking_markers_cannot_be_hidden(message: str) -> None:
    claim = classify(message)
    assert claim is not None and claim[0] == "breaking", message


@pytest.mark.parametrize(
    "message",
    ["fix: the breaking change from last week", "docs: explain feat!: syntax",
     "Revert the feature", "Signed-off-by: A <a@b>", "featured: not a feat"],
)
def test_non_breaking_messages(message: str) -> None:
    claim = classify(message)
    assert claim is None or claim[0] != "breaking", message


# -- schema-change evidence --------------------------------------------------------------


@dataclass(frozen=True)
class FakeChange:
    path: str
    kind: str
    status: str
    operations: tuple[str, ...]
    destructive: bool
    reversible: bool | None
    reasons: tuple[str, ...]


def _fake_schema(monkeypatch: pytest.MonkeyPatch, changes: list[FakeChange]) -> None:
    module = types.ModuleType("gatekeeper.evidence.schema")
    module.schema_changes = lambda ev, kinds=None, exclude=(): changes  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gatekeeper.evidence.schema", module)


def test_destructive_schema_change_needs_a_major_bump(app, monkeypatch) -> None:
    _fake_schema(monkeypatch, [
        FakeChange("db/0002_add.py", "django", "added", ("AddField",), False, True, ()),
        FakeChange("db/0003_drop.py", "django", "added", ("RemoveField",), True, False,
                   ("drops column users.email",)),
    ])
    app.commit({"pyproject.toml": pyproject("1.5.0")}, "chore: 1.5.0")
    out = judge(app, breaking="schema-change")
    assert out.status is Status.FAIL
    assert out.summary == (
        "destructive django change (drops column users.email) in db/0003_drop.py needs 2.0.0, "
        "got 1.5.0"
    )
    assert judge(app, breaking="conventional-commits").status is Status.PASS


def test_unreadable_schema_evidence_is_an_error_not_a_pass(app, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gatekeeper.evidence.schema", None)  # import fails
    app.commit({"pyproject.toml": pyproject("1.5.0")}, "chore: 1.5.0")
    for breaking in ("schema-change", "both"):
        out = result(app, breaking=breaking)
        assert out.status is Status.ERROR, breaking
        assert "`breaking: schema-change` needs the schema-change evidence" in out.summary
    assert result(app, breaking="conventional-commits").status is Status.PASS


# -- parsers -------------------------------------------------------------------------------


def test_semver_precedence_from_the_specification() -> None:
    ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
               "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
    keys = [parse_semver(v).key for v in ordered]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert parse_semver("1.0.0+build.5").key == parse_semver("1.0.0").key


@pytest.mark.parametrize(
    "text",
    ["1.2", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-", "1.2.3+", "v1.2.3", " 1.2.3",
     "1.2.3\n", "1.2.3-a..b", "١.2.3", "1.2.3-beta_1"],
)
def test_invalid_semver_is_refused(text: str) -> None:
    with pytest.raises(VersionError):
        parse_semver(text)


_num = st.integers(0, 10**6)
_ident = st.one_of(_num.map(str), st.from_regex(r"[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*",
                                                 fullmatch=True))


@given(_num, _num, _num, st.lists(_ident, max_size=3), st.lists(st.from_regex(
    r"[0-9A-Za-z-]+", fullmatch=True), max_size=2))
def test_semver_round_trip(major: int, minor: int, patch: int, pre: list[str],
                           build: list[str]) -> None:
    text = f"{major}.{minor}.{patch}"
    text += f"-{'.'.join(pre)}" if pre else ""
    text += f"+{'.'.join(build)}" if build else ""
    v = parse_semver(text)
    assert v.release == (major, minor, patch) and v.prerelease == bool(pre)
    assert (v.key < parse_semver(f"{major}.{minor}.{patch}").key) == bool(pre)


@given(st.text(max_size=12))
def test_pep440_parser_accepts_only_normalized_versions(text: str) -> None:
    from packaging.version import InvalidVersion, Version

    try:
        normal = str(Version(text))
    except InvalidVersion:
        normal = None
    if normal == text:
        assert parse_pep440(text).text == text
    else:
        with pytest.raises(VersionError):
            parse_pep440(text)


DYNAMIC = ('[project]\nname = "pkg"\ndynamic = ["version"]\n\n'
           '[tool.setuptools.dynamic]\nversion = {{attr = "{}.__version__"}}\n')


def test_dynamic_pyproject_version_is_read_from_the_attr_file(repo: RepoFactory) -> None:
    repo.commit({"pyproject.toml": DYNAMIC.format("pkg"),
                 "src/pkg/__init__.py": '__version__ = "1.0.0"\n'})
    repo.branch("release")
    repo.commit({"src/pkg/cli.py": "x = 1\n"}, "feat: a command")
    out = judge(repo, **COMMITS)
    assert out.summary == "src/pkg/__init__.py: version 1.0.0 is unchanged since the merge base"
    repo.commit({"src/pkg/__init__.py": '__version__ = "1.1.0"\n'})
    assert judge(repo, **COMMITS).status is Status.PASS


def test_the_change_cannot_point_the_version_at_another_file(repo: RepoFactory) -> None:
    repo.commit({"pyproject.toml": DYNAMIC.format("pkg"),
                 "pkg/__init__.py": '__version__ = "1.0.0"\n'})
    repo.branch("release")
    repo.commit({"pyproject.toml": DYNAMIC.format("evil"),
                 "evil/__init__.py": '__version__ = "9.0.0"\n'}, "feat!: x")
    out = judge(repo, **COMMITS)
    assert out.status is Status.FAIL
    assert out.summary == "pkg/__init__.py: version 1.0.0 is unchanged since the merge base"


def test_hatch_version_path(repo: RepoFactory) -> None:
    hatch = '[project]\nname = "a"\ndynamic = ["version"]\n[tool.hatch.version]\npath = "a/about.py"\n'
    repo.commit({"pyproject.toml": hatch, "a/about.py": '__version__ = "0.9.0"\n'})
    repo.branch("release")
    repo.commit({"a/about.py": '__version__ = "0.10.0"\n'}, "feat!: y")
    out = judge(repo, **COMMITS)
    assert out.status is Status.PASS, out.summary
