"""How close the synthetic county is to the published record of the county it is modelled on.

Each measure (``calibration.measures`` in ``config/synth.yaml``) is computed twice, the same way:
from the generated tables, and from the DfE's SEN2 statistics ("Education, health and care plans",
the shipped extract in ``data/reference/dfe``) for the authority ``calibration.old_la_code``
(Oxfordshire, 931). :func:`calibration_table` puts them side by side with the tolerance and whether
the synthetic value is within it; ``sendlib synth --calibration`` prints it and
``docs/synthetic-county.md`` carries a copy that a test keeps true.

Definitions (SEN2 conventions, DfE data guidance for the 2025 release):

* caseload: plans in force on the January census day (third Thursday of January);
* shares of all plans: the placement each plan holder is in on the census day, grouped as SEN2
  groups establishments (:data:`SETTING_GROUPS`), and the plan's primary need, divided by all
  plans in force (the DfE also counts plans whose placement or need is not recorded in the
  denominator: 0.5% and 5.6% of Oxfordshire's plans in January 2025);
* activity in a calendar year: requests received; new plans issued; requests refused (decided not
  to assess) as a share of requests received (the DfE's ``request_not_assess_pc``); exceptions as a
  share of plans issued; plans issued within 20 weeks (140 days) of the request, exceptions
  excluded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sendlib.core.quarters import third_thursday_of_january
from sendlib.core.schema import TWENTY_WEEKS_DAYS
from sendlib.data import dfe

#: SEN2 establishment groups -> (canonical setting types, DfE caseload.csv indicators).
SETTING_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mainstream": (("mainstream_maintained", "mainstream_academy", "resourced_provision"), ("mainstream_total",)),
    "state_special": (("special_maintained", "special_academy"), ("special_la_maintained", "special_academy_free")),
    "independent_special": (("inmss",), ("special_independent", "special_non_maintained")),
    "further_education": (("fe_college", "specialist_post16", "other_post16"), ("fe_total",)),
    "neet": (("neet",), ("neet",)),
}

#: Primary needs whose January share is calibrated (canonical code -> DfE indicator).
NEEDS: dict[str, str] = {
    "ASD": "number_asd",
    "SEMH": "number_semh",
    "SLCN": "number_slcn",
    "MLD": "number_mld",
    "SLD": "number_sld",
    "PMLD": "number_pmld",
}

COLUMNS = ("measure", "synthetic", "published", "unit", "tolerance", "within", "source")


# ----- synthetic ---------------------------------------------------------------------------------


def _census(year: int) -> pd.Timestamp:
    return pd.Timestamp(third_thursday_of_january(year))


def _in_force(plans: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    start = pd.to_datetime(plans["plan_start_date"])
    end = pd.to_datetime(plans["plan_end_date"])
    return plans[(start <= day) & (end.isna() | (end > day))]


def _placed(placements: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    start = pd.to_datetime(placements["start_date"])
    end = pd.to_datetime(placements["end_date"])
    on = placements[(start <= day) & (end.isna() | (end >= day))]
    return on.sort_values("start_date", kind="stable").drop_duplicates("person_id", keep="last")


def synthetic_caseload(tables: Mapping[str, pd.DataFrame], year: int) -> int:
    """EHC plans in force on the January census day of ``year``."""
    return int(_in_force(tables["ehcp_plans"], _census(year))["person_id"].nunique())


def synthetic_shares(tables: Mapping[str, pd.DataFrame], year: int) -> dict[str, float]:
    """Shares (percent of plans in force on the census day) by setting group and primary need."""
    day = _census(year)
    plans = _in_force(tables["ehcp_plans"], day).drop_duplicates("person_id", keep="last")
    n = len(plans)
    placed = _placed(tables["placements"], day)
    setting = plans[["person_id"]].merge(placed[["person_id", "setting_type"]], on="person_id", how="left")
    out: dict[str, float] = {}
    for group, (types, _) in SETTING_GROUPS.items():
        out[f"setting:{group}"] = 100.0 * float(setting["setting_type"].isin(types).sum()) / n
    for need in NEEDS:
        out[f"need:{need}"] = 100.0 * float((plans["primary_need"] == need).sum()) / n
    return out


def synthetic_activity(tables: Mapping[str, pd.DataFrame], year: int) -> dict[str, float]:
    """Requests, new plans, refusal, exception and 20-week rates for calendar ``year``."""
    req = tables["ehcp_requests"]
    made = pd.to_datetime(req["request_date"]).dt.year == year
    issued_on = pd.to_datetime(req["plan_issued_date"])
    issued = issued_on.dt.year == year
    ex = req["exception"].astype(bool)
    days = (issued_on - pd.to_datetime(req["request_date"])).dt.days
    within = issued & ~ex & (days <= TWENTY_WEEKS_DAYS)
    n_issued = int(issued.sum())
    n_ex = int((issued & ~ex).sum())
    return {
        "requests": float(made.sum()),
        "new_plans": float(n_issued),
        "refused_pct": 100.0 * float((made & (req["decision"] == "refuse")).sum()) / max(int(made.sum()), 1),
        "exceptions_pct": 100.0 * float((issued & ex).sum()) / max(n_issued, 1),
        "within_20_weeks_pct": 100.0 * float(within.sum()) / max(n_ex, 1),
    }


# ----- published ---------------------------------------------------------------------------------


def _la_values(name: str, la: str, measures: list[str], dfe_dir: str | Path | None) -> pd.DataFrame:
    long = dfe.read_file(name, dfe_dir, measures=measures, totals_only=True)
    long = long[(long["geographic_level"] == dfe.LEVEL_LA) & (long["old_la_code"] == la)]
    return long.pivot_table(index="year", columns="measure", values="value", aggfunc="first")


def published_record(la: str, dfe_dir: str | Path | None = None) -> dict[str, dict[int, float]]:
    """The authority's published figures, measure -> {year: value}, from the SEN2 statistics."""
    setting_cols = sorted({c for _, cols in SETTING_GROUPS.values() for c in cols})
    case = _la_values("caseload", la, ["ehc_plans", *setting_cols], dfe_dir)
    needs = _la_values("sen_needs_all_plans", la, ["ehc_plans", *NEEDS.values()], dfe_dir)
    req = _la_values("requests", la, ["requests_received_in_year", "requests_decided_not_to_assess"], dfe_dir)
    new = _la_values("newplans", la, ["new_ehc_plans"], dfe_dir)
    tim = _la_values(
        "timeliness_20_week", la, ["plans_issued_den", "plans_issued_den_ex", "plans_issued_20_weeks_ex"], dfe_dir
    )
    rec: dict[str, dict[int, float]] = {"caseload": case["ehc_plans"].dropna().to_dict()}
    for group, (_, cols) in SETTING_GROUPS.items():
        rec[f"setting:{group}"] = (
            (100.0 * case[list(cols)].sum(axis=1, min_count=1) / case["ehc_plans"]).dropna().to_dict()
        )
    for need, col in NEEDS.items():
        rec[f"need:{need}"] = (100.0 * needs[col] / needs["ehc_plans"]).dropna().to_dict()
    rec["requests"] = req["requests_received_in_year"].dropna().to_dict()
    rec["refused_pct"] = (
        (100.0 * req["requests_decided_not_to_assess"] / req["requests_received_in_year"]).dropna().to_dict()
    )
    rec["new_plans"] = new["new_ehc_plans"].dropna().to_dict()
    rec["exceptions_pct"] = (
        (100.0 * (tim["plans_issued_den"] - tim["plans_issued_den_ex"]) / tim["plans_issued_den"]).dropna().to_dict()
    )
    rec["within_20_weeks_pct"] = (
        (100.0 * tim["plans_issued_20_weeks_ex"] / tim["plans_issued_den_ex"]).dropna().to_dict()
    )
    return {k: {int(y): float(v) for y, v in d.items()} for k, d in rec.items()}


# ----- the table ---------------------------------------------------------------------------------


def _within(synthetic: float, published: float, kind: str, tolerance: float) -> bool:
    if kind == "relative_pct":
        return abs(synthetic - published) <= tolerance / 100.0 * abs(published)
    if kind == "points":
        return abs(synthetic - published) <= tolerance
    if kind == "at_most":
        return synthetic <= tolerance
    raise ValueError(f"unknown tolerance kind {kind!r} (relative_pct, points, at_most)")


def _tolerance_text(kind: str, tolerance: float) -> str:
    return {"relative_pct": f"±{tolerance:g}%", "points": f"±{tolerance:g} pts", "at_most": f"≤ {tolerance:g}"}[kind]


def calibration_table(
    tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any], dfe_dir: str | Path | None = None
) -> pd.DataFrame:
    """One row per measure and year in ``params["calibration"]["measures"]``.

    Columns :data:`COLUMNS`: ``measure`` (e.g. ``caseload Jan 2025``), ``synthetic``,
    ``published`` (NaN for an ``at_most`` bound that has no published counterpart), ``unit``,
    ``tolerance`` (as text), ``within`` (bool) and ``source``."""
    cal = params["calibration"]
    la = str(cal["old_la_code"])
    record = published_record(la, dfe_dir)
    rows = []
    shares_cache: dict[int, dict[str, float]] = {}
    activity_cache: dict[int, dict[str, float]] = {}
    for m in cal["measures"]:
        key, kind, tol, unit = str(m["measure"]), str(m["kind"]), float(m["tolerance"]), str(m["unit"])
        for year in m["years"]:
            year = int(year)
            if key == "caseload":
                syn = float(synthetic_caseload(tables, year))
                label = f"EHC plans, January {year}"
            elif key.startswith(("setting:", "need:")):
                shares = shares_cache.setdefault(year, synthetic_shares(tables, year))
                syn = shares[key]
                label = f"{m['label']}, % of plans, January {year}"
            else:
                act = activity_cache.setdefault(year, synthetic_activity(tables, year))
                syn = act[key]
                label = f"{m['label']}, {year}"
            pub = record.get(key, {}).get(year, np.nan)
            if kind != "at_most" and np.isnan(pub):
                raise ValueError(f"calibration: no published value of {key} for {year} (authority {la})")
            rows.append(
                {
                    "measure": label,
                    "synthetic": syn,
                    "published": pub,
                    "unit": unit,
                    "tolerance": _tolerance_text(kind, tol),
                    "within": _within(syn, pub, kind, tol),
                    "source": str(m["source"]),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def format_table(table: pd.DataFrame, fmt: str = "table") -> str:
    """The calibration table as aligned text (``table``), ``csv`` or ``markdown`` (for the docs)."""
    show = table.copy()

    def num(v: float, unit: str) -> str:
        if pd.isna(v):
            return ""
        return f"{v:,.0f}" if unit == "count" else f"{v:.1f}"

    show["synthetic"] = [num(v, u) for v, u in zip(table["synthetic"], table["unit"])]
    show["published"] = [num(v, u) for v, u in zip(table["published"], table["unit"])]
    show["within"] = np.where(table["within"], "yes", "NO")
    show = show.drop(columns="unit")
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "markdown":
        head = "| " + " | ".join(show.columns) + " |\n|" + "---|" * len(show.columns) + "\n"
        return head + "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in show.itertuples(index=False))
    return show.to_string(index=False)
