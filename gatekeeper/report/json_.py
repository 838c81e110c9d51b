"""The JSON report: a contract, described by ``report.schema.json``."""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any

from gatekeeper.report.model import Report


def render(report: Report) -> str:
    # ``report.render`` gives every renderer a printable copy: a file name that is not
    # UTF-8 already shows its bytes as \xNN (a lone surrogate would make the document
    # unwritable as UTF-8, and invalid Unicode for its readers).
    return dumps(report.to_dict(), default=str) + "\n"


_SCALARS = frozenset({str, int, float, bool, type(None)})
_CONTAINERS = frozenset({list, tuple, dict})
# The C accelerator's encoder factory (what JSONEncoder.iterencode calls without indent);
# None where there is no accelerator.
_C_MAKE_ENCODER: Callable[..., Callable[[Any, int], Any]] | None = getattr(
    _encoder, "c_make_encoder", None
)


def dumps(
    value: Any, *, ensure_ascii: bool = True, default: Callable[[Any], Any] | None = None
) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=..., default=...)``, byte for byte, in a
    fraction of its time on a big report.

    CPython's C encoder runs only without ``indent``; the pure-Python one walks every item
    (~8 ms for the 19,000 uncovered lines of a large change). Here a list or dict whose
    items are all plain scalars (the long lists of line numbers) is written by the C encoder
    in one call, with ``",\\n" + indentation`` as its item separator; only the containers
    above such lists are walked in Python, and anything unusual (a key that is not a
    string, a subclass, a value for ``default``) is left to ``json.dumps`` itself."""
    out: list[str] = []
    _Indented(ensure_ascii, default).value(value, "\n", out)
    return "".join(out)


class _Indented:
    def __init__(self, ensure_ascii: bool, default: Callable[[Any], Any] | None) -> None:
        self.ensure_ascii = ensure_ascii
        self.default = default
        self.string = (
            _encoder.encode_basestring_ascii if ensure_ascii else _encoder.encode_basestring
        )
        self.flat: dict[str, Callable[[Any], str]] = {}

    def value(self, value: Any, newline: str, out: list[str]) -> None:
        """Append ``value`` written at the indentation that ``newline`` ends with."""
        kind = type(value)
        if kind is str:
            out.append(self.string(value))
        elif kind in _SCALARS or (kind in _CONTAINERS and not value):
            out.append(self.encoder(newline)(value))  # no line breaks: any separator will do
        elif kind is list or kind is tuple:
            self.sequence(value, newline, out)
        elif kind is dict and set(map(type, value)) == {str}:
            self.mapping(value, newline, out)
        else:
            # Subclasses, keys that are not strings, objects for ``default``: json itself,
            # re-indented (its strings never hold a raw line break).
            text = json.dumps(
                value, indent=2, ensure_ascii=self.ensure_ascii, default=self.default
            )
            out.append(text.replace("\n", newline) if newline != "\n" else text)

    def sequence(self, value: list[Any] | tuple[Any, ...], newline: str, out: list[str]) -> None:
        inner = newline + "  "
        if set(map(type, value)) <= _SCALARS:
            out.append(f"[{inner}{self.encoder(inner)(value)[1:-1]}{newline}]")
            return
        separator = "[" + inner
        for item in value:
            out.append(separator)
            self.value(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")

    def mapping(self, value: dict[str, Any], newline: str, out: list[str]) -> None:
        inner = newline + "  "
        if set(map(type, value.values())) <= _SCALARS:
            out.append(f"{{{inner}{self.encoder(inner)(value)[1:-1]}{newline}}}")
            return
        separator = "{" + inner
        for key, item in value.items():
            out.append(separator + self.string(key) + ": ")
            self.value(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")

    def encoder(self, inner: str) -> Callable[[Any], str]:
        """The C encoder writing one item per line at the indentation ``inner`` ends with."""
        if inner not in self.flat:
            self.flat[inner] = self._make_encoder("," + inner)
        return self.flat[inner]

    def _make_encoder(self, separator: str) -> Callable[[Any], str]:
        if _C_MAKE_ENCODER is None:  # no C accelerator: json's own, still right
            return json.JSONEncoder(
                ensure_ascii=self.ensure_ascii, separators=(separator, ": "), default=self.default
            ).encode
        # What JSONEncoder.encode sets up for each call, set up once (no cycle check:
        # the items are scalars).
        write = _C_MAKE_ENCODER(
            None, self.default, self.string, None, ": ", separator, False, False, True
        )
        return lambda value: "".join(write(value, 0))
