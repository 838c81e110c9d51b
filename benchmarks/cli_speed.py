"""How long the everyday commands take, end to end, as a user runs them.

    python benchmarks/cli_speed.py [--runs N]

Times `gatekeeper --help`, `gatekeeper validate` on the shipped policies, and
`gatekeeper check` (release-window, changelog, smoke-coverage) on the demo repository,
each in a fresh process; prints the median and the worst of N runs and the peak memory.
Run by hand; never as a timed unit test.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _time(cmd: list[str], runs: int, cwd: Path) -> tuple[float, float, float]:
    times = []
    peak = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return statistics.median(times), max(times), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from gatekeeper.demo import _smoke_run, build_repo
    from gatekeeper.policies import read

    gk = [sys.executable, "-m", "gatekeeper"]
    with tempfile.TemporaryDirectory() as tmp:
        repo_path = Path(tmp) / "repo"
        build_repo(repo_path)
        _smoke_run(repo_path, executed=[1, 2, 4], missing=[3], tests=["test_charge"])
        policy = Path(tmp) / "policy.yml"
        policy.write_text(read("demo.yml"), encoding="utf-8")
        cases = {
            "gatekeeper --help": [*gk, "--help"],
            "gatekeeper validate policies/*.yml": [
                *gk,
                "validate",
                *map(str, sorted((ROOT / "policies").glob("*.yml"))),
            ],
            "gatekeeper check (demo policy, 4 rules)": [
                *gk,
                "check",
                "--policy",
                str(policy),
                "--repo",
                str(repo_path),
                "--base",
                "main",
                "--env",
                "production",
                "--now",
                "2027-01-05T10:30:00+01:00",
                "--format",
                "json",
            ],
        }
        print(f"{'command':<42} {'median':>8} {'worst':>8}   peak RSS (any run so far)")
        for name, cmd in cases.items():
            median, worst, peak = _time(cmd, args.runs, ROOT)
            print(f"{name:<42} {median:>7.3f}s {worst:>7.3f}s   {peak:.1f} MB")


if __name__ == "__main__":
    main()
