"""The DSG scenarios workbook: opens with openpyxl, values only, money formatted, comparison = CSV."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook
from test_finance import QUARTER, projection, scenario_dict, tables

from sendlib.cli import main
from sendlib.core.quarters import Quarter
from sendlib.models.finance import parse_scenarios, run_finance
from sendlib.publish.finance_workbook import read_comparison, write_workbook


@pytest.fixture
def results():
    return run_finance(parse_scenarios(scenario_dict()), projection(3), tables(), QUARTER, horizon=2, draws=200)


def test_workbook_sheets_formats_and_no_formulas(tmp_path, results):
    path = write_workbook(results, tmp_path / "sub" / "dsg_scenarios.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[:4] == ["Assumptions", "Reconciliation", "Balance history", "Comparison"]
    assert {"yearly_unmitigated", "yearly_mitigated", "Invest to save", "Tornado", "DSG template placements"} <= set(
        wb.sheetnames
    )
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None, ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
    ws = wb["Comparison"]
    header = [c.value for c in ws[1]]
    col = header.index("cumulative_balance_gbp") + 1
    assert ws.cell(row=2, column=col).number_format == "£#,##0"
    assert ws.freeze_panes == "A2"
    # the assumptions sheet carries provenance
    a = pd.DataFrame(list(wb["Assumptions"].values)[2:], columns=list(wb["Assumptions"].values)[1])
    assert a["source"].notna().all() and a["as_of"].notna().all()


def test_formula_like_text_is_stored_as_text(tmp_path, results):
    results.assumptions.loc[0, "description"] = "=SUM(A1:A2)"
    path = write_workbook(results, tmp_path / "x.xlsx")
    ws = load_workbook(path)["Assumptions"]
    cells = [c for row in ws.iter_rows() for c in row if c.value == "=SUM(A1:A2)"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_comparison_sheet_equals_the_csv_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sendlib.data.loaders.load_tables", lambda cfg, names=None: tables())
    monkeypatch.setattr("sendlib.data.loaders.resolve_quarter", lambda text, cfg, t=None: Quarter.parse(QUARTER))
    monkeypatch.setattr(
        "sendlib.models.chain.quarter_projection", lambda tables, quarter, scenario, **kw: projection(3)
    )
    p = tmp_path / "dsg.yaml"
    p.write_text(yaml.safe_dump(scenario_dict()), encoding="utf-8")
    xlsx = tmp_path / "book.xlsx"
    assert (
        main(
            [
                "scenarios",
                "--scenarios",
                str(p),
                "--horizon",
                "2",
                "--draws",
                "250",
                "--format",
                "csv",
                "--excel",
                str(xlsx),
            ]
        )
        == 0
    )
    csv = pd.read_csv(io.StringIO(capsys.readouterr().out))
    sheet = read_comparison(xlsx)
    assert list(sheet.columns) == list(csv.columns)
    pd.testing.assert_frame_equal(sheet.astype(csv.dtypes.to_dict()), csv)
    # and the values are whole pounds (ints), not floats written with decimals
    assert all(isinstance(v, int) for v in sheet["cumulative_balance_gbp"])


# ----- the notebook ------------------------------------------------------------------------------------

import re  # noqa: E402
from pathlib import Path  # noqa: E402

import nbformat  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "06_high_needs_dsg.ipynb"


def test_notebook_is_thin_stripped_and_parameterised():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    values: dict = {}
    exec(tagged[0].source, {}, values)
    assert values == {
        "quarter": "latest",
        "config_path": "",
        "data_dir": "",
        "tables_dir": "",
        "validated": False,
        "horizon": 5,
        "scenarios": "",
        "draws": 2000,
        "run_cache": "",
    }
    for cell in code:
        assert not re.search(r"^\s*(def|class) ", cell.source, re.M), cell.source[:80]
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
    assert "sendlib.notebook.setup(" in "".join(c.source for c in code)
