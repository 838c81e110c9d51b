"""One JSON document read incrementally, its values decoded by the stdlib's C scanner.

The bytes are decoded from UTF-8 as they are read (with ``surrogatepass``, as
``json.loads`` decodes bytes), a chunk at a time. The caller walks the outer objects
member by member (``members``) and has each value it wants decoded whole (``value``) by
the same scanner ``json.loads`` uses, so a value, an error message and its position
are the ones ``json.loads`` gives for the whole document. The walk itself follows the
scanner's rules for objects (CPython's ``_json.c``): which characters are whitespace,
which delimiter is expected where, and the message and position of each error.

Memory is the chunk plus the largest single value the caller decodes; a value that
does not end within ``max_value`` characters is refused (``ValueTooLarge``).

A failed scan is only an error if more text cannot change it: the scanner reports a
problem at most a few characters before what it read (a literal such as
``-Infinity``, a ``\\uXXXX\\uXXXX`` pair), except "Unterminated string", which always
means it ran out of text. So a failure more than ``_MARGIN`` characters before the
buffer's end is final (confirmed by a second scan with a character that is wrong
everywhere appended: a scan that reached the end would fail there); anything else, and
a value that ends within ``_MARGIN`` of the end (``1.`` may be ``1.5``), is tried again
with more text. A value that needs more than a chunk is retried with twice the text, so
retries cost at most about the value's size again.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any

CHUNK = 1 << 20
_MARGIN = 16
MAX_CONTAINERS = 1_000_000
"""Arrays and objects one value may hold: each takes ~64 bytes decoded, so JSON made of
empty ones (``[[],[],...]``) would take 21 times its size (a real file's entry, with a
list per branch arc, has a few hundred thousand at most)."""
_NON_WHITESPACE = re.compile(r"[^ \t\n\r]")  # JSON's whitespace, nothing else
_scan_value: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(  # type: ignore[attr-defined]
    json.JSONDecoder()
)
# Python 3.13's scanner refuses `{"a": 1,}` with its own message (gh-113149).
_TRAILING_COMMA_MESSAGE = sys.version_info >= (3, 13)


_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _scan_key(text: str, pos: int) -> tuple[str, int]:
    return _scanstring(text, pos + 1, True)


def decode_at(text: str, pos: int) -> tuple[Any, int]:
    """The value at ``text[pos]`` as ``json.loads`` decodes it (the same C scanner) and
    where it ends. Raises ``ValueError`` (``JSONDecodeError``, or a number of more digits
    than ``int()`` reads) or ``StopIteration`` (no value there)."""
    return _scan_value(text, pos)


class JsonSyntaxError(Exception):
    """What ``json.loads`` would raise as ``JSONDecodeError`` for the whole document, at
    character ``offset`` of the whole text (``JsonStream.locate`` gives line and column)."""

    def __init__(self, msg: str, offset: int) -> None:
        super().__init__(f"{msg}: character {offset}")
        self.msg, self.offset = msg, offset


class NotUtf8(Exception):
    """The bytes are not UTF-8 (what ``bytes.decode`` refuses)."""


class TooDeep(Exception):
    """The scanner ran out of recursion (``RecursionError``)."""


class NumberTooLong(Exception):
    """A number with more digits than ``int()`` converts (``ValueError``)."""


class ValueTooLarge(Exception):
    """One value does not end within ``max_value`` characters, or holds more than
    ``MAX_CONTAINERS`` arrays and objects."""


class JsonStream:
    """The document's text, read and decoded a chunk at a time.

    ``buf[pos:]`` is what has not been consumed; ``_base`` is ``buf[0]``'s offset in
    the whole text, so an error's position is that of the whole document.
    """

    def __init__(self, f: IO[bytes], max_value: int, chunk: int | None = None) -> None:
        chunk = chunk or CHUNK
        self._f = f
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self._max = max_value
        self._chunk = chunk
        self.buf = ""
        self.pos = 0
        self._base = 0
        self.eof = False
        head = f.read(max(chunk, 3))
        # json.loads decodes bytes that start with a BOM as utf-8-sig: one BOM is dropped.
        self._feed(head[3:] if head.startswith(codecs.BOM_UTF8) else head, not head)

    # --- reading -------------------------------------------------------------------

    def _feed(self, data: bytes, final: bool) -> None:
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            raise NotUtf8() from None
        self.buf = self.buf + text if self.buf else text
        self.eof = final

    def _more(self, size: int = 0) -> None:
        """Read one more chunk (at least ``size`` bytes), first dropping what has been
        consumed."""
        # The old text is let go once the new text is in, not before: freed first, its
        # pages went back to the system and the new chunk took fresh ones (measured: 2,800
        # more page faults and ~4% more time on a 14 MB report).
        old = self.buf
        if self.pos:
            self._base += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        data = self._f.read(max(size, self._chunk))
        self._feed(data, not data)
        del old

    def _grow(self) -> None:
        """Read until the unconsumed text has doubled (or the end): each retry of a value
        that crosses a chunk's end then costs no more than the text it adds."""
        # Not past the largest value (+ a chunk): a failed scan builds what it read.
        target = min(2 * (len(self.buf) - self.pos), self._max) + 1
        while not self.eof:
            self._more(target - (len(self.buf) - self.pos))
            if len(self.buf) - self.pos >= target:
                break

    def read_ahead(self) -> bool:
        """Have at least a quarter of a chunk past ``pos`` (or the rest of the document), so
        that a value of that size is whole in the text; whether more was read. (When text
        is read never changes what is decoded: any chunk size gives ``json.loads``'s
        outcome.)"""
        want, read = self._chunk // 4, False
        while len(self.buf) - self.pos < want and not self.eof:
            self._more(want)
            read = True
        return read

    def drain(self) -> None:
        """Read to the end, so that bytes that are not UTF-8 anywhere are found (json.loads
        decodes the whole file before it parses anything)."""
        while not self.eof:
            self.pos = len(self.buf)
            self._more()

    # --- walking ---------------------------------------------------------------------

    def peek(self) -> str:
        """Skip whitespace; the next character, or "" at the end of the document."""
        while True:
            found = _NON_WHITESPACE.search(self.buf, self.pos)
            if found is not None:
                self.pos = found.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if self.eof:
                return ""
            self._more()

    def value(self) -> Any:
        """Decode the value at ``pos`` (after whitespace) whole and move past it."""
        return self._decode(_scan_value)

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """``pattern``'s match at ``pos``, for a pattern that matches only whole JSON values,
        if it ends where ``value`` would take a value that ends there (not within
        ``_MARGIN`` of the text read so far; more text is never read for it: the caller
        decodes what does not match with ``value``). The caller that takes the match moves
        ``pos`` to its end."""
        found = pattern.match(self.buf, self.pos)
        if found is None or (found.end() + _MARGIN >= len(self.buf) and not self.eof):
            return None
        return found

    def members(self) -> Iterator[str]:
        """Walk the object at ``pos`` (``peek() == "{"``): yields each key with ``pos`` at its
        value, which the caller consumes (``value``, ``members``) before asking for the next."""
        self.pos += 1
        c = self.peek()
        if c == "}":
            self.pos += 1
            return
        while True:
            if c != '"':
                raise self.syntax("Expecting property name enclosed in double quotes", self.pos)
            key = self._decode(_scan_key)
            if self.peek() != ":":
                raise self.syntax("Expecting ':' delimiter", self.pos)
            self.pos += 1
            self.peek()
            yield key
            c = self.peek()
            if c == "}":
                self.pos += 1
                return
            if c != ",":
                raise self.syntax("Expecting ',' delimiter", self.pos)
            comma = self.pos
            self.pos += 1
            c = self.peek()
            if _TRAILING_COMMA_MESSAGE and c == "}":
                raise self.syntax("Illegal trailing comma before end of object", comma)

    def end(self) -> None:
        """After the document's value: nothing but whitespace may follow."""
        if self.peek():
            raise self.syntax("Extra data", self.pos)

    # --- decoding with the C scanner ---------------------------------------------------

    def _decode(self, scan: Callable[[str, int], tuple[Any, int]]) -> Any:
        retry = False
        while True:
            buf, pos = self.buf, self.pos
            # A value that did not fit in two chunks: count what the next scan would
            # build (a value that crosses a chunk's end is retried once with ~2 chunks).
            if retry and len(buf) - pos > 2 * self._chunk and (
                buf.count("[", pos) + buf.count("{", pos) > MAX_CONTAINERS
            ):
                raise ValueTooLarge()
            failure = _attempt(scan, buf, pos)
            if not isinstance(failure, _Failure):
                obj, end = failure
                # A value that ends near the buffer's end may go on (a number: 12|34,
                # 1.|5: the scanner looks two characters past a number's end).
                if end + _MARGIN < len(buf) or self.eof:
                    self.pos = end
                    return obj
            elif self.eof or self._final(scan, failure):
                raise self.syntax(failure.msg, failure.pos)
            if len(buf) - pos > self._max:
                raise ValueTooLarge()
            self._grow()
            retry = True

    def _final(self, scan: Callable[[str, int], tuple[Any, int]], failure: _Failure) -> bool:
        """Whether more text cannot change this failure (see the module's docstring)."""
        limit = len(self.buf) - _MARGIN
        if failure.msg.startswith("Unterminated string") or failure.pos >= limit:
            return False
        # Confirm: with a character that is wrong everywhere at the buffer's end, a scan
        # that got that far would fail there; one that fails where it did never got there.
        again = _attempt(scan, self.buf + "\0", self.pos)
        return isinstance(again, _Failure) and again.pos < limit

    def syntax(self, msg: str, pos: int) -> JsonSyntaxError:
        """The error ``JSONDecodeError(msg, whole_text, base + pos)`` would describe."""
        return JsonSyntaxError(msg, self._base + pos)

    def locate(self, offset: int) -> tuple[int, int]:
        """Line and column of character ``offset`` as ``JSONDecodeError`` counts them: the
        text is read again from the start (only for an error: counting newlines as the
        text streams by would cost every report ~5% more)."""
        self._f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        data = self._f.read(max(self._chunk, 3))
        end = not data
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        seen = lines = line_start = 0
        while seen < offset:
            text = decoder.decode(data, end)[: offset - seen]
            newlines = text.count("\n")
            if newlines:
                lines += newlines
                line_start = seen + text.rfind("\n") + 1
            seen += len(text)
            if end:
                break
            data = self._f.read(self._chunk)
            end = not data
        return lines + 1, offset - line_start + 1


class _Failure:
    __slots__ = ("msg", "pos")

    def __init__(self, msg: str, pos: int) -> None:
        self.msg, self.pos = msg, pos


def _attempt(
    scan: Callable[[str, int], tuple[Any, int]], text: str, pos: int
) -> tuple[Any, int] | _Failure:
    try:
        return scan(text, pos)
    except StopIteration as e:  # the scanner's way of saying "no value here"
        return _Failure("Expecting value", e.value)
    except json.JSONDecodeError as e:
        return _Failure(e.msg, e.pos)
    except RecursionError:
        raise TooDeep() from None
    except ValueError as e:  # int() of more digits than sys.get_int_max_str_digits()
        raise NumberTooLong(str(e)) from None
