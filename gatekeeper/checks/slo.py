"""``slo``: service-level objectives from Prometheus hold after the deploy.

Each objective is one PromQL instant query at ``--now`` (``$window`` is replaced by the
rule's window), judged against ``max``/``min`` (fail) and ``warn_max``/``warn_min`` (warn),
and, with ``compare``, against the same query ``offset`` earlier (the baseline). A query
that cannot give one number is that objective's ``error``, and an error blocks: missing
data is never a pass.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from gatekeeper import durations
from gatekeeper.checks import Check, Problem
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import prometheus
from gatekeeper.model import Outcome, Status

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

_INCREASE = r"^\d+(?:\.\d+)?%$"
_HEADERS_ENV = {
    "type": "object",
    "additionalProperties": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    "description": "HTTP headers whose values come from environment variables: "
    "{Header-Name: VARIABLE} (values are never printed).",
}

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["prometheus", "objectives"],
    "properties": {
        "prometheus": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "url": {"type": "string", "pattern": "^https?://", "description": "Base URL."},
                "url_env": {
                    "type": "string",
                    "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                    "description": "Environment variable holding the base URL.",
                },
                "headers_env": _HEADERS_ENV,
                "timeout": {**durations.SCHEMA, "description": "Per query (default 10s)."},
            },
            "oneOf": [{"required": ["url"]}, {"required": ["url_env"]}],
        },
        "window": {
            **durations.SCHEMA,
            "default": "15m",
            "description": "The range the queries cover, ending at --now; `$window` in a query.",
        },
        "objectives": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "query"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]+$"},
                    "query": {"type": "string", "minLength": 1},
                    "max": {"type": "number"},
                    "min": {"type": "number"},
                    "warn_max": {"type": "number"},
                    "warn_min": {"type": "number"},
                    "unit": {
                        "enum": ["ratio", "percent", "seconds", "ms", "none"],
                        "default": "none",
                        "description": "How values are shown: ratio (0.008 as 0.8%), percent, "
                        "seconds (0.412 as 412ms), ms. Thresholds are in the query's units.",
                    },
                    "compare": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["offset", "max_increase"],
                        "properties": {
                            "offset": durations.SCHEMA,
                            "max_increase": {
                                "oneOf": [
                                    {"type": "string", "pattern": _INCREASE},
                                    {"type": "number", "minimum": 0},
                                ],
                                "description": "`10%` relative to the baseline, or an "
                                "absolute increase in the query's units.",
                            },
                        },
                    },
                },
                "anyOf": [
                    {"required": ["max"]},
                    {"required": ["min"]},
                    {"required": ["warn_max"]},
                    {"required": ["warn_min"]},
                    {"required": ["compare"]},
                ],
            },
        },
    },
}


def validate(options: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, obj in enumerate(options.get("objectives", [])):
        if obj["name"] in seen:
            problems.append((("objectives", i, "name"), f"duplicate objective {obj['name']!r}"))
        seen.add(obj["name"])
        if "max" in obj and "warn_max" in obj and obj["warn_max"] > obj["max"]:
            problems.append((("objectives", i, "warn_max"), "warn_max is above max"))
        if "min" in obj and "warn_min" in obj and obj["warn_min"] < obj["min"]:
            problems.append((("objectives", i, "warn_min"), "warn_min is below min"))
        if "compare" in obj and durations.seconds(obj["compare"]["offset"]) <= 0:
            problems.append((("objectives", i, "compare", "offset"), "offset must be > 0"))
    if durations.seconds(options.get("window", "15m")) <= 0:
        problems.append((("window",), "window must be > 0"))
    return problems


def show(value: float, unit: str) -> str:
    """A value as people read it: ``0.8%``, ``412ms``, ``1.25``."""
    if unit == "ratio":
        return f"{_num(value * 100)}%"
    if unit == "percent":
        return f"{_num(value)}%"
    if unit == "seconds":
        return f"{_num(value * 1000)}ms" if abs(value) < 10 else f"{_num(value)}s"
    if unit == "ms":
        return f"{_num(value)}ms"
    return _num(value)


def _num(value: float) -> str:
    text = f"{value:.4g}"
    return text if "e" in text or "." not in text else text.rstrip("0").rstrip(".")


def _increase(increase: Any) -> tuple[float, bool]:
    """``(amount, relative)`` from ``10%`` or ``0.05``."""
    if isinstance(increase, str) and re.fullmatch(_INCREASE, increase):
        return float(increase[:-1]) / 100, True
    return float(increase), False


class _Objective:
    """One objective's evaluation: queries, verdict and the line it adds to the summary."""

    def __init__(self, spec: dict[str, Any], query: str) -> None:
        self.spec, self.query = spec, query
        self.unit = spec.get("unit", "none")
        self.row: dict[str, Any] = {
            "name": spec["name"],
            "query": query,
            "value": None,
            "baseline": None,
            "threshold": None,
            "status": "pass",
            "reason": "",
            "warnings": [],
        }
        self.text = ""

    def error(self, what: str, e: EvidenceError) -> None:
        self.row.update(status="error", reason=f"{what}: {e}")
        if isinstance(e, prometheus.QueryError):
            self.row["warnings"] = list(e.warnings)
        self.text = f"{self.spec['name']} error ({what}: {e})"

    def judge(self, value: float) -> None:
        spec, shown = self.spec, show(value, self.unit)
        self.row["value"] = value
        checks = [
            ("max", Status.FAIL, value > spec["max"] if "max" in spec else False, ">"),
            ("min", Status.FAIL, value < spec["min"] if "min" in spec else False, "<"),
            ("warn_max", Status.WARN, value > spec.get("warn_max", value), ">"),
            ("warn_min", Status.WARN, value < spec.get("warn_min", value), "<"),
        ]
        for key, status, broken, op in checks:
            if broken:
                bound = show(spec[key], self.unit)
                self.row.update(status=status.value, threshold={key: spec[key]})
                self.row["reason"] = f"{shown} {op} {key} {bound}"
                self.text = f"{spec['name']} {shown} {op} {bound}"
                return
        held = [(k, o) for k, o in (("max", "<="), ("min", ">=")) if k in spec]
        self.row["threshold"] = {k: spec[k] for k, _ in held} or None
        bounds = " and ".join(f"{o} {show(spec[k], self.unit)}" for k, o in held)
        self.text = f"{spec['name']} {shown}" + (f" {bounds}" if bounds else "")

    def compare(self, baseline: float) -> None:
        spec, value = self.spec, self.row["value"]
        amount, relative = _increase(spec["compare"]["max_increase"])
        self.row["baseline"] = baseline
        delta = value - baseline
        if relative:
            change = delta / abs(baseline) if baseline else (0.0 if delta <= 0 else float("inf"))
            change_text = "+inf%" if change == float("inf") else f"{change * 100:+.0f}%"
            limit = f"+{_num(amount * 100)}%"
            broken = change > amount
        else:
            change_text = f"{'+' if delta >= 0 else '-'}{show(abs(delta), self.unit)}"
            limit = f"+{show(amount, self.unit)}"
            broken = delta > amount
        note = f"baseline {show(baseline, self.unit)}, {change_text}"
        if broken and self.row["status"] in ("pass", "warn"):
            self.row["status"] = "fail"
            self.row["reason"] = f"increase {change_text} over the baseline is more than {limit}"
            self.row["threshold"] = {"max_increase": spec["compare"]["max_increase"]}
            self.text = f"{spec['name']} {show(value, self.unit)} regressed ({note} > {limit})"
        else:
            self.text += f" ({note})"


def _server(options: dict[str, Any], ev: Evidence) -> prometheus.Server:
    cfg = options["prometheus"]
    timeout = durations.seconds(cfg["timeout"]) if "timeout" in cfg else 10.0
    return prometheus.server(
        ev.environ, cfg.get("url"), cfg.get("url_env"), cfg.get("headers_env"), timeout
    )


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    srv = _server(options, ev)
    window = durations.parse(options["window"])
    results = [_evaluate_one(spec, srv, window, ev) for spec in options["objectives"]]
    rows = [r.row for r in results]
    summary = "; ".join(r.text for r in results)
    details = {
        "prometheus": srv.shown,
        "window": options["window"],
        "now": ev.now.isoformat(),
        "objectives": rows,
    }
    statuses = {r["status"] for r in rows}
    bad = [r for r in rows if r["status"] in ("error", "fail")]
    names = ", ".join(r["name"] for r in bad)
    if "error" in statuses:
        return Outcome.errored(
            summary,
            f"make {names} measurable (see each objective's reason); an objective without "
            "data blocks, it never passes",
            **details,
        )
    if "fail" in statuses:
        return Outcome.failed(
            summary,
            f"investigate {names} (dashboards, logs, what the deploy changed)",
            **details,
        )
    if "warn" in statuses:
        warned = ", ".join(r["name"] for r in rows if r["status"] == "warn")
        return Outcome(Status.WARN, summary, details, f"watch {warned}: near its limit")
    return Outcome.passed(summary, **details)


def _evaluate_one(
    spec: dict[str, Any], srv: prometheus.Server, window: timedelta, ev: Evidence
) -> _Objective:
    query = spec["query"].replace("$window", durations.promql(window))
    obj = _Objective(spec, query)
    try:
        obj.judge(prometheus.query(ev, srv, query, ev.now).value)
    except EvidenceError as e:
        obj.error("query", e)
        return obj
    if "compare" in spec:
        at = ev.now - durations.parse(spec["compare"]["offset"])
        try:
            obj.compare(prometheus.query(ev, srv, query, at).value)
        except EvidenceError as e:
            obj.error(f"baseline {spec['compare']['offset']} ago", e)
    return obj


CHECK = Check(
    name="slo",
    title="Prometheus service-level objectives hold (and did not regress) after the deploy",
    options=OPTIONS,
    evaluate=evaluate,
    validate=validate,
    description=(
        "Each objective is an instant PromQL query at --now through Prometheus's HTTP API "
        "(`$window` is replaced by `window`), which must give one number: a scalar or a "
        "one-sample vector. It fails above `max` / below `min`, warns above `warn_max` / below "
        "`warn_min`, and with `compare` fails when the value exceeds the same query `offset` "
        "earlier by more than `max_increase` (`10%` relative or an absolute amount). No data, "
        "several series, NaN/Inf, a Prometheus error, an HTTP error or a timeout make the "
        "objective `error`, which blocks."
    ),
    example={
        "prometheus": {"url_env": "PROMETHEUS_URL"},
        "window": "15m",
        "objectives": [
            {
                "name": "error_rate",
                "query": 'sum(rate(http_requests_total{job="api",code=~"5.."}[$window])) / '
                'sum(rate(http_requests_total{job="api"}[$window]))',
                "max": 0.01,
                "unit": "ratio",
            },
            {
                "name": "p95_latency",
                "query": "histogram_quantile(0.95, sum by (le) "
                '(rate(http_request_duration_seconds_bucket{job="api"}[$window])))',
                "max": 0.3,
                "unit": "seconds",
                "compare": {"offset": "1d", "max_increase": "10%"},
            },
        ],
    },
)
