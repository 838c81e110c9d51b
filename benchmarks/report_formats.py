"""Benchmark: every coverage report format's reader, time per MB and peak memory.

    python benchmarks/report_formats.py [--mb 16] [--runs 5] [--format lcov ...]
    python benchmarks/report_formats.py --mb 200 --sizing each     # the hostile size

Generates ONE synthetic coverage dataset (modules of ~500 lines, every 10th line not
measured, ~70 % of the measured lines covered, ~10 % of them branch lines with two
branches) and writes it as each producer writes it:

- ``cobertura``: coverage.py's Cobertura XML, compact (one element after another);
- ``lcov``: ``coverage lcov`` / geninfo style records (TN, SF, FN/FNDA/FNF/FNH, DA with
  real hit counts, BRDA with ``-`` for branches of lines that never ran, BRF/BRH, LF/LH,
  end_of_record);
- ``json``: ``coverage json`` format 3 (per file the line lists, a summary, branch arcs,
  and the ``functions`` / ``classes`` regions that repeat the lines);
- ``jacoco``: JaCoCo XML (DOCTYPE, sessioninfo, classes with methods and counters, then
  per sourcefile ``<line nr mi ci mb cb>`` and counters).

With ``--sizing same`` (the default) the dataset is as many modules as make the Cobertura
report ``--mb`` MB, and every format holds exactly that data. With ``--sizing each`` every
format gets as many modules (a prefix of the same sequence) as make *its* file ``--mb`` MB:
the way to ask for the peak memory of a 200 MB report of each format.

Each format is read by ``read_report`` in a fresh interpreter (imports done before the
clock starts), ``--runs`` times, formats alternating; the table shows medians of the wall
and CPU time of the read plus the totals (counted as ``check`` counts them: a reader's lazy
tables are not decoded), ms per MB (wall and CPU), the CPU time with every file's table
decoded as well (a change touching every file), and the child's peak RSS (ru_maxrss, the
interpreter and imports included; the imports alone are printed below the table). Every
run's figures (lines measured / covered, branches / covered) must equal what the generator
wrote, so all formats give identical totals; the script exits 1 otherwise.

The coverage.py JSON size limit is lifted for the child (``GATEKEEPER_MAX_JSON_REPORT_MB``),
so the JSON reader's time and memory are measured rather than its refusal.
Run ``python -m compileall -q gatekeeper`` first where PYTHONDONTWRITEBYTECODE is set (the
script does it). Run by hand, not in pytest: timings belong to a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
MB = 1e6
TEMPLATES = 64
"""Distinct module bodies; module i has body i % TEMPLATES under its own name (writing
200 MB stays fast, and every reader still sees every line)."""

# Reads one report in a fresh interpreter: readers imported before the clock starts,
# then wall and CPU time of read_report, the figures, and the process's peak RSS.
READ = """
import json, resource, sys, time
from pathlib import Path
from gatekeeper.evidence import coverage_formats
from gatekeeper.evidence.coverage_formats import read_report
import gatekeeper.evidence.coverage_formats.lcov
import gatekeeper.evidence.coverage_formats.coveragepy_json
import gatekeeper.evidence.coverage_formats.xmlreports
import gatekeeper.evidence.coverage_formats.cobertura_fast

def counts(lines):
    # As the total is counted (no table decoded), where the reader keeps lazy tables.
    if hasattr(coverage_formats, "counts"):
        return coverage_formats.counts(lines)
    return lines.count(1), lines.count(2)

def table(lines):
    return lines.table() if hasattr(lines, "table") else lines

def process_time():
    # This process's CPU time and its finished children's: a reader may fork workers.
    own, workers = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime

def peak_rss_kib():
    # The largest of this process and any worker it forked.
    return max(resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))

if len(sys.argv) > 2:
    print(json.dumps({"rss_kib": peak_rss_kib()}))
    sys.exit()
wall, cpu = time.perf_counter(), process_time()
report = read_report(Path(sys.argv[1]))
measured = covered = 0
for lines in report.files.values():
    missed, hit = counts(lines)
    measured += missed + hit
    covered += hit
branches = covered_branches = 0
for b in report.branches.values():
    total, ran = b.counts()
    branches += total
    covered_branches += ran
wall, cpu = time.perf_counter() - wall, process_time() - cpu
# Every table decoded too: what a change touching every file would cost.
all_wall, all_cpu = time.perf_counter(), process_time()
decoded = [0, 0]
for lines in report.files.values():
    found = table(lines)
    decoded[0] += len(found) - found.count(0)
    decoded[1] += found.count(2)
all_wall, all_cpu = time.perf_counter() - all_wall + wall, process_time() - all_cpu + cpu
assert decoded == [measured, covered], (decoded, measured, covered)
print(json.dumps({"wall": wall, "cpu": cpu, "all_wall": all_wall, "all_cpu": all_cpu,
                  "format": report.format, "files": len(report.files),
                  "figures": [measured, covered, branches, covered_branches],
                  "rss_kib": peak_rss_kib()}))
"""


@dataclass
class Line:
    number: int
    hits: int
    branches: int = 0
    taken: int = 0


@dataclass
class Module:
    """One module body: its measured lines and the figures they make."""

    lines: list[Line]
    length: int
    figures: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    def __post_init__(self) -> None:
        self.figures = [
            len(self.lines),
            sum(1 for x in self.lines if x.hits),
            sum(x.branches for x in self.lines),
            sum(x.taken for x in self.lines),
        ]


def make_templates(seed: int) -> list[Module]:
    templates = []
    for t in range(TEMPLATES):
        rng = random.Random(seed * 1_000_003 + t)
        length = rng.randint(450, 550)
        lines = []
        for n in range(1, length + 1):
            if n % 10 == 0:
                continue  # a comment or blank line: not measured
            ran = rng.random() < 0.7
            hits = 0
            if ran:
                roll = rng.random()
                hits = 1 if roll < 0.6 else rng.randint(2, 99) if roll < 0.9 else rng.randint(
                    100, 99_999)
            line = Line(n, hits)
            if rng.random() < 0.1:
                line.branches = 2
                line.taken = rng.randint(0, 2) if ran else 0
            lines.append(line)
        templates.append(Module(lines, length))
    return templates


def name_of(i: int) -> str:
    return f"pkg{i // 100:04d}/mod{i % 100:03d}.py"


# --- writers: each writes modules 0..n-1 -------------------------------------------------


def write_cobertura(out: IO[str], templates: list[Module], n: int) -> None:
    """coverage.py's layout and attributes, compact."""
    out.write('<?xml version="1.0" ?>\n<coverage version="7.6.1" timestamp="1700000000000" '
              'lines-valid="0" lines-covered="0" line-rate="0.7" branches-covered="0" '
              'branches-valid="1" branch-rate="0.5" complexity="0">'
              "<!-- Generated by coverage.py: https://coverage.readthedocs.io/en/7.6.1 -->"
              "<!-- Based on https://raw.githubusercontent.com/cobertura/web/master/htdocs/"
              "xml/coverage-04.dtd -->"
              "<sources><source>/work/project</source></sources><packages>")
    bodies = []
    for module in templates:
        parts = []
        for x in module.lines:
            hits = 1 if x.hits else 0
            if x.branches:
                pct = 100 * x.taken // x.branches
                missing = "" if x.taken == x.branches else (
                    f' missing-branches="{x.number + 1}"' if x.taken else
                    f' missing-branches="{x.number + 1},exit"')
                parts.append(f'<line number="{x.number}" hits="{hits}" branch="true" '
                             f'condition-coverage="{pct}% ({x.taken}/{x.branches})"{missing}/>')
            else:
                parts.append(f'<line number="{x.number}" hits="{hits}"/>')
        bodies.append("".join(parts))
    for package in range(0, n, 100):
        out.write(f'<package name="pkg{package // 100:04d}" line-rate="0.7" branch-rate="0.5" '
                  'complexity="0"><classes>')
        for i in range(package, min(n, package + 100)):
            name = name_of(i)
            out.write(f'<class name="{name.rsplit("/", 1)[1]}" filename="{name}" '
                      'complexity="0" line-rate="0.7" branch-rate="0.5"><methods/><lines>')
            out.write(bodies[i % TEMPLATES])
            out.write("</lines></class>")
        out.write("</classes></package>")
    out.write("</packages></coverage>\n")


def write_lcov(out: IO[str], templates: list[Module], n: int) -> None:
    """geninfo / ``coverage lcov`` records; counts as geninfo writes them."""
    bodies = []
    for module in templates:
        parts = []
        functions = range(1, module.length, 100)
        for k, start in enumerate(functions):
            parts.append(f"FN:{start},{min(start + 99, module.length)},func_{k}\n")
        hit = {start: any(x.hits for x in module.lines if start <= x.number < start + 100)
               for start in functions}
        for k, start in enumerate(functions):
            parts.append(f"FNDA:{int(hit[start])},func_{k}\n")
        parts.append(f"FNF:{len(functions)}\nFNH:{sum(hit.values())}\n")
        parts.extend(f"DA:{x.number},{x.hits}\n" for x in module.lines)
        brf = brh = 0
        for x in module.lines:
            for b in range(x.branches):
                taken = "-" if not x.hits else ("1" if b < x.taken else "0")
                parts.append(f"BRDA:{x.number},0,{b},{taken}\n")
            brf += x.branches
            brh += x.taken
        if brf:
            parts.append(f"BRF:{brf}\nBRH:{brh}\n")
        covered = module.figures[1]
        parts.append(f"LF:{len(module.lines)}\nLH:{covered}\nend_of_record\n")
        bodies.append("".join(parts))
    for i in range(n):
        out.write(f"TN:\nSF:{name_of(i)}\n")
        out.write(bodies[i % TEMPLATES])


def _summary(lines: list[Line]) -> dict[str, Any]:
    covered = sum(1 for x in lines if x.hits)
    branches, taken = sum(x.branches for x in lines), sum(x.taken for x in lines)
    pct = 100 * covered / len(lines) if lines else 100.0
    bpct = 100 * taken / branches if branches else 100.0
    return {"covered_lines": covered, "num_statements": len(lines), "percent_covered": pct,
            "percent_covered_display": f"{pct:.0f}", "missing_lines": len(lines) - covered,
            "excluded_lines": 0, "percent_statements_covered": pct,
            "percent_statements_covered_display": f"{pct:.0f}", "num_branches": branches,
            "num_partial_branches": sum(1 for x in lines if 0 < x.taken < x.branches),
            "covered_branches": taken, "missing_branches": branches - taken,
            "percent_branches_covered": bpct, "percent_branches_covered_display": f"{bpct:.0f}"}


def _region(lines: list[Line], start: int | None = None) -> dict[str, Any]:
    region: dict[str, Any] = {
        "executed_lines": [x.number for x in lines if x.hits],
        "summary": _summary(lines),
        "missing_lines": [x.number for x in lines if not x.hits],
        "excluded_lines": [],
    }
    if start is not None:
        region["start_line"] = start
    # Arcs to the next line (taken first) and to the exit (-1): one per branch.
    region["executed_branches"] = [[x.number, [x.number + 1, -1][b]] for x in lines
                                   for b in range(x.taken)]
    region["missing_branches"] = [[x.number, [x.number + 1, -1][b]] for x in lines
                                  for b in range(x.taken, x.branches)]
    return region


def write_json(out: IO[str], templates: list[Module], n: int) -> None:
    """``coverage json`` format 3 (no indent, as coverage.py writes it by default)."""
    bodies = []
    for module in templates:
        entry = _region(module.lines)
        functions = {}
        for k, start in enumerate(range(1, module.length, 100)):
            inside = [x for x in module.lines if start <= x.number < start + 100]
            functions[f"func_{k}"] = _region(inside, start)
        functions[""] = _region([], 1)
        entry["functions"] = functions
        entry["classes"] = {"": _region(module.lines, 1)}
        bodies.append(json.dumps(entry))
    out.write('{"meta": {"format": 3, "version": "7.6.1", "timestamp": '
              '"2026-01-02T03:04:05.123456", "branch_coverage": true, "show_contexts": false},'
              ' "files": {')
    for i in range(n):
        out.write(", " if i else "")
        out.write(f'"{name_of(i)}": ')
        out.write(bodies[i % TEMPLATES])
    out.write('}, "totals": {"covered_lines": 0, "num_statements": 0}}')


def write_jacoco(out: IO[str], templates: list[Module], n: int) -> None:
    """JaCoCo's XML report as its Maven/Gradle plugins write it (one line, a DOCTYPE)."""
    out.write('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC '
              '"-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="bench">'
              '<sessioninfo id="host-1" start="1700000000000" dump="1700000001000"/>')
    bodies = []
    for module in templates:
        parts = []
        for x in module.lines:
            ci = (x.number % 5) + 1 if x.hits else 0
            mi = 0 if x.hits else (x.number % 5) + 1
            mb = x.branches - x.taken
            parts.append(f'<line nr="{x.number}" mi="{mi}" ci="{ci}" mb="{mb}" cb="{x.taken}"/>')
        covered = module.figures[1]
        parts.append(f'<counter type="INSTRUCTION" missed="{len(module.lines) - covered}" '
                     f'covered="{covered}"/><counter type="LINE" '
                     f'missed="{len(module.lines) - covered}" covered="{covered}"/>')
        bodies.append("".join(parts))
    for package in range(0, n, 100):
        out.write(f'<package name="pkg{package // 100:04d}">')
        for i in range(package, min(n, package + 100)):
            base = name_of(i).rsplit("/", 1)[1]
            out.write(f'<class name="pkg{package // 100:04d}/{base[:-3]}" sourcefilename="{base}">'
                      '<method name="run" desc="()V" line="1"><counter type="INSTRUCTION" '
                      'missed="1" covered="2"/></method><counter type="INSTRUCTION" '
                      'missed="1" covered="2"/></class>')
        for i in range(package, min(n, package + 100)):
            out.write(f'<sourcefile name="{name_of(i).rsplit("/", 1)[1]}">')
            out.write(bodies[i % TEMPLATES])
            out.write("</sourcefile>")
        out.write('<counter type="LINE" missed="1" covered="2"/></package>')
    out.write('<counter type="LINE" missed="1" covered="2"/></report>')


WRITERS: dict[str, tuple[str, Callable[[IO[str], list[Module], int], None]]] = {
    "cobertura": ("coverage.xml", write_cobertura),
    "lcov": ("lcov.info", write_lcov),
    "json": ("coverage.json", write_json),
    "jacoco": ("jacoco.xml", write_jacoco),
}


def bytes_per_module(kind: str, templates: list[Module]) -> float:
    """Average size of one module in a format, measured on a sample file."""
    sample = 4 * TEMPLATES
    with tempfile.TemporaryFile("w+", encoding="utf-8") as f:
        WRITERS[kind][1](f, templates, sample)
        return f.tell() / sample


def write(kind: str, work: Path, templates: list[Module], n: int, seed: int) -> Path:
    """The report of modules 0..n-1 (kept in ``work`` and reused when it exists)."""
    filename, writer = WRITERS[kind]
    path = work / f"{n}-modules-seed{seed}-{filename}"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", buffering=1 << 20) as out:
            writer(out, templates, n)
        partial.rename(path)
    return path


def truth(templates: list[Module], n: int) -> list[int]:
    out = [0, 0, 0, 0]
    for i in range(n):
        for k, v in enumerate(templates[i % TEMPLATES].figures):
            out[k] += v
    return out


def run_child(path: Path, baseline: bool = False) -> dict[str, Any]:
    # Just above the file's size: the reader allocates its limit + 1 byte.
    limit = str(path.stat().st_size // (1 << 20) + 2)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GATEKEEPER_MAX_JSON_REPORT_MB": limit}
    cmd = [sys.executable, "-c", READ, str(path)] + (["--baseline"] if baseline else [])
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        sys.exit(f"reading {path} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def rounds(kinds: list[str], runs: int) -> Iterator[str]:
    for _ in range(runs):
        yield from kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=16, help="target report size in MB (1e6)")
    parser.add_argument("--sizing", choices=["same", "each"], default="same",
                        help="same: one dataset sized by its Cobertura report (identical "
                        "figures); each: every format's own file --mb MB")
    parser.add_argument("--format", action="append", choices=sorted(WRITERS),
                        help="a format to measure (repeatable; default: all)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="write the reports into (and keep them in) "
                        "this directory; existing ones are reused")
    args = parser.parse_args()
    kinds = args.format or list(WRITERS)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "gatekeeper"], cwd=ROOT, check=True)
    templates = make_templates(args.seed)
    sizes = {k: bytes_per_module(k, templates) for k in
             (set(kinds) | ({"cobertura"} if args.sizing == "same" else set()))}
    if args.sizing == "same":
        modules = {k: max(1, round(args.mb * MB / sizes["cobertura"])) for k in kinds}
    else:
        modules = {k: max(1, round(args.mb * MB / sizes[k])) for k in kinds}
    work = args.keep or Path(tempfile.mkdtemp(prefix="gk-formats-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        paths = {}
        for kind in kinds:
            paths[kind] = write(kind, work, templates, modules[kind], args.seed)
            print(f"{kind:9} {modules[kind]:,} modules, {paths[kind].stat().st_size / MB:.1f} MB",
                  flush=True)
        results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        for kind in rounds(kinds, args.runs):
            results[kind].append(run_child(paths[kind]))
        baseline = run_child(paths[kinds[0]], baseline=True)["rss_kib"] / 1024
        ok = True
        rows = []
        for kind in kinds:
            want = truth(templates, modules[kind])
            got = {tuple(r["figures"]) for r in results[kind]}
            agree = got == {tuple(want)}
            ok = ok and agree
            size = paths[kind].stat().st_size / MB
            wall = median(r["wall"] for r in results[kind]) * 1000
            cpu = median(r["cpu"] for r in results[kind]) * 1000
            all_cpu = median(r["all_cpu"] for r in results[kind]) * 1000
            rss = max(r["rss_kib"] for r in results[kind]) / 1024
            rows.append((kind, results[kind][0]["format"], size, modules[kind], want, wall, cpu,
                         rss, agree, sorted(got), all_cpu))
        print()
        print(table(rows, args.runs))
        print(f"\nmedians of {args.runs} runs, formats alternating; CPU is the reading "
              f"process's and its workers' (Cobertura from 4 MB and LCOV from 2 MB are read on "
              f"several cores), peak RSS the largest of them (interpreter and imports alone: "
              f"{baseline:.0f} MB)")
        ref = next((r for r in rows if r[0] == "cobertura"), None)
        if ref is not None:
            for r in rows:
                if r[0] != "cobertura":
                    print(f"{r[0]}: {r[5] / r[2] / (ref[5] / ref[2]):.2f}x Cobertura's wall "
                          f"ms/MB, {r[6] / r[2] / (ref[6] / ref[2]):.2f}x its CPU ms/MB, "
                          f"{r[10] / r[2] / (ref[10] / ref[2]):.2f}x with all tables decoded")
        print("figures agree with the generated data" if ok else "FIGURES DISAGREE")
        return 0 if ok else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def table(rows: list[tuple[Any, ...]], runs: int) -> str:
    lines = ["| format | report | modules | lines measured / covered | branches / covered | "
             "read (wall) | read (CPU) | wall ms/MB | CPU ms/MB | CPU ms/MB, all tables | "
             "peak RSS | figures |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind, fmt, size, n, want, wall, cpu, rss, agree, got, all_cpu in rows:
        figures = "equal" if agree else f"DIFFERENT: {got}"
        lines.append(
            f"| {kind} ({fmt}) | {size:.1f} MB | {n:,} | {want[0]:,} / {want[1]:,} | "
            f"{want[2]:,} / {want[3]:,} | {wall:,.0f} ms | {cpu:,.0f} ms | {wall / size:.1f} | "
            f"{cpu / size:.1f} | {all_cpu / size:.1f} | {rss:.0f} MB | {figures} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
