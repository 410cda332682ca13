"""Reader for the DfE / MoJ "SEND Tribunals and appeal rate" table, as published.

The file ``SEND Tribunals and appeal rate 2014-2024.csv`` comes with the DfE's "Education, health and
care plans" release (2025) but is not an explore-education-statistics tidy file: it is a
spreadsheet saved as CSV (UTF-8 with a byte-order mark), with

* a title row and two blank rows, then a two-row header: the years (``2014,,,2015,,,...``) and
  under each three measures, "Appeals registered", "Total Appealable Decisions", "SEND Tribunal
  Appeal Rate" (footnote numbers glued on: ``Appeals registered4``); 2024 has two more columns,
  "In development: Total Appealable Decisions" and "In development: SEND Tribunal Appeal Rate";
* region rows (``NORTH EAST,,,...``, no LA code) between the authorities, authority names with
  footnote numbers glued on (``Cumbria8``, ``"England Total4,9"``), predecessor authorities with no
  code (``Bournemouth5``, ``Poole5``);
* numbers with thousands separators (``"2,288"``), ``" - "`` for zero, ``".."`` not available,
  ``"~"`` suppressed, ``"x"`` (not in the file's legend: not published), blanks, and rates as
  ``"0.40%"`` (rounded to 0.1 percentage points);
* source lines and footnotes after the England rows.

:func:`read_appeal_rate` returns it tidy: one row per authority (and England) and year. Every value
that is not a number is ``NaN`` with its meaning in ``reason``; ``" - "`` is 0.

Footnote 1 defines the denominator: total appealable decisions = initial requests for an EHC
assessment refused + assessments completed with a decision not to issue a plan + EHC plans as at
January + plans ceased because needs are met without a plan (SEN2). Calendar years (footnote 3).
:func:`sendlib.models.statutory.tribunal_appeal_rate` computes the same measure from case data.

Source: Ministry of Justice (appeals: HMCTS GAPS2) and Department for Education (appealable
decisions: SEN2), "SEND Appeal rate table 1", published with "Education, health and care plans",
2025 release; Open Government Licence v3.0.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sendlib.core.errors import DataError

#: the file name as published
FILE = "SEND Tribunals and appeal rate 2014-2024.csv"

#: meaning of each non-number in the file (stripped); ``-`` is a published zero
SYMBOLS: dict[str, str] = {
    "..": "not available",
    "~": "suppressed",
    "x": "not published",
    "": "blank in source",
}

#: the tidy frame's columns
COLUMNS = (
    "geographic_level",
    "region_name",
    "old_la_code",
    "la_name",
    "year",
    "appeals_registered",
    "appealable_decisions",
    "appeal_rate_pct",
    "reason",
    "in_development_appealable_decisions",
    "in_development_appeal_rate_pct",
)

_MEASURES = {
    "appeals registered": "appeals_registered",
    "total appealable decisions": "appealable_decisions",
    "send tribunal appeal rate": "appeal_rate_pct",
    "in development: total appealable decisions": "in_development_appealable_decisions",
    "in development: send tribunal appeal rate": "in_development_appeal_rate_pct",
}


def find_appeal_rate_file(dfe_dir: str | Path | None = None) -> Path:
    """The appeal-rate file under ``dfe_dir`` (default: the shipped extract), searched by name;
    the last in sorted path order wins (a newer release folder sorts after an older one)."""
    from sendlib.data.dfe import _dir

    d = _dir(dfe_dir)
    hits = sorted(d.rglob("SEND Tribunals and appeal rate*.csv"))
    if not hits:
        raise DataError(
            table="dfe:tribunal_appeal_rate",
            rule=f"file '{FILE}' not found under {d}",
            file=str(d),
            detail="Point dfe_dir at the shipped extract (data/reference/dfe) or the DfE downloads.",
        )
    return hits[-1]


def _strip_footnote(name: str) -> str:
    """``Cumbria8`` -> ``Cumbria``; ``England Total4,9`` -> ``England Total``."""
    return re.sub(r"[\d,]+$", "", name.strip()).strip()


def _measure(label: str) -> str | None:
    key = re.sub(r"[\d,]+$", "", label.strip()).strip().lower()
    return _MEASURES.get(key)


def _value(cell: str, rate: bool) -> tuple[float, str]:
    """A published cell as (number, reason): ``" - "`` -> 0, symbols -> NaN with the meaning."""
    s = cell.strip()
    if s == "-":
        return 0.0, ""
    if rate and s.endswith("%"):
        s = s[:-1].strip()
    try:
        return float(s.replace(",", "")), ""
    except ValueError:
        return float("nan"), SYMBOLS.get(s.lower(), f"not a number ({s})")


def read_appeal_rate(path: str | Path | None = None, dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """The published SEND Tribunal appeal rate, tidy: one row per authority (and England) and year.

    Parameters
    ----------
    path : path, optional
        The file as published; default: found by name under ``dfe_dir``.
    dfe_dir : path, optional
        Folder searched when ``path`` is not given (default: the shipped extract,
        ``data/reference/dfe``).

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`: ``geographic_level`` ("National" for England, "Local authority"),
        ``region_name`` (the region row above the authority; "" for England), ``old_la_code``
        (3-digit DfE code as text; ``<NA>`` for England and for predecessor authorities published
        without one, Bournemouth and Poole), ``la_name`` (footnote numbers removed; "England"),
        ``year`` (calendar year, int), ``appeals_registered`` and ``appealable_decisions``
        (float: ``" - "`` read as 0), ``appeal_rate_pct`` (float, percent as published, e.g. 4.5),
        ``reason`` (why a value is missing: "not available", "suppressed", "not published", "blank
        in source"; "" when all three are numbers; for several, the first), and the 2024 "in
        development" denominator and rate (NaN in other years). The row "England total excluding
        suppressed" (2024 in-development figures only) is left out.

    Raises
    ------
    DataError
        The header rows are not where the published layout has them, or no authority row is found.
    """
    p = Path(path) if path is not None else find_appeal_rate_file(dfe_dir)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError("dfe:tribunal_appeal_rate", "file is not UTF-8", file=str(p)) from exc
    rows = list(csv.reader(io.StringIO(text)))
    head = next((i for i, r in enumerate(rows) if r and r[0].strip().lower() == "local authority"), None)
    if head is None or head + 1 >= len(rows):
        raise DataError(
            "dfe:tribunal_appeal_rate",
            "header row 'Local Authority,LA code,<years>' not found",
            file=str(p),
            detail="the layout differs from the 2025 release's table 1",
        )
    years_row, measures_row = rows[head], rows[head + 1]
    # column -> (year, measure): the year cell starts each block and carries over to its right
    columns: dict[int, tuple[int, str]] = {}
    year = None
    for j in range(2, max(len(years_row), len(measures_row))):
        y = years_row[j].strip() if j < len(years_row) else ""
        if re.fullmatch(r"\d{4}", y):
            year = int(y)
        m = _measure(measures_row[j]) if j < len(measures_row) else None
        if year is not None and m is not None:
            columns[j] = (year, m)
    records = []
    region = ""
    for r in rows[head + 2 :]:
        if not r or not r[0].strip():
            continue
        name, code = r[0].strip(), (r[1].strip() if len(r) > 1 else "")
        if name.lower().startswith(("sources", "notes")):
            break
        if name.lower().startswith("england total excluding"):
            continue
        numbers = [c for c in r[2:] if c.strip()]
        if not code and not numbers:  # a region row
            region = " ".join(w if w in ("and", "the", "of") else w.capitalize() for w in name.lower().split())
            continue
        national = name.lower().startswith("england")
        base = {
            "geographic_level": "National" if national else "Local authority",
            "region_name": "" if national else region,
            "old_la_code": code or None,
            "la_name": "England" if national else _strip_footnote(name),
        }
        by_year: dict[int, dict] = {}
        for j, (y, m) in columns.items():
            cell = r[j] if j < len(r) else ""
            value, reason = _value(cell, rate=m.endswith("_pct"))
            rec = by_year.setdefault(y, {**base, "year": y, "reason": ""})
            rec[m] = value
            if reason and not m.startswith("in_development") and not rec["reason"]:
                rec["reason"] = reason
        records.extend(by_year.values())
    if not records:
        raise DataError("dfe:tribunal_appeal_rate", "no authority rows found below the header", file=str(p))
    out = pd.DataFrame.from_records(records)
    for col in COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out = out[list(COLUMNS)]
    out["old_la_code"] = out["old_la_code"].astype("string")
    out["year"] = out["year"].astype(int)
    return out.sort_values(["geographic_level", "old_la_code", "la_name", "year"], kind="stable").reset_index(drop=True)


def appeal_rate_for(la: str, path: str | Path | None = None, dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """One authority's published appeal rate by year, with England's beside it: ``year``,
    ``appeals_registered``, ``appealable_decisions``, ``appeal_rate_pct``, ``reason``,
    ``england_appeal_rate_pct``."""
    df = read_appeal_rate(path, dfe_dir)
    one = df[df["old_la_code"] == str(la)]
    if one.empty:
        raise DataError("dfe:tribunal_appeal_rate", f"no authority with LA code '{la}' in the file")
    eng = df[df["geographic_level"] == "National"].set_index("year")["appeal_rate_pct"]
    cols = ["year", "appeals_registered", "appealable_decisions", "appeal_rate_pct", "reason"]
    out = one[cols].reset_index(drop=True)
    out["england_appeal_rate_pct"] = out["year"].map(eng)
    return out
