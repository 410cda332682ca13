"""Every table a board-pack notebook shows goes through ``ctx.show`` (a board table), read from the
committed notebooks' code: no frame shown as a cell's last expression, no ``display`` of a frame,
no hand-made HTML or Markdown tables. The exported pages are checked in tests/e2e/test_board_pack.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sendlib.report.export import discover_notebooks
from sendlib.report.notebook_tools import cell_source, code_cells, read_notebook

REPO = Path(__file__).resolve().parents[2]
PACK = discover_notebooks(REPO / "notebooks") if (REPO / "notebooks").is_dir() else []

#: calls whose result is not a table (text, charts, the board table itself)
NOT_TABLES = {"show", "Markdown", "print", "display", "raise_for_failures"}
#: chart modules' calls return a ChartResult, not a frame
CHART_PREFIXES = ("kpi_plots", "charts", "finance_plots", "bplots")


def _callee(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _owner(node: ast.Call) -> str:
    f = node.func
    return f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""


def shown_frames(source: str) -> list[str]:
    """What a cell would show as a raw frame: its last expression when that is a frame (a name, a
    subscript, ``ctx.publish(...)``, ``pd.DataFrame(...)``, any call not known to be text or a chart),
    and ``display(...)`` of anything but ``ctx.show(...)`` / ``Markdown(...)``."""
    tree = ast.parse(source)
    found = []
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        v = last.value
        if isinstance(v, (ast.Name, ast.Subscript, ast.Attribute)):
            found.append(ast.unparse(v))
        elif isinstance(v, ast.Call) and _callee(v) not in NOT_TABLES and _owner(v) not in CHART_PREFIXES:
            found.append(ast.unparse(v)[:80])
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) == "display" and node.args:
            arg = node.args[0]
            if not (isinstance(arg, ast.Call) and _callee(arg) in {"show", "Markdown"}):
                found.append(ast.unparse(node)[:80])
        if isinstance(node, ast.Attribute) and node.attr in {"style", "to_html", "to_markdown"}:
            found.append(ast.unparse(node)[:80])
    return found


@pytest.mark.skipif(not PACK, reason="notebooks/ has no notebooks yet")
@pytest.mark.parametrize("path", PACK, ids=[p.name for p in PACK])
def test_every_table_on_a_page_is_a_board_table(path):
    raw = [f for cell in code_cells(read_notebook(path)) for f in shown_frames(cell_source(cell))]
    assert raw == [], f"{path.name} shows these without ctx.show(...): {raw}"


def test_the_check_finds_raw_frames():
    assert shown_frames('x = 1\nctx.publish(df, "a")') == ["ctx.publish(df, 'a')"]
    assert shown_frames("published[published['kpi'] == 'K1']") == ["published[published['kpi'] == 'K1']"]
    assert shown_frames('display(ctx.publish(df, "a"))\nx = 2') == ["display(ctx.publish(df, 'a'))"]
    assert shown_frames("pd.DataFrame(sc.assumptions())") == ["pd.DataFrame(sc.assumptions())"]
    assert shown_frames('ctx.show(ctx.publish(df, "a"))') == []
    assert shown_frames("display(ctx.show(df))\ncharts.fan_chart(a, b)") == []
