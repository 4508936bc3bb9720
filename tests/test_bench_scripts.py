"""The benchmarks are not tests, but `make bench` runs them all: each must at least start. A script
whose imports broke (bench/points_post.py imported a function bench/findings_list.py no longer had,
and `make bench` stopped there for several sessions unnoticed) fails here, in `make test`."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if p.name not in ("_timing.py", "locustfile.py"))


def test_every_benchmark_is_listed_in_make_bench():
    makefile = (BENCH.parent / "Makefile").read_text()
    assert [name for name in SCRIPTS if f"bench/{name}" not in makefile] == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_starts(script):
    out = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True,
                         timeout=60, cwd=BENCH.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "usage:" in out.stdout
