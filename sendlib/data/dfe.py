"""Readers for the DfE's published SEN2 statistics ("Education, health and care plans").

The DfE publishes SEN2 on explore-education-statistics (EES) as tidy CSVs: one row per period x
geography x filter, standard geography columns (``time_period``, ``time_identifier``,
``geographic_level``, ``country_code``, ``region_code``, ``region_name``, ``new_la_code``,
``old_la_code``, ``la_name``), filter columns (``breakdown_topic``/``breakdown`` in the 2025
release; ``characteristic_age``, ``establishment_group``/``establishment_type`` in the 2022
release) and one column per indicator, with symbols in place of numbers.

What this module takes care of (all seen in the real files):

* encodings: the 2025 files are UTF-8 with a byte-order mark and CRLF line ends; the 2022 files
  have no BOM, LF, and ``""`` for blanks. Columns are read **by name**, never by position (the
  order of ``old_la_code``/``new_la_code`` differs between releases); a duplicated header (the
  2025 ``annual_reviews.csv`` repeats ``review_meeting_prior_24``) keeps its first copy.
* symbols: every non-number becomes ``NaN`` in ``value`` with its meaning in ``reason``
  (:data:`SYMBOLS`), never zero.
* periods: ``year`` is the January census year for caseload files (``202425`` "Academic year" =
  January 2025; the 2022 release labels the same census ``2022`` "Calendar year") and the
  calendar year for activity files (requests, assessments, timeliness, new and ceased plans).
* authorities are keyed by the three-digit ``old_la_code``: ``new_la_code`` changes between years
  for some councils (Buckinghamshire 825: E10000002 -> E06000060 -> E10000002 again in the 2025
  release).
* renamed indicators are mapped to one name (:data:`MEASURE_NAMES`).

Files are found by name anywhere under ``dfe_dir`` (default ``<config.reference_dir>/dfe``, the
shipped extract), so the same readers work on the shipped extract, on the full downloads, and on
a newer release dropped into a folder. When a name occurs more than once the last path in sorted
order wins (``dfe_ehcp_2026_release/caseload.csv`` beats ``dfe_ehcp_2025_release/caseload.csv``).

Source: Department for Education, "Education, health and care plans", explore-education-statistics
(releases 2022 and 2025), Open Government Licence v3.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sendlib.core.errors import DataError, UsageError

#: Meaning of each EES symbol (lower-cased). A blank cell is "blank in source".
SYMBOLS: dict[str, str] = {
    "z": "not applicable",
    "x": "unavailable",
    "c": "suppressed",
    "low": "rounds to zero",
    "k": "rounds to zero",
    "u": "low reliability",
    ":": "not available",
    "..": "not available",
    "": "blank in source",
}

#: Standard EES geography and time columns (kept as identifiers, never melted).
ID_COLUMNS: tuple[str, ...] = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "new_la_code",
    "old_la_code",
    "la_name",
)

#: Filter columns known in the SEN2 releases (others are detected: non-numeric text columns).
KNOWN_FILTERS: tuple[str, ...] = (
    "breakdown_topic",
    "breakdown",
    "characteristic_age",
    "establishment_group",
    "establishment_type",
)

#: Indicators renamed between releases -> one name (2022-release and 2025-release spellings).
#: Indicators not listed keep their published name.
MEASURE_NAMES: dict[str, str] = {
    # caseload (January census)
    "ehcplans": "ehc_plans",  # 2025 caseload.csv
    "total_ehc_plans": "ehc_plans",  # 2025 annual_reviews.csv
    "Total_ehc": "ehc_plans",  # 2022 sen2_*_caseload.csv: EHC plans only
    "Total_st": "statements",  # 2022: statements of SEN (to January 2018)
    "Total_all": "ehc_plans_and_statements",  # 2022: statements + EHC plans
    "Total_ehc_pc": "ehc_plans_pc",
    "Total_st_pc": "statements_pc",
    "Total_all_pc": "ehc_plans_and_statements_pc",
    # activity (calendar year)
    "InreqEHC": "requests_received_in_year",
    "AssRefusedEHC": "requests_decided_not_to_assess",
    "AssRefusedEHC_pc": "request_not_assess_pc",
    "NewallEHC": "new_ehc_plans",
    "AssnoneEHC": "assess_not_issued",
    "TotIncExcEHC": "plans_issued_den",
    "IncExc20weekEHC": "plans_issued_within_20_weeks",
    "IncExc20weekRate": "pc_plans_issued_within_20_weeks",
    "TotNoExcEHC": "plans_issued_den_ex",
    "NoExc20weekEHC": "plans_issued_20_weeks_ex",
    "NoExc20weekRate": "pc_plans_issued_20_weeks_ex",
    "PC_plans_issued_20_weeks_ex": "pc_plans_issued_20_weeks_ex",
}

#: The SEN2 files the suite knows, by short name -> file name. Era: "2025" (person-level SEN2,
#: January 2019 onwards) or "2022" (aggregate SEN2, January 2010 - January 2022).
FILES: dict[str, str] = {
    "caseload": "caseload.csv",
    "requests": "requests.csv",
    "assessments": "assessments.csv",
    "timeliness_20_week": "timeliness_20_week.csv",
    "newplans": "newplans.csv",
    "ceased_plans": "ceased_plans.csv",
    "annual_reviews": "annual_reviews.csv",
    "sen_needs_all_plans": "sen_needs_all_plans.csv",
    "sen2_age_caseload": "sen2_age_caseload.csv",
    "sen2_estab_caseload": "sen2_estab_caseload.csv",
    "sen2_mi": "sen2_mi.csv",
}

#: Files whose rows are January censuses (``year`` = the census year).
CENSUS_FILES = frozenset({"caseload", "sen_needs_all_plans", "sen2_age_caseload", "sen2_estab_caseload"})

LEVEL_NATIONAL = "National"
LEVEL_REGIONAL = "Regional"
LEVEL_LA = "Local authority"

SOURCE_LINE = (
    "Source: DfE, Education, health and care plans (SEN2), explore-education-statistics, "
    "releases 2022 and 2025; Open Government Licence v3.0"
)


# --------------------------------------------------------------------------------------------
# locating files
# --------------------------------------------------------------------------------------------


def default_dfe_dir(config: object | None = None) -> Path:
    """The default DfE folder: ``<reference_dir>/dfe`` of ``config`` (default config if None)."""
    if config is None:
        from sendlib.core.config import load_config

        config = load_config()
    return Path(config.reference_dir) / "dfe"


def _dir(dfe_dir: str | Path | None) -> Path:
    d = default_dfe_dir() if dfe_dir in (None, "") else Path(dfe_dir).expanduser().resolve()
    if not d.is_dir():
        raise UsageError(f"DfE data folder not found: {d}")
    return d


def find_file(name: str, dfe_dir: str | Path | None = None) -> Path:
    """Path of a known SEN2 file (short name from :data:`FILES`, or a file name) under ``dfe_dir``.

    Searches ``dfe_dir`` recursively; when several files have the name, the last in sorted path
    order wins (a newer release folder sorts after an older one).

    Raises
    ------
    UsageError
        Unknown short name.
    DataError
        The file is not in the folder (the message names the folder and the file).
    """
    filename = FILES.get(name, name)
    if not filename.endswith(".csv"):
        raise UsageError(f"unknown DfE file '{name}'; expected one of {sorted(FILES)} or a .csv name")
    d = _dir(dfe_dir)
    hits = sorted(d.rglob(filename))
    if not hits:
        raise DataError(
            table=f"dfe:{name}",
            rule=f"file {filename} not found under {d}",
            file=str(d),
            detail="Point --dfe-dir at the shipped extract (data/reference/dfe) or the DfE downloads.",
        )
    return hits[-1]


# --------------------------------------------------------------------------------------------
# the generic reader
# --------------------------------------------------------------------------------------------


def parse_values(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Turn published cells (strings) into numbers and reasons.

    Parameters
    ----------
    raw : Series of str
        Cells as published (numbers, symbols, blanks).

    Returns
    -------
    value : Series of float
        The number, NaN when the cell is not a number.
    reason : Series of str
        Empty when ``value`` is a number; else the symbol's meaning from :data:`SYMBOLS`, or
        ``"not a number: '<cell>'"`` for anything unknown. Never zero for a symbol.
    """
    text = raw.astype("string").fillna("").str.strip()
    value = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").astype(float)
    missing = value.isna()
    low = text.str.lower()
    reason = pd.Series("", index=raw.index, dtype=object)
    mapped = low[missing].map(SYMBOLS)
    unknown = mapped.isna()
    mapped[unknown] = "not a number: '" + text[missing][unknown].astype(str) + "'"
    reason[missing] = mapped.astype(object)
    return value, reason


def period_year(time_period: pd.Series, time_identifier: pd.Series) -> pd.Series:
    """The ``year`` of an EES period.

    A four-digit period (calendar or financial year label) gives that year; a six-digit academic
    year ``YYYYyy`` gives its second calendar year, the year of its January census
    (``202425`` -> 2025). The 2022 release labels caseload by "Calendar year" ``2022`` = January 2022,
    which gives 2022 too.
    """
    tp = time_period.astype("string").str.strip()
    first = pd.to_numeric(tp.str[:4], errors="coerce")
    six = tp.str.len() == 6
    year = first.where(~six, first + 1)
    return year.astype("Int64")


def _clean_code(s: pd.Series) -> pd.Series:
    s = s.astype("string").fillna("").str.strip()
    digits = s.str.fullmatch(r"\d{1,3}")
    return s.where(~digits.fillna(False), s.str.zfill(3))


def read_ees_wide(
    path: str | Path,
    measures: Sequence[str] | None = None,
    table: str | None = None,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Read an EES CSV as strings, by column name, with renamed indicators mapped.

    Returns ``(frame, filter_columns, measure_columns)``; the frame keeps every column (unknown new
    ones too), with ``year`` added and ``old_la_code`` as a 3-digit string. ``measures``
    (canonical names, see :data:`MEASURE_NAMES`) restricts the indicator columns kept.
    """
    path = Path(path)
    table = table or path.stem
    try:
        # utf-8-sig strips the 2025 files' BOM; the csv parser accepts CRLF and LF alike
        usecols = None
        if measures is not None:  # read only what is needed (by name): much faster on big files
            wanted = set(measures)

            def usecols(c: str) -> bool:
                c = str(c).replace("\ufeff", "").strip()
                return c in ID_COLUMNS or c in KNOWN_FILTERS or MEASURE_NAMES.get(c, c) in wanted

        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", usecols=usecols)
    except FileNotFoundError as exc:
        raise DataError(table=f"dfe:{table}", rule="file not found", file=str(path)) from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(table=f"dfe:{table}", rule=f"not a readable UTF-8 CSV ({exc})", file=str(path)) from exc
    # strip stray BOM / whitespace in headers; duplicated headers (pandas adds ".1") keep the first
    df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
    dup = [c for c in df.columns if "." in c and c.rsplit(".", 1)[0] in df.columns and c.rsplit(".", 1)[1].isdigit()]
    df = df.drop(columns=dup)
    for col in ("time_period", "geographic_level"):
        if col not in df.columns:
            raise DataError(
                table=f"dfe:{table}",
                rule="not an explore-education-statistics file: column missing",
                column=col,
                file=str(path),
            )
    if "time_identifier" not in df.columns:
        df["time_identifier"] = ""
    for col in ID_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    df["old_la_code"] = _clean_code(df["old_la_code"])
    df = df.rename(columns={c: MEASURE_NAMES[c] for c in df.columns if c in MEASURE_NAMES})
    df["year"] = period_year(df["time_period"], df["time_identifier"])
    others = [c for c in df.columns if c not in ID_COLUMNS and c != "year"]
    filters: list[str] = []
    found: list[str] = []
    for c in others:
        if c in KNOWN_FILTERS:
            filters.append(c)
            continue
        col = df[c].astype("string").str.strip()
        numeric = pd.to_numeric(col.str.replace(",", "", regex=False), errors="coerce").notna()
        symbol = col.str.lower().isin(list(SYMBOLS))
        (found if bool((numeric | symbol).all()) else filters).append(c)
    if measures is not None:
        missing = [m for m in measures if m not in found]
        if missing:
            raise DataError(
                table=f"dfe:{table}",
                rule=f"indicator column(s) {missing} not in file",
                column=missing[0],
                file=str(path),
                detail=f"indicators present: {found[:12]}{' ...' if len(found) > 12 else ''}",
            )
        found = list(measures)
    keep = list(ID_COLUMNS) + ["year"] + filters + found
    return df[keep].copy(), filters, found


def is_total_row(frame: pd.DataFrame, filters: Iterable[str]) -> pd.Series:
    """True for rows whose every filter is the total ("All ...", "Total", or breakdown == topic).

    The total label's wording changes between releases and files ("All EHC plans",
    "All requests for EHC needs assessments", "New EHC plans" with topic "New EHC plans", "Total").
    """
    filters = list(filters)
    ok = pd.Series(True, index=frame.index)
    same = None
    if "breakdown" in frame.columns and "breakdown_topic" in frame.columns:
        same = frame["breakdown"].astype(str).str.strip() == frame["breakdown_topic"].astype(str).str.strip()
    for f in filters:
        v = frame[f].astype(str).str.strip().str.lower()
        total = (v == "total") | v.str.startswith("all ") | (v == "all")
        if same is not None and f in ("breakdown", "breakdown_topic"):
            total = total | same
        ok &= total
    return ok


def read_ees(
    path: str | Path,
    measures: Sequence[str] | None = None,
    totals_only: bool = False,
    table: str | None = None,
) -> pd.DataFrame:
    """Read any explore-education-statistics CSV as a tidy long frame.

    Parameters
    ----------
    path : path to the CSV (any EES file; BOM/CRLF or not).
    measures : indicator names to keep (after :data:`MEASURE_NAMES` mapping); default all.
    totals_only : keep only the rows where every filter is its total ("All ..." / "Total").
    table : name used in error messages (default: the file stem).

    Returns
    -------
    DataFrame
        ``time_period``, ``time_identifier``, ``year``, ``geographic_level``, ``country_code``,
        ``country_name``, ``region_code``, ``region_name``, ``new_la_code``, ``old_la_code``
        (3-digit string), ``la_name``, the file's filter columns, ``measure``, ``value`` (float,
        NaN when not published) and ``reason`` (empty, or why the value is missing).

    Raises
    ------
    DataError
        When the file is missing, unreadable, not an EES layout, or lacks a requested indicator.
    """
    wide, filters, found = read_ees_wide(path, measures=measures, table=table)
    if totals_only:
        wide = wide[is_total_row(wide, filters)]
    ids = list(ID_COLUMNS) + ["year"] + filters
    long = wide.melt(id_vars=ids, value_vars=found, var_name="measure", value_name="raw")
    long["value"], long["reason"] = parse_values(long["raw"])
    return long.drop(columns="raw").reset_index(drop=True)


def read_file(
    name: str,
    dfe_dir: str | Path | None = None,
    measures: Sequence[str] | None = None,
    totals_only: bool = False,
) -> pd.DataFrame:
    """Read one SEN2 file by short name (see :data:`FILES`) from ``dfe_dir`` as a tidy long frame.

    Works on the full downloads and on the shipped extract (same layout, fewer rows and columns).
    See :func:`read_ees` for the columns.

    A file read before in this process (same path, modification time and size, same measures)
    is not parsed again: the forecast's published series and the benchmark read the same files.
    Each call returns its own copy.
    """
    path = find_file(name, dfe_dir)
    stat = path.stat()
    return _read_file_cached(
        str(path),
        stat.st_mtime_ns,
        stat.st_size,
        None if measures is None else tuple(measures),
        bool(totals_only),
        name,
    ).copy()


@lru_cache(maxsize=32)
def _read_file_cached(
    path: str, mtime_ns: int, size: int, measures: tuple[str, ...] | None, totals_only: bool, table: str
) -> pd.DataFrame:
    """:func:`read_ees` of one file version (the key holds its time and size), kept for the process."""
    return read_ees(path, measures=None if measures is None else list(measures), totals_only=totals_only, table=table)


# --------------------------------------------------------------------------------------------
# combined series per authority
# --------------------------------------------------------------------------------------------

GEO = ["old_la_code", "la_name", "region_code", "region_name", "geographic_level"]


def _wide(long: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    """Long (one measure per row) -> one row per geography x year, a column per measure, and a
    ``reason`` column joining ``measure: reason`` for the missing cells."""
    keys = GEO + ["year"]
    long = long.copy()
    for c in GEO:
        long[c] = long[c].astype(str)
    vals = long.groupby(keys + ["measure"], sort=False)["value"].first().unstack("measure")
    vals = vals.reindex(columns=list(measures))
    miss = long[long["reason"] != ""].copy()
    miss["r"] = miss["measure"] + ": " + miss["reason"]
    reasons = miss.groupby(keys)["r"].agg("; ".join)
    out = vals.reset_index()
    out.columns.name = None
    out = out.merge(reasons.rename("reason").reset_index(), on=keys, how="left")
    out["reason"] = out["reason"].fillna("").astype(object)
    for m in measures:  # a measure with no row at all for this geography and year
        absent = out[m].isna() & ~out["reason"].str.contains(f"{m}: ", regex=False)
        if absent.any():
            prefix = out.loc[absent, "reason"].where(out.loc[absent, "reason"] == "", out.loc[absent, "reason"] + "; ")
            out.loc[absent, "reason"] = prefix + f"{m}: no row in source"
    return out


def _geo_tidy(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["old_la_code"] = df["old_la_code"].where(df["geographic_level"] == LEVEL_LA, "")
    df["la_name"] = df["la_name"].where(df["geographic_level"] == LEVEL_LA, "")
    nat = df["geographic_level"] == LEVEL_NATIONAL
    df.loc[nat, "region_code"] = ""
    df.loc[nat, "region_name"] = ""
    return df


def _sort(df: pd.DataFrame) -> pd.DataFrame:
    order = {LEVEL_NATIONAL: 0, LEVEL_REGIONAL: 1, LEVEL_LA: 2}
    df = df.assign(_o=df["geographic_level"].map(order).fillna(3))
    df = df.sort_values(["_o", "region_code", "old_la_code", "year"], kind="stable").drop(columns="_o")
    return df.reset_index(drop=True)


def _levels(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["geographic_level"].isin([LEVEL_NATIONAL, LEVEL_REGIONAL, LEVEL_LA])]


#: Reason given to a local-authority value that repeats its region's total (see
#: :func:`flag_regional_copies`).
REGIONAL_COPY = "equals the regional total (error in the DfE file; not this authority's figure)"


def flag_regional_copies(long: pd.DataFrame) -> pd.DataFrame:
    """Set to NaN (with :data:`REGIONAL_COPY` as reason) local-authority values that repeat their
    region's published total for the same measure and year.

    A real defect: in the 2025 release ``newplans.csv``, every Yorkshire and The Humber authority's
    2022 ``new_ehc_plans`` is 6,078, the regional total (Wakefield submitted aggregate figures that
    year). No authority can equal a total of several positive authorities, so the rule is safe;
    zero values are left alone.
    """
    keys = ["year", "region_code", "measure"]
    reg = long.loc[long["geographic_level"] == LEVEL_REGIONAL, keys + ["value"]].rename(columns={"value": "_reg"})
    reg = reg.drop_duplicates(keys)
    out = long.merge(reg, on=keys, how="left")
    bad = (out["geographic_level"] == LEVEL_LA) & (out["value"] > 0) & (out["value"] == out["_reg"])
    out.loc[bad, "value"] = np.nan
    out.loc[bad, "reason"] = REGIONAL_COPY
    return out.drop(columns="_reg")


def caseload_series(dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """EHC plans at each January census, per authority, region and England, January 2010 onwards.

    * January 2019 onwards: ``ehcplans`` of the 2025 release ``caseload.csv`` ("All EHC plans" row).
    * January 2010-2018: ``Total_all`` of the 2022 release ``sen2_age_caseload.csv`` ("Total" age
      row): **statements of SEN plus EHC plans**. Statements were converted to EHC plans between
      2014 and 2018 (Total_ehc alone would show a false jump); from 2019 there are no statements,
      so 2019 onwards the two sources agree (``Total_all`` = ``ehcplans``).

    Where both releases cover a year the later release wins. Councils that ceased (Dorset 835,
    Poole 836, Bournemouth 837 to January 2019; Northamptonshire 928 to January 2021; Cumbria 909
    to January 2023) keep their rows to their last census, and their successors start afterwards
    (see ``caveats.yaml``); :func:`la_lookup` lists the 153 current authorities.

    Returns
    -------
    DataFrame
        ``old_la_code`` (3-digit; empty for England and regions), ``la_name``, ``region_code``,
        ``region_name``, ``geographic_level``, ``year`` (January census year), ``ehc_plans``
        (float; NaN when not published), ``reason`` (why missing, else empty), ``source``
        (file and column used).
    """
    dfe_dir = _dir(dfe_dir)
    new = read_file("caseload", dfe_dir, measures=["ehc_plans"], totals_only=True)
    new = _levels(new)
    new["source"] = "2025 release caseload.csv: ehcplans"
    parts = [new]
    try:
        old = read_file("sen2_age_caseload", dfe_dir, measures=["ehc_plans_and_statements"], totals_only=True)
    except DataError:
        old = None
    if old is not None:
        old = _levels(old)
        old = old[~old["year"].isin(set(new["year"].dropna()))].copy()
        old["measure"] = "ehc_plans"
        old["source"] = "2022 release sen2_age_caseload.csv: Total_all (statements + EHC plans)"
        parts.append(old)
    long = pd.concat(parts, ignore_index=True)
    long = flag_regional_copies(_geo_tidy(long))
    src = long.groupby(GEO + ["year"], dropna=False)["source"].first()
    out = _wide(long, ["ehc_plans"])
    out = out.merge(src.reset_index(), on=GEO + ["year"], how="left")
    out["year"] = out["year"].astype(int)
    cols = GEO[:4] + ["geographic_level", "year", "ehc_plans", "reason", "source"]
    return _sort(out[cols])


#: Activity measures: canonical name -> (2025-release file, 2022-release file sen2_mi).
_ACTIVITY = {
    "requests": ("requests", "requests_received_in_year"),
    "refusals": ("requests", "requests_decided_not_to_assess"),
    "new_plans": ("newplans", "new_ehc_plans"),
    "timeliness_20wk_excl_num": ("timeliness_20_week", "plans_issued_20_weeks_ex"),
    "timeliness_20wk_excl_den": ("timeliness_20_week", "plans_issued_den_ex"),
    "decided_to_assess": ("requests", "requests_decided_to_assess"),
    "decided_within_6_weeks_pct": ("requests", "request_outcome_six_weeks_pc"),
}
#: Activity measures the 2022 release (sen2_mi.csv) does not have: 2023 onwards only.
_ACTIVITY_2025_ONLY = frozenset({"decided_to_assess", "decided_within_6_weeks_pct"})


def activity_series(dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """Requests, refusals to assess, new plans and 20-week timeliness per calendar year.

    Calendar years 2019 onwards from the 2025 release (``requests.csv``: ``requests_received_in_year``,
    ``requests_decided_not_to_assess``; ``newplans.csv``: ``new_ehc_plans``;
    ``timeliness_20_week.csv``: ``plans_issued_20_weeks_ex`` / ``plans_issued_den_ex``), and
    2014-2018 from the 2022 release ``sen2_mi.csv`` (``InreqEHC``, ``AssRefusedEHC``, ``NewallEHC``,
    ``NoExc20weekEHC`` / ``TotNoExcEHC``); where both cover a year the 2025 release wins (they agree
    for 2019-2021). Rows are the "All ..." totals.

    Returns
    -------
    DataFrame
        ``old_la_code``, ``la_name``, ``region_code``, ``region_name``, ``geographic_level``,
        ``year`` (calendar year), ``requests``, ``refusals`` (requests the LA decided not to
        assess), ``new_plans``, ``requests_not_assessed_pct`` (refusals / requests received x 100:
        the DfE's ``request_not_assess_pc``, and its pre-2023 "initial requests refused", so the
        series is one definition throughout), ``decided_to_assess``, ``refused_of_decisions_pct``
        (refusals / (decided to assess + refusals) x 100: the KPI K2 basis, 2023 on),
        ``decided_within_6_weeks_pct`` (``request_outcome_six_weeks_pc`` as published, 2023 on),
        ``timeliness_20wk_excl_num``, ``timeliness_20wk_excl_den``,
        ``timeliness_20wk_excl_pct`` (num / den x 100; NaN when den is 0 or missing),
        ``reason`` (``measure: reason`` for each missing value).
    """
    dfe_dir = _dir(dfe_dir)
    parts = []
    for name in sorted({f for f, _ in _ACTIVITY.values()}):
        want = {k: m for k, (f, m) in _ACTIVITY.items() if f == name}
        d = read_file(name, dfe_dir, measures=sorted(set(want.values())), totals_only=True)
        back = {}
        for k, m in want.items():
            back.setdefault(m, []).append(k)
        for m, ks in back.items():
            for k in ks:
                parts.append(d[d["measure"] == m].assign(measure=k))
    new = pd.concat(parts, ignore_index=True)
    new = _levels(new)
    years_new = set(new["year"].dropna())
    try:
        mi = read_file(
            "sen2_mi",
            dfe_dir,
            measures=sorted({m for k, (_, m) in _ACTIVITY.items() if k not in _ACTIVITY_2025_ONLY}),
        )
    except DataError:
        mi = None
    all_parts = [new]
    if mi is not None:
        mi = _levels(mi)
        mi = mi[~mi["year"].isin(years_new)]
        for k, (_, m) in _ACTIVITY.items():
            if k not in _ACTIVITY_2025_ONLY:
                all_parts.append(mi[mi["measure"] == m].assign(measure=k))
    long = flag_regional_copies(_geo_tidy(pd.concat(all_parts, ignore_index=True)))
    out = _wide(long, list(_ACTIVITY))
    out["year"] = out["year"].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["requests_not_assessed_pct"] = np.where(
            out["requests"] > 0, 100 * out["refusals"] / out["requests"], np.nan
        )
        decided = out["decided_to_assess"] + out["refusals"]
        out["refused_of_decisions_pct"] = np.where(decided > 0, 100 * out["refusals"] / decided, np.nan)
        den = out["timeliness_20wk_excl_den"]
        out["timeliness_20wk_excl_pct"] = np.where(den > 0, 100 * out["timeliness_20wk_excl_num"] / den, np.nan)
    zero = out["timeliness_20wk_excl_den"] == 0
    out.loc[zero, "reason"] = out.loc[zero, "reason"].where(
        out.loc[zero, "reason"] == "", out.loc[zero, "reason"] + "; "
    )
    out.loc[zero, "reason"] += "timeliness_20wk_excl_pct: no plans without exceptions (denominator 0)"
    cols = GEO[:4] + [
        "geographic_level",
        "year",
        "requests",
        "refusals",
        "requests_not_assessed_pct",
        "decided_to_assess",
        "refused_of_decisions_pct",
        "decided_within_6_weeks_pct",
        "new_plans",
        "timeliness_20wk_excl_num",
        "timeliness_20wk_excl_den",
        "timeliness_20wk_excl_pct",
        "reason",
    ]
    return _sort(out[cols])


#: 2022-release establishment types counted as independent / non-maintained special (INMSS).
_INMSS_2022 = ("Special - Independent", "Special - Non-maintained")


def placement_mix(dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """Share of EHC plans in special schools and in INMSS, per January census.

    * January 2019 onwards (2025 release ``caseload.csv``): ``special_total`` / ``ehcplans``;
      INMSS = ``special_independent`` + ``special_non_maintained``.
    * January 2010-2018 (2022 release ``sen2_estab_caseload.csv``, ``Total_all`` = statements +
      EHC plans): "Special school"/"Total" over "Total"/"Total" of the same file; INMSS =
      "Special - Independent" + "Special - Non-maintained". The establishment file's total can
      differ from the age file's (it is the denominator used here, so shares are consistent).

    Special schools include maintained, academy/free, independent and non-maintained special
    schools (and hospital schools in the maintained count).

    Returns
    -------
    DataFrame
        geography columns, ``year``, ``ehc_plans`` (denominator), ``special``, ``inmss``,
        ``special_pct``, ``inmss_pct`` (per cent of all plans), ``reason``.
    """
    dfe_dir = _dir(dfe_dir)
    cols = ["ehc_plans", "special_total", "special_independent", "special_non_maintained"]
    new = _levels(read_file("caseload", dfe_dir, measures=cols, totals_only=True))
    w = _wide(flag_regional_copies(_geo_tidy(new)), cols)
    w["special"] = w["special_total"]
    w["inmss"] = w["special_independent"] + w["special_non_maintained"]
    parts = [w]
    try:
        est = read_file("sen2_estab_caseload", dfe_dir, measures=["ehc_plans_and_statements"])
    except DataError:
        est = None
    if est is not None:
        est = _geo_tidy(_levels(est))
        est = est[~est["year"].isin(set(w["year"].dropna()))]
        g, t = est["establishment_group"], est["establishment_type"]
        pick = {
            "ehc_plans": (g == "Total") & (t == "Total"),
            "special": (g == "Special school") & (t == "Total"),
            "inmss": t.isin(_INMSS_2022),
        }
        frames = []
        for k, mask in pick.items():
            sub = est[mask].assign(measure=k)
            if k == "inmss":
                sub = (
                    sub.groupby(GEO + ["year", "measure"], dropna=False)
                    .agg(
                        value=("value", lambda s: s.sum(min_count=len(s))),
                        reason=("reason", lambda s: "; ".join(x for x in s if x)),
                    )
                    .reset_index()
                )
            frames.append(sub[GEO + ["year", "measure", "value", "reason"]])
        parts.append(
            _wide(flag_regional_copies(pd.concat(frames, ignore_index=True)), ["ehc_plans", "special", "inmss"])
        )
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["special_pct"] = np.where(out["ehc_plans"] > 0, 100 * out["special"] / out["ehc_plans"], np.nan)
        out["inmss_pct"] = np.where(out["ehc_plans"] > 0, 100 * out["inmss"] / out["ehc_plans"], np.nan)
    keep = GEO[:4] + ["geographic_level", "year", "ehc_plans", "special", "inmss", "special_pct", "inmss_pct", "reason"]
    return _sort(out[keep])


def check_sums_to_national(
    frame: pd.DataFrame, measure: str, all_years: bool = False, tolerance: float = 0.5
) -> pd.DataFrame:
    """Years where the local-authority rows of ``measure`` do not add up to England's.

    Parameters
    ----------
    frame : a series frame (e.g. :func:`caseload_series`) with ``geographic_level``, ``year`` and
        a numeric column ``measure``.
    measure : the column to check (a count, not a percentage).
    all_years : return every year (with ``matches``) instead of only the failing ones.
    tolerance : absolute difference allowed (counts are whole numbers; default 0.5).

    Returns
    -------
    DataFrame
        ``year``, ``england``, ``la_sum``, ``difference`` (la_sum - england), ``n_authorities``
        (LA rows with a number), ``n_missing`` (LA rows without), ``matches``. Empty when every
        year matches (unless ``all_years``). Years in which nothing was published are skipped.
    """
    if measure not in frame.columns:
        raise UsageError(f"check_sums_to_national: column '{measure}' not in frame; columns: {list(frame.columns)}")
    nat = frame[frame["geographic_level"] == LEVEL_NATIONAL].groupby("year")[measure].sum(min_count=1)
    la = frame[frame["geographic_level"] == LEVEL_LA]
    la_sum = la.groupby("year")[measure].sum(min_count=1)
    n = la.groupby("year")[measure].count()
    n_missing = la.groupby("year")[measure].apply(lambda s: int(s.isna().sum()))
    out = pd.DataFrame({"england": nat, "la_sum": la_sum, "n_authorities": n, "n_missing": n_missing})
    out.index.name = "year"
    out = out.reset_index()
    out["difference"] = out["la_sum"] - out["england"]
    out = out[out["england"].notna() | (out["n_authorities"] > 0)]  # skip years nothing was published
    out["matches"] = (out["difference"].abs() <= tolerance) & out["england"].notna()
    out = out[["year", "england", "la_sum", "difference", "n_authorities", "n_missing", "matches"]]
    if not all_years:
        out = out[~out["matches"]]
    return out.reset_index(drop=True)


def la_lookup(dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """The 153 upper-tier authorities (``lait2025_la_lookup.csv``): ``la_code`` (ONS),
    ``old_la_code``, ``la_name``, ``region_code``, ``region_name``. Falls back to the authorities
    in the latest caseload file when the lookup is not in ``dfe_dir``."""
    try:
        path = find_file("lait2025_la_lookup.csv", dfe_dir)
    except DataError:
        path = None
    if path is not None:
        lk = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        lk["old_la_code"] = _clean_code(lk["old_la_code"])
        return lk
    cs = caseload_series(dfe_dir)
    la = cs[cs["geographic_level"] == LEVEL_LA]
    la = la[la["year"] == la["year"].max()]
    return la[["old_la_code", "la_name", "region_code", "region_name"]].assign(la_code="").reset_index(drop=True)


def load_caveats(dfe_dir: str | Path | None = None) -> dict:
    """The data-guidance caveats (``caveats.yaml`` in ``dfe_dir``): ``{"national": [...],
    "authorities": {old_la_code: [...]}}``, each caveat a mapping with ``text``, ``years``,
    ``measures`` and ``source``. A folder without one (e.g. the raw downloads) uses the shipped
    extract's; empty when neither exists."""
    import yaml

    d = _dir(dfe_dir)
    hits = sorted(d.rglob("caveats.yaml"))
    if not hits and dfe_dir not in (None, ""):
        # a folder of raw downloads has no caveats: use the shipped extract's
        shipped = default_dfe_dir()
        hits = sorted(shipped.rglob("caveats.yaml")) if shipped.is_dir() else []
    if not hits:
        return {"national": [], "authorities": {}}
    raw = yaml.safe_load(hits[-1].read_text(encoding="utf-8")) or {}
    auth = {str(k).zfill(3): v or [] for k, v in (raw.get("authorities") or {}).items()}
    return {"national": raw.get("national") or [], "authorities": auth, "source": raw.get("source", "")}


def caveats_for(old_la_code: str, dfe_dir: str | Path | None = None) -> pd.DataFrame:
    """Caveats that apply to an authority: the national ones plus its own.

    Returns a frame with ``scope`` (``England`` or the code), ``years``, ``measures``, ``text``,
    ``source``.
    """
    cv = load_caveats(dfe_dir)
    rows = [{"scope": "England", **c} for c in cv["national"]]
    rows += [{"scope": str(old_la_code), **c} for c in cv["authorities"].get(str(old_la_code).zfill(3), [])]
    out = pd.DataFrame(rows, columns=["scope", "years", "measures", "text", "source"])
    for c in ("years", "measures"):
        out[c] = out[c].map(
            lambda v: (
                ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else ("" if v is None or v != v else str(v))
            )
        )
    return out
