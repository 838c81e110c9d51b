"""Benchmark: hostile inputs cost bounded time and memory (issue 8, item 12).

    python benchmarks/hostile_inputs.py [--scale 1.0] [--keep DIR]

Writes each hostile file (a YAML alias bomb, deep YAML, deep JSON, deep XML in every XML
format, coverage.py JSON of 200 MB, real and hostile, hostile JSON of empty containers),
reads it in a fresh process through Gatekeeper's own reader (``gatekeeper validate``
for policies), and checks the outcome (refused with the expected message, or read) and
the budgets: wall time and peak RSS of that process. Exits 1 if any budget is exceeded.
Run by hand (it takes about a minute and writes ~150 MB to a temporary folder), not in
pytest: timings belong to a quiet machine, not to a unit test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1 << 20

# Runs the reader in a child and prints its wall time, peak RSS (KiB) and output, so each
# case is measured in a process of its own.
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
print(done.stdout + done.stderr)
"""

READ = """
import sys
from pathlib import Path
from gatekeeper.errors import EvidenceError
from gatekeeper.evidence.coverage_formats import read_report
from gatekeeper.evidence.junit import read_junit
reader = read_junit if sys.argv[2] == "junit" else read_report
try:
    reader(Path(sys.argv[1]))
    print("read")
except EvidenceError as e:
    print("refused:", str(e)[-300:])
"""


@dataclass
class Case:
    name: str
    file: str
    write: Callable[[Path], None]
    reader: str
    """``policy``, ``report`` or ``junit``."""
    expect: str
    """Text the output must contain."""
    seconds: float
    rss_mb: float


def _repeat(path: Path, head: str, unit: str, count: int, tail: str = "") -> None:
    with path.open("w") as f:
        f.write(head)
        chunk = unit * 10_000
        for _ in range(count // 10_000):
            f.write(chunk)
        f.write(unit * (count % 10_000))
        f.write(tail)


def _bomb(path: Path) -> None:
    lines = ["x0: &x0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path.write_text("version: 1\nrules: []\nbomb:\n" + "".join(f"  {x}\n" for x in lines))


def _sparse_json(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as f:
            f.write(b'{"files": {' + b" " * 8192)
            f.truncate(size)  # the rest is a hole: no disk, but st_size says so

    return write


def _real_json(files: int) -> Callable[[Path], None]:
    """coverage.py's shape: per file, line lists and a summary (~7 bytes per line)."""

    def write(path: Path) -> None:
        lines = list(range(1, 1001))
        entry = {
            "executed_lines": lines[::2] + lines[1::4],
            "missing_lines": lines[3::4],
            "excluded_lines": [],
            "summary": {"covered_lines": 750, "num_statements": 1000},
        }
        with path.open("w") as f:
            f.write('{"meta": {"format": 2}, "files": {')
            f.write(", ".join(f'"src/m{i}.py": {json.dumps(entry)}' for i in range(files)))
            f.write("}}")

    return write


CLASS = '<?xml version="1.0"?><coverage><packages><package><classes><class filename="a.py">'


def cases(scale: float) -> list[Case]:
    n = int(10_000_000 * scale)
    return [
        Case("YAML alias bomb (1 KB, 9^10 values)", "bomb.yml", _bomb, "policy",
             "alias bomb", 3.0, 80),
        Case("YAML nested 1,000,000 deep", "deep.yml",
             lambda p: _repeat(p, "version: 1\nrules: []\nx: ", "[", n // 10), "policy",
             "nested deeper than 64 levels", 3.0, 80),
        Case("JSON nested 10,000,000 deep (coverage.json)", "deep.json",
             lambda p: _repeat(p, '{"files": ', "[", n), "report",
             "JSON nested too deeply", 3.0, 120),
        Case("Cobertura <a> nested 10,000,000 deep", "deep-cobertura.xml",
             lambda p: _repeat(p, '<?xml version="1.0"?><coverage>', "<a>", n), "report",
             "nested deeper than 256 levels", 3.0, 80),
        Case("JaCoCo <group> nested 3,000,000 deep", "deep-jacoco.xml",
             lambda p: _repeat(p, '<report name="r">', "<group>", n * 3 // 10), "report",
             "nested deeper than 256 levels", 3.0, 80),
        Case("JUnit <testsuite> nested 2,000,000 deep", "deep-junit.xml",
             lambda p: _repeat(p, "<testsuites>", "<testsuite>", n // 5), "junit",
             "nested deeper than 256 levels", 3.0, 80),
        # Inside a class's <lines> the reader sees no end tags (its fast path); nesting
        # there is bounded by counting <condition>s per line (65,536 at most).
        Case("Cobertura <condition> nested in <lines>, 1,000,000 deep", "lines-deep.xml",
             lambda p: _repeat(p, CLASS + "<lines>", "<condition>", n // 10), "report",
             "beyond any real report", 6.0, 80),
        # coverage.py JSON is streamed: memory is a chunk plus one file's entry.
        Case("coverage.py JSON of 200 MiB, NUL bytes after its start", "huge.json",
             _sparse_json(200 * MB), "report", "Expecting property name", 3.0, 80),
        Case("coverage.py JSON of ~200 MiB (real shape, 40,000 files)", "big.json",
             _real_json(int(40_000 * scale)), "report", "read", 20.0, 100),
        Case("hostile JSON of empty lists in one entry, ~30 MiB", "empty-lists.json",
             lambda p: _repeat(p, '{"files": {"a": {"executed_lines": [', "[],",
                               n, "[]]}}}"), "report", "limit for a single file's entry",
             3.0, 100),
        # One name 1,000,000 times, the first entry bad: a second pass reads the last one.
        Case("hostile JSON of 1,000,000 files of empty lists, ~30 MiB", "many-files.json",
             lambda p: _repeat(p, '{"files": {', '"": {"executed_lines": [[]]}, ', n // 10,
                               '"": 1}}'), "report", "files[''] is not an object", 10.0, 80),
    ]


def measure(case: Case, path: Path) -> tuple[float, float, str]:
    if case.reader == "policy":
        cmd = [sys.executable, "-m", "gatekeeper", "validate", str(path)]
    else:
        cmd = [sys.executable, "-c", READ, str(path), case.reader]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, cwd=ROOT,
        check=True,
    )
    first, _, output = done.stdout.partition("\n")
    wall, rss_kib, _code = first.split()
    return float(wall), int(rss_kib) / 1024, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Size of the inputs.")
    parser.add_argument("--keep", type=Path, help="Write the files here and keep them.")
    args = parser.parse_args()
    where = args.keep or Path(tempfile.mkdtemp(prefix="gatekeeper-hostile-"))
    where.mkdir(parents=True, exist_ok=True)
    failed = 0
    print(f"{'case':<58} {'size':>9} {'time':>7} {'peak RSS':>9}  budget")
    try:
        for case in cases(args.scale):
            path = where / case.file
            case.write(path)
            size = path.stat().st_size
            wall, rss, output = measure(case, path)
            ok = wall <= case.seconds and rss <= case.rss_mb and case.expect in output
            failed += not ok
            print(
                f"{case.name:<58} {size / MB:>7.1f}MB {wall:>6.2f}s {rss:>7.0f}MB  "
                f"{case.seconds:g} s, {case.rss_mb:.0f} MB  {'ok' if ok else 'OVER BUDGET'}"
            )
            if case.expect not in output:
                print(f"    expected {case.expect!r} in: {output.strip()[-300:]}")
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(where, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
