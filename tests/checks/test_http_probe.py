"""``http-probe`` against a local http.server on 127.0.0.1 that is unhealthy, then healthy."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.checks import with_defaults
from gatekeeper.checks.http_probe import CHECK, json_equal, resolve_pointer, validate
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence.probes import Response, poll, redact, target
from gatekeeper.model import Status
from tests.fakes.service import Service, service_fixture  # noqa: F401
from tests.prometheus_server import closed_url

HEALTHY = {"status": "ok", "version": "1.4.0", "checks": [{"db": True}], "a/b": {"m~n": 1}}


def run(tmp_path: Path, environ: dict[str, str] | None = None, **options: Any):
    jsonschema.validate(options, CHECK.options)
    merged = with_defaults(CHECK, options)
    assert validate(merged) == []
    ctx = RunContext(tmp_path, datetime.now(UTC), environ=environ or {})
    return CHECK.evaluate(merged, Evidence(ctx))


def test_503_twice_then_200_passes_with_the_issue_options(service: Service, tmp_path) -> None:
    url = service.script("/health", (503, "down"), (503, "down"), (200, HEALTHY))
    started = time.monotonic()
    outcome = run(tmp_path, targets=[{"url": url}], within="30s", interval="1s")
    took = time.monotonic() - started
    assert outcome.status is Status.PASS, outcome.summary
    row = outcome.details["targets"][0]
    assert row["attempts"] == 3
    assert row["last_status"] == 200
    assert [h["status"] for h in row["history"]] == [503, 503, 200]
    assert row["history"][0]["reason"] == "status 503, expected 200"
    assert 1.9 < took < 10  # two 1 s intervals, and not the whole 30 s (about 2.05 s here)


def test_always_503_fails_after_within(service: Service, tmp_path) -> None:
    url = service.script("/health", (503, {"status": "starting"}))
    started = time.monotonic()
    outcome = run(tmp_path, targets=[{"url": url}], within="300ms", interval="100ms")
    took = time.monotonic() - started
    assert outcome.status is Status.FAIL
    assert 0.3 <= took < 5  # about 0.33 s on a quiet machine
    row = outcome.details["targets"][0]
    assert row["attempts"] == 4  # at 0, 0.1, 0.2 and 0.3 s
    assert outcome.summary == (
        f"1 of 1 target not healthy within 300ms: {url}: status 503, expected 200 "
        "(after 4 attempts)"
    )


def test_wrong_json_pointer_value_fails_naming_the_pointer(service: Service, tmp_path) -> None:
    url = service.script("/health", (200, {**HEALTHY, "status": "degraded"}))
    outcome = run(tmp_path, targets=[{"url": url, "json": {"/status": "ok"}}])
    assert outcome.status is Status.FAIL
    assert 'JSON pointer \'/status\' is "degraded", expected "ok"' in outcome.summary
    assert outcome.details["targets"][0]["attempts"] == 1


def test_json_pointers_escapes_arrays_and_missing(service: Service, tmp_path) -> None:
    url = service.script("/health", (200, HEALTHY))
    good = {"/status": "ok", "/checks/0/db": True, "/a~1b/m~0n": 1}
    assert run(tmp_path, targets=[{"url": url, "json": good}]).status is Status.PASS
    missing = run(tmp_path, targets=[{"url": url, "json": {"/checks/1/db": True}}])
    assert "JSON pointer '/checks/1/db' not found" in missing.summary
    # true is not 1 in JSON, whatever Python says
    typed = run(tmp_path, targets=[{"url": url, "json": {"/checks/0/db": 1}}])
    assert typed.status is Status.FAIL


def test_contains_status_list_and_latency(service: Service, tmp_path) -> None:
    url = service.script("/ready", (204, b""))
    assert run(tmp_path, targets=[{"url": url, "expect_status": [200, 204]}]).status is (
        Status.PASS
    )
    url = service.script("/page", (200, b"<h1>Welcome</h1>"))
    assert run(tmp_path, targets=[{"url": url, "contains": "Welcome"}]).status is Status.PASS
    outcome = run(tmp_path, targets=[{"url": url, "contains": "Goodbye"}])
    assert "body does not contain 'Goodbye'" in outcome.summary
    slow = service.script("/slow", (200, b"ok", 0.15))
    outcome = run(tmp_path, targets=[{"url": slow, "max_latency_ms": 50}])
    assert outcome.status is Status.FAIL
    assert "ms > 50ms" in outcome.summary


def test_connection_refused_and_timeout_are_failed_attempts(service: Service, tmp_path) -> None:
    refused = run(tmp_path, targets=[{"url": closed_url() + "/health"}])
    assert refused.status is Status.FAIL
    assert "connection failed (ConnectionError)" in refused.summary
    assert refused.details["targets"][0]["last_status"] is None
    slow = service.script("/slow", (200, b"ok", 0.5))
    timed_out = run(tmp_path, targets=[{"url": slow}], timeout="100ms")
    assert timed_out.status is Status.FAIL
    assert "timed out after 0.1 s" in timed_out.summary


def test_consecutive_needs_passes_in_a_row(service: Service, tmp_path) -> None:
    url = service.script("/flaky", (200, b"ok"), (503, b""), (200, b"ok"), (200, b"ok"))
    outcome = run(tmp_path, targets=[{"url": url}], within="1s", interval="20ms", consecutive=2)
    assert outcome.status is Status.PASS
    assert outcome.details["targets"][0]["attempts"] == 4
    url = service.script("/flap", (200, b"ok"), (503, b""))
    outcome = run(tmp_path, targets=[{"url": url}], interval="20ms", consecutive=2)
    assert outcome.status is Status.FAIL  # no `within`: just the two attempts it needs


def test_url_env_with_credentials_is_never_printed_whole(service: Service, tmp_path) -> None:
    url = service.script("/health", (503, b"down")).replace("http://", "http://ops:hunter2@")
    environ = {"DEPLOY_URL": url + "?access_token=t0ps3cret&region=eu", "API_KEY": "k3y-value"}
    outcome = run(
        tmp_path,
        environ,
        targets=[{"url_env": "DEPLOY_URL", "headers_env": {"X-Api-Key": "API_KEY"}}],
    )
    text = json.dumps([outcome.summary, outcome.details, outcome.remedy])
    for secret in ("hunter2", "ops:", "t0ps3cret", "k3y-value", "eu"):
        assert secret not in text
    assert "http://***@127.0.0.1:" in outcome.summary
    assert service.headers[-1]["X-Api-Key"] == "k3y-value"  # but it was sent
    closed = closed_url().replace("http://", "http://ops:hunter2@") + "/?token=t0ps3cret"
    outcome = run(tmp_path, {"U": closed}, targets=[{"url_env": "U"}])
    assert "hunter2" not in outcome.summary and "t0ps3cret" not in outcome.summary


def test_missing_variables_are_evidence_errors(tmp_path) -> None:
    with pytest.raises(EvidenceError, match="DEPLOY_URL is not set"):
        run(tmp_path, targets=[{"url_env": "DEPLOY_URL"}])
    with pytest.raises(EvidenceError, match="not http"):
        target({"U": "file:///etc/passwd"}, None, "U")


def test_redact() -> None:
    assert redact("https://u:p@h.example:8443/x?token=1&a=2") == (
        "https://***@h.example:8443/x?token=***&a=2"
    )
    assert redact("https://h.example/x?a=2", all_query=True) == "https://h.example/x?a=***"
    assert redact("https://h.example/x") == "https://h.example/x"


def test_poll_with_an_injected_clock() -> None:
    now = [0.0]
    answers = iter([503, 503, 503, 200])

    def fetch(t, timeout):
        return Response(next(answers), 1.0)

    def sleep(s):
        now[0] += s

    t = target({}, "http://svc/health", None)
    progress, spent = poll(
        [(t, lambda r: None if r.status == 200 else "bad")],
        timeout=1,
        within=300,
        interval=60,
        fetch_one=fetch,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert progress[0].attempts == 4 and progress[0].streak == 1
    assert spent == 180


@pytest.mark.parametrize(
    ("within", "interval", "attempts"), [(0.3, 0.1, 4), (0.7, 0.1, 8), (30, 1, 31), (0, 10, 1)]
)
def test_poll_counts_rounds_exactly(within: float, interval: float, attempts: int) -> None:
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    t = target({}, "http://svc/health", None)
    progress, _ = poll(
        [(t, lambda r: "down")],
        timeout=1,
        within=within,
        interval=interval,
        fetch_one=lambda t, timeout: Response(503, 1.0),
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert progress[0].attempts == attempts


@given(st.lists(st.text(), max_size=4), st.integers())
def test_pointer_escaping_round_trips(keys: list[str], leaf: int) -> None:
    doc: Any = leaf
    for key in reversed(keys):
        doc = {key: doc}
    pointer = "".join("/" + k.replace("~", "~0").replace("/", "~1") for k in keys)
    assert resolve_pointer(doc, pointer) == leaf


def test_pointer_rules() -> None:
    doc = {"a": [10, 20], "": 5}
    assert resolve_pointer(doc, "") == doc
    assert resolve_pointer(doc, "/") == 5
    assert resolve_pointer(doc, "/a/1") == 20
    for bad in ("/a/01", "/a/-", "/a/2", "/b", "/a/0/x"):
        with pytest.raises(KeyError):
            resolve_pointer(doc, bad)
    assert json_equal(1, 1.0) and not json_equal(True, 1) and not json_equal("1", 1)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
