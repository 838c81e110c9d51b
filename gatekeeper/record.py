"""Decision records: what a `gatekeeper check` decided, on exactly which inputs.

A record holds the report (rule results and decision), the evaluation time, the policy's
digest and where it was read from, and a SHA-256 digest of every input the run read:

- files read from disk (coverage and JUnit reports, a work-tree policy or waivers file...),
  seen through Python's audit hook on ``open`` while the run is captured, so no evidence
  provider has to remember to report what it read;
- files read from git (``git show COMMIT:PATH``: registries, changelogs, a base policy...),
  seen through the audit hook on ``subprocess.Popen``;
- GitHub API responses (canonical JSON: sorted keys), from the run's GitHub client.

Digests are taken right after the run from the same sources. ``verify`` recomputes what can
be recomputed offline (the policy at its commit, each file, each git blob, the decision from
the recorded results) and says, part by part, what matches.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import UsageError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence
    from gatekeeper.report import Report

RECORD_TYPE = "gatekeeper/decision-record"
NOTES_REF = "refs/notes/gatekeeper-decisions"
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND


@dataclass
class _Sink:
    files: dict[str, None] = field(default_factory=dict)
    blobs: dict[tuple[str, str, str], None] = field(default_factory=dict)
    """(repository folder, commit, path) of each ``git show COMMIT:PATH``."""


_sink: _Sink | None = None
_lock = threading.Lock()
_installed = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    sink = _sink
    if sink is None:
        return
    try:  # an audit hook must never break the operation it watches
        if event == "open":
            _opened(sink, *args[:3])
        elif event == "subprocess.Popen":
            _spawned(sink, args[1], args[2])
    except Exception:  # pragma: no cover - defensive
        pass


def _opened(sink: _Sink, path: Any, mode: Any, flags: Any) -> None:
    if not isinstance(path, str | bytes | os.PathLike):
        return
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return
    if mode is None and isinstance(flags, int) and flags & _WRITE:
        return
    sink.files[os.path.abspath(os.fsdecode(path))] = None


def _spawned(sink: _Sink, argv: Any, cwd: Any) -> None:
    if not isinstance(argv, list | tuple) or "show" not in argv:
        return
    args = [os.fsdecode(a) for a in argv]
    if not os.path.basename(args[0]).startswith("git"):
        return
    after = args[args.index("show") + 1 :]
    spec = next((a for a in after if not a.startswith("-")), "")
    commit, sep, path = spec.partition(":")
    if sep and len(commit) >= 40 and path:
        sink.blobs[(os.fsdecode(cwd or os.getcwd()), commit, path)] = None


@contextmanager
def capture() -> Iterator[_Sink]:
    """Note every file opened for reading and every ``git show`` while the block runs."""
    global _sink, _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True
        sink = _Sink()
        _sink = sink
    try:
        yield sink
    finally:
        _sink = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _skipped(path: str, repo: Path) -> bool:
    """Interpreter, library, system and git-internal files are not evidence."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).parent)}
    if any(path.startswith(p.rstrip("/") + "/") for p in prefixes if p):
        return True
    if path.startswith(("/usr/", "/etc/", "/proc/", "/sys/", "/dev/", "/lib", "/opt/")):
        return True
    if "/.git/" in path or os.path.basename(path).startswith(".git"):
        return True
    return path.endswith((".py", ".pyc", ".so")) and not path.startswith(str(repo) + "/")


def _git_blob(repo: str, commit: str, path: str) -> bytes | None:
    done = subprocess.run(
        ["git", "-C", repo, "show", f"{commit}:{path}"], capture_output=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def _file_inputs(sink: _Sink, repo: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(sink.files):
        if _skipped(path, repo) or not os.path.isfile(path):
            continue
        data = Path(path).read_bytes()
        out.append({"kind": "file", "path": path, "sha256": _sha256(data), "bytes": len(data)})
    return out


def _git_inputs(sink: _Sink) -> list[dict[str, Any]]:
    out = []
    for repo, commit, path in sorted(sink.blobs):
        data = _git_blob(repo, commit, path)
        out.append(
            {
                "kind": "git",
                "repo": repo,
                "commit": commit,
                "path": path,
                "sha256": _sha256(data) if data is not None else None,
                "bytes": len(data) if data is not None else None,
            }
        )
    return out


def _github_inputs(ev: Evidence) -> list[dict[str, Any]]:
    client = ev.peek(("github", "client"))
    memo = getattr(client, "_memo", None)
    if memo is None:
        return []
    out = []
    for key, value in memo.items():
        body = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
        out.append({"kind": "github", "request": str(key), "sha256": _sha256(body)})
    return out


def build(report: Report, ev: Evidence, sink: _Sink, now: datetime) -> dict[str, Any]:
    """The decision record of a finished run."""
    data = report.to_dict()
    policy = data["policy"]
    origin = policy.get("origin") or "worktree"
    return {
        "type": RECORD_TYPE,
        "record_version": 1,
        "gatekeeper_version": data["gatekeeper_version"],
        "generated_at": data["generated_at"],
        "now": now.isoformat(),
        "decision": data["decision"],
        "strict": report.strict,
        "allow_all_skipped": bool(getattr(report, "allow_all_skipped", False)),
        "policy": {
            "sha256": policy["sha256"],
            "origin": origin,
            "source": policy["source"],
            "path": str(Path(report.policy_path).resolve()),
            "commit": report.base if origin == "base" else None,
        },
        "repo": {**data["repo"], "worktree": ev.ctx.worktree},
        "inputs": _file_inputs(sink, ev.repo_path) + _git_inputs(sink) + _github_inputs(ev),
        "report": data,
    }


def write_note(repo: Path, head: str, record: dict[str, Any]) -> None:
    from gatekeeper.evidence import notes

    notes.append(repo, head, record, ref=NOTES_REF)


# --- verify ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    what: str
    state: str
    """``match``, ``changed``, ``missing`` or ``unchecked`` (needs the network)."""
    detail: str = ""


def _policy_part(record: dict[str, Any]) -> Part:
    policy = record["policy"]
    if policy["origin"] == "base" and policy.get("commit"):
        rel = str(policy["source"]).split(":", 1)[-1]
        data = _git_blob(record["repo"]["path"], policy["commit"], rel)
        where = f"{policy['commit'][:12]}:{rel}"
    else:
        path = Path(policy["path"])
        data = path.read_bytes() if path.is_file() else None
        where = str(path)
    if data is None:
        return Part(f"policy {where}", "missing")
    same = _sha256(data) == policy["sha256"]
    return Part(f"policy {where}", "match" if same else "changed")


def _input_part(item: dict[str, Any]) -> Part:
    if item["kind"] == "github":
        return Part(
            f"GitHub {item['request']}", "unchecked", "a response cannot be fetched again offline"
        )
    if item["kind"] == "git":
        data = _git_blob(item["repo"], item["commit"], item["path"])
        what = f"{item['commit'][:12]}:{item['path']}"
    else:
        path = Path(item["path"])
        data = path.read_bytes() if path.is_file() else None
        what = item["path"]
    digest = _sha256(data) if data is not None else None
    if digest == item["sha256"]:
        return Part(what, "match")
    return Part(what, "missing" if data is None else "changed")


def _decision_part(record: dict[str, Any]) -> Part:
    from gatekeeper.model import RuleResult, Severity, Status, decide

    results = [
        RuleResult(r["id"], r["check"], Severity(r["severity"]), Status(r["status"]), r["summary"])
        for r in record["report"]["rules"]
    ]
    again = decide(results, record["strict"], record["allow_all_skipped"]).value
    state = "match" if again == record["decision"] == record["report"]["decision"] else "changed"
    return Part(
        f"decision {record['decision']} from the recorded results", state, f"recomputed: {again}"
    )


def load(path: Path) -> dict[str, Any]:
    import jsonschema

    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: not a readable decision record ({e})") from None
    try:
        jsonschema.Draft202012Validator(record_schema()).validate(record)
    except jsonschema.ValidationError as e:
        raise UsageError(f"{path}: not a valid decision record: {e.message}") from None
    return dict(record)


def verify(record: dict[str, Any]) -> list[Part]:
    return [
        _policy_part(record),
        *(_input_part(item) for item in record["inputs"]),
        _decision_part(record),
    ]


@cache
def record_schema() -> dict[str, Any]:
    text = resources.files("gatekeeper.report").joinpath("record.schema.json").read_text("utf-8")
    return dict(json.loads(text))
