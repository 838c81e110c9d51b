from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.checks import registry, with_defaults
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.flags import SDK_PATTERNS, references_in
from gatekeeper.model import Outcome, Status
from tests.factories import RepoFactory, run_cli, write_policy

CHECK = registry()["feature-toggles"]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)

PLAIN_OFF = """\
flags:
  - key: new-checkout
    owner: payments-team
    type: release
    created: 2026-11-20
    default: false
"""


def judge(repo: RepoFactory, env: str | None = None, **options: Any) -> Outcome:
    options.setdefault("registry", ["flags.yaml"])
    ctx = RunContext(repo_path=repo.path, now=NOW, base="main", env=env)
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


@pytest.fixture
def app(repo: RepoFactory) -> RepoFactory:
    repo.commit({"flags.yaml": "flags: []\n", "src/checkout.py": "def pay():\n    return 1\n"})
    repo.branch("feature")
    return repo


CALL = 'def pay():\n    if client.is_enabled("new-checkout"):\n        return 2\n    return 1\n'


def test_undeclared_key_fails_naming_key_file_and_line(app: RepoFactory) -> None:
    app.commit({"src/checkout.py": CALL})
    out = judge(app)
    assert out.status is Status.FAIL
    assert "'new-checkout' at src/checkout.py:2" in out.summary
    assert out.details["undeclared"] == [{"key": "new-checkout", "where": "src/checkout.py:2"}]
    assert [(a.path, a.line) for a in out.annotations] == [("src/checkout.py", 2)]


def test_declared_off_with_owner_passes(app: RepoFactory) -> None:
    app.commit({"src/checkout.py": CALL, "flags.yaml": PLAIN_OFF})
    out = judge(app)
    assert out.status is Status.PASS, out.summary
    assert out.details["referenced"] == {"new-checkout": ["src/checkout.py:2"]}
    assert out.details["new_flags"] == ["new-checkout"]


def test_declared_on_fails(app: RepoFactory) -> None:
    app.commit({"src/checkout.py": CALL, "flags.yaml": PLAIN_OFF.replace("false", "true")})
    out = judge(app)
    assert out.status is Status.FAIL
    assert out.details["unsafe_defaults"] == ["new-checkout"]
    assert "new flag 'new-checkout' is on by default" in out.summary


def test_default_per_environment(app: RepoFactory) -> None:
    per_env = PLAIN_OFF.replace("default: false", "default: {staging: true, production: false}")
    app.commit({"src/checkout.py": CALL, "flags.yaml": per_env})
    assert judge(app, env="production").status is Status.PASS
    assert judge(app, env="staging").status is Status.FAIL


def test_a_flag_already_on_at_the_base_is_not_new(repo: RepoFactory) -> None:
    repo.commit({"flags.yaml": PLAIN_OFF.replace("false", "true"), "src/a.py": "x = 1\n"})
    repo.branch("feature")
    repo.commit({"src/a.py": "if is_enabled('new-checkout'):\n    x = 2\n"})
    out = judge(repo)
    assert out.status is Status.PASS, out.summary


FLAGD = {
    "$schema": "https://flagd.dev/schema/v0/flags.json",
    "flags": {
        "new-checkout": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "metadata": {"owner": "payments", "type": "release", "created": "2026-11-20"},
        }
    },
}


def flagd(**changes: Any) -> str:
    doc = json.loads(json.dumps(FLAGD))
    doc["flags"]["new-checkout"].update(changes)
    return json.dumps(doc, indent=2)


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, Status.PASS),
        ({"defaultVariant": "on"}, Status.FAIL),
        ({"defaultVariant": "on", "state": "DISABLED"}, Status.PASS),
        ({"metadata": {"type": "release"}}, Status.FAIL),  # no owner
        ({"defaultVariant": "maybe"}, Status.ERROR),  # not among the variants
    ],
)
def test_flagd_registry(app: RepoFactory, changes: dict[str, Any], status: Status) -> None:
    app.commit({"src/checkout.js": "if (await client.getBooleanValue('new-checkout', false)) {}\n",
                "flags.flagd.json": flagd(**changes)})  # fmt: skip
    if status is Status.ERROR:
        with pytest.raises(
            EvidenceError, match=r"defaultVariant 'maybe' is not among its variants"
        ):
            judge(app, registry=["flags.flagd.json"])
        return
    out = judge(app, registry=["flags.flagd.json"])
    assert out.status is status, out.summary


def test_invalid_registry_is_an_error_through_the_engine(app: RepoFactory, tmp_path: Any) -> None:
    app.commit({"flags.yaml": "flags:\n  - owner: nobody\n"})
    policy = write_policy(
        tmp_path / "p.yml",
        [{"id": "flags", "check": "feature-toggles", "with": {"registry": ["flags.yaml"]}}],
    )
    result = run_cli("check", "--policy", str(policy), "--repo", str(app.path), "--base", "main",
                     "--format", "json")  # fmt: skip
    rule = json.loads(result.output)["rules"][0]
    assert result.exit_code == 1 and rule["status"] == "error"
    assert "needs a `key`" in rule["summary"]


def test_missing_registry_is_an_error(app: RepoFactory) -> None:
    with pytest.raises(EvidenceError, match=r"flag registry nope\.yaml not found"):
        judge(app, registry=["nope.yaml"])


def test_stale_flags_by_expiry_and_age(app: RepoFactory) -> None:
    app.commit(
        {
            "flags.yaml": "flags:\n"
            "  - {key: old-exp, owner: a, type: experiment, created: 2026-01-01}\n"
            "  - {key: ops-x, owner: a, type: ops, created: 2026-11-10}\n"
            "  - {key: done, owner: a, type: release, expires: 2026-11-01}\n"
            "  - {key: perm, owner: a, type: permission, created: 2020-01-01}\n"
            "  - {key: fresh, owner: a, type: ops, created: 2026-11-24}\n"
        }
    )
    out = judge(app, max_age_days={"ops": 30})
    assert out.status is Status.FAIL
    assert [s["key"] for s in out.details["stale"]] == ["done", "old-exp"]
    assert out.details["stale"][0]["why"] == "expired 2026-11-01"


def test_guarded_paths_need_a_flag_reference(app: RepoFactory) -> None:
    app.commit({"src/checkout.py": "def pay():\n    return 3\n", "docs/x.md": "hi\n"})
    out = judge(app, guarded_paths=["src/**"])
    assert out.status is Status.FAIL
    assert out.details["unguarded"] == ["src/checkout.py"]
    assert "risky change not behind a toggle" in out.summary
    app.commit({"src/checkout.py": CALL, "flags.yaml": PLAIN_OFF})
    assert judge(app, guarded_paths=["src/**"]).status is Status.PASS


def test_a_key_in_a_comment_or_string_does_not_count(app: RepoFactory) -> None:
    app.commit(
        {
            "src/checkout.py": '# is_enabled("ghost")\nx = "is_enabled(\'quoted\')"\n'
            'y = """\nis_enabled("doc")\n"""\n',
            "src/web.ts": "// isEnabled('ghost2')\n/* variation('ghost3', u) */\nconst a = 1;\n",
        }
    )
    out = judge(app, guarded_paths=["src/**"])
    assert out.details["referenced"] == {}
    assert out.details["undeclared"] == []


def test_user_patterns_and_validation(app: RepoFactory) -> None:
    app.commit(
        {"src/checkout.py": 'if feature("new-checkout"):\n    pass\n', "flags.yaml": PLAIN_OFF}
    )
    out = judge(app, patterns=[r"feature\(\"(?P<key>[\w-]+)\""])
    assert out.details["referenced"] == {"new-checkout": ["src/checkout.py:1"]}
    assert CHECK.validate is not None
    problems = CHECK.validate({"patterns": ["(", "no-group"]})
    assert [p for p, _ in problems] == [("patterns", 0), ("patterns", 1)]


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('client.get_boolean_value("k1", False)', "k1"),
        ("await client.getBooleanValue('k2', false)", "k2"),
        ('client.GetBooleanValue(ctx, "k3", false, evalCtx)', "k3"),
        ('ld.variation("k4", ctx, False)', "k4"),
        ('ld.BoolVariation("k5", ctx, false)', "k5"),
        ("unleash.isEnabled('k6')", "k6"),
        ('unleash.is_enabled("k7")', "k7"),
    ],
)
def test_sdk_call_shapes(line: str, key: str) -> None:
    refs = references_in(line + "\n", "src/x.unknown", [1], SDK_PATTERNS)
    assert [r.key for r in refs] == [key]


def test_only_added_lines_count() -> None:
    text = 'is_enabled("a")\nis_enabled("b")\n'
    assert [r.key for r in references_in(text, "x.py", [2], SDK_PATTERNS)] == ["b"]


@given(st.text(alphabet="ab'\"#/*\n`\\( )", max_size=60))
def test_scanner_never_crashes_and_keeps_lengths(text: str) -> None:
    from gatekeeper.evidence.flags import classify

    for path in ("x.py", "x.js", "x"):
        assert len(classify(text, path)) == len(text)
        references_in(text, path, range(1, 10), SDK_PATTERNS)


def test_documentation_is_not_searched(app: RepoFactory) -> None:
    app.commit({"docs/flags.md": 'Call `is_enabled("documented")` to check a flag.\n'})
    assert judge(app).details["referenced"] == {}
