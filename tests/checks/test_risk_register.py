from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.checks import registry, with_defaults
from gatekeeper.engine import evaluate_rule
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.risks import parse
from gatekeeper.model import Outcome, Status
from gatekeeper.policy import Rule
from tests.factories import RepoFactory, write_policy

CHECK = registry()["risk-register"]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

R7 = {"id": "R-7", "title": "Payment provider outage", "likelihood": 4, "impact": 4,
      "status": "open"}
LOW = {"id": "R-1", "title": "Typo in docs", "likelihood": 1, "impact": 2, "status": "open"}


def write(repo: RepoFactory, risks: list[dict[str, Any]], name: str = "risks.yml") -> None:
    repo.commit({name: yaml.safe_dump({"risks": risks}, sort_keys=False)})


def judge(repo: RepoFactory, path: str = "risks.yml", **options: Any) -> Outcome:
    options = {"path": path, **options}
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(repo_path=repo.path, now=NOW, base="main", environ={})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def error_of(repo: RepoFactory, path: str = "risks.yml") -> str:
    ctx = RunContext(repo_path=repo.path, now=NOW, base="main", environ={})
    result = evaluate_rule(Rule("risks", "risk-register", options={"path": path}), Evidence(ctx))
    assert result.status is Status.ERROR, result.summary
    return result.summary


def test_open_4x4_without_mitigation_fails_naming_the_risk(repo: RepoFactory) -> None:
    write(repo, [LOW, R7])
    out = judge(repo)
    assert out.status is Status.FAIL
    assert out.summary == (
        "1 risk(s) in risks.yml block the release: R-7 (open with score 16 (likelihood 4 × "
        "impact 4) >= max_open_score 15; no owner; no mitigation)"
    )
    assert out.details["offenders"] == [{
        "id": "R-7", "line": 7, "score": 16, "status": "open",
        "reasons": ["open with score 16 (likelihood 4 × impact 4) >= max_open_score 15",
                    "no owner", "no mitigation"],
    }]
    assert out.details["risks"] == [
        {"id": "R-1", "score": 2, "status": "open", "line": 2},
        {"id": "R-7", "score": 16, "status": "open", "line": 7},
    ]
    assert [a.where for a in out.annotations] == ["risks.yml:7"]


def test_mitigation_and_owner_pass_at_max_open_score_20(repo: RepoFactory) -> None:
    write(repo, [LOW, R7])
    assert judge(repo, max_open_score=20).summary.endswith("no owner; no mitigation)")
    write(repo, [LOW, {**R7, "owner": "ops-team", "mitigation": "Second provider on standby"}])
    out = judge(repo, max_open_score=20)
    assert out.status is Status.PASS, out.summary
    assert out.summary == "2 risk(s) in risks.yml, 2 open; highest open score 16 < max_open_score 20"
    # At the default 15 the same risk is still too big to ship while open.
    assert judge(repo).status is Status.FAIL


def test_accepted_risk_needs_accepted_by(repo: RepoFactory) -> None:
    write(repo, [{**R7, "status": "accepted"}])
    out = judge(repo)
    assert out.status is Status.FAIL
    assert "R-7 (accepted without `accepted_by`)" in out.summary
    write(repo, [{**R7, "status": "accepted", "accepted_by": "cto@example.com"}])
    assert judge(repo).status is Status.PASS


def test_mitigated_and_closed_risks_do_not_block(repo: RepoFactory) -> None:
    write(repo, [{**R7, "status": "mitigated"}, {**R7, "id": "R-8", "status": "Closed"}])
    assert judge(repo).status is Status.PASS


def test_require_applies_from_min_score(repo: RepoFactory) -> None:
    write(repo, [{**LOW, "likelihood": 3, "impact": 3}])  # 9: at min_score
    assert judge(repo).details["offenders"][0]["reasons"] == ["no owner", "no mitigation"]
    assert judge(repo, min_score=10).status is Status.PASS
    out = judge(repo, require=["owner"])
    assert out.details["offenders"][0]["reasons"] == ["no owner"]


def test_review_days_marks_stale_open_risks(repo: RepoFactory) -> None:
    done = {"owner": "a", "mitigation": "b"}
    write(repo, [
        {**LOW, **done, "reviewed": "2026-11-01"},
        {**LOW, **done, "id": "R-2", "reviewed": "2026-06-01"},
        {**LOW, **done, "id": "R-3"},
        {**LOW, **done, "id": "R-4", "reviewed": "2027-01-01"},
        {**LOW, **done, "id": "R-5", "reviewed": "2020-01-01", "status": "closed"},
    ])
    out = judge(repo, review_days=90)
    reasons = {o["id"]: o["reasons"] for o in out.details["offenders"]}
    assert reasons == {
        "R-2": ["last reviewed 2026-06-01, 177 days ago (review_days 90)"],
        "R-3": ["never reviewed (no `reviewed` date)"],
        "R-4": ["reviewed date 2027-01-01 is after 2026-11-25"],
    }
    assert judge(repo).status is Status.PASS  # without review_days nothing is stale


def test_csv_register(repo: RepoFactory) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["ID", "Title", "Likelihood", "Impact", "Owner", "Mitigation", "Status",
                     "Reviewed", "Accepted by"])
    writer.writerow(["R-1", "Multi\nline title", "2", "2", "", "", "open", "", ""])
    writer.writerow(["R-7", "Outage", "4", "4", "ops", "", "open", "2026-11-01", ""])
    repo.commit({"risks.csv": buffer.getvalue()})
    out = judge(repo, "risks.csv")
    assert out.status is Status.FAIL
    assert out.details["offenders"][0]["id"] == "R-7"
    assert out.details["offenders"][0]["line"] == 4  # the quoted newline takes a line
    assert out.details["offenders"][0]["reasons"][-1] == "no mitigation"


def test_markdown_table_register(repo: RepoFactory) -> None:
    text = (
        "# Risks\n\n<!--\n| id | status |\n|---|---|\n| X | bogus |\n-->\n\n"
        "| Id | Title | Likelihood | Impact | Owner | Mitigation | Status | Accepted by |\n"
        "|----|-------|-----------:|-------:|-------|------------|--------|-------------|\n"
        "| R-1 | Pipe \\| in title | 1 | 1 | | | open | |\n"
        "| R-7 | Outage | 5 | 4 | ops | standby | accepted | |\n"
    )
    repo.commit({"RISKS.md": text})
    out = judge(repo, "RISKS.md")
    assert out.status is Status.FAIL
    assert out.details["offenders"] == [{
        "id": "R-7", "line": 12, "score": 20, "status": "accepted",
        "reasons": ["accepted without `accepted_by`"],
    }]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("risks.yml", "risks:\n  - id: R-1\n    status: open\n    likelihood: [4\n",
         "risks.yml:5: YAML syntax error"),
        ("risks.yml", "risks:\n  - id: R-1\n    likelihood: 6\n    impact: 1\n    status: open\n",
         "risks.yml:2: risk R-1: likelihood 6 is not a number from 1 to 5"),
        ("risks.yml", "- id: R-1\n  likelihood: 2\n  impact: 2\n  status: wontfix\n",
         "risks.yml:1: risk R-1: unknown status 'wontfix'"),
        ("risks.yml", "- {id: R-1, likelihood: 2, impact: true, status: open}\n",
         "risks.yml:1: risk R-1: impact True is not a number from 1 to 5"),
        ("risks.yml", "- {id: R-1, likelihood: 2, impact: 2, status: open}\n"
                      "- {id: R-1, likelihood: 1, impact: 1, status: closed}\n",
         "risks.yml:2: duplicate risk id 'R-1' (first at line 1)"),
        ("risks.yml", "- {id: R-1, likelihood: 2, impact: 2, status: open, status: closed}\n",
         "risks.yml:1: duplicate field 'status'"),
        ("risks.yml", "- {id: R-1, likelihood: 2, impact: 2, status: open, reviewed: soon}\n",
         "risks.yml:1: risk R-1: reviewed 'soon' is not a date"),
        ("risks.yml", "risks: 3\n", "risks.yml:1: expected a list of risks"),
        ("risks.yml", "- {likelihood: 2, impact: 2, status: open}\n",
         "risks.yml:1: a risk without an `id`"),
        ("risks.csv", "id,likelihood,impact,status\nR-1,2,2,open\nR-2,2.5,2,open\n",
         "risks.csv:3: risk R-2: likelihood '2.5' is not a number from 1 to 5"),
        ("risks.csv", "id,likelihood,impact,status\nR-1,2,2,open,extra\n",
         "risks.csv:2: 5 fields, but the header has 4"),
        ("risks.csv", 'id,status\n"R-1,open\n', "risks.csv:"),
        ("risks.csv", "title,status\nx,open\n", "risks.csv:1: the header row has no `id` column"),
        ("RISKS.md", "# Risks\n\nNone yet.\n", "RISKS.md:1: no Markdown table with an `id`"),
        ("risks.txt", "R-1", "risks.txt:1: unknown register format"),
    ],
)
def test_a_malformed_register_is_an_error_naming_file_and_line(
    repo: RepoFactory, name: str, text: str, message: str
) -> None:
    repo.commit({name: text})
    summary = error_of(repo, name)
    assert f"evidence unavailable: {message}" in summary


def test_a_missing_register_is_an_error(repo: RepoFactory) -> None:
    assert "risk register docs/risks.yml does not exist" in error_of(repo, "docs/risks.yml")


def test_binary_register_is_an_error(repo: RepoFactory) -> None:
    repo.commit({"risks.yml": b"\xff\xfe- id"})
    assert "risks.yml:1: not UTF-8 text" in error_of(repo)


def test_register_text_is_flattened_in_the_summary(repo: RepoFactory) -> None:
    write(repo, [{**R7, "id": "R-7\n## injected heading", "status": "accepted"}])
    out = judge(repo)
    assert "\n" not in out.summary and "R-7 ## injected heading (accepted" in out.summary


def test_policy_without_path_is_invalid(tmp_path: Path) -> None:
    from gatekeeper.errors import PolicyError
    from gatekeeper.policy import load_policy

    policy = write_policy(tmp_path / "p.yml", [{"id": "r", "check": "risk-register", "with": {}}])
    with pytest.raises(PolicyError, match="path"):
        load_policy(policy)


@given(st.lists(st.fixed_dictionaries({
    "likelihood": st.integers(1, 5), "impact": st.integers(1, 5),
    "status": st.sampled_from(["open", "mitigated", "accepted", "closed"]),
    "owner": st.text(max_size=5),
}), max_size=6))
def test_the_same_register_reads_the_same_from_yaml_and_csv(rows: list[dict[str, Any]]) -> None:
    rows = [{"id": f"R-{n}", **row} for n, row in enumerate(rows)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["id", "likelihood", "impact", "status", "owner"])
    writer.writeheader()
    writer.writerows(rows)
    from_yaml = parse("r.yml", yaml.safe_dump(rows) if rows else "[]")
    from_csv = parse("r.csv", buffer.getvalue())
    keep = ("id", "score", "status")
    assert [[getattr(r, k) for k in keep] for r in from_yaml] == [
        [getattr(r, k) for k in keep] for r in from_csv
    ]


def test_reviewed_dates_from_yaml_are_dates() -> None:
    risks = parse("r.yml", "- {id: A, likelihood: 1, impact: 1, status: open, reviewed: 2026-01-02}")
    assert risks[0].reviewed == date(2026, 1, 2)


def test_evidence_error_type(repo: RepoFactory) -> None:
    with pytest.raises(EvidenceError):
        parse("x.yml", "[")
