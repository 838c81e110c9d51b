"""coverage.py JSON, streamed: the report or the error that ``json.loads`` of the whole file
and the same checks give (``_read_whole``, today's reader, kept as the reference)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, MutableSequence, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import ParsedReport, _budget, _jsonstream, read_report
from gatekeeper.evidence.coverage_formats import coveragepy_json as cj

CHUNKS = [1, 2, 3, 7, 64, _jsonstream.CHUNK]


@contextmanager
def chunk(size: int) -> Iterator[None]:
    saved = _jsonstream.CHUNK
    _jsonstream.CHUNK = size
    try:
        yield
    finally:
        _jsonstream.CHUNK = saved


def outcome(reader: Callable[[Path], ParsedReport], path: Path) -> tuple[Any, ...]:
    """Everything a reader gives, comparable: the report's every field, or the error."""
    token = _budget.set([max(64 << 20, 8 * path.stat().st_size)])  # as read_report does
    try:
        r = reader(path)
    except EvidenceError as e:
        return ("error", str(e), e.remedy)
    finally:
        _budget.reset(token)
    return (
        "report", r.format, [(k, bytes(v)) for k, v in r.files.items()],
        [(k, list(b.total), list(b.covered)) for k, b in r.branches.items()],
        r.timestamp, r.timestamp_source, r.sources,
    )


@contextmanager
def whole_reads() -> Iterator[list[Path]]:
    """Record when the streamed reader hands a report to the whole-file reader."""
    used: list[Path] = []
    original = cj._read_whole

    def spy(path: Path) -> ParsedReport:
        used.append(path)
        return original(path)

    cj._read_whole = spy  # type: ignore[assignment]
    try:
        yield used
    finally:
        cj._read_whole = original  # type: ignore[assignment]


def assert_alike(path: Path, chunks: list[int] = CHUNKS, whole_ok: bool = False) -> tuple[Any, ...]:
    expected = outcome(cj._read_whole, path)
    for size in chunks:
        with chunk(size), whole_reads() as used:
            got = outcome(cj.read_json, path)
        assert got == expected, (size, path.read_bytes()[:300])
        assert whole_ok or not used, "read whole, not streamed"
    return expected


def write(tmp_path: Path, content: str | bytes, name: str = "c.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    return path


ENTRY = {
    "executed_lines": [1, 2, 5, 8], "summary": {"covered_lines": 4, "percent_covered": 66.7},
    "missing_lines": [3, 9], "excluded_lines": [12],
    "executed_branches": [[2, 3], [5, -1], [5, 8]], "missing_branches": [[2, 9], [8, 12]],
}
REPORT = {
    "meta": {"format": 3, "version": "7.6.1", "timestamp": "2024-05-01T10:00:00.123456"},
    "files": {"pkg/a.py": ENTRY, "pkg/b.py": {**ENTRY, "executed_lines": [1]},
              "pkg/é.py": {"executed_lines": [], "missing_lines": [1, 2],
                           "summary": {"num_branches": 4, "covered_branches": 1}}},
    "totals": {"covered_lines": 9},
}


# --- real reports ------------------------------------------------------------------------


def test_a_real_coverage_json_is_read_as_the_whole_file_reader_reads_it(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "class A:\n    def f(self, x):\n        if x:\n            return 1\n        return 2\n"
        "def g():\n    for i in range(2):\n        pass\nA().f(1)\ng()\n"
    )
    for args in (["run", "--branch", "mod.py"], ["json", "-o", "c.json"]):
        subprocess.run([sys.executable, "-m", "coverage", *args], cwd=tmp_path, check=True,
                       capture_output=True)
    expected = assert_alike(tmp_path / "c.json")
    assert expected[0] == "report"
    parsed = read_report(tmp_path / "c.json")
    assert {n: s for n, s in enumerate(parsed.files["mod.py"]) if s} == {
        1: 2, 2: 2, 3: 2, 4: 2, 5: 1, 6: 2, 7: 2, 8: 2, 9: 2, 10: 2}
    assert parsed.branches["mod.py"].counts() == (4, 3)
    assert parsed.timestamp_source == "meta.timestamp"


def test_a_report_over_the_old_32_mib_limit_is_read(tmp_path):
    path = tmp_path / "c.json"
    with path.open("w") as f:
        f.write(json.dumps(REPORT)[:-1])
        for _ in range(33):
            f.write(" " * (1 << 20))
        f.write("}")
    parsed = read_report(path)
    assert list(parsed.files) == ["pkg/a.py", "pkg/b.py", "pkg/é.py"]


def test_the_report_size_limit_is_only_what_the_environment_sets(tmp_path, monkeypatch):
    path = write(tmp_path, json.dumps(REPORT))
    monkeypatch.setenv("GATEKEEPER_MAX_JSON_REPORT_MB", "0.0001")
    with pytest.raises(EvidenceError, match="is over the 104 bytes limit set by GATEKEEPER_MAX"):
        read_report(path)
    monkeypatch.setenv("GATEKEEPER_MAX_JSON_REPORT_MB", "")
    assert len(read_report(path).files) == 3


def test_one_entry_over_the_entry_limit_is_refused(tmp_path, monkeypatch):
    big = {"files": {"a.py": {"executed_lines": list(range(1, 300_000)), "missing_lines": []}}}
    path = write(tmp_path, json.dumps(big))  # one entry of ~2.6 MB
    monkeypatch.setenv("GATEKEEPER_MAX_JSON_ENTRY_MB", "1")
    with pytest.raises(EvidenceError, match=r"over the 1\.0 MiB limit for a single file") as e:
        read_report(path)
    assert "GATEKEEPER_MAX_JSON_ENTRY_MB" in (e.value.remedy or "")
    monkeypatch.setenv("GATEKEEPER_MAX_JSON_ENTRY_MB", "4")
    assert read_report(path).files["a.py"].count(2) == 299_999


def test_utf16_json_read_directly_is_read_whole(tmp_path):
    path = write(tmp_path, json.dumps(REPORT).encode("utf-16"))
    assert assert_alike(path, whole_ok=True)[0] == "report"
    with whole_reads() as used:
        read_report(path) if False else cj.read_json(path)
    assert used == [path]


# --- malformed input: the same error, never numbers ------------------------------------------

SMALL = json.dumps(REPORT, indent=1, ensure_ascii=False)


@pytest.mark.parametrize("size", [1, 5])
def test_a_report_cut_anywhere_gives_the_whole_readers_error(tmp_path, size):
    data = SMALL.encode()
    for cut in range(len(data)):
        path = write(tmp_path, data[:cut])
        with chunk(size):
            got = outcome(cj.read_json, path)
        assert got == outcome(cj._read_whole, path), cut
        assert got[0] == "error", cut  # the document's last byte is its closing brace


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"files": {"a.py": ', "invalid JSON at line 1, column 20: Expecting value"),
        ('{"files": {"a.py": {"executed_lines": [1,, 2]', "line 1, column 42: Expecting value"),
        ('{"files": {}} x', "invalid JSON at line 1, column 15: Extra data"),
        ('{"files": {"a": 1 "b": 2}}', "Expecting ',' delimiter"),
        ('{"files" {}}', "Expecting ':' delimiter"),
        ("{'files': {}}", "Expecting property name enclosed in double quotes"),
        ('{"files": {"a\x01": 1}}', "Invalid control character at"),
        ('{"files": {"a\\q": 1}}', "Invalid \\escape"),
        ('{"meta": {}}', "without a 'files' object"),
        ('{"files": []}', "without a 'files' object"),
        ('{"files": {"a.py": []}}', "files['a.py'] is not an object"),
        ('{"files": {"a.py": {"executed_lines": [1]}}}', "missing_lines must be a list"),
        ('{"files": {"a.py": {"executed_lines": [true], "missing_lines": []}}}',
         "executed_lines must be a list of positive line numbers"),
        ('{"files": {"a.py": {"executed_lines": [1.0], "missing_lines": []}}}', "executed_lines"),
        ('{"files": {"a.py": {"executed_lines": [NaN], "missing_lines": []}}}', "executed_lines"),
        ('{"files": {"a.py": {"executed_lines": [-0], "missing_lines": []}}}', "executed_lines"),
        ('{"files": {"a.py": {"executed_lines": [1, 1e400], "missing_lines": []}}}', "executed_"),
        ('{"files": {"a.py": {"executed_lines": [5000000], "missing_lines": []}}}',
         "files['a.py'].executed_lines: line number 5000000 is beyond any real source file"),
        ('{"files": {"a.py": {"executed_lines": [3, 1200000, 5], "missing_lines": []}}}',
         "line number 1200000 is beyond"),
        ('{"files": {"a.py": {"executed_lines": [], "missing_lines": [],'
         ' "executed_branches": [[1, 2, 3]]}}}', "executed_branches must be a list of [from, to]"),
        ('{"files": {"a.py": {"executed_lines": [], "missing_lines": [],'
         ' "executed_branches": [], "missing_branches": [[0, 1]]}}}', "missing_branches must be"),
        ('{"files": {"a.py": {"executed_lines": [], "missing_lines": [],'
         ' "executed_branches": [[2000000, 1]], "missing_branches": []}}}', "2000000 is beyond"),
        ('{"files": {"a.py": {"executed_lines": [], "missing_lines": [],'
         ' "summary": {"num_branches": 2, "covered_branches": 3}}}}', "3 of 2 branches"),
        ('{"files": {"a.py": {"executed_lines": [], "missing_lines": [],'
         ' "summary": {"num_branches": "2"}}}}', "are not counts"),
        ('{"files": {"a.py": {"executed_lines": [' + "1" * 5000 + '], "missing_lines": []}}}',
         "a number of more digits than Python reads"),
        ('{"files": {"a.py": {"executed_lines": [], "missing_lines": [],'
         ' "executed_branches": [' + ", ".join(["[4, 5]"] * 70_000) + '], "missing_branches": []}}}',
         "70000 branches on one line is beyond any real code"),
    ],
)
def test_malformed_reports_give_the_whole_readers_error(tmp_path, text, message):
    path = write(tmp_path, text)
    expected = assert_alike(path, chunks=[1, 7, _jsonstream.CHUNK])
    assert expected[0] == "error"
    assert message in expected[1]
    assert expected[1].startswith(str(path) + ": ")


def test_the_line_table_budget_is_charged_as_before(tmp_path):
    files = ", ".join(f'"f{i}.py": {{"executed_lines": [999999], "missing_lines": []}}'
                      for i in range(100))
    path = write(tmp_path, '{"files": {' + files + "}}")
    with pytest.raises(EvidenceError, match=r"files\['f6[0-9].py'\].executed_lines: its line"):
        read_report(path)
    assert_alike(path, chunks=[64, _jsonstream.CHUNK])


def test_error_precedence_is_the_whole_readers(tmp_path):
    bad_entry = '"a.py": {"executed_lines": ["x"], "missing_lines": []}'
    cases = {
        # A syntax error anywhere beats a bad entry before it; bytes that are not UTF-8
        # anywhere beat both.
        '{"files": {' + bad_entry + '}, "totals": [1,]}': "Expecting value",
        '{"files": {' + bad_entry + '}, "x": [1,]}\xff': "not UTF-8 JSON",
        '{"files": {' + bad_entry + '}, "files": 3}': "without a 'files' object",
        '{"files": {' + bad_entry + '}, "files": {}}': None,
        '{"files": {' + bad_entry + ', "b.py": 1}}': "files['a.py'].executed_lines",
        '{"files": {"b.py": 1, ' + bad_entry + "}}": "files['b.py'] is not an object",
    }
    for text, message in cases.items():
        path = write(tmp_path, text.encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
        expected = assert_alike(path, chunks=[1, 5, _jsonstream.CHUNK])
        if message is None:
            assert expected[0] == "report"
        else:
            assert message in expected[1], text


def test_deep_nesting_anywhere_is_refused(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    for text in (
        '{"files": {"a.py": {"executed_lines": [], "missing_lines": [], "x": ' + deep + "}}}",
        '{"files": {}, "totals": ' + deep + "}",
        deep,
    ):
        path = write(tmp_path, text)
        expected = assert_alike(path, chunks=[4096, _jsonstream.CHUNK])
        assert "JSON nested too deeply for a coverage report" in expected[1]


def test_a_bom_is_dropped_once_as_json_loads_does(tmp_path):
    bom = b"\xef\xbb\xbf"
    one = assert_alike(write(tmp_path, bom + json.dumps(REPORT).encode()))
    assert one[0] == "report"
    two = assert_alike(write(tmp_path, bom + bom + json.dumps(REPORT).encode()))
    assert "line 1, column 1: Expecting value" in two[1]
    # The error's line and column are counted again from the start, past the BOM.
    three = assert_alike(write(tmp_path, bom + b'{"files": {}}\n\n x'))
    assert "line 3, column 2: Extra data" in three[1]


def test_utf8_surrogates_and_bad_bytes_split_at_every_chunk_boundary(tmp_path):
    # An encoded lone surrogate (json.loads decodes bytes with surrogatepass) and a
    # multi-byte name, then the same with an invalid byte.
    good = '{"files": {"\ud800é.py": {"executed_lines": [1], "missing_lines": []}}}'
    assert assert_alike(write(tmp_path, good), chunks=[1, 2, 3, 4, 5, 13])[0] == "report"
    bad = good.encode("utf-8", "surrogatepass").replace(b"\xc3\xa9", b"\xc3(")
    assert assert_alike(write(tmp_path, bad), chunks=[1, 2, 3, 4, 5, 13])[1].endswith(
        "not UTF-8 JSON")


# --- keys given twice: the last value, at the first one's place -------------------------


BAD = '{"executed_lines": [0], "missing_lines": []}'


def entry(*executed: int, arcs: bool = False) -> str:
    e: dict[str, Any] = {"executed_lines": list(executed), "missing_lines": []}
    if arcs:
        e["executed_branches"], e["missing_branches"] = [[executed[0], 99]], []
    return json.dumps(e)


@pytest.mark.parametrize(
    "files",
    [
        f'"a.py": {entry(1, arcs=True)}, "b.py": {entry(2, arcs=True)}, "a.py": {entry(3)}',
        f'"a.py": {entry(1)}, "b.py": {entry(2, arcs=True)}, "a.py": {entry(3, arcs=True)}',
        f'"a.py": {entry(1)}, "a.py": {entry(700_000)}, "a.py": {entry(2)}',
    ],
)
def test_a_file_named_twice_keeps_its_last_entry_at_its_first_place(tmp_path, files):
    path = write(tmp_path, '{"meta": {"timestamp": "x"}, "files": {' + files + '}, '
                           '"meta": {"timestamp": "2024-01-01T00:00:00"}}')
    expected = assert_alike(path)
    assert [name for name, _ in expected[2]] == ["a.py", "b.py"][: 1 + ("b.py" in files)]
    assert expected[4] is not None  # the last meta


def test_files_given_twice_is_the_last_files(tmp_path):
    bad = '{"a.py": {"executed_lines": [0], "missing_lines": []}}'
    good = '{"b.py": ' + entry(1) + "}"
    for text in (f'{{"files": {bad}, "files": {good}}}', f'{{"files": {good}, "files": {bad}}}',
                 f'{{"files": {good}, "files": 1}}', f'{{"files": 1, "files": {good}}}'):
        assert_alike(write(tmp_path, text))


@pytest.mark.parametrize(
    "files",
    [
        # The bad entry is replaced: a report.
        f'"a.py": {BAD}, "b.py": {entry(1, arcs=True)}, "a.py": {entry(2, arcs=True)}',
        # The bad one replaced, but a file before it is replaced by a bad one: that error.
        f'"c.py": {entry(1)}, "a.py": {BAD}, "b.py": {entry(1)}, "a.py": {entry(2)}, '
        f'"c.py": {BAD}',
        # Replaced by another bad entry; a later bad entry ranks after it.
        f'"a.py": {BAD}, "b.py": "x", "a.py": {{"executed_lines": [], "missing_lines": [-1]}}',
        # A good entry replaced by a bad one after a bad one: the earlier-ranked one.
        f'"a.py": {entry(1)}, "b.py": {BAD}, "a.py": 3',
    ],
)
def test_a_bad_entry_and_a_later_duplicate_are_decided_by_the_last_entries(tmp_path, files):
    assert_alike(write(tmp_path, '{"files": {' + files + "}}"))


def test_line_tables_over_the_budget_until_a_duplicate_replaces_them(tmp_path):
    # 70 files at line 999,999 (70 MB of tables, over the 64 MiB budget), then each named
    # again with a small entry: only the last entries count.
    big = ", ".join(f'"f{i}.py": {entry(999_999)}' for i in range(70))
    small = ", ".join(f'"f{i}.py": {entry(1)}' for i in range(70))
    path = write(tmp_path, '{"files": {' + big + ", " + small + "}}")
    assert read_report(path).files["f3.py"] == bytearray(b"\0\2")
    assert_alike(path, chunks=[64, _jsonstream.CHUNK])
    # Over the budget in the last entries too: the file where files' order crosses it.
    path = write(tmp_path, '{"files": {' + small + ", " + big + ", " + big + "}}")
    expected = assert_alike(path, chunks=[_jsonstream.CHUNK])
    assert "files['f67.py'].executed_lines: its line numbers would need more" in expected[1]


# --- properties ----------------------------------------------------------------------------

scalars = st.one_of(st.integers(-3, 2_000_000), st.booleans(), st.none(),
                    st.floats(allow_nan=True), st.text(max_size=3))
line_numbers = st.one_of(
    st.lists(st.integers(1, 3000), max_size=12).map(sorted),
    st.lists(st.integers(1, 3000), max_size=12),
    st.lists(st.one_of(st.integers(1, 40), scalars), max_size=4),
    scalars,
)
arcs = st.one_of(
    st.lists(st.tuples(st.integers(1, 3000), st.integers(-3, 3000)).map(list), max_size=6),
    st.lists(st.one_of(st.lists(st.integers(-1, 9), max_size=3), scalars), max_size=3),
    scalars,
)
entries = st.one_of(
    st.fixed_dictionaries(
        {"executed_lines": line_numbers, "missing_lines": line_numbers},
        optional={"executed_branches": arcs, "missing_branches": arcs, "excluded_lines": line_numbers,
                  "summary": st.dictionaries(st.sampled_from(["num_branches", "covered_branches"]),
                                             st.one_of(st.integers(0, 9), scalars)),
                  "functions": st.dictionaries(st.text(max_size=2), st.lists(scalars, max_size=3),
                                               max_size=2)},
    ),
    scalars,
)
names = st.sampled_from(["a.py", "b.py", "pkg/c.py", "é.py", "\ud800.py", "x\ny"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    indent = draw(st.sampled_from([None, 0, 2]))
    sep = draw(st.sampled_from([", ", ",", " ,\n\t"]))

    def dumps(v: Any) -> str:
        return json.dumps(v, indent=indent, ensure_ascii=draw(st.booleans()))

    def files() -> str:
        members = draw(st.lists(st.tuples(names, entries), max_size=5))
        return "{" + sep.join(f"{dumps(n)}: {dumps(e)}" for n, e in members) + "}"

    top = [("files", files())]
    top += draw(st.lists(st.sampled_from([
        ("files", None), ("meta", '{"timestamp": "2024-02-03T04:05:06"}'),
        ("meta", '{"timestamp": 5}'), ("totals", '{"n": [1, 2.5, null]}'), ("files", "[]"),
    ]), max_size=3))
    top = draw(st.permutations(top))
    return "{" + sep.join(f'"{k}": {v if v is not None else files()}' for k, v in top) + "}"


SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(text=documents(), size=st.sampled_from(CHUNKS))
def test_any_document_reads_as_the_whole_reader_reads_it(tmp_path, text, size):
    path = write(tmp_path, text)
    expected = outcome(cj._read_whole, path)
    with chunk(size), whole_reads() as used:
        assert outcome(cj.read_json, path) == expected
    assert not used  # streamed, repeated keys included


def mutate(data: st.DataObject, items: MutableSequence[Any], alphabet: Sequence[Any]) -> None:
    """One to three cuts, insertions, replacements or deletions of ``items`` in place,
    each with an element of ``alphabet``."""
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(items)))
        item = data.draw(st.sampled_from(alphabet))
        action = data.draw(st.sampled_from(["cut", "insert", "replace", "drop"]))
        if action == "cut":
            del items[at:]
        elif action == "insert":
            items.insert(at, item)
        elif at < len(items):
            if action == "replace":
                items[at] = item
            else:
                del items[at]


@SETTINGS
@given(text=documents(), size=st.sampled_from(CHUNKS), data=st.data())
def test_a_corrupted_document_reads_as_the_whole_reader_reads_it(tmp_path, text, size, data):
    raw = bytearray(text.encode("utf-8", "surrogatepass"))
    mutate(data, raw, b'{}[]:,"\\ 0123456789-.eE\n\xff\xc3\xed')
    path = write(tmp_path, bytes(raw))
    with chunk(size):
        assert outcome(cj.read_json, path) == outcome(cj._read_whole, path)


def test_a_replaced_entry_gives_its_line_table_budget_back(tmp_path):
    # 70 entries of a 1 MB table each, but only the last counts: json.loads keeps one.
    text = ", ".join(['"a.py": {"executed_lines": [999999], "missing_lines": []}'] * 70)
    path = write(tmp_path, '{"files": {' + text + "}}")
    assert read_report(path).files["a.py"][999999] == 2
    assert_alike(path, chunks=[_jsonstream.CHUNK])


def test_an_entry_of_a_million_empty_lists_is_refused_before_it_is_decoded(tmp_path):
    # 3.3 MB, under the entry limit, but decoded it would take ~70 MB.
    path = write(tmp_path, '{"files": {"a": {"executed_lines": [' + "[]," * 1_100_000 + "[]]}}}")
    with pytest.raises(EvidenceError, match="over 1,000,000 arrays and objects"):
        read_report(path)


def test_a_report_that_changes_between_the_two_passes_is_an_error(tmp_path, monkeypatch):
    text = f'{{"files": {{"a.py": {BAD}, "a.py": {entry(1)}}}}}'
    path = write(tmp_path, text)
    first = cj._Reader.read

    def truncate_then_read(self: Any) -> ParsedReport:
        original = self._document

        def document(stream: Any) -> None:
            original(stream)
            path.write_text(text[:20])  # after the first pass, before the second

        self._document = document
        return first(self)

    monkeypatch.setattr(cj._Reader, "read", truncate_then_read)
    with pytest.raises(EvidenceError, match="changed while it was read"):
        read_report(path)
