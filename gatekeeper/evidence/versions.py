"""Release versions: where a project writes its version, and what a version string means.

Version files are read from the head and from the merge base (``git show``): the
pull request wrote them, so they are parsed strictly. TOML through ``tomllib``, JSON
refusing duplicate keys, Python through ``ast`` (a literal ``__version__ = "..."``,
assigned exactly once, never by running or pattern-matching the code). SemVer follows the
semver.org 2.0.0 grammar; PEP 440 versions are parsed by ``packaging`` and must be written
in their normalized form.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import EvidenceError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

DETECT = ("pyproject.toml", "package.json", "Cargo.toml")
"""Files looked for at the repository root when the rule names none."""

# semver.org 2.0.0, from its BNF: numeric identifiers without leading zeros, non-empty
# dot-separated identifiers of [0-9A-Za-z-], ASCII only (Python's \d would take any digit).
_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = rf"(?:{_NUM}|[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
_SEMVER = re.compile(
    rf"({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)
_TAG_PREFIX = re.compile(r"^v(?=[0-9])")


class VersionError(ValueError):
    """A version string that is not valid in its scheme."""


@dataclass(frozen=True)
class Version:
    """A parsed version; ``key`` orders versions of the same scheme."""

    text: str
    scheme: str
    """``semver`` or ``pep440``."""
    release: tuple[int, int, int]
    prerelease: bool
    key: Any
    epoch: int = 0

    def __str__(self) -> str:
        return self.text


def parse_semver(text: str) -> Version:
    m = _SEMVER.fullmatch(text)
    if m is None:
        raise VersionError(
            f"{text!r} is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH[-pre][+build])"
        )
    major, minor, patch = (int(m.group(i)) for i in (1, 2, 3))
    pre = m.group(4)
    # Precedence (semver.org item 11): a pre-release sorts before its release; numeric
    # identifiers numerically and below alphanumeric ones; more identifiers sort higher.
    pre_key: tuple[Any, ...] = (1,)
    if pre is not None:
        ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
        pre_key = (0, ids)
    return Version(
        text, "semver", (major, minor, patch), pre is not None, (major, minor, patch, pre_key)
    )


def parse_pep440(text: str) -> Version:
    from packaging.version import InvalidVersion
    from packaging.version import Version as Pep440  # lazily: `gatekeeper --help` stays fast

    try:
        v = Pep440(text)
    except InvalidVersion:
        raise VersionError(f"{text!r} is not a PEP 440 version") from None
    if str(v) != text:
        raise VersionError(f"{text!r} is not in normalized PEP 440 form; write {str(v)!r}")
    release = (*v.release, 0, 0)[:3]
    return Version(
        text, "pep440", (release[0], release[1], release[2]), v.is_prerelease, v, v.epoch
    )


def parse(text: str, scheme: str) -> Version:
    return parse_pep440(text) if scheme == "pep440" else parse_semver(text)


def scheme_of(path: str) -> str:
    """The versioning scheme of a file's ecosystem: PEP 440 for Python, else SemVer."""
    name = path.rsplit("/", 1)[-1]
    return "pep440" if name == "pyproject.toml" or name.endswith(".py") else "semver"


# -- version files ------------------------------------------------------------------


class NoVersion(EvidenceError):
    """The file exists but does not state a version (e.g. a dynamic pyproject version)."""


@dataclass(frozen=True)
class Found:
    path: str
    text: str
    """The version exactly as written."""
    source: str = ""
    """Where in the file: ``[project].version``, ``__version__``, ..."""


def read_version(ev: Evidence, path: str, base: bool = False) -> Found | None:
    """The version ``path`` states at the head (or at the merge base); None when the file
    does not exist there. A file that does not parse raises ``EvidenceError``."""

    def read() -> Found | None:
        git = ev.git
        data = git.read(path, git.merge_base) if base else git.read(path)
        if data is None:
            return None
        where = f"{path} at {'the merge base' if base else 'the head'}"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise EvidenceError(f"{where}: not UTF-8 text") from None
        return Found(path, *version_in(path, text, where))

    return ev.cached(("versions", path, base), read)


def version_in(path: str, text: str, where: str | None = None) -> tuple[str, str]:
    """(version, where in the file) of a version file's text, by its name."""
    where = where or path
    name = path.rsplit("/", 1)[-1]
    if name == "pyproject.toml":
        return _pyproject(text, where)
    if name == "Cargo.toml":
        return _cargo(text, where)
    if name == "package.json":
        return _package_json(text, where)
    if name.endswith(".py"):
        return _python(text, where)
    raise EvidenceError(
        f"{where}: not a known version file (pyproject.toml, package.json, Cargo.toml, *.py)",
        "name a supported file in the rule's `files`, or use `tag: true`",
    )


def _toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise EvidenceError(f"{where}: TOML syntax error: {e}") from None


def _string(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise NoVersion(f"{where}: {key} is not a string", "write the version as a string")
    return value


def _pyproject(text: str, where: str) -> tuple[str, str]:
    project = _toml(text, where).get("project")
    if not isinstance(project, dict):
        raise NoVersion(f"{where}: no [project] table")
    if "version" in project:
        return _string(project["version"], where, "[project].version"), "[project].version"
    dynamic = project.get("dynamic")
    if isinstance(dynamic, list) and "version" in dynamic:
        raise NoVersion(
            f"{where}: the version is dynamic (computed at build time)",
            "name the file that holds it in the rule's `files` (e.g. src/pkg/__init__.py)",
        )
    raise NoVersion(f"{where}: [project] has no version")


def _cargo(text: str, where: str) -> tuple[str, str]:
    data = _toml(text, where)
    package = data.get("package")
    version: Any = package.get("version") if isinstance(package, dict) else None
    if (isinstance(version, dict) and version.get("workspace") is True) or version is None:
        workspace = data.get("workspace")
        shared = workspace.get("package") if isinstance(workspace, dict) else None
        if isinstance(shared, dict) and "version" in shared:
            return _string(shared["version"], where, "[workspace.package].version"), (
                "[workspace.package].version"
            )
        raise NoVersion(f"{where}: no [package].version (or [workspace.package].version)")
    return _string(version, where, "[package].version"), "[package].version"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(f"duplicate key {key!r}")
    return dict(pairs)


def _package_json(text: str, where: str) -> tuple[str, str]:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as e:
        raise EvidenceError(f"{where}: invalid JSON: {e}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise NoVersion(f'{where}: no "version"')
    return _string(data["version"], where, '"version"'), '"version"'


def _python(text: str, where: str) -> tuple[str, str]:
    """The one module-level ``__version__ = "..."``. Any other binding of the name (a
    second assignment, a computed value, an import) makes the file's version unknowable
    without running it, so it is refused rather than guessed."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as e:
        raise EvidenceError(f"{where}: Python syntax error: {e}") from None
    bindings = [node for node in ast.walk(tree) if _binds_version(node)]
    literal = [value for node in tree.body if (value := _literal_assignment(node)) is not None]
    if not bindings:
        raise NoVersion(f'{where}: no __version__ = "..."')
    if len(bindings) > 1 or len(literal) != 1:
        lines = ", ".join(str(getattr(n, "lineno", "?")) for n in bindings)
        raise EvidenceError(
            f"{where}: __version__ must be assigned once, as a string literal at module level "
            f"(bound at line {lines})",
            'write exactly one `__version__ = "X.Y.Z"` in the file',
        )
    return literal[0], "__version__"


def _literal_assignment(node: ast.stmt) -> str | None:
    """The string of ``__version__ = "..."`` or ``__version__: str = "..."``, nothing fancier."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target: ast.expr = node.targets[0]
    elif isinstance(node, ast.AnnAssign):
        target = node.target
    else:
        return None
    value = node.value
    if (
        isinstance(target, ast.Name)
        and target.id == "__version__"
        and isinstance(value, ast.Constant)
        and isinstance(value.value, str)
    ):
        return value.value
    return None


def _binds_version(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "__version__" and isinstance(node.ctx, ast.Store | ast.Del)
    if isinstance(node, ast.alias):
        return (node.asname or node.name) == "__version__"
    if isinstance(node, ast.Global | ast.Nonlocal):
        return "__version__" in node.names
    return False


def detect(ev: Evidence) -> list[str]:
    """The root's version files at the head or at the merge base. A pyproject.toml whose
    version is dynamic is replaced by the Python file it names (setuptools ``attr`` or
    hatch ``path``), as the merge base's pyproject.toml names it when there is one: the
    change under review must not choose which file its version is read from."""
    git = ev.git
    found = []
    for name in DETECT:
        head, base = git.read(name), git.read(name, git.merge_base)
        if head is None and base is None:
            continue
        if name == "pyproject.toml":
            name = _dynamic_file(ev, base if base is not None else head) or name
        found.append(name)
    return found


def dynamic_candidates(text: str) -> list[str]:
    """Files that may hold a dynamic pyproject version: setuptools
    ``[tool.setuptools.dynamic] version = {attr = "pkg.__version__"}`` (flat or src layout)
    or hatch ``[tool.hatch.version] path``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    project = data.get("project")
    if not isinstance(project, dict) or "version" in project:
        return []
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    attr = _dig(tool, "setuptools", "dynamic", "version", "attr")
    if isinstance(attr, str) and attr.endswith(".__version__"):
        module = attr.removesuffix(".__version__").replace(".", "/")
        return [f"{prefix}{module}{suffix}" for prefix in ("", "src/")
                for suffix in ("/__init__.py", ".py")]
    path = _dig(tool, "hatch", "version", "path")
    return [path] if isinstance(path, str) and path.endswith(".py") else []


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _dynamic_file(ev: Evidence, pyproject: bytes | None) -> str | None:
    if pyproject is None:
        return None
    git = ev.git
    for path in dynamic_candidates(pyproject.decode("utf-8", "replace")):
        if git.read(path) is not None or git.read(path, git.merge_base) is not None:
            return path
    return None


# -- version tags -------------------------------------------------------------------


def tag_version(tag: str, scheme: str) -> Version | None:
    """The version a tag like ``v1.2.3`` names, or None for any other tag."""
    try:
        return parse(_TAG_PREFIX.sub("", tag), scheme)
    except VersionError:
        return None


def head_tags(ev: Evidence) -> list[str]:
    return ev.git.head_tags


def base_tags(ev: Evidence) -> list[str]:
    """Tags on the merge base or any commit before it."""

    def read() -> list[str]:
        out = ev.git.git("tag", "--merged", ev.git.merge_base)
        return sorted(out.decode("utf-8", "replace").split())

    return ev.cached(("versions", "base-tags"), read)
