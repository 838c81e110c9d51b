"""Cobertura and JaCoCo XML, read in one streaming pass.

The root element decides the format: ``<coverage>`` is Cobertura (coverage.py, gcovr,
Istanbul/Jest, JaCoCo-to-Cobertura converters), ``<report>`` is JaCoCo. Only what the
figures need is kept: per file, one byte per line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import COVERED, MISSED, ParsedReport, mark
from gatekeeper.evidence.coverage_formats._xml import ReportFormatError, stream


class _Cobertura:
    """``<coverage><sources><source>`` and ``<packages><package><classes><class
    filename><lines><line number hits>``. Lines under ``<methods>`` repeat the class's
    lines (gcovr, Istanbul) and are skipped, as diff-cover does."""

    def __init__(self, report: ParsedReport, parser: Any) -> None:
        self.report = report
        self.parser = parser
        self.lines: bytearray | None = None
        self.in_method = 0
        self.text: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "line":
            lines = self.lines
            if lines is None or self.in_method:
                return
            number = int(attrs["number"])
            hits = attrs.get("hits", "0")
            mark(lines, number, MISSED if hits == "0" or int(hits) <= 0 else COVERED)
        elif name == "class":
            filename = attrs.get("filename")
            if filename:
                self.lines = self.report.files.setdefault(filename, bytearray())
        elif name == "method":
            self.in_method += 1
        elif name == "source":
            self.text = []
            self.parser.CharacterDataHandler = self.text.append

    def end(self, name: str) -> None:
        if name == "class":
            self.lines = None
        elif name == "method":
            self.in_method -= 1
        elif name == "source":
            self.parser.CharacterDataHandler = None
            source = "".join(self.text).strip()
            if source:
                self.report.sources.append(source)


class _JaCoCo:
    """``<report><package name="a/b"><sourcefile name="X.java"><line nr mi ci>``
    (possibly inside ``<group>``s). A line is covered when any of its instructions ran
    (``ci > 0``), JaCoCo's own definition."""

    def __init__(self, report: ParsedReport) -> None:
        self.report = report
        self.package = ""
        self.lines: bytearray | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "line":
            if self.lines is not None:
                covered = int(attrs.get("ci", "0")) > 0
                mark(self.lines, int(attrs["nr"]), COVERED if covered else MISSED)
        elif name == "sourcefile":
            source = attrs["name"]
            key = f"{self.package}/{source}" if self.package else source
            self.lines = self.report.files.setdefault(key, bytearray())
        elif name == "package":
            self.package = attrs.get("name", "").strip("/")

    def end(self, name: str) -> None:
        if name == "sourcefile":
            self.lines = None
        elif name == "package":
            self.package = ""


def read_xml(path: Path) -> ParsedReport:
    report = ParsedReport(path, "xml")
    state: dict[str, Any] = {}

    def root(name: str, attrs: dict[str, str]) -> None:
        parser = state["parser"]
        if name == "coverage" and "clover" not in attrs:
            report.format = "cobertura"
            handler: Any = _Cobertura(report, parser)
        elif name == "report":
            report.format = "jacoco"
            handler = _JaCoCo(report)
        elif name == "coverage":
            raise ReportFormatError("Clover XML is not supported (use Cobertura, JaCoCo, LCOV "
                                    "or coverage.py JSON)")
        else:
            raise ReportFormatError(
                f"XML root element <{name}> is not a coverage report (expected Cobertura "
                "<coverage> or JaCoCo <report>)"
            )
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        handler.start(name, attrs)

    from gatekeeper.evidence.coverage_formats import _xml

    parser = _xml.make_parser()
    state["parser"] = parser
    _parse(path, parser, root)
    if report.format == "xml":
        raise EvidenceError(f"{path}: no XML root element")
    return report


def _parse(path: Path, parser: Any, start: Any) -> None:
    stream(path, start, parser=parser)
