"""Cobertura and JaCoCo XML, read in one streaming pass.

The root element decides the format: ``<coverage>`` is Cobertura (coverage.py, gcovr,
Istanbul/Jest, JaCoCo-to-Cobertura converters), ``<report>`` is JaCoCo. Only what the
figures need is kept: per file, one byte per line.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MISSED,
    ParsedReport,
    ReportFormatError,
    mark,
)
from gatekeeper.evidence.coverage_formats._xml import MAX_DEPTH, make_parser, stream, too_deep


class _Cobertura:
    """``<coverage><sources><source>`` and ``<packages><package><classes><class
    filename><methods>...</methods><lines><line number hits>``. Lines under ``<methods>``
    repeat the class's lines (gcovr, Istanbul) and are skipped, as diff-cover does.

    A class's own ``<lines>`` is where nearly all the elements are, so it gets a
    dedicated start handler and no end handler (an end callback per ``<line>`` would
    double the Python calls). The first element that is not a ``<line>`` or part of
    one ends that mode; by the DTD (``class (methods, lines)``) that is the next class,
    package or the end of the document, and the mode's state needs no cleanup.
    """

    def __init__(self, report: ParsedReport, parser: Any) -> None:
        self.report = report
        self.parser = parser
        self.lines: bytearray | None = None
        self.in_method = 0
        self.text: list[str] = []
        self.open: list[str] = []
        """Names of the open elements, for MAX_DEPTH. Ends are not seen inside a class's
        <lines> (see above): leaving that mode closes what the element that left it
        implies (``_resync``)."""

    def start(self, name: str, attrs: list[str]) -> None:
        self.open.append(name)
        if len(self.open) > MAX_DEPTH:
            raise too_deep()
        if name == "lines":
            if self.lines is not None and not self.in_method:
                self._enter_lines(self.lines)
            return
        if name == "line":
            return  # a <method>'s line (counted under its class) or a nameless class's
        if name == "class":
            filename = _attrs(attrs).get("filename")
            self.lines = self.report.files.setdefault(filename, bytearray()) if filename else None
        elif name == "method":
            self.in_method += 1
        elif name == "source":
            self.text = []
            self.parser.CharacterDataHandler = self.text.append

    def end(self, name: str) -> None:
        if self.open:
            self.open.pop()
        if name == "class":
            self.lines = None
        elif name == "method":
            self.in_method -= 1
        elif name == "source":
            self.parser.CharacterDataHandler = None
            source = "".join(self.text).strip()
            if source:
                self.report.sources.append(source)

    def _resync(self, name: str, parent: int) -> None:
        """Close the elements whose ends the lines mode did not see: a <class> starts
        inside <classes>, a <package> inside <packages>, anything else where <lines> was."""
        container = {"class": "classes", "package": "packages"}.get(name)
        if container in self.open:
            del self.open[len(self.open) - self.open[::-1].index(container) :]
        else:
            del self.open[parent:]

    def _enter_lines(self, lines: bytearray) -> None:
        parser = self.parser
        numbers = _numbers()
        parent = len(self.open) - 1

        def slow(attrs: list[str]) -> None:
            named = _attrs(attrs)
            hits = int(named.get("hits", "0"))
            mark(lines, int(named["number"]), COVERED if hits > 0 else MISSED)

        def line(name: str, attrs: list[str]) -> None:
            if name == "line":
                # The common shape (coverage.py: number then hits, hits 0 or 1, a known
                # line, a short file) in as few operations as possible; anything else,
                # including every error, falls through to the careful path.
                try:
                    if attrs[0] == "number" and attrs[2] == "hits":
                        n = numbers[attrs[1]]
                        hits = attrs[3]
                        if hits == "0":
                            state = MISSED
                        elif hits == "1":
                            state = COVERED
                        else:
                            raise LookupError
                        if state > lines[n]:
                            lines[n] = state
                        return
                except LookupError:
                    pass
                slow(attrs)
            elif name != "conditions" and name != "condition":
                parser.StartElementHandler = self.start
                parser.EndElementHandler = self.end
                self.lines = None
                self._resync(name, parent)
                self.start(name, attrs)

        parser.StartElementHandler = line
        parser.EndElementHandler = None


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
    (``ci > 0``), JaCoCo's own definition."""

    def __init__(self, report: ParsedReport) -> None:
        self.report = report
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
                covered = int(named.get("ci", "0")) > 0
                mark(self.lines, int(named["nr"]), COVERED if covered else MISSED)
        elif name == "sourcefile":
            source = _attrs(attrs)["name"]
            key = f"{self.package}/{source}" if self.package else source
            self.lines = self.report.files.setdefault(key, bytearray())
        elif name == "package":
            self.package = _attrs(attrs).get("name", "").strip("/")

    def end(self, name: str) -> None:
        self.depth -= 1
        if name == "sourcefile":
            self.lines = None
        elif name == "package":
            self.package = ""


def read_xml(path: Path) -> ParsedReport:
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

    def root(name: str, attrs: list[str]) -> None:
        if name == "coverage" and "clover" not in _attrs(attrs):
            report.format = "cobertura"
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
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        handler.start(name, attrs)

    stream(path, root, parser=parser)
    if report.format == "xml":
        raise EvidenceError(f"{path}: no XML root element")
    return report
