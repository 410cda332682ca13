"""Placement sufficiency charts: demand against capacity, the gap heat table, the pipeline
timeline and the overflow to independent special schools.

Each function draws the frame it is given (from :mod:`sendlib.models.sufficiency`) and returns a
:class:`~sendlib.publish.plots.style.ChartResult`; titles state the finding, computed only from the
columns drawn.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.artist as martist
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import matplotlib.text as mtext
import numpy as np
import pandas as pd
import seaborn as sns

from sendlib.core.schema import PHASE
from sendlib.publish.plots.style import DIVERGING, PALETTE, ChartResult, finish, tight_layout

SOURCE = "Source: sendlib sufficiency on the authority's capacity table and demand forecast"

_STATUS_STYLE = {
    "open": (PALETTE[0], "o", "Open"),
    "pipeline": (PALETTE[1], "s", "Approved (pipeline)"),
    "proposed": (PALETTE[3], "D", "Proposed"),
}


def _ordered(values: pd.Series) -> list:
    """Distinct values, phases in school order, anything else after them in order seen."""
    seen = list(dict.fromkeys(values))
    order = {p: i for i, p in enumerate(PHASE)}
    return sorted(seen, key=lambda v: (order.get(v, len(order)), seen.index(v)))


def _label(code: str) -> str:
    return str(code).replace("_", " ").replace("post16", "post-16").capitalize()


def demand_vs_capacity(table: pd.DataFrame, interval: int = 80, source: str = SOURCE) -> ChartResult:
    """Specialist demand (median and interval band) against places in force, one panel per phase.

    ``table`` is :meth:`sendlib.models.sufficiency.Sufficiency.table` with ``by=["phase"]``.
    """
    phases = _ordered(table["phase"])
    fig, axes = plt.subplots(1, len(phases), figsize=(4.2 * len(phases) + 0.8, 4.6), sharey=False, squeeze=False)
    lo, hi = f"demand_lower_{interval}", f"demand_upper_{interval}"
    short = []
    for ax, phase in zip(axes[0], phases):
        t = table[table["phase"] == phase].sort_values("year")
        ax.fill_between(
            t["year"], t[lo], t[hi], color=PALETTE[0], alpha=0.18, linewidth=0, label=f"Demand, {interval}% interval"
        )
        ax.plot(t["year"], t["demand_median"], color=PALETTE[0], marker="o", label="Demand (median)")
        ax.step(
            t["year"],
            t["capacity_places"],
            where="mid",
            color=PALETTE[2],
            linestyle="--",
            linewidth=2,
            label="Places in force",
        )
        ax.set_title(_label(phase), fontsize=11, loc="left")
        ax.set_xticks(list(t["year"]))
        ax.set_xticklabels([str(y) for y in t["year"]], rotation=0)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("")
        if (t["gap_median"] > 0).any():
            short.append(f"{_label(phase).lower()} from {int(t.loc[t['gap_median'] > 0, 'year'].min())}")
    for ax in axes[0][1:]:
        ax.set_ylabel("")
    axes[0][0].legend(loc="lower left", fontsize=8.5)
    firsts = {x.rsplit(" from ", 1)[1] for x in short}
    if short and len(short) == len(phases) and len(firsts) == 1:
        title = f"Specialist demand exceeds places in every phase from {firsts.pop()}"
    elif short:
        title = "Specialist demand exceeds places in " + ", ".join(short)
    else:
        title = "Specialist places cover median demand in every phase over the horizon"
    main = axes[0][0]
    fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold")
    for ax in axes[0]:
        ax.set_xlabel("January census year")
    main.set_ylabel("Children in specialist places (count)")
    fig.text(0.01, -0.02, source, ha="left", va="top", fontsize=8.5, color="#505A5F")
    tight_layout(fig)
    alt = (
        f"{title}. Line charts, one per phase, of median projected children in specialist places "
        f"with a shaded {interval}% interval, against a dashed line of places in force, by January census year."
    )
    return ChartResult(figure=fig, alt_text=alt)


def _recentred_cmap(name: str, vmin: float, vmax: float, center: float) -> mcolors.Colormap:
    """The colormap seaborn's ``heatmap(cmap=name, center=center)`` draws with: ``name`` re-sampled
    so that ``center`` sits at its middle (seaborn/matrix.py ``_determine_cmap_params``)."""
    cmap = mpl.colormaps[name]
    bad = cmap(np.ma.masked_invalid([np.nan]))[0]
    under, over = cmap(-np.inf), cmap(np.inf)
    under_set = under != cmap(0)
    over_set = over != cmap(cmap.N - 1)
    vrange = max(vmax - center, center - vmin)
    cmin, cmax = mcolors.Normalize(center - vrange, center + vrange)([vmin, vmax])
    out = mcolors.ListedColormap(cmap(np.linspace(cmin, cmax, 256)))
    out.set_bad(bad)
    if under_set:
        out.set_under(under)
    if over_set:
        out.set_over(over)
    return out


def _auto_ticks(ax: plt.Axes, labels: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Tick positions and labels for ``labels`` on one axis of a heat table: every label, or
    every k-th when they would not fit (seaborn's ``xticklabels="auto"``)."""
    bbox = ax.get_window_extent().transformed(ax.get_figure().dpi_scale_trans.inverted())
    size = [bbox.width, bbox.height][axis]
    (tick,) = [ax.xaxis, ax.yaxis][axis].set_ticks([0])
    max_ticks = int(size // (tick.label1.get_size() / 72))
    if max_ticks < 1:
        return np.array([]), np.array([])
    every = len(labels) // max_ticks + 1
    return np.arange(0, len(labels), every) + 0.5, labels[0 : len(labels) : every]


def _heat_panel(
    ax: plt.Axes,
    data: pd.DataFrame,
    *,
    cmap: str,
    center: float,
    vmin: float,
    vmax: float,
    fmt: str,
    fontsize: float,
    linewidths: float = 0.5,
    linecolor: str = "white",
) -> None:
    """A heat table of ``data`` with the number in every cell: what ``sns.heatmap(data, cmap=cmap,
    center=center, vmin=vmin, vmax=vmax, annot=True, fmt=fmt, linewidths=linewidths,
    linecolor=linecolor, cbar=False, annot_kws={"fontsize": fontsize})`` draws, step for step,
    without the full figure draw seaborn makes on every call (to test tick labels for overlap;
    here tested from the labels' extents directly). Several panels with hundreds of numbers made
    that draw the slowest part of the report's charts.

    Numbers are dark on light cells and white on dark ones (seaborn's rule: relative luminance
    of the cell colour above 0.408). Missing cells are left blank.
    """
    values = data.to_numpy(dtype=float)
    plot_data = np.ma.masked_where(np.asarray(pd.isnull(data)), values)
    sns.despine(ax=ax, left=True, bottom=True)
    mesh = ax.pcolormesh(
        plot_data,
        cmap=_recentred_cmap(cmap, vmin, vmax, center),
        linewidths=linewidths,
        edgecolor=linecolor,
        vmin=vmin,
        vmax=vmax,
    )
    ax.set(xlim=(0, values.shape[1]), ylim=(0, values.shape[0]))
    ax.invert_yaxis()
    xticks, xticklabels = _auto_ticks(ax, data.columns.to_numpy(), 0)
    yticks, yticklabels = _auto_ticks(ax, data.index.to_numpy(), 1)
    ax.set(xticks=xticks, yticks=yticks)
    xtl = ax.set_xticklabels(xticklabels)
    ytl = ax.set_yticklabels(yticklabels, rotation="vertical")
    plt.setp(ytl, va="center")
    if sns.utils.axis_ticklabels_overlap(xtl):
        plt.setp(xtl, rotation="vertical")
    if sns.utils.axis_ticklabels_overlap(ytl):
        plt.setp(ytl, rotation="horizontal")
    ax.set(
        xlabel=data.columns.name if data.columns.name is not None else "",
        ylabel=data.index.name if data.index.name is not None else "",
    )
    mesh.update_scalarmappable()
    dark = sns.utils.relative_luminance(mesh.get_facecolors()) > 0.408
    dark = np.atleast_1d(dark).reshape(values.shape)
    height, width = values.shape
    cells = []
    for i in range(height):
        for j in range(width):
            if plot_data.mask is not np.ma.nomask and plot_data.mask[i, j]:
                continue
            cells.append((j + 0.5, i + 0.5, ("{:" + fmt + "}").format(values[i, j]), ".15" if dark[i, j] else "w"))
    ax.add_artist(_CellNumbers(ax, cells, fontsize))


class _CellNumbers(martist.Artist):
    """The numbers in a heat table's cells, as one artist drawing them with one reused text.

    Each number is drawn exactly as ``ax.text(x, y, s, color=colour, ha="center", va="center",
    fontsize=fontsize)`` draws it (same text properties, same ``Text.draw``, in the same order),
    without making and keeping hundreds of text artists. Inside their cells, the numbers are
    never part of the layout: ``tight_layout`` and the tight bounding box do not measure them.
    """

    def __init__(self, ax: plt.Axes, cells: list[tuple[float, float, str, str]], fontsize: float) -> None:
        super().__init__()
        #: ``(x, y, text, colour)`` per cell, in data coordinates, in drawing order
        self.cells = list(cells)
        # what Axes.text makes of the keywords above (Axes.text, Axes._add_text)
        text = mtext.Text(
            0,
            0,
            "",
            verticalalignment="center",
            horizontalalignment="center",
            transform=ax.transData,
            clip_on=False,
            fontsize=fontsize,
        )
        text.set_clip_path(ax.patch)
        text.set_figure(ax.figure)
        text.axes = ax
        text.stale_callback = None  # redrawn once per cell: not a change of the figure
        self._text = text
        self.set_zorder(text.get_zorder())
        self.set_in_layout(False)

    @martist.allow_rasterization
    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        text = self._text
        for x, y, s, colour in self.cells:
            text.set_position((x, y))
            text.set_text(s)
            text.set_color(colour)
            text.draw(renderer)
        self.stale = False


def gap_heat_table(
    table: pd.DataFrame,
    rows: tuple[str, ...] = ("designation", "locality"),
    facet: str | None = "phase",
    source: str = SOURCE,
) -> ChartResult:
    """Heat table of the median gap (demand - places) by ``rows`` x census year, one panel per
    ``facet`` value (phase).

    Shortfalls are shown in one hue, spare places in the other, with the number in every cell (so
    colour never carries the meaning alone). ``table`` is ``Sufficiency.table(by=[facet, *rows])``.
    """
    rows = tuple(rows)
    panels = _ordered(table[facet]) if facet else [None]
    wides = []
    for value in panels:
        t = table if value is None else table[table[facet] == value]
        w = t.pivot_table(index=list(rows), columns="year", values="gap_median", aggfunc="sum")
        w.index = [" / ".join(map(str, ix)) if isinstance(ix, tuple) else str(ix) for ix in w.index]
        wides.append((value, w))
    heights = [max(len(w), 1) for _, w in wides]
    fig, axes = plt.subplots(
        len(wides),
        1,
        figsize=(8.5, 0.24 * sum(heights) + 0.95 * len(wides) + 0.8),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    vals = np.concatenate([w.to_numpy().ravel() for _, w in wides]) if wides else np.array([1.0])
    lim = float(np.nanmax(np.abs(vals))) if vals.size else 1.0
    lim = lim or 1.0
    last = table["year"].max()
    n_short = int(sum((w[last] > 0).sum() for _, w in wides if last in w))
    n_rows = int(sum(len(w) for _, w in wides))
    for n, (value, w) in enumerate(wides):
        ax = axes[n][0]
        _heat_panel(ax, w, cmap=DIVERGING + "_r", center=0.0, vmin=-lim, vmax=lim, fmt=".0f", fontsize=8)
        ax.set_title(_label(value) if value is not None else "", fontsize=11, loc="left")
        ax.set_xlabel("January census year" if n == len(wides) - 1 else "")
        ax.set_ylabel(" / ".join(r.capitalize() for r in rows))
        ax.tick_params(axis="y", labelsize=8.5, rotation=0)
    title = (
        f"{n_short} of {n_rows} groups are short of places by {last}"
        if n_short
        else f"No group is short of places by {last}"
    )
    fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold")
    fig.text(
        0.01,
        0.0,
        "Cells: median children above places (negative = spare places). " + source,
        ha="left",
        va="top",
        fontsize=8.5,
        color="#505A5F",
    )
    tight_layout(fig, rect=(0, 0, 1, 0.97))
    alt = (
        f"{title}. Heat tables, one per {facet or 'table'}, of the median gap between projected specialist "
        f"demand and places in force, rows {', '.join(rows)}, columns census years; each cell shows the number."
    )
    return ChartResult(figure=fig, alt_text=alt)


def pipeline_timeline(timeline: pd.DataFrame, source: str = SOURCE) -> ChartResult:
    """The pipeline of specialist places: one row per setting and phase, placed at its open date,
    marked by status, labelled with name and places; what-if changes and proposed places that the
    scenario does not count are said so in the label.

    ``timeline`` is :func:`sendlib.models.sufficiency.pipeline_timeline`.
    """
    t = timeline.copy()
    opening = t.loc[t["close_date"].isna(), "open_date"] if "close_date" in t else t["open_date"]
    start = min(
        [d for d in [opening.min(), t["close_date"].min() if "close_date" in t else pd.NaT] if pd.notna(d)],
        default=pd.Timestamp("2000-01-01"),
    )
    # a setting that opened long ago and closes is drawn at its closure
    t["event_date"] = t["open_date"].where(t["open_date"] >= start, t.get("close_date"))
    t["closing_only"] = t["open_date"] < start
    t = t.sort_values(["event_date", "name", "phase"]).reset_index(drop=True)
    height = max(3.0, 0.42 * len(t) + 1.5)
    fig, ax = plt.subplots(figsize=(9.5, height))
    for i, r in t.iterrows():
        colour, marker, _ = _STATUS_STYLE.get(str(r["status"]), (PALETTE[4], "o", str(r["status"])))
        if not r["closing_only"]:
            ax.scatter(
                r["open_date"],
                i,
                s=40 + 2.2 * float(r["places"]),
                color=colour,
                marker=marker,
                zorder=3,
                edgecolor="white",
            )
        if pd.notna(r.get("close_date")):
            ax.plot([max(r["open_date"], start), r["close_date"]], [i, i], color=colour, linewidth=1.5)
            ax.scatter(r["close_date"], i, marker="x", s=60, color=PALETTE[4], zorder=3)
        note = []
        if r["closing_only"] or pd.notna(r.get("close_date")):
            note.append(f"closes {r['close_date']:%b %Y}")
        if bool(r.get("changed", False)):
            note.append("what-if")
        if not bool(r.get("counted", True)):
            note.append("not counted")
        extra = f" [{', '.join(note)}]" if note else ""
        ax.annotate(
            f"  {r['name']} ({_label(r['phase']).lower()}, {int(r['places'])} places){extra}",
            (r["event_date"], i),
            va="center",
            fontsize=8.5,
        )
    ax.set_yticks([])
    ax.set_ylim(len(t) - 0.5, -0.8)
    if len(t):
        lo, hi = t["event_date"].min(), t["event_date"].max()
        ax.set_xlim(lo - pd.Timedelta(days=120), hi + pd.Timedelta(days=1100))
    handles = [plt.Line2D([], [], linestyle="", marker=m, color=c, label=lab) for c, m, lab in _STATUS_STYLE.values()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8.5)
    new = t[~t["closing_only"]]
    new = new[new["counted"]] if "counted" in new else new
    title = (
        f"{int(new['places'].sum())} new specialist places opened or due from {start:%B %Y}"
        if len(t)
        else "No specialist places in the pipeline"
    )
    return finish(
        fig,
        ax,
        title=title,
        xlabel="Date the places open",
        ylabel="Setting and phase",
        source=source,
        alt_text=(
            f"{title}. Timeline with one marker per setting and phase at its opening date, "
            "sized by places and shaped by status (open, approved pipeline, proposed): "
            + "; ".join(
                f"{r['name']} {r['phase']} {int(r['places'])} places {r['open_date']:%Y-%m-%d} {r['status']}"
                for _, r in t.iterrows()
            )
        ),
    )


def overflow_bars(
    summary: pd.DataFrame, interval: int = 80, by: str | None = "phase", source: str = SOURCE
) -> ChartResult:
    """Children above specialist places (sent to independent special schools) per census year,
    stacked by ``by``, with the total's interval as error bars when ``summary`` has one row per year.

    ``summary`` is :func:`sendlib.models.sufficiency.overflow_summary`.
    """
    fig, ax = plt.subplots()
    if by and by in summary:
        wide = summary.pivot_table(index="year", columns=by, values="overflow_median", aggfunc="sum").fillna(0)
        bottom = np.zeros(len(wide))
        for n, col in enumerate(wide.columns):
            ax.bar(wide.index.astype(str), wide[col], bottom=bottom, color=PALETTE[n % len(PALETTE)], label=_label(col))
            bottom += wide[col].to_numpy()
        total = pd.Series(bottom, index=wide.index)
        ax.legend(fontsize=8.5)
    else:
        s = summary.sort_values("year")
        total = s.set_index("year")["overflow_median"]
        err = np.vstack(
            [
                s["overflow_median"] - s[f"overflow_lower_{interval}"],
                s[f"overflow_upper_{interval}"] - s["overflow_median"],
            ]
        )
        ax.bar(
            s["year"].astype(str),
            s["overflow_median"],
            color=PALETTE[0],
            yerr=err,
            capsize=4,
            ecolor=PALETTE[4],
            label=f"Median, {interval}% interval",
        )
        ax.legend(fontsize=8.5)
    last = total.index.max() if len(total) else None
    title = (
        f"About {total.iloc[-1]:.0f} children above specialist places at the January {last} census"
        if len(total) and total.iloc[-1] >= 0.5
        else "Specialist places absorb projected demand (median)"
    )
    return finish(
        fig,
        ax,
        title=title,
        xlabel="January census year",
        ylabel="Children placed independently (count)",
        source=source,
        alt_text=(
            f"{title}. Bar chart of the median number of children above the places in force, "
            "who would be placed in independent or non-maintained special schools, by census year."
        ),
    )
