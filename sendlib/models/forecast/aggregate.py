"""Aggregate forecasts of a published yearly caseload (one authority or all 153 at once).

Every method takes the history as arrays, one row per authority, one column per January census
year (NaN where not published), and returns point forecasts for horizons ``1..H`` after the last
column. Only the latest unbroken run of each row is used (boundary changes such as Dorset/BCP 2019,
Northamptonshire 2021 or Cumbria 2023 start a new series under a new code). All methods are
vectorised over authorities, so a full rolling-origin backtest of 153 series takes well under a
second per method.

Methods (``name``: definition)
------------------------------
``naive_growth``  last year's growth carried forward: ``y_T * (y_T / y_{T-1})**h``.
``mean_growth``   geometric mean of the last ``k`` annual growth ratios (fewer if the run is short).
``no_change``     last value carried forward (the random walk; a reference, not a candidate).
``damped_ets``    Holt's linear method with a damped trend (ETS(A,Ad,N)) on log counts; smoothing
                  and damping parameters chosen per series by least squares of one-step errors over
                  a grid; the same recursion as ``statsmodels`` ``Holt(damped_trend=True)`` with
                  known initial values (tested), vectorised so 153 series x 15 origins fit in
                  milliseconds. ``ets_backend="statsmodels"`` fits with statsmodels instead.
``flow``          stock-flow on published flows: ``S_{t+1} = S_t (1 - c) + N_t`` with ``N_t`` the
                  new plans issued in calendar year ``t`` projected by their mean growth over ``k``
                  years, and ``c`` the mean implied exit rate ``(S_t + N_t - S_{t+1}) / S_t`` over
                  the last ``k`` years (exits include ceased plans and net moves between
                  authorities). Falls back to ``mean_growth`` where new plans are not published.
``panel``         pooled OLS across authorities of each horizon's yearly log growth on own recent
                  growth, England's growth, new plans and exits as a share of the caseload and the
                  requests trend, with each authority's mean residual shrunk toward the pool (see
                  :func:`panel`).
``ensemble``      geometric mean of the ``members`` forecasts (default mean_growth, damped_ets,
                  flow).

Which method the suite uses is decided by :mod:`sendlib.models.forecast.backtest`, and written with the
evidence in ``config/scenarios/forecast.yaml``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
from pydantic import AfterValidator

from sendlib.core.settings import SettingsModel

METHODS = ("naive_growth", "mean_growth", "no_change", "damped_ets", "flow", "panel", "ensemble")


def _base_method(name: str) -> str:
    if name not in METHODS or name == "ensemble":
        raise ValueError(f"'{name}' is not a base method; expected one of {[m for m in METHODS if m != 'ensemble']}")
    return name


class AggregateSettings(SettingsModel):
    """Parameters of the aggregate methods (read from the scenario file's ``aggregate`` section)."""

    k: int = 3
    flow_k: int = 3
    ets_alphas: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
    ets_betas: tuple[float, ...] = (0.05, 0.2, 0.4, 0.7, 1.0)
    ets_phis: tuple[float, ...] = (0.8, 0.9, 0.95, 0.98)
    ets_min_points: int = 5
    ets_backend: Literal["numpy", "statsmodels"] = "numpy"
    #: ensemble members (geometric mean)
    members: tuple[Annotated[str, AfterValidator(_base_method)], ...] = ("mean_growth", "damped_ets", "flow")
    #: panel model: base years of training pairs, shrinkage pseudo-count, minimum pairs, features
    panel_window: int = 6
    panel_kappa: float = 5.0
    panel_min_obs: int = 100
    panel_min_bases: int = 3
    panel_features: tuple[str, ...] = ("g1", "gk", "g_eng", "new_share", "exit_rate", "req_growth")


def latest_run(y: np.ndarray) -> np.ndarray:
    """Mask everything before the latest unbroken run of values in each row (NaN elsewhere).

    A row whose last column is missing is all-NaN: it cannot be forecast from this origin.
    """
    y = np.asarray(y, dtype=float)
    valid = ~np.isnan(y)
    # position of the last missing value in each row; the run starts after it
    idx = np.where(~valid, np.arange(y.shape[1]), -1)
    last_gap = idx.max(axis=1)
    keep = np.arange(y.shape[1])[None, :] > last_gap[:, None]
    return np.where(keep, y, np.nan)


def _last(y: np.ndarray) -> np.ndarray:
    return y[:, -1]


def _log_growth(y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.log(y[:, 1:]) - np.log(y[:, :-1])
    g[~np.isfinite(g)] = np.nan
    return g


def _nanmean_last(a: np.ndarray, k: int) -> np.ndarray:
    """Mean of the last ``k`` columns ignoring NaN (NaN when all are missing)."""
    tail = a[:, -k:] if a.shape[1] else a
    n = (~np.isnan(tail)).sum(axis=1)
    s = np.nansum(tail, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _steps(h: int) -> np.ndarray:
    return np.arange(1, h + 1, dtype=float)[None, :]


def naive_growth(y: np.ndarray, horizon: int) -> np.ndarray:
    """Last growth ratio carried forward: ``y_T * (y_T / y_{T-1})**h``."""
    y = latest_run(y)
    g = _log_growth(y)[:, -1] if y.shape[1] > 1 else np.full(y.shape[0], np.nan)
    return _last(y)[:, None] * np.exp(g[:, None] * _steps(horizon))


def mean_growth(y: np.ndarray, horizon: int, k: int = 3) -> np.ndarray:
    """Geometric mean of the last ``k`` growth ratios carried forward (fewer if the run is short)."""
    y = latest_run(y)
    g = _nanmean_last(_log_growth(y), k) if y.shape[1] > 1 else np.full(y.shape[0], np.nan)
    return _last(y)[:, None] * np.exp(g[:, None] * _steps(horizon))


def no_change(y: np.ndarray, horizon: int) -> np.ndarray:
    """The last value carried forward."""
    y = latest_run(y)
    return np.repeat(_last(y)[:, None], horizon, axis=1)


def _grid(s: AggregateSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, p = np.meshgrid(
        np.asarray(s.ets_alphas, float), np.asarray(s.ets_betas, float), np.asarray(s.ets_phis, float), indexing="ij"
    )
    return a.ravel()[:, None], b.ravel()[:, None], p.ravel()[:, None]


def holt_damped_states(
    x: np.ndarray, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the damped Holt recursion on rows of ``x`` (logs; NaN before each row's run).

    Initial values are ``l = x_{s+1}``, ``b = x_{s+1} - x_s`` (``s`` = the run's first column); the
    observations after those two are smoothed. ``alpha``, ``beta``, ``phi`` broadcast against
    ``(n_params, n_rows)``. Returns the final level and trend, the sum of squared one-step errors
    and the number of smoothed observations, each ``(n_params, n_rows)``.
    """
    n, T = x.shape
    shape = np.broadcast_shapes(np.shape(alpha), (1, n))
    level = np.full(shape, np.nan)
    trend = np.full(shape, np.nan)
    sse = np.zeros(shape)
    count = np.zeros((1, n))
    valid = ~np.isnan(x)
    prev_valid = np.zeros(n, dtype=bool)
    for j in range(T):
        v = valid[:, j]
        xj = x[:, j][None, :]
        started = ~np.isnan(level)
        # second point of a run: initialise
        init = v & prev_valid & ~started[0]
        if init.any():
            level = np.where(init[None, :], xj, level)
            trend = np.where(init[None, :], xj - x[:, j - 1][None, :], trend)
        step = v & started[0]
        if step.any():
            pred = level + phi * trend
            err = xj - pred
            new_level = alpha * xj + (1 - alpha) * pred
            new_trend = beta * (new_level - level) + (1 - beta) * phi * trend
            sse = np.where(step[None, :], sse + err**2, sse)
            level = np.where(step[None, :], new_level, level)
            trend = np.where(step[None, :], new_trend, trend)
            count = count + step[None, :]
        prev_valid = v
    return level, trend, sse, np.broadcast_to(count, shape)


def damped_trend_sum(phi: np.ndarray, horizon: int) -> np.ndarray:
    """``phi + phi**2 + ... + phi**h`` for ``h = 1..horizon`` (shape ``phi.shape + (horizon,)``)."""
    powers = np.asarray(phi, float)[..., None] ** np.arange(1, horizon + 1)
    return np.cumsum(powers, axis=-1)


def damped_ets(y: np.ndarray, horizon: int, settings: AggregateSettings | None = None) -> np.ndarray:
    """Damped-trend exponential smoothing on log counts, parameters by grid least squares.

    Rows with fewer than ``settings.ets_min_points`` values in their latest run use
    :func:`mean_growth` instead (too few points to choose three parameters).
    """
    s = settings or AggregateSettings()
    y = latest_run(y)
    if s.ets_backend == "statsmodels":
        return _damped_ets_statsmodels(y, horizon, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.log(y)
    x[~np.isfinite(x)] = np.nan
    alpha, beta, phi = _grid(s)
    level, trend, sse, count = holt_damped_states(x, alpha, beta, phi)
    sse = np.where(np.isnan(level), np.inf, sse)
    best = np.argmin(sse, axis=0)
    cols = np.arange(x.shape[0])
    lv, tr, ph = level[best, cols], trend[best, cols], phi[best, 0]
    fc = np.exp(lv[:, None] + damped_trend_sum(ph, horizon) * tr[:, None])
    n_points = (~np.isnan(y)).sum(axis=1)
    fallback = mean_growth(y, horizon, s.k)
    return np.where((n_points >= s.ets_min_points)[:, None], fc, fallback)


def _damped_ets_statsmodels(y: np.ndarray, horizon: int, s: AggregateSettings) -> np.ndarray:
    """The same model fitted series by series with statsmodels (slow; for comparison)."""
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    out = mean_growth(y, horizon, s.k)
    for i, row in enumerate(y):
        v = row[~np.isnan(row)]
        if len(v) < s.ets_min_points or np.any(v <= 0):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(
                np.log(v), trend="add", damped_trend=True, initialization_method="estimated"
            ).fit()
        out[i] = np.exp(fit.forecast(horizon))
    return out


def flow(y: np.ndarray, new: np.ndarray | None, horizon: int, k: int = 3, fallback_k: int = 3) -> np.ndarray:
    """Stock-flow on published new plans (see module notes); ``new[:, j]`` is calendar year of column j.

    At origin ``T`` (last column) new plans are known up to calendar year ``T-1`` (the same DfE
    release), so ``new[:, -1]`` is ignored.
    """
    y = latest_run(y)
    fb = mean_growth(y, horizon, fallback_k)
    if new is None or y.shape[1] < 3:
        return fb
    n = np.asarray(new, float)[:, :-1]  # calendar years up to T-1
    s_now, s_next = y[:, :-1], y[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        exit_rate = (s_now + n - s_next) / s_now
    exit_rate[~np.isfinite(exit_rate)] = np.nan
    c = _nanmean_last(exit_rate, k)
    n_run = latest_run(n)
    gn = _nanmean_last(_log_growth(n_run), k) if n_run.shape[1] > 1 else np.full(y.shape[0], np.nan)
    last_new = n_run[:, -1]
    stock = _last(y).copy()
    out = np.empty((y.shape[0], horizon))
    for h in range(horizon):
        issued = last_new * np.exp(gn * (h + 1))
        stock = stock * (1 - c) + issued
        out[:, h] = stock
    ok = np.isfinite(out).all(axis=1) & (out > 0).all(axis=1)
    return np.where(ok[:, None], out, fb)


def forecast(
    method: str,
    y: np.ndarray,
    horizon: int,
    new: np.ndarray | None = None,
    settings: AggregateSettings | None = None,
    requests: np.ndarray | None = None,
) -> np.ndarray:
    """Point forecasts ``(n_rows, horizon)`` of ``method`` from histories ``y`` (rows = series).

    Parameters
    ----------
    method : str
        One of :data:`METHODS`.
    y : ndarray
        ``(n_series, n_years)`` counts at consecutive January censuses; the last column is the
        forecast origin.
    horizon : int
        Years ahead.
    new : ndarray, optional
        ``(n_series, n_years)`` new plans issued in each column's calendar year (``flow``, ``panel``).
    requests : ndarray, optional
        Requests for assessment received in each column's calendar year (``panel``).
    """
    s = settings or AggregateSettings()
    y = np.atleast_2d(np.asarray(y, float))
    if method == "naive_growth":
        return naive_growth(y, horizon)
    if method == "mean_growth":
        return mean_growth(y, horizon, s.k)
    if method == "no_change":
        return no_change(y, horizon)
    if method == "damped_ets":
        return damped_ets(y, horizon, s)
    if method == "flow":
        return flow(y, None if new is None else np.atleast_2d(new), horizon, s.flow_k, s.k)
    if method == "panel":
        return panel(y, horizon, None if new is None else np.atleast_2d(new), requests, s)
    if method == "ensemble":
        return ensemble([forecast(m, y, horizon, new, s, requests) for m in s.members])
    raise ValueError(f"unknown aggregate method '{method}'; expected one of {METHODS}")


def ensemble(members: Sequence[np.ndarray]) -> np.ndarray:
    """The ``ensemble`` forecast from its members' forecasts: their geometric mean."""
    return np.exp(np.mean([np.log(f) for f in members], axis=0))


# ----- pooled (panel) model --------------------------------------------------------------------


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    r[~np.isfinite(r)] = np.nan
    return r


def panel_features(y: np.ndarray, new: np.ndarray | None, requests: np.ndarray | None, k: int) -> dict[str, np.ndarray]:
    """Features of every (row, base column) pair, each ``(n_rows, n_years)`` (NaN where unknown).

    At base column ``b`` (a January census) only what was published by then is used: the stock
    up to ``b``, and new plans and requests of calendar years up to ``b - 1``.

    ``g1``        own log growth ``b-1 -> b``
    ``gk``        own mean log growth over the last ``k`` years
    ``g_eng``     England's log growth ``b-1 -> b`` (sum over rows published at both censuses)
    ``new_share`` new plans issued in calendar ``b-1`` / stock at census ``b-1``
    ``exit_rate`` implied exits in ``b-1`` (``S_{b-1} + N_{b-1} - S_b``) / ``S_{b-1}``
    ``req_growth`` log growth of requests, calendar ``b-2 -> b-1``
    """
    n, T = y.shape
    lg = np.full((n, T), np.nan)
    lg[:, 1:] = _log_growth(y)
    gk = np.full((n, T), np.nan)
    for b in range(1, T):
        lo = max(1, b - k + 1)
        tail = lg[:, lo : b + 1]
        cnt = (~np.isnan(tail)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            gk[:, b] = np.where(cnt > 0, np.nansum(tail, axis=1) / np.maximum(cnt, 1), np.nan)
    both = ~np.isnan(y[:, 1:]) & ~np.isnan(y[:, :-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        eng = np.log(np.where(both, y[:, 1:], 0).sum(axis=0) / np.where(both, y[:, :-1], 0).sum(axis=0))
    g_eng = np.full((n, T), np.nan)
    g_eng[:, 1:] = np.where(np.isfinite(eng), eng, np.nan)[None, :]
    out = {"g1": lg, "gk": gk, "g_eng": g_eng}
    new_share = np.full((n, T), np.nan)
    exit_rate = np.full((n, T), np.nan)
    if new is not None:
        nw = np.asarray(new, float)
        new_share[:, 1:] = _share(nw[:, :-1], y[:, :-1])
        exit_rate[:, 1:] = _share(y[:, :-1] + nw[:, :-1] - y[:, 1:], y[:, :-1])
    out["new_share"], out["exit_rate"] = new_share, exit_rate
    req_growth = np.full((n, T), np.nan)
    if requests is not None:
        rq = np.asarray(requests, float)
        req_growth[:, 2:] = _log_growth(rq)[:, :-1]
    out["req_growth"] = req_growth
    return out


def panel(
    y: np.ndarray,
    horizon: int,
    new: np.ndarray | None = None,
    requests: np.ndarray | None = None,
    settings: AggregateSettings | None = None,
) -> np.ndarray:
    """Pooled (panel) model across the rows: each horizon's mean yearly log growth regressed by OLS
    (statsmodels) on the features of :func:`panel_features`, fitted on every row's pairs whose
    outcome is already known at the origin (the last column), within the latest
    ``settings.panel_window`` base years. Flow features (new plans, exits, requests) are used where
    published and replaced by their pooled mean plus a missing indicator where not, so the years
    before 2016 still count. Each row's mean residual is shrunk toward the pooled fit by
    ``n / (n + panel_kappa)`` and added to its prediction. Rows or horizons with fewer than
    ``panel_min_obs`` training pairs use :func:`mean_growth`.
    """
    from statsmodels.regression.linear_model import OLS

    s = settings or AggregateSettings()
    y = latest_run(y)
    n, T = y.shape
    fb = mean_growth(y, horizon, s.k)
    if T < 3:
        return fb
    feats = panel_features(y, new, requests, s.k)
    names = list(s.panel_features)
    with np.errstate(divide="ignore", invalid="ignore"):
        ly = np.log(y)
    out = fb.copy()
    for h in range(1, horizon + 1):
        # training pairs: base column b with outcome b + h <= T - 1 (already published)
        bases = [b for b in range(1, T - h) if b >= T - h - s.panel_window]
        if len(bases) < s.panel_min_bases:
            continue
        Xs, ys, rows = [], [], []
        for b in bases:
            target = (ly[:, b + h] - ly[:, b]) / h
            Xs.append(np.column_stack([feats[f][:, b] for f in names]))
            ys.append(target)
            rows.append(np.arange(n))
        X, yy, rr = np.vstack(Xs), np.concatenate(ys), np.concatenate(rows)
        Xp = np.column_stack([feats[f][:, T - 1] for f in names])
        X, Xp, keep_cols = _fill_missing(X, Xp, names)
        ok = np.isfinite(yy) & np.isfinite(X).all(axis=1)
        if ok.sum() < s.panel_min_obs:
            continue
        with warnings.catch_warnings():  # pinv copes with collinear indicators; say nothing
            warnings.simplefilter("ignore")
            fit = OLS(yy[ok], _with_constant(X[ok])).fit()
        # no extrapolation beyond the growth seen in training
        lo, hi = np.quantile(yy[ok], [0.01, 0.99])
        resid = np.zeros(n)
        cnt = np.zeros(n)
        np.add.at(resid, rr[ok], fit.resid)
        np.add.at(cnt, rr[ok], 1.0)
        shrunk = resid / (cnt + s.panel_kappa)
        pred = np.clip(_with_constant(Xp) @ fit.params + shrunk, lo, hi)
        fc = y[:, -1] * np.exp(pred * h)
        good = np.isfinite(fc) & (fc > 0)
        out[:, h - 1] = np.where(good, fc, fb[:, h - 1])
    return out


def _with_constant(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def _fill_missing(X: np.ndarray, Xp: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Core growth features must be present; flow features missing -> pooled mean + indicator.
    Columns with no observed value at all are dropped."""
    cols, pcols, kept = [], [], []
    for j, name in enumerate(names):
        x, xp = X[:, j], Xp[:, j]
        miss, pmiss = np.isnan(x), np.isnan(xp)
        if name in CORE_PANEL_FEATURES:
            cols.append(x)
            pcols.append(xp)
            kept.append(name)
            continue
        if miss.all():
            continue
        mu = float(np.nanmean(x))
        cols.append(np.where(miss, mu, x))
        pcols.append(np.where(pmiss, mu, xp))
        kept.append(name)
        if miss.any() and not miss.all():
            cols.append(miss.astype(float))
            pcols.append(pmiss.astype(float))
            kept.append(f"{name}_missing")
    return np.column_stack(cols), np.column_stack(pcols), kept


#: features a pair must have (the stock's own growth and England's)
CORE_PANEL_FEATURES = ("g1", "gk", "g_eng")
