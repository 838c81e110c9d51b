"""Git notes: small JSON records attached to commits, under Gatekeeper's own notes refs.

``refs/notes/gatekeeper`` holds notification receipts (one JSON object per line of a
commit's note), written by ``gatekeeper notify`` and read by ``stakeholder-notified``.
Notes need no extra storage and travel with the repository, but not by default:
``git push origin refs/notes/gatekeeper`` publishes them and
``git fetch origin refs/notes/gatekeeper:refs/notes/gatekeeper`` brings them into a CI
checkout. A pull request cannot push a notes ref; anyone with write access to the
repository can, so a receipt is evidence that a notice was recorded, not a signature.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import EvidenceError, GatekeeperError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

NOTIFY_REF = "refs/notes/gatekeeper"
RECEIPT_TYPE = "gatekeeper/notification"
MAX_NOTES = 5000
"""Notes read when looking for a version's receipts on other commits."""


class NotesError(GatekeeperError):
    """A git notes command failed."""


def _git(
    repo: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env=dict(env) if env is not None else None,
        check=False,
    )


def read(repo: Path, commit: str, ref: str = NOTIFY_REF) -> str | None:
    """The note on ``commit`` under ``ref``, or ``None``."""
    done = _git(repo, "notes", f"--ref={ref}", "show", commit)
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def _identity_env(repo: Path) -> dict[str, str]:
    """A notes commit needs a committer; CI checkouts often have none configured."""
    env = dict(os.environ)
    if _git(repo, "config", "user.email").returncode != 0:
        env.setdefault("GIT_AUTHOR_NAME", "gatekeeper")
        env.setdefault("GIT_AUTHOR_EMAIL", "gatekeeper@localhost")
        env.setdefault("GIT_COMMITTER_NAME", "gatekeeper")
        env.setdefault("GIT_COMMITTER_EMAIL", "gatekeeper@localhost")
    return env


def append(repo: Path, commit: str, record: dict[str, Any], ref: str = NOTIFY_REF) -> None:
    """Add ``record`` as one JSON line to ``commit``'s note under ``ref``."""
    old = read(repo, commit, ref) or ""
    text = old if not old or old.endswith("\n") else old + "\n"
    text += json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".note", delete=False) as f:
        f.write(text)
    try:
        done = _git(
            repo, "notes", f"--ref={ref}", "add", "-f", "-F", f.name, commit,
            env=_identity_env(repo),
        )  # fmt: skip
    finally:
        Path(f.name).unlink(missing_ok=True)
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise NotesError(f"could not write the git note on {commit[:12]} under {ref}: {stderr}")


def records(text: str | None, kind: str) -> list[dict[str, Any]]:
    """The JSON records of ``kind`` in a note; other lines (hand-written text) are skipped."""
    out = []
    for line in (text or "").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("type") == kind:
            out.append(record)
    return out


def all_notes(repo: Path, ref: str = NOTIFY_REF) -> dict[str, str]:
    """Every note under ``ref`` by annotated commit (at most ``MAX_NOTES``)."""
    listed = _git(repo, "notes", f"--ref={ref}", "list")
    if listed.returncode != 0:
        return {}
    pairs = [line.split() for line in listed.stdout.decode().splitlines() if line.strip()]
    pairs = [p for p in pairs if len(p) == 2][:MAX_NOTES]
    if not pairs:
        return {}
    batch = _git(repo, "cat-file", "--batch", stdin="".join(f"{b}\n" for b, _ in pairs).encode())
    if batch.returncode != 0:
        raise EvidenceError(f"git cat-file failed reading {ref}")
    out: dict[str, str] = {}
    data, pos = batch.stdout, 0
    for _, commit in pairs:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        size = int(header[2]) if len(header) == 3 else 0
        out[commit] = data[end + 1 : end + 1 + size].decode("utf-8", "replace")
        pos = end + 1 + size + 1
    return out


def receipts(ev: Evidence, version: str | None) -> list[dict[str, Any]]:
    """Notification receipts for the head commit, and for ``version`` on any commit."""

    def collect() -> list[dict[str, Any]]:
        repo, head = ev.git.path, ev.git.head_sha
        found = [dict(r, commit=head) for r in records(read(repo, head), RECEIPT_TYPE)]
        if version:
            for commit, text in all_notes(repo).items():
                if commit != head:
                    found += [
                        dict(r, commit=commit)
                        for r in records(text, RECEIPT_TYPE)
                        if r.get("version") == version
                    ]
        return found

    return ev.cached(("notes.receipts", version), collect)
