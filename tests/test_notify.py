"""`gatekeeper notify` against a local webhook, its git-note receipts, and the
`stakeholder-notified` rule that reads them."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.evidence.notes import NOTIFY_REF, all_notes, read, records
from tests.factories import RepoFactory, run_cli
from tests.fakes.webhook import SECRET_PATH, FakeWebhook

POLICY = """\
version: 1
notify:
  channels:
    releases: {type: slack, url_env: RELEASES_HOOK}
    ops: {type: webhook, url_env: OPS_HOOK}
    chat: {type: teams, url_env: TEAMS_HOOK}
rules:
  - id: announced
    check: stakeholder-notified
    with: {channels: [releases], lead_time: LEAD}
"""


@pytest.fixture
def hook() -> Iterator[FakeWebhook]:
    server = FakeWebhook().start()
    yield server
    server.stop()


@pytest.fixture
def app(repo: RepoFactory) -> RepoFactory:
    repo.commit({"gatekeeper.yml": POLICY.replace("LEAD", "0h")})
    repo.branch("release")
    repo.commit({"src/app.py": "x = 1\n"})
    return repo


def env(hook: FakeWebhook, **extra: str) -> dict[str, str | None]:
    return {
        "RELEASES_HOOK": hook.url,
        "OPS_HOOK": hook.url,
        "TEAMS_HOOK": hook.url,
        "GATEKEEPER_NOTIFY_BACKOFF": "0",
        "GATEKEEPER_NOTIFY_TIMEOUT": "0.3",
        **extra,
    }


def notify(app: RepoFactory, hook: FakeWebhook, *args: str, **extra: str) -> Any:
    return run_cli(
        "notify", "--policy", str(app.path / "gatekeeper.yml"), "--repo", str(app.path), *args,
        env=env(hook, **extra),
    )  # fmt: skip


def check(app: RepoFactory, lead: str, now: datetime) -> dict[str, Any]:
    policy = app.path.parent / f"p-{lead}.yml"
    policy.write_text(POLICY.replace("LEAD", lead))
    result = run_cli("check", "--policy", str(policy), "--repo", str(app.path), "--base", "main",
                     "--now", now.isoformat(), "--format", "json")  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def receipts(app: RepoFactory) -> list[dict[str, Any]]:
    head = app.repo.head.commit.hexsha
    return records(read(app.path, head), "gatekeeper/notification")


def test_notify_posts_and_writes_a_receipt_then_the_rule_reads_it(
    app: RepoFactory, hook: FakeWebhook
) -> None:
    result = notify(app, hook, "--channel", "releases", "--message", "Releasing $version ($short_head)",
                    "--version", "1.2.0")  # fmt: skip
    assert result.exit_code == 0, result.output
    head = app.repo.head.commit.hexsha
    message = f"Releasing 1.2.0 ({head[:12]})"
    assert hook.posts == [{"text": message}]
    assert f"under {NOTIFY_REF}" in result.output and hook.url not in result.output
    [receipt] = receipts(app)
    assert receipt["channel"] == "releases" and receipt["head"] == head
    assert receipt["version"] == "1.2.0" and receipt["http_status"] == 200
    assert receipt["digest"] == "sha256:" + hashlib.sha256(message.encode()).hexdigest()
    assert SECRET_PATH not in json.dumps(receipt)

    sent = datetime.fromisoformat(receipt["time"])
    passed = check(app, "0h", sent + timedelta(minutes=1))
    assert passed["decision"] == "approve", passed["rules"][0]["summary"]
    assert passed["rules"][0]["details"]["receipts"][0]["digest"] == receipt["digest"]
    early = check(app, "24h", sent + timedelta(hours=23))
    rule = early["rules"][0]
    assert early["decision"] == "block" and rule["status"] == "fail"
    assert "less than 24h ago" in rule["summary"]
    assert rule["details"]["too_recent"][0]["channel"] == "releases"
    assert check(app, "24h", sent + timedelta(hours=24, minutes=1))["decision"] == "approve"


def test_no_receipt_fails_naming_the_channel(app: RepoFactory) -> None:
    data = check(app, "0h", datetime.fromisoformat("2026-11-25T12:00:00+00:00"))
    rule = data["rules"][0]
    assert data["decision"] == "block"
    assert "no notification receipt for channel 'releases'" in rule["summary"]
    assert rule["details"]["missing_channels"] == ["releases"]
    assert "gatekeeper notify --channel releases" in rule["remedy"]


def test_a_receipt_for_another_head_does_not_count_but_one_for_the_version_does(
    app: RepoFactory, hook: FakeWebhook
) -> None:
    assert notify(app, hook, "--channel", "releases", "--message", "hi").exit_code == 0
    app.commit({"src/app.py": "x = 2\n"})
    later = datetime.fromisoformat(receipts_of_any(app)[0]["time"]) + timedelta(minutes=1)
    assert check(app, "0h", later)["decision"] == "block"
    assert notify(app, hook, "--channel", "releases", "--message", "hi", "--head", "HEAD~1",
                  "--version", "2.0.0").exit_code == 0  # fmt: skip
    app.tag("v2.0.0")
    assert check(app, "0h", later + timedelta(minutes=5))["decision"] == "approve"


def receipts_of_any(app: RepoFactory) -> list[dict[str, Any]]:
    return [
        r for text in all_notes(app.path).values() for r in records(text, "gatekeeper/notification")
    ]


@pytest.mark.parametrize(
    ("replies", "expected", "requests"),
    [
        ([500, 500, 500, 500], "HTTP 500", 4),
        (["hang"], "no answer within 0.3s (the notice may have arrived", 1),
    ],
)
def test_failed_delivery_leaves_no_receipt_and_exits_1(
    app: RepoFactory, hook: FakeWebhook, replies: list[int | str], expected: str, requests: int
) -> None:
    hook.replies = list(replies)
    result = notify(app, hook, "--channel", "releases", "--message", "hi")
    assert result.exit_code == 1
    assert expected in result.output and "no receipt was written" in result.output
    assert SECRET_PATH not in result.output and "s3cr3t" not in result.output
    assert receipts(app) == []
    assert len(hook.paths) == requests


def test_a_5xx_then_success_is_retried_and_recorded(app: RepoFactory, hook: FakeWebhook) -> None:
    hook.replies = [503]
    assert notify(app, hook, "--channel", "releases", "--message", "hi").exit_code == 0
    assert len(hook.paths) == 2 and len(receipts(app)) == 1


def test_wrong_url_fails_at_once_without_leaking_it(app: RepoFactory, hook: FakeWebhook) -> None:
    wrong = hook.url.replace("s3cr3tXYZ", "s3cr3tWRONG")
    result = notify(app, hook, "--channel", "releases", "--message", "hi", RELEASES_HOOK=wrong)
    assert result.exit_code == 1 and "HTTP 404" in result.output
    assert "s3cr3t" not in result.output and "$RELEASES_HOOK" in result.output
    assert len(hook.paths) == 1 and receipts(app) == []


def test_nothing_listening_fails(app: RepoFactory, hook: FakeWebhook) -> None:
    closed = "http://127.0.0.1:9/services/s3cr3t"
    result = notify(app, hook, "--channel", "releases", "--message", "hi", RELEASES_HOOK=closed,
                    GATEKEEPER_NOTIFY_RETRIES="1")  # fmt: skip
    assert result.exit_code == 1 and "could not connect" in result.output
    assert "s3cr3t" not in result.output and receipts(app) == []


def test_usage_problems_exit_2(app: RepoFactory, hook: FakeWebhook) -> None:
    unset = notify(app, hook, "--channel", "releases", "--message", "hi", RELEASES_HOOK="")
    assert unset.exit_code == 2 and "RELEASES_HOOK is not set" in unset.output
    unknown = notify(app, hook, "--channel", "nope", "--message", "hi")
    assert unknown.exit_code == 2 and "no notify channel 'nope'" in unknown.output
    both = notify(app, hook, "--channel", "releases")
    assert both.exit_code == 2 and "exactly one of --message and --template" in both.output
    assert hook.paths == []


def test_payload_shapes_and_template(app: RepoFactory, hook: FakeWebhook, tmp_path: Path) -> None:
    template = tmp_path / "notice.md"
    template.write_text("Release $version of $repository\n")
    result = notify(app, hook, "--channel", "chat", "--channel", "ops", "--template",
                    str(template), "--version", "3.1.0", GITHUB_REPOSITORY="acme/shop")  # fmt: skip
    assert result.exit_code == 0, result.output
    teams, webhook = hook.posts
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["text"] == "Release 3.1.0 of acme/shop\n"
    assert webhook["event"] == "release.notice" and webhook["version"] == "3.1.0"
    assert webhook["head"] == app.repo.head.commit.hexsha
    assert [r["channel"] for r in receipts(app)] == ["chat", "ops"]


def test_debug_logging_does_not_show_the_webhook_path(
    app: RepoFactory, hook: FakeWebhook, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        result = notify(app, hook, "--channel", "releases", "--message", "hi")
    assert result.exit_code == 0
    assert "s3cr3t" not in caplog.text


def test_changelog_option(app: RepoFactory, hook: FakeWebhook) -> None:
    assert notify(app, hook, "--channel", "releases", "--message", "hi").exit_code == 0
    sent = datetime.fromisoformat(receipts(app)[0]["time"])
    policy = app.path.parent / "cl.yml"
    policy.write_text(POLICY.replace("lead_time: LEAD", "changelog: true, version: '1.0.0'"))
    args = ["check", "--policy", str(policy), "--repo", str(app.path), "--base", "main",
            "--now", (sent + timedelta(minutes=1)).isoformat(), "--format", "json"]  # fmt: skip
    data = json.loads(run_cli(*args).output)
    assert "CHANGELOG.md has no entry for 1.0.0" in data["rules"][0]["summary"]
