"""Aggregate methods on small hand-made series whose forecasts are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sendlib.models.forecast import aggregate as ag
from sendlib.models.forecast.aggregate import AggregateSettings, forecast


def test_naive_growth_carries_last_growth():
    # 100 -> 110 is 10% growth: 121 next year, 133.1 the year after
    assert forecast("naive_growth", [[100, 110]], 2)[0].tolist() == pytest.approx([121.0, 133.1])


def test_mean_growth_is_geometric_mean_of_last_k():
    # growth 1.1 then 1.2; geometric mean sqrt(1.32) = 1.148913; 132 * 1.148913 = 151.6566
    fc = forecast("mean_growth", [[50, 100, 110, 132]], 1, settings=AggregateSettings(k=2))
    assert fc[0, 0] == pytest.approx(132 * np.sqrt(1.32))
    # a run shorter than k uses the growth it has
    assert forecast("mean_growth", [[100, 110]], 1)[0, 0] == pytest.approx(121.0)


def test_no_change_and_latest_run_after_a_break():
    y = np.array([[1.0, np.nan, 30.0, 40.0]])
    assert np.isnan(ag.latest_run(y)[0, :2]).all()
    assert forecast("no_change", y, 2)[0].tolist() == [40.0, 40.0]
    # growth across the break is never used: 40 / 30
    assert forecast("naive_growth", y, 1)[0, 0] == pytest.approx(40 * 40 / 30)


def test_flow_hand_worked():
    # exit rates: (100 + 20 - 110) / 100 = 0.10 and (110 + 25 - 120) / 110 = 0.136364; mean 0.118182
    # new plans grow 25 / 20 = 1.25 -> 31.25 issued in the origin year
    # next census: 120 * (1 - 0.118182) + 31.25 = 137.068
    stock = [[100, 110, 120]]
    new = [[20, 25, np.nan]]
    fc = forecast("flow", stock, 1, new=new, settings=AggregateSettings(flow_k=2))
    c = (0.10 + 15 / 110) / 2
    assert fc[0, 0] == pytest.approx(120 * (1 - c) + 31.25)
    # no published new plans: falls back to mean growth
    assert forecast("flow", stock, 1)[0, 0] == pytest.approx(forecast("mean_growth", stock, 1)[0, 0])


def test_ensemble_is_geometric_mean_of_members():
    s = AggregateSettings(members=("naive_growth", "no_change"))
    # naive 133.1, no change 121: geometric mean 121 * 1.1
    assert forecast("ensemble", [[100, 110, 121]], 1, settings=s)[0, 0] == pytest.approx(121 * np.sqrt(1.1))


def test_damped_holt_matches_statsmodels():
    from statsmodels.tsa.holtwinters import Holt

    y = np.array([100, 112, 121, 135, 150, 158, 171, 190.0])
    x = np.log(y)
    a, b, phi = 0.6, 0.2, 0.9
    level, trend, sse, n = ag.holt_damped_states(x[None, :], np.array([[a]]), np.array([[b]]), np.array([[phi]]))
    ours = np.exp(level[0, 0] + ag.damped_trend_sum(np.array(phi), 3) * trend[0, 0])
    fit = Holt(
        x[2:], damped_trend=True, initialization_method="known", initial_level=x[1], initial_trend=x[1] - x[0]
    ).fit(smoothing_level=a, smoothing_trend=b, damping_trend=phi, optimized=False)
    assert ours == pytest.approx(np.exp(fit.forecast(3)), rel=1e-9)
    assert sse[0, 0] == pytest.approx(float(np.sum(fit.resid**2)), rel=1e-9)
    assert n[0, 0] == 6


def test_damped_ets_vectorised_over_series_and_short_series_fall_back():
    y = np.array(
        [[100, 112, 121, 135, 150, 158, 171, 190.0], [np.nan, np.nan, np.nan, np.nan, np.nan, 100, 110, 121.0]]
    )
    fc = forecast("damped_ets", y, 2)
    assert fc.shape == (2, 2)
    one = forecast("damped_ets", y[:1], 2)
    assert fc[0] == pytest.approx(one[0])
    assert fc[1] == pytest.approx(forecast("mean_growth", y[1:], 2)[0])  # 3 points < ets_min_points
    assert (fc[0] > 190).all()


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown aggregate method"):
        forecast("magic", [[1, 2]], 1)
