"""A real Prometheus server over a deterministic TSDB, shared by every SLO test.

The data is written as OpenMetrics with timestamps, turned into blocks by
``promtool tsdb create-blocks-from openmetrics`` and served by ``prometheus`` on a free
127.0.0.1 port with no scrape targets (it never reaches the network). Queries run at the
fixed times below. In CI (``CI=true``) a missing Prometheus fails the tests loudly; on a
laptop they are skipped with the command that installs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""The moment the tests verify at; the data covers the 30 minutes before it and the same
30 minutes one day earlier (the `compare: {offset: 1d}` baseline)."""
DAY = timedelta(days=1)
INSTALL = "apt-get update && apt-get install -y --no-install-recommends prometheus"

# Requests per minute by (service, code), now and one day earlier.
TRAFFIC = {
    ("api", "200"): (992, 992),  # 0.8% errors now and a day ago
    ("api", "500"): (8, 8),
    ("checkout", "200"): (970, 990),  # 3% now, 1% a day ago: a regression
    ("checkout", "500"): (30, 10),
}
# p95 latency gauges in seconds, now and one day earlier.
LATENCY = {"api": (0.412, 0.280), "web": (0.250, 0.245)}


@dataclass(frozen=True)
class PrometheusServer:
    url: str


def openmetrics() -> str:
    """The samples, one per minute over the two 30-minute periods."""
    minutes = range(-30, 1)
    lines = ["# HELP http_requests Requests served.", "# TYPE http_requests counter"]
    for (service, code), (now_rate, day_rate) in TRAFFIC.items():
        total = 0
        for start, rate in ((NOW - DAY, day_rate), (NOW, now_rate)):
            for m in minutes:
                total += rate
                ts = int((start + timedelta(minutes=m)).timestamp())
                labels = f'code="{code}",service="{service}"'
                lines.append(f"http_requests_total{{{labels}}} {total} {ts}")
    lines += ["# HELP latency_p95_seconds p95 latency.", "# TYPE latency_p95_seconds gauge"]
    for service, (now_value, day_value) in LATENCY.items():
        for start, value in ((NOW - DAY, day_value), (NOW, now_value)):
            for m in minutes:
                ts = int((start + timedelta(minutes=m)).timestamp())
                lines.append(f'latency_p95_seconds{{service="{service}"}} {value} {ts}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_url() -> str:
    """A 127.0.0.1 URL nothing listens on: "Prometheus is down"."""
    return f"http://127.0.0.1:{free_port()}"


def _missing() -> None:
    message = f"prometheus and promtool are needed for the SLO tests: {INSTALL}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: these tests are never skipped in CI)")
    pytest.skip(message)


@contextlib.contextmanager
def running_prometheus(root: Path) -> Iterator[PrometheusServer]:
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        _missing()
    data = root / "data"
    (root / "samples.om").write_text(openmetrics(), encoding="utf-8")
    subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(root / "samples.om"),
            str(data),
        ],
        check=True,
        capture_output=True,
    )
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n", encoding="utf-8")
    port = free_port()
    log = (root / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=100y",  # the 2026 blocks must never be deleted
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, root / "prometheus.log")
        yield PrometheusServer(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"prometheus not ready after 30 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """One real Prometheus for the whole session (import it into a test module to use it)."""
    with running_prometheus(tmp_path_factory.mktemp("prometheus")) as server:
        yield server
