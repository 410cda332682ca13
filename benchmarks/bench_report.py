"""Benchmark the whole quarterly report pack against the import floor (prints medians).

* floor: one fresh Python process that only imports the stack (pandas, seaborn, statsmodels,
  great_expectations, sendlib);
* report: ``sendlib report --quarter latest`` on the shipped data into a temporary output folder,
  each run in a fresh process, with the per-step timings from its ``manifest.json`` (validation,
  each notebook's execution, HTML export, checks).

The issue's targets (issue 10): report pack <= 20 s wall and <= 6x the import floor, warm.
Not a timed test: run on demand with ``make bench`` or
``.venv/bin/python benchmarks/bench_report.py [--repeat N] [--jobs N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR_IMPORTS = "import pandas, seaborn, statsmodels.api, great_expectations, sendlib"


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks at once (default: cores)")
    args = parser.parse_args(argv)

    _wall([sys.executable, "-c", FLOOR_IMPORTS])  # warm the file cache and .pyc files
    floors = [_wall([sys.executable, "-c", FLOOR_IMPORTS]) for _ in range(args.repeat)]
    floor = statistics.median(floors)
    print(f"import floor ({FLOOR_IMPORTS}): median {floor:.2f} s over {len(floors)} runs")

    walls: list[float] = []
    steps: dict[str, list[float]] = {}
    notebooks: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "sendlib.cli", "report", "--quarter", "latest", "--output-dir", out, "--quiet"]
            if args.jobs:
                cmd += ["--jobs", str(args.jobs)]
            walls.append(_wall(cmd))
            manifest = json.loads(next(Path(out).glob("*/manifest.json")).read_text())
            for step, seconds in manifest["timings_seconds"].items():
                steps.setdefault(step, []).append(float(seconds))
            for nb in manifest["notebooks"]:
                notebooks.setdefault(nb["stem"], []).append(float(nb["seconds"]))
    report = statistics.median(walls)
    print(f"sendlib report (latest quarter, shipped data): median {report:.2f} s wall over {len(walls)} runs "
          f"({', '.join(f'{w:.1f}' for w in walls)})")
    for step, values in steps.items():
        print(f"  step {step:<18} median {statistics.median(values):7.2f} s")
    for stem, values in notebooks.items():
        print(f"  notebook {stem:<26} median {statistics.median(values):7.2f} s")
    print(f"ratio report / floor: {report / floor:.1f}x (target <= 6x); report target <= 20 s: "
          f"{'met' if report <= 20 else 'not met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
