"""Rolling-origin backtest of the person-level model on the authority's own censuses.

At every origin census ``Y0`` with at least ``min_censuses`` censuses of history, the person-level
model is estimated from the snapshots up to ``Y0`` only (:func:`sendlib.models.forecast.person.estimate_rates`)
and simulated ``horizons`` years; its median total and the 10th-90th / 2.5th-97.5th percentiles
of the simulated totals are compared with the recorded total at ``Y0 + h``. The aggregate methods
forecast the yearly totals of the same data from the same origins
(:func:`sendlib.models.forecast.backtest.run_backtest` on one series), so every method is scored on
exactly the same (origin, horizon) cases, with the same metrics (MAPE, MASE, bias, coverage).

Caveat: the population table is used as it stands now for every origin (mid-year estimates and
projections; a real origin would have had the projection of its day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.models.forecast.backtest import BacktestResult, BacktestSettings, run_backtest, summarise
from sendlib.models.forecast.person import census_years, estimate_rates, simulate, snapshots
from sendlib.models.forecast.scenario import PersonBacktestSettings, PersonSettings


def county_totals(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.Series]:
    """The snapshots at every census the data covers and the total with a plan at each."""
    plans, placements = tables["ehcp_plans"], tables.get("placements")
    snaps = snapshots(plans, placements, census_years(plans, placements))
    return snaps, snaps.groupby("year").size().astype(float)


def backtest_person(
    tables: dict[str, pd.DataFrame],
    person: PersonSettings,
    backtest: BacktestSettings,
    settings: PersonBacktestSettings | None = None,
    seed: int = 0,
    code: str = "county",
) -> BacktestResult:
    """Backtest the person-level model (method ``person``) against the aggregate methods.

    Parameters
    ----------
    tables : dict
        ``ehcp_plans``, ``placements`` and ``population`` (canonical tables).
    person, backtest : settings
        The scenario's person-level settings and its backtest settings (for the aggregate
        methods' parameters; origins and methods come from ``settings``).
    settings : PersonBacktestSettings
        The scenario file's ``person_backtest`` section.

    Returns
    -------
    BacktestResult
        ``cases`` (one row per method x origin x horizon, with interval bounds) and ``summary``
        (method x horizon: mape, mase, bias, coverage_80, coverage_95, n, n_series, n_origins).
    """
    p = settings or PersonBacktestSettings()
    H = int(p.horizons)
    snaps, totals = county_totals(tables)
    years = np.arange(int(totals.index.min()), int(totals.index.max()) + 1)
    stock = totals.reindex(years).to_numpy(float)[None, :]
    origins = [int(y) for y in years[p.min_censuses - 1 : -1]]
    rows = []
    for o in origins:
        rates = estimate_rates(
            tables["ehcp_plans"],
            tables.get("placements"),
            tables["population"],
            person,
            snaps=snaps[snaps["year"] <= o],
        )
        yrs, _, draws = simulate(rates, tables["population"], H, p.sims, seed, person)
        tot = draws.sum(axis=2, dtype=np.int64).astype(float)  # (sims, horizon)
        hist = stock[0, : int(o - years[0]) + 1]
        steps = np.abs(np.diff(hist))
        scale = float(steps.mean()) if len(steps) else np.nan
        for h in range(1, H + 1):
            target = o + h
            if target > years[-1]:
                break
            q = np.quantile(tot[:, h - 1], [0.5, 0.1, 0.9, 0.025, 0.975])
            rows.append(
                {
                    "method": "person",
                    "old_la_code": code,
                    "origin": o,
                    "horizon": h,
                    "target_year": target,
                    "forecast": q[0],
                    "actual": float(totals.loc[target]),
                    "scale": scale,
                    "lower_80": q[1],
                    "upper_80": q[2],
                    "lower_95": q[3],
                    "upper_95": q[4],
                }
            )
    person_cases = pd.DataFrame(rows)
    agg_settings = backtest.model_copy(
        update={
            "methods": tuple(p.methods),
            "horizons": H,
            "min_errors": p.min_errors,
            "selection_origins": None,
            "report_origins": None,
            "first_origin": origins[0] if origins else None,
        }
    )
    agg = run_backtest(stock, years, [code], None, agg_settings).cases
    agg = agg[agg["origin"].isin(origins)]
    cases = pd.concat([person_cases, agg], ignore_index=True)
    # the same (origin, horizon) cases for every method
    common = person_cases[["origin", "horizon"]].merge(agg[["origin", "horizon"]].drop_duplicates())
    cases = cases.merge(common, on=["origin", "horizon"])
    return BacktestResult(cases=cases, summary=summarise(cases), settings=agg_settings)


def published_table(result: BacktestResult) -> pd.DataFrame:
    """The method x horizon table for a report: sorted, rounded, one authority so no ``n_series``,
    and ``n`` named ``forecasts_scored`` (forecasts, not children: the small-count rule does not
    apply, and the name says so)."""
    t = result.summary.sort_values(["horizon", "mape"]).drop(columns="n_series")
    return t.rename(columns={"n": "forecasts_scored"}).round(2).reset_index(drop=True)
