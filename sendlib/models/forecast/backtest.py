"""Rolling-origin backtest of the aggregate methods on published yearly caseloads.

For every origin year ``T`` the data allows (at least two censuses in the series' latest unbroken
run up to ``T``, so last year's growth exists) and every horizon ``h``, each method forecasts from
the history up to ``T`` only, and the forecast is compared with the published count at ``T + h``.
Every method is scored on exactly the same (authority, origin, horizon) cases.

Metrics (per method x horizon, pooled over authorities and origins)
-------------------------------------------------------------------
``mape``        mean of ``|forecast - actual| / actual``, in percent.
``mase``        mean of ``|forecast - actual| / scale`` where ``scale`` is the in-sample mean
                absolute one-step error of the no-change (random walk) forecast over the training
                run (Hyndman and Koehler 2006); cases with a zero scale are left out.
``bias``        mean of ``(forecast - actual) / actual`` in percent (positive = over-forecast).
``coverage_80`` / ``coverage_95``  share of actuals inside the 80% / 95% interval, in percent,
                over cases that had an interval.

Intervals are empirical and honest: at origin ``T`` the interval at horizon ``h`` is the point
forecast times the 10th-90th (2.5th-97.5th) percentiles of ``actual / forecast`` pooled over every
authority's errors at that horizon whose target year was already published at ``T`` (so only past
errors are used). No interval is given until ``min_errors`` such errors exist.

The ``select`` method is the selection rule itself, backtested: at each origin it uses the method
with the lowest MAPE at that horizon over the errors already observable then (candidates from the
scenario file), starting from ``fallback`` when nothing has been observed yet.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field

from sendlib.core.settings import SettingsModel
from sendlib.models.forecast.aggregate import METHODS, AggregateSettings, _log_growth, ensemble, forecast, latest_run

INTERVALS = (0.8, 0.95)


#: methods made inside the backtest from the others' past errors
RULES = ("select", "weighted")


def _backtest_method(name: str) -> str:
    if name not in METHODS and name not in RULES:
        raise ValueError(f"'{name}' is not one of {[*METHODS, *RULES]}")
    return name


#: an aggregate method, or ``select`` (the selection rule, backtested)
BacktestMethod = Annotated[str, AfterValidator(_backtest_method)]


class BacktestSection(SettingsModel):
    """The ``backtest:`` section of the forecast scenario file: methods, horizons, the selection
    rule and interval settings."""

    methods: tuple[BacktestMethod, ...] = ("naive_growth", "mean_growth", "damped_ets", "flow", "ensemble", "no_change")
    horizons: int = 3
    select_candidates: tuple[BacktestMethod, ...] = ("naive_growth", "mean_growth", "damped_ets", "flow", "ensemble")
    select_fallback: BacktestMethod = "ensemble"
    min_errors: int = 50
    #: origins (first, last) on which the default method is chosen; only errors whose target year
    #: is at most the first reported origin are used, so the reported origins stay out of sample
    selection_origins: tuple[int, int] | None = None
    #: origins (first, last) reported as out of sample (None: every origin)
    report_origins: tuple[int, int] | None = None
    #: empirical intervals: ``pooled`` = percentiles of past log errors as they are; ``volatility`` =
    #: percentiles of past log errors divided by the authority's volatility (standard deviation of
    #: its yearly log growth over the training run), multiplied back by its own volatility
    interval_scale: Literal["pooled", "volatility"] = "pooled"
    #: only past errors whose target year is within this many years of the origin (None: all)
    interval_window: int | None = None
    #: floor on the volatility (log points a year), so a smooth series' interval is not zero
    interval_vol_floor: float = 0.01
    #: ``weighted``: weights proportional to (past MAPE at the horizon) ** -power
    weight_power: float = 2.0
    #: methods the default is chosen from, by mean MAPE over horizons 1..default_horizons
    default_candidates: tuple[BacktestMethod, ...] = ("naive_growth", "mean_growth", "damped_ets", "flow", "ensemble")
    default_horizons: int = 3


class BacktestSettings(BacktestSection):
    """What the backtest runs: the file's ``backtest`` section plus the aggregate methods'
    parameters and, optionally, the first origin year scored."""

    first_origin: int | None = None
    aggregate: AggregateSettings = Field(default_factory=AggregateSettings)


@dataclass
class BacktestResult:
    """Every scored case and the method x horizon table."""

    cases: pd.DataFrame
    #: the method x horizon table on the reported origins (all origins when none are configured)
    summary: pd.DataFrame
    #: the same table on the selection cases (None when no selection origins are configured)
    selection: pd.DataFrame | None = None
    settings: BacktestSettings | None = None


def _interval_bounds(log_err: np.ndarray) -> dict[str, float]:
    out = {}
    for level in INTERVALS:
        pct = int(round(level * 100))
        lo, hi = np.quantile(log_err, [(1 - level) / 2, 1 - (1 - level) / 2])
        out[f"lower_{pct}"], out[f"upper_{pct}"] = float(lo), float(hi)
    return out


def run_backtest(
    stock: np.ndarray,
    years: Sequence[int],
    codes: Sequence[str],
    new: np.ndarray | None = None,
    settings: BacktestSettings | None = None,
    requests: np.ndarray | None = None,
) -> BacktestResult:
    """Rolling-origin backtest over arrays (rows = authorities, columns = consecutive years).

    Parameters
    ----------
    stock : ndarray
        ``(n_series, n_years)`` EHC plans at each January census (NaN = not published).
    years : sequence of int
        Census year of each column (consecutive).
    codes : sequence of str
        Authority code of each row.
    new : ndarray, optional
        New plans issued in each column's calendar year (``flow``, ``panel``).
    requests : ndarray, optional
        Requests received in each column's calendar year (``panel``).
    """
    s = settings or BacktestSettings()
    stock = np.asarray(stock, float)
    years = np.asarray(years, int)
    codes = np.asarray(codes, dtype=object)
    H = int(s.horizons)
    base = [
        m for m in dict.fromkeys(list(s.methods) + list(s.select_candidates) + [s.select_fallback]) if m not in RULES
    ]
    # the cases, one block per origin x horizon x method, as columns joined once at the end
    blocks: dict[str, list[np.ndarray]] = {c: [] for c in _CASE_COLUMNS}
    for j in range(1, len(years) - 1):
        if s.first_origin is not None and years[j] < s.first_origin:
            continue
        hist = latest_run(stock[:, : j + 1])
        n_hist = (~np.isnan(hist)).sum(axis=1)
        ok_origin = n_hist >= 2
        if not ok_origin.any():
            continue
        steps = np.abs(np.diff(hist, axis=1))
        n_steps = (~np.isnan(steps)).sum(axis=1)
        scale = np.where(n_steps > 0, np.nansum(steps, axis=1) / np.maximum(n_steps, 1), np.nan)
        vol = volatility(hist, s.interval_vol_floor)
        nh = new[:, : j + 1] if new is not None else None
        rh = requests[:, : j + 1] if requests is not None else None
        fc: dict[str, np.ndarray] = {}
        for m in base:  # the ensemble from its members' forecasts when they are made here anyway
            if m == "ensemble" and all(k in fc for k in s.aggregate.members):
                fc[m] = ensemble([fc[k] for k in s.aggregate.members])
            else:
                fc[m] = forecast(
                    m,
                    hist[ok_origin],
                    H,
                    None if nh is None else nh[ok_origin],
                    s.aggregate,
                    None if rh is None else rh[ok_origin],
                )
        for h in range(1, H + 1):
            if j + h >= len(years):
                break
            # the target must belong to the same unbroken run as the origin
            path = stock[ok_origin, j : j + h + 1]
            actual = stock[ok_origin, j + h]
            keep = ~np.isnan(path).any(axis=1)
            if not keep.any():
                continue
            n = int(keep.sum())
            for m in base:
                blocks["method"].append(np.full(n, m, dtype=object))
                blocks["old_la_code"].append(codes[ok_origin][keep])
                blocks["origin"].append(np.full(n, years[j]))
                blocks["horizon"].append(np.full(n, h, dtype=np.int64))
                blocks["target_year"].append(np.full(n, years[j + h]))
                blocks["forecast"].append(fc[m][keep, h - 1])
                blocks["actual"].append(actual[keep])
                blocks["scale"].append(scale[ok_origin][keep])
                blocks["vol"].append(vol[ok_origin][keep])
    if not blocks["method"]:
        raise ValueError("no backtest cases: every series is shorter than three censuses")
    cases = pd.DataFrame({c: np.concatenate(v) for c, v in blocks.items()})
    cases = _add_select(cases, s)
    cases = _add_weighted(cases, s)
    cases = _add_intervals(cases, s)
    cases = cases[cases["method"].isin(list(s.methods))].reset_index(drop=True)
    return BacktestResult(
        cases=cases,
        summary=summarise(in_origins(cases, s.report_origins)),
        selection=summarise(selection_cases(cases, s)) if s.selection_origins else None,
        settings=s,
    )


def in_origins(cases: pd.DataFrame, origins: tuple[int, int] | None) -> pd.DataFrame:
    """The cases whose origin is in ``origins`` (first, last; None: all)."""
    if origins is None:
        return cases
    return cases[cases["origin"].between(origins[0], origins[1])]


def selection_cases(cases: pd.DataFrame, s: BacktestSettings) -> pd.DataFrame:
    """Cases the default method is chosen on: origins in ``selection_origins`` whose target year is
    at most the first reported origin (so nothing reported as out of sample was seen)."""
    c = in_origins(cases, s.selection_origins)
    if s.report_origins is not None:
        c = c[c["target_year"] <= s.report_origins[0]]
    return c


def choose_default(result: BacktestResult, candidates: Sequence[str] | None = None, horizons: int | None = None) -> str:
    """The candidate with the lowest mean MAPE over horizons ``1..horizons`` on the selection cases
    (defaults: the settings' ``default_candidates`` and ``default_horizons``)."""
    s = result.settings or BacktestSettings()
    candidates = s.default_candidates if candidates is None else candidates
    horizons = s.default_horizons if horizons is None else horizons
    t = result.selection if result.selection is not None else result.summary
    t = t[t["method"].isin(list(candidates)) & (t["horizon"] <= horizons)]
    return str(t.groupby("method")["mape"].mean().idxmin())


def volatility(hist: np.ndarray, floor: float) -> np.ndarray:
    """Per row: standard deviation of yearly log growth over its run (at least 2 growths; else the
    median of the rows that have one), floored at ``floor``."""
    g = _log_growth(hist) if hist.shape[1] > 1 else np.full((hist.shape[0], 0), np.nan)
    cnt = (~np.isnan(g)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sd = np.where(cnt >= 2, np.nanstd(g, axis=1, ddof=1) if g.shape[1] else np.nan, np.nan)
    if np.isfinite(sd).any():
        sd = np.where(np.isfinite(sd), sd, np.nanmedian(sd))
    else:
        sd = np.full(hist.shape[0], floor)
    return np.maximum(sd, floor)


#: Columns of the backtest's cases, in order.
_CASE_COLUMNS = ("method", "old_la_code", "origin", "horizon", "target_year", "forecast", "actual", "scale", "vol")


def _add_select(cases: pd.DataFrame, s: BacktestSettings) -> pd.DataFrame:
    """Append the backtested selection rule as method ``select`` (and the method it chose)."""
    if "select" not in s.methods:
        return cases
    c = cases[cases["method"].isin(s.select_candidates)]
    ape = ((c["forecast"] - c["actual"]).abs() / c["actual"]).to_numpy()
    c_horizon, c_target, c_method = c["horizon"].to_numpy(), c["target_year"].to_numpy(), c["method"].to_numpy()
    keyed = dict(cases.groupby(["method", "origin", "horizon"]).indices.items())
    rows, chosen_by_row = [], []
    for origin, h in (
        cases.loc[cases["method"] == s.select_fallback, ["origin", "horizon"]].drop_duplicates().itertuples(index=False)
    ):
        past = (c_horizon == h) & (c_target <= origin)
        if past.any():
            chosen = pd.Series(ape[past]).groupby(c_method[past]).mean().idxmin()
        else:
            chosen = s.select_fallback
        rows.append(keyed[(chosen, origin, h)])
        chosen_by_row.append(np.full(len(rows[-1]), chosen, dtype=object))
    if not rows:
        return pd.concat([cases], ignore_index=True)
    picks = cases.iloc[np.concatenate(rows)].copy()
    picks["method"] = "select"
    picks["chosen"] = pd.array(np.concatenate(chosen_by_row), dtype=cases["method"].dtype)
    return pd.concat([cases, picks], ignore_index=True)


def _add_weighted(cases: pd.DataFrame, s: BacktestSettings) -> pd.DataFrame:
    """Append ``weighted``: at each origin and horizon the geometric mean of the candidates'
    forecasts weighted by (their MAPE at that horizon over errors already observable) ** -power;
    equal weights before any error is observable."""
    if "weighted" not in s.methods:
        return cases
    cands = weighted_candidates(s)
    keyed = dict(cases.groupby(["method", "origin", "horizon"]).indices.items())
    fc_all = cases["forecast"].to_numpy(float)
    parts = []
    for origin, h in (
        cases.loc[cases["method"] == cands[0], ["origin", "horizon"]].drop_duplicates().itertuples(index=False)
    ):
        w = combination_weights(cases, cands, int(h), int(origin), s.weight_power)
        idx = [keyed[(m, origin, h)] for m in cands]
        logs = np.vstack([np.log(fc_all[i]) for i in idx])
        block = cases.iloc[idx[0]].copy()
        block["forecast"] = np.exp((w[:, None] * logs).sum(axis=0))
        block["method"] = "weighted"
        parts.append(block)
    return pd.concat([cases, *parts], ignore_index=True)


def weighted_candidates(s: BacktestSettings) -> list[str]:
    """The methods ``weighted`` combines: the selection candidates that are forecasting methods."""
    return [m for m in s.select_candidates if m not in RULES]


def combination_weights(cases: pd.DataFrame, cands: Sequence[str], h: int, origin: int, power: float) -> np.ndarray:
    """Weights of ``cands`` at horizon ``h`` and ``origin``: (MAPE over the errors whose target year
    is at most ``origin``) ** -power, normalised; equal weights when nothing is observable yet."""
    c = cases[cases["method"].isin(list(cands)) & (cases["horizon"] == h) & (cases["target_year"] <= origin)]
    ape = ((c["forecast"] - c["actual"]).abs() / c["actual"]).groupby(c["method"]).mean()
    w = np.array([float(ape.get(m, np.nan)) for m in cands])
    with np.errstate(divide="ignore"):
        w = np.where(np.isfinite(w) & (w > 0), w**-power, np.nan)
    w = np.ones(len(cands)) if not np.isfinite(w).any() else np.nan_to_num(w)
    return w / w.sum()


def _past(tgt: np.ndarray, o: int, window: int | None) -> np.ndarray:
    past = tgt <= o
    if window is not None:
        past &= tgt > o - window
    return past


def _add_intervals(cases: pd.DataFrame, s: BacktestSettings | int) -> pd.DataFrame:
    """Empirical interval bounds for every case from past errors only (``s``: the settings, or
    just ``min_errors`` for pooled intervals over all past years)."""
    if isinstance(s, int):
        s = BacktestSettings(min_errors=s)
    min_errors = s.min_errors
    cases = cases.reset_index(drop=True).copy()
    fc = cases["forecast"].to_numpy(float)
    scaled = s.interval_scale == "volatility"
    vol = cases["vol"].to_numpy(float) if scaled else np.ones(len(cases))
    log_err = np.log(cases["actual"].to_numpy(float) / fc) / vol
    origin = cases["origin"].to_numpy()
    target = cases["target_year"].to_numpy()
    bounds = {
        f"{side}_{int(round(lv * 100))}": np.full(len(cases), np.nan) for lv in INTERVALS for side in ("lower", "upper")
    }
    for _, idx in cases.groupby(["method", "horizon"]).indices.items():
        le, org, tgt = log_err[idx], origin[idx], target[idx]
        for o in np.unique(org):
            past = np.isfinite(le) & _past(tgt, o, s.interval_window)
            if past.sum() < min_errors:
                continue
            b = _interval_bounds(le[past])
            at = idx[org == o]
            for k, v in b.items():
                bounds[k][at] = fc[at] * np.exp(v * vol[at])
    for k, v in bounds.items():
        cases[k] = v
    return cases


def summarise(cases: pd.DataFrame) -> pd.DataFrame:
    """The method x horizon table: mape, mase, bias, coverage_80, coverage_95 (percent), n, n_series."""
    c = cases.copy()
    c["pe"] = (c["forecast"] - c["actual"]) / c["actual"] * 100
    c["ape"] = c["pe"].abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        c["ase"] = np.where(c["scale"] > 0, (c["forecast"] - c["actual"]).abs() / c["scale"], np.nan)
    for level in INTERVALS:
        pct = int(round(level * 100))
        has = c[f"lower_{pct}"].notna()
        inside = (c["actual"] >= c[f"lower_{pct}"]) & (c["actual"] <= c[f"upper_{pct}"])
        c[f"in_{pct}"] = np.where(has, inside.astype(float) * 100, np.nan)
    g = c.groupby(["method", "horizon"], sort=False)
    out = pd.DataFrame(
        {
            "mape": g["ape"].mean(),
            "mase": g["ase"].mean(),
            "bias": g["pe"].mean(),
            "coverage_80": g["in_80"].mean(),
            "coverage_95": g["in_95"].mean(),
            "n": g.size(),
            "n_series": g["old_la_code"].nunique(),
            "n_origins": g["origin"].nunique(),
        }
    ).reset_index()
    return out


def backtest_published(
    series: pd.DataFrame,
    settings: BacktestSettings | None = None,
    codes: Sequence[str] | None = None,
    current_only: bool = True,
) -> BacktestResult:
    """Backtest on a published panel (``old_la_code``, ``year``, ``ehc_plans``, ``new_plans``).

    ``current_only`` keeps authorities published at the latest census (the 153 that exist now);
    ``codes`` restricts to some authorities.
    """
    from sendlib.models.forecast.dfe_series import requests_wide, to_wide

    df = series
    if current_only:
        latest = df.loc[df["ehc_plans"].notna(), "year"].max()
        now = df.loc[(df["year"] == latest) & df["ehc_plans"].notna(), "old_la_code"].unique()
        df = df[df["old_la_code"].isin(now)]
    if codes is not None:
        df = df[df["old_la_code"].isin([str(c) for c in codes])]
    all_codes, years, stock, new = to_wide(df)
    return run_backtest(stock, years, list(all_codes), new, settings, requests_wide(df))


def forecast_published(
    series: pd.DataFrame,
    horizon: int,
    method: str,
    codes: Sequence[str] | None = None,
    settings: BacktestSettings | None = None,
) -> pd.DataFrame:
    """Forecast published caseloads with empirical intervals, from the latest census.

    The point forecast (``median``) is ``method``'s; the 80% and 95% intervals are the point
    forecast times percentiles of ``actual / forecast`` from a backtest of the same method at the
    same horizon, pooled over every authority in ``series`` (so one authority's interval borrows
    strength from all 153). Horizons with fewer than ``settings.min_errors`` past errors get no
    interval (NaN).

    Returns
    -------
    DataFrame
        ``old_la_code``, ``la_name``, ``year`` (January census), ``median``, ``lower_80``,
        ``upper_80``, ``lower_95``, ``upper_95``, ``method``; plus the history as rows with
        ``kind`` = ``actual`` (``median`` = the published count) before the ``forecast`` rows.
    """
    from sendlib.models.forecast.dfe_series import requests_wide, to_wide

    s = settings or BacktestSettings()
    if method not in METHODS and method != "weighted":
        from sendlib.core.errors import UsageError

        raise UsageError(f"unknown forecast method '{method}'; expected one of {[*METHODS, 'weighted']}")
    all_codes, years, stock, new = to_wide(series)
    req = requests_wide(series)
    bt = run_backtest(
        stock,
        years,
        list(all_codes),
        new,
        s.model_copy(update={"methods": (method,), "horizons": horizon}),
        req,
    )
    errs = bt.cases
    if method == "weighted":
        cands = weighted_candidates(s)
        full = run_backtest(
            stock, years, list(all_codes), new, s.model_copy(update={"methods": tuple(cands), "horizons": horizon}), req
        ).cases
        member = {m: forecast(m, stock, horizon, new, s.aggregate, req) for m in cands}
        fc = np.empty((len(all_codes), horizon))
        for h in range(1, horizon + 1):
            w = combination_weights(full, cands, h, int(years[-1]), s.weight_power)
            fc[:, h - 1] = np.exp(sum(wi * np.log(member[m][:, h - 1]) for wi, m in zip(w, cands)))
    else:
        fc = forecast(method, stock, horizon, new, s.aggregate, req)
    scaled = s.interval_scale == "volatility"
    vol = volatility(latest_run(stock), s.interval_vol_floor) if scaled else np.ones(len(all_codes))
    last_year = int(years[-1])
    names = series.dropna(subset=["la_name"]).groupby("old_la_code")["la_name"].last()
    want = list(all_codes) if codes is None else [str(c) for c in codes]
    unknown = [c for c in want if c not in set(all_codes)]
    if unknown:
        from sendlib.core.errors import UsageError

        raise UsageError(f"no published series for authority code(s) {unknown} (use a 3-digit old_la_code, e.g. 931)")
    rows = []
    pos = {c: i for i, c in enumerate(all_codes)}
    bounds = {}
    for h in range(1, horizon + 1):
        e = errs[(errs["horizon"] == h) & _past(errs["target_year"].to_numpy(), last_year, s.interval_window)]
        le = (np.log(e["actual"] / e["forecast"]) / (e["vol"] if scaled else 1.0)).to_numpy()
        le = le[np.isfinite(le)]
        bounds[h] = _interval_bounds(le) if len(le) >= s.min_errors else None
    for c in want:
        i = pos[c]
        hist = pd.DataFrame({"year": years, "value": stock[i]}).dropna()
        for y, v in zip(hist["year"], hist["value"]):
            rows.append({"old_la_code": c, "la_name": names.get(c, ""), "kind": "actual", "year": int(y), "median": v})
        for h in range(1, horizon + 1):
            row = {
                "old_la_code": c,
                "la_name": names.get(c, ""),
                "kind": "forecast",
                "year": int(years[-1] + h),
                "median": fc[i, h - 1],
            }
            for lv in INTERVALS:
                pct = int(round(lv * 100))
                b = bounds[h]
                row[f"lower_{pct}"] = fc[i, h - 1] * np.exp(b[f"lower_{pct}"] * vol[i]) if b else np.nan
                row[f"upper_{pct}"] = fc[i, h - 1] * np.exp(b[f"upper_{pct}"] * vol[i]) if b else np.nan
            rows.append(row)
    out = pd.DataFrame(rows)
    out["method"] = method
    return out[
        ["old_la_code", "la_name", "kind", "year", "median", "lower_80", "upper_80", "lower_95", "upper_95", "method"]
    ]


def headline(result: BacktestResult, method: str, horizon: int = 1) -> dict[str, float | int | str]:
    """The plain-words summary of ``method`` at ``horizon`` on the reported cases: the median over
    authorities of each authority's mean absolute percentage error ("within X% for half of
    authorities"), the share of forecasts within 5%, the origins and the number of authorities."""
    s = result.settings
    c = in_origins(result.cases, s.report_origins if s is not None else None)
    c = c[(c["method"] == method) & (c["horizon"] == horizon)]
    ape = (c["forecast"] - c["actual"]).abs() / c["actual"] * 100
    by_la = ape.groupby(c["old_la_code"]).mean()
    return {
        "method": method,
        "horizon": horizon,
        "first_origin": int(c["origin"].min()),
        "last_origin": int(c["origin"].max()),
        "n_origins": int(c["origin"].nunique()),
        "n_authorities": int(by_la.size),
        "median_authority_mape": float(by_la.median()),
        "share_within_5pct": float((ape <= 5).mean() * 100),
    }
