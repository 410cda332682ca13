"""Charts for the high needs block / DSG scenarios, in the house style.

Each function takes the frames :func:`sendlib.models.finance.run_finance` produces and returns a
:class:`~sendlib.publish.plots.style.ChartResult` (figure + alt text). Money is shown in £ millions.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sendlib.publish.plots.style import PALETTE, ChartResult, finish

SOURCE = "Source: sendlib finance model on the authority's high needs budget, DSG income and demand forecast"


def _millions(x: float, _pos: object = None) -> str:
    return f"{'-' if x < 0 else ''}£{abs(x) / 1e6:,.0f}m"


def _m(x: float) -> str:
    return f"£{abs(x) / 1e6:,.0f}m"


def cumulative_balance_chart(
    comparison: pd.DataFrame,
    fan: pd.DataFrame | None = None,
    override_end: str | None = None,
    threshold_deficit_gbp: float | None = None,
    scenarios: Sequence[str] | None = None,
    source: str = SOURCE,
) -> ChartResult:
    """Cumulative DSG balance per scenario with its Monte Carlo fan (10th-90th and 5th-95th percentiles).

    Parameters
    ----------
    comparison : DataFrame
        ``scenario``, ``financial_year``, ``cumulative_balance_gbp`` (the central path).
    fan : DataFrame, optional
        ``scenario``, ``financial_year``, ``p05_gbp`` ... ``p95_gbp``.
    override_end : str, optional
        Financial year in which the statutory override ends (marked at its year end).
    threshold_deficit_gbp : float, optional
        A deficit size to mark (drawn at minus this amount).
    """
    names = list(scenarios) if scenarios else list(dict.fromkeys(comparison["scenario"]))
    years = list(dict.fromkeys(comparison["financial_year"]))
    x = np.arange(len(years))
    fig, ax = plt.subplots(figsize=(9, 5))
    last = {}
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        c = comparison[comparison["scenario"] == name].set_index("financial_year").reindex(years)
        if fan is not None and not fan.empty:
            f = fan[fan["scenario"] == name].set_index("financial_year").reindex(years)
            if f["p10_gbp"].notna().any():
                ax.fill_between(x, f["p05_gbp"], f["p95_gbp"], color=colour, alpha=0.08, linewidth=0)
                ax.fill_between(
                    x,
                    f["p10_gbp"],
                    f["p90_gbp"],
                    color=colour,
                    alpha=0.18,
                    linewidth=0,
                    label=f"{name}: 80% range" if i == 0 else None,
                )
        ax.plot(
            x,
            c["cumulative_balance_gbp"],
            color=colour,
            linewidth=2.4,
            marker="o",
            markersize=4,
            linestyle=["-", "--", ":", "-."][i % 4],
            label=name,
        )
        v = float(c["cumulative_balance_gbp"].iloc[-1])
        last[name] = v
        ax.annotate(
            f"{name}: {'-' if v < 0 else ''}{_m(v)}",
            (x[-1], v),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color=colour,
        )
    ax.axhline(0, color="#3D3D3D", linewidth=0.8)
    if threshold_deficit_gbp:
        ax.axhline(-abs(threshold_deficit_gbp), color="#6F777B", linewidth=1, linestyle=(0, (4, 3)))
        ax.annotate(
            f"Deficit of {_m(threshold_deficit_gbp)}",
            (x[0], -abs(threshold_deficit_gbp)),
            xytext=(2, 4),
            textcoords="offset points",
            fontsize=8.5,
            color="#505A5F",
        )
    if override_end and override_end in years:
        xo = years.index(override_end)
        ax.axvline(xo, color="#3D3D3D", linewidth=1, linestyle=":")
        ax.annotate(
            f"Statutory override ends\n31 March {int(override_end[:4]) + 1}",
            (xo, ax.get_ylim()[1]),
            xytext=(4, -4),
            textcoords="offset points",
            va="top",
            fontsize=8.5,
            color="#3D3D3D",
        )
    ax.set_xticks(x, years)
    ax.yaxis.set_major_formatter(FuncFormatter(_millions))
    ax.set_xlim(-0.3, len(years) - 1 + 1.6)
    ax.legend(loc="lower left", fontsize=9)
    worst = min(last, key=last.get) if last else ""
    best = max(last, key=last.get) if last else ""
    if last and worst != best:
        title = f"By {years[-1]} the DSG deficit reaches {_m(last[worst])} ({worst}) against {_m(last[best])} ({best})"
    elif last:
        title = f"By {years[-1]} the cumulative DSG balance is {'-' if last[worst] < 0 else ''}{_m(last[worst])}"
    else:
        title = "Cumulative DSG balance"
    alt = (
        f"Line chart of the cumulative DSG balance by financial year for {len(names)} scenarios, with shaded "
        f"80% and 90% simulation ranges. "
        + "; ".join(f"{n}: {_millions(v)} in {years[-1]}" for n, v in last.items())
        + (f". A dotted line marks the end of the statutory override ({override_end})." if override_end else ".")
    )
    return finish(
        fig,
        ax,
        title=title,
        xlabel="Financial year (balance at 31 March)",
        ylabel="Cumulative DSG balance (£ millions, negative = deficit)",
        source=source,
        alt_text=alt,
    )


def tornado_chart(
    tornado: pd.DataFrame, scenario: str | None = None, top: int = 10, source: str = SOURCE
) -> ChartResult:
    """Tornado: the cumulative balance in the target year with each assumption at its low and high.

    ``tornado`` as from :func:`sendlib.models.finance.tornado_table` (one scenario, or pick ``scenario``).
    """
    t = tornado if scenario is None else tornado[tornado["scenario"] == scenario]
    t = t.sort_values("swing_gbp", ascending=False).head(top).iloc[::-1]
    fy = t["financial_year"].iloc[0] if len(t) else ""
    name = t["scenario"].iloc[0] if len(t) else ""
    central = float(t["central_gbp"].iloc[0]) if len(t) else 0.0
    fig, ax = plt.subplots(figsize=(9, 0.55 * max(len(t), 3) + 1.6))
    y = np.arange(len(t))
    lo = t["at_low_gbp"].to_numpy(dtype=float) - central
    hi = t["at_high_gbp"].to_numpy(dtype=float) - central
    ax.barh(y, lo, left=central, color=PALETTE[0], label="assumption at its low value")
    ax.barh(y, hi, left=central, color=PALETTE[3], label="assumption at its high value", hatch="//", edgecolor="white")
    ax.axvline(central, color="#3D3D3D", linewidth=1)

    def _v(v: float) -> str:
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"

    labels = [
        f"{a}\n(low {_v(lv)}, high {_v(hv)})" for a, lv, hv in zip(t["assumption"], t["low_value"], t["high_value"])
    ]
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.xaxis.set_major_formatter(FuncFormatter(_millions))
    ax.legend(loc="lower right", fontsize=9)
    top_name = t["assumption"].iloc[-1] if len(t) else ""
    top_swing = float(t["swing_gbp"].iloc[-1]) if len(t) else 0.0
    title = (
        f"{top_name} moves the {fy} balance most: a swing of {_m(top_swing)} ({name})"
        if len(t)
        else "No uncertain assumptions"
    )
    alt = (
        f"Tornado chart for scenario {name}: the cumulative DSG balance at the end of {fy} (central "
        f"{_millions(central)}) with each assumption at its low and high value. Largest swings: "
        + "; ".join(f"{a} {_millions(s)}" for a, s in zip(t["assumption"][::-1], t["swing_gbp"][::-1]))
        + "."
    )
    return finish(
        fig,
        ax,
        title=title,
        xlabel=f"Cumulative DSG balance at 31 March {int(fy[:4]) + 1 if fy else ''} (£ millions)",
        ylabel="Assumption (low, high)",
        source=source,
        alt_text=alt,
    )
