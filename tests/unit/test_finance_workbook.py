"""The finance officer's workbook (issue 20): Summary first and active, positions equal to the
model's, £ and % formats, no absolute path, formula-like text neutralised while negative money
stays numeric, the synthetic-data banner, the chart."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
import yaml
from openpyxl import load_workbook
from openpyxl.chart import LineChart
from test_finance import QUARTER, projection, scenario_dict, tables

from sendlib.data.loaders import SYNTHETIC_NOTICE
from sendlib.models.finance import load_scenarios, parse_scenarios, run_finance
from sendlib.publish.finance_workbook import (
    MONEY_FORMAT,
    PERCENT_FORMAT,
    balance_by_year,
    display_path,
    plain_header,
    read_comparison,
    summary_table,
    write_report_workbook,
    write_workbook,
)
from sendlib.publish.sanitise import is_formula_like

REPO = Path(__file__).resolve().parents[2]
HUMAN_SHEETS = ("Summary", "Assumptions", "Reconciliation", "Balance history")


def _with_sufficiency(d: dict) -> dict:
    d["scenarios"]["mitigated"]["sufficiency_scenario"] = {
        "file": "sufficiency_mitigated.yaml",
        "source": "test",
        "as_of": "2025-11-01",
    }
    return d


@pytest.fixture
def results():
    return run_finance(parse_scenarios(scenario_dict()), projection(3), tables(), QUARTER, horizon=2, draws=200)


@pytest.fixture
def config_dir(tmp_path):
    """A configuration folder with the scenario file in ``scenarios/`` (as the shipped config)."""
    cfg = tmp_path / "council" / "config"
    (cfg / "scenarios").mkdir(parents=True)
    (cfg / "default.yaml").write_text("# the config file\n", encoding="utf-8")
    (cfg / "scenarios" / "dsg.yaml").write_text(yaml.safe_dump(_with_sufficiency(scenario_dict())), encoding="utf-8")
    return cfg


@pytest.fixture
def file_results(config_dir):
    sf = load_scenarios(config_dir / "scenarios" / "dsg.yaml")
    assert Path(sf.path).is_absolute()  # what the workbook must not show
    return run_finance(sf, projection(3), tables(), QUARTER, horizon=2, draws=200)


def _summary_rows(ws):
    """The Summary's scenario table: header row index and the rows below it, by header text."""
    rows = list(ws.iter_rows())
    at = next(i for i, r in enumerate(rows) if r[0].value == "Scenario")
    header = [c.value for c in rows[at]]
    out = []
    for r in rows[at + 1 :]:
        if r[0].value is None:
            break
        out.append(dict(zip(header, r, strict=False)))
    return header, out


def _col(header, start):
    return next(h for h in header if h and h.startswith(start))


def _all_cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    yield ws, c


def test_summary_is_the_first_and_active_sheet(tmp_path, results):
    wb = load_workbook(write_workbook(results, tmp_path / "w.xlsx"))
    assert wb.sheetnames[0] == "Summary"
    assert wb.active.title == "Summary"
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets] == [True] + [False] * (len(wb.worksheets) - 1)
    # the human sheets first, then the machine-readable ones, named as such
    n = len(HUMAN_SHEETS)
    assert tuple(wb.sheetnames[:n]) == HUMAN_SHEETS
    assert all(name.startswith("data_") for name in wb.sheetnames[n:])


def test_summary_positions_equal_the_model(tmp_path, results):
    wb = load_workbook(write_workbook(results, tmp_path / "w.xlsx"))
    header, rows = _summary_rows(wb["Summary"])
    assert [r["Scenario"].value for r in rows] == list(results.yearly)
    ov = results.override_position.set_index("scenario")
    comp = results.comparison
    y5 = comp[comp["financial_year"] == results.year5].set_index("scenario")
    prob = results.probability[results.probability["financial_year"] == results.year5].set_index("scenario")
    ov_col = _col(header, "Balance at the end of the statutory override, 31 March 2028")
    y5_col = _col(header, f"Balance in {results.year5}")
    for r in rows:
        name = r["Scenario"].value
        assert r[ov_col].value == ov.loc[name, "cumulative_balance_gbp"]
        assert r["Override end: 10th percentile (£)"].value == ov.loc[name, "cumulative_balance_p10_gbp"]
        assert r["Override end: 90th percentile (£)"].value == ov.loc[name, "cumulative_balance_p90_gbp"]
        assert r[y5_col].value == y5.loc[name, "cumulative_balance_gbp"]
        assert r[f"{results.year5}: 10th percentile (£)"].value == y5.loc[name, "cumulative_balance_p10_gbp"]
        assert r[f"{results.year5}: 90th percentile (£)"].value == y5.loc[name, "cumulative_balance_p90_gbp"]
        chance = r[_col(header, "Chance the deficit exceeds £1.5m")]
        assert chance.value == pytest.approx(prob.loc[name, "probability_deficit_exceeds_pct"] / 100)
        # £ and % formats; money (a deficit) is a negative number, not text
        for h in header:
            if h and h.endswith("(£)"):
                assert r[h].number_format == MONEY_FORMAT and r[h].data_type == "n", h
        assert r[ov_col].value < 0
        assert chance.number_format == PERCENT_FORMAT and "%" in chance.number_format
    # the frame behind it says the same
    t = summary_table(results).set_index("scenario")
    assert t.loc["mitigated", "override_balance_gbp"] == ov.loc["mitigated", "cumulative_balance_gbp"]


def test_summary_chart_of_the_cumulative_balance(tmp_path, results):
    wb = load_workbook(write_workbook(results, tmp_path / "w.xlsx"))
    ws = wb["Summary"]
    charts = ws._charts
    assert len(charts) == 1 and isinstance(charts[0], LineChart)
    assert len(charts[0].series) == len(results.yearly)
    assert all(s.cat.strRef is not None for s in charts[0].series)  # the financial years, as text
    by_year = balance_by_year(results)
    assert list(by_year.columns) == ["financial_year", *results.yearly]
    assert list(by_year["financial_year"]) == results.base.labels
    # the chart's data are on the sheet: the year table, money formatted
    rows = list(ws.iter_rows())
    at = next(i for i, r in enumerate(rows) if r[0].value == "Financial year")
    assert [c.value for c in rows[at][: 1 + len(results.yearly)]] == ["Financial year", *results.yearly]
    first = rows[at + 1]
    assert first[0].value == results.base.labels[0]
    assert first[1].value == by_year.iloc[0, 1] and first[1].number_format == MONEY_FORMAT


def test_human_sheets_plain_headers_formats_and_widths(tmp_path, results):
    wb = load_workbook(write_workbook(results, tmp_path / "w.xlsx"))
    for name in HUMAN_SHEETS:
        ws = wb[name]
        headers = list(next(r for r in ws.iter_rows() if r[0].value in ("Scenario", "Financial year")))
        for c in headers:
            if c.value is None:
                continue
            assert not re.search(r"[a-z]_[a-z]", c.value), (name, c.value)  # no snake_case header
            width = ws.column_dimensions[c.column_letter].width
            assert width >= min(len(c.value), 20), (name, c.value, width)
    a = wb["Assumptions"]
    rows = list(a.iter_rows())
    at = next(i for i, r in enumerate(rows) if r[0].value == "Scenario")
    header = [c.value for c in rows[at]]
    by_name = {r[header.index("Name (as in the scenario file)")].value: r for r in rows[at + 1 :]}
    infl = by_name["unit_cost_inflation_pct"][header.index("Value")]
    assert infl.value == pytest.approx(0.10) and "%" in infl.number_format  # 10% shown as 10.0%
    block = by_name["schools_block_gbp"][header.index("Value")]
    assert block.value == 100_000_000 and block.number_format == MONEY_FORMAT
    inv = [r[header.index("Investment (£)")] for r in rows[at + 1 :] if r[header.index("Investment (£)")].value]
    assert inv and all(c.number_format == MONEY_FORMAT for c in inv)
    # columns fit their money values
    rec = wb["Reconciliation"]
    for row in rec.iter_rows():
        for c in row:
            if c.number_format == MONEY_FORMAT and isinstance(c.value, (int, float)):
                assert rec.column_dimensions[c.column_letter].width >= len(f"-£{abs(c.value):,.0f}")


def _is_absolute(text: str) -> bool:
    return any(
        PurePosixPath(tok).is_absolute() or PureWindowsPath(tok).is_absolute() or re.match(r"^[A-Za-z]:[\\/]", tok)
        for tok in re.split(r"[\s(),;']+", text)
        if tok
    )


def test_no_cell_holds_an_absolute_path(tmp_path, config_dir, file_results):
    path = write_workbook(file_results, tmp_path / "out" / "w.xlsx", base_dir=config_dir)
    wb = load_workbook(path)
    texts = [(ws.title, c.value) for ws, c in _all_cells(wb) if isinstance(c.value, str)]
    for title, text in texts:
        assert str(tmp_path) not in text and str(REPO) not in text, (title, text)
        assert not _is_absolute(text), (title, text)
    joined = "\n".join(t for _, t in texts)
    # the scenario file and the sufficiency file, relative to the configuration file's folder
    assert "scenario file scenarios/dsg.yaml" in joined
    assert "scenarios/sufficiency_mitigated.yaml" in joined
    # without a base folder: file names only
    wb = load_workbook(write_workbook(file_results, tmp_path / "w2.xlsx"))
    for ws, c in _all_cells(wb):
        if isinstance(c.value, str):
            assert str(tmp_path) not in c.value and not _is_absolute(c.value), (ws.title, c.value)


def test_display_path():
    base = Path("council", "config").resolve()
    assert display_path(base / "scenarios" / "dsg.yaml", base) == "scenarios/dsg.yaml"
    assert display_path("scenarios/dsg.yaml", base) == "scenarios/dsg.yaml"
    assert display_path(base.parent / "shared" / "x.yaml", base) == "../shared/x.yaml"
    assert display_path(base / "scenarios" / "dsg.yaml", None) == "dsg.yaml"
    assert display_path("<memory>", base) == "<memory>"


def test_plain_header():
    assert plain_header("unit_cost_gbp") == "Unit cost (£ a place a year)"
    assert plain_header("savings_gbp") == "Savings (£)"
    assert plain_header("probability_deficit_exceeds_pct") == "Probability deficit exceeds (%)"


def test_formula_like_text_is_neutralised_and_negative_money_stays_numeric(tmp_path):
    d = scenario_dict()
    d["scenarios"]["unmitigated"]["description"] = '=HYPERLINK("http://example.org","click")'
    d["scenarios"]["unmitigated"]["assumptions"]["unit_cost_inflation_pct"]["source"] = "+44 finance team"
    d["scenarios"]["unmitigated"]["assumptions"]["hnb_allocation_growth_pct"]["source"] = "@SUM(1+1)"
    mit = d["scenarios"]["mitigated"]["mitigations"][0]
    mit["description"] = "-1+cmd|' /C calc'!A0"
    res = run_finance(parse_scenarios(d), projection(3), tables(), QUARTER, horizon=2, draws=200)
    res.assumptions.loc[res.assumptions.index[-1], "source"] = "\tTab"  # the file reader strips blanks
    wb = load_workbook(write_workbook(res, tmp_path / "w.xlsx"))
    texts = [(ws.title, c) for ws, c in _all_cells(wb) if isinstance(c.value, str)]
    assert not [(t, c.coordinate, c.value) for t, c in texts if is_formula_like(c.value)]
    assert not [(t, c.coordinate) for t, c in texts if c.data_type == "f"]
    values = {c.value for _, c in texts}
    assert '\'=HYPERLINK("http://example.org","click")' in values  # the description, on the Summary
    assert {"'+44 finance team", "'@SUM(1+1)", "'-1+cmd|' /C calc'!A0", "'\tTab"} <= values
    # negative money stays a number
    header, rows = _summary_rows(wb["Summary"])
    money = [r[h] for r in rows for h in header if h and h.endswith("(£)")]
    assert money and all(c.data_type == "n" and isinstance(c.value, int) and c.value < 0 for c in money)
    comp = read_comparison(tmp_path / "w.xlsx")
    assert (comp["cumulative_balance_gbp"] < 0).all()
    ws = wb["data_comparison"]
    col = [c.value for c in ws[1]].index("cumulative_balance_gbp") + 1
    assert all(ws.cell(row=r, column=col).data_type == "n" for r in range(2, ws.max_row + 1))


def test_the_notice_is_on_every_human_sheet_when_given(tmp_path, results):
    wb = load_workbook(write_workbook(results, tmp_path / "w.xlsx", notice=SYNTHETIC_NOTICE))
    for name in HUMAN_SHEETS:
        cell = wb[name]["A1"]
        assert cell.value == SYNTHETIC_NOTICE and cell.font.b, name
    # the machine-readable sheets keep their header in row 1
    assert wb["data_comparison"]["A1"].value == "scenario"
    wb = load_workbook(write_workbook(results, tmp_path / "plain.xlsx"))
    assert all(c.value != SYNTHETIC_NOTICE for _, c in _all_cells(wb))
    assert wb["Summary"]["A1"].value == "High needs block: DSG scenarios summary"


def test_no_monte_carlo_leaves_the_range_empty(tmp_path):
    res = run_finance(parse_scenarios(scenario_dict()), projection(3), tables(), QUARTER, horizon=2, draws=0)
    wb = load_workbook(write_workbook(res, tmp_path / "w.xlsx"))
    header, rows = _summary_rows(wb["Summary"])
    for r in rows:
        assert r["Override end: 10th percentile (£)"].value is None
        assert isinstance(r[_col(header, "Balance at the end of the statutory override")].value, int)


def test_report_workbook_passes_the_notice_and_base_dir(tmp_path, config_dir, file_results):
    p = write_report_workbook(
        file_results, tmp_path / "pack" / "tables", threshold=5, notice=SYNTHETIC_NOTICE, base_dir=config_dir
    )
    assert p == (tmp_path / "pack" / "dsg_scenarios.xlsx").resolve()
    wb = load_workbook(p)
    assert wb["Summary"]["A1"].value == SYNTHETIC_NOTICE
    assert write_report_workbook(file_results, None) is None


def test_an_override_outside_the_modelled_years_is_said_not_invented(tmp_path):
    d = scenario_dict()
    d["statutory_override"]["end_financial_year"] = "2024-25"  # ended before the base year
    res = run_finance(parse_scenarios(d), projection(3), tables(), QUARTER, horizon=2, draws=50)
    wb = load_workbook(write_workbook(res, tmp_path / "w.xlsx"))
    header, rows = _summary_rows(wb["Summary"])
    assert all(r[_col(header, "Balance at the end of the statutory override")].value is None for r in rows)
    assert all(isinstance(r[_col(header, f"Balance in {res.year5}")].value, int) for r in rows)
    assert "outside the modelled years" in wb["Summary"]["A2"].value
