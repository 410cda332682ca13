"""KPI dashboard charts: trend with target band, RAG tiles, placement mix over time, waiting times.

Each function draws frames produced by :mod:`sendlib.models.kpi` (``compute_kpis``, ``kpi_history``,
``wait_distribution``) and returns a :class:`~sendlib.publish.plots.style.ChartResult` with alt text.
RAG is always written as a word as well as shown as a colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sendlib.core.config import KpiTarget
from sendlib.publish.narrative import SUBJECTS, format_value, withheld_reason
from sendlib.publish.plots.style import PALETTE, RAG_COLOURS, ChartResult, finish, tight_layout

SOURCE = "Source: the authority's case data (synthetic county by default); England: DfE SEN2"
#: Placement groups for the mix chart: label -> setting types (``K5_<setting_type>_pct`` rows).
MIX_GROUPS: dict[str, tuple[str, ...]] = {
    "Mainstream (incl. resourced provision)": ("mainstream_maintained", "mainstream_academy", "resourced_provision"),
    "Special (maintained / academy)": ("special_maintained", "special_academy"),
    "Independent / non-maintained special": ("inmss",),
    "Post-16 (college, specialist, other)": ("fe_college", "specialist_post16", "other_post16"),
    "AP, home education, NEET, other": ("alternative_provision", "elective_home", "neet", "other"),
    "No placement recorded": ("no_placement",),
}


def kpi_trend(
    history: pd.DataFrame, kpi: str, target: KpiTarget | None = None, threshold: int = 5, min_denominator: int = 10
) -> ChartResult:
    """One KPI over the quarters in ``history`` (from :func:`sendlib.models.kpi.kpi_history`), with the
    target line, the amber tolerance band and England's value where there is one.

    Values on a base below ``min_denominator`` are left out of the line (not published)."""
    rows = history[history["kpi"] == kpi].sort_values("period")
    if rows.empty:
        raise ValueError(f"no rows for KPI {kpi!r} in the history")
    unit = str(rows["unit"].iloc[0])
    subject = SUBJECTS.get(kpi, str(rows["name"].iloc[0]))
    base = rows["denominator"].where(~rows["kpi"].str.startswith("K10_variance"))
    small_num = rows["numerator"].between(1, threshold - 1) & (unit != "£")
    hide = ((base < min_denominator) | small_num.where(~rows["kpi"].str.startswith("K10_variance"), False)) & (
        unit != "count"
    )
    values = rows["value"].where(~hide.fillna(False))
    periods = rows["period"].tolist()
    x = np.arange(len(periods))
    fig, ax = plt.subplots(figsize=(8.5, 4.0))
    ax.plot(x, values, marker="o", color=PALETTE[0], label="Authority", linewidth=2)
    if target is not None:
        ax.axhline(
            target.target,
            color=PALETTE[4],
            linestyle="--",
            linewidth=1.2,
            label=f"Target {format_value(target.target, unit)}",
        )
        if target.tolerance > 0:
            lo, hi = (
                (target.target - target.tolerance, target.target)
                if target.better == "up"
                else (target.target, target.target + target.tolerance)
            )
            ax.axhspan(lo, hi, color=RAG_COLOURS["amber"], alpha=0.15, label="Amber band (within tolerance)")
    if rows["national_value"].notna().any():
        ax.step(
            x,
            rows["national_value"],
            where="mid",
            color=PALETTE[1],
            linestyle=":",
            linewidth=1.5,
            label="England (latest published year)",
        )
    ax.set_xticks(x, periods, rotation=45, ha="right")
    if unit == "%":
        ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=8.5)
    last = values.iloc[-1]
    if pd.isna(last):
        title = f"{subject}: no published figure for {periods[-1]}"
    else:
        valid = [(p, v) for p, v in zip(periods, values) if not pd.isna(v)]
        move = ""
        if len(valid) > 1:
            p0, v0 = valid[0]
            word = "up" if last > v0 else ("down" if last < v0 else "level")
            move = f", {word} from {format_value(v0, unit)} in {p0}"
        title = f"{subject}: {format_value(last, unit)} in {periods[-1]}{move}"
    alt = (
        f"Line chart of {subject.lower()} by quarter from {periods[0]} to {periods[-1]}: "
        + ", ".join(
            f"{p} {format_value(v, unit) if not pd.isna(v) else 'not published'}" for p, v in zip(periods, values)
        )
        + (
            f". Target {format_value(target.target, unit)} ({'higher' if target.better == 'up' else 'lower'} is better)."
            if target
            else "."
        )
    )
    return finish(
        fig,
        ax,
        title=_wrap(title),
        xlabel="Quarter (financial year)",
        ylabel=_unit_label(unit),
        source=SOURCE,
        alt_text=alt,
    )


def kpi_tiles(
    frame: pd.DataFrame, kpis: Sequence[str], ncols: int = 4, threshold: int = 5, min_denominator: int = 10
) -> ChartResult:
    """Headline tiles: one box per KPI with its value, RAG written as a word, and the change."""
    chosen = frame.set_index("kpi").reindex(list(kpis)).dropna(how="all").reset_index()
    n = len(chosen)
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 1.9 * nrows + 0.6))
    axes = np.atleast_1d(axes).ravel()
    lines, rated = [], []
    for ax, (_, r) in zip(axes, chosen.iterrows()):
        rag = r["rag"] if isinstance(r["rag"], str) else None
        value, unit = float(r["value"]), str(r["unit"])
        base = None if str(r["kpi"]).startswith("K10_variance") else r["denominator"]
        num = math.nan if str(r["kpi"]).startswith("K10_variance") else float(r["numerator"])
        why = withheld_reason(value, base if base is not None else math.nan, unit, threshold, min_denominator, num)
        shown = why or format_value(value, unit)
        if why and rag:
            rag = None
            rag_word = "NOT RATED"
        else:
            has_target = not pd.isna(r["target"])
            rag_word = rag.upper() if rag else ("NOT RATED" if has_target else "NO TARGET")
        rated.append(rag)
        colour = RAG_COLOURS[rag]
        ax.add_patch(
            plt.Rectangle(
                (0, 0), 1, 1, transform=ax.transAxes, facecolor=colour, alpha=0.18, edgecolor=colour, linewidth=3
            )
        )
        texts = [
            ax.text(
                0.05, 0.92, _wrap(SUBJECTS.get(r["kpi"], r["name"]), 30), transform=ax.transAxes, va="top", fontsize=8.5
            ),
            ax.text(
                0.05, 0.30, _wrap(shown, 24), transform=ax.transAxes, fontsize=15 if not why else 9, fontweight="bold"
            ),
            ax.text(
                0.95,
                0.08,
                rag_word,
                transform=ax.transAxes,
                ha="right",
                fontsize=8.5,
                fontweight="bold",
                color="#0B0C0C",
            ),
        ]
        for t in texts:
            t.set_in_layout(False)
        ax.set_axis_off()
        lines.append(f"{SUBJECTS.get(r['kpi'], r['name'])}: {shown} ({rag_word.lower()})")
    for ax in axes[n:]:
        ax.set_axis_off()
    period = chosen["period"].iloc[0] if n else ""
    n_red = sum(1 for x in rated if x == "red")
    n_rated = sum(1 for x in rated if x)
    headline = f"{n_red} of {n_rated} rated KPIs are red" if n_rated else "no KPI could be rated against a target"
    fig.suptitle(f"Headline KPIs, {period}: {headline}", x=0.01, ha="left", fontweight="bold", fontsize=13)
    fig.text(
        0.01,
        0.0,
        SOURCE + ". RAG against the board's targets; NO TARGET = context measure.",
        ha="left",
        va="top",
        fontsize=8.5,
        color="#505A5F",
    )
    tight_layout(fig)
    return ChartResult(figure=fig, alt_text="KPI tiles. " + "; ".join(lines) + ".")


def placement_mix_chart(history: pd.DataFrame) -> ChartResult:
    """Stacked bars: % of children with a plan by placement group, per quarter (K5 rows)."""
    rows = history[history["kpi"].str.match(r"^K5_.+_pct$") & (history["kpi"] != "K5_mainstream_pct")].copy()
    rows["setting"] = rows["kpi"].str.slice(3, -4)
    lookup = {s: g for g, members in MIX_GROUPS.items() for s in members}
    rows["group"] = rows["setting"].map(lookup)
    mix = rows.pivot_table(index="period", columns="group", values="value", aggfunc="sum").reindex(
        columns=list(MIX_GROUPS)
    )
    mix = mix.fillna(0.0)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    left = np.zeros(len(mix))
    colours = PALETTE + ["#BFC1C3"]
    for i, g in enumerate(mix.columns):
        ax.barh(mix.index, mix[g], left=left, color=colours[i % len(colours)], label=g)
        left += mix[g].to_numpy()
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8.5)
    last = mix.index[-1]
    main = mix.loc[last, list(MIX_GROUPS)[0]]
    inmss = mix.loc[last, "Independent / non-maintained special"]
    title = f"In {last}, {main:.0f}% of children with a plan were in mainstream and {inmss:.0f}% in independent special schools"
    alt = "Stacked bar chart of placement mix by quarter. " + "; ".join(
        f"{p}: " + ", ".join(f"{g} {mix.loc[p, g]:.0f}%" for g in mix.columns) for p in mix.index
    )
    return finish(
        fig,
        ax,
        title=_wrap(title, 80),
        xlabel="Children with an EHC plan at quarter end (%)",
        ylabel="Quarter",
        source="Source: the authority's placements and EHC plans (K5)",
        alt_text=alt,
    )


def waiting_time_chart(distribution: pd.DataFrame) -> ChartResult:
    """Referrals by weeks waited, per service group: seen in the quarter vs still waiting
    (from :func:`sendlib.models.kpi.wait_distribution`)."""
    groups = list(dict.fromkeys(distribution["group"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(9.5, 4.2), sharey=True)
    axes = np.atleast_1d(axes)
    statuses = list(dict.fromkeys(distribution["status"]))
    bands = (
        list(distribution["band"].cat.categories)
        if hasattr(distribution["band"], "cat")
        else list(dict.fromkeys(distribution["band"]))
    )
    width = 0.8 / max(1, len(statuses))
    x = np.arange(len(bands))
    summary = []
    for ax, g in zip(axes, groups):
        sub = distribution[distribution["group"] == g]
        for i, s in enumerate(statuses):
            vals = sub[sub["status"] == s].set_index("band")["referrals"].reindex(bands).fillna(0)
            ax.bar(x + (i - (len(statuses) - 1) / 2) * width, vals, width=width, color=PALETTE[i], label=s)
        ax.axvline(
            bands.index("18-26") - 0.5 if "18-26" in bands else len(bands) - 0.5,
            color=PALETTE[4],
            linestyle="--",
            linewidth=1,
        )
        ax.set_xticks(x, bands)
        ax.set_title(g.replace("_", " ").capitalize(), fontsize=11, loc="left")
        waiting = sub[sub["status"] == "waiting at quarter end"]
        over = int(
            waiting[waiting["band"].astype(str).isin(list(bands[bands.index("18-26") :]) if "18-26" in bands else [])][
                "referrals"
            ].sum()
        )
        summary.append((g.replace("_", " "), over, int(waiting["referrals"].sum())))
    axes[0].legend(fontsize=8.5)
    worst = max(summary, key=lambda s: s[1])
    title = (
        f"{worst[1]:,} of the {worst[2]:,} referrals waiting for {worst[0]} services at quarter end "
        f"had waited 18 weeks or more"
    )
    fig.suptitle(_wrap(title, 90), x=0.01, ha="left", fontweight="bold", fontsize=13)
    alt = "Bar charts of referrals by weeks waited per service group; dashed line at 18 weeks. " + "; ".join(
        f"{g}: {o} of {w} waiting 18+ weeks" for g, o, w in summary
    )
    for ax in axes[1:]:
        ax.set_xlabel("Weeks waited")
    result = finish(
        fig,
        axes[0],
        title=g_title(groups[0]),
        xlabel="Weeks waited",
        ylabel="Referrals (count)",
        source="Source: children's community health services waiting lists (NHS providers); dashed line: 18 weeks",
        alt_text=alt,
    )
    axes[0].set_title(g_title(groups[0]), fontsize=11, loc="left")
    return result


def g_title(group: str) -> str:
    """Panel title for a health service group."""
    return group.replace("_", " ").capitalize()


def _unit_label(unit: str) -> str:
    return {
        "%": "Per cent (%)",
        "count": "Count",
        "weeks": "Weeks",
        "£": "Pounds (£)",
        "per 100": "Per 100 pupils",
        "per 10,000": "Per 10,000 residents aged 0-25",
        "ratio": "Ratio",
    }.get(unit, unit)


def _wrap(text: str, width: int = 70) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def brag_chart(table: pd.DataFrame, index: str, title_period: str = "") -> ChartResult:
    """Stacked horizontal bars of PAP actions by BRAG (columns ``grey`` .. ``blue``) per row of
    ``index`` (a priority area or a quarter), BRAG colours with the BRAG word in the legend."""
    from sendlib.core.schema import BRAG, BRAG_ORDER

    t = table[table[index].astype(str) != "All"].set_index(index)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(t) + 2.2))
    left = np.zeros(len(t))
    labels = [str(i) if index != "priority_area" else f"Area {i}" for i in t.index]
    for b in BRAG_ORDER:
        vals = t[b].to_numpy(dtype=float)
        ax.barh(
            labels,
            vals,
            left=left,
            color=RAG_COLOURS[b],
            label=f"{b.capitalize()}: {BRAG[b].lower()}",
            edgecolor="white",
        )
        for y, (start, v) in enumerate(zip(left, vals)):
            if v > 0:
                ax.text(
                    start + v / 2,
                    y,
                    f"{int(v)}",
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color="white" if b in ("red", "green", "blue") else "#0B0C0C",
                )
        left += vals
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, fontsize=8)
    totals = t[list(BRAG_ORDER)].sum()
    done = (
        int(totals["green"] + totals["blue"]) if index == "priority_area" else int(t.iloc[-1][["green", "blue"]].sum())
    )
    whole = int(totals.sum()) if index == "priority_area" else int(t.iloc[-1][list(BRAG_ORDER)].sum())
    red = int(totals["red"]) if index == "priority_area" else int(t.iloc[-1]["red"])
    title = f"{done} of {whole} Priority Action Plan actions were complete or embedded{' at ' + title_period if title_period else ''}; {red} red"
    alt = "Stacked bar chart of Priority Action Plan actions by BRAG. " + "; ".join(
        f"{lab}: " + ", ".join(f"{b} {int(t.loc[i, b])}" for b in BRAG_ORDER) for lab, i in zip(labels, t.index)
    )
    return finish(
        fig,
        ax,
        title=_wrap(title, 80),
        xlabel="Actions (count)",
        ylabel="Priority area" if index == "priority_area" else "Quarter",
        source="Source: Priority Action Plan tracker (BRAG ratings, DfE definitions)",
        alt_text=alt,
    )


def kpi_trend_grid(
    history: pd.DataFrame,
    kpis: Sequence[str],
    targets: dict[str, KpiTarget] | None = None,
    ncols: int = 3,
    threshold: int = 5,
    min_denominator: int = 10,
) -> ChartResult:
    """Small multiples: one trend panel per KPI over the quarters in ``history``, each with its
    target line and amber band (``targets``, from the config) and England's value.

    One figure for many KPIs (faster to draw and easier to scan than one chart each). Values
    that would not be published (small numbers) are left out of the lines."""
    targets = targets or {}
    chosen = [k for k in kpis if k in set(history["kpi"])]
    nrows = max(1, math.ceil(len(chosen) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.1 * ncols, 2.9 * nrows + 0.8), squeeze=False)
    axes = axes.ravel()
    summaries, n_worse = [], 0
    for ax, k in zip(axes, chosen):
        rows = history[history["kpi"] == k].sort_values("period")
        unit = str(rows["unit"].iloc[0])
        is_money = k.startswith("K10_variance")
        base = rows["denominator"].where(~pd.Series(is_money, index=rows.index))
        small = rows["numerator"].between(1, threshold - 1) & (unit != "£") & (not is_money)
        if unit == "count":  # counts of people 1-4 are not shown; PAP actions are not people
            hide = small & (not k.startswith("K11"))
        else:
            hide = (base < min_denominator) | small
        values = rows["value"].where(~hide.fillna(False))
        periods = rows["period"].tolist()
        x = np.arange(len(periods))
        ax.plot(x, values, marker="o", color=PALETTE[0], linewidth=2, label="Authority")
        t = targets.get(k)
        if t is not None:
            ax.axhline(t.target, color=PALETTE[4], linestyle="--", linewidth=1.1, label="Target")
            if t.tolerance > 0:
                lo, hi = (t.target - t.tolerance, t.target) if t.better == "up" else (t.target, t.target + t.tolerance)
                ax.axhspan(lo, hi, color=RAG_COLOURS["amber"], alpha=0.15, label="Amber band")
        if rows["national_value"].notna().any():
            ax.step(
                x, rows["national_value"], where="mid", color=PALETTE[1], linestyle=":", linewidth=1.5, label="England"
            )
        ax.set_xticks(x, [p[2:] for p in periods], rotation=60, ha="right", fontsize=7.5)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylabel(_unit_label(unit), fontsize=8)
        if unit == "£":
            ax.yaxis.set_major_formatter(lambda v, _pos: f"£{v / 1e6:.1f}m" if abs(v) >= 1e5 else f"£{v:,.0f}")
        last = values.iloc[-1]
        rag = rows["rag"].iloc[-1] if isinstance(rows["rag"].iloc[-1], str) and not pd.isna(last) else None
        shown = "not published" if pd.isna(last) else format_value(last, unit)
        ax.set_title(
            _wrap(f"{SUBJECTS.get(k, rows['name'].iloc[0])}: {shown}" + (f" ({rag.upper()})" if rag else ""), 42),
            fontsize=9.5,
            loc="left",
        )
        first = values.dropna()
        if len(first) > 1 and not pd.isna(last):
            better = rows["better"].iloc[-1]
            if (better == "up" and last < first.iloc[0]) or (better == "down" and last > first.iloc[0]):
                n_worse += 1
        summaries.append(
            f"{SUBJECTS.get(k, k)}: "
            + ", ".join(
                f"{p} {format_value(v, unit) if not pd.isna(v) else 'not published'}" for p, v in zip(periods, values)
            )
        )
    for ax in axes[len(chosen) :]:
        ax.set_axis_off()
    handles, labels = [], []
    for ax in axes[: len(chosen)]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(
        handles, labels, loc="upper right", bbox_to_anchor=(0.99, 0.975), ncol=len(labels), fontsize=8.5, frameon=False
    )
    span = f"{history['period'].min()} to {history['period'].max()}"
    fig.suptitle(
        f"{n_worse} of {len(chosen)} headline KPIs are worse than eight quarters ago ({span})",
        x=0.01,
        ha="left",
        fontweight="bold",
        fontsize=13,
    )
    fig.text(
        0.01,
        0.0,
        SOURCE + ". Quarters are financial-year quarters (e.g. 25-26Q2 = Jul-Sep 2025).",
        ha="left",
        va="top",
        fontsize=8.5,
        color="#505A5F",
    )
    tight_layout(fig, rect=(0, 0.02, 1, 0.955))
    return ChartResult(figure=fig, alt_text="Trend charts, one per KPI, by quarter. " + "; ".join(summaries) + ".")
