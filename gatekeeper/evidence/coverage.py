"""Coverage evidence: every report the rule names, read, mapped to repository paths
and merged; and the figures a coverage gate is judged on.

A line is *measured* if any report measures it and *covered* if any report covers it.
Report paths are mapped to repository paths in this order: an explicit ``path_map``
prefix rewrite; the path itself or joined to a Cobertura ``<source>``, relative to the
repository root (absolute paths under the checkout included); an absolute path from
another checkout (a CI workspace), by the workspace prefix most of the report's files
share; and finally a report path that is the unique tail of a repository path (JaCoCo's
``com/acme/Foo.java`` for ``src/main/java/com/acme/Foo.java``).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import sub
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import (
    COVERED,
    MISSED,
    NOT_MEASURED,
    Branches,
    Lines,
    ParsedReport,
    counts,
    read_report,
    states,
    table,
)
from gatekeeper.globs import match_any

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.evidence.git import ChangedFile

_DRIVE = re.compile(r"^[A-Za-z]:/")


@dataclass
class CoverageData:
    """Merged line states of all reports, keyed by repository path (or, for files no
    mapping placed in the repository, by the report's own spelling)."""

    files: dict[str, Lines]
    in_repo: set[str]
    reports: list[dict[str, Any]]
    branches: dict[str, Branches] = field(default_factory=dict)
    """Branch counts of the files whose reports give them (same keys as ``files``)."""
    timestamps: dict[str, tuple[float | None, str]] = field(default_factory=dict)
    """Per report (its displayed path): when it says it was made, and where that came
    from (``timestamp``, ``meta.timestamp``; ``None`` when the report does not say)."""
    paths: dict[str, Path] = field(default_factory=dict)
    """Per report (its displayed path): the file on disk."""
    measured_by: dict[str, list[str]] = field(default_factory=dict)
    """Per report (its displayed path): the repository files it measures."""

    def state(self, path: str, line: int) -> int:
        lines = self.files.get(path)
        if lines is None:
            return 0
        found = table(lines)
        return found[line] if line < len(found) else 0

    def measures(self, path: str) -> bool:
        """Whether any report lists ``path`` (possibly with no executable lines)."""
        return path in self.files


@dataclass
class Totals:
    """coverage.py's total: statements plus, when the reports have them, branches."""

    lines_valid: int
    lines_covered: int
    branches_valid: int = 0
    branches_covered: int = 0

    @property
    def valid(self) -> int:
        return self.lines_valid + self.branches_valid

    @property
    def covered(self) -> int:
        return self.lines_covered + self.branches_covered

    @property
    def percent(self) -> float | None:
        """(covered lines + covered branches) / (lines + branches): ``coverage report``'s
        Cover column, with or without branch coverage."""
        return 100.0 * self.covered / self.valid if self.valid else None

    @property
    def line_percent(self) -> float | None:
        return 100.0 * self.lines_covered / self.lines_valid if self.lines_valid else None

    @property
    def branch_percent(self) -> float | None:
        return 100.0 * self.branches_covered / self.branches_valid if self.branches_valid else None


@dataclass
class DiffCoverage:
    """diff-cover's figures: changed lines the reports measure, and which are missed."""

    lines: int = 0
    covered: int = 0
    uncovered: dict[str, list[int]] = field(default_factory=dict)
    missing_files: list[str] = field(default_factory=list)
    """Changed files with added lines that no report measures (``measured_nothing``
    included)."""
    measured_nothing: list[str] = field(default_factory=list)
    """Changed files a report lists without a single measured line, although they have
    code: listed, yet nothing in them was measured."""
    without_code: list[str] = field(default_factory=list)
    """Changed files a report lists with no measured line that have no executable lines
    (an empty or docstring-only module): rightly nothing to measure."""

    @property
    def missing(self) -> int:
        return self.lines - self.covered

    @property
    def percent(self) -> float | None:
        return 100.0 * self.covered / self.lines if self.lines else None


def load(
    ev: Evidence,
    patterns: Sequence[str],
    path_map: Mapping[str, str] | None = None,
    *,
    allow_committed: bool = False,
) -> CoverageData:
    """The merged coverage of the reports ``patterns`` name (memoized per run).
    A report committed in the repository is refused unless ``allow_committed``."""
    mapping = tuple(sorted((path_map or {}).items()))
    key = ("coverage", tuple(patterns), mapping, allow_committed)
    return ev.cached(key, lambda: _load(ev, patterns, mapping, allow_committed))


def _load(
    ev: Evidence,
    patterns: Sequence[str],
    mapping: tuple[tuple[str, str], ...],
    allow_committed: bool = False,
) -> CoverageData:
    paths = resolve_reports(ev, patterns, "coverage report", allow_committed=allow_committed)
    mapper = PathMapper(ev.repo_path, ev.git.files, dict(mapping))
    merged: dict[str, Lines] = {}
    branches: dict[str, Branches] = {}
    in_repo: set[str] = set()
    reports = []
    timestamps: dict[str, tuple[float | None, str]] = {}
    measured_by: dict[str, list[str]] = {}
    report_paths: dict[str, Path] = {}
    for path in paths:
        name = _display(ev.repo_path, path)
        report = read_report_named(path, name)
        names = mapper.map_report(report)
        mapped = sum(1 for v in names.values() if v is not None)
        if not report.files:
            raise EvidenceError(f"{name}: the {report.format} report measures no files")
        if not mapped:
            example = next(iter(report.files))
            raise EvidenceError(
                f"{name}: none of the {len(report.files)} files this {report.format} report "
                f"measures is in the repository (e.g. {example!r}); was it made from another "
                "checkout? Map its paths with the rule's `path_map` option"
            )
        for raw, lines in report.files.items():
            key = names[raw] or raw
            if names[raw] is not None:
                in_repo.add(key)
            merged[key] = merge_lines(merged[key], lines) if key in merged else lines
            found = report.branches.get(raw)
            if found is not None:
                branches[key] = branches[key].merged(found) if key in branches else found
        timestamps[name] = (report.timestamp, report.timestamp_source)
        report_paths[name] = path
        measured_by[name] = sorted({v for v in names.values() if v is not None})
        reports.append(
            {
                "path": name,
                "format": report.format,
                "files": len(report.files),
                "files_in_repo": mapped,
            }
        )
    return CoverageData(
        merged,
        in_repo,
        reports,
        branches,
        timestamps,
        report_paths,
        measured_by,
    )


def read_report_named(path: Path, name: str) -> ParsedReport:
    """``read_report`` with problems reported under ``name`` (the repository-relative
    path the user wrote, rather than the absolute one)."""
    try:
        return read_report(path)
    except EvidenceError as e:
        raise EvidenceError(rename(e, path, name)) from None


def rename(error: EvidenceError, path: Path, name: str) -> str:
    message = str(error)
    return name + message[len(str(path)) :] if message.startswith(str(path)) else message


def resolve_reports(
    ev: Evidence, patterns: Iterable[str], what: str, *, allow_committed: bool = False
) -> list[Path]:
    """Report files named by paths or globs (see ``gatekeeper.evidence.reports``)."""
    from gatekeeper.evidence import reports

    return reports.resolve(ev, patterns, what, allow_committed=allow_committed)


def merge_lines(first: Lines, second: Lines) -> bytearray:
    """Per line, the stronger state: covered beats measured beats not measured."""
    a, b = table(first), table(second)
    if len(a) < len(b):
        a, b = b, a
    out = bytearray(a)
    out[: len(b)] = bytes(map(max, a[: len(b)], b))
    return out


def totals(
    data: CoverageData, include: Sequence[str] | None = None, exclude: Sequence[str] = ()
) -> Totals:
    """Measured and covered lines over every file the reports measure (coverage.py's
    total) after the rule's include/exclude globs."""
    valid = covered = branches = branches_covered = 0
    for path, lines in data.files.items():
        if (include and not match_any(path, include)) or (exclude and match_any(path, exclude)):
            continue
        missed, hit = counts(lines)
        valid += hit + missed
        covered += hit
        found = data.branches.get(path)
        if found is not None:
            total, ran = found.counts()
            branches += total
            branches_covered += ran
    return Totals(valid, covered, branches, branches_covered)


NOT_CODE = frozenset(
    [
        ".json",
        ".yml",
        ".yaml",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".env",
        ".lock",
        ".xml",
        ".csv",
        ".tsv",
        ".md",
        ".rst",
        ".txt",
        ".adoc",
        ".html",
        ".css",
        ".scss",
        ".svg",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".ico",
        ".pdf",
        ".sql",
        ".graphql",
        ".proto",
        ".po",
        ".mo",
        ".pyi",
        ".typed",
        ".map",
        ".snap",
        ".webp",
        ".bmp",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".zip",
        ".gz",
        ".tgz",
        ".jar",
        ".mp3",
        ".mp4",
        ".wav",
    ]
)
"""Kinds of file no coverage tool measures: a changed one is never "missing from the report",
even where an ``include`` glob matches it (``src/**`` also matches ``src/schema.json``)."""


def diff_coverage(
    data: CoverageData,
    changed: Iterable[ChangedFile],
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    has_code: Callable[[str], bool] | None = None,
) -> DiffCoverage:
    """Measured changed lines and which of them no test ran, as diff-cover counts them
    (the added lines of the new version that the reports measure). Unlike diff-cover,
    a changed file the reports do not measure is listed in ``missing_files`` rather than
    silently left out, and so is one a report lists without measuring any of its lines,
    unless ``has_code(path)`` says it has no executable lines (without ``has_code``,
    every such file is taken to have code)."""
    result = DiffCoverage()
    source_kinds = {posixpath.splitext(p)[1] for p in data.in_repo} - {""}
    for file in changed:
        # A file git calls binary is judged like any other: a NUL byte (or the change's
        # own .gitattributes) must not take a source file out of diff coverage.
        if file.status == "deleted" or not (file.added_lines or file.binary):
            continue
        if exclude and match_any(file.path, exclude):
            continue
        if include and not match_any(file.path, include):
            continue
        lines = data.files.get(file.path)
        if lines is None:
            # Without include globs, "source file" means a kind of file the reports measure.
            # (A file a report lists, even with no line, is judged below.)
            kind = posixpath.splitext(file.path)[1].lower()
            if kind in source_kinds or (include and kind not in NOT_CODE):
                result.missing_files.append(file.path)
            continue
        if counts(lines) == (0, 0):
            # Listed, yet not one line measured: from the report alone a module nobody
            # imported looks the same as an empty one. Only the file itself can tell.
            if has_code is None or has_code(file.path):
                result.measured_nothing.append(file.path)
                result.missing_files.append(file.path)
            else:
                result.without_code.append(file.path)
            continue
        found = states(lines, file.added_lines)
        result.lines += len(found) - found.count(NOT_MEASURED)
        result.covered += found.count(COVERED)
        missed = list(compress(file.added_lines, map(MISSED.__eq__, found)))
        if missed:
            result.uncovered[file.path] = missed
    return result


def code_detector(ev: Evidence) -> Callable[[str], bool]:
    """``has_code(path)``: whether the head version of a file has executable lines.

    Python files are parsed: a module of nothing but a docstring, comments, blank lines
    (an ``__init__.py``) has none. Any other language: only blank lines have none. A
    file that cannot be read or parsed counts as code (fail closed)."""

    def has_code(path: str) -> bool:
        content = ev.git.read(path)
        if content is None:
            return True
        if not content.strip():
            return False
        if not path.endswith(".py"):
            return True
        return _python_has_code(content)

    return has_code


def _python_has_code(content: bytes) -> bool:
    import ast

    try:
        body = ast.parse(content).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the module docstring is not a statement coverage.py measures
    return bool(body)


def ranges(lines: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted line numbers as inclusive (start, end) runs: [1,2,3,7] -> [(1,3),(7,7)]."""
    out: list[tuple[int, int]] = []
    for n in sorted(lines):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def count_ranges(lines: Sequence[int]) -> int:
    """``len(ranges(lines))`` for distinct line numbers, at C speed."""
    ordered = sorted(lines)
    return len(ordered) - sum(map((1).__eq__, map(sub, ordered[1:], ordered)))


class PathMapper:
    """Maps the file names in reports to repository paths (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        repo_files: set[str] | frozenset[str],
        path_map: Mapping[str, str] | None = None,
    ) -> None:
        self.roots = sorted(
            {_norm(str(root)), _norm(os.path.realpath(root))}, key=len, reverse=True
        )
        self.files = repo_files
        self.path_map = sorted((path_map or {}).items(), key=lambda kv: -len(kv[0]))
        self._by_name: dict[str, list[str]] | None = None

    def candidates(self, raw: str, sources: Sequence[str]) -> list[str]:
        name = _norm(raw)
        for prefix, replacement in self.path_map:
            if name.startswith(_norm(prefix)):
                return [_norm(replacement + name[len(_norm(prefix)) :])]
        if _is_abs(name):
            return [name]
        return [_norm(posixpath.join(_norm(s), name)) for s in sources] + [name]

    def in_repo(self, candidate: str) -> str | None:
        """``candidate`` as a repository path, if it is one."""
        if _is_abs(candidate):
            for root in self.roots:
                if candidate.startswith(root + "/"):
                    rel = candidate[len(root) + 1 :]
                    return rel if rel in self.files else None
            return None
        rel = candidate[2:] if candidate.startswith("./") else candidate
        return rel if rel in self.files else None

    def map_report(self, report: ParsedReport) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        pending: dict[str, list[str]] = {}
        for raw in report.files:
            cands = self.candidates(raw, report.sources)
            out[raw] = next((r for r in map(self.in_repo, cands) if r is not None), None)
            if out[raw] is None:
                pending[raw] = cands
        if pending:
            self._map_workspace(pending, out)
        for raw, cands in pending.items():
            if out[raw] is None:
                out[raw] = self._by_suffix(cands)
        return out

    def _map_workspace(self, pending: dict[str, list[str]], out: dict[str, str | None]) -> None:
        """Absolute paths from another checkout: strip the prefix most of them share.

        One file alone is trusted only if its match spans a folder too (``src/a.py``):
        a lone ``/usr/lib/.../api.py`` must not become the repository's ``api.py``.
        """
        votes: Counter[str] = Counter()
        deep: set[str] = set()
        for cands in pending.values():
            for cand in cands:
                prefix = self._workspace_prefix(cand)
                if prefix is not None:
                    votes[prefix] += 1
                    if "/" in cand[len(prefix) :]:
                        deep.add(prefix)
                    break
        if not votes:
            return
        prefix, count = votes.most_common(1)[0]
        if count < 2 and prefix not in deep:
            return
        for raw, cands in pending.items():
            for cand in cands:
                if cand.startswith(prefix) and cand[len(prefix) :] in self.files:
                    out[raw] = cand[len(prefix) :]
                    break

    def _workspace_prefix(self, candidate: str) -> str | None:
        # Under this checkout a path is where it is; if it is not a repository file, it
        # is not one (a generated file, say) under any other name either.
        if not _is_abs(candidate) or any(candidate.startswith(r + "/") for r in self.roots):
            return None
        parts = candidate.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[i:]) in self.files:
                return "/".join(parts[:i]) + "/"
        return None

    def _by_suffix(self, cands: list[str]) -> str | None:
        if self._by_name is None:
            self._by_name = defaultdict(list)
            for path in self.files:
                self._by_name[posixpath.basename(path)].append(path)
        for cand in cands:
            if _is_abs(cand):
                continue
            tail = cand
            while tail.startswith("../"):
                tail = tail[3:]
            found = [
                p for p in self._by_name.get(posixpath.basename(tail), ()) if p.endswith("/" + tail)
            ]
            if len(found) == 1:
                return found[0]
        return None


def _norm(path: str) -> str:
    path = path.replace("\\", "/")
    if not path:
        return path
    normed = posixpath.normpath(path)
    return normed if normed != "." else ""


def _is_abs(path: str) -> bool:
    return path.startswith("/") or bool(_DRIVE.match(path))


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
