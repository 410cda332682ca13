"""Yearly published series for the aggregate forecast: EHC plans at each January census and new
plans issued in each calendar year, per local authority (DfE SEN2 open data).

The suite's DfE reader :mod:`sendlib.data.dfe` (``caseload_series`` / ``activity_series``) does the
reading; this module shapes its output for the forecast and adds new plans for calendar 2009-2013
from the 2022 release's ``sen2_age_new_plans.csv`` (which ``activity_series`` does not read).
Authorities are joined on the three-digit ``old_la_code``.

Series definitions
------------------
``ehc_plans``  children and young people with a statement or EHC plan at the January census of
               ``year`` (2010-2018 statements plus plans: ``Total_all``; 2019 on ``ehcplans``).
``new_plans``  new EHC plans (and statements) issued in calendar year ``year``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sendlib.core.errors import DataError

#: ``sen2_mi.csv`` ``NewallEHC`` counts new EHC plans only; statements were still issued in 2014-2015,
#: so before 2016 it undercounts new plans (it matches statements + plans from 2016).
NEW_PLANS_COMPLETE_FROM = 2016


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


def _num(s: pd.Series) -> pd.Series:
    """Numbers; DfE symbols (x, z, c, low, u, :) and blanks become missing (never zero)."""
    return pd.to_numeric(s.str.replace(",", "", regex=False).str.strip(), errors="coerce")


def _la_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["geographic_level"].str.strip() == "Local authority"]


def resolve_dfe_dir(dfe_dir: str | Path | None = None) -> Path:
    """``dfe_dir``, else the default config's ``<reference_dir>/dfe`` (the shipped extract);
    a :class:`~sendlib.core.errors.DataError` when the folder holds no caseload file."""
    from sendlib.data import dfe

    d = Path(dfe_dir).expanduser().resolve() if dfe_dir not in (None, "") else dfe.default_dfe_dir()
    if not (d.is_dir() and (any(d.rglob("caseload.csv")) or any(d.rglob("sen2_age_caseload.csv")))):
        raise DataError("dfe", "no DfE caseload file found", detail=f"looked in {d}")
    return d


def _new_plans_2022_age_file(dfe_dir: Path) -> pd.DataFrame:
    """New plans 2009-2021 from the 2022 release ``sen2_age_new_plans.csv`` (if present)."""
    frames = []
    for p in sorted(dfe_dir.rglob("sen2_age_new_plans.csv")):
        d = _la_rows(_read(p))
        d = d[d["characteristic_age"].str.strip() == "Total"]
        frames.append(
            pd.DataFrame(
                {
                    "old_la_code": d["old_la_code"].str.strip(),
                    "year": d["time_period"].astype(int),
                    "new_plans_2022": _num(d["Total_new_all"]),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["old_la_code", "year", "new_plans_2022"])
    return pd.concat(frames).drop_duplicates(["old_la_code", "year"], keep="last")


def published_series(dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """Per-authority yearly series for the aggregate forecast.

    Uses :func:`sendlib.data.dfe.caseload_series` (January 2010-2025) and
    :func:`sendlib.data.dfe.activity_series` (new plans, calendar 2014 on), filling new plans for
    2009-2013 from the 2022 release's ``sen2_age_new_plans.csv`` where that file is present.

    Returns
    -------
    DataFrame
        ``old_la_code``, ``la_name``, ``year``, ``ehc_plans`` (January census of ``year``) and
        ``new_plans`` (issued in calendar ``year``; NaN where not published), ``requests``
        (requests for an EHC needs assessment received in calendar ``year``, 2016 on), one row per
        authority x year, sorted.
    """
    d = resolve_dfe_dir(dfe_dir)
    from sendlib.data import dfe

    stock = dfe.caseload_series(d)
    stock = stock[stock["geographic_level"] == dfe.LEVEL_LA]
    out = stock[["old_la_code", "la_name", "year", "ehc_plans"]].copy()
    act = dfe.activity_series(d)
    act = act[act["geographic_level"] == dfe.LEVEL_LA][["old_la_code", "year", "new_plans", "requests"]]
    act = act[act["year"] >= NEW_PLANS_COMPLETE_FROM]
    out = out.merge(act, on=["old_la_code", "year"], how="outer")
    old = _new_plans_2022_age_file(d)
    if len(old):
        out = out.merge(old, on=["old_la_code", "year"], how="outer")
        out["new_plans"] = out["new_plans"].fillna(out.pop("new_plans_2022"))
    names = out.dropna(subset=["la_name"]).sort_values("year").groupby("old_la_code")["la_name"].last()
    out["la_name"] = out["old_la_code"].map(names)
    out["old_la_code"] = out["old_la_code"].astype(str).str.strip()
    out = out[out["old_la_code"].str.len() > 0]
    out["year"] = out["year"].astype(int)
    out["ehc_plans"] = pd.to_numeric(out["ehc_plans"], errors="coerce").astype(float)
    out["new_plans"] = pd.to_numeric(out["new_plans"], errors="coerce").astype(float)
    out = out.sort_values(["old_la_code", "year"]).reset_index(drop=True)
    out["new_plans"] = implausible_new_plans_as_missing(out)
    out["requests"] = pd.to_numeric(out["requests"], errors="coerce").astype(float)
    return out[["old_la_code", "la_name", "year", "ehc_plans", "new_plans", "requests"]]


def implausible_new_plans_as_missing(series: pd.DataFrame) -> pd.Series:
    """New-plan counts with publication errors set to missing.

    Two rules, both seen in the files: (1) one value repeated for several authorities in the same
    year (the 2025 release's ``newplans.csv`` gives all 15 Yorkshire and the Humber authorities the
    regional total, 6,078, for 2022); (2) more plans issued in a year than the authority held at
    the next January census.
    """
    s = series.sort_values(["old_la_code", "year"])
    new = s["new_plans"]
    counts = s.groupby(["year", "new_plans"])["old_la_code"].transform("size")
    repeated = (counts >= 5) & (new >= 100)
    next_stock = s.groupby("old_la_code")["ehc_plans"].shift(-1)
    too_many = new > next_stock
    return new.mask(repeated | too_many).reindex(series.index)


def requests_wide(series: pd.DataFrame) -> np.ndarray | None:
    """Requests received per calendar year, aligned with :func:`to_wide` (None without the column)."""
    if "requests" not in series.columns:
        return None
    codes = pd.Index(sorted(series["old_la_code"].unique()))
    years = np.arange(int(series["year"].min()), int(series["year"].max()) + 1)
    r = series.pivot_table(index="old_la_code", columns="year", values="requests", aggfunc="first", dropna=False)
    return r.reindex(index=codes, columns=years).to_numpy(float)


def to_wide(series: pd.DataFrame) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """Arrays for the vectorised methods: (codes, years, stock[n, T], new[n, T]) with NaN gaps."""
    codes = pd.Index(sorted(series["old_la_code"].unique()))
    years = np.arange(int(series["year"].min()), int(series["year"].max()) + 1)
    stock = series.pivot_table(index="old_la_code", columns="year", values="ehc_plans", aggfunc="first", dropna=False)
    new = series.pivot_table(index="old_la_code", columns="year", values="new_plans", aggfunc="first", dropna=False)
    stock = stock.reindex(index=codes, columns=years).to_numpy(float)
    new = new.reindex(index=codes, columns=years).to_numpy(float)
    return codes, years, stock, new
