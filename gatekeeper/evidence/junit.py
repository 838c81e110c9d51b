"""JUnit XML evidence: how many tests ran, failed, errored and were skipped.

Reads pytest's ``<testsuites>`` (and older bare ``<testsuite>``), Maven Surefire and
jest-junit files. Counts come from the ``<testcase>`` elements themselves rather than
the suites' summary attributes, which producers fill in inconsistently (jest-junit
omits them on nested suites; some tools count reruns). A test case is an error if it
has ``<error>``, else a failure if it has ``<failure>``, else skipped if it has
``<skipped>``; Surefire's ``<flakyFailure>``/``<flakyError>`` (passed on rerun) are passes.
A ``<testcase>`` inside another (in its ``<failure>``, say) is not JUnit XML and is
refused: read as a case of its own, it used to turn the failing test into a pass.

Every failing or erroring case is kept by name (``classname::name``) with the first
line of its message, so that a failing suite says which tests failed.
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
from gatekeeper.evidence.coverage_formats._xml import MAX_DEPTH, make_parser, stream, too_deep
from gatekeeper.globs import match_any

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence


MAX_MESSAGE = 300
"""Characters kept of a failure message's first line (the report links to the CI log)."""


@dataclass(frozen=True)
class FailingTest:
    test: str
    """``classname::name`` (just the name when there is no classname)."""
    outcome: str
    """``failure`` or ``error``."""
    message: str
    """The first line of the ``message`` attribute, or of the element's text."""
    report: str = ""
    """The JUnit file it came from (repository path)."""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class TestCounts:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    files: list[str] = field(default_factory=list)
    failing: list[FailingTest] = field(default_factory=list)
    """Failed and erroring cases in file order."""

    def add(self, other: TestCounts) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.errors += other.errors
        self.skipped += other.skipped
        self.failing += other.failing

    def counts(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("files")
        data.pop("failing")
        return data


@dataclass(frozen=True)
class Selection:
    """Which test cases form the smoke suite; an empty selection takes every case."""

    files: tuple[str, ...] = ()
    """Globs on the JUnit files' repository paths (option ``reports``, formerly ``files``)."""
    suites: tuple[str, ...] = ()
    """Shell patterns on ``<testsuite name>`` (any enclosing suite may match)."""
    classnames: tuple[str, ...] = ()
    """Shell patterns on ``<testcase classname>``."""
    tests: tuple[str, ...] = ()
    """Globs on test source paths: the case's ``file`` attribute (or its suite's), else
    its classname read as a path (``tests.smoke.test_api.TestX`` is
    ``tests/smoke/test_api.py``)."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Selection:
        def many(key: str) -> tuple[str, ...]:
            value = (options or {}).get(key) or ()
            return (value,) if isinstance(value, str) else tuple(value)

        return cls(
            many("reports") + many("files"), many("suites"), many("classnames"), many("tests")
        )

    def takes(self, suites: Sequence[str], classname: str, file: str = "") -> bool:
        if self.suites and not any(fnmatch.fnmatchcase(s, p) for s in suites for p in self.suites):
            return False
        if self.tests and not any(match_any(p, self.tests) for p in test_paths(classname, file)):
            return False
        return not self.classnames or any(
            fnmatch.fnmatchcase(classname, p) for p in self.classnames
        )


def test_paths(classname: str, file: str = "") -> list[str]:
    """The source paths a test case may come from: its ``file`` attribute when the
    producer wrote one (every tail of an absolute one), else its dotted classname read as a path, each prefix as a
    Python module (``a/b.py`` for ``a.b.C``) and the whole as a path (``com/acme/Cart``
    for Java's ``com.acme.Cart``)."""
    if file:
        path = file.replace("\\", "/")
        if path.startswith("/") or path[1:3] == ":/":
            # An absolute path from the machine that ran the tests (jest-junit writes
            # them): the repository-relative part is one of its tails.
            parts = path.split("/")
            return ["/".join(parts[i:]) for i in range(1, len(parts)) if parts[i]]
        return [path[2:] if path.startswith("./") else path]
    parts = [p for p in classname.split(".") if p]
    if not parts:
        return []
    return ["/".join(parts[:k]) + ".py" for k in range(1, len(parts) + 1)] + ["/".join(parts)]


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
            total.add(read_junit(path, selection, rel))
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
    def __init__(self, selection: Selection, name: str = "") -> None:
        self.selection = selection
        self.name = name
        self.counts = TestCounts()
        self.suites: list[str] = []
        self.suite_files: list[str] = []
        self.case: str | None = None
        self.case_name = ""
        self.case_file = ""
        self.outcome = ""
        self.message = ""
        self.text: list[str] | None = None
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
        if self.depth > MAX_DEPTH:
            raise too_deep()
        if name == "testcase":
            if self.case is not None:
                raise ReportFormatError(
                    "a <testcase> inside another <testcase> (in its <failure>, say) is not "
                    "JUnit XML; refusing to guess which of them failed"
                )
            self.case = attrs.get("classname", "")
            self.case_name = attrs.get("name", "")
            self.case_file = attrs.get("file", "")
            self.case_depth = self.depth
            self.outcome = self.message = ""
        elif name == "testsuite":
            self.suites.append(attrs.get("name", ""))
            parent = self.suite_files[-1] if self.suite_files else ""
            self.suite_files.append(attrs.get("file", parent))
        elif self.case is not None and self.depth == self.case_depth + 1:
            if name == "error" and self.outcome != "errors":
                self.outcome = "errors"
                self._message(attrs)
            elif name == "failure" and self.outcome not in ("errors", "failures"):
                self.outcome = "failures"
                self._message(attrs)
            elif name == "skipped" and not self.outcome:
                self.outcome = "skipped"

    def _message(self, attrs: dict[str, str]) -> None:
        """The ``message`` attribute's first line, else the first line of the text."""
        self.message = _first_line(attrs.get("message", ""))
        if not self.message:
            self.text = []
            self.parser.CharacterDataHandler = self._text

    def _text(self, data: str) -> None:
        assert self.text is not None
        # Enough for a first line; the rest of a long traceback is not kept.
        if sum(map(len, self.text)) < 4 * MAX_MESSAGE:
            self.text.append(data)

    def end(self, name: str) -> None:
        if self.text is not None and self.depth == self.case_depth + 1:
            self.parser.CharacterDataHandler = None
            self.message = _first_line("".join(self.text))
            self.text = None
        self.depth -= 1
        if name == "testcase" and self.case is not None:
            file = self.case_file or (self.suite_files[-1] if self.suite_files else "")
            if self.selection.takes(self.suites, self.case, file):
                self.counts.tests += 1
                if self.outcome:
                    setattr(self.counts, self.outcome, getattr(self.counts, self.outcome) + 1)
                if self.outcome in ("failures", "errors"):
                    self._failing()
            self.case = None
        elif name == "testsuite":
            self.suites.pop()
            self.suite_files.pop()

    def _failing(self) -> None:
        assert self.case is not None
        test = f"{self.case}::{self.case_name}" if self.case else self.case_name
        outcome = "error" if self.outcome == "errors" else "failure"
        self.counts.failing.append(FailingTest(_clean(test), outcome, self.message, self.name))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = _clean(line)
        if line:
            return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
    return ""


def _clean(text: str) -> str:
    """One line of printable text: test names and messages come from the change under
    review and end up in terminal output and CI logs, where a newline could start a
    workflow command (``::error::``) and an escape sequence could rewrite the screen."""
    import unicodedata

    kept = "".join(c if unicodedata.category(c) not in ("Cc", "Cf") else " " for c in text)
    return " ".join(kept.split())


def read_junit(path: Path, selection: Selection = Selection(), name: str = "") -> TestCounts:
    """Counts of one JUnit XML file's selected test cases."""
    from gatekeeper.evidence.coverage_formats import read_head, sniff

    try:
        kind = sniff(read_head(path)[0])
    except FileNotFoundError:
        raise EvidenceError(f"{path}: JUnit report not found") from None
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read JUnit report: {e.strerror or e}") from None
    if kind != "xml":
        what = {"empty": "is empty", "binary": "is binary data"}.get(kind, "is not XML")
        raise EvidenceError(f"{path}: JUnit report {what}")
    reader = _Reader(selection, name or str(path))
    reader.parser = parser = make_parser()
    stream(path, reader.root, reader.end, parser=parser)
    return reader.counts


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
