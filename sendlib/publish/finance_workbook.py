"""The DSG scenarios workbook for finance officers (openpyxl, values only, no formulas).

The workbook opens on ``Summary`` (the active sheet): each scenario's cumulative DSG balance at the
end of the statutory override (``statutory_override`` in the scenario file, with its source) and in
year 5 of the projection, with the Monte Carlo 10th-90th percentile range and the chance the
deficit exceeds the scenario file's threshold; the cumulative balance by year and a line chart of
it. Then the sheets a person reads, with plain headers and units: ``Assumptions`` (every
assumption and mitigation with source and as-of date), ``Reconciliation`` (base year against the
forecast outturn) and ``Balance history`` (how the opening balance was carried forward).

The machine-readable sheets follow, named ``data_*``: one header row with the machine column
names of the tidy CSVs, values from row 2: ``data_comparison`` (one row per scenario x year:
exactly the CSV of ``sendlib scenarios --format csv``), ``data_yearly_<scenario>`` (income and
expenditure by line per year), ``data_invest_to_save``, ``data_probability``, ``data_fan``,
``data_tornado``, ``data_template_placements`` (small numbers suppressed) and
``data_assumptions``, ``data_reconciliation``, ``data_balance_history`` (the human sheets'
figures with their machine columns).

Publishing rules (issue 20): every text cell goes through
:func:`sendlib.publish.sanitise.neutralise_text` (the OWASP formula rule, one place for it) while
numbers, negative money included, stay numeric cells; money is ``£#,##0`` (deficits with a minus
sign), percentages ``%`` formats; paths are shown relative to the configuration file's folder
(``base_dir``), never absolute; ``notice`` (the synthetic-data banner) is written at the top of
every human sheet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sendlib.core.config import display_path
from sendlib.publish.sanitise import neutralise_text

if TYPE_CHECKING:
    from sendlib.models.finance.run import FinanceResults

#: whole pounds; Excel shows a deficit with a minus sign (-£1,234)
MONEY_FORMAT = "£#,##0"
#: a probability (stored as a fraction, 0.375 shows as 38%)
PERCENT_FORMAT = "0%"
#: an assumption in percent (stored as a fraction: 3.0%, 0.5%, 0.25%)
ASSUMPTION_PERCENT_FORMAT = "0.0##%"
#: counts of children / places
COUNT_FORMAT = "#,##0"

SUMMARY_SHEET = "Summary"
#: prefix of the machine-readable sheets
DATA_PREFIX = "data_"
COMPARISON_SHEET = "data_comparison"
#: sheet names of workbooks written before the data_* names, still read
LEGACY_SHEETS = {"data_comparison": "Comparison"}

_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_BANNER_FILL = PatternFill("solid", fgColor="FFF2CC")
_BANNER_FONT = Font(bold=True, color="7F3F00", size=12)
_TITLE_FONT = Font(bold=True, size=14)
_MAX_WIDTH = 60
_HEADER_MAX_WIDTH = 22

#: plain-English headers (with units) of the human sheets' columns; other columns: see plain_header
HEADERS: dict[str, str] = {
    "scenario": "Scenario",
    "kind": "Kind",
    "name": "Name (as in the scenario file)",
    "value": "Value",
    "low": "Low",
    "high": "High",
    "distribution": "Distribution",
    "start_year": "Start year",
    "investment_gbp": "Investment (£)",
    "description": "Description",
    "source": "Source",
    "as_of": "As of",
    "financial_year": "Financial year",
    "as_at_quarter": "Forecast as at quarter",
    "line": "Budget line",
    "label": "Budget line description",
    "setting_types": "Setting types",
    "base_year_placements": "Placements in the base year",
    "unit_cost_gbp": "Unit cost (£ a place a year)",
    "plan_driven_gbp": "Plan-driven spend (£)",
    "reconciling_item_gbp": "Reconciling item (£)",
    "not_plan_driven_gbp": "Spend not driven by plans (£)",
    "budget_gbp": "Budget (£)",
    "forecast_outturn_gbp": "Forecast outturn (£)",
    "academy_place_funding_deducted_gbp": "Academy place funding deducted (£)",
    "council_outturn_gbp": "Council outturn (£)",
    "model_base_year_gbp": "Model, base year (£)",
    "difference_gbp": "Difference (£)",
    "opening_balance_gbp": "Opening cumulative balance (£)",
    "income_gbp": "Income (£)",
    "expenditure_gbp": "Expenditure (£)",
    "in_year_balance_gbp": "In-year balance (£)",
    "closing_balance_gbp": "Closing cumulative balance (£)",
    "cumulative_balance_gbp": "Cumulative balance (£)",
    "expenditure_basis": "Expenditure basis",
}


def plain_header(column: str) -> str:
    """A plain-English header with its unit for a machine column name.

    From :data:`HEADERS`, else spelt out: ``_gbp`` becomes "(£)", ``_pct`` "(%)", underscores
    spaces, first letter upper case (``unit_cost_gbp`` -> "Unit cost (£)").
    """
    if column in HEADERS:
        return HEADERS[column]
    text, unit = str(column), ""
    for suffix, u in (("_gbp", " (£)"), ("_pct", " (%)")):
        if text.endswith(suffix):
            text, unit = text[: -len(suffix)], u
    text = text.replace("_", " ").strip()
    return (text[:1].upper() + text[1:] + unit) if text else str(column)


def _cell_value(v: object) -> object:
    """A value openpyxl stores: None for missing, Python scalars for numpy ones, text neutralised."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()  # numpy scalar -> Python
        except (AttributeError, ValueError):
            pass
    if isinstance(v, float) and math.isnan(v):
        return None
    return neutralise_text(v)


def _put(ws: Worksheet, row: int, column: int, value: object, number_format: str | None = None) -> Any:
    """Write one cell: the one place text is neutralised; numbers stay numeric cells."""
    val = _cell_value(value)
    cell = ws.cell(row=row, column=column, value=val)
    if isinstance(val, str) and cell.data_type == "f":
        cell.data_type = "s"  # text, never a formula (belt and braces: neutralised above)
    if number_format and isinstance(val, (int, float)) and not isinstance(val, bool):
        cell.number_format = number_format
    return cell


def _shown(value: object, number_format: str) -> str:
    """The text a spreadsheet shows for ``value`` (to size columns)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if number_format == MONEY_FORMAT:
            return f"{'-' if value < 0 else ''}£{abs(value):,.0f}"
        if "%" in number_format:
            return f"{value * 100:,.2f}%"
        if number_format == COUNT_FORMAT:
            return f"{value:,.0f}"
    return str(value)


def _fit_widths(ws: Worksheet, tables: Sequence[tuple[int, int]]) -> None:
    """Column widths that fit the tables of ``ws``: each ``(header_row, last_row)``.

    Long headers wrap (header rows are made tall enough); text longer than 60 characters wraps.
    Rows outside the tables (banner, title, notes) overflow to the right and are not measured.
    """
    widths: dict[int, int] = {}
    header_len: dict[tuple[int, int], int] = {}
    for header_row, last_row in tables:
        for col in range(1, ws.max_column + 1):
            values = [
                _shown(ws.cell(row=r, column=col).value, ws.cell(row=r, column=col).number_format)
                for r in range(header_row + 1, last_row + 1)
            ]
            widest = max([len(v) for v in values] or [0])
            head = len(str(ws.cell(row=header_row, column=col).value or ""))
            header_len[(header_row, col)] = head
            if not head and not widest:
                continue
            if widest + 2 > _MAX_WIDTH:
                for r in range(header_row + 1, last_row + 1):
                    ws.cell(row=r, column=col).alignment = Alignment(wrap_text=True, vertical="top")
            widths[col] = max(widths.get(col, 0), min(max(widest, min(head, _HEADER_MAX_WIDTH), 6) + 2, _MAX_WIDTH))
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    for header_row, _ in tables:
        lines = max(
            [math.ceil(header_len[(header_row, c)] / (widths[c] - 1)) for c in widths if header_len[(header_row, c)]]
            or [1]
        )
        ws.row_dimensions[header_row].height = 15 * lines + 2


def _header_row(ws: Worksheet, row: int, headers: Sequence[str], first_column: int = 1) -> None:
    for j, h in enumerate(headers, start=first_column):
        c = _put(ws, row, j, h)
        c.font = Font(bold=True)
        c.fill = _HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")


def _preamble(ws: Worksheet, notice: str | None, title: str | None, notes: Sequence[str]) -> int:
    """Banner (when ``notice``), title and notes from row 1; returns the next free row."""
    row = 1
    if notice:
        c = _put(ws, row, 1, notice)
        c.font = _BANNER_FONT
        for col in range(1, 13):
            ws.cell(row=row, column=col).fill = _BANNER_FILL
        ws.row_dimensions[row].height = 20
        row += 1
    if title:
        _put(ws, row, 1, title).font = _TITLE_FONT
        ws.row_dimensions[row].height = 20
        row += 1
    for note in notes:
        _put(ws, row, 1, note).font = Font(italic=True)
        row += 1
    return row


def _sheet_title(wb: Workbook, wanted: str) -> str:
    """``wanted`` cut to Excel's 31 characters, made unique in ``wb``."""
    title = wanted[:31]
    n = 2
    while title in wb.sheetnames:
        suffix = f"~{n}"
        title = wanted[: 31 - len(suffix)] + suffix
        n += 1
    return title


def write_sheet(wb: Workbook, title: str, df: pd.DataFrame, note: str | None = None) -> Worksheet:
    """Append ``df`` as a machine-readable sheet: the machine column names in row 1 (after
    ``note`` when given), bold and frozen; money columns (``*_gbp``) as ``£#,##0``; values only."""
    ws = wb.create_sheet(title=_sheet_title(wb, title))
    start = 1
    if note:
        _put(ws, 1, 1, note).font = Font(italic=True)
        start = 2
    _header_row(ws, start, [str(c) for c in df.columns])
    formats = [MONEY_FORMAT if str(c).endswith("_gbp") else None for c in df.columns]
    for i, row in enumerate(df.itertuples(index=False), start=start + 1):
        for j, v in enumerate(row, start=1):
            _put(ws, i, j, v, formats[j - 1])
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    _fit_widths(ws, [(start, start + min(len(df), 500))])
    return ws


def write_human_sheet(
    wb: Workbook,
    title: str,
    df: pd.DataFrame,
    heading: str,
    notes: Sequence[str] = (),
    notice: str | None = None,
    formats: Mapping[str, str] | None = None,
    row_formats: Sequence[Mapping[str, str]] | None = None,
) -> Worksheet:
    """Append ``df`` as a sheet a person reads: banner (``notice``), ``heading``, ``notes``, then
    the table with plain headers (:func:`plain_header`), frozen below the header.

    Number formats: ``formats`` (column -> format; default ``£#,##0`` for ``*_gbp`` columns),
    overridden cell by cell by ``row_formats`` (one mapping per row).
    """
    ws = wb.create_sheet(title=_sheet_title(wb, title))
    row = _preamble(ws, notice, heading, notes) + 1
    header_row = row
    _header_row(ws, header_row, [plain_header(str(c)) for c in df.columns])
    base = {str(c): MONEY_FORMAT for c in df.columns if str(c).endswith("_gbp")}
    base.update(formats or {})
    cols = [str(c) for c in df.columns]
    for i, values in enumerate(df.itertuples(index=False)):
        per_row = row_formats[i] if row_formats is not None else {}
        for j, (col, v) in enumerate(zip(cols, values, strict=True), start=1):
            _put(ws, header_row + 1 + i, j, v, per_row.get(col, base.get(col)))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    _fit_widths(ws, [(header_row, header_row + len(df))])
    return ws


# ----- the Summary sheet -------------------------------------------------------------------------------


def _march_31(financial_year: str) -> str:
    """``"2027-28"`` -> ``"31 March 2028"``."""
    return f"31 March {int(financial_year[:4]) + 1}"


def summary_table(results: FinanceResults) -> pd.DataFrame:
    """One row per scenario: the cumulative DSG balance (whole pounds, negative = deficit) at the
    end of the statutory override and in year 5 (:attr:`FinanceResults.year5`), each with the
    Monte Carlo 10th and 90th percentiles, and the chance (%) that the year-5 deficit exceeds the
    scenario file's threshold.

    Columns: ``scenario``, ``description``, ``override_balance_gbp``, ``override_p10_gbp``,
    ``override_p90_gbp``, ``year5_balance_gbp``, ``year5_p10_gbp``, ``year5_p90_gbp``,
    ``year5_probability_deficit_exceeds_pct``. Missing figures (the override year outside the
    modelled years, no Monte Carlo draws) are ``None``.
    """
    r = results
    comp = r.comparison

    def at(name: str, fy: str) -> tuple[Any, Any, Any]:
        c = comp[(comp["scenario"] == name) & (comp["financial_year"] == fy)]
        if c.empty:
            return None, None, None
        row = c.iloc[0]
        return tuple(
            None if pd.isna(row[k]) else int(row[k])
            for k in ("cumulative_balance_gbp", "cumulative_balance_p10_gbp", "cumulative_balance_p90_gbp")
        )

    prob = r.probability
    rows = []
    for name in r.yearly:
        scenario = r.scenario_file.scenarios.get(name)
        ov = at(name, r.override_end)
        y5 = at(name, r.year5)
        p = prob[(prob["scenario"] == name) & (prob["financial_year"] == r.year5)] if len(prob) else prob
        rows.append(
            {
                "scenario": name,
                "description": (scenario.description or "") if scenario is not None else "",
                "override_balance_gbp": ov[0],
                "override_p10_gbp": ov[1],
                "override_p90_gbp": ov[2],
                "year5_balance_gbp": y5[0],
                "year5_p10_gbp": y5[1],
                "year5_p90_gbp": y5[2],
                "year5_probability_deficit_exceeds_pct": (
                    float(p["probability_deficit_exceeds_pct"].iloc[0]) if len(p) and r.draws > 0 else None
                ),
            }
        )
    return pd.DataFrame(rows)


def balance_by_year(results: FinanceResults) -> pd.DataFrame:
    """Central cumulative DSG balance (whole pounds): ``financial_year`` then one column per
    scenario, in the file's order (the Summary chart's data)."""
    comp = results.comparison
    wide = comp.pivot(index="financial_year", columns="scenario", values="cumulative_balance_gbp")
    names = [n for n in results.yearly if n in wide.columns]
    return wide[names].reset_index().rename_axis(columns=None)


def _sufficiency_file(results: FinanceResults, name: str, base_dir: str | Path | None) -> str:
    sc = results.scenario_file.scenarios.get(name)
    ref = sc.sufficiency_scenario if sc is not None else None
    if ref is None:
        return "configuration default"
    src = str(results.scenario_file.path)
    folder = Path(src).parent if not src.startswith("<") else Path(".")
    return display_path(folder / ref.file, base_dir)


def _money_words(x: float) -> str:
    a = abs(float(x))
    return f"£{a / 1e6:,.1f}".removesuffix(".0") + "m" if a >= 1e6 else f"£{a:,.0f}"


def _write_summary(
    wb: Workbook,
    results: FinanceResults,
    notice: str | None,
    base_dir: str | Path | None,
    suppression: int | None,
) -> None:
    from sendlib.models.finance.dsg import AGE_CONVENTION

    r = results
    sf = r.scenario_file
    ws = wb.create_sheet(title=SUMMARY_SHEET, index=0)
    fy5 = r.year5
    k5 = r.base.labels.index(fy5)
    threshold = float(sf.deficit_threshold_gbp.value)
    mc = (
        f"with the 10th to 90th percentile range of {r.draws:,} Monte Carlo draws (seed {r.seed})"
        if r.draws > 0
        else "(no Monte Carlo draws: no range)"
    )
    ov_in = r.override_end in r.base.labels
    notes = [
        f"Cumulative DSG balance of the high needs block in pounds (negative = deficit) of each scenario on "
        f"{_march_31(r.override_end)}, when the statutory override ends ({r.override_end}"
        + ("" if ov_in else ", outside the modelled years: no figure")
        + f"), and on {_march_31(fy5)}, year {k5} of the projection ({fy5}): central projection {mc}. "
        f"Report quarter {r.base.quarter}; base year {r.base.labels[0]}; scenario file "
        f"{display_path(sf.path, base_dir)} (paths relative to the configuration file's folder).",
        f"End of the statutory override: {sf.statutory_override_end.source} (as of {sf.statutory_override_end.as_of}).",
    ]
    row = _preamble(ws, notice, "High needs block: DSG scenarios summary", notes) + 1

    table = summary_table(r)
    table.insert(2, "sufficiency_file", [_sufficiency_file(r, n, base_dir) for n in table["scenario"]])
    if table["year5_probability_deficit_exceeds_pct"].notna().any():
        table["year5_probability_deficit_exceeds_pct"] = table["year5_probability_deficit_exceeds_pct"] / 100.0
    ov = _march_31(r.override_end)
    y5 = f"{fy5} (year {k5}), {_march_31(fy5)}"
    headers = {
        "scenario": "Scenario",
        "description": "What the scenario assumes",
        "sufficiency_file": "Demand from (sufficiency scenario file)",
        "override_balance_gbp": f"Balance at the end of the statutory override, {ov} (£)",
        "override_p10_gbp": "Override end: 10th percentile (£)",
        "override_p90_gbp": "Override end: 90th percentile (£)",
        "year5_balance_gbp": f"Balance in {y5} (£)",
        "year5_p10_gbp": f"{fy5}: 10th percentile (£)",
        "year5_p90_gbp": f"{fy5}: 90th percentile (£)",
        "year5_probability_deficit_exceeds_pct": f"Chance the deficit exceeds {_money_words(threshold)} in {fy5} (%)",
    }
    header_row = row
    cols = list(headers)
    _header_row(ws, header_row, [headers[c] for c in cols])
    for i, rec in enumerate(table[cols].itertuples(index=False), start=header_row + 1):
        for j, (col, v) in enumerate(zip(cols, rec, strict=True), start=1):
            fmt = PERCENT_FORMAT if col.endswith("_pct") else (MONEY_FORMAT if col.endswith("_gbp") else None)
            _put(ws, i, j, v, fmt)
    last_summary = header_row + len(table)

    # the cumulative balance by year (central) and its chart
    by_year = balance_by_year(r)
    row = last_summary + 2
    _put(ws, row, 1, "Cumulative DSG balance by year, central projection (£, negative = deficit)").font = Font(
        bold=True
    )
    year_header = row + 1
    _header_row(ws, year_header, ["Financial year", *[str(c) for c in by_year.columns[1:]]])
    for i, rec in enumerate(by_year.itertuples(index=False), start=year_header + 1):
        for j, v in enumerate(rec, start=1):
            _put(ws, i, j, v, MONEY_FORMAT if j > 1 else None)
    last_year = year_header + len(by_year)

    row = last_year + 2
    suppressed = f"counts 1 to {suppression - 1} shown as <{suppression}" if suppression else "not suppressed"
    about = [
        "Sheets: Assumptions (every assumption and mitigation with its source), Reconciliation (base year "
        "against the forecast outturn), Balance history (the opening balance carried forward).",
        "Sheets named data_* are machine-readable: one header row with the column names of the report's "
        "tables/*.csv, money in whole pounds. data_template_placements (DSG Management Plan template "
        f"categories): {suppressed}. {AGE_CONVENTION}",
    ]
    for line in about:
        _put(ws, row, 1, line).font = Font(italic=True)
        row += 1

    chart = LineChart()
    chart.title = "Cumulative DSG balance by year (central projection)"
    chart.y_axis.title = "Cumulative balance (£, negative = deficit)"
    chart.x_axis.title = "Financial year"
    chart.y_axis.number_format = MONEY_FORMAT
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.height = 9
    chart.width = 18
    n = len(by_year.columns) - 1
    chart.add_data(
        Reference(ws, min_col=2, max_col=1 + n, min_row=year_header, max_row=last_year), titles_from_data=True
    )
    years = Reference(ws, min_col=1, min_row=year_header + 1, max_row=last_year)
    for series in chart.series:  # financial years are text: a string reference, not a numeric one
        series.cat = AxDataSource(strRef=StrRef(f=str(years)))
    chart.x_axis.tickLblPos = "low"  # year labels below the plot (the balances are negative)
    ws.add_chart(chart, f"A{row + 1}")

    _fit_widths(ws, [(header_row, last_summary), (year_header, last_year)])
    ws.freeze_panes = None


# ----- the workbook ------------------------------------------------------------------------------------


def _assumption_formats(a: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Assumptions as shown: ``*_pct`` values as fractions with a % format, money as £."""
    out = a.copy().astype({"value": object, "low": object, "high": object})
    formats: list[dict[str, str]] = []
    for i, rec in out.iterrows():
        name, kind = str(rec["name"]), str(rec["kind"])
        fmt: dict[str, str] = {}
        if name.endswith("_pct"):
            for col in ("value", "low", "high"):
                v = rec[col]
                if isinstance(v, (int, float)) and not isinstance(v, bool) and not pd.isna(v):
                    out.at[i, col] = float(v) / 100.0
                    fmt[col] = ASSUMPTION_PERCENT_FORMAT
        elif name.endswith("_gbp") or kind == "place_funding":
            fmt = {"value": MONEY_FORMAT, "low": MONEY_FORMAT, "high": MONEY_FORMAT}
        formats.append(fmt)
    return out, formats


def write_workbook(
    results: FinanceResults,
    path: str | Path,
    threshold: int | None = 5,
    *,
    notice: str | None = None,
    base_dir: str | Path | None = None,
) -> Path:
    """Write the scenarios workbook to ``path`` (parent folders created) and return the path.

    Parameters
    ----------
    results : FinanceResults
        One run of the DSG scenarios.
    path : str or Path
        The ``.xlsx`` to write. The file is written to a temporary name and moved into place, so a
        failed run never leaves a half-written workbook.
    threshold : int or None
        Small-number suppression of the DSG template placements (counts of children): counts 1 to
        threshold-1 shown as ``<threshold``; ``None`` = not suppressed. Money is not suppressed.
    notice : str, optional
        A banner written at the top of the Summary and every human sheet: pass
        :data:`sendlib.data.loaders.SYNTHETIC_NOTICE` when the data are synthetic.
    base_dir : str or Path, optional
        The configuration file's folder: file paths are shown relative to it (no ``base_dir``:
        file names only). No absolute path is ever written.
    """
    r = results
    wb = Workbook()
    wb.remove(wb.active)
    _write_summary(wb, r, notice, base_dir, threshold)

    assumptions = r.assumptions.copy()
    if "kind" in assumptions and "value" in assumptions:
        folder = Path(str(r.scenario_file.path)).parent if not str(r.scenario_file.path).startswith("<") else None
        is_file = assumptions["kind"] == "sufficiency_scenario"
        assumptions["value"] = assumptions["value"].astype(object)
        assumptions.loc[is_file, "value"] = [
            display_path((folder / str(v)) if folder is not None else str(v), base_dir if folder is not None else None)
            for v in assumptions.loc[is_file, "value"]
        ]
    shown, row_formats = _assumption_formats(assumptions)
    write_human_sheet(
        wb,
        "Assumptions",
        shown,
        "Assumptions and mitigations, with their sources",
        notes=[
            f"Scenario file {display_path(r.scenario_file.path, base_dir)} (paths relative to the configuration "
            f"file's folder). Report quarter {r.base.quarter}; base year {r.base.labels[0]}; Monte Carlo draws "
            f"{r.draws:,}, seed {r.seed}. Percentages are shown as % (3 in the file is 3.0%); Low and High "
            "drive the Monte Carlo range."
        ],
        notice=notice,
        formats={"investment_gbp": MONEY_FORMAT},
        row_formats=row_formats,
    )
    write_human_sheet(
        wb,
        "Reconciliation",
        r.reconciliation,
        "Base year reconciled to the forecast outturn",
        notes=[
            "Base year reconciled to the hnb_budget forecast outturn as at the report quarter: unit cost x "
            "placements + the part not driven by plan numbers = forecast outturn per line."
        ],
        notice=notice,
        formats={"base_year_placements": COUNT_FORMAT},
    )
    write_human_sheet(
        wb,
        "Balance history",
        r.base.balance_history,
        "Opening cumulative DSG balance, carried forward",
        notes=[
            f"Opening cumulative DSG balance for {r.base.labels[0]}: "
            f"{'-' if r.base.opening_balance < 0 else ''}£{abs(r.base.opening_balance):,.0f} (negative = deficit)."
        ],
        notice=notice,
    )

    write_sheet(wb, COMPARISON_SHEET, r.comparison)
    for name, y in r.yearly.items():
        write_sheet(wb, f"data_yearly_{name}", y)
    write_sheet(wb, "data_invest_to_save", r.invest_to_save)
    write_sheet(wb, "data_probability", r.probability)
    write_sheet(wb, "data_fan", r.fan)
    write_sheet(wb, "data_tornado", r.tornado)
    placements = r.template_placements
    if threshold is not None:
        from sendlib.publish.disclosure import suppress_table

        placements = suppress_table(
            placements,
            counts=["placements"],
            threshold=threshold,
            secondary_groups=["scenario", "financial_year", "category"],
        )
    write_sheet(wb, "data_template_placements", placements)
    write_sheet(wb, "data_assumptions", assumptions)
    write_sheet(wb, "data_reconciliation", r.reconciliation)
    write_sheet(wb, "data_balance_history", r.base.balance_history)

    summary = wb[SUMMARY_SHEET]
    wb.active = wb.sheetnames.index(SUMMARY_SHEET)
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is summary
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    wb.save(tmp)
    tmp.replace(p)
    return p


def write_report_workbook(
    results: FinanceResults,
    tables_dir: str | Path | None,
    threshold: int | None = 5,
    name: str = "dsg_scenarios.xlsx",
    *,
    notice: str | None = None,
    base_dir: str | Path | None = None,
) -> Path | None:
    """In a report run, write the workbook as ``dsg_scenarios.xlsx`` in the PARENT folder of
    ``tables_dir`` (the report pack's folder, where the runner picks it up); ``None`` = no write.
    ``notice`` and ``base_dir`` as :func:`write_workbook`."""
    if tables_dir is None or str(tables_dir) == "":
        return None
    return write_workbook(
        results, Path(tables_dir).resolve().parent / name, threshold=threshold, notice=notice, base_dir=base_dir
    )


def read_data_sheet(path: str | Path, sheet: str) -> pd.DataFrame:
    """Read a machine-readable sheet (``data_*``: header in row 1) back as a frame.

    A workbook written before the ``data_*`` names is read by its old name
    (:data:`LEGACY_SHEETS`).
    """
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        name = sheet if sheet in wb.sheetnames else LEGACY_SHEETS.get(sheet, sheet)
        if name not in wb.sheetnames:
            raise KeyError(f"{path}: no sheet {sheet!r} (sheets: {wb.sheetnames})")
        rows = list(wb[name].iter_rows(values_only=True))
    finally:
        wb.close()
    return pd.DataFrame(rows[1:], columns=rows[0])


def read_comparison(path: str | Path) -> pd.DataFrame:
    """Read the ``data_comparison`` sheet back (``Comparison`` in older workbooks), for checks and
    for finance teams' own tooling."""
    return read_data_sheet(path, COMPARISON_SHEET)
