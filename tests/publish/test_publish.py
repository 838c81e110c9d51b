from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Annotation, RuleResult, Severity, Status
from gatekeeper.publish import Published, actions, publish
from gatekeeper.publish import comment as sticky
from gatekeeper.publish import status as commit_status
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

SHA = "a" * 40


def evidence(github: FakeGitHub, tmp_path: Path, **env: str) -> Evidence:
    ctx = RunContext(tmp_path, datetime.now(UTC), environ=github.environ(**env),
                     options={"pr": 1})
    return Evidence(ctx)


def failing(n_annotations: int = 1) -> RuleResult:
    return RuleResult(
        "coverage", "diff-coverage", Severity.BLOCK, Status.FAIL, "2 lines uncovered",
        annotations=[Annotation(f"src/a,b:{i}.py", i + 1, i + 2, "not covered\n100%")
                     for i in range(n_annotations)],
    )


def test_three_runs_leave_exactly_one_comment_with_the_latest_content(github, tmp_path) -> None:
    github.add_pr(1, head_sha=SHA)
    github.add_comment(1, "LGTM", user="bob")
    for i in range(120):  # push our comment onto the second page of comments
        github.add_comment(1, f"chatter {i}", user="bob")
    for run in range(3):
        out = publish(
            evidence(github, tmp_path), policy_name="release", approved=run == 2,
            summary="s", markdown=f"# Gatekeeper run {run}\n", results=[], comment=True,
        )
        assert out.warnings == []
        assert out.done[-1] == ("PR comment created" if run == 0 else "PR comment updated")
    ours = [c for c in github.comments[1] if "<!-- gatekeeper:release -->" in c["body"]]
    assert len(ours) == 1
    assert ours[0]["body"] == "<!-- gatekeeper:release -->\n# Gatekeeper run 2\n"
    assert len(github.requests("POST")) == 1 and len(github.requests("PATCH")) == 2


def test_another_policy_gets_its_own_comment(github, tmp_path) -> None:
    github.add_pr(1)
    for name in ("release", "hotfix", "release"):
        publish(evidence(github, tmp_path), policy_name=name, approved=True, summary="s",
                markdown=name, results=[], comment=True)
    assert len(github.comments[1]) == 2


def test_long_report_is_cut_to_the_limit_with_a_note(github, tmp_path) -> None:
    github.add_pr(1)
    markdown = "```\n" + "x" * 70000
    out = publish(evidence(github, tmp_path), policy_name="p", approved=True, summary="s",
                  markdown=markdown, results=[], comment=True)
    assert out.warnings == []
    body = github.comments[1][0]["body"]
    assert len(body) <= 65536 and "Report truncated" in body
    assert body.count("```") % 2 == 0


def test_marker_cannot_be_closed_by_the_policy_name() -> None:
    assert sticky.marker("evil --> <b>") == "<!-- gatekeeper:evil - -b- -->"


def test_commit_status(github, tmp_path) -> None:
    github.add_pr(1, head_sha=SHA)
    publish(evidence(github, tmp_path), policy_name="release", approved=False,
            summary="blocked: " + "x" * 300, markdown="", results=[], status=True)
    [posted] = github.statuses[SHA]
    assert posted["state"] == "failure" and posted["context"] == "gatekeeper/release"
    assert len(posted["description"]) == 140 and posted["description"].endswith("…")
    assert posted["target_url"] == "https://github.example/acme/widgets/actions/runs/4242"
    assert commit_status.context_for(None) == "gatekeeper"


def test_fork_read_only_token_skips_with_warning(github, tmp_path) -> None:
    github.add_pr(1, head_sha=SHA)
    github.read_only = True
    out = publish(evidence(github, tmp_path, GITHUB_ACTIONS="true"), policy_name="p",
                  approved=True, summary="ok", markdown="m", results=[], comment=True,
                  status=True)
    assert len(out.warnings) == 2
    assert all(w.startswith("::warning") and "fork" in w for w in out.warnings)
    assert github.comments[1] == [] and github.statuses[SHA] == []
    assert all(github.token not in w for w in out.warnings)


def test_summary_outputs_and_annotations(github, tmp_path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    summary.write_text("earlier step\n")
    out = publish(
        evidence(github, tmp_path, GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output),
                 GITHUB_ACTIONS="true"),
        policy_name="p", approved=False, summary="s", markdown="# Report",
        results=[failing(60)], report_path="/tmp/r.json",
    )
    assert summary.read_text() == "earlier step\n# Report\n"
    assert output.read_text() == "decision=block\nreport=/tmp/r.json\n"
    assert len(out.commands) == 51
    assert out.commands[0] == (
        "::error file=src/a%2Cb%3A0.py,line=1,endLine=2,title=gatekeeper%3A coverage"
        "::not covered%0A100%25"
    )
    assert out.commands[-1] == "::notice::10 more annotations not shown (limit 50)"
    assert github.log == []  # nothing asked of GitHub without --comment/--status


def test_annotations_skip_passing_rules_and_warn_for_warnings() -> None:
    passing = failing()
    passing.status = Status.PASS
    warned = failing()
    warned.status, warned.severity = Status.WARN, Severity.WARN
    lines = actions.annotation_lines([passing, warned])
    assert len(lines) == 1 and lines[0].startswith("::warning file=")


def test_multiline_output_uses_a_delimiter(tmp_path) -> None:
    output = tmp_path / "out"
    actions.write_outputs({"GITHUB_OUTPUT": str(output)}, {"report": "a\nb"})
    lines = output.read_text().splitlines()
    assert lines[0].startswith("report<<ghadelimiter_") and lines[1:3] == ["a", "b"]
    assert lines[3] == lines[0].split("<<")[1]


def test_comment_create_is_not_retried_but_update_is(github, tmp_path) -> None:
    github.add_pr(1)
    github.fail(r"/issues/1/comments$", 502, times=1, method="POST")
    out = publish(evidence(github, tmp_path), policy_name="p", approved=True, summary="s",
                  markdown="one", results=[], comment=True)
    assert len(github.requests("POST")) == 1 and "HTTP 502" in out.warnings[0]
    publish(evidence(github, tmp_path), policy_name="p", approved=True, summary="s",
            markdown="two", results=[], comment=True)
    github.fail(r"/issues/comments/\d+$", 502, times=1, method="PATCH")
    out = publish(evidence(github, tmp_path), policy_name="p", approved=True, summary="s",
                  markdown="three", results=[], comment=True)
    assert out.warnings == [] and len(github.requests("PATCH")) == 2
    assert [c["body"] for c in github.comments[1]] == ["<!-- gatekeeper:p -->\nthree"]


def test_nothing_to_publish_is_decided_without_rendering_or_writing(tmp_path) -> None:
    """A laptop run (no Actions files, no --comment/--status) publishes nothing, so it
    skips the publishing modules (tests/test_lean_start.py); each way of asking for
    publishing still does publish."""
    from gatekeeper.publish import wanted

    def run(comment: bool = False, status: bool = False, **env: str) -> Published:
        ctx = RunContext(tmp_path, datetime.now(UTC), environ=env)
        return publish(
            Evidence(ctx), policy_name="p", approved=False, summary="s",
            markdown=lambda: "# Report", results=[failing()], report_path="/tmp/r.json",
            comment=comment, status=status,
        )

    assert not wanted({"HOME": "/home/me", "GITHUB_ACTIONS": "false"}, comment=False, status=False)
    assert run(HOME="/home/me") == Published()
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    assert wanted({"GITHUB_STEP_SUMMARY": str(summary)}, comment=False, status=False)
    assert run(GITHUB_STEP_SUMMARY=str(summary)).done == ["job summary"]
    assert wanted({"GITHUB_OUTPUT": str(output)}, comment=False, status=False)
    assert run(GITHUB_OUTPUT=str(output)).done == ["step outputs"]
    assert wanted({"GITHUB_ACTIONS": "true"}, comment=False, status=False)
    assert run(GITHUB_ACTIONS="true").commands
    assert wanted({}, comment=True, status=False) and wanted({}, comment=False, status=True)
    # Asked for, so attempted (this run names no repository: skipped with a warning).
    assert run(comment=True).warnings and run(status=True).warnings
