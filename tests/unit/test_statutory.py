"""K12 (SEND Tribunal appeal rate and outcomes) and K13 (phase transfers by the reg. 18 deadline)
on tiny hand-built tables; every expected value is worked out by hand in the comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sendlib.core.schema import TABLES, TRIBUNAL_DECISION, TRIBUNAL_OUTCOME
from sendlib.models import statutory

_DTYPES = {"date": "datetime64[ns]", "bool": "boolean", "int": "Int64", "float": "float64"}


def frame(name: str, rows: list[dict] | None = None) -> pd.DataFrame:
    schema = TABLES[name]
    df = pd.DataFrame(rows or [], columns=schema.column_names)
    for col in schema.columns:
        df[col.name] = (
            pd.to_datetime(df[col.name]) if col.kind == "date" else df[col.name].astype(_DTYPES.get(col.kind, "string"))
        )
    return df


def req(rid, decision=None, decision_date=None, outcome="open", outcome_date=None):
    return {
        "request_id": rid,
        "person_id": f"P{rid}",
        "request_date": "2024-01-01",
        "age_at_request": 7,
        "decision": decision,
        "decision_date": decision_date,
        "outcome": outcome,
        "outcome_date": outcome_date,
        "exception": False,
        "locality": "north",
    }


def plan(pid, start, end=None, reason=None):
    return {
        "person_id": pid,
        "birth_month": "2015-03",
        "sex": "F",
        "primary_need": "ASD",
        "plan_start_date": start,
        "plan_end_date": end,
        "end_reason": reason,
        "locality": "north",
    }


def appeal(aid, registered, outcome=None, outcome_date=None, decision="refuse_assess"):
    return {
        "appeal_id": aid,
        "person_id": "P1",
        "decision_appealed": decision,
        "decision_date": "2024-01-01",
        "registered_date": registered,
        "outcome": outcome,
        "outcome_date": outcome_date,
    }


# Period: 1 October 2024 - 30 September 2025 (the 12 months to 2025-26 Q2's end).
START, END = "2024-10-01", "2025-09-30"

REQUESTS = [
    req("1", "refuse", "2024-10-01", "refused", "2024-10-01"),  # refusal on the first day: counts
    req("2", "refuse", "2025-09-30", "refused", "2025-09-30"),  # on the last day: counts
    req("3", "refuse", "2024-09-30", "refused", "2024-09-30"),  # the day before: not in the period
    req("4", "assess", "2024-11-01", "no_plan", "2025-03-01"),  # assessed, no plan, in the period
    req("5", "assess", "2024-11-01", "no_plan", "2025-10-01"),  # no plan after the period
    req("6", "assess", "2024-11-01", "plan_issued", "2025-02-01"),  # a plan: counted in the plans
]
# refused_assessment = 2 (requests 1, 2); assessed_no_plan = 1 (request 4)

PLANS = [
    plan("A", "2020-01-01"),  # open: in force on 30 September 2025
    plan("B", "2025-09-30"),  # starts on the last day: in force
    plan("C", "2020-01-01", "2025-09-30", "needs_met"),  # ends on the last day: in force; ceased needs met
    plan("D", "2020-01-01", "2025-06-30", "needs_met"),  # ceased in the period: not in force, ceased
    plan("E", "2020-01-01", "2024-06-30", "needs_met"),  # ceased before the period: neither
    plan("F", "2020-01-01", "2025-05-31", "moved_la"),  # moved away: neither
    plan("A", "2015-01-01", "2019-12-31", "other"),  # A's earlier spell: A counted once anyway
]
# plans_in_force (30 Sep 2025) = 3 (A, B, C); ceased_needs_met = 2 (C, D)
# appealable decisions = 2 + 1 + 3 + 2 = 8

APPEALS = [
    appeal("T1", "2024-10-01", "upheld", "2025-04-01"),  # registered in; upheld in
    appeal("T2", "2025-09-30", decision="plan_contents"),  # registered on the last day; pending
    appeal("T3", "2024-09-30", "conceded", "2024-12-01"),  # registered before; conceded in
    appeal("T4", "2024-06-01", "dismissed", "2025-01-15"),  # registered before; dismissed in
    appeal("T5", "2025-02-01", "withdrawn", "2025-10-15", "refuse_plan"),  # in; withdrawn after: pending at end
    appeal("T6", "2025-10-01"),  # registered after the period: not counted, not pending at end
    appeal("T7", "2023-05-01", "struck_out", "2023-09-01"),  # before and done before
]
# registered in the period: T1, T2, T5 = 3 -> rate 3 / 8 = 37.5%
# outcomes dated in the period: upheld 1 (T1), conceded 1 (T3), dismissed 1 (T4) -> total 3
# decided = upheld + dismissed = 2 -> in the family's favour 1 / 2 = 50%
# resolved for the family = (upheld + conceded) / outcomes = 2 / 3
# pending at the end (registered by 30 Sep 2025, no outcome by then): T2, T5 = 2


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return {
        "ehcp_requests": frame("ehcp_requests", REQUESTS),
        "ehcp_plans": frame("ehcp_plans", PLANS),
        "tribunal_appeals": frame("tribunal_appeals", APPEALS),
    }


def test_appealable_decisions_by_hand(tables):
    d = statutory.appealable_decisions(tables, START, END)
    assert (d["refused_assessment"], d["assessed_no_plan"], d["plans_in_force"], d["ceased_needs_met"]) == (2, 1, 3, 2)
    assert d["total"] == 8 and d["plans_on"] == pd.Timestamp(END)
    # the DfE's calendar-year figure uses the January census closing the year: a later day
    later = statutory.appealable_decisions(tables, START, END, plans_on="2025-10-01")
    assert later["plans_in_force"] == 2  # A and B (C's last day was 30 September)


def test_tribunal_appeal_rate_by_hand(tables):
    r = statutory.tribunal_appeal_rate(tables, START, END)
    assert r["appeals_registered"] == 3 and r["appealable_decisions"] == 8
    assert r["appeal_rate_pct"] == pytest.approx(37.5)
    assert r["appeals_by_decision"] == {
        **dict.fromkeys(TRIBUNAL_DECISION, 0),
        "refuse_assess": 1,
        "plan_contents": 1,
        "refuse_plan": 1,
    }
    assert r["outcomes"] == {**dict.fromkeys(TRIBUNAL_OUTCOME, 0), "upheld": 1, "conceded": 1, "dismissed": 1}
    assert r["outcomes_total"] == 3 and r["decided"] == 2
    assert r["in_family_favour_pct"] == pytest.approx(50.0)
    assert r["resolved_for_family_pct"] == pytest.approx(200 / 3)
    assert r["pending_at_end"] == 2
    assert r["start"] == pd.Timestamp(START) and r["end"] == pd.Timestamp(END)


def test_tribunal_appeal_rate_nothing_to_measure_is_nan_not_zero():
    empty = {n: frame(n) for n in ("ehcp_requests", "ehcp_plans", "tribunal_appeals")}
    r = statutory.tribunal_appeal_rate(empty, START, END)
    assert r["appeals_registered"] == 0 and r["appealable_decisions"] == 0
    assert math.isnan(r["appeal_rate_pct"]) and math.isnan(r["in_family_favour_pct"])
    with pytest.raises(ValueError, match="before its start"):
        statutory.tribunal_appeal_rate(empty, END, START)


def test_rate_by_calendar_year(tables):
    by = statutory.tribunal_appeal_rate_by_year(tables, [2024, 2025]).set_index("year")
    # 2024: registered T1 (1 Oct), T3 (30 Sep), T4 (1 Jun) = 3; refusals 1, 3 = 2; no plan 0;
    # plans in force on 31 Dec 2024: A, C, D, F = 4; ceased needs met in 2024: E = 1 -> 7
    assert by.loc[2024, "appeals_registered"] == 3 and by.loc[2024, "appealable_decisions"] == 7
    assert by.loc[2024, "appeal_rate_pct"] == pytest.approx(300 / 7)


# ----- phase transfers -------------------------------------------------------------------------


def transfer(pid, point, transfer_date, due, final=None):
    phases = {"into_school": ("early_years", "primary"), "into_secondary": ("primary", "secondary")}
    frm, to = phases.get(point, ("secondary", "post16"))
    return {
        "person_id": pid,
        "transfer_point": point,
        "from_phase": frm,
        "to_phase": to,
        "transfer_date": transfer_date,
        "due_date": due,
        "final_date": final,
    }


TRANSFERS = [
    transfer("S1", "into_secondary", "2025-09-01", "2025-02-15", "2025-02-15"),  # on the deadline: on time
    transfer("S2", "into_secondary", "2025-09-01", "2025-02-15", "2025-02-16"),  # a day late
    transfer("S3", "into_secondary", "2025-09-01", "2025-02-15", None),  # never finalised
    transfer("S4", "into_school", "2025-09-01", "2025-02-15", "2024-12-20"),  # early: on time
    transfer("S5", "into_post16", "2025-09-01", "2025-03-31", "2025-03-20"),  # 31 March deadline: on time
    transfer("S6", "into_post16", "2025-09-01", "2025-03-31", "2025-06-01"),  # late
    transfer("S7", "into_secondary", "2026-09-01", "2026-02-15", "2026-01-10"),  # next year's cohort
]
# 2025 (as at no cut): due 6; on time S1, S4, S5 = 3 -> 50%; late S2, S6 = 2; not finalised S3 = 1
# by point: into_secondary 3 due, 1 on time, 1 late, 1 not; into_school 1/1; into_post16 2 due, 1, 1 late


def test_phase_transfer_timeliness_by_hand():
    t = {"phase_transfers": frame("phase_transfers", TRANSFERS)}
    r = statutory.phase_transfer_timeliness(t, 2025)
    assert (r["due"], r["finalised_by_deadline"], r["finalised_late"], r["not_finalised"]) == (6, 3, 2, 1)
    assert r["on_time_pct"] == pytest.approx(50.0) and r["deadline_passed"]
    sec = r["by_point"]["into_secondary"]
    assert (sec["due"], sec["finalised_by_deadline"], sec["finalised_late"], sec["not_finalised"]) == (3, 1, 1, 1)
    assert sec["deadline"] == pd.Timestamp("2025-02-15")
    p16 = r["by_point"]["into_post16"]
    assert (p16["due"], p16["finalised_by_deadline"], p16["finalised_late"]) == (2, 1, 1)
    assert p16["on_time_pct"] == pytest.approx(50.0) and p16["deadline"] == pd.Timestamp("2025-03-31")
    assert r["by_point"]["into_school"]["on_time_pct"] == pytest.approx(100.0)
    assert r["by_point"]["infant_to_junior"]["due"] == 0 and math.isnan(
        r["by_point"]["infant_to_junior"]["on_time_pct"]
    )


def test_phase_transfer_timeliness_as_at_a_date():
    t = {"phase_transfers": frame("phase_transfers", TRANSFERS)}
    # as at 31 March 2025: S6 (June) is not finalised yet; S2 is late; both deadlines reached
    r = statutory.phase_transfer_timeliness(t, 2025, as_at="2025-03-31")
    assert (r["finalised_by_deadline"], r["finalised_late"], r["not_finalised"]) == (3, 1, 2)
    assert r["deadline_passed"]
    # as at 28 February 2025 the post-16 deadline is still ahead: progress, not a result
    r = statutory.phase_transfer_timeliness(t, 2025, as_at="2025-02-28")
    assert not r["deadline_passed"] and r["by_point"]["into_post16"]["not_finalised"] == 2
    # the next cohort, as at 31 December 2025: one due, finalised in January 2026 -> not yet
    r = statutory.phase_transfer_timeliness(t, 2026, as_at="2025-12-31")
    assert (r["due"], r["not_finalised"], r["finalised_by_deadline"]) == (1, 1, 0)


def test_transfer_year_as_at():
    assert statutory.transfer_year_as_at("2025-02-14") == 2024
    assert statutory.transfer_year_as_at("2025-02-15") == 2025
    assert statutory.transfer_year_as_at("2025-12-31") == 2025
    assert statutory.transfer_year_as_at("2026-03-31") == 2026
