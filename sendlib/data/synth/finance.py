"""The high needs block: budget monitoring by line and quarter, and the DSG income.

Placement lines are the placements' annual costs pro rata to the days of each financial year in
the history; the part of a year after the end date is the spend running on the end date, growing
at ``growth_after_extract``. Central lines grow from a base. Budgets are set below outturn, and
each quarter's forecast converges on the outturn through the year; ``actual`` is only known for
years ended by the end date. DSG income (high needs allocation, schools block transfer, other
income) and the opening cumulative balance are parameters (``hnb_budget`` and ``dsg_income`` in
``config/synth.yaml``, scaled on national high needs funding; docs/synthetic-county.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.core.quarters import Quarter, financial_year_label
from sendlib.core.schema import TABLES
from sendlib.data.synth.calendar import NA, _day
from sendlib.data.synth.sampling import STREAMS, _by_year, _rng
from sendlib.data.synth.state import County


def finance(c: County) -> None:
    """Build the ``hnb_budget`` and ``dsg_income`` tables for every financial year to the end date."""
    r = _rng(c.seed, STREAMS["finance"])
    last_fy = Quarter.containing(c.end_ts).fy_start
    lines = list(TABLES["hnb_budget"].column("line").codes)
    outturn = _outturns(c, r, lines, last_fy)
    c.tables["hnb_budget"] = _monitoring(c, r, lines, last_fy, outturn)
    c.tables["dsg_income"] = _dsg_income(c, last_fy)


def _outturns(c: County, r: np.random.Generator, lines: list[str], last_fy: int) -> dict[tuple[int, str], float]:
    """Outturn per (financial year, line): placement costs and central lines, with noise."""
    F = c.params["hnb_budget"]
    sp = c.spells
    pl_lines = F["placement_lines"]
    g_after = float(F["growth_after_extract"])
    outturn: dict[tuple[int, str], float] = {}
    for fy in range(c.first_year, last_fy + 1):
        a, b = _day(f"{fy}-04-01"), _day(f"{fy + 1}-03-31")
        ndays = b - a + 1
        known_end = min(b, c.end)
        for line in lines:
            total = 0.0
            if line in pl_lines:
                sel = np.isin(sp["setting"], pl_lines[line])
                s0 = np.maximum(sp["start"][sel], a)
                s1 = np.minimum(sp["end_eff"][sel], known_end)
                days = np.maximum(s1 - s0 + 1, 0)
                total = float((sp["cost"][sel] * days).sum() / ndays)
                if b > c.end:
                    # the rest of the year: spend running at the extract date, growing
                    live = sel.copy()
                    live[sel] = (sp["start"][sel] <= c.end) & (sp["end_eff"][sel] >= c.end) & (sp["end"][sel] == NA)
                    run_rate = float(sp["cost"][live].sum())
                    rest = b - c.end
                    total += run_rate * rest / ndays * (1.0 + g_after * rest / 2 / 365.0)
            fixed = F["fixed_lines"].get(line)
            if fixed is not None:
                total += float(fixed["base"]) * (1.0 + float(fixed["growth"])) ** (fy - c.first_year)
            outturn[(fy, line)] = total * (1.0 + r.normal(0.0, float(F["noise_sd"])))
    return outturn


def _monitoring(
    c: County, r: np.random.Generator, lines: list[str], last_fy: int, outturn: dict[tuple[int, str], float]
) -> pd.DataFrame:
    """One row per year, quarter ended by the end date and line: budget, forecast, actual."""
    F = c.params["hnb_budget"]
    rows = []
    rec = F["forecast_recognition"]
    for fy in range(c.first_year, last_fy + 1):
        under = float(_by_year(F["under_budget"], np.array([fy]))[0])
        ended = _day(f"{fy + 1}-03-31") <= c.end
        for line in lines:
            out = outturn[(fy, line)]
            budget = round(out * (1.0 - under + r.normal(0.0, float(F["budget_noise_sd"]))), -3)
            for q in range(1, 5):
                qq = Quarter(fy, q)
                if qq.end > c.end_ts:
                    break
                fc = budget + (out - budget) * float(rec[q - 1]) + out * r.normal(0.0, float(F["forecast_noise_sd"]))
                rows.append(
                    {
                        "financial_year": financial_year_label(fy),
                        "as_at_quarter": str(qq),
                        "line": line,
                        "budget": max(budget, 0.0),
                        "forecast_outturn": max(round(fc, -2), 0.0),
                        "actual": float(round(out)) if ended else np.nan,
                    }
                )
    return pd.DataFrame(rows)


def _dsg_income(c: County, last_fy: int) -> pd.DataFrame:
    """DSG income items per year, and the cumulative balance brought forward into the first."""
    D = c.params["dsg_income"]
    inc = []
    for fy in range(c.first_year, last_fy + 1):
        for item in ["hnb_allocation", "block_transfer", "other"]:
            inc.append(
                {
                    "financial_year": financial_year_label(fy),
                    "item": item,
                    "amount": float(_by_year(D[item], np.array([fy]))[0]),
                }
            )
        if fy == c.first_year:
            inc.append(
                {
                    "financial_year": financial_year_label(fy),
                    "item": "opening_cumulative_balance",
                    "amount": float(D["opening_cumulative_balance"]),
                }
            )
    return pd.DataFrame(inc)
