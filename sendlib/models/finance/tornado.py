"""One-at-a-time sensitivity of the cumulative balance in a target year (the tornado chart).

Each uncertain assumption is set to its ``low`` and then its ``high`` (from the scenario file)
with every other assumption central; the demand projection is set to the simulation at its
10th and then 90th percentile of total placements in the target year. Bars are sorted by swing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.models.finance.model import FinanceBase, central_params, simulate
from sendlib.models.finance.montecarlo import anchor_base_year
from sendlib.models.finance.scenarios import ASSUMPTIONS, Scenario

DEMAND = "demand_projection"


def tornado_table(base: FinanceBase, scenario: Scenario, year_index: int = 5) -> pd.DataFrame:
    """Cumulative balance at ``year_index`` (clipped to the horizon) at each assumption's low and high.

    Columns: ``scenario``, ``financial_year``, ``assumption``, ``description``, ``low_value``,
    ``high_value``, ``central_gbp``, ``at_low_gbp``, ``at_high_gbp``, ``swing_gbp``; largest swing first.
    """
    T = len(base.years)
    j = min(max(int(year_index), 0), T - 1)
    names = [n for n, a in scenario.assumptions.items() if a.is_uncertain]
    n = 1 + 2 * len(names)
    params = central_params(scenario, n)
    for k, name in enumerate(names):
        a = scenario.assumptions[name]
        params[name][1 + 2 * k] = a.low
        params[name][2 + 2 * k] = a.high
    out = simulate(base, scenario, params)
    cum = out.cumulative[:, j]
    rows = []
    for k, name in enumerate(names):
        a = scenario.assumptions[name]
        rows.append(
            {
                "assumption": name,
                "description": ASSUMPTIONS[name].description,
                "low_value": a.low,
                "high_value": a.high,
                "at_low_gbp": cum[1 + 2 * k],
                "at_high_gbp": cum[2 + 2 * k],
            }
        )
    counts = base.counts_for(scenario.name)
    if counts.shape[0] > 1:
        total = counts[:, j, :].sum(axis=1)
        order = np.argsort(total, kind="stable")
        lo_i = order[int(np.floor(0.1 * (len(order) - 1)))]
        hi_i = order[int(np.ceil(0.9 * (len(order) - 1)))]
        pd_ = central_params(scenario, 2)
        dem = simulate(base, scenario, pd_, anchor_base_year(base, counts[[lo_i, hi_i]]))
        rows.append(
            {
                "assumption": DEMAND,
                "description": "Demand projection: simulation at the 10th / 90th percentile of total placements",
                "low_value": float(total[lo_i]),
                "high_value": float(total[hi_i]),
                "at_low_gbp": dem.cumulative[0, j],
                "at_high_gbp": dem.cumulative[1, j],
            }
        )
    df = pd.DataFrame(
        rows, columns=["assumption", "description", "low_value", "high_value", "at_low_gbp", "at_high_gbp"]
    )
    df.insert(0, "scenario", scenario.name)
    df.insert(1, "financial_year", base.labels[j])
    df["central_gbp"] = cum[0]
    df["swing_gbp"] = (df["at_high_gbp"] - df["at_low_gbp"]).abs()
    for c in ("at_low_gbp", "at_high_gbp", "central_gbp", "swing_gbp"):
        df[c] = df[c].round(0).astype("int64")
    return df.sort_values("swing_gbp", ascending=False, kind="stable").reset_index(drop=True)
