"""`gatekeeper demo`: a realistic small release, judged twice by a shipped policy.

It builds a throwaway git repository for a payments service, cuts a release branch,
and runs the demo policy on it: first as a release attempted during the year-end
freeze, without a changelog entry and with the new error path untested (blocked),
then after the fix, in January (approved). The smoke run's reports are written the
way coverage.py (`coverage json`) and pytest (`--junitxml`) write them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.policies import read

if TYPE_CHECKING:
    import git

FILES = {
    "src/payments/api.py": "def charge(amount_cents: int) -> dict:\n    return {'status': 'ok', 'amount': amount_cents}\n",
    "CHANGELOG.md": "# Changelog\n\n## [1.3.0] - 2026-11-02\n### Added\n- Refunds API.\n",
    "docs/MIGRATIONS.md": "# Migrations\n",
    ".gitignore": "build/\n",
    "tests/test_api.py": "from payments.api import charge\n\n\ndef test_charge():\n    assert charge(100)['status'] == 'ok'\n",
}
FEATURE = (
    "def charge(amount_cents: int, currency: str = 'EUR') -> dict:\n"
    "    if amount_cents <= 0:\n"
    "        raise ValueError('amount must be positive')\n"
    "    return {'status': 'ok', 'amount': amount_cents, 'currency': currency}\n"
)
TESTS = (
    "import pytest\n\nfrom payments.api import charge\n\n\ndef test_charge():\n"
    "    assert charge(100)['status'] == 'ok'\n\n\ndef test_charge_in_dollars():\n"
    "    assert charge(100, 'USD')['currency'] == 'USD'\n    with pytest.raises(ValueError):\n"
    "        charge(0)\n"
)
ENTRY = "# Changelog\n\n## [1.4.0] - 2027-01-05\n### Added\n- Multi-currency charges.\n\n## [1.3.0] - 2026-11-02\n### Added\n- Refunds API.\n"
SMOKE_TESTS = ["test_charge", "test_charge_in_dollars"]


def _coverage_json(executed: list[int], missing: list[int]) -> str:
    """A coverage.py JSON report (format 3) for src/payments/api.py."""
    import json

    statements = len(executed) + len(missing)
    summary = {
        "covered_lines": len(executed),
        "num_statements": statements,
        "percent_covered": 100.0 * len(executed) / statements,
        "missing_lines": len(missing),
        "excluded_lines": 0,
    }
    entry = {
        "executed_lines": executed,
        "summary": summary,
        "missing_lines": missing,
        "excluded_lines": [],
    }
    return json.dumps(
        {
            "meta": {
                "format": 3,
                "version": "7.6.1",
                # Made now, after the commits, as a CI run would (local time, as
                # coverage.py writes it): an older report would be a stale one.
                "timestamp": datetime.now().isoformat(),
                "branch_coverage": False,
                "show_contexts": False,
            },
            "files": {"src/payments/api.py": entry},
            "totals": summary,
        },
        indent=2,
    )


def _junit_xml(tests: list[str]) -> str:
    cases = "".join(
        f'<testcase classname="tests.test_api" name="{t}" time="0.001" />' for t in tests
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" '
        f'failures="0" skipped="0" tests="{len(tests)}" time="0.01" timestamp="2026-11-23T10:00:00" '
        f'hostname="ci">{cases}</testsuite></testsuites>'
    )


def _smoke_run(root: Path, executed: list[int], missing: list[int], tests: list[str]) -> None:
    """What the CI job's smoke run leaves behind: build/coverage.json and build/junit.xml."""
    (root / "build").mkdir(exist_ok=True)
    (root / "build/coverage.json").write_text(_coverage_json(executed, missing), encoding="utf-8")
    (root / "build/junit.xml").write_text(_junit_xml(tests), encoding="utf-8")


BLOCKED_AT = "2026-12-22T10:30:00+01:00"
APPROVED_AT = "2027-01-05T10:30:00+01:00"


def _commit(repo: git.Repo, files: dict[str, str], message: str) -> None:
    root = Path(repo.working_tree_dir or ".")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    repo.index.add(list(files))
    repo.index.commit(message)


def build_repo(root: Path) -> git.Repo:
    """The demo repository: main with v1.3.0, and release/1.4.0 with a feature."""
    import git

    repo = git.Repo.init(root, initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Demo Developer")
        cfg.set_value("user", "email", "dev@example.com")
    _commit(repo, FILES, "Payments service 1.3.0")
    repo.create_tag("v1.3.0")
    repo.git.checkout("-b", "release/1.4.0")
    _commit(repo, {"src/payments/api.py": FEATURE}, "Charge in any currency")
    return repo


def _run(root: Path, policy: Path, now: str, echo: Callable[[str], None]) -> int:
    from gatekeeper.report import render
    from gatekeeper.run import CheckRequest, run_check

    request = CheckRequest(
        policy=policy,
        now=datetime.fromisoformat(now),
        repo=root,
        base="main",
        env="production",
        environ={},
    )
    report = run_check(request)
    echo(render(report, "text"))
    return report.exit_code


def run_demo(keep: Path | None, echo: Callable[[str], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="gatekeeper-demo-") as tmp:
        root = keep or Path(tmp) / "payments-service"
        root.mkdir(parents=True, exist_ok=True)
        policy = Path(tmp) / "release-policy.yml"
        policy.write_text(read("demo.yml"), encoding="utf-8")
        repo = build_repo(root)
        _smoke_run(root, executed=[1, 2, 4], missing=[3], tests=SMOKE_TESTS[:1])
        echo(f"Demo repository: {root} (branch release/1.4.0, compared with main)\n")
        echo(
            f"$ gatekeeper check --policy release-policy.yml --base main --env production --now {BLOCKED_AT}"
        )
        first = _run(root, policy, BLOCKED_AT, echo)
        echo(f"exit code {first}: the release is blocked.\n")
        echo(
            "Fix: test the new error path, add the 1.4.0 changelog entry, tag v1.4.0, "
            "and wait for the freeze to end.\n"
        )
        _commit(
            repo,
            {"CHANGELOG.md": ENTRY, "tests/test_api.py": TESTS},
            "Test refusals; changelog for 1.4.0",
        )
        _smoke_run(root, executed=[1, 2, 3, 4], missing=[], tests=SMOKE_TESTS)
        repo.create_tag("v1.4.0")
        echo(
            f"$ gatekeeper check --policy release-policy.yml --base main --env production --now {APPROVED_AT}"
        )
        second = _run(root, policy, APPROVED_AT, echo)
        echo(f"exit code {second}: the release is approved.")
        if (first, second) != (1, 0):
            raise RuntimeError(f"demo expected exit codes 1 then 0, got {first} then {second}")
