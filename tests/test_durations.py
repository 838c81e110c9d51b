from __future__ import annotations

from datetime import timedelta

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper import durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        ("0.25s", 0.25),
        ("0s", 0),
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert durations.seconds(text) == seconds
    jsonschema.validate(text, durations.SCHEMA)


@pytest.mark.parametrize("text", ["", "5", "m", "5 m", "-5m", "5min", "1.s", "PT5M", "5m "])
def test_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        durations.parse(text)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(text, durations.SCHEMA)


def test_describe_and_promql() -> None:
    assert durations.describe(timedelta(minutes=91)) == "1h 31m"
    assert durations.describe(timedelta(seconds=45)) == "45s"
    assert durations.describe(timedelta(days=1, minutes=5)) == "1d 5m"
    assert durations.describe(timedelta(seconds=-3)) == "0s"
    assert durations.promql(timedelta(minutes=15)) == "15m"
    assert durations.promql(timedelta(minutes=90)) == "90m"
    assert durations.promql(timedelta(days=7)) == "7d"
    assert durations.promql(timedelta(milliseconds=1500)) == "1500ms"


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(list(durations.UNITS))),
        min_size=1,
        max_size=4,
    )
)
def test_parts_add_up_and_promql_round_trips(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{n}{unit}" for n, unit in parts)
    total = sum(n * durations.UNITS[unit] for n, unit in parts)
    assert durations.seconds(text) == pytest.approx(total)
    # PromQL's form of the same duration parses back to it (our syntax is a superset).
    assert durations.seconds(durations.promql(durations.parse(text))) == pytest.approx(
        round(total * 1000) / 1000
    )
