from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.model import Annotation, RuleResult, Severity, Status
from gatekeeper.report import RENDERERS, Report, render
from gatekeeper.report.escape import md_code, md_text
from tests.factories import assert_valid_report

GOLDEN = Path(__file__).parent / "golden"
SHA = "0123456789abcdef0123456789abcdef01234567"


def sample(strict: bool = False) -> Report:
    results = [
        RuleResult(
            "freeze",
            "release-window",
            Severity.BLOCK,
            Status.FAIL,
            "2026-12-24T10:00+01:00 is inside the freeze 'Year-end freeze'",
            {"next_allowed": "2027-01-04T00:00+01:00"},
            "release at or after 2027-01-04T00:00+01:00",
        ),
        RuleResult(
            "changelog",
            "changelog",
            Severity.BLOCK,
            Status.PASS,
            "CHANGELOG.md has an entry for 1.4.0",
        ),
        RuleResult(
            "docs",
            "changelog",
            Severity.WARN,
            Status.WARN,
            "docs/*.md <!-- hidden --> by @octocat",
            remedy="ping @org/team in [link](http://x)",
        ),
        RuleResult(
            "coverage",
            "smoke-coverage",
            Severity.BLOCK,
            Status.ERROR,
            "coverage.xml: no such file",
            remedy="upload the coverage report",
            annotations=[Annotation("src/a.py", 3, 5, "not covered")],
        ),
        RuleResult(
            "db",
            "changelog",
            Severity.BLOCK,
            Status.SKIPPED,
            "not applicable: no changed path matches db/**",
        ),
        RuleResult(
            "cve-fix",
            "release-window",
            Severity.BLOCK,
            Status.WAIVED,
            "2026-12-24T10:00+01:00 is inside the freeze 'Year-end freeze'",
            remedy="release at or after 2027-01-04T00:00+01:00",
            waiver={
                "state": "applied",
                "rule": "cve-fix",
                "reason": "CVE fix, paged @oncall",
                "approved_by": "alice",
                "expires": "2026-12-25T00:00:00+00:00",
                "created": "2026-12-22T09:00:00+00:00",
                "scope": {"paths": ["src/auth/**"]},
                "source": "policies/prod.yml:30",
            },
        ),
    ]
    return Report(
        policy_name="Prod release",
        policy_path="policies/prod.yml",
        policy_sha256="a" * 64,
        results=results,
        repo_path="/repo",
        base=SHA,
        head=SHA[::-1],
        merge_base=SHA,
        branch="main",
        env="production",
        strict=strict,
        generated_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
    )


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_golden_output(fmt: str) -> None:
    text = render(sample(), fmt)
    golden = GOLDEN / f"sample.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_json_report_matches_the_schema_and_counts() -> None:
    data = json.loads(render(sample(), "json"))
    assert_valid_report(data)
    assert data["decision"] == "block"
    assert data["counts"] == {
        "pass": 1,
        "warn": 1,
        "fail": 1,
        "error": 1,
        "skipped": 1,
        "waived": 1,
    }
    assert data["rules"][3]["annotations"] == [
        {"path": "src/a.py", "line": 3, "end_line": 5, "message": "not covered"}
    ]
    assert [r["blocks"] for r in data["rules"]] == [True, False, False, True, False, False]
    assert data["rules"][5]["waiver"]["approved_by"] == "alice"
    assert data["rules"][0]["waiver"] is None


def test_waived_rules_never_block_and_show_the_waiver() -> None:
    report = sample()
    report.results = [r for r in report.results if r.status in (Status.PASS, Status.WAIVED)]
    assert report.decision.value == "approve"
    text_out = render(report, "text")
    assert "every blocking rule passed or is waived (1 waived)" in text_out
    assert "~WAIVED" in text_out and "waived: CVE fix, paged @oncall (approved by alice" in text_out
    md = render(report, "markdown")
    assert md.startswith("### ✅ Release approved: Prod release (1 waived)")
    assert "**Waived:** CVE fix, paged @\u200doncall" in md
    assert "1 pass, 1 waived" in md
    assert "waived" in json.loads(render(report, "json"))["counts"]


def test_a_waived_status_without_its_waiver_breaks_the_schema() -> None:
    import jsonschema

    data = json.loads(render(sample(), "json"))
    data["rules"][5]["waiver"] = None
    with pytest.raises(jsonschema.ValidationError):
        assert_valid_report(data)


def test_decision_comes_first_in_people_formats() -> None:
    assert (
        render(sample(), "text")
        .splitlines()[1]
        .startswith("Decision: BLOCK: 2 rules block the release")
    )
    assert render(sample(), "markdown").startswith(
        "### ❌ Release blocked: Prod release (2 rules block)"
    )


def test_strict_counts_warnings_as_blocking() -> None:
    assert "3 rules block the release (freeze, docs, coverage)" in render(
        sample(strict=True), "text"
    )


def test_markdown_escapes_text_from_the_change() -> None:
    md = render(sample(), "markdown")
    assert "<!--" not in md and "@octocat" not in md and "@org/team" not in md
    assert "[link](" not in md


@given(st.text())
def test_md_text_neutralises_markup(text: str) -> None:
    out = md_text(text)
    assert "\n" not in out
    assert "<" not in out.replace("\\<", "")
    assert all(out[i + 1] == "\u200d" for i, ch in enumerate(out) if ch == "@")


@given(st.text())
def test_md_code_is_one_code_span(text: str) -> None:
    out = md_code(text)
    fence = len(out) - len(out.lstrip("`"))
    inner = out[fence : len(out) - fence]
    assert "`" * fence not in inner


def test_markdown_lists_places_folded_and_escaped() -> None:
    report = sample()
    many = [Annotation(f"src/`x`<{i}>.py", i, None, "not covered @octocat") for i in range(1, 40)]
    report.results[0].annotations = many
    md = render(report, "markdown")
    assert "<details><summary>freeze: 39 places</summary>" in md
    assert "- ``src/`x`<1>.py:1`` not covered @\u200doctocat" in md
    assert "- and 9 more (see the JSON report)" in md
    assert md.count("- ``src/") == 30


def test_text_folds_to_the_terminal_width_without_losing_words() -> None:
    from gatekeeper.report import text

    flat, folded = text.render(sample()), text.render(sample(), width=80)
    assert max(len(line) for line in folded.splitlines()) <= 80
    assert max(len(line) for line in flat.splitlines()) > 80
    assert folded.split() == flat.split()
    assert "                                        2027-01-04T00:00+01:00" in folded


def test_markdown_folds_the_first_30_failing_tests_escaped() -> None:
    failing = [{"test": f"tests.t::test_{i}", "outcome": "failure",
                "message": f"@here <b>{i}</b>", "report": "junit.xml"} for i in range(33)]
    result = RuleResult("smoke", "smoke-coverage", Severity.BLOCK, Status.FAIL,
                        "33 tests, 33 failed", {"failing_tests": failing}, "fix them")
    text = render(Report("P", "p.yml", "0" * 64, [result], "/repo"), "markdown")
    assert "<details><summary>smoke: 33 failing tests</summary>" in text
    assert "- `tests.t::test_0` (failure) @\u200dhere \\<b\\>0\\</b\\>" in text
    assert "`tests.t::test_29`" in text and "`tests.t::test_30`" not in text
    assert "- and 3 more (see the JSON report)" in text
    passing = RuleResult("smoke", "smoke-coverage", Severity.BLOCK, Status.PASS, "ok",
                         {"failing_tests": []})
    assert "failing test" not in render(Report("P", "p.yml", "0" * 64, [passing], "/r"),
                                        "markdown")
