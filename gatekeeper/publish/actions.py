"""GitHub Actions workflow files and commands: job summary, step outputs, annotations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekeeper.model import RuleResult

MAX_ANNOTATIONS = 50
"""GitHub shows at most 10 error annotations per step and 50 per job; more are noise."""
MAX_SUMMARY = 1024 * 1024
"""A step summary over 1 MiB is rejected by the runner."""


def append_summary(environ: Mapping[str, str], markdown: str) -> bool:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    data = markdown if markdown.endswith("\n") else markdown + "\n"
    if len(data.encode()) > MAX_SUMMARY:
        data = data.encode()[: MAX_SUMMARY - 200].decode("utf-8", "ignore")
        data += "\n\n*Report truncated to fit the 1 MiB job summary limit.*\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(data)
    return True


def write_outputs(environ: Mapping[str, str], outputs: Mapping[str, str]) -> bool:
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as f:
        for name, value in outputs.items():
            if "\n" in value or "\r" in value:
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
                f.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                f.write(f"{name}={value}\n")
    return True


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(results: Iterable[RuleResult], limit: int = MAX_ANNOTATIONS) -> list[str]:
    """``::error file=..,line=..::`` commands for every annotation of a non-passing rule
    (``::warning`` for a rule that only warns), at most ``limit`` of them."""
    from gatekeeper.model import Status

    lines: list[str] = []
    total = 0
    for result in results:
        if result.status not in (Status.FAIL, Status.ERROR, Status.WARN):
            continue
        level = "error" if result.blocks else "warning"
        total += result.place_count
        for a in result.annotations:
            if len(lines) >= limit:
                continue
            props = [f"file={_property(a.path)}", f"line={a.line}"]
            if a.end_line and a.end_line != a.line:
                props.append(f"endLine={a.end_line}")
            props.append(f"title={_property(f'gatekeeper: {result.id}')}")
            lines.append(f"::{level} {','.join(props)}::{_data(a.message or result.summary)}")
    if total > limit:
        lines.append(f"::notice::{total - limit} more annotations not shown (limit {limit})")
    return lines


def warn(environ: Mapping[str, str], message: str) -> str:
    """A warning line: a workflow command in Actions, plain text elsewhere."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return f"::warning title=gatekeeper::{_data(message)}"
    return f"gatekeeper: warning: {message}"


def report_path_default(environ: Mapping[str, str]) -> Path | None:
    temp = environ.get("RUNNER_TEMP")
    return Path(temp) / "gatekeeper-report.json" if temp else None
