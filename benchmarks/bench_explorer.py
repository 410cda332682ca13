"""Benchmark: one update of the DSG scenario explorer after a control moves (target: under 1 s).

Loads the shipped data and projects demand once (as the notebook does when it starts), then times
what a moved control costs: the finance model on the new levers (scenario validated, central
paths, 2,000-draw Monte Carlo, tornado, invest to save) plus the chart and the figures' HTML.
Prints the median of several runs, each moving the INMSS price control to a new value.
Run ``python benchmarks/bench_explorer.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

RUNS = 7
TARGET_S = 1.0


def main() -> int:
    sys.path.insert(0, str(REPO))  # this checkout's sendlib
    from sendlib.publish.explorer import Explorer

    t0 = time.perf_counter()
    explorer = Explorer.from_config()
    print(f"explorer start (data, demand projection, cascades; once): {time.perf_counter() - t0:.1f} s")
    levers = explorer.levers()
    model, total = [], []
    for i in range(RUNS):
        t = time.perf_counter()
        fig = explorer.figures(replace(levers, inmss_price_pct=float(i + 1)))
        m = time.perf_counter() - t
        explorer.chart_png(fig)
        explorer.summary_html(fig)
        model.append(m)
        total.append(time.perf_counter() - t)
    med = statistics.median(total)
    print(f"finance model per update: median {statistics.median(model):.3f} s over {RUNS} runs")
    print(f"update after a control moves (model + chart + figures): median {med:.3f} s over {RUNS} runs")
    print(f"target under {TARGET_S:.0f} s: {'met' if med < TARGET_S else 'NOT met'}")
    return 0 if med < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
