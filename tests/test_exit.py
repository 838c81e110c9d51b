"""The command line ends its process without tearing the interpreter down, yet does
everything an exit must: atexit handlers run, output is flushed, the exit code kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, before: str = "") -> subprocess.CompletedProcess[str]:
    code = (
        "import atexit, sys\n"
        f"{before}\n"
        "from gatekeeper.cli import main\n"
        f"sys.argv = ['gatekeeper', *{list(args)!r}]\n"
        "main()\n"
        "print('main returned')\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_exit_codes_and_output_are_kept() -> None:
    ok = run("--version")
    assert ok.returncode == 0 and "gatekeeper" in ok.stdout.lower()
    assert "main returned" not in ok.stdout  # the process ended in main
    usage = run("no-such-command")
    assert usage.returncode == 2 and "No such command" in usage.stderr


def test_atexit_handlers_run_and_buffered_output_is_flushed() -> None:
    """Output still in the buffer of a pipe, and what atexit handlers do (logging's
    flush, temporary files' cleanup), happen before the process ends."""
    done = run("--version", before="atexit.register(lambda: print('handler ran'))")
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("handler ran")


def test_with_another_thread_alive_python_s_own_exit_waits_for_it() -> None:
    started = (
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread finished'))).start()"
    )
    done = run("--version", before=started)
    assert done.returncode == 0
    assert "thread finished" in done.stdout


def test_the_interpreter_is_not_torn_down() -> None:
    """Objects are not freed one by one at the end (the ~12 ms this saves): a finalizer
    of a module-level object, which teardown would run, does not."""
    kept = "class Kept:\n    def __del__(self):\n        print('torn down')\nkept = Kept()"
    done = run("--version", before=kept)
    assert done.returncode == 0
    assert "torn down" not in done.stdout


def test_without_standard_streams_the_exit_code_is_kept() -> None:
    """Started with standard output or error closed (``>&-``: Python makes the stream
    ``None``), the command's code stands: no AttributeError turning 0 into 1."""
    for closed in ("sys.stdout = None", "sys.stderr = None", "sys.stdout = sys.stderr = None"):
        done = run("--version", before=closed)
        assert done.returncode == 0, (closed, done.stderr)
        assert "Traceback" not in done.stderr
    usage = run("no-such-command", before="sys.stderr = None")
    assert usage.returncode == 2
