"""The issue's "done when" checks, computed on whatever data is shipped in ``data/raw``.

No figure of today's data is written here: each check compares outputs of the chain with each
other (places, demand, the KPI K10 mean cost, the forecast outturn), so the tests hold for any
recalibration of the synthetic county.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sendlib.core.config import load_config
from sendlib.data.loaders import load_tables, resolve_quarter
from sendlib.models import chain, kpi
from sendlib.models import sufficiency as suff
from sendlib.models.finance import load_scenarios, run_finance
from sendlib.models.finance.demand import census_years_needed
from sendlib.models.forecast.scenario import load_scenario

TOL = 1e-6
SIMS = 200


@pytest.fixture(scope="module")
def shipped():
    cfg = load_config(None)
    tables = load_tables(cfg)
    quarter = resolve_quarter("latest", cfg, tables)
    horizon = cfg.report.horizon_years
    projection = chain.quarter_projection(
        tables,
        quarter,
        load_scenario(cfg.scenario_file("", "forecast")),
        horizon_years=horizon,
        through_year=census_years_needed(quarter, horizon)[-1],
        sims=SIMS,
    )
    sufficiency = suff.load_scenario(cfg.scenario_file("", "sufficiency"))
    sf = load_scenarios(cfg.scenario_file("", "dsg"))
    demand = chain.finance_projections(tables, projection, sufficiency, sf, quarter)
    res = run_finance(sf, demand, tables, quarter, horizon=horizon, draws=0)
    table = suff.assess(projection, tables["capacity"], sufficiency, tables["placements"]).table(
        ["phase", "designation"]
    )
    return {"cfg": cfg, "tables": tables, "quarter": quarter, "sufficiency": sufficiency, "table": table, "res": res}


def test_phase_totals_place_nobody_above_the_places(shipped):
    t = shipped["table"]
    allow = 1 + shipped["sufficiency"].over_admission_pct / 100
    tot = t[t["designation"] == "all"]
    assert len(tot) == len(t["year"].unique()) * len(t["phase"].unique())
    assert (tot["placed_mean"] <= tot["capacity_places"] * allow + TOL).all()
    assert (tot["overflow_mean"] >= tot["demand_mean"] - tot["capacity_places"] * allow - TOL).all()
    assert (tot["overflow_mean"] <= tot["demand_mean"] + TOL).all()
    util = tot["utilisation_pct"].dropna()
    assert (util <= 100 * allow + TOL).all()
    np.testing.assert_allclose(tot["placed_mean"] + tot["overflow_mean"], tot["demand_mean"], atol=1e-6)


def test_out_of_county_children_are_their_own_line(shipped):
    t = shipped["table"]
    tot = t[t["designation"] == "all"]
    p = shipped["tables"]["placements"]
    if p["out_of_county"].fillna(False).astype(bool).any():
        assert (tot["out_of_county_mean"] >= 0).all()
    # the out-of-county line is not demand for local places
    assert "out_of_county_mean" in tot.columns


def test_pipeline_delayed_is_never_better_than_unmitigated(shipped):
    c = shipped["res"].comparison.set_index(["scenario", "financial_year"])["cumulative_balance_gbp"]
    late, unm = c["pipeline_delayed"], c["unmitigated"]
    assert (late <= unm).all(), pd.DataFrame({"pipeline_delayed": late, "unmitigated": unm})


def test_base_inmss_unit_cost_is_within_five_percent_of_k10(shipped):
    q = shipped["quarter"]
    k = kpi.compute_kpis(shipped["tables"], q, shipped["cfg"], with_previous=False).set_index("kpi")
    k10 = float(k.loc["K10_cost_inmss_gbp", "value"])
    unit = shipped["res"].base_unit_costs_gbp["inmss"]
    assert abs(unit - k10) <= 0.05 * k10, (unit, k10)


def test_base_year_reconciles_and_the_balance_identity_holds(shipped):
    res = shipped["res"]
    rec = res.reconciliation
    assert (rec["difference_gbp"] == 0).all()
    # the council's outturn is the forecast outturn less academy place funding it never receives
    np.testing.assert_array_equal(
        rec["council_outturn_gbp"], rec["forecast_outturn_gbp"] - rec["academy_place_funding_deducted_gbp"]
    )
    for name, y in res.yearly.items():
        assert y["expenditure_gbp"].iloc[0] == rec["model_base_year_gbp"].sum(), name
        prev = y["opening_balance_gbp"].iloc[0]
        for r in y.itertuples():
            assert r.opening_balance_gbp == prev
            assert r.cumulative_balance_gbp == r.opening_balance_gbp + r.income_gbp - r.expenditure_gbp
            assert r.in_year_balance_gbp == r.income_gbp - r.expenditure_gbp
            prev = r.cumulative_balance_gbp
    # every scenario has the same base year (overflow changes counts only from the first forecast year)
    first = res.comparison.groupby("scenario").first()
    assert first["expenditure_gbp"].nunique() == 1


def test_override_position_is_reported(shipped):
    pos = shipped["res"].override_position
    assert set(pos["scenario"]) == set(shipped["res"].yearly)
    assert (pos["date"] == "2028-03-31").all()
