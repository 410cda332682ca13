"""The pooled (panel) model, the past-performance combination and volatility-scaled intervals."""

from __future__ import annotations

import numpy as np
import pytest

from sendlib.models.forecast.aggregate import AggregateSettings, forecast, panel, panel_features
from sendlib.models.forecast.backtest import BacktestSettings, combination_weights, run_backtest, volatility


def _panel_data(n=60, T=12, seed=1):
    rng = np.random.default_rng(seed)
    g = rng.uniform(0.02, 0.10, n)  # each authority grows at its own steady rate
    y = 1000 * np.exp(np.outer(g, np.arange(T)))
    return y * np.exp(rng.normal(0, 0.002, (n, T))), g


def test_panel_recovers_steady_growth_and_handles_missing_flows():
    y, g = _panel_data()
    s = AggregateSettings(panel_min_obs=50)
    new = np.full_like(y, np.nan)
    new[:, -4:] = 0.1 * y[:, -4:]  # flows published only in the latest years
    fc = panel(y, 3, new, None, s)
    expect = y[:, -1:] * np.exp(np.outer(g, [1, 2, 3]))
    assert np.allclose(fc, expect, rtol=0.02)
    assert np.isfinite(forecast("panel", y, 2, new, s)).all()


def test_panel_falls_back_to_mean_growth_with_too_few_pairs():
    y, _ = _panel_data(n=3, T=5)
    s = AggregateSettings()
    assert np.allclose(panel(y, 2, None, None, s), forecast("mean_growth", y, 2, None, s))


def test_panel_features_use_only_published_information():
    y = np.array([[100.0, 110, 121, 133.1]])
    new = np.array([[20.0, 25, 30, 35]])
    req = np.array([[np.nan, 50, 60, 80]])
    f = panel_features(y, new, req, 3)
    assert f["g1"][0, 1] == pytest.approx(np.log(1.1))
    assert f["new_share"][0, 1] == pytest.approx(20 / 100)  # calendar year b-1 / census b-1
    assert f["exit_rate"][0, 1] == pytest.approx((100 + 20 - 110) / 100)
    assert f["req_growth"][0, 3] == pytest.approx(np.log(60 / 50))  # calendar b-2 -> b-1
    assert np.isnan(f["req_growth"][0, 2])  # 2 -> 1 not known (first year missing)


def test_combination_weights_follow_past_mape():
    import pandas as pd

    cases = pd.DataFrame(
        {
            "method": ["a", "b", "a", "b"],
            "horizon": [1, 1, 1, 1],
            "target_year": [2001, 2001, 2003, 2003],
            "forecast": [110.0, 120.0, 100.0, 300.0],
            "actual": [100.0, 100.0, 100.0, 100.0],
        }
    )
    w = combination_weights(cases, ["a", "b"], 1, 2002, 2.0)
    assert w == pytest.approx([0.8, 0.2])  # mape 0.1 vs 0.2 -> 100 : 25
    assert combination_weights(cases, ["a", "b"], 1, 2000, 2.0) == pytest.approx([0.5, 0.5])


def test_weighted_in_backtest_and_volatility_intervals():
    y, _ = _panel_data(n=40, T=10)
    s = BacktestSettings(
        methods=("naive_growth", "mean_growth", "weighted"),
        select_candidates=("naive_growth", "mean_growth"),
        select_fallback="mean_growth",
        horizons=2,
        min_errors=10,
        interval_scale="volatility",
        interval_window=4,
    )
    r = run_backtest(y, list(range(2010, 2020)), [str(i) for i in range(40)], None, s)
    t = r.summary.set_index(["method", "horizon"])
    assert t.loc[("weighted", 1), "n"] == t.loc[("naive_growth", 1), "n"]
    c = r.cases.dropna(subset=["lower_80"])
    assert (c["lower_80"] <= c["upper_80"]).all() and (c["lower_95"] <= c["lower_80"]).all()
    v = volatility(np.array([[100.0, 110, 121, 133.1], [np.nan, np.nan, 100, 120]]), 0.01)
    assert v[0] == pytest.approx(0.01)  # steady growth: the floor
    assert v[1] == pytest.approx(0.01)  # one growth only: the median of the others
