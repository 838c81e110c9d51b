from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.checks import registry, with_defaults
from gatekeeper.checks.checklist import validate
from gatekeeper.engine import evaluate_rule
from gatekeeper.evidence import Evidence, RunContext, tasklist
from gatekeeper.model import Outcome, Status
from gatekeeper.policy import Rule
from tests.factories import RepoFactory, make_repo
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401

CHECK = registry()["checklist"]

DOC = """\
# Release 1.2.0

Notes about the release.

## Definition of Done
- [x] Tests pass
- [ ] Smoke tests on staging
- [x] Security review

```markdown
- [ ] Example item in a code block
```

## Follow-ups
- [ ] Write a blog post
"""


def judge(repo: RepoFactory, **options: Any) -> Outcome:
    jsonschema.validate(options, CHECK.options)
    ctx = RunContext(repo_path=repo.path, now=datetime.now(UTC), base="main", environ={})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


@pytest.fixture
def release(repo: RepoFactory) -> RepoFactory:
    repo.branch("release")
    repo.commit({"docs/releases/1.2.0.md": DOC}, "release notes")
    repo.tag("v1.2.0")
    return repo


def test_one_unticked_item_fails_naming_it_and_its_line(release: RepoFactory) -> None:
    out = judge(release, source="docs/releases/{version}.md", section="Definition of Done")
    assert out.status is Status.FAIL
    assert "'Smoke tests on staging' (line 7)" in out.summary
    assert "1 of 3 item(s) unticked" in out.summary
    assert "under 'Definition of Done' in docs/releases/1.2.0.md" in out.summary
    assert "Write a blog post" not in out.summary  # another section
    assert out.details["unticked"] == [{"text": "Smoke tests on staging", "line": 7}]
    assert [a.where for a in out.annotations] == ["docs/releases/1.2.0.md:7"]
    assert "tick" in (out.remedy or "")


def test_ticking_it_passes(release: RepoFactory) -> None:
    release.commit({"docs/releases/1.2.0.md": DOC.replace("- [ ] Smoke", "- [x] Smoke")})
    out = judge(release, source="docs/releases/1.2.0.md", section="definition of done")
    assert out.status is Status.PASS, out.summary
    assert out.summary == "all 3 item(s) ticked under 'definition of done' in docs/releases/1.2.0.md"


def test_an_item_only_in_a_fenced_code_block_does_not_count(repo: RepoFactory) -> None:
    repo.commit({"DOD.md": "# DoD\n\n```\n- [ ] not an item\n```\n\n~~~\n- [x] nor this\n~~~\n"})
    out = judge(repo, source="DOD.md")
    assert out.status is Status.FAIL
    assert out.summary == "0 task item(s), at least 1 expected in DOD.md"
    assert judge(repo, source="DOD.md", min_items=0).status is Status.PASS


def test_html_comments_and_indented_code_do_not_count(repo: RepoFactory) -> None:
    text = "- [x] done\n\n<!--\n- [ ] hidden template hint\n-->\n\n    - [ ] indented code\n"
    repo.commit({"DOD.md": text})
    out = judge(repo, source="DOD.md")
    assert out.status is Status.PASS, out.summary
    assert out.details["items"] == 1


def test_a_required_item_that_is_missing_fails_naming_it(release: RepoFactory) -> None:
    out = judge(
        release,
        source="docs/releases/{version}.md",
        section="Definition of Done",
        required=["  security REVIEW ", "Rollback plan tested"],
    )
    assert out.status is Status.FAIL
    assert "required item(s) missing: 'Rollback plan tested'" in out.summary
    assert out.details["missing"] == ["Rollback plan tested"]


def test_a_required_item_outside_the_section_is_missing(release: RepoFactory) -> None:
    out = judge(release, source="docs/releases/1.2.0.md", section="Definition of Done",
                required=["Write a blog post"])
    assert out.details["missing"] == ["Write a blog post"]


def test_nested_and_ordered_items_count(repo: RepoFactory) -> None:
    text = "1. [X] parent\n   * [ ] child\n     - [x] grandchild\n2. [x] next\n"
    repo.commit({"DOD.md": text})
    out = judge(repo, source="DOD.md")
    assert out.status is Status.FAIL
    assert out.details["unticked"] == [{"text": "child", "line": 2}]
    items = tasklist.parse(text).items
    assert [(i.text, i.depth, i.checked) for i in items] == [
        ("parent", 0, True), ("child", 1, False), ("grandchild", 2, True), ("next", 0, True)
    ]


def test_section_ends_at_a_heading_of_the_same_or_higher_level(repo: RepoFactory) -> None:
    text = (
        "Definition of Done\n==================\n- [x] a\n### Sub\n- [ ] b\n"
        "# Other\n- [ ] c\n## Definition of done\n- [ ] d\n"
    )
    found = tasklist.parse(text, "Definition of Done")
    # The setext heading, its subsection, and the second section of that title.
    assert [i.text for i in found.items] == ["a", "b", "d"]


def test_missing_section_and_missing_file_fail_naming_them(release: RepoFactory) -> None:
    out = judge(release, source="docs/releases/1.2.0.md", section="Acceptance")
    assert out.status is Status.FAIL
    assert out.summary == "no heading 'Acceptance' in docs/releases/1.2.0.md"
    out = judge(release, source="docs/releases/9.9.9.md")
    assert out.status is Status.FAIL and "docs/releases/9.9.9.md does not exist" in out.summary


def test_version_placeholder_without_a_tag_fails(repo: RepoFactory) -> None:
    out = judge(repo, source="docs/releases/{version}.md")
    assert out.status is Status.FAIL and "no version tag" in out.summary
    repo.commit({"docs/releases/2.0.0.md": "- [x] ok\n"})
    assert judge(repo, source="docs/releases/{version}.md", version="2.0.0").status is Status.PASS


def test_unknown_placeholder_is_a_policy_problem() -> None:
    assert validate({"source": "docs/{release}.md"}) == [
        (("source",), "unknown placeholder {release} (only {version} is filled)")
    ]
    assert validate({"source": "docs/{version}.md"}) == []


def test_item_text_from_the_document_stays_on_one_line(repo: RepoFactory) -> None:
    text = "- [ ] first line\n  continued \u202e lazily\r\n- [x] other\n"
    repo.commit({"DOD.md": text})
    out = judge(repo, source="DOD.md")
    assert out.details["unticked"] == [{"text": "first line continued lazily", "line": 1}]
    assert "\n" not in out.summary and "\r" not in out.summary and "\u202e" not in out.summary


def test_many_unticked_items_are_capped_in_the_summary_but_all_in_details(repo) -> None:
    repo.commit({"DOD.md": "".join(f"- [ ] item {n}\n" for n in range(30))})
    out = judge(repo, source="DOD.md")
    assert "and 10 more" in out.summary and len(out.details["unticked"]) == 30


# -- source: pr_body, through the GitHub API (the local fake) -------------------------


def judge_pr(github: FakeGitHub, tmp_path: Path, pr: int | None = 7, **options: Any) -> Outcome:
    repo = make_repo(tmp_path / "repo")
    ctx = RunContext(repo.path, datetime.now(UTC), base="main", environ=github.environ(),
                     options={"pr": pr} if pr else {})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def test_pr_body_is_read_from_the_github_api(github: FakeGitHub, tmp_path: Path) -> None:
    github.add_pr(7)
    github.pulls[7]["body"] = "## Checklist\r\n- [x] Docs updated\r\n- [ ] Migration tested\r\n"
    out = judge_pr(github, tmp_path, section="Checklist")
    assert out.status is Status.FAIL
    assert out.summary == (
        "1 of 2 item(s) unticked: 'Migration tested' (line 3) under 'Checklist' in the "
        "description of pull request #7"
    )
    assert out.annotations == []  # no file to point at
    assert github.requests("GET", "/pulls/7")
    github.pulls[7]["body"] = "## Checklist\n- [x] Docs updated\n- [x] Migration tested\n"
    assert judge_pr(github, tmp_path, section="Checklist").status is Status.PASS


def test_pr_with_an_empty_body_fails(github: FakeGitHub, tmp_path: Path) -> None:
    github.add_pr(7)
    github.pulls[7]["body"] = None  # GitHub sends null for an empty description
    out = judge_pr(github, tmp_path)
    assert out.status is Status.FAIL and "0 task item(s)" in out.summary


def test_no_pull_request_fails_saying_so(github: FakeGitHub, tmp_path: Path) -> None:
    out = judge_pr(github, tmp_path, pr=None)
    assert out.status is Status.FAIL
    assert out.summary == "source: pr_body, but this run has no pull request"


def test_api_failure_is_an_error(github: FakeGitHub, tmp_path: Path) -> None:
    github.add_pr(7)
    github.fail(r"/pulls/7$", 404)
    repo = make_repo(tmp_path / "repo")
    ctx = RunContext(repo.path, datetime.now(UTC), base="main", environ=github.environ(),
                     options={"pr": 7})
    result = evaluate_rule(Rule("dod", "checklist"), Evidence(ctx))
    assert result.status is Status.ERROR and "HTTP 404" in result.summary


# -- the parser against hostile or odd Markdown ----------------------------------------


def test_a_fence_commonmark_does_not_open_hides_nothing() -> None:
    # Four spaces in a paragraph's continuation are not a fence: the item after it shows.
    text = "Text\n    ```\n- [ ] visible\n"
    assert [i.text for i in tasklist.parse(text).unticked] == ["visible"]
    # An unclosed fence runs to the end of the document, as GitHub renders it.
    assert tasklist.parse("```\n- [ ] code\n").items == ()


def test_brackets_that_are_not_markers_are_not_items() -> None:
    text = "- [link](x)\n- [ ]no space\n- [y] other\n- text [ ] later\n- [ ]\n"
    assert [(i.text, i.checked) for i in tasklist.parse(text).items] == [("", False)]


@given(st.text(alphabet=st.sampled_from(list("-*+1. []xX`~<!>#\n\t abc")), max_size=80))
def test_parse_never_crashes_and_lines_are_in_range(text: str) -> None:
    found = tasklist.parse(text)
    lines = text.count("\n") + 1
    assert all(1 <= i.line <= lines and "\n" not in i.text for i in found.items)


def test_item_text_is_escaped_in_the_markdown_report(repo: RepoFactory, tmp_path: Path) -> None:
    from tests.factories import run_cli, write_policy

    repo.branch("release")
    repo.commit({"DOD.md": "- [ ] Ping @everyone | `<img src=x>` <!--\n- [x] done\n"})
    policy = write_policy(tmp_path / "p.yml", [
        {"id": "dod", "check": "checklist", "with": {"source": "DOD.md"}}
    ])
    out = run_cli("check", "--policy", str(policy), "--repo", str(repo.path), "--base", "main",
                  "--format", "markdown")
    assert out.exit_code == 1
    row = next(line for line in out.output.splitlines() if line.startswith("| ❌ fail | `dod`"))
    assert "@\u200deveryone \\| \\<img src=x\\> \\<\\!--" in row


def test_item_text_is_what_a_reader_sees() -> None:
    text = "- [x] **Security** `review` <!-- done? --> by [ops](http://x)\n- [ ] Roll<!-- -->back\n"
    items = tasklist.parse(text).items
    assert [i.text for i in items] == ["Security review by ops", "Rollback"]


def test_required_item_matches_with_markup(repo: RepoFactory) -> None:
    repo.commit({"DOD.md": "- [x] **Security review**\n- [x] Rollback plan *tested*\n"})
    out = judge(repo, source="DOD.md", required=["Security review", "rollback plan tested"])
    assert out.status is Status.PASS, out.summary
