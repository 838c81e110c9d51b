"""Glob patterns on repository paths, where ``**`` crosses folders and ``*`` does not.

The standard library gains this only in Python 3.13 (``glob.translate``); until the
floor moves there, this small translator is the one place that does it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Compile a glob on '/'-separated paths into an anchored regular expression."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            # As fnmatch: a ']' right after '[' or '[!' belongs to the set.
            start = i + 1
            start += pattern.startswith("!", start)
            start += pattern.startswith("]", start)
            end = pattern.find("]", start)
            if end == -1:
                out.append(re.escape(c))
                i += 1
                continue
            # Sets ('[a-z]', '[!x]', odd ranges) mean exactly what fnmatch says they mean.
            out.append(fnmatch.translate(pattern[i : end + 1])[len("(?s:") : -len(r")\Z")])
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def match(path: str, pattern: str) -> bool:
    """True when the whole of ``path`` matches ``pattern`` (``*.py`` is top level only;
    ``**/*.py`` is anywhere)."""
    return compile_glob(pattern).match(path) is not None


def match_any(path: str, patterns: Iterable[str]) -> bool:
    return any(match(path, p) for p in patterns)
