"""``http-probe``: the deployed service answers as expected.

Every target is requested until it passes ``consecutive`` times in a row or ``within`` is
up, every ``interval``: a rolling deploy that becomes healthy passes, one that never does
fails naming each target's last answer. No answer (connection refused, TLS, timeout) is
never a pass.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gatekeeper import durations
from gatekeeper.checks import Check, Problem
from gatekeeper.evidence import probes
from gatekeeper.model import Outcome

if TYPE_CHECKING:
    from gatekeeper.evidence import Evidence

_ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_STATUS = {"type": "integer", "minimum": 100, "maximum": 599}

OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["targets"],
    "properties": {
        "targets": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "url": {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
                    "url_env": {
                        **_ENV_NAME,
                        "description": "Variable holding the URL (never printed whole).",
                    },
                    "method": {"enum": ["GET", "HEAD", "POST", "PUT", "OPTIONS"]},
                    "expect_status": {
                        "oneOf": [_STATUS, {"type": "array", "minItems": 1, "items": _STATUS}],
                        "description": "Accepted status codes (default 200).",
                    },
                    "contains": {"type": "string", "minLength": 1},
                    "json": {
                        "type": "object",
                        "propertyNames": {"pattern": "^(/.*)?$"},
                        "minProperties": 1,
                        "description": "{RFC 6901 pointer: expected JSON value}",
                    },
                    "max_latency_ms": {"type": "number", "exclusiveMinimum": 0},
                    "headers_env": {
                        "type": "object",
                        "additionalProperties": _ENV_NAME,
                        "description": "{Header-Name: VARIABLE}; values are never printed.",
                    },
                },
                "oneOf": [{"required": ["url"]}, {"required": ["url_env"]}],
            },
        },
        "timeout": {**durations.SCHEMA, "default": "5s", "description": "Per request."},
        "within": {
            **durations.SCHEMA,
            "description": "Keep probing until every target passes or this time is up "
            "(default: no retry beyond `consecutive`).",
        },
        "interval": {**durations.SCHEMA, "default": "10s", "description": "Between attempts."},
        "consecutive": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "description": "Passes in a row each target needs.",
        },
    },
}


def validate(options: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for key in ("timeout", "interval"):
        if durations.seconds(options[key]) <= 0:
            problems.append(((key,), f"{key} must be > 0"))
    return problems


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value ``pointer`` (RFC 6901) names in ``doc``; ``KeyError`` when there is none."""
    if pointer == "":
        return doc
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, dict):
            if token not in doc:
                raise KeyError(pointer)
            doc = doc[token]
        elif isinstance(doc, list):
            if not token.isdigit() or (token != "0" and token.startswith("0")):
                raise KeyError(pointer)
            if int(token) >= len(doc):
                raise KeyError(pointer)
            doc = doc[int(token)]
        else:
            raise KeyError(pointer)
    return doc


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1`` and ``1`` is ``1.0`` (Python's == says otherwise)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def judge_for(spec: dict[str, Any]) -> probes.Judge:
    """What a passing answer looks like for one target."""
    expected = spec.get("expect_status", 200)
    statuses = expected if isinstance(expected, list) else [expected]

    def judge(r: probes.Response) -> str | None:
        if r.status is None:
            return r.error or "no answer"
        if r.status not in statuses:
            return f"status {r.status}, expected {' or '.join(map(str, statuses))}"
        if "max_latency_ms" in spec and r.latency_ms > spec["max_latency_ms"]:
            return f"latency {r.latency_ms:g}ms > {spec['max_latency_ms']:g}ms"
        text = r.body.decode("utf-8", "replace")
        if "contains" in spec and spec["contains"] not in text:
            return f"body does not contain {spec['contains']!r}"
        if "json" in spec:
            return _json_problem(text, spec["json"])
        return None

    return judge


def _json_problem(text: str, wanted: dict[str, Any]) -> str | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return "body is not JSON"
    for pointer, value in wanted.items():
        try:
            seen = resolve_pointer(doc, pointer)
        except KeyError:
            return f"JSON pointer {pointer!r} not found (expected {_short(value)})"
        if not json_equal(seen, value):
            return f"JSON pointer {pointer!r} is {_short(seen)}, expected {_short(value)}"
    return None


def evaluate(options: dict[str, Any], ev: Evidence) -> Outcome:
    specs = options["targets"]
    targets = [
        (
            probes.target(
                ev.environ,
                s.get("url"),
                s.get("url_env"),
                s.get("method", "GET"),
                s.get("headers_env"),
            ),
            judge_for(s),
        )
        for s in specs
    ]
    interval = durations.seconds(options["interval"])
    consecutive = options["consecutive"]
    # Without `within`, only as many rounds as `consecutive` needs.
    within = (
        durations.seconds(options["within"])
        if "within" in options
        else interval * (consecutive - 1)
    )
    progress, spent = probes.poll(
        targets,
        timeout=durations.seconds(options["timeout"]),
        within=within,
        interval=interval,
        consecutive=consecutive,
    )
    rows = [_row(p, consecutive) for p in progress]
    details = {
        "within_s": within,
        "interval_s": interval,
        "consecutive": consecutive,
        "elapsed_s": round(spent, 2),
        "targets": rows,
    }
    failing = [r for r in rows if not r["passed"]]
    if not failing:
        tries = sum(r["attempts"] for r in rows)
        return Outcome.passed(
            f"{_plural(len(rows), 'target')} healthy ({_plural(tries, 'request')} in {spent:.1f}s)",
            **details,
        )
    lines = "; ".join(
        f"{r['url']}: {r['reason']} (after {_plural(r['attempts'], 'attempt')})" for r in failing
    )
    waited = f"within {options['within']}" if "within" in options else ""
    return Outcome.failed(
        f"{len(failing)} of {_plural(len(rows), 'target')} not healthy{' ' + waited if waited else ''}"
        f": {lines}",
        "check the deploy (logs, rollout status) and the URL; re-run once the service is healthy",
        **details,
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _row(p: probes.Progress, consecutive: int) -> dict[str, Any]:
    last = p.last
    return {
        "url": p.target.shown,
        "method": p.target.method,
        "passed": p.streak >= consecutive,
        "attempts": p.attempts,
        "consecutive_passes": p.streak,
        "last_status": last.status if last else None,
        "latency_ms": last.latency_ms if last else None,
        "reason": p.reason if p.streak < consecutive else None,
        "history": p.history,
    }


CHECK = Check(
    name="http-probe",
    title="The deployed service answers as expected (status, body, JSON, latency), polled",
    options=OPTIONS,
    evaluate=evaluate,
    validate=validate,
    description=(
        "Requests each target (`url`, or `url_env` for a URL kept in a variable) and judges the "
        "answer: `expect_status` (200 or a list), `contains` (text), `json` ({RFC 6901 pointer: "
        "value}, JSON equality), `max_latency_ms`. With `within`, it keeps probing every "
        "`interval` until every target has `consecutive` passes in a row or the time is up. A "
        "connection error, TLS error or timeout is a failed attempt. Redirects are not followed. "
        "Credentials in URLs and header values from `headers_env` are never printed."
    ),
    example={
        "targets": [
            {"url_env": "DEPLOY_URL", "expect_status": 200, "json": {"/status": "ok"}},
            {"url": "https://www.example.com/", "contains": "Welcome", "max_latency_ms": 800},
        ],
        "timeout": "5s",
        "within": "5m",
        "interval": "10s",
        "consecutive": 2,
    },
)
