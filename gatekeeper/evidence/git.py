"""Git evidence: the range under review, the changed files and their added lines.

Everything here asks git itself (through GitPython) so that renames, binary files and
line numbers are exactly what ``git diff`` says. The range is merge-base(base, head)..head,
the same as a pull request's "Files changed" tab.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gatekeeper.errors import EvidenceError, UsageError

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_HUNK_LINE = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)
_FILE_START = re.compile(rb"\ndiff --git ")
_NEW_PATH = re.compile(rb"^\+\+\+ (.*?)\t*$", re.MULTILINE)
_BINARY_LINE = re.compile(rb"^Binary files .* differ[ \t\r\x0b\x0c]*$", re.MULTILINE)
_STATUS = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "type-changed",
}
_SHORT_REF = re.compile(r"^[^~^:@\\\s]+$")
"""A plain ref name (no revision syntax such as ``main~1`` or ``HEAD@{1}``)."""
_PSEUDO_REF = re.compile(r"^[A-Z_]*HEAD$")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(frozen=True)
class ChangedFile:
    """One file in the diff. ``path`` is the new path (the old one for a deletion)."""

    path: str
    status: str
    old_path: str | None = None
    binary: bool = False
    added_lines: tuple[int, ...] = field(default=(), repr=False)
    """Line numbers of the new version that ``git diff -U0`` marks with '+'."""


@dataclass(frozen=True)
class Commit:
    """A commit of the range: its SHA, author and whole message."""

    sha: str
    author_name: str
    author_email: str
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


def unquote_path(raw: bytes) -> str:
    """Undo git's C-style quoting of a path (``"caf\\303\\251"`` -> ``café``)."""
    if not raw.startswith(b'"'):
        return raw.decode("utf-8", "surrogateescape")
    text = raw[1:-1].decode("ascii", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out += ch.encode("ascii", "surrogateescape")
            i += 1
        elif text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(int(text[i + 1 : i + 4], 8))
            i += 4
    return out.decode("utf-8", "surrogateescape")


def parse_added_lines(patch: bytes) -> dict[str, list[int]]:
    """Map each new-side path of a ``git diff -U0`` patch to the line numbers it adds."""
    return parse_patch(patch)[0]


def parse_patch(patch: bytes) -> tuple[dict[str, list[int]], set[str]]:
    """The added line numbers of each new-side path of a ``git diff -U0`` patch, and the
    paths whose new content git's own heuristic would call binary (a NUL byte in an added
    line, or a "Binary files differ" entry when the diff was not run with ``--text``).

    With no context, a hunk's new side is all added lines, so the header says which.
    The patch is cut into files at its ``diff --git`` lines, which no hunk line can
    start with (those start with '+', '-', ' ' or '\\'); within a file, the headers end
    at the first hunk, and every line starting with ``@@`` after that is a hunk header.
    So no line is looked at one by one: an added line reading ``++ x`` (``+++ x`` in the
    patch) is in a hunk, where nobody looks for a file header.
    """
    if patch and not patch.startswith(b"diff --git "):
        return _parse_patch_by_lines(patch)  # not git's own format: count line by line
    added: dict[str, list[int]] = {}
    binary: set[str] = set()
    for section in _sections(patch):
        hunks_at = section.find(b"\n@@")
        header = section if hunks_at < 0 else section[: hunks_at + 1]
        current = None
        path = ""
        target = _NEW_PATH.search(header)
        if target is not None and target[1] != b"/dev/null":
            path = unquote_path(target[1])
            path = path[2:] if path.startswith("b/") else path
            current = added.setdefault(path, [])
        for line in _BINARY_LINE.findall(header):
            new = _binary_new_path(line)
            if new is not None:
                binary.add(new)
        if hunks_at < 0:
            continue
        body = section[hunks_at + 1 :]
        if current is not None:
            for m in _HUNK_LINE.finditer(body):
                start, count = int(m[2]), int(m[3] or 1)
                current.extend(range(start, start + count))
            if b"\0" in body and any(
                b"\0" in line for line in body.split(b"\n") if line.startswith(b"+")
            ):
                binary.add(path)
    return added, binary


def _sections(patch: bytes) -> list[bytes]:
    """A patch cut before each of its ``diff --git`` lines."""
    starts = [0] + [m.start() + 1 for m in _FILE_START.finditer(patch)]
    return [patch[a:b] for a, b in zip(starts, [*starts[1:], len(patch)], strict=True)]


def _parse_patch_by_lines(patch: bytes) -> tuple[dict[str, list[int]], set[str]]:
    """``parse_patch`` for a patch without ``diff --git`` lines: hunk bodies skipped by
    their counts, not by their look."""
    added: dict[str, list[int]] = {}
    binary: set[str] = set()
    current: list[int] | None = None
    path = ""
    body = 0
    for line in io.BytesIO(patch):
        if body:
            if not line.startswith(b"\\"):  # "\ No newline at end of file" is not counted
                body -= 1
                if current is not None and b"\0" in line and line.startswith(b"+"):
                    binary.add(path)
            continue
        if line.startswith(b"+++ "):
            target = line[4:].rstrip(b"\n").rstrip(b"\t")
            if target == b"/dev/null":
                current = None
                continue
            path = unquote_path(target)
            path = path[2:] if path.startswith("b/") else path
            current = added.setdefault(path, [])
        elif line.startswith(b"@@"):
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(2)), int(m.group(3) or 1)
                body = int(m.group(1) or 1) + count
                if current is not None:
                    current.extend(range(start, start + count))
        elif line.startswith(b"Binary files ") and line.rstrip().endswith(b" differ"):
            new = _binary_new_path(line)
            if new is not None:
                binary.add(new)
    return added, binary


def _binary_new_path(line: bytes) -> str | None:
    """The new path of ``Binary files a/x and b/y differ`` (``None`` for /dev/null)."""
    body = line.rstrip()[len(b"Binary files ") : -len(b" differ")]
    for sep in (b' and "b/', b" and b/"):
        if sep in body:
            target = body[body.rindex(sep) + len(b" and ") :]
            name = unquote_path(target)
            return name[2:] if name.startswith("b/") else name
    return None


def split_raw_patch(out: bytes) -> tuple[bytes, bytes]:
    """Split the output of ``git diff --raw -z -p`` into its raw part and its patch.

    The raw records come first (``:meta\\0path\\0`` or, for a rename or copy,
    ``:meta\\0old\\0new\\0``), then one NUL, then the patch."""
    pos = 0
    while out.startswith(b":", pos):
        meta_end = out.index(b"\0", pos)
        status = out[pos:meta_end].rsplit(b" ", 1)[-1][:1]
        paths = 2 if status in (b"R", b"C") else 1
        pos = meta_end + 1
        for _ in range(paths):
            pos = out.index(b"\0", pos) + 1
    raw = out[:pos]
    if out.startswith(b"\0", pos):
        pos += 1
    return raw, out[pos:]


def _parse_raw(raw: bytes) -> list[tuple[str, str, str | None]]:
    """Parse ``git diff --raw -z`` into (status, path, old_path)."""
    fields = raw.split(b"\0")
    out: list[tuple[str, str, str | None]] = []
    i = 0
    while i < len(fields) and fields[i].startswith(b":"):
        letter = fields[i].split(b" ")[-1][:1].decode()
        if letter in ("R", "C"):
            old = fields[i + 1].decode("utf-8", "surrogateescape")
            new = fields[i + 2].decode("utf-8", "surrogateescape")
            out.append((_STATUS[letter], new, old))
            i += 3
        else:
            path = fields[i + 1].decode("utf-8", "surrogateescape")
            out.append((_STATUS.get(letter, "modified"), path, None))
            i += 2
    return out


def git_executable() -> str:
    """The git to run: ``$GIT_PYTHON_GIT_EXECUTABLE`` (GitPython's setting) or ``git``."""
    import os

    return os.environ.get("GIT_PYTHON_GIT_EXECUTABLE") or "git"


def run_git(cwd: Path, *args: str) -> bytes:
    """Run ``git ARGS`` in ``cwd``; its standard output, or an ``EvidenceError`` with the
    first line git wrote to standard error. Plain ``subprocess``: one process per call."""
    import subprocess

    try:
        done = subprocess.run(
            _argv(args), cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True
        )
    except OSError as e:
        raise EvidenceError(f"git {args[0]} failed: cannot run git ({e.strerror or e})") from None
    if done.returncode != 0:
        raise _failed(args, done.stderr, done.returncode)
    return done.stdout


def _argv(args: Sequence[str]) -> list[str]:
    return [git_executable(), "-c", "core.quotePath=false", *args]


def _failed(args: Sequence[str], stderr: bytes, returncode: int) -> EvidenceError:
    """git's failure, told by the first line it wrote to standard error."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return EvidenceError(f"git {args[0]} failed: {lines[0] if lines else returncode}")


def toplevel(path: Path) -> Path:
    """The work tree that ``path`` is (or is in): a ``UsageError`` if it is none."""
    try:
        out = run_git(path, "rev-parse", "--show-toplevel")
    except (EvidenceError, NotADirectoryError, FileNotFoundError):
        raise UsageError(f"{path}: not a git repository (pass --repo DIR)") from None
    return Path(out.decode("utf-8", "surrogateescape").rstrip("\n"))


def _ambiguity_args(ref: str) -> tuple[str, ...] | None:
    """The ``for-each-ref`` listing every ref a short name could mean (``None`` for a full
    ref name, revision syntax, or HEAD-like names: git reads those from the git folder
    before any ref)."""
    if ref.startswith("refs/") or not _SHORT_REF.match(ref) or _PSEUDO_REF.match(ref):
        return None
    names = (f"refs/{ref}", f"refs/tags/{ref}", f"refs/heads/{ref}", f"refs/remotes/{ref}")
    return ("for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)", *names)


def _start_all(cwd: Path, commands: list[tuple[str, ...]]) -> dict[tuple[str, ...], _Run]:
    """Start ``commands`` in ``cwd`` side by side (none if ``cwd`` is no place to run git:
    the questions are then asked one by one, and fail as they would)."""
    started: dict[tuple[str, ...], _Run] = {}
    try:
        for args in commands:
            if args not in started:
                started[args] = _Run.start(cwd, list(args), None)
    except OSError:
        for run in started.values():
            run.close()
        return {}
    return started


def _scratch_file() -> Any:
    """An anonymous temporary file, as ``tempfile.TemporaryFile`` makes one on Linux
    (``O_TMPFILE``), without importing ``tempfile`` (and with it shutil, lzma, bz2 and
    random: ~4 ms of every run's start); elsewhere through ``tempfile``."""
    import os

    flag = getattr(os, "O_TMPFILE", 0)
    if flag:
        try:
            fd = os.open(os.environ.get("TMPDIR") or "/tmp", flag | os.O_RDWR, 0o600)
        except OSError:
            pass
        else:
            return open(fd, "w+b")  # closed by _Run.close()
    import tempfile

    return tempfile.TemporaryFile()


class _Run:
    """One git process writing to a temporary file rather than a pipe: a large diff then
    never waits for this process to read it, so git works at full speed on another core
    even while this process is busy (parsing a coverage report, say)."""

    def __init__(self, args: list[str], out: Any, err: Any, proc: Any) -> None:
        self.args, self.out, self.err, self.proc = args, out, err, proc

    @classmethod
    def start(cls, cwd: Path, args: list[str], env: Mapping[str, str] | None) -> _Run:
        import os
        import subprocess

        # Closed by close(): the files outlive this call while git writes to them.
        out, err = _scratch_file(), _scratch_file()
        try:
            proc = subprocess.Popen(
                _argv(args),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env={**os.environ, **env} if env else None,
            )
        except BaseException:
            out.close()
            err.close()
            raise
        return cls(args, out, err, proc)

    def finish(self) -> bytes:
        """Wait for git; its output, or ``EvidenceError`` with its first error line."""
        self.proc.wait()
        if self.proc.returncode != 0:
            self.err.seek(0)
            raise _failed(self.args, self.err.read(), self.proc.returncode)
        self.out.seek(0)
        data: bytes = self.out.read()
        return data

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        self.err.close()


class GitEvidence:
    """The repository and the range under review, resolved once per run."""

    def __init__(self, path: Path, base: str, head: str = "HEAD", worktree: bool = False) -> None:
        self._taken: set[tuple[str, ...]] = set()
        # The questions below do not depend on one another: git answers them at once.
        self._started = _start_all(
            path,
            [self._resolve_args(base), self._resolve_args(head)]
            + [a for a in map(_ambiguity_args, (base, head)) if a],
        )
        try:
            self._construct(path, base, head, worktree)
        finally:
            self.close()  # a lookup the answers made unnecessary

    def _construct(self, path: Path, base: str, head: str, worktree: bool) -> None:
        self.path = toplevel(path)
        self.base_ref, self.head_ref, self.worktree = base, head, worktree
        self.base_sha = self._resolve(base, "base")
        self.head_sha = self._resolve(head, "head")
        if worktree:
            self._require_checked_out_head()
        self.merge_base = self._merge_base()

    @cached_property
    def repo(self) -> Any:
        """A GitPython ``Repo``, for callers that want one. Not used on the hot path:
        importing GitPython runs ``git version`` twice before anything else."""
        import git

        return git.Repo(self.path)

    def git(self, *args: str) -> bytes:
        """Run git in the repository and return its raw standard output (exact bytes)."""
        if args in self._started:
            return self._take(args)
        return run_git(self.path, *args)

    def git_many(self, *commands: list[str], env: Mapping[str, str] | None = None) -> list[bytes]:
        """Run several git commands at once and return their outputs."""
        runs = [_Run.start(self.path, args, env) for args in commands]
        try:
            return [run.finish() for run in runs]
        finally:
            for run in runs:
                run.close()

    def prefetch(self) -> None:
        """Start the diff and the file list now, each in its own git process, so that
        they are ready (or nearly) when a rule first asks: git works on another core
        while this process loads the policy and reads the coverage reports."""
        for args, env in self._commands().values():
            if args not in self._started and args not in self._taken:
                self._started[args] = _Run.start(self.path, list(args), env)

    def close(self) -> None:
        """Stop what was started ahead and nobody asked for."""
        for run in self._started.values():
            run.close()
        self._started.clear()

    def _commands(self) -> dict[str, tuple[tuple[str, ...], Mapping[str, str] | None]]:
        files: tuple[str, ...]
        if self.worktree:
            files = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        else:
            files = ("ls-tree", "-r", "-z", "--name-only", "--full-tree", self.head_sha)
        diff = (
            "diff", "--raw", "-z", "-p", "-U0", "--text", "--no-color", "--no-ext-diff",
            "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", "-M", *self._range(), "--",
        )  # fmt: skip
        return {"files": (files, None), "diff": (diff, {"GIT_ATTR_SOURCE": self.base_sha})}

    def _output(self, key: str) -> bytes:
        """The output of the named command of ``_commands`` (prefetched or not)."""
        return self._take(*self._commands()[key])

    def _take(self, args: tuple[str, ...], env: Mapping[str, str] | None = None) -> bytes:
        """The output of ``args``: from the run started ahead, else from one started now."""
        self._taken.add(args)
        run = self._started.pop(args, None) or _Run.start(self.path, list(args), env)
        try:
            return run.finish()
        finally:
            run.close()

    def _resolve(self, ref: str, which: str) -> str:
        self._refuse_ambiguous(ref, which)
        try:
            return self.git(*self._resolve_args(ref)).decode().strip()
        except EvidenceError:
            hint = (
                " (fetch it, e.g. `git fetch origin <branch>`, or pass --base REF)"
                if which == "base"
                else ""
            )
            raise UsageError(f"{which} ref {ref!r} is not a commit in {self.path}{hint}") from None

    @staticmethod
    def _resolve_args(ref: str) -> tuple[str, ...]:
        return ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")

    def _refuse_ambiguous(self, ref: str, which: str) -> None:
        """A short ref name that several refs answer to, naming different commits, is an
        error: git would pick the tag ``origin/main`` over the remote branch, so a tag
        could silently move the base (or head) of the range."""
        args = _ambiguity_args(ref)
        if args is None:
            return
        names = list(args[2:])
        out = self.git(*args)
        commits: dict[str, str] = {}
        for line in out.decode("utf-8", "surrogateescape").splitlines():
            refname, obj, peeled = line.split("\0")
            if refname in names:
                commits[refname] = peeled or obj
        if len(set(commits.values())) > 1:
            raise UsageError(
                f"{which} ref {ref!r} is ambiguous: {' and '.join(sorted(commits))} name "
                f"different commits; pass the full name (e.g. --{which} refs/remotes/{ref})"
            )

    def _require_checked_out_head(self) -> None:
        """``--worktree`` judges the work tree, which grows from the checked-out commit.
        With another ``--head`` the diff would set that commit against an unrelated tree and
        approve commits nobody looked at, so the two must agree."""
        checked_out = self._resolve("HEAD", "head")
        if checked_out != self.head_sha:
            raise UsageError(
                f"--worktree judges the work tree, which is checked out at {checked_out[:12]}, "
                f"but --head {self.head_ref} is {self.head_sha[:12]}: check out {self.head_ref} "
                "first, or drop --head (or --worktree)"
            )

    def _merge_base(self) -> str:
        try:
            return self.git("merge-base", self.base_sha, self.head_sha).decode().strip()
        except EvidenceError:
            if self.git("rev-parse", "--is-shallow-repository").strip() == b"true":
                raise UsageError(
                    f"no merge base between {self.base_ref} and {self.head_ref}: this is a shallow "
                    "clone; fetch full history (actions/checkout with `fetch-depth: 0`, or "
                    "`git fetch --unshallow`)"
                ) from None
            raise UsageError(
                f"{self.base_ref} and {self.head_ref} have no common ancestor; pass the branch "
                "the release is cut from as --base"
            ) from None

    def _range(self) -> list[str]:
        return [self.merge_base] if self.worktree else [self.merge_base, self.head_sha]

    @cached_property
    def changed_files(self) -> list[ChangedFile]:
        """Every file changed in the range (and, with ``worktree``, in the work tree).

        One git process gives the statuses and the patch. ``--text`` because a file git
        would call binary (``*.py -diff`` in the change's ``.gitattributes``, or one NUL
        byte) must still show its added lines: skipping it would switch off diff
        coverage. No external diff drivers or textconv filters (``--no-ext-diff
        --no-textconv``), and attributes come from the base commit where git allows it
        (``GIT_ATTR_SOURCE``, git 2.40+; older git ignores it)."""
        out = self._output("diff")
        raw, patch = split_raw_patch(out)
        lines, binary = parse_patch(patch)
        files = [
            ChangedFile(path, status, old, path in binary, tuple(lines.get(path, ())))
            for status, path, old in _parse_raw(raw)
        ]
        if self.worktree:
            files.extend(self._untracked())
        return sorted(files, key=lambda f: f.path)

    def _untracked(self) -> list[ChangedFile]:
        out = self.git("ls-files", "--others", "--exclude-standard", "-z")
        files = []
        for raw in filter(None, out.split(b"\0")):
            path = raw.decode("utf-8", "surrogateescape")
            file = self.path / path
            if file.is_symlink():
                # As git stores it: one line, the link's target; never what it points at
                # (a link to /dev/zero would never finish reading).
                files.append(ChangedFile(path, "added", added_lines=(1,)))
                continue
            if not file.is_file():
                continue
            data = file.read_bytes()
            if b"\0" in data[:8000]:
                files.append(ChangedFile(path, "added", binary=True))
            else:
                count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
                files.append(ChangedFile(path, "added", added_lines=tuple(range(1, count + 1))))
        return files

    @cached_property
    def files(self) -> frozenset[str]:
        """Every file in the head tree (with ``worktree``: tracked and untracked files of
        the work tree), for mapping report paths to repository paths."""
        out = self._output("files")
        return frozenset(p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p)

    @cached_property
    def tracked_files(self) -> frozenset[str]:
        """Files git tracks at the head (with ``worktree``: also those in the index):
        what the change under review could have written, as opposed to the build."""
        if not self.worktree:
            return self.files
        head = self.git("ls-tree", "-r", "-z", "--name-only", "--full-tree", self.head_sha)
        index = self.git("ls-files", "-z", "--cached")
        names = head.split(b"\0") + index.split(b"\0")
        return frozenset(p.decode("utf-8", "surrogateescape") for p in names if p)

    @property
    def changed_paths(self) -> list[str]:
        return [f.path for f in self.changed_files]

    def read(self, path: str, ref: str | None = None) -> bytes | None:
        """A file's content at ``ref`` (default: the head, or the work tree in worktree mode)."""
        if ref is None and self.worktree:
            file = self.path / path
            return file.read_bytes() if file.is_file() else None
        try:
            return self.git("show", f"{ref or self.head_sha}:{path}")
        except EvidenceError:
            return None

    @cached_property
    def head_tags(self) -> list[str]:
        out = self.git("tag", "--points-at", self.head_sha).decode("utf-8", "replace")
        return sorted(out.split())

    @cached_property
    def commits(self) -> list[Commit]:
        """Commits in merge-base..head, oldest first."""
        out = self.git(
            "log",
            "--reverse",
            "--format=%H%x00%an%x00%ae%x00%B%x1e",
            f"{self.merge_base}..{self.head_sha}",
        ).decode("utf-8", "replace")
        commits = []
        for record in filter(None, (r.strip("\n") for r in out.split("\x1e"))):
            sha, name, email, message = record.split("\0", 3)
            commits.append(Commit(sha, name, email, message.strip()))
        return commits

    def branch_of(self, ref: str) -> str | None:
        """The short branch name a ref names, if it names one (``origin/main`` -> ``main``)."""
        for prefix in ("refs/heads/", "refs/remotes/"):
            full = ref if ref.startswith(prefix) else prefix + ref
            try:
                self.git("show-ref", "--verify", "--quiet", full)
            except EvidenceError:
                continue
            name = full[len(prefix) :]
            return name.split("/", 1)[1] if prefix == "refs/remotes/" and "/" in name else name
        return None

    def current_branch(self) -> str | None:
        try:
            out = self.git("symbolic-ref", "--quiet", "--short", "HEAD")
            return out.decode("utf-8", "surrogateescape").strip() or None
        except EvidenceError:
            return None


def base_from_environment(path: Path, environ: dict[str, str] | None) -> str | None:
    """The base ref of a pull-request run, as a full ref name: ``refs/remotes/origin/<branch>``
    when it exists, else ``refs/heads/<branch>``; ``None`` outside a pull-request run.

    Never a short name: ``origin/main`` is looked up among tags before remote branches,
    so a tag of that name (which a change can bring along) would shadow the base."""
    name = (environ or {}).get("GITHUB_BASE_REF", "").strip()
    if not name:
        return None
    root = toplevel(path)
    for candidate in (f"refs/remotes/origin/{name}", f"refs/heads/{name}"):
        try:
            run_git(root, "show-ref", "--verify", "--quiet", candidate)
            return candidate
        except EvidenceError:
            continue
    raise UsageError(
        f"GITHUB_BASE_REF is {name!r} but neither refs/remotes/origin/{name} nor "
        f"refs/heads/{name} exists here; check out with `fetch-depth: 0` or pass --base REF"
    )
