"""Build the England comparators of the KPIs (``data/reference/national_comparators.csv``) from a
DfE SEN2 release.

Usage (after the DfE publishes a new "Education, health and care plans" release, docs/kpis.md)::

    python -m sendlib.data.dfe_extract --source /path/to/new-downloads --out data/reference/dfe
    python -m sendlib.data.comparators --dfe-dir data/reference/dfe --out data/reference/national_comparators.csv

Every row of the file whose KPI is derived here (:data:`SEN2_KPIS`) is rebuilt from the release's
England rows, every year it holds; rows of other KPIs (from other publications, e.g. the K8
suspension rates from "Suspensions and permanent exclusions in England") are kept exactly as they
are, with their own ``source``: add those by hand when their publication has a new year.

Derived rows (England, ``geographic_level == National``):

* ``K1``: ``plans_issued_20_weeks_ex / plans_issued_den_ex`` (``timeliness_20_week.csv``), calendar year;
* ``K2``: ``requests_decided_not_to_assess / (requests_decided_to_assess +
  requests_decided_not_to_assess)`` (``requests.csv``): refusals as a share of assessment decisions
  made, the board's K2 basis (years with both counts: 2023 on);
* ``K2_decided_within_6_weeks_pct``: ``request_outcome_six_weeks_pc`` as published, with
  ``request_outcome_six_weeks`` and the decisions within plus after 6 weeks as numerator and
  denominator (2023 on);
* ``K5_*``: placement mix at the January census, ``<columns> / ehcplans`` (``caseload.csv``),
  mapping in :data:`K5_COLUMNS`;
* ``K12``: the SEND Tribunal appeal rate as published in "SEND Tribunals and appeal rate"
  (appeals registered / total appealable decisions, calendar year).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sendlib.data.dfe import LEVEL_NATIONAL, read_file

COLUMNS = ["kpi", "year", "period_end", "value", "unit", "numerator", "denominator", "definition", "source"]

_RELEASE = "DfE, Education, health and care plans, {release} release (explore-education-statistics), England; OGL v3.0"

#: K5 variant -> (caseload.csv columns summed, words for the definition).
K5_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "K5_alternative_provision_pct": (("ap_pru_total",), "alternative provision and PRUs"),
    "K5_elective_home_pct": (("elective_home_education",), "elective home education"),
    "K5_fe_college_pct": (("general_fe_tertiary_colleges",), "general FE and tertiary colleges"),
    "K5_inmss_pct": (
        ("special_independent", "special_non_maintained"),
        "independent and non-maintained special schools",
    ),
    "K5_mainstream_pct": (
        ("mainstream_total",),
        "mainstream schools incl. resourced provision, SEN units and independent mainstream (mainstream_total)",
    ),
    "K5_neet_pct": (("neet",), "not in education, employment or training"),
    "K5_resourced_provision_pct": (
        (
            "mainstream_la_maintained_resourced_provision",
            "mainstream_la_maintained_senunit",
            "mainstream_academy_resourced_provision",
            "mainstream_academy_senunit",
            "mainstream_free_school_resourced_provision",
            "mainstream_free_school_senunit",
        ),
        "resourced provision and SEN units in mainstream",
    ),
    "K5_special_academy_pct": (("special_academy_free",), "special academies and free schools"),
    "K5_special_maintained_pct": (("special_la_maintained",), "LA maintained special schools"),
    "K5_specialist_post16_pct": (("specialist_post_16_institutions",), "specialist post-16 institutions"),
}

#: The KPIs whose England rows this module derives (all other rows of the file are kept).
SEN2_KPIS = ("K1", "K2", "K2_decided_within_6_weeks_pct", *K5_COLUMNS, "K12")


def _england(name: str, dfe_dir: str | Path, measures: Sequence[str]) -> pd.DataFrame:
    """England rows of one file, a column per measure, a row per year (the "All" totals)."""
    long = read_file(name, dfe_dir, measures=list(measures), totals_only=True)
    long = long[long["geographic_level"] == LEVEL_NATIONAL]
    wide = long.pivot_table(index="year", columns="measure", values="value", aggfunc="first")
    wide = wide.reindex(columns=list(measures))
    wide.index = wide.index.astype(int)
    return wide.sort_index()


def _release_of(dfe_dir: str | Path, name: str) -> str:
    """The release year named by the folder the file sits in (``dfe_ehcp_2025_release`` -> 2025)."""
    from sendlib.data.dfe import find_file

    folder = find_file(name, dfe_dir).parent.name
    digits = "".join(ch for ch in folder if ch.isdigit())
    return digits[:4] if len(digits) >= 4 else folder


def _row(kpi, year, period_end, value, num, den, definition, source) -> dict:
    return {
        "kpi": kpi,
        "year": int(year),
        "period_end": pd.Timestamp(period_end).strftime("%Y-%m-%d"),
        "value": round(float(value), 1),
        "unit": "%",
        "numerator": num,
        "denominator": den,
        "definition": definition,
        "source": source,
    }


def _int_or_nan(x: float) -> float | int:
    return int(x) if pd.notna(x) else np.nan


def sen2_comparators(dfe_dir: str | Path) -> pd.DataFrame:
    """The England rows of :data:`SEN2_KPIS` from the SEN2 release in ``dfe_dir`` (file columns:
    :data:`COLUMNS`)."""
    rows: list[dict] = []
    tl = _england("timeliness_20_week", dfe_dir, ["plans_issued_20_weeks_ex", "plans_issued_den_ex"])
    src = _RELEASE.format(release=_release_of(dfe_dir, "timeliness_20_week"))
    for y, r in tl.iterrows():
        if r["plans_issued_den_ex"] > 0:
            rows.append(
                _row(
                    "K1",
                    y,
                    f"{y}-12-31",
                    100 * r["plans_issued_20_weeks_ex"] / r["plans_issued_den_ex"],
                    "",
                    "",
                    "New EHC plans issued within 20 weeks, excluding exceptions, calendar year",
                    src + " (timeliness_20_week.csv: plans_issued_20_weeks_ex / plans_issued_den_ex)",
                )
            )
    rq = _england(
        "requests",
        dfe_dir,
        [
            "requests_decided_to_assess",
            "requests_decided_not_to_assess",
            "request_outcome_six_weeks",
            "request_outcome_over_6_weeks",
            "request_outcome_six_weeks_pc",
        ],
    )
    src = _RELEASE.format(release=_release_of(dfe_dir, "requests"))
    for y, r in rq.iterrows():
        decided = r["requests_decided_to_assess"] + r["requests_decided_not_to_assess"]
        if pd.notna(decided) and decided > 0:
            rows.append(
                _row(
                    "K2",
                    y,
                    f"{y}-12-31",
                    100 * r["requests_decided_not_to_assess"] / decided,
                    _int_or_nan(r["requests_decided_not_to_assess"]),
                    _int_or_nan(decided),
                    "Assessment decisions that were refusals: decided not to assess / (decided to assess + "
                    "decided not to assess), calendar year (the K2 basis; not the DfE's request_not_assess_pc, "
                    "which divides by requests received)",
                    src + " (requests.csv: requests_decided_not_to_assess, requests_decided_to_assess)",
                )
            )
        if pd.notna(r["request_outcome_six_weeks_pc"]):
            rows.append(
                _row(
                    "K2_decided_within_6_weeks_pct",
                    y,
                    f"{y}-12-31",
                    r["request_outcome_six_weeks_pc"],
                    _int_or_nan(r["request_outcome_six_weeks"]),
                    _int_or_nan(r["request_outcome_six_weeks"] + r["request_outcome_over_6_weeks"]),
                    "Requests where the decision whether to assess was made within 6 weeks, % (DfE "
                    "request_outcome_six_weeks_pc), calendar year",
                    src + " (requests.csv: request_outcome_six_weeks_pc as published; numerator "
                    "request_outcome_six_weeks, denominator + request_outcome_over_6_weeks)",
                )
            )
    needed = sorted({c for cols, _ in K5_COLUMNS.values() for c in cols} | {"ehc_plans"})
    cl = _england("caseload", dfe_dir, needed)
    src = _RELEASE.format(release=_release_of(dfe_dir, "caseload"))
    census = _census_days(dfe_dir)
    for kpi_id, (cols, words) in K5_COLUMNS.items():
        for y, r in cl.iterrows():
            parts = r[list(cols)]
            if parts.isna().any() or not r["ehc_plans"] > 0:
                continue
            num = float(parts.sum())
            rows.append(
                _row(
                    kpi_id,
                    y,
                    census.get(y, f"{y}-01-31"),
                    100 * num / r["ehc_plans"],
                    int(num),
                    int(r["ehc_plans"]),
                    f"EHC plans at the January {y} census in {words}, % of all EHC plans",
                    src + f" (caseload.csv: {' + '.join(cols)} / ehcplans)",
                )
            )
    rows += _appeal_rate_rows(dfe_dir)
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.sort_values(["kpi", "year"]).reset_index(drop=True)


def _appeal_rate_rows(dfe_dir: str | Path) -> list[dict]:
    """``K12``: England's SEND Tribunal appeal rate per calendar year, from the DfE / MoJ table
    "SEND Tribunals and appeal rate" shipped with the release (:mod:`sendlib.data.tribunals`)."""
    from sendlib.data.tribunals import read_appeal_rate

    rate = read_appeal_rate(dfe_dir=dfe_dir)
    eng = rate[rate["geographic_level"] == LEVEL_NATIONAL].sort_values("year")
    source = (
        "DfE / MoJ, SEND Tribunals and appeal rate 2014-2024 (published with the DfE Education, health and care "
        "plans 2025 release), England; OGL v3.0"
    )
    return [
        _row(
            "K12",
            r["year"],
            f"{int(r['year'])}-12-31",
            r["appeal_rate_pct"],
            _int_or_nan(r["appeals_registered"]),
            _int_or_nan(r["appealable_decisions"]),
            "Appeals registered to the SEND Tribunal as a share of total appealable decisions, calendar year",
            source,
        )
        for _, r in eng.iterrows()
        if pd.notna(r["appeal_rate_pct"])
    ]


def _census_days(dfe_dir: str | Path) -> dict[int, str]:
    """January census days (third Thursday of January) for the caseload years."""
    out = {}
    for y in range(2010, 2040):
        jan = pd.date_range(f"{y}-01-01", f"{y}-01-31", freq="W-THU")
        out[y] = jan[2].strftime("%Y-%m-%d")
    return out


def rebuild(dfe_dir: str | Path, existing: str | Path | None = None) -> pd.DataFrame:
    """The comparators file: :func:`sen2_comparators` from ``dfe_dir`` plus every row of the
    ``existing`` file whose KPI is not in :data:`SEN2_KPIS` (kept as it is), by KPI and year."""
    new = sen2_comparators(dfe_dir)
    if existing is not None and Path(existing).is_file():
        old = pd.read_csv(existing, dtype=str, keep_default_na=False)
        kept = old[~old["kpi"].isin(SEN2_KPIS)]
        new = pd.concat([new.astype(object), kept[COLUMNS].astype(object)], ignore_index=True)
    new["year"] = new["year"].astype(int)
    return new.sort_values(["kpi", "year"], kind="stable").reset_index(drop=True)[COLUMNS]


def write(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the comparators file (UTF-8, LF, numbers without trailing zeros)."""
    out = frame.copy()
    for col in ("numerator", "denominator"):
        out[col] = ["" if (v == "" or (isinstance(v, float) and np.isnan(v))) else str(int(float(v))) for v in out[col]]
    # derived values to one decimal, as the DfE publishes them; kept rows exactly as written
    out["value"] = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in out["value"]]
    out.to_csv(path, index=False, lineterminator="\n")
    return Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sendlib.data.comparators", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dfe-dir", required=True, help="folder of a DfE SEN2 release (the shipped extract or downloads)")
    ap.add_argument("--out", required=True, help="comparators file to (re)write; its non-SEN2 rows are kept")
    args = ap.parse_args(argv)
    frame = rebuild(args.dfe_dir, args.out)
    write(frame, args.out)
    print(f"{len(frame)} comparator rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
