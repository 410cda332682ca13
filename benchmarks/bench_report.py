"""Benchmark the whole quarterly report pack against the import floor (prints medians).

* floor: one fresh Python process that only imports the stack (pandas, seaborn, statsmodels,
  great_expectations, sendlib);
* report, fresh: ``sendlib report --quarter latest --fresh`` on the shipped data into a temporary
  output folder, with a temporary reuse store (``--cache-dir``, so the user's cache folder is
  left alone), each run in a new process: the quality gate and the simulations always run;
* report, warm: the same command without ``--fresh`` into the same folders, so the results the
  fresh runs stored for identical inputs (gate result, loaded tables, seeded projection) are
  reused, as when an analyst re-runs an unchanged pack;
  both with the per-step timings from each ``manifest.json`` (validation, each notebook's
  execution, HTML export, checks).

Targets: warm, <= 20 s wall and <= 6x the import floor; fresh (nothing reused), <= 30 s wall.
``--repeat N`` runs of each (default 3); the notebooks run on ``--jobs`` kernels (default: cores).
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

    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        base = [sys.executable, "-m", "sendlib.cli", "report", "--quarter", "latest", "--quiet"]
        base += ["--output-dir", out, "--cache-dir", cache]
        if args.jobs:
            base += ["--jobs", str(args.jobs)]
        # fresh: everything computed (quality gate, simulations), as on a first or changed run
        fresh = _series(base + ["--fresh"], out, args.repeat)
        # warm: the results stored by the runs above are reused (same inputs, code and settings)
        warm = _series(base, out, args.repeat)
    for label, (walls, steps, notebooks) in (
        ("fresh (--fresh: gate and simulations run)", fresh),
        ("warm (identical inputs: stored gate result and projection reused)", warm),
    ):
        report = statistics.median(walls)
        print(
            f"sendlib report, {label}: median {report:.2f} s wall over {len(walls)} runs "
            f"({', '.join(f'{w:.1f}' for w in walls)}); ratio to floor {report / floor:.1f}x"
        )
        for step, values in steps.items():
            print(f"  step {step:<18} median {statistics.median(values):7.2f} s")
        for stem, values in notebooks.items():
            print(f"  notebook {stem:<26} median {statistics.median(values):7.2f} s")
    w, f = statistics.median(warm[0]), statistics.median(fresh[0])
    print(
        f"targets: warm <= 20 s wall: {'met' if w <= 20 else 'not met'} ({w:.2f} s); warm <= 6x the floor: "
        f"{'met' if w <= 6 * floor else 'not met'} ({w / floor:.1f}x); fresh <= 30 s wall: "
        f"{'met' if f <= 30 else 'not met'} ({f:.2f} s)"
    )
    return 0


def _series(
    cmd: list[str], out: str, repeat: int
) -> tuple[list[float], dict[str, list[float]], dict[str, list[float]]]:
    """Run ``cmd`` ``repeat`` times; wall times plus per-step and per-notebook seconds from each manifest."""
    walls: list[float] = []
    steps: dict[str, list[float]] = {}
    notebooks: dict[str, list[float]] = {}
    for _ in range(repeat):
        walls.append(_wall(cmd))
        manifest = json.loads(next(Path(out).glob("*/manifest.json")).read_text())
        for step, seconds in manifest["timings_seconds"].items():
            steps.setdefault(step, []).append(float(seconds))
        for nb in manifest["notebooks"]:
            notebooks.setdefault(nb["stem"], []).append(float(nb["seconds"]))
    return walls, steps, notebooks


if __name__ == "__main__":
    raise SystemExit(main())
