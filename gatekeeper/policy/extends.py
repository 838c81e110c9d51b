"""Shared organisation policies: ``extends: [path or git URL@ref#path, ...]``.

Rules from the bases come first, in order (a later base's rule replaces an earlier one's with
the same ``id``); ``disable: [id]`` drops a base's rule; a local rule with a base rule's ``id``
replaces that whole rule in place, other local rules follow. ``waivers`` merge by rule and
scope, ``notify.channels`` by name, other settings (``environments``, ``runbook``...) are the
local ones, else the last base's. ``name`` and ``description`` are never inherited.

A base is read the way the policy that names it was read. A relative path in a work-tree
policy is a file next to it; in a policy read from git (the base commit of a pull request, or a
fetched base) it is a file of that same commit, so a pull request that edits a shared local
base still gets the trusted copy. A git base must be pinned to a full commit SHA or a tag: a
branch moves under the gate, so it is refused unless ``allow_unpinned: true``. Git bases are
fetched with the git command (shallow, the job's own credentials) into a cache under
``$XDG_CACHE_HOME/gatekeeper/extends``. Every problem is ``FILE:LINE:COL: message`` at the
``extends`` entry that caused it.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper.errors import PolicyError
from gatekeeper.policy import yamlpos
from gatekeeper.policy.yamlpos import Path as YPath
from gatekeeper.policy.yamlpos import Positions

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:")
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_KEYS_OF_EXTENDS = ("extends", "disable", "allow_unpinned")
_NOT_INHERITED = ("name", "description", *_KEYS_OF_EXTENDS)
_SYMLINK = "120000"


class BaseProblem(Exception):
    """A base that cannot be read: the message for the ``extends`` entry that names it."""


@dataclass(frozen=True)
class Origin:
    """Where a policy text was read: its relative ``extends`` paths are read the same way."""

    path: str
    """A file system path, or a repository path (posix) when ``commit`` is set."""
    repo: Path | None = None
    """The git repository holding ``commit`` (the project's, or a fetched base's cache)."""
    commit: str | None = None
    remote: str | None = None
    """The URL a fetched base came from (for messages and cycle detection)."""

    @classmethod
    def file(cls, path: str | Path) -> Origin:
        return cls(str(path))

    @classmethod
    def git(cls, repo: Path, commit: str, path: str, remote: str | None = None) -> Origin:
        return cls(path, repo, commit, remote)

    @property
    def identity(self) -> str:
        if self.commit is None:
            return os.path.realpath(self.path)
        return f"{self.remote or self.repo}@{self.commit}#{self.path}"

    @property
    def label(self) -> str:
        """The name used in ``FILE:LINE`` messages."""
        if self.commit is None:
            return self.path
        where = f"{self.remote}@" if self.remote else ""
        return f"{where}{self.commit[:12]}:{self.path}"


@dataclass(frozen=True)
class Spec:
    """One ``extends`` entry, parsed."""

    path: str
    url: str | None = None
    ref: str | None = None


def parse_spec(text: str) -> Spec:
    """``URL@REF#PATH`` (a URL with a scheme, or ``user@host:repo``) or a path."""
    if text.startswith("-"):
        raise BaseProblem(f"{text!r}: an extends entry may not start with '-'")
    if not (_URL.match(text) or _SCP.match(text)):
        return Spec(text)
    repo, sep, path = text.rpartition("#")
    if not sep or not path:
        raise BaseProblem(
            f"{text!r}: a git base needs the policy's path after '#' (URL@REF#path/to/policy.yml)"
        )
    url, at, ref = repo.rpartition("@")
    if not at or ":" in ref or not url or url.endswith(("://", ":")):
        raise BaseProblem(
            f"{text!r}: a git base must be pinned: URL@REF#PATH with REF a tag or a full commit SHA"
        )
    return Spec(path, url, ref)


def resolve(
    doc: dict[str, Any],
    positions: Positions,
    origin: Origin,
    stack: tuple[str, ...] = (),
    reads: list[Origin] | None = None,
) -> tuple[dict[str, Any], Positions]:
    """The policy ``doc`` with its bases merged in, and positions for the merged document
    (a base's items point at the ``extends`` entry that brought them). Every base read is
    appended to ``reads``."""
    from gatekeeper.policy.loader import validate_part

    validate_part(doc, positions, origin.label)
    stack = (*stack, origin.identity)
    problems: list[str] = []
    bases: list[tuple[int, dict[str, Any]]] = []
    for i, entry in enumerate(doc.get("extends") or []):
        where = positions.of_value(("extends", i))
        try:
            bases.append((i, _load_base(entry, origin, doc, stack, reads)))
        except BaseProblem as e:
            problems.append(f"{origin.label}:{where[0]}:{where[1]}: {e}")
        except PolicyError as e:
            problems.extend(e.problems)
    if problems:
        raise PolicyError(problems)
    return _merge(doc, positions, bases, origin)


def _load_base(
    entry: str,
    origin: Origin,
    doc: dict[str, Any],
    stack: tuple[str, ...],
    reads: list[Origin] | None,
) -> dict[str, Any]:
    base = _locate(parse_spec(entry), origin, bool(doc.get("allow_unpinned", False)))
    if base.identity in stack:
        raise BaseProblem(f"extends cycle: {' → '.join([*stack, base.identity])}")
    raw = _read(base)
    if reads is not None:
        reads.append(base)
    try:
        text = raw.decode("utf-8")
        bdoc, bpos = yamlpos.parse(text)
    except UnicodeDecodeError:
        raise BaseProblem(f"{base.label}: the base policy is not UTF-8 text") from None
    except yamlpos.YamlProblem as e:
        raise PolicyError([f"{base.label}:{e.line}:{e.col}: {e.message}"]) from None
    if not isinstance(bdoc, dict):
        raise BaseProblem(f"{base.label}: the base policy is not a mapping")
    if "extends" in bdoc:
        merged, _ = resolve(bdoc, bpos, base, stack, reads)
        return merged
    from gatekeeper.policy.loader import validate_document

    validate_document(bdoc, bpos, base.label)
    return bdoc


def _locate(spec: Spec, origin: Origin, allow_unpinned: bool) -> Origin:
    if spec.url is not None and spec.ref is not None:
        repo, sha = fetch(spec.url, spec.ref, allow_unpinned)
        return Origin.git(repo, sha, _repo_path(spec.path, ""), spec.url)
    if origin.commit is None:
        # A work-tree policy: a file next to it (or an absolute path).
        return Origin.file(Path(origin.path).parent / spec.path)
    if spec.path.startswith("/"):
        raise BaseProblem(f"{spec.path}: a base named by a policy read from git must be relative")
    folder = posixpath.dirname(origin.path)
    assert origin.repo is not None
    return Origin.git(origin.repo, origin.commit, _repo_path(spec.path, folder), origin.remote)


def _repo_path(path: str, folder: str) -> str:
    joined = posixpath.normpath(posixpath.join(folder, path))
    if joined.startswith("../") or joined in ("..", ".") or joined.startswith("/"):
        raise BaseProblem(f"{path}: the base path leaves the repository")
    return joined


def _read(base: Origin) -> bytes:
    if base.commit is None:
        try:
            return Path(base.path).read_bytes()
        except FileNotFoundError:
            raise BaseProblem(f"{base.path}: no such base policy file") from None
        except OSError as e:
            raise BaseProblem(f"{base.path}: cannot read the base policy ({e.strerror})") from None
    assert base.repo is not None
    listing = _git(base.repo, "ls-tree", "-z", "--full-tree", base.commit, "--", base.path)
    mode = listing.split(b" ", 1)[0].decode() if listing else ""
    if not listing:
        raise BaseProblem(f"{base.path} does not exist at {base.label.rsplit(':', 1)[0]}")
    if mode == _SYMLINK:
        raise BaseProblem(f"{base.label}: the base policy is a symbolic link; it must be a file")
    return _git(base.repo, "show", f"{base.commit}:{base.path}")


def _git(repo: Path, *args: str) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # never wait for a password in CI
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, env=env, timeout=300, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BaseProblem(f"git {args[0]} failed: {e}") from None
    if done.returncode != 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
        raise BaseProblem(f"git {args[0]} failed: {last}")
    return done.stdout


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "gatekeeper" / "extends"


def fetch(url: str, ref: str, allow_unpinned: bool) -> tuple[Path, str]:
    """The cache repository holding ``url`` at ``ref``, and the commit ``ref`` names."""
    repo = cache_dir() / hashlib.sha256(url.encode()).hexdigest()[:32]
    if not (repo / "HEAD").exists():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q", "--bare")
    if _FULL_SHA.match(ref):
        if not _has_commit(repo, ref):
            _fetch(repo, url, ref, ref)
        return repo, ref
    sha, kind = _remote_ref(repo, url, ref)
    if kind == "branch" and not allow_unpinned:
        raise BaseProblem(
            f"{url}@{ref}: {ref!r} is a branch, which moves under the gate; pin the base to a tag "
            "or a full commit SHA (or set allow_unpinned: true)"
        )
    if not _has_commit(repo, sha):
        _fetch(repo, url, f"refs/{'tags' if kind == 'tag' else 'heads'}/{ref}", sha)
    return repo, sha


def _has_commit(repo: Path, sha: str) -> bool:
    try:
        _git(repo, "cat-file", "-e", f"{sha}^{{commit}}")
    except BaseProblem:
        return False
    return True


def _remote_ref(repo: Path, url: str, ref: str) -> tuple[str, str]:
    try:
        out = _git(repo, "ls-remote", url, f"refs/tags/{ref}", f"refs/heads/{ref}").decode()
    except BaseProblem as e:
        raise BaseProblem(f"{url}: cannot reach the repository ({e})") from None
    refs: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        refs[name] = sha
    tag = refs.get(f"refs/tags/{ref}^{{}}") or refs.get(f"refs/tags/{ref}")
    if tag:
        return tag, "tag"
    if f"refs/heads/{ref}" in refs:
        return refs[f"refs/heads/{ref}"], "branch"
    raise BaseProblem(f"{url}@{ref}: no tag or branch {ref!r} in the repository")


def _fetch(repo: Path, url: str, want: str, sha: str) -> None:
    try:
        _git(repo, "fetch", "-q", "--depth", "1", "--no-tags", url, want)
    except BaseProblem:
        try:  # a server that refuses a bare SHA: fetch its refs, then look again
            _git(repo, "fetch", "-q", "--no-tags", url, "+refs/heads/*:refs/gk/heads/*",
                 "+refs/tags/*:refs/gk/tags/*")
        except BaseProblem as e:
            raise BaseProblem(f"{url}: cannot fetch {want} ({e})") from None
    if not _has_commit(repo, sha):
        raise BaseProblem(f"{url}: commit {sha} is not reachable in the repository")


def _merge(
    doc: dict[str, Any], positions: Positions, bases: list[tuple[int, dict[str, Any]]],
    origin: Origin,
) -> tuple[dict[str, Any], Positions]:
    """Bases first, then the local document; positions remapped to the merged document."""
    out = Positions()
    out.values[()] = (1, 1)
    rules: dict[str, tuple[dict[str, Any], Any]] = {}  # id → (rule, where it came from)
    merged: dict[str, Any] = {}
    waivers: dict[str, tuple[Any, Any]] = {}
    channels: dict[str, tuple[Any, Any]] = {}
    problems: list[str] = []
    for i, bdoc in bases:
        where = positions.of_value(("extends", i))
        for rule in bdoc.get("rules") or []:
            rules[rule["id"]] = (rule, where)
        if isinstance(bdoc.get("waivers"), str):
            problems.append(_at(origin, where, "a base policy's waivers must be written inline "
                                "(a waivers file is read next to the policy that applies)"))
        for w in bdoc.get("waivers") or [] if isinstance(bdoc.get("waivers"), list) else []:
            waivers[_waiver_key(w)] = (w, where)
        for name, channel in ((bdoc.get("notify") or {}).get("channels") or {}).items():
            channels[name] = (channel, where)
        merged.update({k: v for k, v in bdoc.items() if k not in _NOT_INHERITED})
    for j, rid in enumerate(doc.get("disable") or []):
        if rules.pop(rid, None) is None:
            where = positions.of_value(("disable", j))
            problems.append(_at(origin, where, f"disable: no base defines a rule {rid!r}"))
    for i, rule in enumerate(doc.get("rules") or []):
        if isinstance(rule, dict) and isinstance(rule.get("id"), str):
            rules[rule["id"]] = (rule, ("rules", i))
    local_waivers = doc.get("waivers")
    if isinstance(local_waivers, list):
        for i, w in enumerate(local_waivers):
            waivers[_waiver_key(w)] = (w, ("waivers", i))
    for name, channel in ((doc.get("notify") or {}).get("channels") or {}).items():
        channels[name] = (channel, ("notify", "channels", name))
    if problems:
        raise PolicyError(problems)
    merged.update({k: v for k, v in doc.items() if k not in _KEYS_OF_EXTENDS})
    merged["rules"] = _place(out, positions, "rules", list(rules.values()))
    if isinstance(local_waivers, str):
        if waivers:
            where = positions.of_value(("waivers",))
            raise PolicyError([_at(origin, where, "waivers: the bases have inline waivers; "
                                    "write this policy's waivers inline too")])
    elif waivers:
        merged["waivers"] = _place(out, positions, "waivers", list(waivers.values()))
    if channels:
        merged["notify"] = {**(merged.get("notify") or {}), "channels": {}}
        for name, (channel, src) in channels.items():
            merged["notify"]["channels"][name] = channel
            _copy(out, positions, src, ("notify", "channels", name))
    for key in merged:
        if key not in ("rules", "waivers", "notify"):
            _copy(out, positions, (key,) if key in doc else positions.of_value(("extends",)), (key,))
    return merged, out


def _place(
    out: Positions, positions: Positions, key: str, items: list[tuple[Any, Any]]
) -> list[Any]:
    for j, (_, src) in enumerate(items):
        _copy(out, positions, src, (key, j))
    return [item for item, _ in items]


def _copy(out: Positions, positions: Positions, src: Any, dst: YPath) -> None:
    """Positions of ``src`` (a path in the local document, or a base's (line, col)) at ``dst``."""
    if isinstance(src, tuple) and src and isinstance(src[0], int) and len(src) == 2 \
            and isinstance(src[1], int):
        out.values[dst] = src  # from a base: the extends entry
        return
    n = len(src)
    for table, target in ((positions.values, out.values), (positions.keys, out.keys)):
        for path, where in table.items():
            if path[:n] == src:
                target[(*dst, *path[n:])] = where
    for path, raw in positions.unquoted.items():
        if path[:n] == src:
            out.unquoted[(*dst, *path[n:])] = raw


def _waiver_key(waiver: Any) -> str:
    if not isinstance(waiver, dict):
        return json.dumps(waiver, sort_keys=True, default=str)
    return json.dumps([waiver.get("rule"), waiver.get("scope")], sort_keys=True, default=str)


def _at(origin: Origin, where: tuple[int, int], message: str) -> str:
    return f"{origin.label}:{where[0]}:{where[1]}: {message}"
