"""A small real Python project in a git repository, measured by the real coverage.py
and judged by the real diff-cover: the reference the exactness tests compare against."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

BASE_FILES = {
    "pkg/__init__.py": "",
    "pkg/calc.py": '''
        def add(a, b):
            return a + b


        def sub(a, b):
            return a - b


        def unused(x):
            if x > 1:
                return x * 2
            return x
        ''',
    "pkg/old.py": '''
        def legacy():
            return 1
        ''',
    "pkg/moved.py": '''
        def moved(n):
            total = 0
            for i in range(n):
                total += i
            return total
        ''',
    "tests/test_calc.py": '''
        from pkg.calc import add, sub


        def test_add():
            assert add(1, 2) == 3


        def test_sub():
            assert sub(3, 2) == 1
        ''',
    "README.md": "# demo\n",
    "pytest.ini": "[pytest]\naddopts = -p no:cacheprovider\n",
}

HEAD_FILES = {
    "pkg/calc.py": '''
        import functools


        def add(a, b):
            return a + b


        def sub(a, b):
            return a - b


        def mul(a, b):
            result = a * b
            if result > 100:
                return 100
            return result


        @functools.lru_cache(maxsize=None)
        def cached_square(
            x,
        ):
            return x * x


        def unused(x):
            if x > 1:
                return x * 3
            values = [
                x,
                x + 1,
            ]
            return sum(values)


        class Shape:
            sides = 0

            def area(self):
                raise NotImplementedError

            def describe(self):
                return f"{self.sides} sides"
        ''',
    "pkg/new.py": '''
        """A new module, half tested."""

        LIMIT = 10


        def clamp(v):
            if v > LIMIT:
                return LIMIT
            if v < 0:
                return 0
            return v


        def never_called():
            x = 1
            y = 2
            return x + y
        ''',
    "pkg/renamed.py": '''
        def moved(n):
            total = 0
            for i in range(n):
                total += i
            if total > 1000:
                return -1
            return total
        ''',
    "scripts/tool.py": '''
        import sys

        print(sys.argv)
        ''',
    "tests/test_calc.py": '''
        from pkg.calc import Shape, add, cached_square, mul, sub
        from pkg.new import clamp
        from pkg.renamed import moved


        def test_add():
            assert add(1, 2) == 3


        def test_sub():
            assert sub(3, 2) == 1


        def test_mul():
            assert mul(2, 3) == 6


        def test_square():
            assert cached_square(3) == 9


        def test_clamp():
            assert clamp(50) == 10
            assert clamp(5) == 5


        def test_moved():
            assert moved(3) == 3


        def test_shape():
            assert Shape().describe() == "0 sides"
        ''',
    "README.md": "# demo\n\nNow with more.\n",
}
DELETED = ["pkg/old.py", "pkg/moved.py"]


def dedent(files: dict[str, str]) -> dict[str, str | bytes | None]:
    return {name: textwrap.dedent(text).lstrip("\n") for name, text in files.items()}


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=root, check=True, capture_output=True, text=True)


def build(root: Path) -> dict[str, object]:
    """Create the project on ``main`` with a change on ``feature``, measure it
    with coverage.py (Cobertura, JSON and LCOV from one run) and run diff-cover on
    Cobertura and LCOV. Returns diff-cover's JSON reports and coverage.py's totals."""
    from tests.factories import make_repo

    repo = make_repo(root, dedent(BASE_FILES))
    repo.branch("feature")
    repo.commit({**dedent(HEAD_FILES), **dict.fromkeys(DELETED)}, "feature")

    py = sys.executable
    run(root, py, "-m", "coverage", "run", "--branch", "--source=pkg", "-m", "pytest", "-q",
        "--junitxml=junit.xml", "tests")
    run(root, py, "-m", "coverage", "xml", "-o", "coverage.xml")
    run(root, py, "-m", "coverage", "json", "-o", "coverage.json")
    run(root, py, "-m", "coverage", "lcov", "-o", "coverage.lcov")
    out: dict[str, object] = {}
    for name in ("coverage.xml", "coverage.lcov"):
        report = root / f"diffcover-{name}.json"
        run(root, py, "-m", "diff_cover.diff_cover_tool", name, "--compare-branch=main",
            "--total-percent-float", f"--format=json:{report}")
        out[name] = json.loads(report.read_text())
    out["coverage.py"] = json.loads((root / "coverage.json").read_text())["totals"]
    return out
