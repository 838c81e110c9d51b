"""What a one-rule `gatekeeper check` spends on imports, module by module.

    python benchmarks/lean_start.py [--runs N] [--tree DIR ...]

Builds the demo repository with a coverage report, then runs `gatekeeper check` with a
policy of one `smoke-coverage` rule (`--format json --output json=FILE`, as a CI step
would) under `python -X importtime`, each run in a fresh process, and prints the median
cumulative import time of the modules that matter and of all imports, and the median
wall time of the same command without `-X importtime`. With several `--tree`s (source
checkouts, e.g. one of main) the runs alternate between them, so a comparison shares the
machine's load. `importlib.import_module` is routed through `__import__`: -X importtime
does not see the modules it loads (checks, renderers, compiled validators).

`check` asks git on a thread while it imports, and -X importtime is not per thread: the
thread's imports (subprocess...) show up inside the main thread's and its waits count as
import time. So the script also times the *path imports*: the modules a run loaded, in
the order it loaded them, imported again in a fresh interpreter with no git running.
Run by hand; never as a timed unit test. tests/test_lean_start.py asserts which modules
load.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODULES = (
    "click",
    "yaml",
    "jsonschema",
    "logging",
    "hashlib",
    "tempfile",
    "importlib.resources",
    "gatekeeper.cli",
    "gatekeeper.run",
    "gatekeeper.report",
    "gatekeeper.engine",
    "gatekeeper.policy.loader",
    "gatekeeper.policy.compiled.policy",
    "gatekeeper.policy.extends",
    "gatekeeper.evidence.github",
    "gatekeeper.evidence.junit",
)
BOOT = (
    "import importlib, runpy, sys; "
    "importlib.import_module = lambda n, p=None: (__import__(n), sys.modules[n])[1]; "
    "sys.argv = ['gatekeeper', *sys.argv[1:]]; runpy.run_module('gatekeeper', run_name='__main__')"
)
LOADED = (
    "import atexit, sys; from gatekeeper.cli import main; "
    "atexit.register(lambda: sys.__stderr__.write('\\n'.join(['LOADED', *sys.modules]))); "
    "sys.argv = ['gatekeeper', *sys.argv[1:]]; main()"
)
"""A run that prints the modules it loaded, in load order, last on standard error."""


def _path_imports(command: list[str], cwd: str, env: dict[str, str]) -> str:
    """Code importing what a run of ``command`` loaded, in the order it loaded it."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *command], cwd=cwd, env=env, capture_output=True,
        text=True,
    )
    names = done.stderr.rpartition("LOADED\n")[2].split()
    skip = {"__main__", *sys.builtin_module_names}
    return "".join(
        f"try:\n    import {name}\nexcept ImportError:\n    pass\n"
        for name in names if name not in skip
    )


def _imports(stderr: str) -> dict[str, float]:
    """Cumulative ms of each module's first import, and the sum over top-level imports."""
    found: dict[str, float] = {}
    total = 0.0
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if m:
            found.setdefault(m[3], int(m[1]) / 1000)
            total += int(m[1]) / 1000 if not m[2] else 0
    found["(all imports)"] = total
    found["(gatekeeper's own time)"] = sum(
        int(m[1]) / 1000
        for m in re.finditer(r"import time:\s+(-?\d+) \|\s+\d+ \| *gatekeeper\b", stderr)
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--tree", action="append", type=Path, help="a source checkout")
    args = parser.parse_args()
    trees = args.tree or [ROOT]
    for tree in trees:  # with PYTHONDONTWRITEBYTECODE set, the runs would time compiling
        compileall.compile_dir(tree / "gatekeeper", quiet=1)

    from gatekeeper.demo import _smoke_run, build_repo

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        build_repo(repo)
        _smoke_run(repo, executed=[1, 2, 4], missing=[3], tests=["test_charge"])
        policy = Path(tmp) / "policy.yml"
        policy.write_text(
            "version: 1\nrules:\n  - id: smoke-tested\n    check: smoke-coverage\n"
            "    with: {coverage: coverage.xml}\n",
            encoding="utf-8",
        )
        command = ["check", "--policy", str(policy), "--repo", str(repo), "--base", "main"]
        command += ["--format", "json", "--output", f"json={Path(tmp) / 'report.json'}"]
        imports: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
        walls: dict[Path, list[float]] = {tree: [] for tree in trees}
        paths: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
        envs = {tree: {**os.environ, "PYTHONPATH": str(tree)} for tree in trees}
        codes = {tree: _path_imports(command, tmp, envs[tree]) for tree in trees}
        for _ in range(args.runs):
            for tree in trees:
                env = envs[tree]
                done = subprocess.run(
                    [sys.executable, "-X", "importtime", "-c", codes[tree]],
                    cwd=tmp, env=env, capture_output=True, text=True, check=True,
                )
                paths[tree].append(_imports(done.stderr))
                done = subprocess.run(
                    [sys.executable, "-X", "importtime", "-c", BOOT, *command],
                    cwd=tmp, env=env, capture_output=True, text=True,
                )
                if done.returncode not in (0, 1):
                    sys.exit(f"{tree}: exit {done.returncode}: {done.stderr[-2000:]}")
                imports[tree].append(_imports(done.stderr))
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "gatekeeper", *command],
                    cwd=tmp, env=env, capture_output=True, check=False,
                )
                walls[tree].append((time.perf_counter() - start) * 1000)
    head = f"median of {args.runs} runs, ms"
    print(f"{head:<36}" + "".join(f"{t.name[:14]:>16}" for t in trees))
    for name in (*MODULES, "(all imports)"):  # own times: see the path imports
        row = [statistics.median(run.get(name, 0.0) for run in imports[t]) for t in trees]
        print(f"{name:<36}" + "".join(f"{value:>16.1f}" for value in row))
    print(f"{'wall, without -X importtime':<36}" + "".join(
        f"{statistics.median(walls[t]):>16.1f}" for t in trees
    ))
    # A module's cumulative time depends on what was imported before it, and the path
    # imports start with the standard library's: only the sums mean the same here. (The
    # sum of own times is printed only here: with the git thread, -X importtime's own
    # times come out negative where the thread's imports nest in the main thread's.)
    print("path imports (the run's modules again, no git thread):")
    for name in ("(all imports)", "(gatekeeper's own time)"):
        row = [statistics.median(run.get(name, 0.0) for run in paths[t]) for t in trees]
        print(f"{name:<36}" + "".join(f"{value:>16.1f}" for value in row))


if __name__ == "__main__":
    main()
