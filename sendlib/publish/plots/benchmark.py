"""Benchmarking charts: an authority against its region and England (DfE SEN2 figures).

Each function takes the frame from :func:`sendlib.models.benchmark.compare` and returns a
:class:`~sendlib.publish.plots.style.ChartResult` in the house style.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd

from sendlib.publish.plots.style import PALETTE, ChartResult, finish

SOURCE = (
    "Source: DfE, Education, health and care plans (SEN2), explore-education-statistics, "
    "releases 2022 and 2025 (OGL v3.0)"
)


def _fmt(v: float, unit: str) -> str:
    return f"{v:,.0f}" if unit == "count" else f"{v:.1f}%"


def trend_chart(
    comparison: pd.DataFrame, indicator: str, since: int | None = None, source: str = SOURCE
) -> ChartResult:
    """Lines for the authority, its region and England on one indicator, by year.

    Percentages are drawn as published; counts (EHC plans) are drawn as an index (first year
    shown = 100), since an authority's count and England's are not on one scale.

    Raises ValueError when the frame has no rows for ``indicator``.
    """
    d = comparison[comparison["indicator"] == indicator].sort_values("year")
    if since is not None:
        d = d[d["year"] >= since]
    if d.empty:
        raise ValueError(f"no rows for indicator '{indicator}'")
    unit, label, period = d["unit"].iloc[0], d["label"].iloc[0], d["period"].iloc[0]
    la_name, region = d["la_name"].iloc[0], d["region_name"].iloc[0]
    series = {la_name: d["la_value"], region: d["region_value"], "England": d["england_value"]}
    index = unit == "count"
    fig, ax = plt.subplots()
    for (name, values), colour, style in zip(series.items(), PALETTE, ["-", "--", ":"]):
        v = values.astype(float).reset_index(drop=True)
        if index:
            base = v.dropna()
            v = 100 * v / base.iloc[0] if len(base) else v
        ax.plot(d["year"].to_numpy(), v.to_numpy(), style, color=colour, marker="o", linewidth=2, label=name)
    ax.legend(loc="best")
    ax.xaxis.get_major_locator().set_params(integer=True)
    have = d.dropna(subset=["la_value"])
    if len(have):
        last = have.iloc[-1]
        y = int(last["year"])
        if index:
            first = have.iloc[0]
            g_la = 100 * (last["la_value"] / first["la_value"] - 1)
            g_en = 100 * (last["england_value"] / first["england_value"] - 1)
            title = f"{la_name}: EHC plans up {g_la:.0f}% from {int(first['year'])} to {y}, England up {g_en:.0f}%"
        else:
            rel = (
                "above"
                if last["la_value"] > last["england_value"]
                else ("below" if last["la_value"] < last["england_value"] else "level with")
            )
            title = (
                f"{la_name}: {label.lower()} {_fmt(last['la_value'], unit)} in {y}, "
                f"{rel} England ({_fmt(last['england_value'], unit)})"
            )
    else:
        title = f"{la_name}: no published {label.lower()}"
    title = textwrap.fill(title, width=72)
    from sendlib.models.benchmark import INDICATORS  # constants only: the axis label with units

    axis = next((i.axis for i in INDICATORS if i.name == indicator and i.axis), "Per cent (%)")
    ylabel = f"Index ({int(d['year'].iloc[0])} = 100)" if index else axis
    xlabel = "January census year" if period == "January census" else "Calendar year"
    alt = (
        f"Line chart of {label} by {xlabel.lower()} for {la_name}, {region} and England, "
        f"{int(d['year'].min())} to {int(d['year'].max())}"
        + (", as an index" if index else "")
        + ". "
        + title.replace("\n", " ")
        + "."
    )
    return finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel, source=source, alt_text=alt)


def rank_chart(
    comparison: pd.DataFrame, indicators: list[str] | None = None, since: int | None = None, source: str = SOURCE
) -> ChartResult:
    """The authority's rank among all authorities per indicator and year (1 = highest value, at
    the top of the chart)."""
    d = comparison.dropna(subset=["rank"])
    if indicators is not None:
        d = d[d["indicator"].isin(indicators)]
    if since is not None:
        d = d[d["year"] >= since]
    if d.empty:
        raise ValueError("no ranked rows to draw")
    la_name = d["la_name"].iloc[0]
    n = int(d["n_ranked"].max())
    fig, ax = plt.subplots(figsize=(8.5, 5))
    labels = []
    for (_ind, g), colour in zip(d.groupby("indicator", sort=False), PALETTE * 3):
        g = g.sort_values("year")
        lab = g["label"].iloc[0]
        labels.append(lab)
        ax.plot(
            g["year"].to_numpy(), g["rank"].astype(float).to_numpy(), marker="o", color=colour, linewidth=2, label=lab
        )
    ax.set_ylim(n + 3, -2)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8.5)
    latest_year = int(d["year"].max())
    title = f"{la_name}: rank among {n} English authorities on each indicator, to {latest_year}"
    alt = f"Line chart of {la_name}'s rank (1 = highest value, {n} = lowest) by year for: " + "; ".join(labels) + "."
    return finish(
        fig,
        ax,
        title=title,
        xlabel="Year (January census or calendar year)",
        ylabel=f"Rank (1 = highest of {n})",
        source=source,
        alt_text=alt,
    )
