"""coverage.py JSON's fast path (``coveragepy_json_fast``): an entry laid out as coverage.py
lays it out is checked by one pattern, and only the values the reader uses are decoded.
Whatever it does, the outcome is the careful reader's (``_read_whole``: ``json.loads`` and
the same checks), and anything unusual is left to the careful path."""

from __future__ import annotations

import io
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.evidence.coverage_formats import _jsonstream
from gatekeeper.evidence.coverage_formats import coveragepy_json as cj
from gatekeeper.evidence.coverage_formats import coveragepy_json_fast as fast
from tests.evidence.test_coveragepy_json import (
    CHUNKS,
    assert_alike,
    chunk,
    mutate,
    outcome,
    write,
)


@contextmanager
def fast_reads() -> Iterator[list[bool]]:
    """Record, for each entry the reader meets, whether the fast path read it."""
    taken: list[bool] = []
    original = fast.entry

    def spy(stream: _jsonstream.JsonStream) -> dict[str, Any] | None:
        found = original(stream)
        taken.append(found is not None)
        return found

    fast.entry = spy  # type: ignore[assignment]
    try:
        yield taken
    finally:
        fast.entry = original  # type: ignore[assignment]


def read(path: Path) -> tuple[tuple[Any, ...], list[bool]]:
    """The streamed reader's outcome (checked equal to the careful reader's) and, per
    entry, whether it was read fast (with the default chunk size)."""
    expected = assert_alike(path)
    with fast_reads() as taken:
        assert outcome(cj.read_json, path) == expected
    return expected, taken


def region(executed: list[int], missing: list[int], start: int | None = None,
           arcs: bool = True) -> dict[str, Any]:
    """An entry or a region as coverage.py 7 writes it (keys in its order)."""
    out: dict[str, Any] = {
        "executed_lines": executed,
        "summary": {"covered_lines": len(executed), "num_statements": len(executed) + len(missing),
                    "percent_covered": 66.66666666666667, "percent_covered_display": "67",
                    "missing_lines": len(missing), "excluded_lines": 0, "num_branches": 2,
                    "covered_branches": 1},
        "missing_lines": missing,
        "excluded_lines": [],
    }
    if start is not None:
        out["start_line"] = start
    if arcs:
        out["executed_branches"] = [[executed[0], -1]] if executed else []
        out["missing_branches"] = [[executed[0], 4]] if executed else []
    return out


def entry(executed: list[int], missing: list[int], arcs: bool = True) -> dict[str, Any]:
    out = region(executed, missing, arcs=arcs)
    out["functions"] = {"f": region(executed[:1], [], 1, arcs), "": region(executed[1:], missing, 1, arcs)}
    out["classes"] = {"": region(executed, missing, 1, arcs)}
    return out


def report(*entries: str) -> str:
    files = ", ".join(f'"f{i}.py": {text}' for i, text in enumerate(entries))
    return ('{"meta": {"format": 3, "timestamp": "2024-05-01T10:00:00"}, "files": {' + files
            + '}, "totals": {"covered_lines": 1}}')


GOOD = json.dumps(entry([1, 2, 5], [3, 9]))


def replaced(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    return text.replace(old, new, 1)


def replaced_last(old: str, new: str, text: str = GOOD) -> str:
    assert old in text
    at = text.rindex(old)
    return text[:at] + new + text[at + len(old):]


# --- coverage.py's own output is read fast -------------------------------------------------


@pytest.mark.parametrize(
    ("run", "report_args", "fast"),
    [
        (["--branch"], [], True),
        (["--branch", "--context=unit"], ["--show-contexts"], True),
        ([], [], True),  # no branch coverage: no arcs, the summary's counts
        # Indented: the careful path's scanner skips whitespace faster than a pattern.
        (["--branch"], ["--pretty-print"], False),
    ],
)
def test_real_coverage_json_is_read_fast(tmp_path, run, report_args, fast):
    (tmp_path / "mod.py").write_text(
        "class A:\n    def f(self, x):\n        if x:\n            return 1\n        return 2\n"
        "def g():\n    for i in range(2):\n        pass\nA().f(1)\ng()\n"
    )
    (tmp_path / "other.py").write_text("import mod\nif mod.g() is None:\n    x = 1\n")
    for args in (["run", *run, "other.py"], ["json", *report_args, "-o", "c.json"]):
        subprocess.run([sys.executable, "-m", "coverage", *args], cwd=tmp_path, check=True,
                       capture_output=True)
    expected, taken = read(tmp_path / "c.json")
    assert expected[0] == "report"
    assert taken == [fast, fast]


def test_the_benchmark_layout_is_read_fast(tmp_path):
    entries = [json.dumps(entry(list(range(1, 400, 2)), list(range(2, 400, 2)))) for _ in range(3)]
    expected, taken = read(write(tmp_path, report(*entries)))
    assert expected[0] == "report" and taken == [True, True, True]


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        json.dumps(entry([], [])),
        json.dumps(entry([9, 2, 2, 5], [5, 3, 3])),  # unsorted, repeated, in both lists
        json.dumps(entry([1, 999_999], [])),
        # Line numbers the reader refuses, with the careful path's messages.
        json.dumps(entry([0, 2], [], arcs=False)),
        json.dumps(entry([1], [5_000_000])),
        json.dumps(entry([1], [10**17])),
        json.dumps(entry([4, 5], [1], arcs=False)),  # no arcs: the summary's counts
        json.dumps({**entry([4], [1], arcs=False), "summary": {"num_branches": 3}}),
        json.dumps({**entry([4], [1], arcs=False), "summary": {"num_branches": 1,
                                                               "covered_branches": 2}}),
        json.dumps({**entry([4], [1]), "executed_branches": [[4, 5]] * 70_000}),
        json.dumps({**entry([4], [1]), "missing_branches": [[999_999, -1], [4, 0]]}),
        # Values the reader does not use may be anything the pattern knows to be JSON.
        replaced("66.66666666666667", "-6.6E+01"),
        json.dumps({**entry([4], [1]), "excluded_lines": [-1, 0, 1.5, "x", None, True]}),
        json.dumps({**entry([4], [1]), "functions": {"é\ud800\n\"\\/": region([4], [], -1)}},
                   ensure_ascii=True),
        json.dumps({**entry([4], [1]), "functions": {"é\ud800": region([4], [], 1)}},
                   ensure_ascii=False),
    ],
)
def test_entries_in_coverage_pys_layout_are_read_fast(tmp_path, text):
    _, taken = read(write(tmp_path, report(text, GOOD)))
    assert taken == [True, True]


# --- anything else is read by the careful path --------------------------------------------


UNUSUAL = {
    "keys in another order": json.dumps(
        {"missing_lines": [3], "executed_lines": [1], "summary": {}, "excluded_lines": []}),
    "a key spelled with an escape": replaced('"executed_lines"', '"executed\\u005flines"'),
    "a key given twice": GOOD[:-1] + ', "executed_lines": [7]}',
    "an unknown key": GOOD[:-1] + ', "notes": "x"}',
    "only one arc list": json.dumps({k: v for k, v in entry([1], [2]).items()
                                     if k != "missing_branches"}),
    "arcs null": replaced('"executed_branches": [[1, -1]], "missing_branches": [[1, 4]]',
                          '"executed_branches": null, "missing_branches": null'),
    "a line list of digits that is not JSON": replaced('"executed_lines": [1, 2, 5]',
                                                       '"executed_lines": [1,, 2]'),
    "a line with a leading zero": replaced('"missing_lines": [3, 9]', '"missing_lines": [3, 09]'),
    "a line of 5,000 digits": replaced('"missing_lines": [3, 9]', '"missing_lines": [' + "3" * 5000 + "]"),
    "a negative line": replaced('"missing_lines": [3, 9]', '"missing_lines": [3, -9]'),
    "a float line": replaced('"executed_lines": [1, 2, 5]', '"executed_lines": [1, 2.0, 5]'),
    "a bool line": replaced('"executed_lines": [1, 2, 5]', '"executed_lines": [1, true]'),
    "a line list that is not a list": replaced('"missing_lines": [3, 9]', '"missing_lines": 3'),
    "an arc from line 0": replaced('"executed_branches": [[1, -1]]',
                                   '"executed_branches": [[0, -1]]'),
    "an arc of three": replaced('"executed_branches": [[1, -1]]',
                                '"executed_branches": [[1, -1, 2]]'),
    "an arc to a float": replaced('"executed_branches": [[1, -1]]',
                                  '"executed_branches": [[1, -1.0]]'),
    "NaN in a summary": replaced("66.66666666666667", "NaN"),
    "a number of 19 digits": replaced("66.66666666666667", "6" * 19),
    "a number of 5,000 digits in a region": replaced('"start_line": 1', '"start_line": ' + "1" * 5000),
    "a leading zero in a region": replaced('"start_line": 1', '"start_line": 01'),
    "a minus without digits": replaced('"start_line": 1', '"start_line": -'),
    "a fraction without digits": replaced("66.66666666666667", "66."),
    "a control character in a name": replaced('"f": {', '"f\x01": {'),
    "a control character after an escape": replaced('"f": {', '"f\\u0001\x1f": {'),
    "a control character in a value": replaced('"67"', '"6\n7"'),
    "an unknown escape": replaced('"f": {', '"f\\q": {'),
    "a short unicode escape": replaced('"f": {', '"f\\u12": {'),
    "nesting deeper than coverage.py's": replaced('"excluded_lines": []', '"excluded_lines": [[[[1]]]]'),
    "deep nesting": replaced('"excluded_lines": []',
                             '"excluded_lines": ' + "[" * 100_000 + "]" * 100_000),
    "a trailing comma": GOOD[:-1] + ",}",
    "a trailing comma in a summary": replaced('"covered_branches": 1}', '"covered_branches": 1, }'),
    "a trailing comma in a region": replaced('"missing_branches": [[1, 4]]}',
                                             '"missing_branches": [[1, 4]],}'),
    "a trailing comma in functions": replaced('}}, "classes"', '}, }, "classes"'),
    "a trailing comma in a list of lists": replaced('"excluded_lines": []',
                                                    '"excluded_lines": [[1], ]'),
    "a leading comma in functions": replaced('"functions": {', '"functions": {, '),
    "a missing comma": replaced('"missing_lines": [3, 9]', '"missing_lines": [3 9]'),
    "a missing value": replaced('"percent_covered_display": "67"', '"percent_covered_display": '),
    "a single-quoted string": replaced('"67"', "'67'"),
    "a vertical tab as space": replaced(', "summary"', ",\x0b\"summary\""),
    "a non-breaking space as space": replaced(', "summary"', ",\xa0\"summary\""),
    "non-ASCII digits": replaced('"executed_lines": [1, 2, 5]', '"executed_lines": [1, \u0662, 5]'),
    "cut short": GOOD[:-1],
    "--pretty-print": json.dumps(entry([1, 2, 5], [3, 9]), indent=4),
    "other separators": json.dumps(entry([1, 2, 5], [3, 9]), separators=(",", ":")),
    "a space more": replaced('"summary": ', '"summary":  '),
    # The class "" repeats the entry's values (read by comparison): a copy that differs.
    "a leading zero in a class's copy": replaced_last('"executed_lines": [1, 2, 5]',
                                                      '"executed_lines": [1, 2, 05]'),
    "a control character in a class's copy": replaced_last('"67"', '"6\x027"'),
    "a missing bracket in a class's copy": replaced_last('[[1, -1]]', '[[1, -1]'),
    "a list that is not JSON, and its class's copy": GOOD.replace(
        '"executed_lines": [1, 2, 5]', '"executed_lines": [1,, 2, 5]'),
}


@pytest.mark.parametrize("case", UNUSUAL)
def test_anything_unusual_is_read_by_the_careful_path(tmp_path, case):
    path = write(tmp_path, report(UNUSUAL[case], GOOD))
    _, taken = read(path)
    assert taken[0] is False
    with chunk(64):
        assert outcome(cj.read_json, path) == outcome(cj._read_whole, path)


def test_an_entry_not_whole_in_the_text_read_so_far_is_read_by_the_careful_path(tmp_path):
    path = write(tmp_path, report(*[GOOD] * 40))
    seen = set()
    for size in (len(GOOD) // 2, len(GOOD) + 7, 2 * len(GOOD) + 3, 3 * len(GOOD) + 1):
        with chunk(size), fast_reads() as taken:
            got = outcome(cj.read_json, path)
        assert got == outcome(cj._read_whole, path)
        seen.update(taken)
    assert seen == {True, False}


def test_an_entry_that_ends_at_the_end_of_the_text_read_is_read_by_the_careful_path(tmp_path):
    # A number that ends where the text read so far ends may go on: the stream's margin.
    text = report(GOOD)
    end = text.index(GOOD) + len(GOOD)
    path = write(tmp_path, text)
    for size in range(end - _jsonstream._MARGIN - 2, end + _jsonstream._MARGIN + 2):
        with chunk(size), fast_reads() as taken:
            assert outcome(cj.read_json, path) == outcome(cj._read_whole, path)
        assert taken == [end + _jsonstream._MARGIN < size], size


def test_the_string_pattern_is_json_strings_exactly():
    symbols = ["a", "_", "Z", '"', "\\", "n", "u", "0", "F", "\x01", "\x1f", "é", " ", "/", "\ud800",
               "\\u00e9", "\\u004"]
    pattern = re.compile(fast._STRING)
    for size in range(5):
        for chars in itertools.product(symbols, repeat=size):
            text = '"' + "".join(chars) + '"'
            assert bool(pattern.fullmatch(text)) == isinstance(loads(text), str), text


# --- the line-table budget, on the fast path ---------------------------------------------------


def big(line: int, arcs: bool = False) -> str:
    """An entry in coverage.py's layout whose tables reach ``line``."""
    return json.dumps(region([line], [], arcs=arcs))


@pytest.mark.parametrize(
    ("arcs", "where"),
    [
        # 1,000,000 bytes of line table per file: the 68th crosses 64 MiB.
        (False, "files['f67.py'].executed_lines: its line numbers would need more memory"),
        # And 4 x 1,000,000 bytes of branch tables (``Branches.add``'s growth): the 14th.
        (True, "files['f13.py']: its line numbers would need more memory"),
    ],
)
def test_tables_over_the_budget_give_the_careful_readers_error(tmp_path, arcs, where):
    # 100 files whose tables reach line 999,999: over the 64 MiB budget at the same file
    # and list as the careful reader, and where the table sizes say.
    path = write(tmp_path, report(*[big(999_999, arcs)] * 100))
    with fast_reads() as taken:
        got = outcome(cj.read_json, path)
    assert got == outcome(cj._read_whole, path)
    assert got[0] == "error" and where in got[1]
    assert taken and all(taken)


def test_a_replaced_fast_entry_gives_its_budget_back(tmp_path):
    # One name 70 times with a 1 MB table each: only the last counts (json.loads keeps one).
    files = ", ".join([f'"a.py": {big(999_999, arcs=True)}'] * 70)
    path = write(tmp_path, '{"files": {' + files + "}}")
    with fast_reads() as taken:
        got = outcome(cj.read_json, path)
    assert got == outcome(cj._read_whole, path)
    assert got[0] == "report" and all(taken)


def test_a_bad_fast_entry_replaced_later_is_decided_by_the_last_entries(tmp_path):
    bad = json.dumps(region([0], [], arcs=False))  # line 0: read fast, refused by the checks
    files = f'"a.py": {bad}, "b.py": {GOOD}, "a.py": {GOOD}'
    path = write(tmp_path, '{"files": {' + files + "}}")
    with fast_reads() as taken:
        got = outcome(cj.read_json, path)
    assert got == outcome(cj._read_whole, path)
    assert got[0] == "report" and taken[:3] == [True, True, True]


# --- properties ------------------------------------------------------------------------------

line_lists = st.one_of(
    st.lists(st.integers(1, 3000), max_size=8).map(sorted),
    st.lists(st.integers(1, 3000), max_size=8),
    st.lists(st.sampled_from([0, -1, 999_999, 1_000_000, 10**18, 10**19, 1.5, True, None, "1"]),
             max_size=3),
)
arc_lists = st.one_of(
    st.lists(st.tuples(st.integers(1, 3000), st.integers(-3000, 3000)).map(list), max_size=5),
    st.lists(st.lists(st.sampled_from([0, -1, 1, 10**7, 1.5, None]), max_size=3), max_size=2),
    st.none(),
)
scalars = st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=True), st.booleans(),
                    st.none(), st.text(max_size=4))
summaries = st.dictionaries(
    st.sampled_from(["num_branches", "covered_branches", "covered_lines", "percent_covered", "é"]),
    st.one_of(st.integers(0, 9), scalars), max_size=4)


@st.composite
def regions(draw: st.DrawFn, top: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"executed_lines": draw(line_lists), "summary": draw(summaries),
                           "missing_lines": draw(line_lists), "excluded_lines": draw(line_lists)}
    if not top:
        out["start_line"] = draw(st.integers(-1, 5))
    if draw(st.booleans()):
        out["contexts"] = draw(st.dictionaries(st.sampled_from(["1", "2"]),
                                               st.lists(st.text(max_size=3), max_size=2)))
    if draw(st.booleans()):
        out["executed_branches"], out["missing_branches"] = draw(arc_lists), draw(arc_lists)
    if top and draw(st.booleans()):
        for kind in ("functions", "classes"):
            out[kind] = draw(st.dictionaries(st.text(max_size=3), regions(top=False), max_size=2))
        if draw(st.booleans()):  # coverage.py's class "" of a module without classes
            out["classes"][""] = {**{k: v for k, v in out.items() if k not in (
                "functions", "classes")}, "start_line": 1}
    if draw(st.integers(0, 9)) == 0:  # now and then a key dropped, added or moved
        key = draw(st.sampled_from(sorted(out)))
        value = out.pop(key)
        if draw(st.booleans()):
            out[key] = value
    return out


@st.composite
def entry_texts(draw: st.DrawFn) -> str:
    # Mostly coverage.py's default layout (the fast path's), now and then another.
    indent = draw(st.sampled_from([None, None, None, None, 4, 0, "\t"]))
    separators = draw(st.sampled_from([None, None, None, (",", ":"), (" ,", ": ")]))
    return json.dumps(draw(regions(top=True)), indent=indent, separators=separators,
                      ensure_ascii=draw(st.booleans()))


def corrupt(data: st.DataObject, text: str) -> str:
    chars = list(text)
    mutate(data, chars, '{}[]:,"\\ 0123456789-.eE\n\t\x01ntfu\u0662')
    return "".join(chars)


SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


REFUSED = object()


def loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return REFUSED


@SETTINGS
@given(text=entry_texts(), data=st.data())
def test_what_the_fast_path_reads_is_json_and_its_values_are_json_loads(text, data):
    """The fast path's soundness on its own: when it reads an entry, the entry is a whole
    JSON object that json.loads reads without error, with no key but the ones it knows,
    and the values it gives are json.loads's, in the shapes the reader then assumes."""
    if data.draw(st.booleans()):
        text = corrupt(data, text)
    stream = _jsonstream.JsonStream(io.BytesIO(text.encode("utf-8", "surrogatepass")), 1 << 20)
    if stream.peek() != "{":
        return
    start = stream._base + stream.pos  # where in the whole text
    values = fast.entry(stream)
    end = stream._base + stream.pos
    if values is None:
        assert end == start  # nothing moved: the careful path starts where it would
        return
    whole = loads(text[start:end])
    assert isinstance(whole, dict), text
    assert set(whole) <= {"executed_lines", "summary", "missing_lines", "excluded_lines",
                          "contexts", "executed_branches", "missing_branches", "functions",
                          "classes"}
    for key in ("executed_lines", "missing_lines", "summary"):
        if key in values:
            assert values[key] == whole[key]
    for key in ("executed_lines", "missing_lines"):
        assert set(map(type, values[key])) <= {int}  # what _mark_all's `proven` skips
    for key in ("executed_branches", "missing_branches"):
        if key in values:  # arcs given as their start lines
            assert cj._arcs(whole[key])  # what _branches' `proven` skips
            assert values[key] == [start for start, _ in whole[key]]
            assert all(start <= 999_999 for start in values[key])
    assert ("summary" in values) == ("executed_branches" not in values)


@SETTINGS
@given(texts=st.lists(entry_texts(), min_size=1, max_size=3), size=st.sampled_from(CHUNKS),
       data=st.data())
def test_any_entry_reads_as_the_careful_reader_reads_it(tmp_path, texts, size, data):
    if data.draw(st.booleans()):
        texts[0] = corrupt(data, texts[0])
    path = write(tmp_path, report(*texts))
    with chunk(size):
        assert outcome(cj.read_json, path) == outcome(cj._read_whole, path)


@SETTINGS
@given(executed=st.lists(st.integers(1, 999_999), max_size=20),
       missing=st.lists(st.integers(1, 999_999), max_size=20),
       arcs=st.booleans())
def test_coverage_pys_layout_with_any_line_numbers_is_read_fast(tmp_path, executed, missing, arcs):
    path = write(tmp_path, report(json.dumps(entry(executed, missing, arcs))))
    with fast_reads() as taken:
        got = outcome(cj.read_json, path)
    assert taken == [True]
    assert got == outcome(cj._read_whole, path)
