"""Benchmark: Gatekeeper's smoke-coverage against diff-cover, case by case.

    python benchmarks/diff_coverage.py [--case NAME ...] [--runs 5] [--keep DIR]
    python benchmarks/diff_coverage.py --files 3400 --changed 1600 --hunks 1 --pretty

Each case generates a git repository of Python modules (~500 lines each) with a base
branch and a change touching some of them (edits that shift line numbers, plus new
files), and a coverage.py-style Cobertura report of the head. Then it times, each in its
own process, ``diff-cover`` and ``gatekeeper check`` with a smoke-coverage rule on the same
diff and report, asserts that both give the same figures, and prints the ratio and each
one's peak memory (max RSS of the process tree). The tools run ``--runs`` times,
alternating; medians are compared.

It also measures the *floor*: ``git diff -U0`` of the range plus one bytes-level pass over
the report in a fresh interpreter, the least any tool doing this job must spend.

Cases (``--case``, default all but ``large``):
- ``compact``: 1,300 modules, 666 changed with three hunks each, a compact (not
  pretty-printed) report of ~16 MB — an ordinary large change.
- ``small``: 1,250 modules, 100 changed, a compact report of ~15 MB — fixed costs dominate.
- ``few-hundred``: 1,300 modules, 300 changed, compact.
- ``large``: 3,400 modules, 1,600 changed, pretty-printed, 57 MB (the first benchmark).
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
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LINES_PER_FILE = 500

# Runs COMMAND as a child and prints its wall time and peak RSS (KiB on Linux), so each
# measured tool gets its own RUSAGE_CHILDREN, untouched by the other tool's run.
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, use.ru_maxrss, done.returncode, use.ru_utime + use.ru_stime)
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


CASES: dict[str, dict[str, Any]] = {
    "compact": {"files": 1300, "changed": 666, "hunks": 3, "pretty": False},
    "small": {"files": 1250, "changed": 100, "hunks": 3, "pretty": False},
    "few-hundred": {"files": 1300, "changed": 300, "hunks": 3, "pretty": False},
    "large": {"files": 3400, "changed": 1600, "hunks": 1, "pretty": True},
}
DEFAULT_CASES = ["compact", "few-hundred", "small"]


def edit(rng: random.Random, lines: list[str], k: int, hunks: int) -> None:
    """Replace 20 lines by 30 (shifting everything below) per hunk; append 5 at the end."""
    span = (LINES_PER_FILE - 80) // hunks
    for h in range(hunks):
        at = 20 + h * span + rng.randint(0, max(0, span - 40))
        lines[at:at + 20] = module_lines(rng, f"c{k}h{h}", 30)
    lines.extend(module_lines(rng, f"e{k}", 5))


def generate(work: Path, files: int, changed: int, hunks: int = 1, pretty: bool = True,
             seed: int = 7) -> dict[str, float]:
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
        edit(rng, content[name], k, hunks)
        (repo / name).write_text("\n".join(content[name]) + "\n")
    for k in range(new_files):
        name = f"newpkg/new{k:04d}.py"
        content[name] = module_lines(rng, f"n{k}", 200)
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text("\n".join(content[name]) + "\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "feature"], check=True)

    write_cobertura(repo, content, rng, pretty)
    return {"report_mb": (repo / "coverage.xml").stat().st_size / 1e6}


def write_cobertura(repo: Path, content: dict[str, list[str]], rng: random.Random,
                    pretty: bool) -> None:
    """A coverage.py-shaped Cobertura report of the head, ~70 % of lines covered; with
    ``pretty`` indented as coverage.py writes it, otherwise one element after another."""
    nl, t = ("\n", "\t") if pretty else ("", "")
    with (repo / "coverage.xml").open("w") as out:
        out.write('<?xml version="1.0" ?>\n<coverage version="7.6.1" timestamp="1" '
                  'lines-valid="0" lines-covered="0" line-rate="0" branches-covered="0" '
                  f'branches-valid="0" branch-rate="0" complexity="0">{nl}'
                  f"{t}<sources>{nl}{t*2}<source>{repo}</source>{nl}{t}</sources>{nl}"
                  f"{t}<packages>{nl}")
        packages: dict[str, list[str]] = {}
        for name in content:
            packages.setdefault(name.split("/")[0], []).append(name)
        for package, members in sorted(packages.items()):
            out.write(f'{t*2}<package name="{package}" line-rate="0.7" branch-rate="0" '
                      f'complexity="0">{nl}{t*3}<classes>{nl}')
            for name in members:
                base = name.rsplit("/", 1)[1]
                out.write(f'{t*4}<class name="{base}" filename="{name}" complexity="0" '
                          f'line-rate="0.7" branch-rate="0">{nl}{t*5}<methods/>{nl}'
                          f"{t*5}<lines>{nl}")
                for i, text in enumerate(content[name], 1):
                    if not text.startswith("#"):
                        hits = 1 if rng.random() < 0.7 else 0
                        out.write(f'{t*6}<line number="{i}" hits="{hits}"/>{nl}')
                out.write(f"{t*5}</lines>{nl}{t*4}</class>{nl}")
            out.write(f"{t*3}</classes>{nl}{t*2}</package>{nl}")
        out.write(f"{t}</packages>{nl}</coverage>\n")


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, int, float]:
    """Wall time, peak RSS (MB), exit code and CPU time (user + system, every process of
    the tree) of one run."""
    # Gatekeeper runs from this checkout, as `python -m gatekeeper` does in it.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], cwd=cwd, check=True,
                         capture_output=True, text=True, env=env).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2]), float(out[3])


def compile_checkout() -> None:
    """Byte-compile this checkout, as `pip install` does for an installed package (and
    did for diff-cover): with PYTHONDONTWRITEBYTECODE set, every run would otherwise
    compile Gatekeeper's modules from source."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "gatekeeper")],
                   check=True, stdout=subprocess.DEVNULL)


FLOOR_READ = """
import re, sys, time
t = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    data = f.read()
n = sum(1 for _ in re.finditer(rb'<line number="(\\d+)" hits="(\\d+)"', data))
print(n)
"""


def floor(repo: Path) -> float:
    """git diff -U0 of the range, then one bytes-level pass over the report in a fresh
    interpreter: what any tool doing this job must at least spend (seconds)."""
    started = time.perf_counter()
    subprocess.run(["git", "-C", str(repo), "diff", "-U0", "--no-color", "base...feature"],
                   stdout=subprocess.DEVNULL, check=True)
    subprocess.run([sys.executable, "-c", FLOOR_READ, str(repo / "coverage.xml")],
                   stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def run_case(name: str, spec: dict[str, Any], work: Path, runs: int) -> dict[str, Any]:
    """Generate (or reuse) one case, time both tools and the floor, compare the figures."""
    repo = work / "repo"
    started = time.perf_counter()
    if not repo.exists():
        generate(work, spec["files"], spec["changed"], spec["hunks"], spec["pretty"])
    report_mb = (repo / "coverage.xml").stat().st_size / 1e6
    print(f"[{name}] {spec['files']} files, {spec['changed']} changed, Cobertura report "
          f"{report_mb:.1f} MB ({'pretty' if spec['pretty'] else 'compact'}), ready in "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    dc_json, gk_json = work / "diff-cover.json", work / "gatekeeper.json"
    diff_cover = [sys.executable, "-m", "diff_cover.diff_cover_tool", "coverage.xml",
                  "--compare-branch=base", "--total-percent-float", f"--format=json:{dc_json}"]
    policy = work / "policy.yml"
    policy.write_text(POLICY)
    gatekeeper = [sys.executable, "-m", "gatekeeper", "check", "-p", str(policy),
                  "--repo", str(repo), "--base", "base", "--format", "json",
                  "--output", f"json={gk_json}"]
    times: dict[str, list[float]] = {"diff-cover": [], "gatekeeper": [], "floor": []}
    cpu: dict[str, list[float]] = {"diff-cover": [], "gatekeeper": []}
    mem = {"diff-cover": 0.0, "gatekeeper": 0.0}
    for _ in range(runs):
        for tool, cmd in (("diff-cover", diff_cover), ("gatekeeper", gatekeeper)):
            wall, rss, rc, used = measure(cmd, repo)
            if rc not in (0, 1):  # gatekeeper exits 1 when it blocks
                sys.exit(f"{tool} exited {rc}")
            times[tool].append(wall)
            cpu[tool].append(used)
            mem[tool] = max(mem[tool], rss)
        times["floor"].append(floor(repo))

    theirs = json.loads(dc_json.read_text())
    ours = json.loads(gk_json.read_text())["rules"][0]["details"]
    pairs = [("diff_lines", ours["diff_lines"], theirs["total_num_lines"]),
             ("diff_missing", ours["diff_missing"], theirs["total_num_violations"]),
             ("diff_percent", ours["diff_percent"], theirs["total_percent_covered"])]
    for figure, a, b in pairs:
        print(f"  {figure:13} gatekeeper {a!s:>10}   diff-cover {b!s:>10}")
    for tool, values in times.items():
        print(f"  {tool:11} median {median(values):6.3f} s   runs: "
              + ", ".join(f"{v:.3f}" for v in values))
    for tool, values in cpu.items():
        print(f"  {tool:11} CPU median {median(values):6.3f} s")
    dc, gk, fl = (median(times[k]) for k in ("diff-cover", "gatekeeper", "floor"))
    return {"case": name, "report_mb": report_mb, "diff_lines": ours["diff_lines"],
            "dc_cpu": median(cpu["diff-cover"]), "gk_cpu": median(cpu["gatekeeper"]),
            "diff_cover": dc, "gatekeeper": gk, "floor": fl, "ratio": dc / gk,
            "of_floor": gk / fl, "dc_mem": mem["diff-cover"], "gk_mem": mem["gatekeeper"],
            "agree": all(a == b for _, a, b in pairs)}


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| case | report | changed lines | diff-cover | gatekeeper | floor | ratio | "
            "gatekeeper / floor | CPU diff-cover / gatekeeper | peak RSS diff-cover / gatekeeper "
            "| figures |\n|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['report_mb']:.1f} MB | {r['diff_lines']:,} | "
            f"{r['diff_cover'] * 1000:,.0f} ms | {r['gatekeeper'] * 1000:,.0f} ms | "
            f"{r['floor'] * 1000:,.0f} ms | {r['ratio']:.1f}x | {r['of_floor']:.2f}x | "
            f"{r['dc_cpu'] * 1000:,.0f} / {r['gk_cpu'] * 1000:,.0f} ms | "
            f"{r['dc_mem']:.0f} / {r['gk_mem']:.0f} MB | "
            f"{'equal' if r['agree'] else 'DIFFERENT'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES),
                        help="a named case (repeatable; default: " + ", ".join(DEFAULT_CASES) + ")")
    parser.add_argument("--files", type=int, help="a custom case: modules in the repository")
    parser.add_argument("--changed", type=int, default=1600, help="custom case: changed modules")
    parser.add_argument("--hunks", type=int, default=1, help="custom case: edits per module")
    parser.add_argument("--pretty", action="store_true", help="custom case: indented report")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    args = parser.parse_args()
    if shutil.which("git") is None:
        sys.exit("git is required")
    if importlib.util.find_spec("diff_cover") is None:
        sys.exit("diff-cover is required: pip install -e '.[test]'")
    if args.files:
        cases = {"custom": {"files": args.files, "changed": args.changed,
                            "hunks": args.hunks, "pretty": args.pretty}}
    else:
        cases = {name: CASES[name] for name in (args.case or DEFAULT_CASES)}
    compile_checkout()
    top = args.keep or Path(tempfile.mkdtemp(prefix="gk-bench-"))
    rows = []
    try:
        for name, spec in cases.items():
            work = top / name
            work.mkdir(parents=True, exist_ok=True)
            rows.append(run_case(name, spec, work, args.runs))
        _, base_mem, _, _ = measure([sys.executable, "-c", IMPORTS_ONLY], top)
        print()
        print(table(rows))
        print(f"\nmedians of {args.runs} alternating runs; the interpreter and imports alone "
              f"take {base_mem:.0f} MB")
        agree = all(r["agree"] for r in rows)
        print("figures agree" if agree else "FIGURES DISAGREE")
        return 0 if agree else 1
    finally:
        if args.keep is None:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
