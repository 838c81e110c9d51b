"""Report files named by a rule (paths or globs): found without trusting the change.

The build writes reports into the checkout of the change under review, so what a path
or glob finds there is partly the change's doing. Three rules keep it evidence:

- a glob never follows a symbolic link to a folder (``**`` over a link to ``.`` would
  loop until the job times out), and matches the way policy globs do (``**`` crosses
  folders, ``*`` does not);
- a report inside the repository that is, or resolves through, a link to a file outside
  it is refused, naming the path only (``/proc/self/environ`` is never read, let alone
  echoed);
- a report file that git tracks at the head (committed, or changed by the change) is
  refused unless the rule sets ``allow_committed_reports: true``: a report must be
  produced by the build, not brought along by the change it judges.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.errors import EvidenceError
from gatekeeper.globs import compile_glob

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

GLOB_CHARS = re.compile(r"[*?\[]")


def produce(what: str) -> str:
    return (
        f"produce the {what} before this step (run the tests that write it, or download it "
        "from the job that did), or fix the path in the policy"
    )


def display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def resolve(
    ev: Evidence, patterns: Iterable[str], what: str, *, allow_committed: bool = False
) -> list[Path]:
    """Report files named by paths or globs (relative to the repository root)."""
    out: list[Path] = []
    for pattern in patterns:
        if GLOB_CHARS.search(pattern):
            found = sorted(walk_glob(ev.repo_path, pattern))
            if not found:
                raise EvidenceError(
                    f"no {what} matches {pattern!r} (in {ev.repo_path})", produce(what)
                )
            out.extend(found)
        else:
            path = ev.resolve_path(pattern)
            if not path.exists():
                raise EvidenceError(
                    f"{display(ev.repo_path, path)}: {what} not found", produce(what)
                )
            out.append(path)
    paths = list(dict.fromkeys(out))
    for path in paths:
        _check(ev, path, what, allow_committed)
    return paths


def _static_prefix(parts: list[str]) -> int:
    """How many leading parts of a glob have no wildcard."""
    for i, part in enumerate(parts):
        if GLOB_CHARS.search(part):
            return i
    return len(parts)


def walk_glob(root: Path, pattern: str) -> Iterator[Path]:
    """Files matching ``pattern`` (relative to ``root`` unless absolute), never descending
    into a symbolically linked folder (a link to a file is listed, and checked later)."""
    full = pattern if os.path.isabs(pattern) else f"{root.as_posix()}/{pattern}"
    parts = full.replace(os.sep, "/").split("/")
    fixed = _static_prefix(parts)
    top = "/".join(parts[:fixed]) or "/"
    regex = compile_glob("/".join(parts[fixed:]))
    if not os.path.isdir(top):
        return
    for folder, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = [d for d in dirs if d != ".git"]  # os.walk lists links here; never enters them
        rel_folder = os.path.relpath(folder, top)
        for name in files:
            rel = name if rel_folder == "." else f"{rel_folder}/{name}"
            if regex.match(rel.replace(os.sep, "/")):
                yield Path(folder) / name


def _inside(root: Path, path: str) -> str | None:
    """``path`` relative to the repository root, if it lies inside it."""
    for base in dict.fromkeys([os.path.abspath(root), os.path.realpath(root)]):
        rel = os.path.relpath(path, base)
        if rel != ".." and not rel.startswith("../") and not os.path.isabs(rel):
            return rel.replace(os.sep, "/")
    return None


def _check(ev: Evidence, path: Path, what: str, allow_committed: bool) -> None:
    root = ev.repo_path
    lexical = _inside(root, os.path.abspath(path))
    if lexical is None:
        return  # a path the policy chose outside the repository (e.g. $RUNNER_TEMP)
    real = _inside(root, os.path.realpath(path))
    if real is None:
        raise EvidenceError(
            f"{lexical}: the {what} is a symbolic link to a file outside the repository; "
            "it was not read",
            "write the report as a regular file in the build",
        )
    if allow_committed:
        return
    tracked = ev.git.tracked_files
    for rel in dict.fromkeys([lexical, real]):
        if rel in tracked:
            raise EvidenceError(
                f"{lexical}: the {what} is committed in the repository (tracked at "
                f"{ev.git.head_sha[:12]}), so the change under review could have written it; "
                "a report must be produced by the build",
                "generate the report in the build and stop committing it (or set "
                "`allow_committed_reports: true` on the rule if it is meant to be committed)",
            )
