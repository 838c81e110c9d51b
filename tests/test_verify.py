"""``gatekeeper verify``: after the deploy, against a real Prometheus, a local service and the
fake GitHub; no base ref and no diff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.checks import Check, register, unregister
from gatekeeper.model import Outcome
from tests.checks.test_slo import ERRORS
from tests.factories import RepoFactory, assert_valid_report, run_cli, write_policy
from tests.fakes.github import FakeGitHub, github_fixture  # noqa: F401
from tests.fakes.service import Service, service_fixture  # noqa: F401
from tests.prometheus_server import NOW, PrometheusServer, closed_url

AT = NOW.isoformat()


def slo_rule(url: str, *objectives: dict[str, Any], rule_id: str = "slo") -> dict[str, Any]:
    return {
        "id": rule_id,
        "check": "slo",
        "with": {"prometheus": {"url": url}, "window": "15m", "objectives": list(objectives)},
    }


def error_rate(svc: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "error_rate",
        "query": ERRORS.format(s=svc),
        "max": 0.01,
        "unit": "ratio",
        **extra,
    }


def verify(
    repo: RepoFactory,
    rules: list[dict[str, Any]] | str,
    *args: str,
    env: dict[str, str | None] | None = None,
) -> tuple[int, str, dict[str, Any]]:
    """Run `gatekeeper verify` in ``repo``; exit code, text output and the JSON report."""
    policy = write_policy(repo.path / "verify.yml", rules)
    report = repo.path / "out" / "report.json"
    result = run_cli(
        "verify",
        "--policy",
        str(policy),
        "--repo",
        str(repo.path),
        "--now",
        AT,
        "--output",
        f"json={report}",
        *args,
        env=env,
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    if data:
        assert_valid_report(data)
    return result.exit_code, result.output, data


def test_slo_within_bounds_passes(prometheus: PrometheusServer, repo: RepoFactory) -> None:
    code, out, data = verify(repo, [slo_rule(prometheus.url, error_rate("api"))])
    assert code == 0, out
    assert "error_rate 0.8% <= 1%" in out
    assert data["decision"] == "approve"
    assert data["repo"]["base"] is None and data["repo"]["head"] == repo.repo.head.commit.hexsha
    assert data["rules"][0]["details"]["objectives"][0]["status"] == "pass"


def test_error_rate_above_max_fails_naming_objective_value_threshold(
    prometheus: PrometheusServer, repo: RepoFactory
) -> None:
    code, out, data = verify(repo, [slo_rule(prometheus.url, error_rate("checkout"))])
    assert code == 1
    assert "error_rate 3% > 1%" in out
    rule = data["rules"][0]
    assert rule["status"] == "fail" and rule["blocks"]
    row = rule["details"]["objectives"][0]
    assert (row["name"], row["threshold"]) == ("error_rate", {"max": 0.01})
    assert row["value"] == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("nonexistent_metric_total", "no data"),
        ("latency_p95_seconds", "2 series returned"),
        (None, "unreachable"),
    ],
    ids=["no-data", "two-series", "prometheus-down"],
)
def test_unanswerable_queries_are_errors_that_block(
    prometheus: PrometheusServer, repo: RepoFactory, query: str | None, reason: str
) -> None:
    url = prometheus.url if query else closed_url()
    objective = {"name": "q", "query": query or "up", "max": 1}
    code, out, data = verify(repo, [slo_rule(url, objective)], "--format", "json")
    assert code == 1
    rule = data["rules"][0]
    assert rule["status"] == "error" and rule["blocks"] and data["decision"] == "block"
    assert reason in rule["details"]["objectives"][0]["reason"]
    assert json.loads(out)["decision"] == "block"


def test_compare_one_day_fails_on_regression_and_passes_without(
    prometheus: PrometheusServer, repo: RepoFactory
) -> None:
    compare = {"offset": "1d", "max_increase": "50%"}
    code, out, _ = verify(
        repo, [slo_rule(prometheus.url, error_rate("checkout", max=0.05, compare=compare))]
    )
    assert code == 1
    assert "error_rate 3% regressed (baseline 1%, +200% > +50%)" in out
    code, out, _ = verify(repo, [slo_rule(prometheus.url, error_rate("api", compare=compare))])
    assert code == 0, out
    assert "error_rate 0.8% <= 1% (baseline 0.8%, +0%)" in out


def test_rules_that_need_the_diff_are_errors_saying_so(repo: RepoFactory, service: Service) -> None:
    url = service.script("/health", (200, {"status": "ok"}))
    rules = [
        {"id": "changelog", "check": "changelog"},
        {
            "id": "probe",
            "check": "http-probe",
            "when": {"paths": ["src/**"]},
            "with": {"targets": [{"url": url}]},
        },
        {"id": "healthy", "check": "http-probe", "with": {"targets": [{"url": url}]}},
    ]
    code, _, data = verify(repo, rules)
    assert code == 1
    statuses = {r["id"]: r["status"] for r in data["rules"]}
    assert statuses == {"changelog": "error", "probe": "error", "healthy": "pass"}
    for rule in data["rules"][:2]:
        assert "needs the git diff, and `gatekeeper verify` has none" in rule["summary"]
        assert "gatekeeper check" in rule["remedy"]


def test_probe_in_verify_503_twice_then_healthy(repo: RepoFactory, service: Service) -> None:
    url = service.script("/health", (503, "x"), (503, "x"), (200, {"status": "ok"}))
    rule = {
        "id": "health",
        "check": "http-probe",
        "with": {
            "targets": [{"url": url, "json": {"/status": "ok"}}],
            "within": "2s",
            "interval": "50ms",
        },
    }
    code, out, data = verify(repo, [rule])
    assert code == 0, out
    assert data["rules"][0]["details"]["targets"][0]["attempts"] == 3


@pytest.fixture
def released(repo: RepoFactory) -> RepoFactory:
    """v1.0.0 and v1.1.0 released; the head (being verified) is tagged v1.2.0."""
    repo.commit({"a.txt": "1"}, "one")
    repo.tag("v1.0.0")
    repo.commit({"a.txt": "2"}, "two")
    repo.tag("v1.1.0")
    repo.tag("other-1.1.0")
    repo.commit({"a.txt": "3"}, "three")
    repo.tag("v1.2.0")
    return repo


@pytest.fixture
def rollback_plan() -> Iterator[None]:
    """A stand-in for the `rollback-plan` check another change adds."""
    from gatekeeper.checks import registry

    if "rollback-plan" in registry():
        yield
        return
    register(
        Check(
            "rollback-plan",
            "stand-in",
            {"type": "object"},
            lambda options, ev: Outcome.passed("planned"),
        )
    )
    try:
        yield
    finally:
        unregister("rollback-plan")


def test_failed_verification_names_the_previous_release(
    prometheus: PrometheusServer, released: RepoFactory, rollback_plan: None
) -> None:
    rules = [
        slo_rule(prometheus.url, error_rate("checkout")),
        {"id": "rollback", "check": "rollback-plan"},
    ]
    code, out, data = verify(released, rules)
    assert code == 1
    slo = data["rules"][0]
    assert slo["remedy"].endswith(
        "if it does not recover, roll back to v1.1.0 (the previous release)"
    )
    assert "Rollback target: v1.1.0 (previous tag matching v*)" in data["notes"]
    assert "roll back to v1.1.0" in out


def test_a_runbook_is_named_and_tags_follow_the_glob(
    prometheus: PrometheusServer, released: RepoFactory
) -> None:
    policy = {
        "version": 1,
        "name": "After deploy",
        "runbook": "docs/rollback.md",
        "rules": [slo_rule(prometheus.url, error_rate("checkout"))],
    }
    code, _, data = verify(released, json.dumps(policy), "--release-tags", "other-*")
    assert code == 1
    assert data["rules"][0]["remedy"].endswith(
        "roll back to other-1.1.0 (the previous release) following docs/rollback.md"
    )


def test_no_rollback_advice_without_a_plan_or_when_healthy(
    prometheus: PrometheusServer, released: RepoFactory, rollback_plan: None
) -> None:
    _, _, data = verify(released, [slo_rule(prometheus.url, error_rate("checkout"))])
    assert "roll back to" not in data["rules"][0]["remedy"]
    rules = [slo_rule(prometheus.url, error_rate("api")), {"id": "rb", "check": "rollback-plan"}]
    code, _, data = verify(released, rules)
    assert code == 0 and not any("Rollback" in n for n in data["notes"])


def test_no_earlier_release_tag_says_so(prometheus: PrometheusServer, repo: RepoFactory) -> None:
    policy = {
        "version": 1,
        "runbook": "RUNBOOK.md",
        "rules": [slo_rule(prometheus.url, error_rate("checkout"))],
    }
    _, _, data = verify(repo, json.dumps(policy))
    assert "no earlier release tag matching v* is reachable" in data["rules"][0]["remedy"]


def test_promotion_in_verify_and_in_check(github: FakeGitHub, repo: RepoFactory) -> None:
    head = repo.commit({"app.py": "x = 1\n"}, "feature")
    rule = {"id": "soaked", "check": "promotion", "with": {"from": "staging", "soak": "2h"}}
    deployment = github.add_deployment(head, "staging", NOW - timedelta(hours=3))
    github.add_deployment_status(deployment, "success", NOW - timedelta(hours=3))
    env: dict[str, str | None] = {**github.environ(), "GITHUB_SHA": None}
    code, out, _ = verify(repo, [rule], "--env", "production", env=env)
    assert code == 0, out
    policy = write_policy(repo.path / "gate.yml", [rule])
    result = run_cli(
        "check",
        "--policy",
        str(policy),
        "--repo",
        str(repo.path),
        "--base",
        "HEAD~1",
        "--now",
        AT,
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "has soaked 3h in staging" in result.output


def test_promotion_api_error_blocks(github: FakeGitHub, repo: RepoFactory) -> None:
    github.fail(r"/deployments$", 502)
    rule = {"id": "soaked", "check": "promotion", "with": {"from": "staging", "soak": "2h"}}
    code, _, data = verify(repo, [rule], env={**github.environ(), "GITHUB_SHA": None})
    assert code == 1
    assert data["rules"][0]["status"] == "error"
    assert "HTTP 502" in data["rules"][0]["summary"]


def test_status_is_published_on_the_verified_commit(
    github: FakeGitHub, repo: RepoFactory, service: Service
) -> None:
    url = service.script("/health", (200, "ok"))
    rule = {"id": "up", "check": "http-probe", "with": {"targets": [{"url": url}]}}
    code, out, _ = verify(repo, [rule], "--status", env={**github.environ(), "GITHUB_SHA": None})
    assert code == 0, out
    posted = github.requests("POST", "/statuses/")
    assert len(posted) == 1
    assert posted[0].path.endswith(repo.repo.head.commit.hexsha)
    assert posted[0].body["state"] == "success"


def test_bad_input_is_exit_2(repo: RepoFactory, tmp_path: Path) -> None:
    bad = write_policy(
        repo.path / "bad.yml",
        [{"id": "p", "check": "http-probe", "with": {"targets": [], "within": "soon"}}],
    )
    result = run_cli("verify", "--policy", str(bad), "--repo", str(repo.path))
    assert result.exit_code == 2
    assert "bad.yml:" in result.output
    result = run_cli("verify", "--policy", str(bad), "--now", "yesterday")
    assert result.exit_code == 2
    good = write_policy(
        tmp_path / "ok.yml",
        [{"id": "p", "check": "http-probe", "with": {"targets": [{"url": "http://x"}]}}],
    )
    result = run_cli("verify", "--policy", str(good), "--repo", str(repo.path), "--head", "nope")
    assert result.exit_code == 2
    assert "head ref 'nope' is not a commit" in result.output


def test_the_readme_examples_are_valid_rules() -> None:
    import re

    from gatekeeper.policy import loads_policy

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## After the deploy", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.S) if b.startswith("- id:")]
    assert len(blocks) == 3
    for block in blocks:
        text = "version: 1\nrules:\n" + "".join(f"  {line}\n" for line in block.splitlines())
        policy = loads_policy(text, "README.md")
        assert policy.rules[0].check in ("http-probe", "slo", "promotion")


def test_outside_a_checkout_the_deployed_commit_comes_from_github_sha(
    github: FakeGitHub, tmp_path: Path
) -> None:
    rule = {"id": "soaked", "check": "promotion", "with": {"from": "staging"}}
    policy = write_policy(tmp_path / "p.yml", [rule])
    sha = "c" * 40
    deployment = github.add_deployment(sha, "staging", NOW - timedelta(hours=1))
    github.add_deployment_status(deployment, "success", NOW - timedelta(hours=1))
    args = ("verify", "--policy", str(policy), "--repo", str(tmp_path), "--now", AT)
    result = run_cli(*args, env={**github.environ(), "GITHUB_SHA": sha})
    assert result.exit_code == 0, result.output
    result = run_cli(*args, "--format", "json", env={**github.environ(), "GITHUB_SHA": None})
    assert result.exit_code == 1
    summary = json.loads(result.output)["rules"][0]["summary"]
    assert "nor is the deployed commit known" in summary


def test_prometheus_behind_a_broken_proxy_is_an_error(repo: RepoFactory, service: Service) -> None:
    base = service.script("/api/v1/query", (502, b"<html>Bad Gateway</html>")).rsplit("/api", 1)[0]
    code, _, data = verify(repo, [slo_rule(base, error_rate("api"))])
    assert code == 1
    assert "answered HTTP 502" in data["rules"][0]["details"]["objectives"][0]["reason"]
    html = service.script("/login/api/v1/query", (200, b"<html>Sign in</html>"))
    code, _, data = verify(repo, [slo_rule(html.rsplit("/api", 1)[0], error_rate("api"))])
    assert code == 1
    assert "not a Prometheus API response" in data["rules"][0]["details"]["objectives"][0]["reason"]


def test_an_unknown_env_is_refused_and_a_forgotten_env_is_named(
    repo: RepoFactory, service: Service
) -> None:
    url = service.script("/health", (200, "ok"))
    rules = [
        {"id": "up", "check": "http-probe", "with": {"targets": [{"url": url}]}},
        {
            "id": "prod-only",
            "check": "http-probe",
            "when": {"environments": ["production"]},
            "with": {"targets": [{"url": url}]},
        },
    ]
    code, out, _ = verify(repo, rules, "--env", "prod")
    assert code == 2
    assert "--env 'prod' is not an environment of the policy" in out
    code, _, data = verify(repo, rules)
    assert code == 0
    assert any(n.startswith("no --env given: 1 rule waits") for n in data["notes"])


def test_the_rollback_plan_rule_gives_the_tag_glob_and_runbook(
    prometheus: PrometheusServer, released: RepoFactory, rollback_plan: None
) -> None:
    rules = [
        slo_rule(prometheus.url, error_rate("checkout")),
        {
            "id": "rollback",
            "check": "rollback-plan",
            "with": {"runbook": "docs/rb.md", "previous_release": "other-*"},
        },
    ]
    _, _, data = verify(released, rules)
    assert data["rules"][0]["remedy"].endswith(
        "roll back to other-1.1.0 (the previous release) following docs/rb.md"
    )
    _, _, data = verify(released, rules, "--release-tags", "v*")  # the command line wins
    assert "roll back to v1.1.0 (the previous release)" in data["rules"][0]["remedy"]


def test_rollback_plan_reading() -> None:
    from gatekeeper.policy import loads_policy
    from gatekeeper.run import RollbackPlan, rollback_plan

    def plan(text: str) -> RollbackPlan | None:
        return rollback_plan(loads_policy("version: 1\n" + text, "p.yml"))

    rule = "rules:\n  - {id: c, check: changelog}\n"
    assert plan(rule) is None
    assert plan("runbook: RUNBOOK.md\n" + rule) == RollbackPlan("RUNBOOK.md", None)
