"""Check plugins from the `gatekeeper.checks` entry points: the example package installed with
pip, and broken plugins found through real importlib.metadata discovery."""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatekeeper import checks, plugins
from tests.factories import RepoFactory, run_cli, write_policy

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gatekeeper-plugin-example"


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin package, installed with pip from its local path (offline)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    source = build / "src"
    # Build from a copy: setuptools leaves build/ and *.egg-info next to the sources.
    subprocess.run(["cp", "-r", str(EXAMPLE), str(source)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(source)],
        check=True,
    )
    return target


def _on_path(monkeypatch: pytest.MonkeyPatch, *dirs: Path) -> None:
    for d in dirs:
        monkeypatch.syspath_prepend(str(d))
    importlib.invalidate_caches()
    checks.reset()


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    checks.reset()
    yield
    for name in [m for m in sys.modules if m.startswith(("gatekeeper_plugin_example", "broken_"))]:
        del sys.modules[name]
    checks.reset()


def _fake_dist(root: Path, package: str, entries: dict[str, str], module: str, code: str) -> Path:
    """A distribution as pip leaves it (a dist-info folder beside its module) on sys.path."""
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{package.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[gatekeeper.checks]\n{lines}")
    (root / f"{module}.py").write_text(code)
    return root


def _broken(tmp_path: Path) -> Path:
    return _fake_dist(
        tmp_path / "broken",
        "broken-plugin",
        {"explodes": "broken_plugin:CHECK"},
        "broken_plugin",
        "raise RuntimeError('the plugin cannot find its config')\n",
    )


RULE = {"id": "small", "check": "max-changed-files", "with": {"limit": 1}}


def test_example_plugin_is_listed_with_its_package(
    monkeypatch: pytest.MonkeyPatch, example_site: Path
) -> None:
    _on_path(monkeypatch, example_site)
    found = [p for p in plugins.find() if p.entry_point.name == "max-changed-files"]
    assert [(p.package, p.version) for p in found] == [("gatekeeper-plugin-example", "0.1.0")]
    result = run_cli("checks")
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("max-changed-files"))
    assert "[plugin: gatekeeper-plugin-example 0.1.0]" in line
    assert "changelog" in result.output  # built-ins are still there
    assert "warning" not in result.output


def test_example_plugin_feeds_schema_and_explain(
    monkeypatch: pytest.MonkeyPatch, example_site: Path
) -> None:
    _on_path(monkeypatch, example_site)
    schema = json.loads(run_cli("schema").output)
    assert "max-changed-files" in schema["$defs"]["rule"]["properties"]["check"]["enum"]
    assert "limit" in run_cli("explain", "max-changed-files").output


def test_a_policy_using_the_plugin_validates_and_runs(
    monkeypatch: pytest.MonkeyPatch, example_site: Path, repo: RepoFactory, tmp_path: Path
) -> None:
    _on_path(monkeypatch, example_site)
    policy = write_policy(tmp_path / "p.yml", [RULE])
    assert run_cli("validate", str(policy)).exit_code == 0
    bad = write_policy(tmp_path / "bad.yml", [{**RULE, "with": {"limit": 0}}])
    out = run_cli("validate", str(bad))
    assert out.exit_code == 2 and "bad.yml:" in out.output and "limit" in out.output

    repo.branch("feature")
    repo.commit({"a.py": "a\n"}, "one file")
    ok = run_cli("check", "--policy", str(policy), "--repo", str(repo.path), "--base", "main",
                 "--format", "json")
    assert ok.exit_code == 0, ok.output
    repo.commit({"b.py": "b\n"}, "two files")
    blocked = run_cli("check", "--policy", str(policy), "--repo", str(repo.path), "--base", "main",
                      "--format", "json")
    assert blocked.exit_code == 1, blocked.output
    rule = json.loads(blocked.output)["rules"][0]
    assert rule["status"] == "fail" and "2 files changed" in rule["summary"]


def test_plugin_that_raises_on_import_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _on_path(monkeypatch, _broken(tmp_path))
    listing = run_cli("checks")
    assert listing.exit_code == 0  # unused: a warning, not a failure
    assert "warning: check plugin broken-plugin[explodes]" in listing.output
    assert "RuntimeError: the plugin cannot find its config" in listing.output

    used = write_policy(tmp_path / "p.yml", [{"id": "x", "check": "explodes"}])
    result = run_cli("validate", str(used))
    assert result.exit_code == 2
    assert "broken-plugin[explodes]" in result.output
    assert "RuntimeError: the plugin cannot find its config" in result.output
    assert "Traceback" not in result.output


def test_broken_unused_plugin_does_not_break_other_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repo: RepoFactory
) -> None:
    _on_path(monkeypatch, _broken(tmp_path))
    policy = write_policy(tmp_path / "p.yml", [{"id": "log", "check": "changelog",
                                                "with": {"require_change": False}}])
    assert run_cli("validate", str(policy)).exit_code == 0
    result = run_cli("check", "--policy", str(policy), "--repo", str(repo.path), "--base", "HEAD")
    assert result.exit_code in (0, 1)  # a decision was made


def test_a_check_run_with_a_broken_plugin_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repo: RepoFactory
) -> None:
    _on_path(monkeypatch, _broken(tmp_path))
    policy = write_policy(tmp_path / "p.yml", [{"id": "x", "check": "explodes"}])
    result = run_cli("check", "--policy", str(policy), "--repo", str(repo.path), "--base", "HEAD")
    assert result.exit_code == 2 and "broken-plugin[explodes]" in result.output


@pytest.mark.parametrize(
    ("entries", "code", "name", "reason"),
    [
        ({"changelog": "broken_clash:CHECK"}, "CHECK = None\n", "changelog", "built-in check"),
        ({"nocheck": "broken_obj:CHECK"}, "CHECK = 42\n", "nocheck", "is not a gatekeeper.checks.Check"),
        ({"renamed": "broken_named:CHECK"},
         "from gatekeeper.checks import Check\n"
         "CHECK = Check('other', 't', {'type': 'object'}, lambda o, e: None)\n",
         "renamed", "its Check is named 'other'"),
        ({"badschema": "broken_schema:CHECK"},
         "from gatekeeper.checks import Check\n"
         "CHECK = Check('badschema', 't', {'type': 'nope'}, lambda o, e: None)\n",
         "badschema", "not a valid JSON Schema"),
    ],
)
def test_invalid_or_clashing_plugins_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    entries: dict[str, str], code: str, name: str, reason: str,
) -> None:
    module = next(iter(entries.values())).split(":")[0]
    _on_path(monkeypatch, _fake_dist(tmp_path / "d", "broken-x", entries, module, code))
    failed = checks.failed_plugins()
    assert name in failed and f"broken-x[{name}]" in failed[name] and reason in failed[name]
    policy = write_policy(tmp_path / "p.yml", [{"id": "x", "check": name}])
    result = run_cli("validate", str(policy))
    if name == "changelog":  # the built-in keeps its name; the plugin is only warned about
        assert result.exit_code == 0 and checks.get(name) is not None
        assert checks.provider(name) is None
        assert f"broken-x[{name}]" in run_cli("checks").output
        return
    assert result.exit_code == 2 and f"broken-x[{name}]" in result.output


def test_two_plugins_claiming_one_name_are_both_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, example_site: Path
) -> None:
    rival = _fake_dist(tmp_path / "r", "broken-rival", {"max-changed-files": "broken_rival:CHECK"},
                       "broken_rival", "raise AssertionError('never imported')\n")
    _on_path(monkeypatch, example_site, rival)
    assert "max-changed-files" not in checks.registry()
    reason = checks.failed_plugins()["max-changed-files"]
    assert "another plugin claims" in reason


def test_help_does_not_scan_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**_: object) -> object:
        raise AssertionError("entry points scanned")

    monkeypatch.setattr(md, "entry_points", boom)
    assert run_cli("--help").exit_code == 0
    code = "import sys, gatekeeper.cli; print('gatekeeper.plugins' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
