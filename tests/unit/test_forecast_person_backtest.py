"""The person-level model's rolling-origin backtest on the shipped county (issue 18)."""

from __future__ import annotations

import pytest

from sendlib.models.forecast.scenario import load_scenario, parse_scenario


@pytest.fixture(scope="module")
def county_backtest():
    from sendlib.core.config import load_config
    from sendlib.data.loaders import load_tables
    from sendlib.models.forecast.person_backtest import backtest_person

    tables = load_tables(load_config(None), ["ehcp_plans", "placements", "population"])
    sc = load_scenario()
    settings = sc.person_backtest.model_copy(update={"sims": 50, "horizons": 2})
    return backtest_person(tables, sc.person, sc.backtest, settings, seed=1)


def test_person_model_scored_on_the_same_cases_as_the_aggregate_methods(county_backtest):
    r = county_backtest
    t = r.summary.set_index(["method", "horizon"])
    assert {"person", "naive_growth", "mean_growth", "damped_ets", "no_change"} <= set(r.summary["method"])
    assert r.summary.groupby("horizon")["n"].nunique().eq(1).all()
    assert t.loc[("person", 1), "n_origins"] >= 3
    # origins use only censuses up to them: the first origin has two censuses of history
    assert r.cases["origin"].min() == r.cases["target_year"].min() - 1
    p = r.cases[r.cases["method"] == "person"]
    assert (p["lower_95"] <= p["lower_80"]).all() and (p["lower_80"] <= p["forecast"]).all()
    assert (p["forecast"] <= p["upper_80"]).all() and t.loc[("person", 1), "coverage_80"] >= 0


def test_person_backtest_section_is_validated():
    from sendlib.core.errors import UsageError

    assert parse_scenario({"person_backtest": {"sims": 20}}).person_backtest.sims == 20
    with pytest.raises(UsageError, match=r"person_backtest\.min_censuses"):
        parse_scenario({"person_backtest": {"min_censuses": 1}})
