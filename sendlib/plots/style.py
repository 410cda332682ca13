"""The house style: GOV.UK Analysis Function chart guidance in seaborn.

Titles state the finding; axes are labelled with units; a source line sits under every chart;
colours come from a colour-blind-safe categorical palette (the Analysis Function's
accessible palette), never red/green alone to carry meaning; every figure carries alt text.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

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

    figure: "plt.Figure"
    alt_text: str

    def _repr_png_(self) -> tuple[bytes, dict[str, str]]:
        """Let a notebook show the chart directly, carrying its alt text as output metadata
        (the report's HTML template writes it into the image's ``alt`` attribute)."""
        import io

        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        return buf.getvalue(), {"alt": self.alt_text}


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


def finish(fig: "plt.Figure", ax: "plt.Axes", *, title: str, xlabel: str, ylabel: str,
           source: str = DEFAULT_SOURCE, alt_text: str | None = None) -> ChartResult:
    """Apply the title (the finding), axis labels (with units) and source line; return the chart.

    Raises ValueError when a title or axis label is empty: every chart states its finding and units.
    """
    if not title.strip() or not xlabel.strip() or not ylabel.strip():
        raise ValueError("every chart needs a title that states the finding and labelled axes")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.text(0.01, -0.02, source, ha="left", va="top", fontsize=8.5, color="#505A5F")
    fig.tight_layout()
    return ChartResult(figure=fig, alt_text=alt_text or f"{title}. {ylabel} by {xlabel}.")
