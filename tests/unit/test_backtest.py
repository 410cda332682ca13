"""Backtest metrics on a tiny hand-made case, and the Done-when check on the real DfE series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sendlib.core.errors import UsageError
from sendlib.models.forecast.backtest import BacktestSettings, run_backtest
from sendlib.models.forecast.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]


def _tiny(**kw):
    # one series 100, 110, 110, 121 (census years 2000-2003)
    s = BacktestSettings(
        methods=("naive_growth",), horizons=2, select_candidates=("naive_growth",), select_fallback="naive_growth", **kw
    )
    return run_backtest(np.array([[100, 110, 110, 121.0]]), [2000, 2001, 2002, 2003], ["A"], None, s)


def test_metrics_hand_worked():
    r = _tiny(min_errors=100)
    t = r.summary.set_index("horizon")
    # origin 2001: naive 121 vs 110 (+10%), 2 yrs 133.1 vs 121 (+10%); origin 2002: 110 vs 121 (-9.09%)
    assert t.loc[1, "n"] == 2 and t.loc[2, "n"] == 1
    assert t.loc[1, "mape"] == pytest.approx((10 + 100 / 11) / 2)
    assert t.loc[1, "bias"] == pytest.approx((10 - 100 / 11) / 2)
    # MASE scale = mean |one-step change| of the training run: 10 at 2001, 5 at 2002
    assert t.loc[1, "mase"] == pytest.approx((11 / 10 + 11 / 5) / 2)
    assert t.loc[2, "mape"] == pytest.approx(10.0)
    assert t.loc[2, "mase"] == pytest.approx(12.1 / 10)
    assert np.isnan(t.loc[1, "coverage_80"])  # too few past errors for an interval


def test_intervals_use_only_past_errors():
    r = _tiny(min_errors=1)
    c = r.cases.set_index(["origin", "horizon"])
    # origin 2001: no published 1-year error yet -> no interval
    assert np.isnan(c.loc[(2001, 1), "lower_80"])
    # origin 2002: the only past error is 2001's (actual 110 / forecast 121): interval collapses to 100
    assert c.loc[(2002, 1), "lower_80"] == pytest.approx(110 * 110 / 121)
    assert r.summary.set_index("horizon").loc[1, "coverage_80"] == 0.0


def test_select_starts_from_fallback_and_uses_the_past():
    s = BacktestSettings(
        methods=("no_change", "naive_growth", "select"),
        horizons=1,
        select_candidates=("no_change", "naive_growth"),
        select_fallback="no_change",
        min_errors=100,
    )
    y = np.array([[100, 110, 121, 133.1, 146.41]])
    r = run_backtest(y, [2000, 2001, 2002, 2003, 2004], ["A"], None, s)
    sel = r.cases[r.cases["method"] == "select"].set_index("origin")["chosen"]
    assert sel.loc[2001] == "no_change"  # nothing observed yet
    assert sel.loc[2002] == "naive_growth"  # naive was exact for 2002


def test_scenario_file_loads_and_rejects_unknown_keys():
    sc = load_scenario()
    assert sc.default_method in {"mean_growth", "ensemble", "damped_ets", "flow", "naive_growth", "panel", "weighted"}
    with pytest.raises(UsageError, match="aggregate"):
        parse_scenario({"aggregate": {"defualt_method": "x"}})
    with pytest.raises(UsageError, match="trend"):
        parse_scenario({"person": {"incidence": {"trend": "exponential"}}})


def test_scenario_file_errors_name_the_dotted_key_and_defaults_are_the_models():
    with pytest.raises(UsageError, match=r"aggregate\.members\.1: .*'ensemble' is not a base method"):
        parse_scenario({"aggregate": {"members": ["flow", "ensemble"]}})
    with pytest.raises(UsageError, match=r"backtest\.select_fallback: .*'best' is not one of"):
        parse_scenario({"backtest": {"select_fallback": "best"}})
    with pytest.raises(UsageError, match=r"person\.moves\.trend") as exc:
        parse_scenario({"person": {"moves": {"trend": "linear"}}, "simulation": {"sims": 0}})
    assert "simulation.sims" in str(exc.value)  # every wrong key is listed
    # a partial section keeps the other defaults (incidence stays damped); an empty one is all defaults
    sc = parse_scenario({"person": {"incidence": {"multiplier": 0.9}}, "aggregate": None, "backtest": {"horizons": 2}})
    assert sc.person.incidence.trend == "damped" and sc.person.incidence.multiplier == 0.9
    assert sc.person.ceasing.trend == "constant" and sc.person.shrinkage.kappa_age == 20.0
    assert sc.default_method == "mean_growth" and sc.sims == 1000 and sc.seed == 0
    assert sc.backtest.horizons == 2 and sc.backtest.aggregate == sc.aggregate
    # the aggregate methods' backend may be chosen in the file
    assert parse_scenario({"aggregate": {"ets_backend": "statsmodels"}}).aggregate.ets_backend == "statsmodels"
    with pytest.raises(UsageError, match=r"aggregate\.ets_backend"):
        parse_scenario({"aggregate": {"ets_backend": "R"}})


def _dfe_dir():
    d = ROOT / "data" / "reference" / "dfe"
    return d if any(d.rglob("caseload.csv")) else None


@pytest.fixture(scope="module")
def dfe_backtest():
    from sendlib.models.forecast.backtest import backtest_published
    from sendlib.models.forecast.dfe_series import published_series

    sc = load_scenario()
    return sc, backtest_published(published_series(_dfe_dir()), sc.backtest)


BASELINES = ("naive_growth", "mean_growth", "damped_ets", "no_change")


@pytest.mark.skipif(_dfe_dir() is None, reason="DfE SEN2 extract not present")
def test_default_method_chosen_honestly_and_beats_every_naive_baseline(dfe_backtest):
    """Done-when (issue 18): the default is the backtest's choice on the selection origins (whose
    errors end before the reported origins), and on the reported origins it beats every naive
    baseline on MAPE at horizons 1-3, with |bias| below 1 point at one year."""
    from sendlib.models.forecast.backtest import choose_default, selection_cases

    sc, r = dfe_backtest
    assert choose_default(r) == sc.default_method
    sel = selection_cases(r.cases, r.settings)
    assert sel["target_year"].max() <= sc.backtest.report_origins[0]
    assert sel["origin"].min() >= sc.backtest.selection_origins[0]
    rep = r.summary.set_index(["method", "horizon"])
    for h in (1, 2, 3):
        for b in BASELINES:
            if b != sc.default_method:
                assert rep.loc[(sc.default_method, h), "mape"] < rep.loc[(b, h), "mape"], (b, h)
    assert abs(rep.loc[(sc.default_method, 1), "bias"]) < 1
    assert rep.loc[("naive_growth", 1), "n_series"] >= 150
    assert r.cases.loc[r.cases["origin"].between(*sc.backtest.report_origins), "origin"].nunique() == 5
    # every method is scored on the same cases
    assert r.summary.groupby("horizon")["n"].nunique().eq(1).all()


@pytest.mark.skipif(_dfe_dir() is None, reason="DfE SEN2 extract not present")
def test_default_intervals_are_calibrated_out_of_sample(dfe_backtest):
    """Done-when: 80% intervals cover 75-85% and 95% intervals 90-98% at horizons 1-3."""
    sc, r = dfe_backtest
    rep = r.summary.set_index(["method", "horizon"])
    for h in (1, 2, 3):
        assert 75 <= rep.loc[(sc.default_method, h), "coverage_80"] <= 85, h
        assert 90 <= rep.loc[(sc.default_method, h), "coverage_95"] <= 98, h


@pytest.mark.skipif(_dfe_dir() is None, reason="DfE SEN2 extract not present")
def test_cli_forecast_and_backtest_published(capsys):
    from io import StringIO

    from sendlib.cli import main

    d = str(_dfe_dir())
    assert main(["forecast", "--dfe-dir", d, "--la", "931", "202", "--horizon", "2", "--format", "csv"]) == 0
    out = pd.read_csv(StringIO(capsys.readouterr().out), dtype={"old_la_code": str})
    assert list(out.columns[:8]) == [
        "old_la_code",
        "la_name",
        "year",
        "median",
        "lower_80",
        "upper_80",
        "lower_95",
        "upper_95",
    ]
    assert len(out) == 4 and set(out["year"]) == {2026, 2027}
    assert (out["lower_80"] <= out["median"]).all() and (out["median"] <= out["upper_80"]).all()
    assert main(["forecast", "--dfe-dir", d, "--la", "999"]) == 2
    assert main(["forecast", "--dfe-dir", d, "--la", "931", "--method", "select"]) == 2
    capsys.readouterr()
    assert main(["forecast", "--dfe-dir", d, "--la", "931", "--horizon", "1", "--method", "panel"]) == 0
    assert "panel" in capsys.readouterr().out
    assert main(["backtest", "--dfe-dir", d, "--la", "931", "202", "--format", "csv"]) == 0
    bt = pd.read_csv(StringIO(capsys.readouterr().out))
    assert {"method", "horizon", "mape", "mase", "bias", "coverage_80", "coverage_95", "n_series"} <= set(bt.columns)
