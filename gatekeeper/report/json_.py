"""The JSON report: a contract, described by ``report.schema.json``."""

from __future__ import annotations

import json

from gatekeeper.report.model import Report


def render(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str) + "\n"
