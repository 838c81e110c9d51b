"""Reports: one model, one renderer module per format."""

from __future__ import annotations

from collections.abc import Callable

from gatekeeper.report import json_, junit, markdown, sarif, text
from gatekeeper.report.model import Report, report_schema

RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": text.render,
    "json": json_.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
    "junit": junit.render,
}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)


__all__ = ["RENDERERS", "Report", "render", "report_schema"]
