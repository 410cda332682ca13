"""Statutory measures beyond SEN2's headline counts: the SEND Tribunal appeal rate and outcomes
(K12), and phase transfers finalised by the statutory deadline (K13).

Pure functions of the canonical tables (``sendlib.core.schema``): frames in, plain dicts out, so the
KPI table (``sendlib.models.kpi``) can take numerators and denominators from them.

* :func:`tribunal_appeal_rate`: appeals registered with the SEND Tribunal in a period as a share
  of the authority's appealable decisions in the period, counted as the DfE / MoJ count them
  ("SEND Tribunals and appeal rate", footnote 1: initial requests for assessment refused,
  assessments completed with a decision not to issue a plan, EHC plans as at January, plans ceased
  because needs are met without a plan), and what happened to the appeals decided in the period.
* :func:`phase_transfer_timeliness`: children with a plan due to move phase in a calendar year,
  and how many had the amended plan finalised by the deadline of the SEND Regulations 2014,
  reg. 18 (15 February of the year of the transfer; 31 March for secondary to post-16).

Conventions are those of :mod:`sendlib.models.kpi`: periods include both their first and last
day; a plan is in force on day ``d`` when ``plan_start_date <= d`` and ``plan_end_date`` is empty
or ``>= d``; people are counted once. A measure with nothing to measure is ``NaN``, never 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sendlib.core.schema import TRANSFER_DEADLINE, TRANSFER_POINT, TRIBUNAL_DECISION, TRIBUNAL_OUTCOME

DateLike = str | dt.date | pd.Timestamp

#: the parts of the DfE's "total appealable decisions", in the order its footnote lists them
APPEALABLE_PARTS = ("refused_assessment", "assessed_no_plan", "plans_in_force", "ceased_needs_met")


def _pct(num: float, den: float) -> float:
    return float(100.0 * num / den) if den else float("nan")


def _in(s: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (s >= start) & (s <= end)


def appealable_decisions(
    tables: Mapping[str, pd.DataFrame], start: DateLike, end: DateLike, plans_on: DateLike | None = None
) -> dict[str, Any]:
    """The authority's appealable decisions in ``[start, end]``, as the DfE / MoJ appeal rate
    counts them (footnote 1 of "SEND Tribunals and appeal rate 2014-2024").

    * ``refused_assessment``: requests with ``decision == "refuse"`` and ``decision_date`` in the
      period (SEN2 "initial requests for EHC assessments refused");
    * ``assessed_no_plan``: requests with ``outcome == "no_plan"`` and ``outcome_date`` in the period
      ("assessments completed and a decision made not to issue an EHC plan");
    * ``plans_in_force``: distinct people with a plan in force on ``plans_on``, by default the
      period's last day ("number with an EHC plan as at January": for calendar year ``Y`` the DfE
      uses the January census of ``Y + 1``, the SEN2 return that reports the year's activity, e.g.
      Oxfordshire 2024: 7,705 = 7,307 plans in January 2025 + 2024's refusals, assessments without
      a plan and plans ceased; pass that census day to reproduce it exactly);
    * ``ceased_needs_met``: plans with ``end_reason == "needs_met"`` and ``plan_end_date`` in the
      period.

    Returns a dict with those four counts, ``total`` (their sum) and ``plans_on`` (the day the plans
    were counted on). Meant for periods of up to a year: a longer period still counts its plans
    once.
    """
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    day = pd.Timestamp(plans_on) if plans_on is not None else e
    req, plans = tables["ehcp_requests"], tables["ehcp_plans"]
    refused = int((req["decision"].eq("refuse").fillna(False) & _in(req["decision_date"], s, e).fillna(False)).sum())
    no_plan = int((req["outcome"].eq("no_plan").fillna(False) & _in(req["outcome_date"], s, e).fillna(False)).sum())
    on = (plans["plan_start_date"] <= day) & (plans["plan_end_date"].isna() | (plans["plan_end_date"] >= day))
    in_force = int(plans.loc[on.fillna(False).to_numpy(bool), "person_id"].nunique())
    ceased = int(
        (plans["end_reason"].eq("needs_met").fillna(False) & _in(plans["plan_end_date"], s, e).fillna(False)).sum()
    )
    parts = dict(zip(APPEALABLE_PARTS, (refused, no_plan, in_force, ceased)))
    return {**parts, "total": sum(parts.values()), "plans_on": day}


def tribunal_appeal_rate(
    tables: Mapping[str, pd.DataFrame], start: DateLike, end: DateLike, plans_on: DateLike | None = None
) -> dict[str, Any]:
    """K12: SEND Tribunal appeals registered in ``[start, end]`` per 100 appealable decisions, and
    the outcomes of appeals decided in the period.

    The DfE / MoJ definition ("SEND Tribunals and appeal rate", published yearly with the EHC plans
    statistics; calendar years there): appeals registered in the period / total appealable
    decisions in the period (:func:`appealable_decisions`). The board reports it over the 12
    months to a quarter's end (``start`` = the day after the same date a year earlier).

    Outcomes count appeals whose ``outcome_date`` is in the period, whenever registered:
    ``upheld`` (decided in the family's favour, wholly or in part), ``conceded`` (by the
    authority), ``withdrawn``, ``dismissed``, ``struck_out``. ``decided`` = upheld + dismissed
    (decided by the tribunal); ``in_family_favour_pct`` = upheld / decided, the MoJ's "% of
    appeals decided in favour of the appellant"; ``resolved_for_family_pct`` = (upheld + conceded)
    / all outcomes in the period. ``pending_at_end``: appeals registered on or before ``end`` with
    no outcome by ``end``.

    Parameters
    ----------
    tables : mapping of canonical frames
        Needs ``tribunal_appeals``, ``ehcp_requests`` and ``ehcp_plans``.
    start, end : date-like
        First and last day of the period (inclusive).
    plans_on : date-like, optional
        Day the plans in force are counted on (default ``end``; see :func:`appealable_decisions`).

    Returns
    -------
    dict
        ``start``, ``end`` (Timestamps); ``appeals_registered`` (int); ``appealable_decisions``
        (int); ``appeal_rate_pct`` (float, NaN with no appealable decisions);
        ``appealable`` (dict: the four parts of the denominator and ``plans_on``);
        ``appeals_by_decision`` (dict: every ``schema.TRIBUNAL_DECISION`` code -> appeals
        registered in the period); ``outcomes`` (dict: every ``schema.TRIBUNAL_OUTCOME`` code ->
        appeals with that outcome dated in the period); ``outcomes_total``, ``decided`` (int);
        ``in_family_favour_pct``, ``resolved_for_family_pct`` (float, NaN on a zero
        denominator); ``pending_at_end`` (int).
    """
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    if e < s:
        raise ValueError(f"period end {e.date()} is before its start {s.date()}")
    app = tables["tribunal_appeals"]
    registered = _in(app["registered_date"], s, e).fillna(False).to_numpy(bool)
    n_reg = int(registered.sum())
    den = appealable_decisions(tables, s, e, plans_on)
    by_decision = app.loc[registered, "decision_appealed"].value_counts()
    decided_here = _in(app["outcome_date"], s, e).fillna(False).to_numpy(bool)
    by_outcome = app.loc[decided_here, "outcome"].value_counts()
    outcomes = {k: int(by_outcome.get(k, 0)) for k in TRIBUNAL_OUTCOME}
    decided = outcomes["upheld"] + outcomes["dismissed"]
    total_out = sum(outcomes.values())
    pending = (app["registered_date"] <= e).fillna(False) & (app["outcome_date"].isna() | (app["outcome_date"] > e))
    return {
        "start": s,
        "end": e,
        "appeals_registered": n_reg,
        "appealable_decisions": int(den["total"]),
        "appeal_rate_pct": _pct(n_reg, den["total"]),
        "appealable": {k: den[k] for k in (*APPEALABLE_PARTS, "plans_on")},
        "appeals_by_decision": {k: int(by_decision.get(k, 0)) for k in TRIBUNAL_DECISION},
        "outcomes": outcomes,
        "outcomes_total": total_out,
        "decided": decided,
        "in_family_favour_pct": _pct(outcomes["upheld"], decided),
        "resolved_for_family_pct": _pct(outcomes["upheld"] + outcomes["conceded"], total_out),
        "pending_at_end": int(pending.fillna(False).sum()),
    }


def tribunal_appeal_rate_by_year(tables: Mapping[str, pd.DataFrame], years: list[int] | range) -> pd.DataFrame:
    """The appeal rate per calendar year (the DfE's periods), one row per year: ``year``,
    ``appeals_registered``, ``appealable_decisions``, ``appeal_rate_pct`` and the four parts of the
    denominator."""
    rows = []
    for y in years:
        r = tribunal_appeal_rate(tables, f"{y}-01-01", f"{y}-12-31")
        rows.append(
            {
                "year": int(y),
                "appeals_registered": r["appeals_registered"],
                "appealable_decisions": r["appealable_decisions"],
                "appeal_rate_pct": r["appeal_rate_pct"],
                **{k: r["appealable"][k] for k in APPEALABLE_PARTS},
            }
        )
    return pd.DataFrame(rows)


def transfer_year_as_at(as_at: DateLike) -> int:
    """The calendar year of transfer whose 15 February deadline is the latest on or before
    ``as_at``: the cohort a report dated ``as_at`` can judge (a quarter ending 31 December 2026
    reports the September 2026 transfers; one ending 31 March 2027 the September 2027 ones)."""
    d = pd.Timestamp(as_at)
    m, day = TRANSFER_DEADLINE["into_secondary"]
    return d.year if (d.month, d.day) >= (m, day) else d.year - 1


def phase_transfer_timeliness(
    tables: Mapping[str, pd.DataFrame], transfer_year: int, as_at: DateLike | None = None
) -> dict[str, Any]:
    """K13: of the children with a plan due to transfer phase in calendar year ``transfer_year``,
    how many had the amended plan finalised by the statutory deadline.

    SEND Regulations 2014, reg. 18: where a child or young person is within 12 months of a transfer
    between phases, the plan must be reviewed and amended (naming the new setting) before 15
    February of the calendar year of the transfer, or 31 March for secondary school to a post-16
    institution (SEND Code of Practice 2015, 9.179). Each row's ``due_date`` is that deadline.

    Counted as at ``as_at`` (default: no cut, every final date in the data): ``due`` = rows whose
    ``transfer_date`` is in ``transfer_year``; ``finalised_by_deadline`` = ``final_date <=
    due_date`` (and ``<= as_at``); ``finalised_late`` = finalised after the deadline, by ``as_at``;
    ``not_finalised`` = no final date by ``as_at``; ``on_time_pct`` = finalised_by_deadline / due
    (NaN when nobody is due); ``deadline_passed`` = every due date of the year is on or before
    ``as_at`` (before that, ``on_time_pct`` is progress, not a result).

    Returns
    -------
    dict
        ``transfer_year`` (int), ``as_at`` (Timestamp or None), ``due``, ``finalised_by_deadline``,
        ``finalised_late``, ``not_finalised`` (int), ``on_time_pct`` (float), ``deadline_passed``
        (bool), and ``by_point``: for every ``schema.TRANSFER_POINT`` code a dict with the same
        counts, ``on_time_pct`` and ``deadline`` (the Timestamp of that point's deadline in
        ``transfer_year``).
    """
    pt = tables["phase_transfers"]
    cut = pd.Timestamp(as_at) if as_at is not None else None
    rows = pt[(pt["transfer_date"].dt.year == int(transfer_year)).fillna(False).to_numpy(bool)]
    final = rows["final_date"]
    if cut is not None:
        final = final.where(final <= cut)
    on_time = (final.notna() & (final <= rows["due_date"])).to_numpy(bool)
    late = (final.notna() & (final > rows["due_date"])).to_numpy(bool)
    missing = final.isna().to_numpy(bool)
    point = rows["transfer_point"].astype("string").fillna("").to_numpy(object)

    def counts(sel: np.ndarray) -> dict[str, Any]:
        n = int(sel.sum())
        ok = int((on_time & sel).sum())
        return {
            "due": n,
            "finalised_by_deadline": ok,
            "finalised_late": int((late & sel).sum()),
            "not_finalised": int((missing & sel).sum()),
            "on_time_pct": _pct(ok, n),
        }

    by_point = {}
    for k in TRANSFER_POINT:
        m, d = TRANSFER_DEADLINE[k]
        by_point[k] = {**counts(point == k), "deadline": pd.Timestamp(int(transfer_year), m, d)}
    last_deadline = max(pd.Timestamp(int(transfer_year), m, d) for m, d in TRANSFER_DEADLINE.values())
    return {
        "transfer_year": int(transfer_year),
        "as_at": cut,
        **counts(np.ones(len(rows), dtype=bool)),
        "deadline_passed": bool(cut is None or cut >= last_deadline),
        "by_point": by_point,
    }
