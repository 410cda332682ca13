"""Benchmark: DSG Monte Carlo, 10,000 draws x 10 years x 3 scenarios (target: under 5 s).

Builds a synthetic projection (500 demand simulations, every setting type x age group) and
budget/income tables in memory, so it needs no data folder. Prints the median of several runs of
(a) the Monte Carlo alone and (b) the whole ``run_finance`` (calibration, central paths, Monte
Carlo, tornado, template tables). Not a timed test: run ``python benchmarks/bench_finance.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sendlib.core.schema import HNB_LINE, SETTING_TYPE
from sendlib.models.finance import build_base, load_scenarios, run_finance, run_monte_carlo
from sendlib.models.projection import AGE_GROUPS, PlacementProjection

REPO = Path(__file__).resolve().parent.parent
QUARTER = "2026-27Q2"
HORIZON = 10
DRAWS = 10_000
RUNS = 5


def inputs() -> tuple[PlacementProjection, dict[str, pd.DataFrame]]:
    rng = np.random.default_rng(1)
    groups = pd.DataFrame(
        [(s, "primary", "ASD", "north", a) for s in SETTING_TYPE for a in AGE_GROUPS],
        columns=["setting_type", "phase", "primary_need", "locality", "age_group"],
    )
    years = list(range(2027, 2027 + HORIZON + 1))
    base = rng.integers(20, 400, len(groups)).astype(float)
    growth = rng.normal(0.07, 0.03, size=(500, 1, 1))
    draws = (base[None, None, :] * (1 + growth) ** np.arange(len(years))[None, :, None]).astype(np.float32)
    proj = PlacementProjection(years=years, groups=groups, draws=draws)
    hnb = pd.DataFrame(
        [("2026-27", QUARTER, line, 1e7, 1e7 + i * 1e6, np.nan) for i, line in enumerate(HNB_LINE)],
        columns=["financial_year", "as_at_quarter", "line", "budget", "forecast_outturn", "actual"],
    )
    inc = pd.DataFrame(
        [
            ("2026-27", "opening_cumulative_balance", -8e7),
            ("2026-27", "hnb_allocation", 1.3e8),
            ("2026-27", "block_transfer", 0.0),
            ("2026-27", "other", 1e6),
        ],
        columns=["financial_year", "item", "amount"],
    )
    return proj, {"hnb_budget": hnb, "dsg_income": inc}


def main() -> int:
    sf = load_scenarios(REPO / "config" / "scenarios" / "dsg.yaml")
    proj, tables = inputs()
    base = build_base(sf, proj, tables, QUARTER, HORIZON)
    scen = [sf.scenarios[n] for n in sf.names[:3]]
    mc_times, full_times = [], []
    for i in range(RUNS):
        t0 = time.perf_counter()
        run_monte_carlo(base, scen, DRAWS, seed=i)
        mc_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_finance(sf, proj, tables, QUARTER, horizon=HORIZON, draws=DRAWS, seed=i, scenarios=sf.names[:3])
        full_times.append(time.perf_counter() - t0)
    mc, full = statistics.median(mc_times), statistics.median(full_times)
    print(f"monte carlo {DRAWS} draws x {HORIZON} years x {len(scen)} scenarios: median {mc:.3f} s over {RUNS} runs")
    print(f"run_finance (calibrate, central, monte carlo, tornado, tables): median {full:.3f} s over {RUNS} runs")
    print(f"target < 5 s: {'met' if full < 5 else 'MISSED'}")
    return 0 if full < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
