"""Streaming, hardened XML for reports that may come from untrusted builds.

defusedxml builds the expat parser and installs its guards (entity declarations and
external entity references raise). We then drive that same expat parser with our own
element callbacks instead of building a tree: a report's memory is what the callbacks
keep, not the size of the document, and no per-element objects are created.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import ReportFormatError

StartHandler = Callable[[str, Any], None]
"""``(name, attributes)``: a dict, or a flat [name, value, ...] list with ordered_attributes."""
EndHandler = Callable[[str], None]

MAX_DEPTH = 256
"""Element nesting a report may have (Cobertura needs 9, JUnit a few per suite level).
Expat keeps every open element, about 120 bytes each: ``<a>`` nested a million times
would cost 40 times the file's size."""


def too_deep() -> ReportFormatError:
    return ReportFormatError(f"elements nested deeper than {MAX_DEPTH} levels")


def make_parser(names: tuple[str, ...] = ()) -> Any:
    """An expat parser with defusedxml's guards and no tree building.

    ``names`` are the element and attribute names the caller compares against: handing
    expat those very string objects makes each comparison an identity check.
    """
    from defusedxml.ElementTree import DefusedXMLParser

    # A target without start/end: the wrapper installs no element callbacks of its own.
    wrapper = DefusedXMLParser(target=object())
    parser = wrapper.parser
    # The wrapper's default handler only serves its own entity map; with it gone,
    # expat itself rejects undefined entities, and whitespace costs no Python call.
    parser.DefaultHandlerExpand = None
    parser.ordered_attributes = False
    parser.buffer_text = True
    for name in names:
        parser.intern[name] = name
    return parser


def stream(
    path: Path, start: StartHandler, end: EndHandler | None = None, parser: Any = None
) -> None:
    """Parse ``path`` calling ``start(name, attrs)`` / ``end(name)`` for each element
    (handlers may replace themselves on ``parser``). Raises ``EvidenceError`` naming the
    file and the problem."""
    import xml.parsers.expat

    import defusedxml

    parser = parser or make_parser()
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    try:
        with path.open("rb") as f:
            # Our own 1 MiB reads: ParseFile reads 2 KiB at a time.
            while chunk := f.read(1 << 20):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except xml.parsers.expat.ExpatError as e:
        what = xml.parsers.expat.errors.messages.get(e.code, str(e)) if e.code else str(e)
        errors = xml.parsers.expat.errors
        # Expat reports these only when the data ends inside an element or a token.
        truncated = {
            errors.XML_ERROR_NO_ELEMENTS,
            errors.XML_ERROR_UNCLOSED_TOKEN,
            errors.XML_ERROR_PARTIAL_CHAR,
        }
        if e.code in {errors.codes[m] for m in truncated}:
            raise EvidenceError(
                f"{path}: XML ends before the document is complete (line {e.lineno}); "
                "the report is truncated or empty"
            ) from None
        raise EvidenceError(
            f"{path}: invalid XML at line {e.lineno}, column {e.offset}: {what}"
        ) from None
    except defusedxml.EntitiesForbidden as e:
        if e.sysid or e.pubid:
            raise EvidenceError(
                f"{path}: the XML declares an external entity ({e.sysid or e.pubid}), which "
                "could read local files or URLs; refusing to read it"
            ) from None
        raise EvidenceError(
            f"{path}: the XML declares entities, which reports never need and which can be "
            "used to blow up memory (billion laughs); refusing to read it"
        ) from None
    except defusedxml.ExternalReferenceForbidden:
        raise EvidenceError(
            f"{path}: the XML references an external entity (a file or URL); refusing to read it"
        ) from None
    except defusedxml.DefusedXmlException as e:
        raise EvidenceError(f"{path}: unsafe XML refused: {e}") from None
    except ReportFormatError as e:
        raise EvidenceError(f"{path}: line {parser.CurrentLineNumber}: {e}") from None
    except KeyError as e:
        line = parser.CurrentLineNumber
        raise EvidenceError(f"{path}: line {line}: element lacks the {e} attribute") from None
    except LookupError as e:
        if isinstance(e, IndexError):
            raise
        # expat asks Python's codecs for an encoding it does not know itself: one that is
        # not there, or not a text encoding (rot13), is a LookupError, not an ExpatError.
        raise EvidenceError(
            f"{path}: the XML declares encoding {_declared_encoding(path)!r}, which cannot be "
            "read (write the report in UTF-8)"
        ) from None
    except ValueError as e:
        line = parser.CurrentLineNumber
        raise EvidenceError(f"{path}: line {line}: bad value: {e}") from None
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror or e}") from None


def _declared_encoding(path: Path) -> str:
    """The encoding the XML declaration at the start of ``path`` names (for a message)."""
    import re

    with path.open("rb") as f:
        head = f.read(200)
    found = re.search(rb"""encoding\s*=\s*["']([^"']{0,60})""", head)
    return found[1].decode("ascii", "replace") if found else "?"
