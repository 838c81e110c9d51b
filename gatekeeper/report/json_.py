"""The JSON report: a contract, described by ``report.schema.json``."""

from __future__ import annotations

import json

from gatekeeper.report.escape import printable_data
from gatekeeper.report.model import Report


def render(report: Report) -> str:
    # A file name that is not UTF-8 shows its bytes as \xNN: a lone surrogate would make
    # the document unwritable as UTF-8 (and invalid Unicode for its readers).
    data = printable_data(report.to_dict())
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"
