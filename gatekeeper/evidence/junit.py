"""JUnit XML evidence: how many tests ran, failed, errored and were skipped.

Reads pytest's ``<testsuites>`` (and older bare ``<testsuite>``), Maven Surefire and
jest-junit files. Counts come from the ``<testcase>`` elements themselves rather than
the suites' summary attributes, which producers fill in inconsistently (jest-junit
omits them on nested suites; some tools count reruns). A test case is an error if it
has ``<error>``, else a failure if it has ``<failure>``, else skipped if it has
``<skipped>``; Surefire's ``<flakyFailure>``/``<flakyError>`` (passed on rerun) are passes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage import rename, resolve_reports
from gatekeeper.evidence.coverage_formats import ReportFormatError
from gatekeeper.evidence.coverage_formats._xml import make_parser, stream
from gatekeeper.globs import match_any

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence


@dataclass
class TestCounts:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    files: list[str] = field(default_factory=list)

    def add(self, other: TestCounts) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.errors += other.errors
        self.skipped += other.skipped

    def counts(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("files")
        return data


@dataclass(frozen=True)
class Selection:
    """Which test cases form the smoke suite; an empty selection takes every case."""

    files: tuple[str, ...] = ()
    """Globs on the JUnit files' repository paths."""
    suites: tuple[str, ...] = ()
    """Shell patterns on ``<testsuite name>`` (any enclosing suite may match)."""
    classnames: tuple[str, ...] = ()
    """Shell patterns on ``<testcase classname>``."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Selection:
        def many(key: str) -> tuple[str, ...]:
            value = (options or {}).get(key) or ()
            return (value,) if isinstance(value, str) else tuple(value)

        return cls(many("files"), many("suites"), many("classnames"))

    def takes(self, suites: Sequence[str], classname: str) -> bool:
        if self.suites and not any(fnmatch.fnmatchcase(s, p) for s in suites for p in self.suites):
            return False
        return not self.classnames or any(
            fnmatch.fnmatchcase(classname, p) for p in self.classnames
        )


def load(
    ev: Evidence,
    patterns: Sequence[str],
    selection: Selection = Selection(),
    *,
    allow_committed: bool = False,
) -> TestCounts:
    """The merged counts of the JUnit files ``patterns`` name (memoized per run).
    A report committed in the repository is refused unless ``allow_committed``."""
    key = ("junit", tuple(patterns), selection, allow_committed)
    return ev.cached(key, lambda: _load(ev, patterns, selection, allow_committed))


def _load(
    ev: Evidence, patterns: Sequence[str], selection: Selection, allow_committed: bool = False
) -> TestCounts:
    total = TestCounts()
    for path in resolve_reports(ev, patterns, "JUnit report", allow_committed=allow_committed):
        rel = _display(ev.repo_path, path)
        if selection.files and not match_any(rel, selection.files):
            continue
        try:
            total.add(read_junit(path, selection))
        except EvidenceError as e:
            raise EvidenceError(rename(e, path, rel)) from None
        total.files.append(rel)
    if not total.files:
        raise EvidenceError(
            f"no JUnit file among {list(patterns)} matches the smoke selection's files "
            f"{list(selection.files)}"
        )
    return total


class _Reader:
    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.counts = TestCounts()
        self.suites: list[str] = []
        self.case: str | None = None
        self.outcome = ""
        self.depth = 0
        self.case_depth = 0
        self.parser: Any = None

    def root(self, name: str, attrs: dict[str, str]) -> None:
        if name not in ("testsuites", "testsuite"):
            raise ReportFormatError(
                f"XML root element <{name}> is not JUnit XML (expected <testsuites> or <testsuite>)"
            )
        self.parser.StartElementHandler = self.start
        self.start(name, attrs)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if name == "testcase":
            self.case = attrs.get("classname", "")
            self.case_depth = self.depth
            self.outcome = ""
        elif name == "testsuite":
            self.suites.append(attrs.get("name", ""))
        elif self.case is not None and self.depth == self.case_depth + 1:
            if name == "error":
                self.outcome = "errors"
            elif name == "failure" and self.outcome != "errors":
                self.outcome = "failures"
            elif name == "skipped" and not self.outcome:
                self.outcome = "skipped"

    def end(self, name: str) -> None:
        self.depth -= 1
        if name == "testcase" and self.case is not None:
            if self.selection.takes(self.suites, self.case):
                self.counts.tests += 1
                if self.outcome:
                    setattr(self.counts, self.outcome, getattr(self.counts, self.outcome) + 1)
            self.case = None
        elif name == "testsuite":
            self.suites.pop()


def read_junit(path: Path, selection: Selection = Selection()) -> TestCounts:
    """Counts of one JUnit XML file's selected test cases."""
    from gatekeeper.evidence.coverage_formats import sniff

    try:
        with path.open("rb") as f:
            kind = sniff(f.read(4096))
    except FileNotFoundError:
        raise EvidenceError(f"{path}: JUnit report not found") from None
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read JUnit report: {e.strerror or e}") from None
    if kind != "xml":
        what = {"empty": "is empty", "binary": "is binary data"}.get(kind, "is not XML")
        raise EvidenceError(f"{path}: JUnit report {what}")
    reader = _Reader(selection)
    reader.parser = parser = make_parser()
    stream(path, reader.root, reader.end, parser=parser)
    return reader.counts


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
