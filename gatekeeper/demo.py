"""`gatekeeper demo`: a realistic small release, judged twice by a shipped policy.

It builds a throwaway git repository for a payments service, cuts a release branch,
and runs the demo policy on it: first as a release attempted during the year-end
freeze without a changelog entry (blocked), then after the fix, in January (approved).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gatekeeper.policies import read

FILES = {
    "src/payments/api.py": "def charge(amount_cents: int) -> dict:\n    return {'status': 'ok', 'amount': amount_cents}\n",
    "CHANGELOG.md": "# Changelog\n\n## [1.3.0] - 2026-11-02\n### Added\n- Refunds API.\n",
    "docs/MIGRATIONS.md": "# Migrations\n",
}
FEATURE = (
    "def charge(amount_cents: int, currency: str = 'EUR') -> dict:\n"
    "    if amount_cents <= 0:\n"
    "        raise ValueError('amount must be positive')\n"
    "    return {'status': 'ok', 'amount': amount_cents, 'currency': currency}\n"
)
ENTRY = "# Changelog\n\n## [1.4.0] - 2027-01-05\n### Added\n- Multi-currency charges.\n\n## [1.3.0] - 2026-11-02\n### Added\n- Refunds API.\n"
BLOCKED_AT = "2026-12-22T10:30:00+01:00"
APPROVED_AT = "2027-01-05T10:30:00+01:00"


def _commit(repo, files: dict[str, str], message: str) -> None:  # type: ignore[no-untyped-def]
    root = Path(repo.working_tree_dir)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    repo.index.add(list(files))
    repo.index.commit(message)


def build_repo(root: Path):  # type: ignore[no-untyped-def]
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
        echo(f"Demo repository: {root} (branch release/1.4.0, compared with main)\n")
        echo(
            f"$ gatekeeper check --policy release-policy.yml --base main --env production --now {BLOCKED_AT}"
        )
        first = _run(root, policy, BLOCKED_AT, echo)
        echo(f"exit code {first}: the release is blocked.\n")
        echo("Fix: add the 1.4.0 changelog entry, tag v1.4.0, and wait for the freeze to end.\n")
        _commit(repo, {"CHANGELOG.md": ENTRY}, "Changelog for 1.4.0")
        repo.create_tag("v1.4.0")
        echo(
            f"$ gatekeeper check --policy release-policy.yml --base main --env production --now {APPROVED_AT}"
        )
        second = _run(root, policy, APPROVED_AT, echo)
        echo(f"exit code {second}: the release is approved.")
        if (first, second) != (1, 0):
            raise RuntimeError(f"demo expected exit codes 1 then 0, got {first} then {second}")
