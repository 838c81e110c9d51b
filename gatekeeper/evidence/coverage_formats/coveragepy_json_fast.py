"""A fast path for one file's entry of coverage.py's JSON report, laid out as coverage.py
lays it out.

coverage.py writes every file's entry with its keys in one order (``executed_lines``,
``summary``, ``missing_lines``, ``excluded_lines``, then ``contexts``, the two branch arc
lists and ``functions`` / ``classes`` when it has them) and, by default, ``json.dump``'s
separators (``", "`` and ``": "``, no other whitespace). The reader uses four of
those values, but ``json.loads`` refuses a report if any byte of it is not JSON, so all of
it must be checked: format 3 repeats every line list in ``functions`` and ``classes``, and
the stdlib scanner that the careful path decodes an entry with builds a Python object
for every number of them (about two thirds of the read's time).

Here one compiled pattern checks the whole entry without building anything, and only the
values the reader uses are decoded, by that same scanner. The pattern matches only text
that is one JSON object whose keys are exactly the ones it names, each once, spelled
without escapes (so the object ``json.loads`` builds has those keys and no other), and
whose every value the scanner decodes without an error: strings without control
characters or unknown escapes, numbers of at most 18 digits before the point (no NaN or
Infinity), and nothing nested deeper than coverage.py nests (four levels). Everything it
does not match (keys in another order, a deeper value, other spacing, anything that is not
JSON) is ``None``: the reader decodes that entry whole as before, and says what is wrong
with it. The decoded values then go through the careful path's own checks, so figures,
errors and their order are the same by construction.

``--pretty-print``'s indented entries are left to the careful path: the scanner skips
whitespace faster than a pattern can (measured on the 16 MB report pretty-printed to 74 MB:
a pattern allowing whitespace everywhere took ~220 ms to match, the scanner ~170 ms to
decode).
"""

from __future__ import annotations

import re
from typing import Any

from gatekeeper.evidence.coverage_formats._jsonstream import JsonStream, decode_at

# Each piece matches one way only: alternatives differ in their first character (a
# number, a string, a literal; lists aside, see ``value``), every repetition is possessive
# and the first item of a container atomic. So an entry that fails costs a few passes over
# its text (a list may be tried in several shapes), never backtracking through it.

# A JSON string: no control character, known escapes only. coverage.py's keys
# ("percent_covered") end after a run of a narrower class, which is tested faster; any
# other string goes on (one way only: the two branches differ in their first character).
_STRING = r'"[a-z_]*+(?:"|(?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))++")'
_POSITIVE = r"[1-9][0-9]{0,17}+"
_LINE = r"[1-9][0-9]{0,5}+"  # a line number the reader takes as it is (up to MAX_LINE)
_INT = rf"-?+(?:{_POSITIVE}|0)"
_NUMBER = rf"{_INT}(?:\.[0-9]{{1,20}}+)?+(?:[eE][-+]?+[0-9]{{1,4}}+)?+"
_SCALAR = rf"(?:{_NUMBER}|{_STRING}|true|false|null)"


def _entry_pattern() -> re.Pattern[str]:
    """coverage.py's entry, with exactly ``json.dump``'s default separators."""

    def leaf(opening: str, item: str, closing: str) -> str:
        # A container of small items (numbers, pairs, scalars): the first item, then
        # ", item" repeated (possessive, the first item atomic: nothing matched is tried
        # again). Not "items with their commas, then the last one": that reads a long
        # last item twice.
        return rf"\{opening}(?:\{closing}|(?>{item})(?:, {item})*+\{closing})"

    def seq(opening: str, item: str, closing: str) -> str:
        # A container of large items, each written once in the pattern (``leaf`` writes
        # its item twice: nested, the pattern would double at each level and take ~0.1 s
        # to compile): an item then a comma not followed by the closing, or the closing.
        return rf"\{opening}(?:{item}(?:, (?!\{closing})|(?=\{closing})))*+\{closing}"

    def arc(start: str) -> str:
        return rf"\[{start}, {_INT}\]"

    ints = leaf("[", _POSITIVE, "]")  # line lists: the common case first
    arcs = leaf("[", arc(_POSITIVE), "]")
    array = leaf("[", _SCALAR, "]")
    arrays = seq("[", f"(?:{ints}|{array})", "]")
    flat = seq("{", f"{_STRING}: (?:{_SCALAR}|{ints}|{array})", "}")  # summary, contexts
    # Lists are tried from the narrowest shape to the widest (a list that is not ``ints``
    # is matched again as ``array``): always inside a possessive repetition or an atomic
    # group, so the first shape that matches is kept.
    value = f"(?:{ints}|{arcs}|{flat}|{array}|{arrays}|{_SCALAR})"
    region = seq("{", f"{_STRING}: {value}", "}")
    functions = seq("{", f"{_STRING}: {region}", "}")
    # A class region often repeats a value of the entry's own word for word (the class ""
    # of a module without classes is the whole file): the same text as a value already
    # matched (and decoded) is the same JSON, compared at C speed.
    same = "|".join(f"(?P={name})" for name in (*_READ, "summary"))
    class_region = seq("{", f"{_STRING}: (?:{same}|{value})", "}")
    classes = seq("{", f"{_STRING}: {class_region}", "}")
    # The values the reader uses, in the one shape the fast path reads. Line lists: only
    # digits, commas and spaces here (one cheap pass), the scanner that decodes them
    # checks the rest (a list of integers, or the careful path). Arcs: integer pairs
    # whose starts have at most six digits (below MAX_LINE), as the reader takes them.
    lines = r"\[[0-9, ]*+\]"
    starts = leaf("[", arc(_LINE), "]")
    return re.compile(
        rf'\{{"executed_lines": (?P<executed_lines>{lines}), '
        rf'"summary": (?P<summary>(?>{flat})), '
        rf'"missing_lines": (?P<missing_lines>{lines}), '
        rf'"excluded_lines": (?>{ints}|{array})'
        rf'(?:, "contexts": (?>{flat}))?+'
        rf'(?:, "executed_branches": (?P<executed_branches>{starts}), '
        rf'"missing_branches": (?P<missing_branches>{starts}))?+'
        rf'(?:, "functions": {functions}, "classes": {classes})?+'
        r"\}"
    )


_LINES = ("executed_lines", "missing_lines")
_ARCS = ("executed_branches", "missing_branches")
_READ = (*_LINES, *_ARCS)
_READ_WITHOUT_ARCS = (*_LINES, "summary")  # the branch counts
_PATTERN = _entry_pattern()
_START = '{"executed_lines": '


def entry(stream: JsonStream) -> dict[str, Any] | None:
    """The values the reader uses of the entry at the stream's position (as ``json.loads``
    would give them, keyed as in the entry; ``summary`` only where there are no arcs,
    the only case the reader reads it; arcs as the list of their start lines), the stream
    moved past it; ``None`` (nothing moved) if the entry is not coverage.py's layout."""
    if not stream.buf.startswith(_START, stream.pos):
        return None  # not even its first key: no pattern to try
    found = stream.match(_PATTERN)
    if found is None and stream.read_ahead():  # an entry cut by the end of a chunk
        found = stream.match(_PATTERN)
    if found is None:
        return None
    text, values, arcs = found.string, {}, found.start("executed_branches") >= 0
    for key in _LINES if arcs else _READ_WITHOUT_ARCS:
        try:
            values[key], end = decode_at(text, found.start(key))
        except (ValueError, StopIteration):  # a line list of digits that is not JSON
            return None
        if end != found.end(key):
            return None  # pragma: no cover (the pattern ends each value where JSON does)
    for key in _ARCS if arcs else ():
        # Pairs of integers (the pattern's proof): without their brackets, one flat list
        # of integers, every other one a start (no list per arc is built).
        inner = text[found.start(key) + 1 : found.end(key) - 1]
        values[key] = decode_at("[" + inner.replace("[", "").replace("]", "") + "]", 0)[0][::2]
    stream.pos = found.end()
    return values
