"""Requests per run and retry timings against the fake GitHub (run by hand):

    python benchmarks/github_requests.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gatekeeper.checks import ci_checks, code_review, with_defaults
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence import Evidence, RunContext
from gatekeeper.evidence import github as gh
from gatekeeper.publish import publish
from tests.factories import make_repo
from tests.fakes.github import FakeGitHub

SHA = "a" * 40


def typical_pr(tmp: Path) -> None:
    fake = FakeGitHub().start()
    repo = make_repo(tmp / "repo")
    base = repo.commit({".github/CODEOWNERS": "* @acme/core\n/src/api/ @carol\n"})
    fake.add_pr(1, head_sha=SHA)
    for i in range(250):
        fake.add_file(1, f"src/{'api' if i % 5 == 0 else 'lib'}/f{i}.py")
    fake.teams["acme/core"] = {"bob", "dave"}
    for login in ("bob", "carol", "dave"):
        fake.roles[login] = "write"
        fake.add_review(1, login, "COMMENTED")
        fake.add_review(1, login, "APPROVED")
    for i in range(130):
        fake.add_check_run(SHA, f"job {i}")
    for i in range(5):
        fake.add_status(SHA, f"ci/{i}", "success")
    for i in range(150):
        fake.add_comment(1, f"chatter {i}", user="bob")
    env = fake.environ()
    ev = Evidence(RunContext(repo.path, datetime.now(UTC), base=base, environ=env,
                             options={"pr": 1}))
    started = time.perf_counter()
    review = code_review.CHECK.evaluate(
        with_defaults(code_review.CHECK, {"min_approvals": 2, "codeowners": True}), ev)
    checks = ci_checks.CHECK.evaluate(with_defaults(ci_checks.CHECK, {}), ev)
    publish(ev, policy_name="release", approved=True, summary="ok", markdown="# ok",
            results=[], comment=True, status=True)
    elapsed = time.perf_counter() - started
    gets = fake.requests("GET")
    print(f"typical PR (250 files, 6 reviews, 130 check runs, 5 statuses, 150 comments): "
          f"{review.status}/{checks.status}; {len(fake.log)} requests "
          f"({len(gets)} GET, {len(fake.log) - len(gets)} writes), "
          f"{len({r.path for r in gets})} distinct GET URLs, {elapsed * 1000:.0f} ms")
    fake.stop()


def faults(tmp: Path) -> None:
    fake = FakeGitHub().start()
    fake.add_pr(1)
    cases = {
        "persistent 500 (defaults: 3 retries, 0.5 s backoff)": ({}, dict(status=500)),
        "timeouts (timeout 1 s, defaults otherwise)": (
            {"GATEKEEPER_GITHUB_TIMEOUT": "1"}, dict(status=None, delay=1.5)),
        "rate limit, reset in 1 h": ({}, dict(status=403, headers={
            "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 3600)})),
        "401": ({"GITHUB_TOKEN": "wrong"}, dict(status=None)),
    }
    for name, (env_extra, fault) in cases.items():
        fake.faults.clear()
        fake.log.clear()
        fake.fail(r"/pulls/1$", **fault)
        env = {"GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": fake.repo,
               "GITHUB_TOKEN": fake.token, **env_extra}
        ev = Evidence(RunContext(tmp, datetime.now(UTC), environ=env, options={"pr": 1}))
        started = time.perf_counter()
        try:
            gh.pull_request(ev)
            result = "ok"
        except EvidenceError as e:
            result = str(e)[:90]
        print(f"{name}: {len(fake.log)} requests, {time.perf_counter() - started:.2f} s -> "
              f"{result}")
    fake.stop()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        typical_pr(Path(d))
        faults(Path(d))
