from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.errors import PolicyError, UsageError
from gatekeeper.model import Severity
from gatekeeper.policy import load_policy, loads_policy, yamlpos
from tests.factories import run_cli

HERE = Path(__file__).parent
VALID = sorted((HERE / "valid").glob("*.yml"))
INVALID = sorted((HERE / "invalid").glob("*.yml"))


def expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path} needs an '# expect: LINE:COL: message' header"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_policies_load(path: Path) -> None:
    policy = load_policy(path)
    assert policy.sha256 and len(policy.sha256) == 64
    result = run_cli("validate", str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}: ok" in result.output


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_policies_point_at_the_node(path: Path) -> None:
    result = run_cli("validate", str(path))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}:{expected(path)}" in result.output


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(
        "version: 1\nrules:\n  - id: A\n    check: nope\n  - id: b\n    check: changelog\n    severity: x\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy(policy)
    assert [p.split(": ")[0] for p in info.value.problems] == [
        f"{policy}:3:9",
        f"{policy}:4:12",
        f"{policy}:7:15",
    ]


def test_rules_carry_their_defaults_and_lines() -> None:
    policy = load_policy(HERE / "valid" / "anchors.yml")
    assert [r.id for r in policy.rules] == ["freeze", "freeze-2"]
    assert policy.rules[0].severity is Severity.WARN
    assert policy.rules[1].severity is Severity.BLOCK
    assert policy.rules[1].options == policy.rules[0].options
    assert policy.rules[0].when["branches"] == ["release/*"]
    assert policy.rules[1].line == 11


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    policy = tmp_path / "prod-release.yml"
    policy.write_text("version: 1\nrules: [{id: c, check: changelog}]\n")
    assert load_policy(policy).name == "prod-release"


def test_timestamps_stay_text_for_the_checks() -> None:
    policy = loads_policy(
        "version: 1\nrules:\n  - id: f\n    check: release-window\n    with:\n"
        "      freeze: [{start: 2026-12-21T00:00:00+01:00, end: 2027-01-04}]\n",
        "inline.yml",
    )
    freeze = policy.rules[0].options["freeze"][0]
    assert freeze == {"start": "2026-12-21T00:00:00+01:00", "end": "2027-01-04"}


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such policy file"):
        load_policy(tmp_path / "absent.yml")
    result = run_cli("validate", str(tmp_path / "absent.yml"))
    assert result.exit_code == 2 and "no such policy file" in result.output


def test_non_utf8_is_reported(tmp_path: Path) -> None:
    policy = tmp_path / "latin1.yml"
    policy.write_bytes(b"version: 1\nname: caf\xe9\nrules: []\n")
    with pytest.raises(PolicyError, match=r"latin1.yml:1:1: not UTF-8"):
        load_policy(policy)


def test_validate_many_files_reports_each(tmp_path: Path) -> None:
    good = HERE / "valid" / "minimal.yml"
    bad = HERE / "invalid" / "bad-severity.yml"
    result = run_cli("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"{good}: ok" in result.output and f"{bad}:6:15" in result.output


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    ),
    max_leaves=20,
)


@given(documents)
def test_positions_parser_builds_the_same_data_as_safe_load(doc: object) -> None:
    text = yaml.safe_dump(doc)
    data, positions = yamlpos.parse(text)
    assert data == yaml.safe_load(text)
    assert positions.values[()] == (1, 1)


def test_yaml_11_numbers_get_a_hint_only_where_text_was_meant(tmp_path: Path) -> None:
    # Issue 9, item 10: `version: 23.2` is a float; a quoted or textual value gets no hint.
    policy = tmp_path / "p.yml"
    policy.write_text(
        "version: 1\nrules:\n  - id: c\n    check: changelog\n    with: {version: 23.2}\n"
        "  - id: d\n    check: changelog\n    with: {version: '23.2', path: [x]}\n"
    )
    with pytest.raises(PolicyError) as info:
        load_policy(policy)
    assert info.value.problems == [
        f"{policy}:5:21: rules[0].with.version (check 'changelog' option): expected string, "
        'got number 23.2 (YAML reads the unquoted 23.2 as a number); quote it: "23.2"',
        f"{policy}:8:35: rules[1].with.path (check 'changelog' option): expected string, "
        "got array ['x']",
    ]
