"""The precompiled validators (gatekeeper/policy/compiled) agree with jsonschema.

A run validates a policy with the compiled code first and asks jsonschema only when that
code says no. So the compiled code must never accept what jsonschema refuses (it would
approve with a policy jsonschema calls invalid), and should accept what jsonschema
accepts (or every valid run pays for jsonschema). Checked on the shipped policies, each
check's example, tricky values, and many random mutations of them.
"""

from __future__ import annotations

import copy
import importlib
import math
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.checks import _MODULES
from gatekeeper.policy import compiled, yamlpos
from gatekeeper.policy.compiled import build

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = build.schemas()
CHECKS = {
    key.removeprefix("check:"): schema for key, schema in SCHEMAS.items() if key.startswith("check:")
}


def judged(schema: dict[str, Any], doc: Any) -> bool:
    """jsonschema's answer, as the loader asks it."""
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return next(iter(validator.iter_errors(doc)), None) is None


def agree(key: str, doc: Any) -> bool:
    fast = compiled.accepts(key, SCHEMAS[key], copy.deepcopy(doc))
    slow = judged(SCHEMAS[key], doc)
    assert fast == slow, f"{key}: compiled says {fast}, jsonschema says {slow} for {doc!r}"
    return slow


def _yaml_docs(*folders: str) -> list[Any]:
    docs = []
    for folder in folders:
        for path in sorted((ROOT / folder).glob("*.yml")):
            try:
                docs.append(yamlpos.parse(path.read_text("utf-8"))[0])
            except yamlpos.YamlProblem:
                continue  # the invalid examples include YAML errors
    return docs


POLICIES = _yaml_docs("policies", "tests/policy/valid", "tests/policy/invalid")
EXAMPLES = {m: importlib.import_module(f"gatekeeper.checks.{m}").CHECK for m in _MODULES}
ALL_RULES = {
    "version": 1,
    "rules": [
        {"id": f"r{i}", "check": check.name, "with": check.example}
        for i, check in enumerate(EXAMPLES.values())
    ],
}
SEEDS = [*POLICIES, ALL_RULES]


def _options(name: str) -> list[Any]:
    """Every `with` block for check ``name`` in the seeds, and its example."""
    found = [EXAMPLES_BY_NAME[name].example]
    for doc in SEEDS:
        rules = doc.get("rules") if isinstance(doc, dict) else None
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and rule.get("check") == name and "with" in rule:
                found.append(rule["with"])
    return found


EXAMPLES_BY_NAME = {check.name: check for check in EXAMPLES.values()}


def test_every_schema_known_at_build_time_has_current_compiled_code() -> None:
    stale = []
    for key, schema in SCHEMAS.items():
        name = compiled.module_name(key)
        assert name is not None
        try:
            module = importlib.import_module(f"gatekeeper.policy.compiled.{name}")
        except ImportError:
            stale.append(f"{key} (no module)")
            continue
        if compiled.digest(schema) != module.SCHEMA_SHA256:
            stale.append(f"{key} (schema changed)")
    assert not stale, f"run `python -m gatekeeper.policy.compiled`: {', '.join(stale)}"


def test_the_generator_makes_the_committed_code() -> None:
    fastjsonschema = pytest.importorskip("fastjsonschema")
    module = importlib.import_module("gatekeeper.policy.compiled.policy")
    if module.VERSION != fastjsonschema.VERSION:
        pytest.skip(f"made with fastjsonschema {module.VERSION}, {fastjsonschema.VERSION} here")
    for key, schema in SCHEMAS.items():
        path = build.HERE / f"{compiled.module_name(key)}.py"
        assert path.read_text("utf-8") == build.generate(key, schema), key


@pytest.mark.parametrize("key", ["policy", "policy-part"])
def test_shipped_policies_agree(key: str) -> None:
    valid = [agree(key, doc) for doc in SEEDS]
    assert sum(valid) >= 10  # the shipped policies, the valid examples, every check at once


def test_the_policy_part_schema_allows_a_policy_without_rules() -> None:
    assert agree("policy-part", {"version": 1, "extends": ["base.yml"]})
    assert not agree("policy", {"version": 1, "extends": ["base.yml"]})


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_checks_options_agree(name: str) -> None:
    example, *used = _options(name)  # in the shipped policies and the examples, valid or not
    assert agree(f"check:{name}", example)
    for options in used:
        agree(f"check:{name}", options)


def test_waivers_files_agree() -> None:
    docs = _yaml_docs("policies/waivers")
    assert docs and all(agree("waivers-file", doc) for doc in docs)
    waiver = {
        "rule": "smoke-tested",
        "reason": "flaky runner",
        "approved_by": "alice",
        "expires": "2026-12-31",
    }
    agree("waivers-file", {"waivers": [waiver]})
    agree("waivers-file", {"version": 1, "waivers": [{**waiver, "reason": 3}]})
    agree("waivers-file", {"waivers": "x"})


RULE = {"id": "smoke", "check": "smoke-coverage", "with": {"coverage": "coverage.xml"}}
TRICKY_POLICIES = [
    {"version": True, "rules": [RULE]},  # True == 1 in Python, not in JSON Schema
    {"version": 1.0, "rules": [RULE]},
    {"version": "1", "rules": [RULE]},
    {"version": 1, "rules": [{**RULE, "id": "smoke\n"}]},  # `$` matches before a final newline
    {"version": 1, "rules": [{**RULE, "id": "smoke\n\n"}]},
    {"version": 1, "rules": [{**RULE, "id": "-smoke"}]},
    {"version": 1, "rules": [{**RULE, "id": "s" * 64}]},
    {"version": 1, "rules": [{**RULE, "id": "s" * 65}]},
    {"version": 1, "rules": [{**RULE, "severity": True}]},
    {"version": 1, "rules": [{**RULE, "severity": "warn"}]},
    {"version": 1, "rules": [{**RULE, "check": b"smoke-coverage"}]},
    {"version": 1, "rules": [{**RULE, "when": {"paths": ["src/**"], "colour": "red"}}]},
    {"version": 1, "rules": []},
    {"version": 1, "rules": None},
    {"version": 1, "rules": [RULE], "waivers": ""},
    {"version": 1, "rules": [RULE], "waivers": "waivers.yml"},
    {"version": 1, "rules": [RULE], "waivers": [{}]},
    {"version": 1, "rules": [RULE], "max_waiver_days": 1.0},
    {"version": 1, "rules": [RULE], "max_waiver_days": 0},
    {"version": 1, "rules": [RULE], "max_waiver_days": True},
    {"version": 1, "rules": [RULE], "notify": {"channels": {"-bad": {}}}},
    {"version": 1, "rules": [RULE], "environments": ["prod", "prod"]},
    {"version": 1, "rules": [RULE], "name": ""},
    {"version": 1, "rules": [RULE], "unknown": 1},
    [RULE],
    None,
]
TRICKY_OPTIONS = [
    {},
    {"coverage": []},
    {"coverage": ""},
    {"coverage": ["a.xml", ""]},
    {"coverage": [1]},
    {"coverage": "a.xml", "min_diff": True},
    {"coverage": "a.xml", "min_diff": 100.0},
    {"coverage": "a.xml", "min_diff": 100.5},
    {"coverage": "a.xml", "min_diff": -0.0},
    {"coverage": "a.xml", "min_diff": math.nan},
    {"coverage": "a.xml", "min_diff": math.inf},
    {"coverage": "a.xml", "min_tests": 1.0},
    {"coverage": "a.xml", "min_tests": 1.5},
    {"coverage": "a.xml", "missing_files": "fail\n"},
    {"coverage": "a.xml", "smoke": {"suites": "pytest", "extra": 1}},
    {"coverage": "a.xml", "path_map": {"/app/": 1}},
    {"coverage": "a.xml", "allow_committed_reports": 0},
]


@pytest.mark.parametrize("doc", TRICKY_POLICIES, ids=repr)
def test_tricky_policies_agree(doc: Any) -> None:
    agree("policy", doc)
    agree("policy-part", doc)


@pytest.mark.parametrize("options", TRICKY_OPTIONS, ids=repr)
def test_tricky_options_agree(options: Any) -> None:
    agree("check:smoke-coverage", options)


def test_unique_items_agree_on_bools_and_numbers() -> None:
    for name, schema in CHECKS.items():
        if '"uniqueItems"' not in str(schema).replace("'", '"'):
            continue
        for options in _options(name):
            for key, value in options.items():
                if isinstance(value, list) and value:
                    for extra in ([1, True], [value[0], value[0]], [0, False], [1, 1.0]):
                        agree(f"check:{name}", {**options, key: extra})


# -- random mutations -----------------------------------------------------------------


def _words(schema: Any) -> set[Any]:
    """Property names, enum and const values of ``schema``: mutations that get past the
    first check, so deeper keywords are compared too."""
    found: set[Any] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
                found |= set(value)
                for item in value.values():
                    found |= _words(item)
            elif key == "enum":
                found |= {v for v in value if isinstance(v, str | int | float | bool)}
            elif key == "const" and isinstance(value, str | int | float | bool):
                found.add(value)
            else:
                found |= _words(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= _words(item)
    return found


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*at, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += _paths(value, (*at, i))
    return found


def _values(words: list[Any]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.sampled_from(words),
        st.none(),
        st.booleans(),
        st.integers(-2, 200),
        st.sampled_from([0.0, 1.0, 0.5, 99.9, 100.0, -1.5, math.nan, math.inf]),
        st.sampled_from(["", " ", "x", "x\n", "a-b", "-a", "A", "09:00", "25:00", "mon", "*"]),
        st.text(max_size=6),
        st.just(b"x"),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from([w for w in words if isinstance(w, str)] or ["k"]), inner, max_size=3),
        max_leaves=6,
    )


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Any], words: list[Any]) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = draw(_values(words)) if draw(st.integers(0, 9)) == 0 else doc
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add", "duplicate"]))
        last = path[-1]
        if action == "replace":
            parent[last] = draw(_values(words))
        elif action == "delete":
            del parent[last]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif isinstance(parent, dict):
            key = draw(st.sampled_from([w for w in words if isinstance(w, str)] or ["k"]))
            parent[key] = draw(_values(words))
    return doc


POLICY_WORDS = sorted(_words(SCHEMAS["policy"]) | {"smoke-coverage", "changelog"}, key=repr)
FAST = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FAST
@given(mutated(SEEDS, POLICY_WORDS))
def test_mutated_policies_agree(doc: Any) -> None:
    agree("policy", doc)
    agree("policy-part", doc)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_mutated_options_agree(name: str) -> None:
    words = sorted(_words(CHECKS[name]), key=repr)

    @settings(FAST, max_examples=60)
    @given(mutated(_options(name), words))
    def check(options: Any) -> None:
        agree(f"check:{name}", options)

    check()


# -- when there is no current compiled code, jsonschema decides ----------------------


def test_no_compiled_code_for_an_edited_schema_a_plugin_or_an_odd_name() -> None:
    schema = copy.deepcopy(SCHEMAS["check:smoke-coverage"])
    options = {"coverage": "coverage.xml"}
    assert compiled.accepts("check:smoke-coverage", schema, options)
    schema["properties"]["coverage"]["maxLength"] = 3  # edited, not compiled again
    assert not compiled.accepts("check:smoke-coverage", schema, options)
    assert not compiled.accepts("check:my-plugin-check", {"type": "object"}, {})
    assert not compiled.accepts("check:Weird.Name", {"type": "object"}, {})
    assert not compiled.accepts("check:../../x", {"type": "object"}, {})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "format": "date"},
        {"type": "object", "dependentRequired": {"a": ["b"]}},
        {"type": "array", "prefixItems": [{"type": "string"}]},
        {"type": "array", "items": [{"type": "string"}]},
        {"type": "object", "unevaluatedProperties": False},
        {"properties": {"a": {"$ref": "#/$defs/a", "minLength": 2}}, "$defs": {"a": {}}},
        {"properties": {"a": {"$ref": "https://example.com/s.json"}}},
        {"properties": {"a": {"$id": "urn:x", "type": "string"}}},
        {"type": "number", "exclusiveMinimum": True},
        {"type": "number", "multipleOf": 0.1},
    ],
    ids=repr,
)
def test_keywords_read_otherwise_are_not_compiled(schema: dict[str, Any]) -> None:
    assert build.unsupported(schema)
    with pytest.raises(ValueError, match="cannot be compiled"):
        build.generate("check:x", schema)


def test_the_shipped_schemas_are_all_compilable() -> None:
    assert {key: build.unsupported(schema) for key, schema in SCHEMAS.items()} == {
        key: [] for key in SCHEMAS
    }
