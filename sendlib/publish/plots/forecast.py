"""Demand forecast charts: the fan chart (history and projection with 80% / 95% bands), the
breakdown bars, and the backtest chart.

Each function draws the frames it is given (from :mod:`sendlib.models.forecast`) and returns a
:class:`~sendlib.publish.plots.style.ChartResult`; titles state the finding, computed only from the
columns drawn.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sendlib.publish.plots.style import PALETTE, ChartResult, finish

SOURCE = "Source: sendlib demand forecast on the authority's case data and ONS population"
BACKTEST_SOURCE = (
    "Source: sendlib backtest on DfE 'Education, health and care plans' (SEN2) 2022 and 2025 "
    "releases, all local authorities; OGL v3"
)


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def fan_chart(
    history: pd.DataFrame, summary: pd.DataFrame, *, what: str = "EHC plans", source: str = SOURCE
) -> ChartResult:
    """History (``year``, ``count``) and projection (``year``, ``median``, ``lower_80``,
    ``upper_80``, ``lower_95``, ``upper_95``) of a total, January census years."""
    fig, ax = plt.subplots()
    s = summary.sort_values("year")
    h = history.sort_values("year")
    ax.fill_between(
        s["year"], s["lower_95"], s["upper_95"], color=PALETTE[0], alpha=0.15, linewidth=0, label="95% interval"
    )
    ax.fill_between(
        s["year"], s["lower_80"], s["upper_80"], color=PALETTE[0], alpha=0.30, linewidth=0, label="80% interval"
    )
    if len(h):
        ax.plot(h["year"], h["count"], color=PALETTE[4], marker="o", label="Recorded (January census)")
        ax.plot(
            [h["year"].iloc[-1], s["year"].iloc[0]],
            [h["count"].iloc[-1], s["median"].iloc[0]],
            color=PALETTE[0],
            linestyle=":",
        )
    ax.plot(s["year"], s["median"], color=PALETTE[0], marker="o", label="Projected (median)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: _fmt(v)))
    ax.legend(loc="upper left")
    first, last = s.iloc[0], s.iloc[-1]
    base = h["count"].iloc[-1] if len(h) else first["median"]
    change = (last["median"] / base - 1) * 100 if base else np.nan
    title = (
        f"{what} projected to {'rise' if change >= 0 else 'fall'} {abs(change):.0f}% by January "
        f"{int(last['year'])} ({_fmt(last['lower_80'])} to {_fmt(last['upper_80'])}, 80% interval)"
    )
    alt = (
        f"Fan chart of {what} at each January census: recorded to {int(h['year'].iloc[-1]) if len(h) else ''}, "
        f"then the median projection to {int(last['year'])} of {_fmt(last['median'])} with 80% and 95% bands."
    )
    return finish(
        fig, ax, title=title, xlabel="January census year", ylabel=f"{what} (count)", source=source, alt_text=alt
    )


def breakdown_bars(
    summary: pd.DataFrame, by: str, *, year: int | None = None, labels: dict | None = None, source: str = SOURCE
) -> ChartResult:
    """Median and 80% interval per ``by`` group in one year (default the last projected)."""
    y = int(summary["year"].max()) if year is None else int(year)
    t = summary[summary["year"] == y].sort_values("median")
    names = [str((labels or {}).get(v, v)).replace("_", " ") for v in t[by]]
    fig, ax = plt.subplots(figsize=(8.5, max(3.0, 0.38 * len(t) + 1.2)))
    ax.barh(names, t["median"], color=PALETTE[0], label="Median")
    err = np.vstack([t["median"] - t["lower_80"], t["upper_80"] - t["median"]])
    ax.errorbar(
        t["median"], names, xerr=np.clip(err, 0, None), fmt="none", ecolor=PALETTE[4], capsize=3, label="80% interval"
    )
    ax.legend(loc="lower right")
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: _fmt(v)))
    top = t.iloc[-1]
    title = f"Largest group in January {y}: {str((labels or {}).get(top[by], top[by])).replace('_', ' ')} ({_fmt(top['median'])})"
    return finish(
        fig,
        ax,
        title=title,
        xlabel=f"Children and young people with a plan, January {y} (count)",
        ylabel=by.replace("_", " ").capitalize(),
        source=source,
        alt_text=f"Bar chart of projected plans by {by.replace('_', ' ')} in January {y}, median with 80% interval.",
    )


def backtest_chart(summary: pd.DataFrame, *, metric: str = "mape", source: str = BACKTEST_SOURCE) -> ChartResult:
    """``metric`` by method and horizon (lines), from :func:`sendlib.models.forecast.backtest.summarise`."""
    fig, ax = plt.subplots()
    order = summary[summary["horizon"] == 1].sort_values(metric)["method"].tolist()
    for i, m in enumerate(order):
        t = summary[summary["method"] == m].sort_values("horizon")
        ax.plot(
            t["horizon"],
            t[metric],
            marker="o",
            color=PALETTE[i % len(PALETTE)],
            linestyle="-" if i < len(PALETTE) else "--",
            label=m.replace("_", " "),
        )
    ax.set_xticks(sorted(summary["horizon"].unique()))
    ax.set_ylim(bottom=0)
    ax.legend(title="Method (best first)", loc="upper left")
    best = order[0]
    b1 = summary[(summary["method"] == best) & (summary["horizon"] == 1)][metric].iloc[0]
    unit = "%" if metric in ("mape", "bias") else ""
    title = f"{best.replace('_', ' ').capitalize()} has the lowest 1-year error ({metric.upper()} {b1:.1f}{unit})"
    return finish(
        fig,
        ax,
        title=title,
        xlabel="Years ahead",
        ylabel=f"{metric.upper()}{' (%)' if unit else ''}",
        source=source,
        alt_text=f"Line chart of backtest {metric.upper()} by years ahead for each method.",
    )
