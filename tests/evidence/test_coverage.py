"""Coverage evidence: exactness against coverage.py and diff-cover, formats, merging,
path mapping."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.evidence import Evidence, RunContext, coverage
from gatekeeper.evidence.coverage_formats import read_report
from tests.evidence import realproject
from tests.factories import make_repo

FORMATS = {
    "coverage.xml": ("cobertura", "coverage.xml"),
    "coverage.json": ("coverage.py-json", "coverage.xml"),  # diff-cover reads no JSON
    "coverage.lcov": ("lcov", "coverage.lcov"),
}


def evidence(root: Path, base: str = "main") -> Evidence:
    return Evidence(RunContext(root, datetime(2026, 1, 1, tzinfo=UTC), base=base))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("project")
    return root, realproject.build(root)


@pytest.mark.parametrize("report", sorted(FORMATS))
def test_figures_equal_coveragepy_and_diff_cover(project, report: str) -> None:
    root, reference = project
    fmt, diff_cover_input = FORMATS[report]
    ev = evidence(root)
    data = coverage.load(ev, [report])
    assert data.reports[0]["format"] == fmt

    totals = coverage.totals(data)
    cov = reference["coverage.py"]
    assert totals.lines_valid == cov["num_statements"]
    assert totals.lines_covered == cov["covered_lines"]
    assert totals.line_percent == pytest.approx(cov["percent_statements_covered"], abs=1e-9)
    # The run measured branches: the total is coverage.py's (statements + branches).
    assert (totals.branches_valid, totals.branches_covered) == (
        cov["num_branches"], cov["covered_branches"])
    assert cov["num_branches"] > cov["covered_branches"] > 0
    assert totals.percent == pytest.approx(cov["percent_covered"], abs=1e-9)

    diff = coverage.diff_coverage(data, ev.git.changed_files)
    theirs = reference[diff_cover_input]
    assert diff.lines == theirs["total_num_lines"]
    assert diff.missing == theirs["total_num_violations"]
    assert round(diff.percent, 2) == theirs["total_percent_covered"]
    assert {p: lines for p, lines in diff.uncovered.items()} == {
        p: s["violation_lines"] for p, s in theirs["src_stats"].items() if s["violation_lines"]
    }
    # The files diff-cover silently skips: changed, measured by nobody. (tests/ is not
    # measured: the run used --source=pkg.)
    assert diff.missing_files == ["scripts/tool.py", "tests/test_calc.py"]
    assert set(theirs["src_stats"]).isdisjoint(diff.missing_files)


def test_reference_project_exercises_the_hard_cases(project) -> None:
    """Guard the reference itself: a rename, deletions, a decorator, a multi-line
    statement, partly covered new file (else the equality above proves little)."""
    root, reference = project
    changed = {f.path: f for f in evidence(root).git.changed_files}
    assert changed["pkg/renamed.py"].status == "renamed"
    assert changed["pkg/old.py"].status == "deleted"
    theirs = reference["coverage.xml"]
    assert 0 < theirs["total_num_violations"] < theirs["total_num_lines"]
    assert theirs["num_changed_lines"] > theirs["total_num_lines"]  # unmeasured lines exist


def test_all_three_formats_merged_give_the_same_figures(project) -> None:
    root, reference = project
    ev = evidence(root)
    data = coverage.load(ev, ["coverage.*"])
    assert [r["format"] for r in data.reports] == ["coverage.py-json", "lcov", "cobertura"]
    diff = coverage.diff_coverage(data, ev.git.changed_files)
    assert diff.lines == reference["coverage.xml"]["total_num_lines"]
    assert diff.missing == reference["coverage.xml"]["total_num_violations"]
    assert coverage.totals(data).lines_valid == reference["coverage.py"]["num_statements"]


def test_load_is_memoized_per_run(project) -> None:
    root, _ = project
    ev = evidence(root)
    assert coverage.load(ev, ["coverage.xml"]) is coverage.load(ev, ["coverage.xml"])


# --- merging ---------------------------------------------------------------------------


def _cobertura(files: dict[str, dict[int, int]], source: str | None = None) -> str:
    classes = "".join(
        f'<class name="{n}" filename="{n}"><methods/><lines>'
        + "".join(f'<line number="{ln}" hits="{h}"/>' for ln, h in sorted(lines.items()))
        + "</lines></class>"
        for n, lines in files.items()
    )
    sources = f"<sources><source>{source}</source></sources>" if source else ""
    return (f'<?xml version="1.0" ?><coverage version="7">{sources}<packages><package name="p">'
            f"<classes>{classes}</classes></package></packages></coverage>")


def test_line_is_covered_if_any_report_covers_it_and_measured_if_any_measures_it(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n" * 6})
    (tmp_path / "unit.xml").write_text(_cobertura({"a.py": {1: 1, 2: 0, 3: 0}}))
    (tmp_path / "e2e.lcov").write_text("SF:a.py\nDA:2,4\nDA:3,0\nDA:5,0\nend_of_record\n")
    data = coverage.load(evidence(tmp_path, "HEAD"), ["unit.xml", "e2e.lcov"])
    assert [data.state("a.py", n) for n in range(1, 7)] == [2, 2, 1, 0, 1, 0]
    assert coverage.totals(data) == coverage.Totals(lines_valid=4, lines_covered=2)


def test_a_listed_file_without_executable_lines_is_not_missing(tmp_path):
    repo = make_repo(tmp_path, {"README.md": "x\n"})
    repo.branch("feature")
    repo.commit({name: '"""Only a docstring."""\n' for name in ("pkg/__init__.py",
                                                                  "pkg/unlisted.py")})
    (tmp_path / "c.json").write_text(
        '{"files": {"pkg/__init__.py": {"executed_lines": [], "missing_lines": []}}}')
    ev = evidence(tmp_path, "main")
    diff = coverage.diff_coverage(coverage.load(ev, ["c.json"]), ev.git.changed_files,
                                  has_code=coverage.code_detector(ev))
    assert (diff.lines, diff.missing_files) == (0, ["pkg/unlisted.py"])
    assert (diff.without_code, diff.measured_nothing) == (["pkg/__init__.py"], [])


def test_a_listed_file_with_code_but_no_measured_line_is_measured_nothing(tmp_path):
    """A report that lists a changed module with zero lines (a broken or partial run)
    must not let the module pass as measured."""
    repo = make_repo(tmp_path, {"README.md": "x\n"})
    repo.branch("feature")
    repo.commit({"pkg/__init__.py": "# only a comment\n\n",
                 "pkg/app.py": '"""Doc."""\nimport os\n\ndef f():\n    return os.sep\n',
                 "web/app.js": "export const x = 1;\n",
                 "web/empty.js": "\n\n"})
    files = {"pkg/__init__.py": [], "pkg/app.py": [], "web/app.js": [], "web/empty.js": []}
    (tmp_path / "c.json").write_text(json.dumps(
        {"files": {n: {"executed_lines": v, "missing_lines": v} for n, v in files.items()}}))
    ev = evidence(tmp_path, "main")
    data = coverage.load(ev, ["c.json"])
    diff = coverage.diff_coverage(data, ev.git.changed_files,
                                  has_code=coverage.code_detector(ev))
    assert diff.measured_nothing == ["pkg/app.py", "web/app.js"]
    assert diff.missing_files == ["pkg/app.py", "web/app.js"]
    assert diff.without_code == ["pkg/__init__.py", "web/empty.js"]
    # Without a way to read the files, every such file counts as missing (fail closed).
    blind = coverage.diff_coverage(data, ev.git.changed_files)
    assert blind.missing_files == sorted(files)


def test_include_globs_do_not_make_data_files_missing(tmp_path):
    repo = make_repo(tmp_path, {"README.md": "x\n"})
    repo.branch("feature")
    repo.commit({"src/a.py": "a = 1\n", "src/schema.json": "{}\n", "src/config.yml": "k: v\n",
                 "src/ui/app.js": "let x = 1;\n", "src/page.html": "<p>x</p>\n",
                 "src/other.html": "<p>y</p>\n"})
    (tmp_path / "c.json").write_text(
        '{"files": {"src/a.py": {"executed_lines": [1], "missing_lines": []}}}')
    ev = evidence(tmp_path, "main")
    data = coverage.load(ev, ["c.json"])
    diff = coverage.diff_coverage(data, ev.git.changed_files, include=["src/**"])
    # JavaScript is code no report measured: missing. JSON, YAML and HTML are not code.
    assert diff.missing_files == ["src/ui/app.js"]
    (tmp_path / "t.lcov").write_text("SF:src/other.html\nDA:1,1\nend_of_record\n")
    with_templates = coverage.load(ev, ["c.json", "t.lcov"])
    # Once a report measures templates, a changed template it does not list is missing
    # (without include, only kinds some report measures count: not the JavaScript).
    assert coverage.diff_coverage(with_templates, ev.git.changed_files).missing_files == [
        "src/page.html"
    ]


def test_include_and_exclude_filter_total(tmp_path):
    make_repo(tmp_path, {"src/a.py": "x\n", "tests/t.py": "x\n"})
    (tmp_path / "c.xml").write_text(_cobertura({"src/a.py": {1: 0}, "tests/t.py": {1: 1}}))
    data = coverage.load(evidence(tmp_path, "HEAD"), ["c.xml"])
    assert coverage.totals(data).percent == 50
    assert coverage.totals(data, exclude=["tests/**"]).percent == 0
    assert coverage.totals(data, include=["tests/**"]).percent == 100


# --- path mapping ----------------------------------------------------------------------


def _mapped(tmp_path: Path, report: str, name: str, **kw) -> dict[str, str | None]:
    (tmp_path / name).write_text(report)
    mapper = coverage.PathMapper(tmp_path, evidence(tmp_path, "HEAD").git.files, kw.get("path_map"))
    return mapper.map_report(read_report(tmp_path / name))


def test_paths_relative_to_a_cobertura_source(tmp_path):
    make_repo(tmp_path, {"src/pkg/a.py": "x\n"})
    report = _cobertura({"pkg/a.py": {1: 1}}, source=str(tmp_path / "src"))
    assert _mapped(tmp_path, report, "c.xml") == {"pkg/a.py": "src/pkg/a.py"}


def test_absolute_paths_from_another_ci_workspace(tmp_path):
    make_repo(tmp_path, {"src/a.py": "x\n", "src/b.py": "x\n", "a.py": "x\n"})
    lcov = "".join(f"SF:/home/runner/work/app/app/{n}\nDA:1,1\nend_of_record\n"
                   for n in ("src/a.py", "src/b.py"))
    # A third-party file whose tail happens to be a repo path must not be mapped to it.
    lcov += "SF:/usr/lib/python3/site-packages/a.py\nDA:1,1\nend_of_record\n"
    assert _mapped(tmp_path, lcov, "c.lcov") == {
        "/home/runner/work/app/app/src/a.py": "src/a.py",
        "/home/runner/work/app/app/src/b.py": "src/b.py",
        "/usr/lib/python3/site-packages/a.py": None,
    }


def test_lone_absolute_paths_are_not_guessed_into_the_repository(tmp_path):
    make_repo(tmp_path, {"api.py": "x\n", "src/a.py": "x\n"})
    lcov = (f"SF:{tmp_path}/src/a.py\nDA:1,1\nend_of_record\n"
            f"SF:{tmp_path}/build/gen/api.py\nDA:1,1\nend_of_record\n"  # generated, untracked
            "SF:/usr/lib/python3/site-packages/api.py\nDA:1,1\nend_of_record\n")
    assert _mapped(tmp_path, lcov, "c.lcov") == {
        f"{tmp_path}/src/a.py": "src/a.py",
        f"{tmp_path}/build/gen/api.py": None,
        "/usr/lib/python3/site-packages/api.py": None,
    }
    # One file from another checkout is trusted when its match spans a folder.
    lcov = "SF:/home/runner/work/app/app/src/a.py\nDA:1,1\nend_of_record\n"
    assert _mapped(tmp_path, lcov, "d.lcov") == {"/home/runner/work/app/app/src/a.py": "src/a.py"}


def test_absolute_windows_paths_and_backslashes(tmp_path):
    make_repo(tmp_path, {"src/a.py": "x\n"})
    lcov = "SF:C:\\a\\app\\src\\a.py\nDA:1,1\nend_of_record\n"
    assert _mapped(tmp_path, lcov, "c.lcov") == {"C:\\a\\app\\src\\a.py": "src/a.py"}


def test_explicit_path_map(tmp_path):
    make_repo(tmp_path, {"service/a.py": "x\n", "a.py": "x\n"})
    lcov = "SF:/app/a.py\nDA:1,1\nend_of_record\n"
    assert _mapped(tmp_path, lcov, "c.lcov", path_map={"/app/": "service/"}) == {
        "/app/a.py": "service/a.py"
    }


def test_report_path_that_is_the_tail_of_one_repo_path(tmp_path):
    make_repo(tmp_path, {"core/src/main/java/com/acme/Foo.java": "x\n",
                     "a/Util.java": "x\n", "b/Util.java": "x\n"})
    lcov = ("SF:com/acme/Foo.java\nDA:1,1\nend_of_record\n"
            "SF:Util.java\nDA:1,1\nend_of_record\n")  # ambiguous: left unmapped
    assert _mapped(tmp_path, lcov, "c.lcov") == {
        "com/acme/Foo.java": "core/src/main/java/com/acme/Foo.java",
        "Util.java": None,
    }


def test_unmapped_files_still_count_in_the_total(tmp_path):
    make_repo(tmp_path, {"a.py": "x\n"})
    (tmp_path / "c.lcov").write_text("SF:a.py\nDA:1,1\nend_of_record\n"
                                     "SF:/elsewhere/zz.py\nDA:1,0\nend_of_record\n")
    data = coverage.load(evidence(tmp_path, "HEAD"), ["c.lcov"])
    assert coverage.totals(data) == coverage.Totals(2, 1)
    assert data.reports[0]["files_in_repo"] == 1


def test_ranges() -> None:
    assert coverage.ranges([9, 1, 2, 3, 7]) == [(1, 3), (7, 7), (9, 9)]
    assert coverage.ranges([]) == []


# --- JaCoCo ----------------------------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures"
CART_BASE = [f"// cart {n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 16)]
CART_HEAD = [f"// cart {n}" for n in range(1, 17)]


def test_jacoco_fixture_hand_checked(tmp_path):
    """Hand-checked against the fixture: Cart 6 lines (5,6,12,15 ran; 12 only partly),
    Price 2 (4 ran), Handler 3 (7 ran): 6 of 11 lines, as the report's LINE counter
    says. The change adds Cart 9-12 (11 unmeasured; 9, 10 missed; 12 ran) and the new
    Handler.java (7 ran; 8, 9 missed): 2 of 6 measured changed lines."""
    cart = "core/src/main/java/com/acme/shop/Cart.java"
    repo = make_repo(tmp_path, {cart: "\n".join(CART_BASE) + "\n",
                                "core/src/main/java/com/acme/shop/Price.java": "// price\n" * 5})
    repo.branch("feature")
    handler = "web/src/main/java/com/acme/web/Handler.java"
    repo.commit({cart: "\n".join(CART_HEAD) + "\n", handler: "// handler\n" * 10})
    (tmp_path / "jacoco.xml").write_bytes((FIXTURES / "jacoco.xml").read_bytes())

    ev = evidence(tmp_path, "main")
    data = coverage.load(ev, ["jacoco.xml"])
    assert data.reports[0]["format"] == "jacoco"
    assert data.in_repo == {cart, handler, "core/src/main/java/com/acme/shop/Price.java"}
    # Branches from the lines' mb/cb: the report's own BRANCH counter (missed 1, covered 1).
    assert coverage.totals(data) == coverage.Totals(11, 6, branches_valid=2, branches_covered=1)
    diff = coverage.diff_coverage(data, ev.git.changed_files)
    assert (diff.lines, diff.covered, diff.missing) == (6, 2, 4)
    assert diff.uncovered == {cart: [9, 10], handler: [8, 9]}
    assert diff.missing_files == []

    # diff-cover agrees once told the modules' source roots (we find them unaided).
    realproject.run(tmp_path, sys.executable, "-m", "diff_cover.diff_cover_tool", "jacoco.xml",
                    "--compare-branch=main", "--src-roots", "core/src/main/java",
                    "web/src/main/java", "--format=json:dc.json")
    theirs = json.loads((tmp_path / "dc.json").read_text())
    assert (theirs["total_num_lines"], theirs["total_num_violations"]) == (6, 4)
    assert {p: s["violation_lines"] for p, s in theirs["src_stats"].items()} == diff.uncovered


def test_code_detector_fails_closed_on_what_it_cannot_parse(tmp_path):
    repo = make_repo(tmp_path, {"README.md": "x\n"})
    repo.commit({"nul.py": b'"""doc"""\n\x00import os\n', "bad.py": "def (:\n",
                 "doc.py": '"""Only a docstring."""\n# and a comment\n', "blank.js": " \n\t\n"})
    has_code = coverage.code_detector(evidence(tmp_path, "HEAD"))
    assert has_code("nul.py") and has_code("bad.py") and has_code("gone.py")
    assert not has_code("doc.py") and not has_code("blank.js")


@given(st.sets(st.integers(min_value=1, max_value=200), max_size=60))
def test_count_ranges_is_the_number_of_ranges(numbers) -> None:
    from gatekeeper.evidence.coverage import count_ranges, ranges

    assert count_ranges(list(numbers)) == len(ranges(list(numbers)))
