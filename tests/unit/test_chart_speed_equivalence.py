"""The faster chart code draws exactly what matplotlib draws the ordinary way: the same PNG bytes.

``render_png`` and ``tight_layout`` (sendlib/plots/style.py) skip layout passes that change
nothing (one tight bounding box, titles pinned where matplotlib would put them); the gap heat
table draws its cell numbers with one artist. Each test builds the same figure twice, once through the fast path and once
the plain matplotlib way (``fig.tight_layout()``, ``savefig(bbox_inches="tight")``,
``ax.text`` per cell), and compares the PNG bytes.
"""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sendlib.publish.plots import style
from sendlib.publish.plots.style import PNG_DPI, PNG_OPTIONS, render_png


@pytest.fixture(autouse=True)
def _house_style():
    with matplotlib.rc_context():
        style.apply_house_style()
        yield
    plt.close("all")


def _plain_png(fig: plt.Figure) -> bytes:
    """The figure as matplotlib saves it, on its own Agg canvas, with nothing of sendlib's."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight", pil_kwargs=PNG_OPTIONS)
    return buf.getvalue()


def _text_figure() -> plt.Figure:
    """Text of every kind the charts use, and some they do not: rotations, sizes, weights,
    several lines, mathtext, unantialiased text, glyphs outside ASCII, an offset text, a
    formatter, twin, aligned and inset axes, a legend and an annotation."""
    fig, axes = plt.subplots(2, 3, figsize=(10, 6))
    x = np.arange(9)
    for i, ax in enumerate(axes.ravel()):
        ax.plot(x, (x + 1) * (i + 1) * (1e5 if i == 4 else 1), marker="o", label=f"series {i}")
        ax.set_xticks(
            x,
            [f"2{k}-2{k + 1}Q{k % 4 + 1}" for k in range(9)],
            rotation=(0, 30, 45, 60, 90, 0)[i],
            ha="right" if i else "center",
            fontsize=7.5 + i / 2,
        )
        ax.set_title(f"Panel {i}: £{i * 1.5:.1f}m – 95% ↑ (RED)", fontsize=9 + i / 2, loc="left")
        ax.set_ylabel("Per cent (%)" if i % 2 else "Pounds (£)", fontsize=8)
    axes[0, 0].text(1, 5, "bold text\nwith a second line", fontweight="bold", fontsize=11)
    axes[0, 1].text(1, 10, r"$\alpha^2 + \beta_i$ in mathtext", fontsize=10)
    axes[0, 2].text(1, 15, "no antialiasing", antialiased=False, fontsize=9, rotation=20)
    axes[1, 0].annotate("annotated", (5, 20), xytext=(1, 30), arrowprops={"arrowstyle": "->"})
    axes[1, 0].yaxis.set_major_formatter(lambda v, _pos: f"£{v:,.0f}")
    twin = axes[1, 1].twinx()
    twin.plot(x, x[::-1], color="C3")
    twin.set_ylabel("Twin axis")
    inset = axes[1, 2].inset_axes([0.55, 0.55, 0.4, 0.4])
    inset.plot(x, x**2)
    inset.set_title("inset", fontsize=7)
    axes[1, 2].legend(loc="best", fontsize=8.5)
    fig.align_ylabels(axes[:, 0])
    fig.suptitle("A finding that states itself, in bold", x=0.01, ha="left", fontweight="bold", fontsize=13)
    fig.text(0.01, -0.02, "Source: a test of the house style", ha="left", va="top", fontsize=8.5, color="#505A5F")
    return fig


def test_render_png_and_tight_layout_are_matplotlibs_bytes():
    fast = _text_figure()
    style.tight_layout(fast)
    plain = _text_figure()
    plain.tight_layout()
    for a, b in zip(fast.axes, plain.axes):
        assert a.get_position().bounds == b.get_position().bounds
    expected = _plain_png(plain)
    assert render_png(fast) == expected
    assert render_png(fast) == expected  # again: nothing left changed by the first time
    assert type(fast.canvas) is type(plain.canvas)


def test_layout_with_rect_is_matplotlibs_bytes():
    fast = _text_figure()
    style.tight_layout(fast, rect=(0, 0.02, 1, 0.955))
    plain = _text_figure()
    plain.tight_layout(rect=(0, 0.02, 1, 0.955))
    assert render_png(fast) == _plain_png(plain)


@pytest.mark.parametrize("angle", [0, 90, 33])
def test_glyphs_remembered_at_every_fraction_of_a_pixel(angle):
    """The same short strings at many sub-pixel positions and rotations."""

    def figure():
        fig = plt.figure(figsize=(6, 4))
        for k in range(60):
            fig.text(
                0.02 + k * 0.0157,
                0.1 + (k % 17) * 0.047,
                ("2027", "-3", "ASD / city")[k % 3],
                rotation=angle,
                fontsize=(8, 8.5, 13)[k % 3],
                color=("#0B0C0C", "w", "#12436D")[k % 3],
            )
        return fig

    assert render_png(figure()) == _plain_png(figure())


def test_text_remembered_per_font_settings():
    """A change of font rcParams is drawn as matplotlib draws it (nothing measured with one font
    is used for another)."""

    def figure():
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_title("Same words, another font", fontfamily="sans-serif")
        ax.text(0.1, 0.5, "1,234 children", fontfamily="sans-serif")
        return fig

    pngs = []
    for fonts in (["DejaVu Sans"], ["DejaVu Serif"]):
        with matplotlib.rc_context({"font.sans-serif": fonts}):
            fast, plain = figure(), figure()
            fast_png, plain_png = render_png(fast), _plain_png(plain)
            assert fast_png == plain_png
            pngs.append(fast_png)
    assert pngs[0] != pngs[1]


def test_heat_table_numbers_drawn_as_ax_text_draws_them():
    from sendlib.publish.plots import sufficiency as charts

    rng = np.random.default_rng(5)
    rows = []
    for phase in ("primary", "secondary"):
        for des in ("ASD", "SEMH", "mixed"):
            for loc in ("city", "north", "vale"):
                for year in range(2027, 2032):
                    if rng.random() > 0.08:  # a missing row is a blank cell
                        rows.append(
                            {
                                "phase": phase,
                                "designation": des,
                                "locality": loc,
                                "year": year,
                                "gap_median": float(rng.normal(0, 40)),
                            }
                        )
    table = pd.DataFrame(rows)
    fast = charts.gap_heat_table(table).figure
    plain = charts.gap_heat_table(table).figure
    n_numbers = 0
    for ax in plain.axes:
        numbers = [a for a in ax.get_children() if isinstance(a, charts._CellNumbers)]
        assert len(numbers) == 1
        numbers[0].remove()
        for x, y, s, colour in numbers[0].cells:  # what the chart drew before: one text per cell
            ax.text(x, y, s, color=colour, ha="center", va="center", fontsize=8).set_in_layout(False)
            n_numbers += 1
    assert 0 < n_numbers == len(table)
    assert render_png(fast) == _plain_png(plain)


def test_report_charts_are_matplotlibs_bytes(default_config, monkeypatch):
    """A few of the report's own charts, laid out and drawn the fast way and the plain way."""
    from sendlib.core.quarters import last_n_quarters
    from sendlib.data.loaders import load_tables, resolve_quarter
    from sendlib.models import kpi, pap
    from sendlib.publish.plots import kpi as kpi_plots

    cfg = default_config
    tables = load_tables(cfg, None)
    q = resolve_quarter("latest", cfg, tables)
    status = pap.action_status(tables["pap_actions"], q)
    builders = [
        lambda: kpi_plots.brag_chart(pap.brag_by_area(status), "priority_area", str(q)),
        lambda: kpi_plots.brag_chart(pap.brag_history(tables["pap_actions"], last_n_quarters(q, 8)), "quarter", str(q)),
        lambda: kpi_plots.waiting_time_chart(kpi.wait_distribution(tables, q)),
        lambda: kpi_plots.kpi_tiles(kpi.compute_kpis(tables, q, cfg), kpi.HEADLINE_KPIS[:8]),
    ]

    def plain_layout(fig, **kwargs):
        fig.tight_layout(**kwargs)

    for build in builders:
        fast = build().figure
        with monkeypatch.context() as m:
            m.setattr(style, "tight_layout", plain_layout)
            m.setattr(kpi_plots, "tight_layout", plain_layout)
            plain = build().figure
        assert render_png(fast) == _plain_png(plain)


def test_constrained_layout_figure_takes_the_ordinary_path_same_bytes():
    def figure():
        fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
        for i, ax in enumerate(axes):
            ax.plot(np.arange(12), np.arange(12) ** (i + 1) * 1e4)
            ax.set_title(f"Constrained {i}", loc="left")
            ax.set_ylabel("Count")
        fig.suptitle("Laid out while drawn")
        return fig

    assert render_png(figure()) == _plain_png(figure())
