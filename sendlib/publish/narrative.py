"""Generated sentences for the board: one plain-English sentence per KPI row.

``"20-week timeliness fell from 61% to 52%, below the 60% target and above England's 46% (2024)"``.

Sentences are written from the models' unsuppressed values, so they apply the same small-number
rules as published tables: a count of 1 to ``threshold - 1`` is written as "fewer than 5", and a
value built on fewer than ``min_denominator`` cases is not stated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

#: Short subjects for sentences (the KPI table's ``name`` is used for anything not listed).
SUBJECTS: Mapping[str, str] = {
    "K1": "20-week timeliness (excluding exceptions)",
    "K1_all": "20-week timeliness (all cases)",
    "K2": "The share of assessment decisions that were refusals",
    "K2_decided_within_6_weeks_pct": "Decisions whether to assess made within 6 weeks",
    "K3": "Assessment conversion to a plan",
    "K4": "The number of EHC plans in force",
    "K4_rate_per_10k": "EHC plans per 10,000 residents aged 0-25",
    "K5_mainstream_pct": "The share of children with a plan in mainstream schools",
    "K5_inmss_pct": "The share of children with a plan in independent or non-maintained special schools",
    "K6": "Annual reviews completed on time (pending reviews excluded)",
    "K6_pending": "The number of annual reviews awaiting a decision within their 4-week window",
    "K6_pending_pct": "The share of annual reviews due that are still pending",
    "K6_backlog": "The number of annual reviews overdue at quarter end",
    "K7_neurodevelopmental_median_weeks": "The median neurodevelopmental wait",
    "K7_neurodevelopmental_pct_within_18_weeks": "Neurodevelopmental referrals seen within 18 weeks",
    "K7_neurodevelopmental_waiting_list": "The neurodevelopmental waiting list",
    "K7_neurodevelopmental_longest_wait_weeks": "The longest neurodevelopmental wait",
    "K7_integrated_therapies_median_weeks": "The median integrated therapies wait",
    "K7_integrated_therapies_pct_within_18_weeks": "Integrated therapies referrals seen within 18 weeks",
    "K7_integrated_therapies_waiting_list": "The integrated therapies waiting list",
    "K7_integrated_therapies_longest_wait_weeks": "The longest integrated therapies wait",
    "K8_ehcp_per_100": "Suspensions of pupils with an EHC plan in the quarter",
    "K8_sen_support_per_100": "Suspensions of pupils on SEN support in the quarter",
    "K8_none_per_100": "Suspensions of pupils with no SEN in the quarter",
    "K8_ratio_ehcp_to_none": "The suspension rate of pupils with a plan relative to pupils with no SEN in the quarter",
    "K8_ehcp_per_100_ytd": "Suspensions of pupils with an EHC plan this academic year so far",
    "K8_ratio_ehcp_to_none_ytd": "The suspension rate of pupils with a plan relative to no SEN this academic year so far",
    "K8_ehcp_per_100_12m": "Suspensions of pupils with an EHC plan over the last 12 months",
    "K8_sen_support_per_100_12m": "Suspensions of pupils on SEN support over the last 12 months",
    "K8_none_per_100_12m": "Suspensions of pupils with no SEN over the last 12 months",
    "K8_ratio_ehcp_to_none_12m": "The suspension rate of pupils with a plan relative to no SEN over the last 12 months",
    "K9_transition_plan_pct": "Young people in Year 9 or above with a transition plan",
    "K9_neet_pct": "16-17 year olds with a plan who are NEET",
    "K9_not_known_pct": "16-17 year olds with a plan whose activity is not known",
    "K9_neet_or_not_known_pct": "16-17 year olds with a plan who are NEET or whose activity is not known",
    "K10_variance_gbp": "The high needs forecast variance (outturn minus budget)",
    "K10_variance_pct": "The high needs forecast variance as a share of budget",
    "K11_grey": "The number of grey-rated PAP actions (not begun)",
    "K11_red": "The number of red-rated PAP actions (delayed)",
    "K11_amber": "The number of amber-rated PAP actions (on track)",
    "K11_green": "The number of green-rated PAP actions (complete)",
    "K11_blue": "The number of blue-rated PAP actions (embedded)",
    "K11_overdue": "The number of overdue PAP actions",
    "K11_started": "The number of PAP actions started (from grey)",
    "K11_moved_up": "The number of PAP actions moving up the BRAG scale",
    "K11_moved_down": "The number of PAP actions moving down the BRAG scale",
    "K11_deteriorated": "The number of PAP actions that deteriorated (moved down, or grey to red)",
    "K11_needs_attention": "The number of PAP actions needing attention (red, or amber past due)",
}


def format_value(value: float, unit: str) -> str:
    """A KPI value in its unit, rounded for reading: ``52%``, ``1,234``, ``£1.2m``, ``12.3 weeks``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no figure"
    v = float(value)
    if unit == "%":
        return f"{v:.0f}%" if abs(v) >= 10 else f"{v:.1f}%"
    if unit == "count":
        return f"{v:,.0f}"
    if unit == "£":
        sign = "-" if v < 0 else ""
        a = abs(v)
        if a >= 1e6:
            return f"{sign}£{a / 1e6:.1f}m"
        if a >= 1e4:
            return f"{sign}£{a / 1e3:.0f}k"
        return f"{sign}£{a:,.0f}"
    if unit == "weeks":
        return f"{v:.1f} weeks"
    if unit == "per 100":
        return f"{v:.2f} per 100 pupils"
    if unit == "per 10,000":
        return f"{v:.1f} per 10,000"
    if unit == "ratio":
        return f"{v:.1f} times"
    return f"{v:,.1f} {unit}".strip()


def withheld_reason(
    value: float, base: float, unit: str, threshold: int, min_denominator: int, numerator: float = math.nan
) -> str | None:
    """Why a value may not be stated (small numbers), or None when it may: a count of 1 to
    ``threshold - 1``; or a rate, share, median or average on a base below ``min_denominator``
    or on a numerator of 1 to ``threshold - 1`` (it would give the count back)."""
    if unit == "count":
        if value is not None and not math.isnan(value) and 1 <= value < threshold:
            return f"fewer than {threshold}"
        return None
    if base is not None and not math.isnan(base) and base < min_denominator:
        return f"not published (fewer than {min_denominator} cases)"
    if unit != "£" and numerator is not None and not math.isnan(numerator) and 1 <= numerator < threshold:
        return f"not published (fewer than {threshold} cases)"
    return None


def kpi_sentence(row: pd.Series | Mapping[str, object], threshold: int = 5, min_denominator: int = 10) -> str:
    """One sentence describing a KPI row: movement, target and England comparator.

    Parameters
    ----------
    row : Series or mapping
        A row of the KPI table (:data:`sendlib.models.kpi.COLUMNS`).
    threshold, min_denominator : int
        The config's suppression rules (``Config.suppression_threshold`` / ``min_denominator``).
    """
    kpi = str(row["kpi"])
    unit = str(row["unit"])
    subject = SUBJECTS.get(kpi, str(row["name"]))
    value = _num(row.get("value"))
    prev = _num(row.get("previous_value"))
    is_money = kpi.startswith("K10_variance")
    base = None if is_money else _num(row.get("denominator"))
    prev_base = None if is_money else _num(row.get("previous_denominator"))
    if math.isnan(value):
        return f"{subject}: no figure for {row['period']} (nothing to measure in the quarter)."
    num = math.nan if is_money else _num(row.get("numerator"))
    prev_num = math.nan if is_money else _num(row.get("previous_numerator"))
    why = withheld_reason(value, base if base is not None else math.nan, unit, threshold, min_denominator, num)
    if why:
        return f"{subject}: {why} in {row['period']}."
    now = format_value(value, unit)
    prev_hidden = math.isnan(prev) or withheld_reason(
        prev, prev_base if prev_base is not None else math.nan, unit, threshold, min_denominator, prev_num
    )
    if prev_hidden:
        text = f"{subject} was {now}"
    elif format_value(prev, unit) == now:
        text = f"{subject} was unchanged at {now}"
    else:
        verb = "rose" if value > prev else "fell"
        text = f"{subject} {verb} from {format_value(prev, unit)} to {now}"
    clauses = []
    target = _num(row.get("target"))
    if not math.isnan(target):
        side = "above" if value > target else ("below" if value < target else "at")
        rag = row.get("rag")
        clauses.append(
            f"{side} the {format_value(target, unit)} target" + (f" ({rag})" if isinstance(rag, str) else "")
        )
    national = _num(row.get("national_value"))
    if not math.isnan(national):
        side = "above" if value > national else ("below" if value < national else "level with")
        year = row.get("national_year")
        year_text = f" ({int(year)})" if year is not None and not pd.isna(year) else ""
        clauses.append(f"{side} England's {format_value(national, unit)}{year_text}")
    if clauses:
        text += ", " + " and ".join(clauses)
    return text + "."


def kpi_sentences(
    frame: pd.DataFrame, kpis: list[str] | None = None, threshold: int = 5, min_denominator: int = 10
) -> list[str]:
    """Sentences for the rows of a KPI table (all rows, or those whose ``kpi`` is in ``kpis``, in that order)."""
    rows = (
        frame if kpis is None else frame.set_index("kpi").loc[[k for k in kpis if k in set(frame["kpi"])]].reset_index()
    )
    return [kpi_sentence(r, threshold, min_denominator) for _, r in rows.iterrows()]


def _num(v: object) -> float:
    try:
        return math.nan if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def benchmark_subject(authority_name: str, own_code: str | None, code: str, la_name: str) -> str:
    """Who the benchmarking figures are about, in one sentence for the page.

    When the benchmarked authority (``code``, ``la_name``: from the DfE files) is not the one the
    pack is for (``own_code`` is None, as for the synthetic county, or differs), the sentence names
    it as a comparator: ``"Synthetic County is compared with Oxfordshire (931), a real authority:
    ..."``, so no circulated table reads as the pack's own authority's figures.
    """
    if own_code is not None and str(own_code) == str(code):
        return f"{authority_name}'s own published figures (DfE code {code}) beside its region and England."
    return (
        f"{authority_name} is compared with {la_name} ({code}), a real authority: every figure in this "
        f"section is {la_name}'s as the DfE publishes it, not {authority_name}'s."
    )
