"""The DSG scenarios workbook for finance teams (openpyxl, values only, no formulas).

Sheets: ``Assumptions`` (every assumption and mitigation with source and as-of date),
``Reconciliation`` (base year against the forecast outturn), ``Balance history`` (how the opening
balance was carried forward), ``Comparison`` (one row per scenario x year: exactly the CSV of
``sendlib scenarios --format csv``), ``yearly_<scenario>`` (income and expenditure by line per year),
``Invest to save``, ``Probability``, ``Fan``, ``Tornado`` and ``DSG template placements``.
Money is formatted ``£#,##0``; headers are bold and frozen.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from sendlib.models.finance.run import FinanceResults

MONEY_FORMAT = "£#,##0"
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def _cell_value(v: object) -> object:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            return v.item()  # numpy scalar -> Python
        except (AttributeError, ValueError):
            pass
    return v


def write_sheet(wb: Workbook, title: str, df: pd.DataFrame, note: str | None = None) -> None:
    """Append ``df`` as a sheet: bold frozen header, money columns (``*_gbp``) as £#,##0, values only."""
    ws = wb.create_sheet(title=title[:31])
    start = 1
    if note:
        ws.cell(row=1, column=1, value=note).font = Font(italic=True)
        start = 2
    for j, col in enumerate(df.columns, start=1):
        c = ws.cell(row=start, column=j, value=str(col))
        c.font = Font(bold=True)
        c.fill = _HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    money = [str(c).endswith("_gbp") for c in df.columns]
    for i, row in enumerate(df.itertuples(index=False), start=start + 1):
        for j, v in enumerate(row, start=1):
            val = _cell_value(v)
            cell = ws.cell(row=i, column=j, value=val)
            if isinstance(val, str) and val.startswith("="):
                cell.data_type = "s"  # text, never a formula
            if money[j - 1]:
                cell.number_format = MONEY_FORMAT
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    for j, col in enumerate(df.columns, start=1):
        sample = [len(str(col))] + [len(str(x)) for x in df.iloc[:200, j - 1].tolist()]
        ws.column_dimensions[get_column_letter(j)].width = min(max(sample) + 2, 60)


def write_workbook(results: FinanceResults, path: str | Path, threshold: int | None = 5) -> Path:
    """Write the scenarios workbook to ``path`` (parent folders created) and return the path.

    The DSG template placements (counts of children) are small-number suppressed with
    ``threshold`` (counts 1 to threshold-1 shown as ``<threshold``; ``None`` = not suppressed).
    Money is not suppressed. The file is written to a temporary name and moved into place, so a
    failed run never leaves a half-written workbook.
    """
    from sendlib.models.finance.dsg import AGE_CONVENTION

    r = results
    wb = Workbook()
    wb.remove(wb.active)
    write_sheet(
        wb,
        "Assumptions",
        r.assumptions,
        note=f"Scenario file: {r.scenario_file.path}. Report quarter {r.base.quarter}; base year "
        f"{r.base.labels[0]}; Monte Carlo draws {r.draws}, seed {r.seed}.",
    )
    write_sheet(
        wb,
        "Reconciliation",
        r.reconciliation,
        note="Base year reconciled to the hnb_budget forecast outturn as at the report quarter: "
        "unit cost x placements + the part not driven by plan numbers = forecast outturn per line.",
    )
    write_sheet(
        wb,
        "Balance history",
        r.base.balance_history,
        note=f"Opening cumulative DSG balance for {r.base.labels[0]}: £{r.base.opening_balance:,.0f} "
        "(negative = deficit).",
    )
    write_sheet(wb, "Comparison", r.comparison)
    for name, y in r.yearly.items():
        write_sheet(wb, f"yearly_{name}", y)
    write_sheet(wb, "Invest to save", r.invest_to_save)
    write_sheet(wb, "Probability", r.probability)
    write_sheet(wb, "Fan", r.fan)
    write_sheet(wb, "Tornado", r.tornado)
    placements = r.template_placements
    if threshold is not None:
        from sendlib.publish.disclosure import suppress_table

        placements = suppress_table(
            placements,
            counts=["placements"],
            threshold=threshold,
            secondary_groups=["scenario", "financial_year", "category"],
        )
    write_sheet(wb, "DSG template placements", placements, note=AGE_CONVENTION)
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
) -> Path | None:
    """In a report run, write the workbook as ``dsg_scenarios.xlsx`` in the PARENT folder of
    ``tables_dir`` (the report pack's folder, where the runner picks it up); ``None`` = no write."""
    if tables_dir is None or str(tables_dir) == "":
        return None
    return write_workbook(results, Path(tables_dir).resolve().parent / name, threshold=threshold)


def read_comparison(path: str | Path) -> pd.DataFrame:
    """Read the ``Comparison`` sheet back (for checks and for finance teams' own tooling)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    ws = wb["Comparison"]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    return pd.DataFrame(rows[1:], columns=rows[0])
