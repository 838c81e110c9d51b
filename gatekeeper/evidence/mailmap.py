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
    if not wanted:
        return {}
    # "--" keeps a name starting with "-" (from a hostile trailer) from reading as an option.
    out = ev.git.git("check-mailmap", "--", *(f"{n} <{e}>" for n, e in wanted))
    lines = out.decode("utf-8", "replace").splitlines()
    return {contact: _parse(line) for contact, line in zip(wanted, lines, strict=True)}
