"""People behind commit identities: ``.mailmap`` as git itself applies it.

A ``Reviewed-by:`` trailer must not come from the commit's own author under another
spelling or address; ``git check-mailmap`` maps each contact to its canonical
``Name <email>``, so the comparison sees what ``git shortlog`` sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

Contact = tuple[str, str]
"""(name, email) as written; either may be empty."""


def _mappable(contact: Contact) -> bool:
    # check-mailmap needs "Name <email>"; text that could not be one is compared as written.
    name, email = contact
    text = name + email
    return bool(email) and not any(c in text for c in "<>\n\r\0")


def _parse(line: str) -> Contact:
    name, _, rest = line.rpartition(" <")
    if not rest.endswith(">"):
        return ("", "")
    return (name.strip(), rest[:-1].strip())


def canonical(ev: Evidence, contacts: Iterable[Contact]) -> dict[Contact, Contact]:
    """Each contact's canonical identity under the repository's ``.mailmap`` (itself when
    unmapped). One git process for all of them."""
    wanted = sorted({c for c in contacts if _mappable(c)})
    return ev.cached(("mailmap", tuple(wanted)), lambda: _check_mailmap(ev, wanted))


def _check_mailmap(ev: Evidence, wanted: list[Contact]) -> dict[Contact, Contact]:
    import subprocess

    from git.cmd import Git

    from gatekeeper.errors import EvidenceError

    if not wanted:
        return {}
    # On standard input, one per line: a hostile trailer can be longer than an argument may
    # be, and cannot be read as an option there.
    text = "".join(f"{n} <{e}>\n" for n, e in wanted)
    done = subprocess.run(
        [Git.GIT_PYTHON_GIT_EXECUTABLE or "git", "check-mailmap", "--stdin"],
        cwd=ev.git.path,
        input=text.encode("utf-8", "surrogateescape"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise EvidenceError(f"git check-mailmap failed: {stderr or done.returncode}")
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return {contact: _parse(line) for contact, line in zip(wanted, lines, strict=True)}
