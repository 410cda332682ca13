"""The high needs / DSG notebook runs and writes the finance workbook beside the tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sendlib.publish.finance_workbook import read_comparison

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "06_high_needs_dsg.ipynb"


@pytest.mark.slow
def test_notebook_writes_the_workbook_beside_the_tables(tmp_path):
    if not (REPO / "data" / "raw" / "ehcp_plans.csv").is_file():
        pytest.skip("data/raw has not been generated")
    import papermill as pm

    tables_dir = tmp_path / "pack" / "tables"
    pm.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "out.ipynb"),
        parameters={"tables_dir": str(tables_dir), "validated": True, "draws": 300},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    book = tmp_path / "pack" / "dsg_scenarios.xlsx"
    assert book.is_file()
    published = pd.read_csv(tables_dir / "06_high_needs_dsg__comparison.csv")
    sheet = read_comparison(book)
    pd.testing.assert_frame_equal(sheet.astype(published.dtypes.to_dict()), published)
    for g in published.groupby("scenario"):
        d = g[1]
        assert (d["cumulative_balance_gbp"] == d["opening_balance_gbp"] + d["in_year_balance_gbp"]).all()
    # the finance officer's workbook opens on its Summary, with the synthetic-data banner (the
    # shipped county), and shows no machine path
    from openpyxl import load_workbook

    from sendlib.data.loaders import SYNTHETIC_NOTICE

    wb = load_workbook(book)
    assert wb.active.title == "Summary" and wb["Summary"]["A1"].value == SYNTHETIC_NOTICE
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if str(REPO) in t or str(tmp_path) in t]
    assert any("scenarios/dsg.yaml" in t for t in texts)
