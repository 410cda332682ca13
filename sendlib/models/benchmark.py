"""Benchmark one authority against its region and England on the DfE's published SEN2 figures.

Pure functions on the series from :mod:`sendlib.data.dfe`:

* :func:`indicator_frame` - one row per geography (England, region, authority) x year, a column
  per indicator (:data:`INDICATORS`);
* :func:`rank_authorities` - each authority's rank among all authorities with a value that year;
* :func:`compare` - the authority, its region and England side by side, one row per indicator x
  year, with the authority's rank;
* :func:`benchmark` - the above on the files in ``dfe_dir`` (default: the shipped extract).

Ranks: **1 = the highest value** among authorities with a published value that year (ties share
the lower rank, "min" method), whatever the direction of good; the ``better`` column says which
way is good (``up``, ``down`` or ``context``). ``n_ranked`` is the number of authorities ranked
(151-153: boundary changes; missing values are not ranked).

Not included: plans per 10,000 population aged 0-25 (no population for all 153 authorities is
shipped; the KPI dashboard's K4 gives the county's own rate from its population table).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sendlib.core.errors import DataError, UsageError
from sendlib.data.dfe import (
    LEVEL_LA,
    LEVEL_NATIONAL,
    LEVEL_REGIONAL,
    activity_series,
    caseload_series,
    default_dfe_dir,
    placement_mix,
)


@dataclass(frozen=True)
class Indicator:
    """One benchmark indicator: its column, label, unit, period kind, direction of good, and the
    axis label a chart uses (with units)."""

    name: str
    label: str
    unit: str
    period: str  # "january" (census year) or "calendar" (calendar year)
    better: str  # "up", "down" or "context"
    axis: str = ""


#: The indicators, in display order.
INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "ehc_plans", "EHC plans (statements + plans before 2019)", "count", "january", "context", "EHC plans (count)"
    ),
    Indicator(
        "growth_pct",
        "Growth in EHC plans on previous January",
        "%",
        "january",
        "context",
        "% change on previous January",
    ),
    Indicator(
        "timeliness_20wk_excl_pct",
        "New plans issued within 20 weeks (excl. exceptions)",
        "%",
        "calendar",
        "up",
        "% of new plans without exceptions",
    ),
    Indicator(
        "requests_not_assessed_pct",
        "Requests not assessed (% of requests received; DfE request_not_assess_pc)",
        "%",
        "calendar",
        "down",
        "% of requests received",
    ),
    Indicator(
        "refused_of_decisions_pct",
        "Assessment decisions that were refusals (% of decisions made; KPI K2 basis)",
        "%",
        "calendar",
        "down",
        "% of assessment decisions",
    ),
    Indicator(
        "decided_within_6_weeks_pct",
        "Decisions whether to assess made within 6 weeks (DfE request_outcome_six_weeks_pc)",
        "%",
        "calendar",
        "up",
        "% of requests decided",
    ),
    Indicator(
        "appeal_rate_pct",
        "SEND Tribunal appeal rate (appeals registered, % of appealable decisions; DfE / MoJ)",
        "%",
        "calendar",
        "down",
        "% of appealable decisions",
    ),
    Indicator("special_pct", "EHC plans in special schools", "%", "january", "context", "% of EHC plans"),
    Indicator(
        "inmss_pct",
        "EHC plans in independent / non-maintained special schools",
        "%",
        "january",
        "down",
        "% of EHC plans",
    ),
)
_BY_NAME = {i.name: i for i in INDICATORS}

KEYS = ["old_la_code", "la_name", "region_code", "region_name", "geographic_level", "year"]


def add_growth(caseload: pd.DataFrame, column: str = "ehc_plans") -> pd.DataFrame:
    """Add ``growth_pct``: per cent change of ``column`` on the same geography's previous year.

    NaN when the previous year is missing (e.g. an authority's first census after a boundary
    change) or is zero. Geographies are told apart by ``geographic_level``, ``region_code`` and
    ``old_la_code``.
    """
    out = caseload.copy()
    geo = ["geographic_level", "region_code", "old_la_code"]
    prev = out[geo + ["year", column]].copy()
    prev["year"] = prev["year"] + 1
    prev = prev.rename(columns={column: "_prev"})
    out = out.merge(prev, on=geo + ["year"], how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["growth_pct"] = np.where(out["_prev"] > 0, 100 * (out[column] / out["_prev"] - 1), np.nan)
    return out.drop(columns="_prev")


def combine_indicators(
    caseload: pd.DataFrame, activity: pd.DataFrame, mix: pd.DataFrame, appeals: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Join the series into one frame: a row per geography x year, a column per indicator.

    ``appeals`` (optional) is :func:`sendlib.data.tribunals.read_appeal_rate`: the published
    appeal rate, joined by authority code (England by level) and calendar year; regions have none.

    January-census indicators and calendar-year indicators share the ``year`` column (census year
    or calendar year respectively, see :data:`INDICATORS`); ``reason`` joins the series' reasons.
    """
    cl = add_growth(caseload)[KEYS + ["ehc_plans", "growth_pct", "reason"]].rename(columns={"reason": "r1"})
    measures = ["timeliness_20wk_excl_pct", "requests_not_assessed_pct", "refused_of_decisions_pct"]
    measures += ["decided_within_6_weeks_pct"]
    ac = activity[KEYS + measures + ["reason"]].rename(columns={"reason": "r2"})
    mx = mix[KEYS + ["special_pct", "inmss_pct", "reason"]].rename(columns={"reason": "r3"})
    out = cl.merge(ac, on=KEYS, how="outer").merge(mx, on=KEYS, how="outer")
    joined = out["r1"].fillna("").astype(str)
    for col in ("r2", "r3"):
        nxt = out[col].fillna("").astype(str)
        sep = np.where((joined != "") & (nxt != ""), "; ", "")
        joined = joined + sep + nxt
    out["reason"] = joined
    out = out.drop(columns=["r1", "r2", "r3"])
    ap = _appeal_keys(appeals, out)
    out = out.merge(ap, on=KEYS, how="outer") if ap is not None else out.assign(appeal_rate_pct=np.nan)
    out["reason"] = out["reason"].fillna("")
    return out.sort_values(KEYS[4:] + KEYS[:1]).reset_index(drop=True)


def _appeal_keys(appeals: pd.DataFrame | None, frame: pd.DataFrame) -> pd.DataFrame | None:
    """The published appeal rate keyed like ``frame`` (:data:`KEYS`): authorities by their code,
    England by level; authorities ``frame`` does not know (ceased councils) are left out."""
    if appeals is None or appeals.empty:
        return None
    geo = frame[KEYS[:5]].drop_duplicates(["geographic_level", "old_la_code"])
    ap = appeals[["geographic_level", "old_la_code", "year", "appeal_rate_pct"]].copy()
    ap["old_la_code"] = ap["old_la_code"].astype("string").fillna("").astype(str)
    ap = ap.merge(geo.astype({"old_la_code": str}), on=["geographic_level", "old_la_code"], how="inner")
    ap["year"] = ap["year"].astype(frame["year"].dtype)
    return ap[KEYS + ["appeal_rate_pct"]]


def indicator_frame(dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """All indicators for England, the regions and every authority, from the files in ``dfe_dir``."""
    folder = Path(default_dfe_dir() if dfe_dir in (None, "") else dfe_dir).expanduser().resolve()
    stamp = max((p.stat().st_mtime_ns for p in folder.rglob("*.csv")), default=0)
    return _indicator_frame_cached(str(folder), stamp).copy()


@lru_cache(maxsize=4)
def _indicator_frame_cached(folder: str, stamp: int) -> pd.DataFrame:
    """Cached per folder and newest file time (a changed file gives a fresh read)."""
    from sendlib.data.tribunals import read_appeal_rate

    try:
        appeals = read_appeal_rate(dfe_dir=folder)
    except DataError:  # a folder without the appeal-rate table: the other indicators still work
        appeals = None
    return combine_indicators(caseload_series(folder), activity_series(folder), placement_mix(folder), appeals)


def rank_authorities(frame: pd.DataFrame, indicators: list[str] | None = None) -> pd.DataFrame:
    """Rank authorities per year on each indicator: 1 = highest value; ties share the lower rank.

    Returns the local-authority rows of ``frame`` with ``<indicator>_rank`` (float, NaN when the
    authority has no value) and ``<indicator>_n`` (authorities ranked that year) added.
    """
    names = indicators or [i.name for i in INDICATORS if i.name in frame.columns]
    la = frame[frame["geographic_level"] == LEVEL_LA].copy()
    for name in names:
        grp = la.groupby("year")[name]
        la[f"{name}_rank"] = grp.rank(ascending=False, method="min")
        la[f"{name}_n"] = grp.transform("count")
    return la


def resolve_la(la: str, frame: pd.DataFrame) -> str:
    """The 3-digit ``old_la_code`` for ``la`` (a code, or an authority's name, any case).

    Raises
    ------
    UsageError
        When no authority has that code or name; the message names the input and suggests close
        names and their codes.
    """
    las = frame[frame["geographic_level"] == LEVEL_LA][["old_la_code", "la_name", "year"]]
    las = las.sort_values("year").drop_duplicates("old_la_code", keep="last")
    text = str(la).strip()
    if text.isdigit() and text.zfill(3) in set(las["old_la_code"]):
        return text.zfill(3)
    by_name = {n.lower(): c for c, n in zip(las["old_la_code"], las["la_name"])}
    if text.lower() in by_name:
        return by_name[text.lower()]
    names = list(las["la_name"])
    close = difflib.get_close_matches(text, names, n=4, cutoff=0.5)
    if not close and text.isdigit():
        near = sorted(las["old_la_code"], key=lambda c: abs(int(c) - int(text)))[:4]
        close = [las.set_index("old_la_code").loc[c, "la_name"] for c in near]
    if not close:
        close = difflib.get_close_matches(text, names, n=4, cutoff=0.0)
    hint = ", ".join(f"{n} ({by_name[n.lower()]})" for n in close)
    raise UsageError(
        f"unknown local authority '{la}': not a DfE 3-digit old_la_code or authority name in the SEN2 "
        f"data; close: {hint}"
    )


def compare(frame: pd.DataFrame, la: str, indicators: list[str] | None = None) -> pd.DataFrame:
    """The authority ``la`` beside its region and England, per indicator and year.

    Parameters
    ----------
    frame : output of :func:`indicator_frame` (or a hand-built frame with the same columns).
    la : DfE 3-digit ``old_la_code`` or authority name.
    indicators : indicator names (default: all of :data:`INDICATORS` present in ``frame``).

    Returns
    -------
    DataFrame
        One row per indicator x year in which the authority has a row: ``old_la_code``,
        ``la_name``, ``region_name``, ``indicator``, ``label``, ``unit``, ``period``
        (``January census`` or ``calendar year``), ``year``, ``la_value``, ``region_value``,
        ``england_value``, ``rank`` (1 = highest), ``n_ranked``, ``better``, ``reason``.
    """
    code = resolve_la(la, frame)
    names = indicators or [i.name for i in INDICATORS if i.name in frame.columns]
    ranked = rank_authorities(frame, names)
    mine = ranked[ranked["old_la_code"] == code]
    latest = mine.sort_values("year").iloc[-1]
    region_code, region_name, la_name = latest["region_code"], latest["region_name"], latest["la_name"]
    reg = frame[(frame["geographic_level"] == LEVEL_REGIONAL) & (frame["region_code"] == region_code)]
    eng = frame[frame["geographic_level"] == LEVEL_NATIONAL]
    mine_rows = [r for _, r in mine.sort_values("year").iterrows()]
    # rows of the region and England per year, in table order
    reg_at = pd.Series(np.arange(len(reg))).groupby(reg["year"].to_numpy()).agg(list).to_dict()
    eng_at = pd.Series(np.arange(len(eng))).groupby(eng["year"].to_numpy()).agg(list).to_dict()
    rows = []
    for name in names:
        ind = _BY_NAME.get(name, Indicator(name, name, "", "", "context"))
        reg_col, eng_col = reg[name].to_numpy(), eng[name].to_numpy()
        for r in mine_rows:
            y = r["year"]
            rv = reg_col[reg_at.get(y, [])]
            ev = eng_col[eng_at.get(y, [])]
            la_value = r[name]
            if pd.isna(la_value) and pd.isna(rv).all() and pd.isna(ev).all():
                continue  # no one has this indicator this year (e.g. timeliness before 2014)
            reason = ""
            if pd.isna(la_value):
                bits = [p for p in str(r.get("reason", "")).split("; ") if p]
                reason = "; ".join(bits) or "not published for this authority"
            rows.append(
                {
                    "old_la_code": code,
                    "la_name": la_name,
                    "region_name": region_name,
                    "indicator": name,
                    "label": ind.label,
                    "unit": ind.unit,
                    "period": {"january": "January census", "calendar": "calendar year"}.get(ind.period, ""),
                    "year": int(y),
                    "la_value": la_value,
                    "region_value": rv[0] if len(rv) else np.nan,
                    "england_value": ev[0] if len(ev) else np.nan,
                    "rank": r[f"{name}_rank"],
                    "n_ranked": r[f"{name}_n"],
                    "better": ind.better,
                    "reason": reason,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["rank"] = out["rank"].astype("Int64")
        out["n_ranked"] = out["n_ranked"].astype("Int64")
    return out


def latest(comparison: pd.DataFrame) -> pd.DataFrame:
    """The latest year with a value for the authority, per indicator (rows of :func:`compare`)."""
    have = comparison[comparison["la_value"].notna()]
    idx = have.groupby("indicator")["year"].idxmax()
    order = {i.name: k for k, i in enumerate(INDICATORS)}
    out = have.loc[idx].copy()
    out["_o"] = out["indicator"].map(order).fillna(99)
    return out.sort_values("_o").drop(columns="_o").reset_index(drop=True)


def benchmark(la: str, dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """Compare authority ``la`` with its region and England on the SEN2 files in ``dfe_dir``
    (default ``<reference_dir>/dfe``, the shipped extract). See :func:`compare`."""
    return compare(indicator_frame(dfe_dir), la)


def describe(comparison: pd.DataFrame) -> str:
    """One sentence naming the authority, its region and the latest year of data of each kind."""
    if comparison.empty:
        return "No published figures for this authority."
    first = comparison.iloc[0]
    have = comparison[comparison["la_value"].notna()]
    parts = []
    jan = have.loc[have["period"] == "January census", "year"]
    cal = have.loc[have["period"] == "calendar year", "year"]
    if len(jan):
        parts.append(f"January {int(jan.max())} census (caseload, placement mix)")
    if len(cal):
        parts.append(
            f"calendar year {int(cal.max())} (requests, refusals, decisions within 6 weeks, 20-week timeliness)"
        )
    return (
        f"{first['la_name']} (DfE code {first['old_la_code']}), {first['region_name']} region. "
        f"Latest data: " + "; ".join(parts) + "."
    )
