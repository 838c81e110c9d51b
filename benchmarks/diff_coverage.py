"""Benchmark: Gatekeeper's smoke-coverage against diff-cover on a large change.

    python benchmarks/diff_coverage.py [--files 3400] [--changed 1600] [--runs 3] [--keep DIR]

Generates a git repository of ``--files`` Python modules (~500 lines each) with a base
branch and a change touching ``--changed`` of them (edits that shift line numbers, plus
new files), and a coverage.py-style Cobertura report of the head (>= 50 MB at the
defaults). Then times, each in its own process, ``diff-cover`` and ``gatekeeper check``
with a smoke-coverage rule on the same diff and report, checks that both give the same
figures, and prints the time ratio and each one's peak memory (max RSS of the process
tree). Each tool runs ``--runs`` times, alternating; the best time of each is compared
(shared machines are noisy; the minimum is the least disturbed run).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINES_PER_FILE = 500

# Runs COMMAND as a child and prints its wall time and peak RSS (KiB on Linux), so each
# measured tool gets its own RUSAGE_CHILDREN, untouched by the other tool's run.
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
"""

IMPORTS_ONLY = """
import gatekeeper.cli, gatekeeper.engine, gatekeeper.checks.smoke_coverage
import gatekeeper.evidence.coverage, gatekeeper.evidence.git
import concurrent.futures, defusedxml.ElementTree, git
"""

POLICY = """\
version: 1
rules:
  - id: smoke-tested
    check: smoke-coverage
    with:
      coverage: coverage.xml
      missing_files: ignore
"""


def module_lines(rng: random.Random, tag: str, n: int) -> list[str]:
    """Source lines: mostly statements, every 10th a comment (not measured)."""
    return [f"# {tag} note {i}" if i % 10 == 0 else f"v_{tag}_{i} = {rng.randint(0, 999)}"
            for i in range(1, n + 1)]


def generate(work: Path, files: int, changed: int, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    repo = work / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=b@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "base"], check=True)
    names = [f"pkg{i // 100:03d}/mod{i % 100:03d}.py" for i in range(files)]
    content = {name: module_lines(rng, f"{k}", LINES_PER_FILE) for k, name in enumerate(names)}
    for name, lines in content.items():
        path = repo / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    subprocess.run([*git, "checkout", "-q", "-b", "feature"], check=True)

    new_files = changed // 10
    for k, name in enumerate(rng.sample(names, changed - new_files)):
        lines = content[name]
        at = rng.randint(20, LINES_PER_FILE - 60)
        # Replace 20 lines by 30 (shifting everything below) and append 5 at the end.
        lines[at:at + 20] = module_lines(rng, f"c{k}", 30)
        lines.extend(module_lines(rng, f"e{k}", 5))
        (repo / name).write_text("\n".join(lines) + "\n")
    for k in range(new_files):
        name = f"newpkg/new{k:04d}.py"
        content[name] = module_lines(rng, f"n{k}", 200)
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text("\n".join(content[name]) + "\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "feature"], check=True)

    # A coverage.py-shaped Cobertura report of the head, ~70 % of lines covered.
    with (repo / "coverage.xml").open("w") as out:
        out.write('<?xml version="1.0" ?>\n<coverage version="7.6.1" timestamp="1" '
                  'lines-valid="0" lines-covered="0" line-rate="0" branches-covered="0" '
                  'branches-valid="0" branch-rate="0" complexity="0">\n'
                  f"\t<sources>\n\t\t<source>{repo}</source>\n\t</sources>\n\t<packages>\n")
        packages: dict[str, list[str]] = {}
        for name in content:
            packages.setdefault(name.split("/")[0], []).append(name)
        for package, members in sorted(packages.items()):
            out.write(f'\t\t<package name="{package}" line-rate="0.7" branch-rate="0" '
                      'complexity="0">\n\t\t\t<classes>\n')
            for name in members:
                base = name.rsplit("/", 1)[1]
                out.write(f'\t\t\t\t<class name="{base}" filename="{name}" complexity="0" '
                          'line-rate="0.7" branch-rate="0">\n\t\t\t\t\t<methods/>\n'
                          "\t\t\t\t\t<lines>\n")
                for i, text in enumerate(content[name], 1):
                    if not text.startswith("#"):
                        hits = 1 if rng.random() < 0.7 else 0
                        out.write(f'\t\t\t\t\t\t<line number="{i}" hits="{hits}"/>\n')
                out.write("\t\t\t\t\t</lines>\n\t\t\t\t</class>\n")
            out.write("\t\t\t</classes>\n\t\t</package>\n")
        out.write("\t</packages>\n</coverage>\n")
    return {"report_mb": (repo / "coverage.xml").stat().st_size / 1e6}


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, int]:
    # Gatekeeper runs from this checkout, as `python -m gatekeeper` does in it.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], cwd=cwd, check=True,
                         capture_output=True, text=True, env=env).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=3400)
    parser.add_argument("--changed", type=int, default=1600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    args = parser.parse_args()
    if shutil.which("git") is None:
        sys.exit("git is required")
    if importlib.util.find_spec("diff_cover") is None:
        sys.exit("diff-cover is required: pip install -e '.[test]'")
    work = args.keep or Path(tempfile.mkdtemp(prefix="gk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    repo = work / "repo"
    try:
        started = time.perf_counter()
        if not repo.exists():
            info = generate(work, args.files, args.changed)
        else:
            info = {"report_mb": (repo / "coverage.xml").stat().st_size / 1e6}
        print(f"generated {args.files} files, {args.changed} changed, Cobertura report "
              f"{info['report_mb']:.1f} MB in {time.perf_counter() - started:.1f} s")

        dc_json, gk_json = work / "diff-cover.json", work / "gatekeeper.json"
        diff_cover = [sys.executable, "-m", "diff_cover.diff_cover_tool", "coverage.xml",
                      "--compare-branch=base", "--total-percent-float",
                      f"--format=json:{dc_json}"]
        policy = work / "policy.yml"
        policy.write_text(POLICY)
        gatekeeper = [sys.executable, "-m", "gatekeeper", "check", "-p", str(policy),
                      "--repo", str(repo), "--base", "base", "--format", "json",
                      "--output", f"json={gk_json}"]
        dc_times, gk_times, dc_mem, gk_mem = [], [], 0.0, 0.0
        for _ in range(args.runs):
            for name, cmd, times in (("diff-cover", diff_cover, dc_times),
                                     ("gatekeeper", gatekeeper, gk_times)):
                wall, mem, rc = measure(cmd, repo)
                if rc not in (0, 1):  # gatekeeper exits 1 when it blocks
                    sys.exit(f"{name} exited {rc}")
                times.append(wall)
                if name == "diff-cover":
                    dc_mem = max(dc_mem, mem)
                else:
                    gk_mem = max(gk_mem, mem)
        dc_time, gk_time = min(dc_times), min(gk_times)
        _, base_mem, _ = measure([sys.executable, "-c", IMPORTS_ONLY], repo)

        theirs = json.loads(dc_json.read_text())
        ours = json.loads(gk_json.read_text())["rules"][0]["details"]
        pairs = [("diff_lines", ours["diff_lines"], theirs["total_num_lines"]),
                 ("diff_missing", ours["diff_missing"], theirs["total_num_violations"]),
                 ("diff_percent", ours["diff_percent"], theirs["total_percent_covered"])]
        agree = all(a == b for _, a, b in pairs)
        for name, a, b in pairs:
            print(f"  {name:13} gatekeeper {a!s:>10}   diff-cover {b!s:>10}")
        print(f"  total_percent {ours['total_percent']} ({ours['lines_covered']}/"
              f"{ours['lines_valid']} lines)")
        for name, best, mem, times in (("diff-cover", dc_time, dc_mem, dc_times),
                                       ("gatekeeper", gk_time, gk_mem, gk_times)):
            runs = ", ".join(f"{t:.2f}" for t in times)
            print(f"{name:11} {best:6.2f} s   peak RSS {mem:7.1f} MB   (runs: {runs})")
        print(f"gatekeeper is {dc_time / gk_time:.1f}x faster; its peak memory is "
              f"{gk_mem / info['report_mb']:.2f}x the report's size "
              f"({info['report_mb']:.1f} MB), of which {base_mem:.1f} MB is the interpreter "
              f"and its imports (so {gk_mem - base_mem:.1f} MB for the run)")
        print("figures agree" if agree else "FIGURES DISAGREE")
        return 0 if agree else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
