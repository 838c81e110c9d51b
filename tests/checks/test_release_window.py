from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.checks import registry, with_defaults
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.model import Outcome, Status
from tests.factories import run_cli

CHECK = registry()["release-window"]
FREEZE = {"start": "2026-12-21T00:00", "end": "2027-01-04T00:00", "reason": "Year-end freeze"}
OFFICE = {"days": ["mon", "tue", "wed", "thu"], "start": "09:00", "end": "16:00"}


def judge(now: str, **options: Any) -> Outcome:
    opts = with_defaults(CHECK, {"timezone": "Europe/Berlin", **options})
    ev = Evidence(RunContext(repo_path=Path("."), now=datetime.fromisoformat(now)))
    return CHECK.evaluate(opts, ev)


def test_inside_a_freeze_fails_and_names_it_and_the_next_allowed_time() -> None:
    out = judge("2026-12-24T10:00:00+01:00", freeze=[FREEZE])
    assert out.status is Status.FAIL
    assert "'Year-end freeze'" in out.summary
    assert "next allowed time: 2027-01-04T00:00+01:00" in out.summary
    assert out.details["freeze"]["end"] == "2027-01-04T00:00+01:00"
    assert out.remedy and "2027-01-04T00:00+01:00" in out.remedy


def test_freeze_start_is_inclusive_end_exclusive() -> None:
    assert judge("2026-12-21T00:00:00+01:00", freeze=[FREEZE]).status is Status.FAIL
    assert judge("2026-12-20T23:59:59+01:00", freeze=[FREEZE]).status is Status.PASS
    assert judge("2027-01-04T00:00:00+01:00", freeze=[FREEZE]).status is Status.PASS


def test_freeze_times_with_offsets_ignore_the_default_zone() -> None:
    freeze = {"start": "2026-12-21T00:00:00Z", "end": "2026-12-22T00:00:00Z"}
    # 00:30 in Berlin is 23:30 UTC the day before: not yet frozen.
    assert judge("2026-12-21T00:30:00+01:00", freeze=[freeze]).status is Status.PASS
    assert judge("2026-12-21T01:30:00+01:00", freeze=[freeze]).status is Status.FAIL


def test_outside_every_window_fails_with_the_next_window() -> None:
    friday_evening = "2026-11-27T17:00:00+01:00"
    out = judge(friday_evening, allow=[OFFICE])
    assert out.status is Status.FAIL
    assert "outside every deploy window (mon,tue,wed,thu 09:00-16:00 Europe/Berlin)" in out.summary
    assert out.details["next_allowed"] == "2026-11-30T09:00+01:00"


def test_inside_a_window_passes_and_says_until_when() -> None:
    out = judge("2026-11-24T15:59:00+01:00", allow=[OFFICE])
    assert out.status is Status.PASS
    assert "until 2026-11-24T16:00+01:00" in out.summary
    assert judge("2026-11-24T16:00:00+01:00", allow=[OFFICE]).status is Status.FAIL


def test_windows_follow_daylight_saving_time() -> None:
    # 09:00 in Berlin is 07:00 UTC in summer (CEST) and 08:00 UTC in winter (CET).
    assert judge("2026-07-07T07:30:00+00:00", allow=[OFFICE]).status is Status.PASS  # 09:30 CEST
    assert judge("2026-01-06T07:30:00+00:00", allow=[OFFICE]).status is Status.FAIL  # 08:30 CET
    # Across the spring change (Sun 29 March 2026), Monday's window starts at 07:00 UTC.
    out = judge("2026-03-28T12:00:00+00:00", allow=[OFFICE])
    assert out.details["next_allowed"] == "2026-03-30T09:00+02:00"


def test_a_window_that_does_not_exist_on_the_dst_night_moves_forward() -> None:
    night = {"days": ["sun"], "start": "02:30", "end": "04:00"}
    out = judge("2026-03-29T00:00:00+01:00", allow=[night])
    assert out.details["next_allowed"] == "2026-03-29T03:30+02:00"


def test_overnight_windows_run_past_midnight() -> None:
    night = {"days": ["fri"], "start": "22:00", "end": "02:00"}
    assert judge("2026-11-28T01:00:00+01:00", allow=[night]).status is Status.PASS  # Saturday 01:00
    assert judge("2026-11-28T02:00:00+01:00", allow=[night]).status is Status.FAIL


def test_a_window_inside_a_freeze_is_not_allowed() -> None:
    out = judge("2026-12-22T10:00:00+01:00", freeze=[FREEZE], allow=[OFFICE])
    assert out.status is Status.FAIL
    # 4 January 2027 is a Monday: the first window after the freeze.
    assert out.details["next_allowed"] == "2027-01-04T09:00+01:00"


def test_window_timezone_overrides_the_default() -> None:
    ny = {**OFFICE, "timezone": "America/New_York"}
    assert judge("2026-11-24T15:00:00+01:00", allow=[ny]).status is Status.PASS  # 09:00 in New York
    assert judge("2026-11-24T14:59:00+01:00", allow=[ny]).status is Status.FAIL


def test_no_options_passes() -> None:
    assert judge("2026-11-24T10:00:00+01:00").status is Status.PASS


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"freeze": [{"start": "soon", "end": "later"}]}, "'soon' is not an ISO 8601"),
        ({"freeze": [{"start": "2027-01-01", "end": "2026-01-01"}]}, "end is not after start"),
        ({"allow": [{**OFFICE, "timezone": "Mars/Olympus"}]}, "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_bad_times_at_run_time_are_evidence_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(EvidenceError, match=message):
        judge("2026-11-24T10:00:00+01:00", **options)


def test_validate_points_at_bad_zones_and_dates(tmp_path: Path) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text(
        "version: 1\nrules:\n  - id: w\n    check: release-window\n    with:\n"
        "      timezone: Mars/Olympus\n"
        "  - id: f\n    check: release-window\n    with:\n"
        "      freeze:\n        - start: 2027-01-01\n          end: 2026-01-01\n"
    )
    result = run_cli("validate", str(policy))
    assert result.exit_code == 2
    assert (
        f"{policy}:6:17: rules[0].with.timezone: unknown time zone 'Mars/Olympus'" in result.output
    )
    assert (
        f"{policy}:12:16: rules[1].with.freeze[0].end: 2026-01-01 is not after the start 2027-01-01"
        in result.output
    )
