"""The fast output path gives the same bytes as before and escapes the same strings.

``golden/big.*`` were written by the renderers before they were made fast (a deep copy per
render, the pure-Python indenting JSON encoder); ``big_sample`` holds long lists of line
numbers next to file names that are not UTF-8 or carry control characters."""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.model import Annotation, RuleResult, Severity, Status
from gatekeeper.report import RENDERERS, Rendered, Report, _printable, json_, render
from gatekeeper.report.escape import printable
from tests.factories import RepoFactory, assert_valid_report, run_cli, write_policy
from tests.report.big_sample import big_report

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_big_report_renders_as_before(fmt: str) -> None:
    golden = (GOLDEN / f"big.{fmt}").read_text(encoding="utf-8")
    assert render(big_report(), fmt) == golden
    assert Rendered(big_report())[fmt] == golden


def test_big_report_json_is_valid_and_escaped() -> None:
    text = render(big_report(), "json")
    text.encode("utf-8")  # writable: no lone surrogate left
    data = json.loads(text)
    assert not _has_surrogate(data)  # not even as a JSON escape (\udcff)
    assert_valid_report(data)
    uncovered = data["rules"][0]["details"]["uncovered"]
    paths = [u["path"] for u in uncovered]
    assert "src/caf\\xe9.py" in paths
    assert "src/\\ud83d\\ude00 lone pair.py" in paths
    assert "src/\x1b[2J\n::error::pwned.py" in paths  # a JSON string: escaped by the encoder
    assert "\x1b" not in text and "\n::error::" not in text
    assert sum(len(u["lines"]) for u in uncovered) == 60 * 40


def _has_surrogate(data: object) -> bool:
    text = json.dumps(data, ensure_ascii=False)
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _hostile_in_big_list(name: str, size: int = 5000) -> Report:
    lines: list[int | str] = list(range(1, size))
    details = {"uncovered": [{"path": f"ok{i}.py", "lines": lines} for i in range(20)]}
    details["uncovered"].insert(11, {"path": name, "lines": [*lines, "7-9"]})
    details["names"] = [f"ok{i}.py" for i in range(size)] + [name]
    result = RuleResult("cov", "smoke-coverage", Severity.BLOCK, Status.FAIL, "uncovered", details,
                        "cover them", annotations=[Annotation(name, 3, None, f"see {name}")])
    return Report("P", "p.yml", "0" * 64, [result], "/repo",
                  generated_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("name", [
    "bad\udcff\x1b]0;title\x07.py",
    "x\ud800y\n::add-mask::z.py",
    "\u202e\udc80\r\t.py",
])
def test_a_hostile_name_deep_in_a_big_details_list_is_still_escaped(name: str) -> None:
    report = _hostile_in_big_list(name)
    rendered = Rendered(report)
    out = {fmt: rendered[fmt] for fmt in RENDERERS}
    for fmt, text in out.items():
        text.encode("utf-8")  # every format writable as UTF-8
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), fmt
    data = json.loads(out["json"])
    details = data["rules"][0]["details"]
    expected = "".join(
        f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF
        else f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c
        for c in name
    )
    assert details["uncovered"][11]["path"] == expected == details["names"][-1]
    assert not _has_surrogate(data)
    # Terminal and CI-log formats: no raw line break, escape or bell from the name.
    for fmt in ("text", "junit"):
        assert "\x1b" not in out[fmt] and "\x07" not in out[fmt] and "\n::" not in out[fmt]
    assert "\x1b" not in out["markdown"] and "\u202e" not in out["markdown"]
    # The report itself is not changed: the escaped strings live in a copy.
    assert report.results[0].details["uncovered"][11]["path"] == name


def test_a_clean_report_is_not_copied_a_dirty_one_only_where_needed() -> None:
    clean = _hostile_in_big_list("fine.py")
    assert _printable(clean) is clean
    dirty = _hostile_in_big_list("bad\udcff.py")
    copy = _printable(dirty)
    assert copy is not dirty and copy.results[0] is not dirty.results[0]
    before, after = dirty.results[0].details, copy.results[0].details
    assert after["uncovered"][11]["path"] == "bad\\xff.py"
    # A list of plain values none of whose strings needs escaping is shared, not copied.
    assert after["uncovered"][0]["lines"] is before["uncovered"][0]["lines"]
    assert after["uncovered"][11]["lines"] is before["uncovered"][11]["lines"]
    assert after["names"] is not before["names"] and after["names"][-1] == "bad\\xff.py"
    assert after["names"][:-1] == before["names"][:-1]


def test_printable_reaches_keys_tuples_and_what_json_cannot_write() -> None:
    value = {
        "k\udcff": ("t\udcfe", 1),
        ("tuple", "key\udcfd"): "v",  # JSON cannot write this key: walked as before
        "set": {"s\udcfc"},  # neither JSON nor the walk look into a set
        "when": datetime(2026, 1, 1, tzinfo=UTC),
        "status": Status.FAIL,
    }
    out = _printable(value)
    assert out["k\\xff"] == ("t\\xfe", 1)
    assert out[("tuple", "key\\xfd")] == "v"
    assert out["set"] == {"s\udcfc"} and out["status"] is Status.FAIL
    assert out["when"] == value["when"]


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from([Status.PASS, datetime(2026, 1, 1, tzinfo=UTC), Path("a/b")])
)
keys = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=6)
    | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300)
@given(json_like, st.booleans())
def test_dumps_is_json_dumps_with_indent_byte_for_byte(value: Any, ascii_only: bool) -> None:
    expected = json.dumps(value, indent=2, ensure_ascii=ascii_only, default=str)
    assert json_.dumps(value, ensure_ascii=ascii_only, default=str) == expected


def _escaped_everywhere(value: Any) -> Any:
    """The walk ``_printable`` did before it learnt to skip clean values (the reference)."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [_escaped_everywhere(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_escaped_everywhere(v) for v in value)
    if isinstance(value, dict):
        return {_escaped_everywhere(k): _escaped_everywhere(v) for k, v in value.items()}
    return value


@settings(max_examples=200)
@given(json_like)
def test_printable_escapes_what_the_full_walk_escapes(value: Any) -> None:
    got, expected = _printable(value), _escaped_everywhere(value)
    assert json.dumps(got, default=repr) == json.dumps(expected, default=repr)
    assert type(got) is type(expected)


@pytest.mark.parametrize("without_accelerator", [False, True])
def test_dumps_on_big_flat_lists(monkeypatch: pytest.MonkeyPatch, without_accelerator: bool) -> None:
    if without_accelerator:
        monkeypatch.setattr(json_, "_C_MAKE_ENCODER", None)
    value = {
        "a": [list(range(3000)), {"b": [1.5, math.inf, -math.inf, None, True, "x\n\"y\udcff"]}],
        "empty": [[], {}, ()],
        "mixed": [[1, "2-3", 4] * 500, {"k": 1, "l": "m"}],
        "sub": [Status.PASS, Status.FAIL],  # str subclasses: left to json itself
    }
    for ascii_only in (True, False):
        assert json_.dumps(value, ensure_ascii=ascii_only, default=str) == json.dumps(
            value, indent=2, ensure_ascii=ascii_only, default=str
        )


def test_dumps_without_default_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError):
        json_.dumps({"a": [object()]})
    with pytest.raises(TypeError):
        json_.dumps({"a": {("t",): 1}})


def test_each_format_is_rendered_once_per_run(
    repo: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting(fmt: str, renderer: Callable[[Report], str]) -> Callable[[Report], str]:
        def wrapped(report: Report) -> str:
            calls.append(fmt)
            return renderer(report)

        return wrapped

    # Each renderer module's `render`, wrapped: RENDERERS looks it up when it renders.
    for fmt, name in {"text": "text", "json": "json_", "markdown": "markdown",
                      "sarif": "sarif", "junit": "junit"}.items():
        module = importlib.import_module(f"gatekeeper.report.{name}")
        monkeypatch.setattr(module, "render", counting(fmt, module.render))
    repo.commit({"src/app.py": "print('hello')\n"}, "feature")
    policy = write_policy(tmp_path / "p.yml", [{"id": "w", "check": "release-window"}])
    summary = tmp_path / "summary.md"
    args = ("check", "--policy", str(policy), "--repo", str(repo.path), "--base", "HEAD~1",
            "--format", "json", "--output", f"json={tmp_path}/a.json",
            "--output", f"json={tmp_path}/b.json", "--output", f"markdown={tmp_path}/r.md")
    result = run_cli(*args, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0, result.output
    assert sorted(calls) == ["json", "markdown"]
    assert result.output == (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert summary.read_text(encoding="utf-8") == (tmp_path / "r.md").read_text(encoding="utf-8")

    calls.clear()  # a local run: no job summary, no comment, so no Markdown at all
    assert run_cli(*args[:-2]).exit_code == 0
    assert calls == ["json"]


def test_a_json_run_loads_only_the_json_renderer(repo: RepoFactory, tmp_path: Path) -> None:
    repo.commit({"src/app.py": "print('hello')\n"}, "feature")
    policy = write_policy(tmp_path / "p.yml", [{"id": "w", "check": "release-window"}])
    probe = (
        "import sys\n"
        "from gatekeeper.cli import cli\n"  # main() would end the process, probe and all
        "try:\n    cli(prog_name='gatekeeper')\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    args = ["check", "-p", str(policy), "--repo", str(repo.path), "--base", "HEAD~1",
            "--format", "json"]
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, timeout=60)
    assert json.loads(done.stdout)["decision"] == "approve"
    modules = set(done.stderr.split())
    assert "gatekeeper.report.json_" in modules
    assert not modules & {"gatekeeper.report.junit", "gatekeeper.report.sarif",
                          "gatekeeper.report.markdown", "xml.etree.ElementTree"}
