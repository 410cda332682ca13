"""The house style: GOV.UK Analysis Function chart guidance in seaborn.

Titles state the finding; axes are labelled with units; a source line sits under every chart;
colours come from a colour-blind-safe categorical palette (the Analysis Function's
accessible palette), never red/green alone to carry meaning; every figure carries alt text.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import seaborn as sns

#: Analysis Function categorical palette (accessible, colour-blind safe order).
PALETTE = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
#: BRAG / RAG colours, always shown with a text label as well (never colour alone).
RAG_COLOURS = {
    "red": "#D4351C",
    "amber": "#F47738",
    "green": "#00703C",
    "blue": "#1D70B8",
    "grey": "#B1B4B6",
    None: "#B1B4B6",
}
#: Sequential palette for heat tables (light = low).
SEQUENTIAL = "Blues"
#: Diverging palette for gaps (shortfall vs spare).
DIVERGING = "PuOr"

DEFAULT_SOURCE = "Source: sendlib on the authority's case data"


@dataclass
class ChartResult:
    """A finished chart and the alt text that describes it for screen readers."""

    figure: plt.Figure
    alt_text: str

    def _repr_png_(self) -> tuple[bytes, dict[str, str]]:
        """Let a notebook show the chart directly, carrying its alt text as output metadata
        (the report's HTML template writes it into the image's ``alt`` attribute)."""
        return render_png(self.figure), {"alt": self.alt_text}


#: Resolution of the PNG a notebook shows (and the report embeds).
PNG_DPI = 110


#: PNG encoding: zlib level 3 instead of 6 encodes about a third faster for ~6% larger files
#: (the pixels are the same).
PNG_OPTIONS = {"compress_level": 3}


def render_png(fig: plt.Figure, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes, cropped to its tight bounding box (the source line sits below
    the axes, outside the figure), exactly as ``savefig(bbox_inches="tight")`` draws it.

    ``savefig(bbox_inches="tight")`` lays the whole figure out twice before drawing it: a draw
    with rendering switched off, then the tight bounding box. Charts here are laid out by
    ``tight_layout`` and hold nothing that only a draw updates, so the bounding box is computed
    directly (same renderer, same resolution) and passed in: one layout pass fewer, same pixels.
    Figures with an active layout engine, or not on an Agg canvas, take the ordinary path.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    buf = io.BytesIO()
    _unpin_titles(fig)
    engine = fig.get_layout_engine()
    if not isinstance(fig.canvas, FigureCanvasAgg) or not (
        engine is None or isinstance(engine, PlaceHolderLayoutEngine)
    ):
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pil_kwargs=PNG_OPTIONS)
        return buf.getvalue()
    original_dpi = fig.dpi
    try:
        fig.dpi = dpi
        bbox = fig.get_tightbbox(fig.canvas.get_renderer())
    finally:
        fig.dpi = original_dpi
    pad = matplotlib.rcParams["savefig.pad_inches"]
    # no layout engine while saving: savefig would otherwise do the draw this avoids
    fig.set_layout_engine(None)
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=bbox.padded(pad, pad), pil_kwargs=PNG_OPTIONS)
    finally:
        fig.set_layout_engine(engine)
    return buf.getvalue()


def apply_house_style() -> None:
    """Set seaborn/matplotlib defaults for every chart in the suite."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.figsize": (8.5, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "font.family": "DejaVu Sans",
            "legend.frameon": False,
            "grid.color": "#E5E5E5",
        },
    )


def finish(
    fig: plt.Figure,
    ax: plt.Axes,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    source: str = DEFAULT_SOURCE,
    alt_text: str | None = None,
) -> ChartResult:
    """Apply the title (the finding), axis labels (with units) and source line; return the chart.

    Raises ValueError when a title or axis label is empty: every chart states its finding and units.
    """
    if not title.strip() or not xlabel.strip() or not ylabel.strip():
        raise ValueError("every chart needs a title that states the finding and labelled axes")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.text(0.01, -0.02, source, ha="left", va="top", fontsize=8.5, color="#505A5F")
    tight_layout(fig)
    return ChartResult(figure=fig, alt_text=alt_text or f"{title}. {ylabel} by {xlabel}.")


def tight_layout(fig: plt.Figure, **kwargs) -> None:
    """``fig.tight_layout(**kwargs)``, without matplotlib re-placing axes titles on every pass.

    Matplotlib places each axes title clear of anything above the axes (tick labels on top, the
    y axis offset text such as ``1e6``) and does so, measuring both axes' tick labels, every time
    the figure is laid out or drawn: twice in ``tight_layout``, again for the tight bounding box
    and again to draw. Where there is nothing above the axes the title stays where it is set
    (``y=1``), so such titles are pinned there; checked before the layout and again after it
    (the y ticks, so any offset text, depend on the axes size). An axes that fails either check
    keeps matplotlib's automatic placement. Same layout, same pixels, less work.
    """
    pinned = [ax for ax in fig.axes if getattr(ax, "_autotitlepos", None) is True and _title_clear(ax)]
    for ax in pinned:
        ax._autotitlepos = False
        ax._sendlib_title_pinned = True
    # With ``rect`` matplotlib measures every axes twice, at the same positions (nothing moves
    # between its two passes): measure once.
    for ax in fig.axes:
        ax.get_tightbbox = _measured_once(ax.get_tightbbox)
    try:
        fig.tight_layout(**kwargs)
    finally:
        for ax in fig.axes:
            vars(ax).pop("get_tightbbox", None)
    _unpin_titles(fig)


def _measured_once(get_tightbbox):
    """``get_tightbbox`` remembering its layout-only answer per renderer (for one layout)."""
    memo: dict = {}

    def measured(renderer=None, *args, **kwargs):
        if args or set(kwargs) != {"for_layout_only"} or not kwargs["for_layout_only"] or renderer is None:
            return get_tightbbox(renderer, *args, **kwargs)
        if id(renderer) not in memo:
            memo[id(renderer)] = (renderer, get_tightbbox(renderer, for_layout_only=True))
        return memo[id(renderer)][1]

    return measured


def _unpin_titles(fig: plt.Figure) -> None:
    """Give automatic title placement back to every pinned axes that now has something above it
    (checked again when the chart is rendered: a chart may change after its layout)."""
    for ax in fig.axes:
        if getattr(ax, "_sendlib_title_pinned", False) and ax._autotitlepos is False and not _title_clear(ax):
            ax._autotitlepos = True
            ax._sendlib_title_pinned = False


def _title_clear(ax: plt.Axes) -> bool:
    """True when matplotlib's automatic title placement would leave the titles of ``ax`` at the
    top of the axes: no twin or child axes, no aligned titles, nothing drawn above the x axis
    (ticks, tick labels, label) and no y axis offset text."""
    try:
        fig = ax.get_figure(root=False)
        if ax.child_axes or len(ax._twinned_axes.get_siblings(ax)) > 1:
            return False
        if len(fig._align_label_groups["title"].get_siblings(ax)) > 1:
            return False
    except (AttributeError, KeyError):  # not the matplotlib this was written against
        return False
    titles = (ax.title, ax._left_title, ax._right_title)
    if not any(t.get_text() for t in titles):
        return True  # nothing to place
    if any(t.get_position()[1] != 1.0 for t in titles):
        return False  # moved by hand: automatic placement would put it back first
    top = ax.get_window_extent().ymax
    renderer = fig.canvas.get_renderer()
    if any(t.get_text() and t.get_window_extent(renderer).ymin < top for t in titles):
        return False  # the title itself reaches into the axes (no room below its baseline)
    xaxis = ax.xaxis
    if xaxis.get_label_position() != "bottom":
        return False
    for tick in xaxis.get_major_ticks()[:1] + xaxis.get_minor_ticks()[:1]:
        if tick.tick2line.get_visible() or tick.label2.get_visible():
            return False
    yaxis = ax.yaxis
    if not yaxis.get_visible() or not yaxis.offsetText.get_visible():
        return True
    formatter = yaxis.get_major_formatter()
    formatter.set_locs(yaxis.get_majorticklocs())  # as drawing the axis does
    return not formatter.get_offset()
