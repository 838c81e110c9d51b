"""``slo`` against a real Prometheus (tests/prometheus_server.py) at fixed times."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatekeeper.checks import with_defaults
from gatekeeper.checks.slo import CHECK, show, validate
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.prometheus import QueryError, parse_response
from gatekeeper.model import Status
from tests.prometheus_server import NOW, PrometheusServer, closed_url

ERRORS = (
    'sum(rate(http_requests_total{{service="{s}",code=~"5.."}}[$window])) / '
    'sum(rate(http_requests_total{{service="{s}"}}[$window]))'
)


def error_rate(service: str = "api", **extra: Any) -> dict[str, Any]:
    return {
        "name": "error_rate",
        "query": ERRORS.format(s=service),
        "max": 0.01,
        "unit": "ratio",
        **extra,
    }


def p95(service: str = "api", **extra: Any) -> dict[str, Any]:
    return {
        "name": "p95_latency",
        "query": f'latency_p95_seconds{{service="{service}"}}',
        "max": 0.3,
        "unit": "seconds",
        **extra,
    }


def run(url: str, tmp_path: Path, *objectives: dict[str, Any], now=NOW, **options: Any):
    options = {"prometheus": {"url": url}, "objectives": list(objectives), **options}
    jsonschema.validate(options, CHECK.options)
    assert validate(with_defaults(CHECK, options)) == []
    ctx = RunContext(tmp_path, now, environ={})
    return CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def test_objective_within_bounds_passes(prometheus: PrometheusServer, tmp_path) -> None:
    outcome = run(prometheus.url, tmp_path, error_rate())
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.summary == "error_rate 0.8% <= 1%"
    row = outcome.details["objectives"][0]
    assert row["value"] == pytest.approx(0.008)
    assert row["status"] == "pass"
    assert row["threshold"] == {"max": 0.01}
    assert "[15m]" in row["query"]  # $window became the window, in PromQL's syntax


def test_error_rate_above_max_fails_naming_objective_value_and_threshold(
    prometheus: PrometheusServer, tmp_path
) -> None:
    outcome = run(prometheus.url, tmp_path, error_rate("checkout"))
    assert outcome.status is Status.FAIL
    assert outcome.summary == "error_rate 3% > 1%"
    assert "error_rate" in outcome.remedy
    row = outcome.details["objectives"][0]
    assert row["value"] == pytest.approx(0.03)
    assert row["threshold"] == {"max": 0.01}
    assert row["reason"] == "3% > max 1%"


def test_the_issue_summary_format_with_a_baseline(prometheus: PrometheusServer, tmp_path) -> None:
    compare = {"offset": "1d", "max_increase": "10%"}
    outcome = run(prometheus.url, tmp_path, error_rate(), p95(compare=compare))
    assert outcome.status is Status.FAIL
    assert (
        outcome.summary == "error_rate 0.8% <= 1%; p95_latency 412ms > 300ms (baseline 280ms, +47%)"
    )
    assert outcome.details["objectives"][1]["baseline"] == pytest.approx(0.28)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("nonexistent_metric_total", "no data: the query returned an empty vector"),
        ("latency_p95_seconds", "2 series returned"),
        ("0/0", "evaluated to NaN"),
        ("1/0", "evaluated to +Inf"),
        ("-1/0", "evaluated to -Inf"),
        ("sum(", "Prometheus answered bad_data"),
        ("http_requests_total[5m]", "result type 'matrix' is not one number"),
    ],
)
def test_unusable_results_are_errors_never_passes(
    prometheus: PrometheusServer, tmp_path, query: str, reason: str
) -> None:
    outcome = run(prometheus.url, tmp_path, {"name": "x", "query": query, "max": 1e9})
    assert outcome.status is Status.ERROR
    row = outcome.details["objectives"][0]
    assert row["status"] == "error"
    assert reason in row["reason"]
    assert row["value"] is None


def test_one_error_among_passes_still_errors(prometheus: PrometheusServer, tmp_path) -> None:
    outcome = run(
        prometheus.url, tmp_path, error_rate(), {"name": "gone", "query": "nope", "max": 1}
    )
    assert outcome.status is Status.ERROR
    assert [r["status"] for r in outcome.details["objectives"]] == ["pass", "error"]
    assert "gone" in outcome.remedy


def test_prometheus_down_is_an_error(tmp_path) -> None:
    outcome = run(closed_url(), tmp_path, error_rate())
    assert outcome.status is Status.ERROR
    assert "unreachable (ConnectionError)" in outcome.details["objectives"][0]["reason"]


def test_timeout_is_an_error(tmp_path) -> None:
    import socket

    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        outcome = run(url, tmp_path, error_rate(), prometheus={"url": url, "timeout": "200ms"})
    assert outcome.status is Status.ERROR
    assert "timed out after 0.2 s" in outcome.details["objectives"][0]["reason"]


def test_sub_second_timeouts_reach_prometheus_in_its_syntax(
    prometheus: PrometheusServer, tmp_path
) -> None:
    options = {"url": prometheus.url, "timeout": "1500ms"}
    outcome = run(prometheus.url, tmp_path, error_rate(), prometheus=options)
    assert outcome.status is Status.PASS, outcome.summary


def test_compare_fails_on_a_regression(prometheus: PrometheusServer, tmp_path) -> None:
    obj = error_rate("checkout", max=0.05, compare={"offset": "1d", "max_increase": "50%"})
    outcome = run(prometheus.url, tmp_path, obj)
    assert outcome.status is Status.FAIL
    assert outcome.summary == "error_rate 3% regressed (baseline 1%, +200% > +50%)"
    row = outcome.details["objectives"][0]
    assert row["baseline"] == pytest.approx(0.01)
    assert row["threshold"] == {"max_increase": "50%"}


def test_compare_passes_without_a_regression(prometheus: PrometheusServer, tmp_path) -> None:
    obj = error_rate("api", compare={"offset": "1d", "max_increase": "10%"})
    outcome = run(prometheus.url, tmp_path, obj)
    assert outcome.status is Status.PASS, outcome.summary
    assert outcome.summary == "error_rate 0.8% <= 1% (baseline 0.8%, +0%)"


def test_compare_absolute_increase(prometheus: PrometheusServer, tmp_path) -> None:
    small = p95("web", compare={"offset": "1d", "max_increase": 0.01})
    assert run(prometheus.url, tmp_path, small).status is Status.PASS
    tight = p95("web", compare={"offset": "1d", "max_increase": 0.001})
    outcome = run(prometheus.url, tmp_path, tight)
    assert outcome.status is Status.FAIL
    assert "(baseline 245ms, +5ms > +1ms)" in outcome.summary


def test_missing_baseline_is_an_error(prometheus: PrometheusServer, tmp_path) -> None:
    obj = error_rate("api", compare={"offset": "7d", "max_increase": "10%"})
    outcome = run(prometheus.url, tmp_path, obj)
    assert outcome.status is Status.ERROR
    assert outcome.details["objectives"][0]["reason"].startswith("baseline 7d ago: no data")


def test_no_data_at_another_time_is_an_error(prometheus: PrometheusServer, tmp_path) -> None:
    outcome = run(prometheus.url, tmp_path, error_rate(), now=NOW + timedelta(hours=2))
    assert outcome.status is Status.ERROR


def test_warn_thresholds(prometheus: PrometheusServer, tmp_path) -> None:
    outcome = run(prometheus.url, tmp_path, error_rate(warn_max=0.005))
    assert outcome.status is Status.WARN
    assert outcome.summary == "error_rate 0.8% > 0.5%"


def test_min_objective(prometheus: PrometheusServer, tmp_path) -> None:
    query = f"1 - ({ERRORS.format(s='checkout')})"
    outcome = run(
        prometheus.url,
        tmp_path,
        {"name": "availability", "query": query, "min": 0.99, "unit": "ratio"},
    )
    assert outcome.status is Status.FAIL
    assert outcome.summary == "availability 97% < 99%"


def test_headers_and_url_from_the_environment(prometheus: PrometheusServer, tmp_path) -> None:
    options = {
        "prometheus": {"url_env": "PROM_URL", "headers_env": {"Authorization": "PROM_AUTH"}},
        "objectives": [error_rate()],
    }
    ctx = RunContext(tmp_path, NOW, environ={"PROM_URL": prometheus.url, "PROM_AUTH": "Bearer s3"})
    outcome = CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))
    assert outcome.status is Status.PASS
    ctx = RunContext(tmp_path, NOW, environ={"PROM_URL": prometheus.url})
    with pytest.raises(EvidenceError, match="PROM_AUTH, which is not set"):
        CHECK.evaluate(with_defaults(CHECK, options), Evidence(ctx))


def test_credentials_in_the_url_are_not_shown(tmp_path) -> None:
    url = closed_url().replace("http://", "http://user:hunter2@") + "/prom?token=abc"
    outcome = run(url, tmp_path, error_rate())
    text = repr(outcome)
    assert "hunter2" not in text and "abc" not in text
    assert outcome.details["prometheus"].startswith("http://127.0.0.1:")


def test_warnings_are_kept_in_the_details() -> None:
    body = {
        "status": "error",
        "errorType": "timeout",
        "error": "query timed out",
        "warnings": ["PromQL info: metric might not be a counter"],
    }
    with pytest.raises(QueryError) as caught:
        parse_response(503, body, "q")
    assert caught.value.warnings == ("PromQL info: metric might not be a counter",)
    ok = {
        "status": "success",
        "warnings": ["partial response"],
        "data": {"resultType": "scalar", "result": [1, "2.5"]},
    }
    assert parse_response(200, ok, "q").warnings == ("partial response",)


def test_series_labels_are_quoted_and_control_characters_escaped() -> None:
    result = [
        {"metric": {"__name__": "m", "path": "/x\x1b[2J"}, "value": [1, "1"]},
        {"metric": {"__name__": "m", "path": "/y"}, "value": [1, "2"]},
    ]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    with pytest.raises(QueryError) as caught:
        parse_response(200, body, "m")
    assert str(caught.value) == (
        '2 series returned (m{path="/x\\u001b[2J"}; m{path="/y"}), expected one number'
    )


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"status": "success"},
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1]}]},
        },
        {"status": "success", "data": {"resultType": "scalar", "result": [1, "abc"]}},
    ],
)
def test_malformed_answers_are_errors(body) -> None:
    with pytest.raises(QueryError):
        parse_response(200, body, "q")


def test_show() -> None:
    assert show(0.008, "ratio") == "0.8%"
    assert show(0.412, "seconds") == "412ms"
    assert show(12.5, "seconds") == "12.5s"
    assert show(99.95, "percent") == "99.95%"
    assert show(3, "none") == "3"
    assert not math.isnan(0.0)


def test_policy_validation() -> None:
    bad = {
        "prometheus": {"url": "http://p"},
        "objectives": [
            {"name": "a", "query": "q", "max": 1, "warn_max": 2},
            {"name": "a", "query": "q", "min": 1},
        ],
    }
    problems = validate(with_defaults(CHECK, bad))
    assert (("objectives", 0, "warn_max"), "warn_max is above max") in problems
    assert (("objectives", 1, "name"), "duplicate objective 'a'") in problems
    with pytest.raises(jsonschema.ValidationError):  # an objective needs a bound
        jsonschema.validate(
            {"prometheus": {"url": "http://p"}, "objectives": [{"name": "a", "query": "q"}]},
            CHECK.options,
        )
