""" "Did you mean ...?" for names a user typed: environments, checks, options, commands."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> list[str]:
    """The choices a typo of ``word`` most likely meant, best first (at most three).

    A prefix counts (``prod`` for ``production``): difflib's ratio alone rates short
    abbreviations of long names too low to suggest them.
    """
    options = sorted(set(choices))
    lowered = word.lower()
    prefixed = [c for c in options if lowered and c.lower().startswith(lowered)]
    similar = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    return list(dict.fromkeys([*prefixed, *similar]))[:3]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)``, or an empty string when nothing is close."""
    found = closest(word, choices)
    if not found:
        return ""
    return f" (did you mean {' or '.join(repr(c) for c in found)}?)"
