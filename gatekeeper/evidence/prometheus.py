"""Prometheus evidence: instant queries through the HTTP API (``/api/v1/query``).

A query must come back as exactly one number: a scalar, or a vector of one sample. An
empty vector, several series, NaN or ±Inf, ``status: error``, an HTTP error, a timeout or
an unreachable server is an ``EvidenceError`` - never a value - so an SLO cannot pass
on data that was not there (Keptn's lighthouse did: keptn/keptn#6096).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gatekeeper import durations
from gatekeeper.errors import EvidenceError

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence


@dataclass(frozen=True)
class Server:
    url: str
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    timeout: float = 10.0

    @property
    def shown(self) -> str:
        """The server for messages: scheme, host and path, never credentials or a query."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")


class QueryError(EvidenceError):
    """One query could not give one number; ``warnings`` are Prometheus's own, if any."""

    def __init__(self, message: str, remedy: str, warnings: tuple[str, ...] = ()) -> None:
        super().__init__(message, remedy)
        self.warnings = warnings


@dataclass(frozen=True)
class Value:
    value: float
    labels: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def server(
    environ: Mapping[str, str],
    url: str | None,
    url_env: str | None,
    headers_env: Mapping[str, str] | None,
    timeout: float,
) -> Server:
    """Where to ask, from the policy's ``prometheus`` block (variables read from ``environ``)."""
    if not url and url_env:
        url = environ.get(url_env, "").strip()
        if not url:
            raise EvidenceError(
                f"the Prometheus URL variable {url_env} is not set",
                f"set {url_env} in the job's environment (e.g. https://prometheus.example:9090)",
            )
    if not url:
        raise EvidenceError("no Prometheus URL", "set prometheus.url or prometheus.url_env")
    headers = []
    for name, var in (headers_env or {}).items():
        if var not in environ:
            raise EvidenceError(
                f"header {name} comes from {var}, which is not set",
                f"set {var} in the job's environment (e.g. from a secret)",
            )
        headers.append((name, environ[var]))
    return Server(url.rstrip("/"), tuple(headers), timeout)


def _number(raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{raw!r} is not a number") from None


def parse_response(status: int, body: Any, query: str) -> Value:
    """One value from an ``/api/v1/query`` answer, or a ``QueryError`` saying why not."""
    if not isinstance(body, dict):
        raise QueryError(
            f"HTTP {status}: the answer is not a Prometheus API response",
            "check prometheus.url points at Prometheus (the base URL, without /api/v1)",
        )
    warnings = tuple(str(w) for w in body.get("warnings") or [] if w)
    if body.get("status") != "success":
        kind = body.get("errorType") or "error"
        raise QueryError(
            f"Prometheus answered {kind}: {str(body.get('error') or 'no message')[:300]}",
            "fix the query (try it in the Prometheus UI at the same time)",
            warnings,
        )
    raw = body.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind, result = data.get("resultType"), data.get("result")
    labels: dict[str, str] = {}
    try:
        if kind == "scalar" and isinstance(result, list) and len(result) == 2:
            value = _number(result[1])
        elif kind == "vector" and isinstance(result, list):
            if not result:
                raise QueryError(
                    "no data: the query returned an empty vector",
                    "check the metric names and labels, and that Prometheus scrapes the "
                    "service; a missing metric is never a pass",
                    warnings,
                )
            if len(result) > 1:
                series = "; ".join(_series(s) for s in result[:3])
                more = f" and {len(result) - 3} more" if len(result) > 3 else ""
                raise QueryError(
                    f"{len(result)} series returned ({series}{more}), expected one number",
                    "aggregate the query to one series, e.g. sum(...) or max(...)",
                    warnings,
                )
            labels = dict(result[0].get("metric") or {})
            value = _number(result[0]["value"][1])
        else:
            raise QueryError(
                f"result type {kind!r} is not one number",
                "write an instant query that gives a scalar or a one-sample vector "
                "(not a range vector)",
                warnings,
            )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
        raise QueryError(
            f"malformed Prometheus result ({e})", "check prometheus.url", warnings
        ) from None
    if math.isnan(value) or math.isinf(value):
        raise QueryError(
            f"the query evaluated to {_shown(value)}, not a usable number",
            "NaN usually means 0/0 (no traffic in the window); check the query and the window",
            warnings,
        )
    return Value(value, labels, warnings)


def _series(sample: Any) -> str:
    metric = sample.get("metric") if isinstance(sample, dict) else None
    if not isinstance(metric, dict):
        return "?"
    name = metric.get("__name__", "")
    # json.dumps quotes like PromQL and escapes control characters a label value may carry.
    inner = ",".join(
        f"{k}={json.dumps(str(v))}" for k, v in sorted(metric.items()) if k != "__name__"
    )
    return f"{name}{{{inner}}}"


def _shown(value: float) -> str:
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def query(ev: Evidence, srv: Server, promql: str, at: datetime) -> Value:
    """The value of ``promql`` at ``at``; cached per run."""
    return ev.cached(("prometheus", srv, promql, at.timestamp()), lambda: _query(srv, promql, at))


def _query(srv: Server, promql: str, at: datetime) -> Value:
    import requests

    # Prometheus's durations are integers with a unit: 0.5 s is "500ms", not "0.5s".
    budget = durations.promql(timedelta(seconds=srv.timeout))
    params = {"query": promql, "time": f"{at.timestamp():.3f}", "timeout": budget}
    remedy = f"check that Prometheus at {srv.shown} is up and reachable from this job"
    try:
        response = requests.post(
            f"{srv.url}/api/v1/query",
            data=params,
            headers=dict(srv.headers),
            timeout=srv.timeout,
            allow_redirects=False,
        )
    except requests.Timeout:
        raise QueryError(
            f"Prometheus at {srv.shown} timed out after {srv.timeout:g} s", remedy
        ) from None
    except requests.RequestException as e:
        # The exception's text may carry the URL with credentials: name the type only.
        raise QueryError(
            f"Prometheus at {srv.shown} is unreachable ({type(e).__name__})", remedy
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 and not (isinstance(body, dict) and body.get("error")):
        hint = (
            "check the credentials in prometheus.headers_env"
            if response.status_code in (401, 403)
            else remedy
        )
        raise QueryError(f"Prometheus at {srv.shown} answered HTTP {response.status_code}", hint)
    return parse_response(response.status_code, body, promql)
