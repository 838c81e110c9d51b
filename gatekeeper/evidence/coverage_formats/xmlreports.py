"""Cobertura and JaCoCo XML, read in one streaming pass.

The root element decides the format: ``<coverage>`` is Cobertura (coverage.py, gcovr,
Istanbul/Jest, JaCoCo-to-Cobertura converters), ``<report>`` is JaCoCo. Only what the
figures need is kept: per file, one byte per line, and for files with branches two 16-bit
counts per line (``Branches``).

A faster Cobertura path can replace ``_Cobertura._enter_lines`` (the per-``<line>``
handler) alone, as long as it records the end events in ``self.ends`` and calls
``_leave_lines`` with the first element that is not a ``<line>`` or its ``<conditions>``.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MAX_BRANCHES,
    MISSED,
    Branches,
    ParsedReport,
    ReportFormatError,
    mark,
)
from gatekeeper.evidence.coverage_formats._xml import MAX_DEPTH, make_parser, stream, too_deep

_IN_LINES = frozenset(("line", "conditions", "condition"))
"""What a class's ``<lines>`` may hold (the Cobertura DTD: ``line (conditions?)``)."""
_CONDITION = re.compile(r"\s*\d+(?:\.\d+)?\s*%\s*\(\s*(\d+)\s*/\s*(\d+)\s*\)\s*")


class _Cobertura:
    """``<coverage><sources><source>`` and ``<packages><package><classes><class
    filename><methods>...</methods><lines><line number hits [branch condition-coverage]>``.

    Lines under ``<methods>`` repeat the class's lines (gcovr, Istanbul) and are counted
    only for a class whose own ``<lines>`` has none (some producers write them only
    there). A branch line's ``condition-coverage="50% (1/2)"`` gives its branches.

    A class's own ``<lines>`` is where nearly all the elements are, so it gets a
    dedicated start handler, and its end events go to a C-level recorder (a short
    ``deque``) instead of a Python method. The first start of anything but a ``<line>``
    or its ``<conditions>`` leaves that mode: if ``</lines>`` was among the recorded
    ends, they are replayed through ``end``; if not, the element is inside ``<lines>``,
    where Cobertura allows nothing else, and the report is refused rather than read
    as if that file's lines had ended there.
    """

    def __init__(self, report: ParsedReport, parser: Any) -> None:
        self.report = report
        self.parser = parser
        self.depth = 0
        self.filename: str | None = None
        self.lines: bytearray | None = None
        self.has_lines = False
        """Whether the current class's own ``<lines>`` had a ``<line>``."""
        self.method_lines: bytearray | None = None
        self.method_branches: Branches | None = None
        self.in_method = 0
        self.method_lines_depth = 0
        self.ends: deque[str] | None = None
        self.text: list[str] = []

    def start(self, name: str, attrs: list[str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise too_deep()
        if self.method_lines_depth:
            if name == "line":
                self._method_line(attrs)
            elif name not in _IN_LINES:
                raise _unexpected(name)
            return
        if name == "lines":
            if self.lines is not None:
                if self.in_method:
                    self.method_lines_depth = self.depth
                else:
                    self._enter_lines(self.lines)
            return
        if name == "line":
            return  # a nameless class's line: nothing to attribute it to
        if name == "class":
            self._end_class()
            self.filename = _attrs(attrs).get("filename") or None
            if self.filename is not None:
                self.lines = self.report.lines_of(self.filename)
        elif name == "method":
            self.in_method += 1
        elif name == "source":
            self.text = []
            self.parser.CharacterDataHandler = self.text.append

    def end(self, name: str) -> None:
        if name == "lines" and self.method_lines_depth == self.depth:
            self.method_lines_depth = 0
        self.depth -= 1
        if name == "class":
            self._end_class()
        elif name == "method":
            self.in_method -= 1
        elif name == "source":
            self.parser.CharacterDataHandler = None
            source = "".join(self.text).strip()
            if source:
                self.report.sources.append(source)

    def finish(self) -> None:
        """After the document: replay the ends the fast mode recorded."""
        if self.ends is not None:
            self._leave_lines()
        self._end_class()

    def _end_class(self) -> None:
        """A class whose lines appear only under its methods gets those lines."""
        lines, method_lines = self.lines, self.method_lines
        if lines is not None and method_lines is not None and not self.has_lines:
            for number, state in enumerate(method_lines):
                if state:
                    mark(lines, number, state)
            if self.method_branches is not None and self.filename is not None:
                branches = self.report.branches_of(self.filename)
                pairs = zip(self.method_branches.total, self.method_branches.covered, strict=True)
                for number, (total, covered) in enumerate(pairs):
                    if total:
                        branches.add(number, total, covered)
        self.lines = self.method_lines = self.method_branches = None
        self.filename, self.has_lines = None, False

    def _method_line(self, attrs: list[str]) -> None:
        if self.method_lines is None:
            self.method_lines = bytearray()
        _line(self.method_lines, self._method_branches, attrs)

    def _method_branches(self) -> Branches:
        if self.method_branches is None:
            self.method_branches = Branches()
        return self.method_branches

    def _enter_lines(self, lines: bytearray) -> None:
        parser = self.parser
        numbers = _numbers()
        report, filename = self.report, self.filename
        assert filename is not None

        def branches() -> Branches:
            return report.branches_of(filename)

        conditions = 0

        def line(name: str, attrs: list[str]) -> None:
            nonlocal conditions
            if name == "line":
                # The common shape (coverage.py: number then hits and nothing else, hits
                # 0 or 1, a known line, a short file) in as few operations as possible;
                # anything else, branch lines and every error included, takes the
                # careful path.
                try:
                    # Unpacking fails (ValueError) for any other number of attributes,
                    # such as a branch line's.
                    key, number, key2, hits = attrs
                    if key == "number" and key2 == "hits":
                        n = numbers[number]
                        if hits == "0":
                            state = MISSED
                        elif hits == "1":
                            state = COVERED
                        else:
                            raise LookupError
                        if state > lines[n]:
                            lines[n] = state
                        return
                except (LookupError, ValueError):
                    pass
                conditions = 0  # a branch line's <conditions> follow it
                _line(lines, branches, attrs)
            elif name == "conditions" or name == "condition":
                # No end events are seen here, so nesting is bounded by counting: a line has
                # at most one <conditions> and MAX_BRANCHES <condition>s, and expat keeps
                # every open element (a <condition> bomb took ~12x the file in memory).
                conditions += 1
                if conditions > MAX_BRANCHES + 1:
                    raise ReportFormatError(
                        f"more than {MAX_BRANCHES + 1} <conditions>/<condition> elements for "
                        "one line (nested or repeated): beyond any real report"
                    )
            else:
                self._leave_lines(name)
                self.start(name, attrs)

        # Ends inside <lines> plus every ancestor's (at most depth of them) and one more.
        self.ends = deque(maxlen=self.depth + 2)
        parser.StartElementHandler = line
        parser.EndElementHandler = self.ends.append

    def _leave_lines(self, starting: str | None = None) -> None:
        assert self.ends is not None
        ended = list(self.ends)
        self.ends = None
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        inside = len(ended)
        while inside and ended[inside - 1] not in _IN_LINES:
            inside -= 1
        if inside == len(ended) and starting is not None:
            raise _unexpected(starting)
        self.has_lines = self.has_lines or "line" in ended[:inside]
        for name in ended[inside:]:
            self.end(name)


def _unexpected(name: str) -> ReportFormatError:
    return ReportFormatError(
        f"unexpected <{name}> inside a class's <lines> (Cobertura allows only <line> "
        "and its <conditions> there); refusing to guess which lines it measures"
    )


def _line(lines: bytearray, branches: Callable[[], Branches], attrs: list[str]) -> None:
    named = _attrs(attrs)
    number = int(named["number"])
    hits = int(named.get("hits", "0"))
    if hits < 0:
        raise ValueError(f"hits={hits} is negative")
    mark(lines, number, COVERED if hits > 0 else MISSED)
    condition = named.get("condition-coverage")
    if condition is not None:
        match = _CONDITION.fullmatch(condition)
        if match is None:
            raise ReportFormatError(
                f"condition-coverage={condition!r} on line {number} is not "
                "'PERCENT% (COVERED/TOTAL)'"
            )
        covered, total = int(match[1]), int(match[2])
        branches().add(number, total, covered)


@functools.cache
def _numbers() -> dict[str, int]:
    """Line-number text to int for the usual range: a dict lookup is cheaper than int()."""
    return {str(n): n for n in range(1, 20_001)}


def _attrs(attrs: list[str]) -> dict[str, str]:
    """The parser reports attributes as [name, value, name, value, ...]."""
    return dict(zip(attrs[::2], attrs[1::2], strict=True))


class _JaCoCo:
    """``<report><package name="a/b"><sourcefile name="X.java"><line nr mi ci>``
    (possibly inside ``<group>``s). A line is covered when any of its instructions ran
    (``ci > 0``), JaCoCo's own definition; its branches are ``mb + cb``, ``cb`` of them
    covered (the per-line form of the ``BRANCH`` counters)."""

    def __init__(self, report: ParsedReport) -> None:
        self.report = report
        self.key = ""
        self.package = ""
        self.lines: bytearray | None = None
        self.depth = 0

    def start(self, name: str, attrs: list[str]) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise too_deep()
        if name == "line":
            if self.lines is not None:
                named = _attrs(attrs)
                number = int(named["nr"])
                covered = int(named.get("ci", "0")) > 0
                mark(self.lines, number, COVERED if covered else MISSED)
                missed_branches = int(named.get("mb", "0"))
                covered_branches = int(named.get("cb", "0"))
                if missed_branches < 0:
                    raise ValueError(f"mb={missed_branches} is negative")
                if missed_branches or covered_branches:
                    self.report.branches_of(self.key).add(
                        number, missed_branches + covered_branches, covered_branches
                    )
        elif name == "sourcefile":
            source = _attrs(attrs)["name"]
            self.key = f"{self.package}/{source}" if self.package else source
            self.lines = self.report.lines_of(self.key)
        elif name == "package":
            self.package = _attrs(attrs).get("name", "").strip("/")

    def end(self, name: str) -> None:
        self.depth -= 1
        if name == "sourcefile":
            self.lines = None
        elif name == "package":
            self.package = ""


def read_xml(path: Path) -> ParsedReport:
    """A Cobertura or JaCoCo report: the common Cobertura layout through the fast reader,
    everything else (and anything it cannot account for) through the streaming one."""
    fast = _read_common_cobertura(path)
    return fast if fast is not None else read_xml_streaming(path)


def read_xml_streaming(path: Path) -> ParsedReport:
    """Any Cobertura or JaCoCo report, through expat with defusedxml's guards."""
    report = ParsedReport(path, "xml")
    parser = make_parser(
        (
            "line",
            "number",
            "hits",
            "lines",
            "class",
            "filename",
            "method",
            "source",
            "conditions",
            "condition",
            "sourcefile",
            "package",
            "nr",
        )
    )
    parser.ordered_attributes = True  # a list per element is cheaper than a dict

    declared: dict[str, str] = {}
    handlers: list[Any] = []

    def root(name: str, attrs: list[str]) -> None:
        if name == "coverage" and "clover" not in _attrs(attrs):
            report.format = "cobertura"
            declared.update(_attrs(attrs))
            handler: Any = _Cobertura(report, parser)
        elif name == "report":
            report.format = "jacoco"
            handler = _JaCoCo(report)
        elif name == "coverage":
            raise ReportFormatError(
                "Clover XML is not supported (use Cobertura, JaCoCo, LCOV or coverage.py JSON)"
            )
        else:
            raise ReportFormatError(
                f"XML root element <{name}> is not a coverage report (expected Cobertura "
                "<coverage> or JaCoCo <report>)"
            )
        handlers.append(handler)
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        handler.start(name, attrs)

    stream(path, root, parser=parser)
    if report.format == "xml":
        raise EvidenceError(f"{path}: no XML root element")
    finish = getattr(handlers[0], "finish", None)
    if finish is not None:
        try:
            finish()
        except ReportFormatError as e:
            raise EvidenceError(f"{path}: {e}") from None
    if report.format == "cobertura":
        _cobertura_root(path, report, declared)
    return report


def _read_common_cobertura(path: Path) -> ParsedReport | None:
    """The fast reader's result for the common Cobertura layout; ``None`` otherwise, with
    the line-table budget it used given back to the full reader."""
    from gatekeeper.evidence.coverage_formats import _budget
    from gatekeeper.evidence.coverage_formats.cobertura_fast import read_fast

    budget = _budget.get(None)
    left = budget[0] if budget is not None else 0
    fast = read_fast(path)
    if fast is None:
        if budget is not None:
            budget[0] = left
        return None
    report, declared = fast
    _cobertura_root(path, report, declared)
    return report


def _cobertura_root(path: Path, report: ParsedReport, root: dict[str, str]) -> None:
    """The root's ``timestamp`` (coverage.py: milliseconds; gcovr: seconds), and a check
    that a report declaring branches said on which lines they are."""
    stamp = root.get("timestamp", "")
    if stamp.isdigit() and int(stamp) > 0:
        value = int(stamp)
        report.timestamp = value / 1000 if value > 100_000_000_000 else float(value)
        report.timestamp_source = "timestamp"
    declared = root.get("branches-valid", "0")
    if declared.isdigit() and int(declared) > 0 and not report.branches:
        raise EvidenceError(
            f"{path}: the report declares {declared} branches (branches-valid) but no "
            "<line> says whose (condition-coverage); its total cannot be computed"
        )
