"""The `gatekeeper` command line. Thin: it parses, calls, prints and picks the exit code.

Heavy modules (GitPython, jsonschema, requests) are imported inside commands so that
`gatekeeper --help` starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from gatekeeper import __version__
from gatekeeper.errors import GatekeeperError, PolicyError
from gatekeeper.model import EXIT_USAGE

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("text", "json", "markdown", "sarif", "junit")


def _fail(message: str) -> None:
    from gatekeeper.report.escape import plain
    from gatekeeper.secrets import redact, secret_values

    # One line: the message may quote a file or branch name from the change.
    message = redact(message, secret_values(os.environ))
    click.echo(f"gatekeeper: error: {plain(message)}", err=True)
    sys.exit(EXIT_USAGE)


def handle_errors(func: F) -> F:
    """Map Gatekeeper's errors to one clear line and exit 2; a trace only with --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = (click.get_current_context().find_root().obj or {}).get("debug", False)
        try:
            return func(*args, **kwargs)
        except PolicyError as e:
            from gatekeeper.report.escape import plain

            for problem in e.problems:
                click.echo(plain(problem), err=True)
            sys.exit(EXIT_USAGE)
        except GatekeeperError as e:
            if debug:
                raise
            _fail(str(e))
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            # The reader went away (`gatekeeper demo | head`): nothing more can be said there.
            # Exit non-zero without a message, and keep Python from complaining at shutdown.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except Exception as e:  # no decision was made: exit 2, never 0
            if debug:
                raise
            _fail(f"internal error: {type(e).__name__}: {e} (re-run with --debug for details)")

    return wrapper  # type: ignore[return-value]


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not ISO 8601 (e.g. 2026-12-24T10:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} has no UTC offset; add one, e.g. {value}+00:00 or {value}Z"
        )
    return moment


def _parse_outputs(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    outputs = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or fmt not in FORMATS or not path:
            raise click.BadParameter(
                f"{value!r}: expected FORMAT=PATH with FORMAT one of {', '.join(FORMATS)}"
            )
        outputs.append((fmt, Path(path)))
    return outputs


class _Gatekeeper(click.Group):
    """The command group, with usage errors on one line like every other error."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as e:
            # Click prints usage, a hint and the error on three lines; the README promises one.
            where = e.ctx.command_path if e.ctx else "gatekeeper"
            _fail(f"{e.format_message()} (see `{where} --help`)")
        except click.ClickException as e:
            e.show()
            sys.exit(e.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _output_options(func: F) -> F:
    """``--format`` and ``--output``, the same for every command that makes a report."""
    func = click.option(
        "--output",
        "outputs",
        multiple=True,
        metavar="FORMAT=PATH",
        help="Also write FORMAT to PATH (repeatable).",
    )(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        help="What goes to standard output.",
    )(func)


def _github_options(func: F) -> F:
    """``--pr`` and ``--repository``, for GitHub publishing."""
    func = click.option(
        "--repository", metavar="OWNER/NAME", help="Default: $GITHUB_REPOSITORY."
    )(func)
    return click.option(
        "--pr", type=click.IntRange(min=1), help="Pull request number (default: the event's)."
    )(func)


@click.group(cls=_Gatekeeper, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gatekeeper")
@click.option(
    "--debug", is_flag=True, help="Show tracebacks and debug logs (tokens are never shown)."
)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Gatekeeper: approve or block a release against a declarative policy.

    Exit codes: 0 approve, 1 block, 2 bad usage or invalid policy (no decision).
    """
    ctx.obj = {"debug": debug}
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")


@cli.command()
@click.option(
    "--policy",
    "-p",
    "policy",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gatekeeper.yml"),
    show_default=True,
    help="The policy file (the name `gatekeeper init` and the action use).",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The git repository.",
)
@click.option("--base", help="Base ref; default origin/$GITHUB_BASE_REF in a pull-request run.")
@click.option("--head", default="HEAD", show_default=True, help="Head ref: what would be released.")
@click.option("--env", "env", help="Target environment, for `when.environments`.")
@click.option("--branch", help="Target branch, for `when.branches` (default: from the base).")
@click.option("--now", "now", help="Fix the clock (ISO 8601 with offset) for time-based rules.")
@click.option("--worktree", is_flag=True, help="Include staged, unstaged and untracked changes.")
@_output_options
@click.option("--strict", is_flag=True, help="Warnings block too.")
@click.option("--comment", is_flag=True, help="Post or update the sticky pull-request comment.")
@click.option("--status", is_flag=True, help="Set the gatekeeper commit status on the head.")
@_github_options
@click.option(
    "--policy-source",
    type=click.Choice(["base", "worktree"]),
    default=None,
    help="Apply the base commit's policy or the work tree's. Default: base in CI and in "
    "pull-request runs (a change cannot weaken its own gate), the work tree on a laptop.",
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a decision record (JSON: inputs' digests, results, decision) to PATH.",
)
@click.option(
    "--record-note",
    is_flag=True,
    help="Store the decision record as a git note on the head (refs/notes/gatekeeper-decisions).",
)
@handle_errors
def check(
    policy: Path,
    repo: Path,
    base: str | None,
    head: str,
    env: str | None,
    branch: str | None,
    now: str | None,
    worktree: bool,
    fmt: str,
    outputs: tuple[str, ...],
    strict: bool,
    comment: bool,
    status: bool,
    pr: int | None,
    repository: str | None,
    policy_source: str | None,
    record_path: Path | None = None,
    record_note: bool = False,
) -> None:
    """Evaluate a policy on the change merge-base(BASE, HEAD)..HEAD and decide."""
    from gatekeeper.run import CheckRequest, run_check_with_evidence

    request = CheckRequest(
        policy=policy,
        now=_parse_now(now),
        repo=repo,
        base=base,
        head=head,
        env=env,
        branch=branch,
        strict=strict,
        worktree=worktree,
        options=_run_options(pr, repository),
        policy_source=policy_source,
    )
    targets = _parse_outputs(outputs)
    if record_path is not None or record_note:
        report, evidence = _recorded_run(request, record_path, record_note)
    else:
        report, evidence = run_check_with_evidence(request)
    _emit(report, evidence, fmt, targets, comment=comment, status=status, environ=request.environ)


@cli.command()
@click.option(
    "--policy",
    "-p",
    "policy",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The policy file.",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The checkout of what was deployed (for its commit and release tags).",
)
@click.option("--head", default="HEAD", show_default=True, help="The deployed commit.")
@click.option("--env", "env", help="The environment deployed to, for `when.environments`.")
@click.option("--branch", help="Branch, for `when.branches` (default: the checked-out one).")
@click.option("--now", "now", help="Fix the clock (ISO 8601 with offset): queries run at it.")
@_output_options
@click.option("--strict", is_flag=True, help="Warnings fail the verification too.")
@click.option("--comment", is_flag=True, help="Post or update the sticky pull-request comment.")
@click.option("--status", is_flag=True, help="Set the gatekeeper commit status on the commit.")
@_github_options
@click.option(
    "--release-tags",
    metavar="GLOB",
    help="Release tags, to name the previous release in a rollback remedy (default: the "
    "rollback-plan rule's previous_release, else v*).",
)
@handle_errors
def verify(
    policy: Path,
    repo: Path,
    head: str,
    env: str | None,
    branch: str | None,
    now: str | None,
    fmt: str,
    outputs: tuple[str, ...],
    strict: bool,
    comment: bool,
    status: bool,
    pr: int | None,
    repository: str | None,
    release_tags: str | None,
) -> None:
    """Verify a deploy against a policy (no base ref, no diff): exit 0 healthy, 1 failed."""
    from gatekeeper.run import VerifyRequest, run_verify

    request = VerifyRequest(
        policy=policy,
        now=_parse_now(now),
        repo=repo,
        head=head,
        env=env,
        branch=branch,
        strict=strict,
        release_tags=release_tags,
        options=_run_options(pr, repository),
    )
    targets = _parse_outputs(outputs)
    report, evidence = run_verify(request)
    _emit(report, evidence, fmt, targets, comment=comment, status=status, environ=request.environ)


def _run_options(pr: int | None, repository: str | None) -> dict[str, Any]:
    """The GitHub run options of ``--pr`` and ``--repository`` (checked: ``OWNER/NAME``)."""
    from gatekeeper.publish.run import run_options

    if repository is not None and repository.count("/") != 1:
        raise click.BadParameter(f"{repository!r}: expected OWNER/NAME", param_hint="--repository")
    return run_options(pr, repository)


def _emit(
    report: Any,
    evidence: Any,
    fmt: str,
    targets: list[tuple[str, Path]],
    *,
    comment: bool,
    status: bool,
    environ: Any,
) -> None:
    """Print the report, write the other formats, publish, and exit with the decision."""
    from gatekeeper.publish.run import publish_report
    from gatekeeper.report import Rendered

    # Each format rendered once: standard output, the files and the job summary share it.
    rendered = Rendered(report)
    printed = _print(_for_stdout(report, fmt, rendered))
    for out_fmt, path in targets:
        _write(path, rendered[out_fmt])
    json_out = next((p for f, p in targets if f == "json"), None)
    publish_report(
        evidence,
        report,
        report_path=str(json_out.resolve()) if json_out else None,
        comment=comment,
        status=status,
        err=lambda line: click.echo(_redacted(line, environ), err=True),
        markdown=lambda: rendered["markdown"],
    )
    if not printed:
        raise BrokenPipeError  # the exit for a reader that left (the command wrapper's)
    sys.exit(report.exit_code)


def _print(text: str) -> bool:
    """Print ``text`` (a report) on standard output; ``False`` if its reader has left
    (`gatekeeper check ... | head`). What is still owed after it, the report files, the
    job summary, the comment and status, a deployment's answer, is done all the same."""
    try:
        click.echo(text, nl=False)
    except BrokenPipeError:
        return False
    return True


def _redacted(line: str, environ: Any) -> str:
    from gatekeeper.secrets import redact, secret_values

    return redact(line, secret_values(environ))


def _recorded_run(request: Any, path: Path | None, note: bool) -> tuple[Any, Any]:
    """A check run whose inputs are captured into a decision record."""
    from gatekeeper import record
    from gatekeeper.report import json_
    from gatekeeper.run import run_check_with_evidence

    with record.capture() as sink:
        report, evidence = run_check_with_evidence(request)
    data = record.build(report, evidence, sink, request.now)
    if path is not None:
        _write(path, json_.dumps(data, default=str) + "\n")
    if note and report.head:
        record.write_note(evidence.repo_path, report.head, data)
    return report, evidence


def _for_stdout(report: Any, fmt: str, rendered: Any = None) -> str:
    from gatekeeper.report import Rendered

    if fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ:
        import shutil

        from gatekeeper.report import text

        return text.render(report, color=True, width=shutil.get_terminal_size().columns)
    return (rendered or Rendered(report))[fmt]


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise GatekeeperError(f"{path}: cannot write report: {e.strerror or e}") from None


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--resolved", is_flag=True, help="Print each policy with its `extends` bases merged in (YAML)."
)
@handle_errors
def validate(files: tuple[Path, ...], resolved: bool = False) -> None:
    """Validate policy files; print each problem as FILE:LINE:COL: message."""
    from gatekeeper.errors import UsageError
    from gatekeeper.policy import load_policy

    bad = 0
    for file in files:
        try:
            policy = load_policy(file)
            if policy.waivers_file:  # the waivers file it names is part of the policy
                from gatekeeper.policy.waivers import attach

                attach(policy, file, None, False, _parse_now(None))
            if resolved:
                _print_resolved(file)
        except PolicyError as e:
            bad += 1
            for problem in e.problems:
                click.echo(problem, err=True)
        except UsageError as e:
            bad += 1
            click.echo(str(e), err=True)
        else:
            count = len(policy.rules)
            click.echo(f"{file}: ok ({count} rule{'' if count == 1 else 's'})")
    sys.exit(EXIT_USAGE if bad else 0)


def _print_resolved(file: Path) -> None:
    import yaml

    from gatekeeper.policy.loader import document

    doc, _ = document(file.read_bytes(), str(file))
    click.echo(f"# {file}, with its bases merged in")
    click.echo(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), nl=False)


@cli.command()
@click.argument(
    "path",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gatekeeper.yml"),
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@handle_errors
def init(path: Path, force: bool) -> None:
    """Write a commented starter policy (default: gatekeeper.yml)."""
    from gatekeeper.policies import read

    if path.exists() and not force:
        raise GatekeeperError(f"{path} exists; pass --force to overwrite it")
    _write(path, read("starter.yml"))
    click.echo(f"wrote {path}; edit it, then: gatekeeper validate {path}")


@cli.command(name="checks")
@handle_errors
def list_checks() -> None:
    """List the registered checks."""
    from gatekeeper.checks import failed_plugins, provider, registry

    checks = registry()
    width = max(len(n) for n in checks)
    for name, check in sorted(checks.items()):
        source = provider(name)
        click.echo(f"{name:<{width}}  {check.title}" + (f"  [plugin: {source}]" if source else ""))
    for name, reason in sorted(failed_plugins().items()):
        # A warning, not a failure: only a policy that uses the check is affected.
        click.echo(f"warning: {reason} (a policy that uses {name!r} is invalid)", err=True)


@cli.command()
@click.argument("name")
@handle_errors
def explain(name: str) -> None:
    """Show a check's options, their defaults and an example rule."""
    from gatekeeper.checks import registry
    from gatekeeper.explain import explain_check

    checks = registry()
    if name not in checks:
        from gatekeeper.suggest import did_you_mean

        raise GatekeeperError(
            f"unknown check {name!r}{did_you_mean(name, checks)} "
            f"(known checks: {', '.join(sorted(checks))})"
        )
    click.echo(explain_check(checks[name]))


@cli.command()
@click.option("--report", is_flag=True, help="Print the JSON report's schema instead.")
@click.option("--record", "record_", is_flag=True, help="Print the decision record's schema.")
@handle_errors
def schema(report: bool, record_: bool = False) -> None:
    """Print the policy JSON Schema (with every check's options) for editors."""
    import json

    if record_:
        from gatekeeper.record import record_schema

        click.echo(json.dumps(record_schema(), indent=2))
    elif report:
        from gatekeeper.report import report_schema

        click.echo(json.dumps(report_schema(), indent=2))
    else:
        from gatekeeper.policy.schema import full_schema

        click.echo(json.dumps(full_schema(), indent=2))


@cli.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Build the demo repository here and keep it (default: a temporary folder).",
)
@handle_errors
def demo(keep: Path | None) -> None:
    """Run a shipped policy on a throwaway repository: one blocked release, then a fixed one."""
    from gatekeeper.demo import run_demo

    run_demo(keep, click.echo)


@cli.command()
@click.argument("rule")
@click.option(
    "--policy",
    "-p",
    "policy",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gatekeeper.yml"),
    show_default=True,
    help="The policy whose rule is waived (the waiver goes to the waivers file it names).",
)
@click.option("--reason", required=True, help="Why the rule may fail for this release.")
@click.option("--approved-by", "approved_by", required=True, help="Who approved the waiver.")
@click.option("--days", type=click.IntRange(min=1), required=True, help="Days until it expires.")
@click.option("--path", "paths", multiple=True, metavar="GLOB", help="Scope: changed paths.")
@click.option("--head", "head", metavar="SHA", help="Scope: only this head commit.")
@click.option("--now", "now", help="The created time (ISO 8601 with offset; default now).")
@handle_errors
def waive(
    rule: str,
    policy: Path,
    reason: str,
    approved_by: str,
    days: int,
    paths: tuple[str, ...],
    head: str | None,
    now: str | None,
) -> None:
    """Append an expiring waiver for RULE (comments and layout of the file are kept)."""
    from gatekeeper.policy.waive import WaiveRequest
    from gatekeeper.policy.waive import waive as append

    request = WaiveRequest(policy, rule, reason, approved_by, days, _parse_now(now), paths, head)
    target, item = append(request)
    click.echo(
        f"added a waiver for rule {rule!r} to {target}, expires {item['expires']}; merge it into "
        "the base branch: in a pull-request run, waivers are read from the base commit"
    )


@cli.command()
@click.option(
    "--policy",
    "-p",
    "policy",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gatekeeper.yml"),
    show_default=True,
    help="The policy whose `notify: channels:` are used.",
)
@click.option("--channel", "channels", multiple=True, required=True, help="Channel name (repeatable).")
@click.option("--message", help="The notice ($version, $head, $short_head, $repository filled in).")
@click.option(
    "--template",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A file with the notice (same placeholders).",
)
@click.option("--version", "version", help="The version being released.")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The git repository (the receipt is a git note on its head).",
)
@click.option("--head", default="HEAD", show_default=True, help="The commit being released.")
@handle_errors
def notify(
    policy: Path,
    channels: tuple[str, ...],
    message: str | None,
    template: Path | None,
    version: str | None,
    repo: Path,
    head: str,
) -> None:
    """Post a release notice and record a receipt as a git note on the head commit.

    Exit codes: 0 delivered and recorded, 1 not delivered (no receipt), 2 bad usage.
    """
    from gatekeeper.evidence.notes import NOTIFY_REF
    from gatekeeper.publish.notify import NotifyError, NotifyRequest
    from gatekeeper.publish.notify import notify as send

    if (message is None) == (template is None):
        raise click.UsageError("give exactly one of --message and --template")
    text = message if message is not None else Path(str(template)).read_text(encoding="utf-8")
    request = NotifyRequest(policy, channels, text, repo, head, version)
    try:
        receipts = send(request)
    except NotifyError as e:
        click.echo(f"gatekeeper: error: {e}", err=True)
        sys.exit(1)
    for r in receipts:
        click.echo(
            f"notified {r['channel']} ({r['channel_type']}): HTTP {r['http_status']}; receipt "
            f"{r['digest']} in the git note on {r['head'][:12]} under {NOTIFY_REF} "
            f"(publish it: git push origin {NOTIFY_REF})"
        )


@cli.group()
def record() -> None:
    """Decision records written by `gatekeeper check --record`."""


@record.command(name="verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def record_verify(path: Path) -> None:
    """Recompute a decision record's digests and decision offline; say what matches.

    Exit codes: 0 every checkable part matches, 1 something changed or is missing, 2 not a record.
    """
    from gatekeeper.record import load, verify

    parts = verify(load(path))
    width = max(len(p.state) for p in parts)
    for p in parts:
        click.echo(f"{p.state:<{width}}  {p.what}" + (f" ({p.detail})" if p.detail else ""))
    bad = [p for p in parts if p.state in ("changed", "missing")]
    unchecked = sum(p.state == "unchecked" for p in parts)
    extra = f"; {unchecked} GitHub response(s) not checkable offline" if unchecked else ""
    if bad:
        click.echo(f"{len(bad)} of {len(parts)} parts differ: " + ", ".join(p.what for p in bad))
        sys.exit(1)
    click.echo(f"every part matches ({len(parts) - unchecked} checked{extra})")



@cli.command(name="deployment-gate")
@click.option(
    "--policy",
    "-p",
    "policy",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The policy file (read from the base commit in CI).",
)
@click.option(
    "--event",
    "event_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The deployment_protection_rule payload (default: $GITHUB_EVENT_PATH).",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The git repository (with the deployment's commit).",
)
@click.option(
    "--base",
    help="Base ref of the change judged (default: origin/<the repository's default branch>).",
)
@click.option("--now", "now", help="Fix the clock (ISO 8601 with offset) for time-based rules.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="What goes to standard output.",
)
@click.option("--strict", is_flag=True, help="Warnings reject too.")
@handle_errors
def deployment_gate(
    policy: Path,
    event_path: Path | None,
    repo: Path,
    base: str | None,
    now: str | None,
    fmt: str,
    strict: bool,
) -> None:
    """Judge a deployment awaiting a GitHub deployment protection rule and answer it.

    Runs the policy with --env = the deployment's environment on the deployment's commit,
    then answers the event's callback: approved or rejected, with the summary and a link.
    Exit codes: 0 approved, 1 rejected, 2 no answer given (bad input, or GitHub refused it).
    """
    from gatekeeper.errors import UsageError
    from gatekeeper.evidence import github as gh
    from gatekeeper.model import Decision
    from gatekeeper.publish import deployment
    from gatekeeper.run import CheckRequest, run_check_with_evidence

    path = event_path or (Path(os.environ["GITHUB_EVENT_PATH"]) if os.environ.get(
        "GITHUB_EVENT_PATH") else None)
    if path is None:
        raise UsageError("no event: pass --event PATH or set GITHUB_EVENT_PATH")
    event = deployment.read_event(path)
    if base is None and event.default_branch is None:
        raise UsageError("no base ref: pass --base REF (the event names no default branch)")
    options: dict[str, Any] = {"sha": event.sha}
    if event.repository:
        options["repository"] = event.repository
    request = CheckRequest(
        policy=policy,
        now=_parse_now(now),
        repo=repo,
        base=base or f"origin/{event.default_branch}",
        head=event.sha,
        env=event.environment,
        strict=strict,
        options=options,
    )
    try:
        report, evidence = run_check_with_evidence(request)
    except GatekeeperError as e:
        # No decision (bad policy, unknown environment...): reject rather than leave the
        # deployment waiting for its timeout, then exit 2 as any run without a decision.
        config = gh.config_from(request.environ, options)
        reason = " ".join(str(e).split())[: deployment.MAX_COMMENT - 40]
        deployment.answer(gh.GitHubClient(config), event, False, f"No decision: {reason}")
        raise
    printed = _print(_for_stdout(report, fmt))
    approved = report.decision is Decision.APPROVE
    note = deployment.comment(report, gh.config(evidence).run_url)
    deployment.answer(gh.client(evidence), event, approved, note)
    click.echo(
        f"deployment to {event.environment} {'approved' if approved else 'rejected'}", err=True
    )
    if not printed:
        raise BrokenPipeError  # the exit for a reader that left (the command wrapper's)
    sys.exit(report.exit_code)


def main() -> None:
    try:
        cli(prog_name="gatekeeper")
    except SystemExit as e:
        _exit_now(e)
    _exit_now(SystemExit(0))


def _exit_now(ending: SystemExit) -> None:
    """End the process without tearing the interpreter down: freeing a run's objects
    one by one (a coverage report's tables, every module) takes ~12 ms after all is
    done. What exit must still do is done: the ``atexit`` handlers (logging's flush,
    temporary files' cleanup), then stdout and stderr flushed. With other threads alive
    (or a message as the code), Python's own exit, which waits for them."""
    import atexit
    import threading

    code = ending.code
    if threading.active_count() > 1 or not (code is None or isinstance(code, int)):
        raise ending
    atexit._run_exitfuncs()
    status = code or 0
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue  # started with it closed (`>&-`): Python's exit skips it too
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 120  # as Python exits when it cannot flush
    os._exit(status)
