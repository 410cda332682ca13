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
    assert wb.sheetnames[:5] == ["Summary", "Assumptions", "Reconciliation", "Balance history", "data_comparison"]
    assert {
        "data_yearly_unmitigated",
        "data_yearly_mitigated",
        "data_invest_to_save",
        "data_probability",
        "data_fan",
        "data_tornado",
        "data_template_placements",
        "data_assumptions",
    } <= set(wb.sheetnames)
    for ws in wb.worksheets:
        assert ws.title == "Summary" or ws.freeze_panes is not None, ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
    # machine-readable sheets: the machine column names in row 1, frozen below, money as £
    ws = wb["data_comparison"]
    header = [c.value for c in ws[1]]
    assert header == list(results.comparison.columns)
    col = header.index("cumulative_balance_gbp") + 1
    assert ws.cell(row=2, column=col).number_format == "£#,##0"
    assert ws.freeze_panes == "A2"
    # the assumptions keep their provenance, machine-readable and on the human sheet
    a = pd.DataFrame(list(wb["data_assumptions"].values)[1:], columns=list(wb["data_assumptions"].values)[0])
    assert a["source"].notna().all() and a["as_of"].notna().all()
    rows = list(wb["Assumptions"].values)
    header_at = next(i for i, r in enumerate(rows) if r[0] == "Scenario")
    human = pd.DataFrame(rows[header_at + 1 :], columns=rows[header_at])
    assert human["Source"].notna().all() and human["As of"].notna().all()


def test_formula_like_text_is_neutralised(tmp_path, results):
    results.assumptions.loc[0, "description"] = "=SUM(A1:A2)"
    path = write_workbook(results, tmp_path / "x.xlsx")
    for name in ("Assumptions", "data_assumptions"):
        ws = load_workbook(path)[name]
        cells = [c for row in ws.iter_rows() for c in row if c.value == "'=SUM(A1:A2)"]
        assert cells and all(c.data_type == "s" for c in cells)


def test_read_comparison_reads_the_old_sheet_name_too(tmp_path, results):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Comparison"
    ws.append(list(results.comparison.columns))
    for rec in results.comparison.astype(object).itertuples(index=False):
        ws.append(list(rec))
    wb.save(tmp_path / "old.xlsx")
    old = read_comparison(tmp_path / "old.xlsx")
    new = read_comparison(write_workbook(results, tmp_path / "new.xlsx"))
    pd.testing.assert_frame_equal(old, new)


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
