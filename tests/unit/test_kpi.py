"""KPI library (K1-K11), RAG, comparators and publication, on tiny hand-built tables.

Every expected value is worked out by hand in the comments next to the data; none is copied from
the code's output. The reporting quarter is 2025-26Q2 (1 July - 30 September 2025) unless stated;
its previous quarter is 2025-26Q1 (April - June 2025).
"""

from __future__ import annotations

import dataclasses
import io
import math
from contextlib import redirect_stdout

import pandas as pd
import pytest

from sendlib.core.config import KpiTarget, load_config
from sendlib.core.quarters import Quarter
from sendlib.core.schema import TABLES
from sendlib.models import kpi
from sendlib.publish.disclosure import suppress_kpis

Q = Quarter.parse("2025-26Q2")
_DTYPES = {"date": "datetime64[ns]", "bool": "boolean", "int": "Int64", "float": "float64"}


def frame(name: str, rows: list[dict] | None = None) -> pd.DataFrame:
    """A canonical table from a few records; unspecified columns are empty."""
    schema = TABLES[name]
    df = pd.DataFrame(rows or [], columns=schema.column_names)
    for col in schema.columns:
        dtype = _DTYPES.get(col.kind, "string")
        df[col.name] = pd.to_datetime(df[col.name]) if col.kind == "date" else df[col.name].astype(dtype)
    return df


def tables(**given: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every canonical table (empty unless given) plus no national comparators."""
    out = {name: given.get(name, frame(name)) for name in TABLES}
    out["national_comparators"] = given.get("national_comparators", kpi.load_national_comparators(path="/nonexistent"))
    return out


@pytest.fixture(scope="module")
def cfg():
    return load_config()


def one(df: pd.DataFrame, kpi_id: str) -> pd.Series:
    rows = df[df["kpi"] == kpi_id]
    assert len(rows) == 1, f"{kpi_id}: {len(rows)} rows"
    return rows.iloc[0]


# ----- RAG -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [(70, "green"), (60, "green"), (57, "amber"), (55, "amber"), (54.9, "red"), (float("nan"), None), (None, None)],
)
def test_rag_up(value, expected):
    assert kpi.rag(value, KpiTarget(target=60, better="up", tolerance=5)) == expected


@pytest.mark.parametrize("value, expected", [(10, "green"), (25, "green"), (28, "amber"), (30, "amber"), (31, "red")])
def test_rag_down(value, expected):
    assert kpi.rag(value, KpiTarget(target=25, better="down", tolerance=5)) == expected


def test_rag_without_target_is_never_invented():
    assert kpi.rag(12.0, None) is None


# ----- K1 / K2 / K3 ----------------------------------------------------------------------------

K1_REQUESTS = [
    # issued in Q2, no exception
    dict(
        request_id="r1",
        request_date="2025-03-01",
        plan_issued_date="2025-07-15",
        outcome="plan_issued",
        exception=False,
    ),  # 136 days: in time
    dict(
        request_id="r2",
        request_date="2025-03-01",
        plan_issued_date="2025-07-20",
        outcome="plan_issued",
        exception=False,
    ),  # 141 days: late
    dict(
        request_id="r8",
        request_date="2025-03-01",
        plan_issued_date="2025-07-19",
        outcome="plan_issued",
        exception=False,
    ),  # exactly 140: in time
    dict(
        request_id="r4",
        request_date="2025-05-01",
        plan_issued_date="2025-09-30",
        outcome="plan_issued",
        exception=False,
    ),  # 152 days, last day of Q
    # issued in Q2 with an exception: late, only in K1_all
    dict(
        request_id="r3", request_date="2025-01-10", plan_issued_date="2025-08-01", outcome="plan_issued", exception=True
    ),
    # open request and a plan issued in the next quarter: in neither
    dict(request_id="r5", request_date="2025-06-01", outcome="open", exception=False),
    dict(
        request_id="r6",
        request_date="2025-06-01",
        plan_issued_date="2025-10-01",
        outcome="plan_issued",
        exception=False,
    ),
    # previous quarter (Q1): one plan in 120 days
    dict(
        request_id="r7",
        request_date="2025-01-01",
        plan_issued_date="2025-05-01",
        outcome="plan_issued",
        exception=False,
    ),
]


def _requests(rows):
    base = dict(person_id="p", age_at_request=8, locality="north")
    return frame("ehcp_requests", [{**base, **r} for r in rows])


def test_k1_timeliness_excludes_exceptions_and_open_requests(cfg):
    out = kpi.k1_timeliness(tables(ehcp_requests=_requests(K1_REQUESTS)), Q, cfg)
    k1 = one(out, "K1")
    # no-exception plans issued in Q2: r1, r2, r8, r4; in time: r1, r8 -> 2/4 = 50%
    assert (k1["numerator"], k1["denominator"]) == (2, 4)
    assert k1["value"] == pytest.approx(50.0)
    assert k1["previous_value"] == pytest.approx(100.0)  # Q1: r7 only, 120 days
    assert k1["change"] == pytest.approx(-50.0)
    assert k1["target"] == 60.0 and k1["rag"] == "red"  # 10 points below, tolerance 5
    assert k1["period"] == "2025-26Q2" and k1["unit"] == "%" and k1["better"] == "up"
    k1_all = one(out, "K1_all")
    # all plans issued in Q2: r1, r2, r8, r4, r3 -> 2/5 = 40%
    assert (k1_all["numerator"], k1_all["denominator"]) == (2, 5)
    assert k1_all["value"] == pytest.approx(40.0)


def test_k1_quarter_with_no_plans_issued_has_no_value_and_no_rag(cfg):
    out = kpi.k1_timeliness(tables(ehcp_requests=_requests(K1_REQUESTS)), Quarter.parse("2026-27Q1"), cfg)
    k1 = one(out, "K1")
    assert k1["denominator"] == 0 and math.isnan(k1["value"])
    assert k1["rag"] is None


def test_k1_q4_spans_two_calendar_years(cfg):
    rows = [
        dict(
            request_id="a",
            request_date="2025-12-01",
            plan_issued_date="2026-02-15",
            outcome="plan_issued",
            exception=False,
        ),  # 76 days
        dict(
            request_id="b",
            request_date="2025-08-01",
            plan_issued_date="2026-01-02",
            outcome="plan_issued",
            exception=False,
        ),  # 154 days
        dict(
            request_id="c",
            request_date="2025-10-01",
            plan_issued_date="2025-12-31",
            outcome="plan_issued",
            exception=False,
        ),
    ]  # Q3
    out = kpi.k1_timeliness(tables(ehcp_requests=_requests(rows)), Quarter.parse("2025-26Q4"), cfg)
    k1 = one(out, "K1")
    assert (k1["numerator"], k1["denominator"], k1["value"]) == (1, 2, pytest.approx(50.0))
    assert one(out, "K1")["previous_value"] == pytest.approx(100.0)  # Q3 2025-26: c, 91 days


def test_k2_refusal_rate_counts_decisions_in_the_quarter(cfg):
    rows = [
        dict(
            request_id="d1", request_date="2025-06-01", decision_date="2025-07-05", decision="refuse", outcome="refused"
        ),
        dict(request_id="d2", request_date="2025-06-15", decision_date="2025-08-10", decision="assess", outcome="open"),
        dict(request_id="d3", request_date="2025-08-20", decision_date="2025-09-30", decision="assess", outcome="open"),
        dict(
            request_id="d4", request_date="2025-05-20", decision_date="2025-06-30", decision="refuse", outcome="refused"
        ),
        dict(request_id="d5", request_date="2025-09-01", outcome="open"),
    ]  # no decision yet
    out = kpi.k2_refusal_rate(tables(ehcp_requests=_requests([{**r, "exception": False} for r in rows])), Q, cfg)
    k2 = one(out, "K2")
    # Q2 decisions d1, d2, d3; refused d1 -> 1/3; Q1: d4 refused -> 100%
    assert (k2["numerator"], k2["denominator"]) == (1, 3)
    assert k2["value"] == pytest.approx(100 / 3)
    assert k2["previous_value"] == pytest.approx(100.0)
    assert k2["better"] == "down" and k2["rag"] == "red"  # 33.3 > 25 + 5


def test_k3_conversion_only_counts_completed_assessments(cfg):
    rows = [
        dict(
            request_id="a1",
            decision="assess",
            outcome="plan_issued",
            outcome_date="2025-07-15",
            plan_issued_date="2025-07-15",
        ),
        dict(request_id="a2", decision="assess", outcome="no_plan", outcome_date="2025-08-01"),
        dict(request_id="a3", decision="assess", outcome="withdrawn", outcome_date="2025-08-05"),
        dict(request_id="a4", decision="assess", outcome="open"),
        dict(request_id="a5", decision="refuse", outcome="refused", outcome_date="2025-08-05"),
        dict(request_id="a6", decision="assess", outcome="plan_issued", outcome_date="2025-10-02"),
    ]
    rows = [{**r, "request_date": "2025-03-01", "decision_date": "2025-04-10", "exception": False} for r in rows]
    out = kpi.k3_assessment_conversion(tables(ehcp_requests=_requests(rows)), Q, cfg)
    k3 = one(out, "K3")
    # completed in Q2: a1 (plan), a2 (no plan) -> 1/2
    assert (k3["numerator"], k3["denominator"], k3["value"]) == (1, 2, pytest.approx(50.0))
    assert k3["rag"] is None and math.isnan(k3["target"])  # context KPI: no target in config


# ----- K4 / K5 ---------------------------------------------------------------------------------


def _plans(rows):
    base = dict(birth_month="2012-01", sex="F", primary_need="ASD", locality="north")
    return frame("ehcp_plans", [{**base, **r} for r in rows])


PLANS = _plans(
    [
        dict(person_id="p1", plan_start_date="2020-01-01"),  # in force
        dict(person_id="p1", plan_start_date="2015-01-01", plan_end_date="2019-06-01"),  # old spell
        dict(person_id="p2", plan_start_date="2025-09-30"),  # starts on the last day
        dict(person_id="p3", plan_start_date="2025-10-01"),  # not yet
        dict(person_id="p4", plan_start_date="2019-01-01", plan_end_date="2025-09-30"),  # ends on the last day
        dict(person_id="p5", plan_start_date="2019-01-01", plan_end_date="2025-09-29"),  # ended
        dict(person_id="p7", plan_start_date="2018-01-01"),  # two overlapping spells:
        dict(person_id="p7", plan_start_date="2024-01-01"),  #   counted once
    ]
)


def test_k4_counts_people_with_a_plan_in_force_and_the_rate(cfg):
    pop = frame(
        "population",
        [
            dict(year=2025, age=0, population=15000, kind="estimate"),
            dict(year=2025, age=25, population=25000, kind="estimate"),
            dict(year=2024, age=5, population=99999, kind="estimate"),
        ],
    )
    out = kpi.k4_plans_in_force(tables(ehcp_plans=PLANS, population=pop), Q, cfg)
    # in force on 30 Sep 2025: p1, p2, p4, p7 = 4; rate 4 / 40,000 * 10,000 = 1.0
    assert one(out, "K4")["value"] == 4
    rate = one(out, "K4_rate_per_10k")
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (4, 40000, pytest.approx(1.0))
    # Q4 ends in 2026; with no 2026 population the latest earlier year (2025) is used
    q4 = kpi.k4_plans_in_force(tables(ehcp_plans=PLANS, population=pop), Quarter.parse("2025-26Q4"), cfg)
    # on 31 Mar 2026: p1, p2, p3, p7 = 4 (p4 ended 30 Sep 2025)
    assert one(q4, "K4_rate_per_10k")["value"] == pytest.approx(1.0)


def test_k5_placement_mix_counts_each_child_once_in_the_latest_placement(cfg):
    plans = _plans(
        [dict(person_id=p, plan_start_date="2020-01-01") for p in "ABCDE"]
        + [dict(person_id="F", plan_start_date="2020-01-01", plan_end_date="2025-06-01")]
    )
    base = dict(phase="secondary", provider_id="x", annual_cost=10000.0, out_of_county=False)
    pl = frame(
        "placements",
        [
            {**base, **r}
            for r in [
                dict(
                    placement_id="1",
                    person_id="A",
                    setting_type="mainstream_academy",
                    start_date="2024-09-01",
                    end_date="2025-07-20",
                ),
                dict(placement_id="2", person_id="A", setting_type="special_academy", start_date="2025-07-21"),
                dict(placement_id="3", person_id="B", setting_type="inmss", start_date="2023-09-01"),
                dict(
                    placement_id="4", person_id="B", setting_type="mainstream_maintained", start_date="2025-09-01"
                ),  # two placements: latest wins
                dict(
                    placement_id="5",
                    person_id="C",
                    setting_type="inmss",
                    start_date="2022-01-01",
                    end_date="2025-09-30",
                ),
                dict(
                    placement_id="6", person_id="D", setting_type="resourced_provision", start_date="2025-10-01"
                ),  # not yet
                dict(
                    placement_id="7", person_id="F", setting_type="inmss", start_date="2022-01-01"
                ),  # plan ended: excluded
            ]
        ],
    )
    out = kpi.k5_placement_mix(tables(ehcp_plans=plans, placements=pl), Q, cfg)
    # 5 children with a plan (A-E): A special_academy, B mainstream_maintained, C inmss; D, E none
    assert one(out, "K5_special_academy_pct")["value"] == pytest.approx(20.0)
    assert one(out, "K5_mainstream_maintained_pct")["value"] == pytest.approx(20.0)
    assert one(out, "K5_inmss_pct")["value"] == pytest.approx(20.0)
    assert one(out, "K5_mainstream_pct")["value"] == pytest.approx(20.0)
    assert one(out, "K5_no_placement_pct")["value"] == pytest.approx(40.0)
    assert one(out, "K5_resourced_provision_pct")["value"] == 0.0
    assert one(out, "K5_inmss_pct")["denominator"] == 5
    assert one(out, "K5_inmss_pct")["rag"] == "red"  # 20 > 8 + 1
    setting_rows = out[out["kpi"].str.match(r"K5_") & (out["kpi"] != "K5_mainstream_pct")]
    assert setting_rows["value"].sum() == pytest.approx(100.0)


# ----- K6 / K7 ---------------------------------------------------------------------------------


def test_k6_reviews_on_time(cfg):
    ar = frame(
        "annual_reviews",
        [
            dict(person_id=str(i), **r)
            for i, r in enumerate(
                [
                    dict(
                        due_date="2025-07-10", meeting_date="2025-07-10", decision_date="2025-08-07"
                    ),  # on due date, decision day 28: on time
                    dict(due_date="2025-07-15", meeting_date="2025-07-16", decision_date="2025-07-20"),  # meeting late
                    dict(
                        due_date="2025-08-01", meeting_date="2025-07-20", decision_date="2025-08-18"
                    ),  # decision day 29: late
                    dict(due_date="2025-09-30"),  # not held yet
                    dict(due_date="2025-06-30", meeting_date="2025-06-01", decision_date="2025-06-05"),  # Q1
                    dict(due_date="2025-09-01", meeting_date="2025-08-25", decision_date="2025-09-01"),  # on time
                ]
            )
        ],
    )
    k6 = one(kpi.k6_annual_reviews(tables(annual_reviews=ar), Q, cfg), "K6")
    assert (k6["numerator"], k6["denominator"], k6["value"]) == (2, 5, pytest.approx(40.0))
    assert k6["previous_value"] == pytest.approx(100.0)


def test_k6_a_meeting_on_the_last_day_with_no_decision_yet_is_pending(cfg):
    # Q2 ends 30 September 2025; the data hold nothing later, so the reviews are seen as at that day
    ar = frame(
        "annual_reviews",
        [
            dict(person_id="a", due_date="2025-09-30", meeting_date="2025-09-30"),  # window to 28 Oct: pending
            dict(person_id="b", due_date="2025-09-10", meeting_date="2025-09-05"),  # window to 3 Oct: pending
            dict(person_id="c", due_date="2025-08-01", meeting_date="2025-07-20"),  # window closed 17 Aug: late
            dict(person_id="d", due_date="2025-09-20", meeting_date="2025-09-25"),  # meeting late: late, not pending
            dict(
                person_id="e", due_date="2025-07-10", meeting_date="2025-07-10", decision_date="2025-07-20"
            ),  # on time
        ],
    )
    out = kpi.k6_annual_reviews(tables(annual_reviews=ar), Q, cfg)
    k6, pending, share = one(out, "K6"), one(out, "K6_pending"), one(out, "K6_pending_pct")
    # 5 due, 2 pending: K6 = 1 on time of the 3 decided or late
    assert (k6["numerator"], k6["denominator"], k6["value"]) == (1, 3, pytest.approx(100 / 3))
    assert (pending["value"], pending["denominator"]) == (2, 5)
    assert share["value"] == pytest.approx(40.0)


def test_k6_is_not_known_when_no_decision_date_is_recorded(cfg):
    """A SEN2 import holds review meetings but no decision dates: K6 is not known, not 0%."""
    ar = frame(
        "annual_reviews",
        [
            dict(person_id="a", due_date="2025-07-10", meeting_date="2025-07-10"),
            dict(person_id="b", due_date="2025-08-01", meeting_date="2025-07-20"),
        ],
    )
    out = kpi.k6_annual_reviews(tables(annual_reviews=ar), Q, cfg)
    k6, pending = one(out, "K6"), one(out, "K6_pending")
    assert math.isnan(k6["value"]) and math.isnan(pending["value"]) and k6["denominator"] == 2


def test_k6_pending_is_judged_at_the_extract_when_the_data_run_later(cfg):
    # a decision recorded on 20 October 2025 shows the data run to then: review "a" (meeting 30 Sep,
    # window open to 28 Oct) is still pending; review "b" (meeting 5 Sep, window closed 3 Oct,
    # no decision) is late; review "c" was decided on 20 Oct, day 20 of its window: on time
    ar = frame(
        "annual_reviews",
        [
            dict(person_id="a", due_date="2025-09-30", meeting_date="2025-09-30"),
            dict(person_id="b", due_date="2025-09-10", meeting_date="2025-09-05"),
            dict(person_id="c", due_date="2025-09-30", meeting_date="2025-09-30", decision_date="2025-10-20"),
        ],
    )
    out = kpi.k6_annual_reviews(tables(annual_reviews=ar), Q, cfg)
    assert (one(out, "K6")["numerator"], one(out, "K6")["denominator"]) == (1, 2)
    assert one(out, "K6_pending")["value"] == 1


def test_k6_backlog_counts_reviews_overdue_at_quarter_end_by_age_group(cfg):
    plans = frame(
        "ehcp_plans",
        [
            dict(person_id="p1", birth_month="2015-03", sex="M", primary_need="ASD", plan_start_date="2020-01-01"),
            dict(person_id="p2", birth_month="2010-10", sex="F", primary_need="ASD", plan_start_date="2020-01-01"),
            dict(
                person_id="p3",
                birth_month="2010-10",
                sex="F",
                primary_need="ASD",
                plan_start_date="2020-01-01",
                plan_end_date="2025-08-01",
            ),
        ],
    )
    ar = frame(
        "annual_reviews",
        [
            dict(person_id="p1", due_date="2025-03-01"),  # overdue 213 days: 6-12 months
            dict(person_id="p1", due_date="2025-09-01", meeting_date="2025-10-05"),  # held after quarter end
            dict(person_id="p2", due_date="2025-09-29"),  # overdue 1 day
            dict(person_id="p2", due_date="2025-09-30"),  # due on the last day: not overdue yet
            dict(person_id="p2", due_date="2025-06-01", meeting_date="2025-09-01"),  # held late, by quarter end
            dict(person_id="p3", due_date="2025-06-01"),  # plan ceased: no review to hold
        ],
    )
    t = tables(annual_reviews=ar, ehcp_plans=plans)
    out = kpi.k6_annual_reviews(t, Q, cfg)
    # school-year age at 30 Sep 2025 (age on 31 Aug 2025): p1 10 -> 5-10; p2 14 -> 11-15
    assert one(out, "K6_backlog")["value"] == 3
    assert one(out, "K6_backlog_age_5_10")["value"] == 2
    assert one(out, "K6_backlog_age_11_15")["value"] == 1
    assert one(out, "K6_backlog_age_16_19")["value"] == 0
    by_age = kpi.review_backlog_table(t, Q, by="age_group").set_index("age_group")["overdue_reviews"]
    assert by_age.to_dict() == {"under 5": 0, "5-10": 2, "11-15": 1, "16-19": 0, "20-25": 0}
    by_months = kpi.review_backlog_table(t, Q, by="months_overdue").set_index("months_overdue")["overdue_reviews"]
    assert by_months.to_dict() == {"0-3": 2, "3-6": 0, "6-12": 1, "12+": 0}


def test_k2_decisions_within_6_weeks(cfg):
    rows = [
        dict(request_id="a", request_date="2025-06-01", decision_date="2025-07-13", decision="assess"),  # day 42
        dict(request_id="b", request_date="2025-06-01", decision_date="2025-07-14", decision="refuse"),  # day 43
        dict(request_id="c", request_date="2025-08-01", decision_date="2025-08-20", decision="refuse"),  # day 19
        dict(request_id="d", request_date="2025-09-01"),  # no decision: not counted
    ]
    out = kpi.k2_refusal_rate(
        tables(ehcp_requests=_requests([{**r, "exception": False, "outcome": "open"} for r in rows])), Q, cfg
    )
    six = one(out, "K2_decided_within_6_weeks_pct")
    assert (six["numerator"], six["denominator"], six["value"]) == (2, 3, pytest.approx(200 / 3))
    assert six["better"] == "up"
    assert one(out, "K2")["name"] != six["name"]


def test_k7_health_waits_per_group_including_waits_still_open(cfg):
    hw = frame(
        "health_waits",
        [
            dict(referral_id=str(i), **r)
            for i, r in enumerate(
                [
                    dict(
                        service="neurodevelopmental", referral_date="2025-01-01", first_contact_date="2025-07-02"
                    ),  # 182 d
                    dict(
                        service="neurodevelopmental", referral_date="2025-06-01", first_contact_date="2025-08-10"
                    ),  # 70 d
                    dict(
                        service="neurodevelopmental", referral_date="2025-04-01", first_contact_date="2025-09-30"
                    ),  # 182 d
                    dict(service="neurodevelopmental", referral_date="2025-03-03"),  # waiting 211 d
                    dict(
                        service="neurodevelopmental", referral_date="2025-09-02", first_contact_date="2025-10-05"
                    ),  # waiting 28 d at 30 Sep
                    dict(service="neurodevelopmental", referral_date="2025-10-01"),  # referred later
                    dict(
                        service="speech_language", referral_date="2025-06-01", first_contact_date="2025-07-01"
                    ),  # 30 d
                    dict(
                        service="occupational_therapy", referral_date="2025-05-01", first_contact_date="2025-08-05"
                    ),  # 96 d
                    dict(
                        service="physiotherapy", referral_date="2025-02-01", first_contact_date="2025-06-15"
                    ),  # seen in Q1
                ]
            )
        ],
    )
    out = kpi.k7_health_waits(tables(health_waits=hw), Q, cfg)
    assert one(out, "K7_neurodevelopmental_median_weeks")["value"] == pytest.approx(26.0)  # median 182 d
    nd = one(out, "K7_neurodevelopmental_pct_within_18_weeks")
    assert (nd["numerator"], nd["denominator"]) == (1, 3) and nd["rag"] == "red"  # 33% vs 50 - 10
    assert one(out, "K7_neurodevelopmental_waiting_list")["value"] == 2
    assert one(out, "K7_neurodevelopmental_longest_wait_weeks")["value"] == pytest.approx(211 / 7)
    assert one(out, "K7_integrated_therapies_median_weeks")["value"] == pytest.approx(9.0)  # (30 + 96) / 2 = 63 d
    it = one(out, "K7_integrated_therapies_pct_within_18_weeks")
    assert it["value"] == pytest.approx(100.0) and it["rag"] == "green"
    assert one(out, "K7_integrated_therapies_waiting_list")["value"] == 0
    assert math.isnan(one(out, "K7_integrated_therapies_longest_wait_weeks")["value"])


# ----- K8 / K9 / K10 / K11 ---------------------------------------------------------------------


def test_k8_suspension_rates_use_the_latest_january_census(cfg):
    sp = frame(
        "school_population",
        [
            dict(census_date="2025-01-16", phase="primary", sen_status="ehcp", pupils=300),
            dict(census_date="2025-01-16", phase="secondary", sen_status="ehcp", pupils=200),
            dict(census_date="2025-01-16", phase="primary", sen_status="sen_support", pupils=2000),
            dict(census_date="2025-01-16", phase="primary", sen_status="none", pupils=20000),
            dict(census_date="2024-01-18", phase="primary", sen_status="ehcp", pupils=1),
            dict(census_date="2026-01-15", phase="primary", sen_status="ehcp", pupils=1),
        ],
    )
    events = (
        [("ehcp", "suspension", "2025-08-01")] * 10
        + [("sen_support", "suspension", "2025-09-15")] * 20
        + [("none", "suspension", "2025-07-01")] * 40
        + [("ehcp", "permanent", "2025-08-01"), ("ehcp", "suspension", "2025-06-30")]
    )
    ex = frame(
        "exclusions",
        [
            dict(event_id=str(i), person_id=str(i), sen_status=s, kind=k, start_date=d, days=1.0)
            for i, (s, k, d) in enumerate(events)
        ],
    )
    out = kpi.k8_suspensions(tables(exclusions=ex, school_population=sp), Q, cfg)
    # 10/500, 20/2000, 40/20000 per 100 = 2.0, 1.0, 0.2; ratio 2.0 / 0.2 = 10
    assert one(out, "K8_ehcp_per_100")["value"] == pytest.approx(2.0)
    assert one(out, "K8_sen_support_per_100")["value"] == pytest.approx(1.0)
    assert one(out, "K8_none_per_100")["value"] == pytest.approx(0.2)
    assert one(out, "K8_ratio_ehcp_to_none")["value"] == pytest.approx(10.0)


def test_k8_rates_over_the_academic_year_to_date_and_the_last_12_months(cfg):
    # quarter 2025-26Q3 (October-December 2025): academic year from 1 September 2025; the last 12
    # months from 1 January 2025. Pupils at the January 2025 census: 100 with a plan, 1,000 no SEN.
    q3 = Quarter.parse("2025-26Q3")
    sp = frame(
        "school_population",
        [
            dict(census_date="2025-01-16", phase="secondary", sen_status="ehcp", pupils=100),
            dict(census_date="2025-01-16", phase="secondary", sen_status="none", pupils=1000),
        ],
    )
    events = [
        ("ehcp", "2024-12-31"),  # before the 12 months
        ("ehcp", "2025-01-01"),  # 12 months only
        ("ehcp", "2025-08-31"),  # 12 months only
        ("ehcp", "2025-09-01"),  # year to date and 12 months
        ("ehcp", "2025-10-15"),  # quarter, year to date, 12 months
        ("none", "2025-03-01"),
        ("none", "2025-11-01"),
    ]
    ex = frame(
        "exclusions",
        [
            dict(event_id=str(i), person_id=str(i), sen_status=st, kind="suspension", start_date=d, days=1.0)
            for i, (st, d) in enumerate(events)
        ],
    )
    out = kpi.k8_suspensions(tables(exclusions=ex, school_population=sp), q3, cfg)
    assert one(out, "K8_ehcp_per_100")["value"] == pytest.approx(1.0)  # 1 / 100
    assert one(out, "K8_ehcp_per_100_ytd")["value"] == pytest.approx(2.0)  # 2 / 100
    assert one(out, "K8_ehcp_per_100_12m")["value"] == pytest.approx(4.0)  # 4 / 100
    assert one(out, "K8_none_per_100_12m")["value"] == pytest.approx(0.2)  # 2 / 1000
    assert one(out, "K8_ratio_ehcp_to_none_12m")["value"] == pytest.approx(20.0)
    assert one(out, "K8_ratio_ehcp_to_none_ytd")["value"] == pytest.approx(20.0)  # 2.0 / 0.1


def test_k8_annual_rates_carry_englands_published_rate(cfg):
    comps = kpi.load_national_comparators(cfg)
    out = kpi.k8_suspensions(tables(national_comparators=comps), Q, cfg)
    row = one(out, "K8_ehcp_per_100_12m")
    # DfE 2021/22 (academic year ending 2022): 17.63 suspensions per 100 pupils with an EHC plan
    assert (row["national_value"], row["national_year"]) == (17.63, 2022)
    assert one(out, "K8_ratio_ehcp_to_none_12m")["national_value"] == pytest.approx(3.76)
    assert math.isnan(one(out, "K8_ehcp_per_100")["national_value"])  # a quarter is not an annual rate


def test_k9_preparing_for_adulthood(cfg):
    # census 16 January 2025: school-year age = age on 31 August 2024. Birth months are given for
    # every person but "nb" (no plan row: age at the census is used instead).
    rows = [
        # id, age at census, birth month, transition plan, activity
        ("y9", 13, "2011-03", True, "education"),  # Year 9 (13 on 31 Aug 2024), aged 13: counts
        ("y9b", 14, "2010-10", False, "education"),  # Year 9 too (13 on 31 Aug 2024, 14 in October)
        ("y8", 13, "2011-10", True, "education"),  # Year 8 (12 on 31 Aug 2024): not due yet
        ("a15", 15, "2009-06", True, "education"),
        ("a16", 16, "2008-05", True, "neet"),  # academic age 16
        ("a17", 17, "2007-04", True, "education"),  # academic age 17
        ("u17", 17, "2007-12", False, "unknown"),  # 16 on 31 Aug 2024: academic age 16
        ("a18", 18, "2006-11", True, "neet"),  # 17 on 31 Aug 2024: academic age 17, in the NEET cohort
        ("o18", 18, "2006-03", True, "neet"),  # 18 on 31 Aug 2024: academic age 18, not in it
        ("nb", 16, None, False, "unknown"),  # no birth month: age 16 at the census, in the cohort
    ]
    tr = frame(
        "transitions",
        [
            dict(person_id=i, census_date="2025-01-16", age=a, has_transition_plan=t, activity=act)
            for i, a, _, t, act in rows
        ]
        + [dict(person_id="z", census_date="2026-01-15", age=16, has_transition_plan=False, activity="neet")],
    )
    plans = frame(
        "ehcp_plans",
        [
            dict(person_id=i, birth_month=b, sex="M", primary_need="ASD", plan_start_date="2020-01-01", locality="x")
            for i, _, b, _, _ in rows
            if b is not None
        ],
    )
    out = kpi.k9_preparing_for_adulthood(tables(transitions=tr, ehcp_plans=plans), Q, cfg)
    # Year 9+: everyone but y8 = 9 young people; with a plan: y9, a15, a16, a17, a18, o18 = 6
    tp = one(out, "K9_transition_plan_pct")
    assert (tp["numerator"], tp["denominator"]) == (6, 9) and tp["value"] == pytest.approx(600 / 9)
    # 16-17 cohort: a16, a17, u17, a18, nb = 5; NEET a16, a18 = 2; not known u17, nb = 2
    neet = one(out, "K9_neet_pct")
    assert (neet["numerator"], neet["denominator"], neet["value"]) == (2, 5, pytest.approx(40.0))
    unknown = one(out, "K9_not_known_pct")
    assert (unknown["numerator"], unknown["denominator"], unknown["value"]) == (2, 5, pytest.approx(40.0))
    both = one(out, "K9_neet_or_not_known_pct")
    assert (both["numerator"], both["denominator"], both["value"]) == (4, 5, pytest.approx(80.0))


def test_k9_a_year9_pupil_aged_13_counts(cfg):
    # one young person, born March 2012: 13 on 31 August 2025, so Year 9 in 2025-26, and still 13
    # at the January 2026 census. Quarter 2025-26Q4 (to 31 March 2026) reads that census.
    tr = frame(
        "transitions",
        [dict(person_id="p", census_date="2026-01-15", age=13, has_transition_plan=True, activity="education")],
    )
    plans = frame(
        "ehcp_plans",
        [dict(person_id="p", birth_month="2012-03", sex="F", primary_need="SLD", plan_start_date="2020-01-01")],
    )
    out = kpi.k9_preparing_for_adulthood(tables(transitions=tr, ehcp_plans=plans), Quarter.parse("2025-26Q4"), cfg)
    tp = one(out, "K9_transition_plan_pct")
    assert (tp["numerator"], tp["denominator"], tp["value"]) == (1, 1, pytest.approx(100.0))


def test_school_year_age_from_birth_month():
    day = pd.Timestamp("2026-01-15")  # academic year 2025-26: age on 31 August 2025
    got = kpi.school_year_age(pd.Series(["2012-08", "2012-09", "2011-09", None]), day)
    assert got.iloc[:3].tolist() == [13.0, 12.0, 13.0] and math.isnan(got.iloc[3])
    # the first day of an academic year takes the new 31 August
    assert kpi.school_year_age(pd.Series(["2012-03"]), pd.Timestamp("2025-09-01")).iloc[0] == 13.0
    assert kpi.school_year_age(pd.Series(["2012-03"]), pd.Timestamp("2025-08-31")).iloc[0] == 12.0


def test_k10_variance_and_average_costs(cfg):
    hb = frame(
        "hnb_budget",
        [
            dict(
                financial_year="2025-26",
                as_at_quarter="2025-26Q2",
                line="inmss",
                budget=1_000_000.0,
                forecast_outturn=1_100_000.0,
            ),
            dict(
                financial_year="2025-26",
                as_at_quarter="2025-26Q2",
                line="special_academy",
                budget=3_000_000.0,
                forecast_outturn=3_020_000.0,
            ),
            dict(
                financial_year="2025-26",
                as_at_quarter="2025-26Q1",
                line="inmss",
                budget=4_000_000.0,
                forecast_outturn=4_000_000.0,
            ),
            dict(financial_year="2024-25", as_at_quarter="2024-25Q4", line="inmss", budget=9.0, forecast_outturn=99.0),
        ],
    )
    base = dict(phase="secondary", provider_id="x", out_of_county=False)
    pl = frame(
        "placements",
        [
            {**base, **r}
            for r in [
                dict(
                    placement_id="1", person_id="A", setting_type="inmss", start_date="2024-01-01", annual_cost=60000.0
                ),
                dict(
                    placement_id="2", person_id="A", setting_type="inmss", start_date="2025-09-01", annual_cost=80000.0
                ),
                dict(
                    placement_id="3",
                    person_id="B",
                    setting_type="special_academy",
                    start_date="2024-01-01",
                    annual_cost=25000.0,
                ),
                dict(
                    placement_id="4",
                    person_id="C",
                    setting_type="inmss",
                    start_date="2024-01-01",
                    end_date="2025-09-29",
                    annual_cost=100000.0,
                ),
            ]
        ],
    )
    out = kpi.k10_high_needs_spend(tables(hnb_budget=hb, placements=pl), Q, cfg)
    # outturn 4,120,000 - budget 4,000,000 = 120,000 = 3% of budget; Q1 variance 0
    assert one(out, "K10_variance_gbp")["value"] == pytest.approx(120_000)
    assert one(out, "K10_variance_gbp")["change"] == pytest.approx(120_000)
    pct = one(out, "K10_variance_pct")
    assert pct["value"] == pytest.approx(3.0) and pct["rag"] == "red"  # target 0, tolerance 2
    assert one(out, "K10_cost_inmss_gbp")["value"] == pytest.approx(70_000)  # (60k + 80k) / 2
    assert one(out, "K10_cost_special_academy_gbp")["value"] == pytest.approx(25_000)
    assert math.isnan(one(out, "K10_cost_fe_college_gbp")["value"])


def pap_frame():
    rows = [
        ("1.1", "2025-26Q1", "amber", "2025-04-30"),
        ("1.1", "2025-26Q2", "green", "2025-04-30"),
        ("2B:3", "2025-26Q1", "amber", "2025-04-30"),
        ("2B:3", "2025-26Q2", "red", "2025-04-30"),
        ("3A1", "2025-26Q1", "grey", "2025-09-30"),
        ("3A1", "2025-26Q2", "grey", "2025-09-30"),
        ("4C1", "2025-26Q1", "red", "2025-08-31"),  # not re-rated in Q2: keeps red
        ("5B1", "2025-26Q2", "amber", None),  # new in Q2, no due date
        ("5D1", "2025-26Q1", "green", "2024-01-31"),
        ("5D1", "2025-26Q2", "blue", "2024-01-31"),
    ]
    return frame(
        "pap_actions",
        [
            dict(
                ref=r, objective=f"action {r}", theme="t", project="p", quarter=q, brag=b, due=d, comment=f"comment {r}"
            )
            for r, q, b, d in rows
        ],
    )


def test_k11_pap_progress(cfg):
    out = kpi.k11_pap_progress(tables(pap_actions=pap_frame()), Q, cfg)
    got = dict(zip(out["kpi"], out["value"]))
    assert got == {
        "K11_grey": 1,
        "K11_red": 2,
        "K11_amber": 1,
        "K11_green": 1,
        "K11_blue": 1,
        "K11_started": 0,
        "K11_moved_up": 2,
        "K11_moved_down": 1,
        "K11_deteriorated": 1,
        "K11_overdue": 2,
        "K11_needs_attention": 2,  # 2B:3 and 4C1 red; 5B1 amber but no due date
    }
    assert out["rag"].isna().all()  # no targets for K11 in the config


# ----- all KPIs, comparators, publication ------------------------------------------------------


def test_compute_kpis_has_every_family_and_national_comparators(cfg):
    t = tables(ehcp_requests=_requests(K1_REQUESTS), ehcp_plans=PLANS, pap_actions=pap_frame())
    t["national_comparators"] = kpi.load_national_comparators(cfg)
    out = kpi.compute_kpis(t, Q, cfg)
    assert list(out.columns) == kpi.COLUMNS
    families = set(out["kpi"].str.extract(r"^(K\d+)")[0])
    assert families == {f"K{i}" for i in range(1, 14)}
    assert not out["kpi"].duplicated().any()
    k1 = one(out, "K1")
    # the latest England figure for a period ended by 30 Sep 2025 is calendar 2024: 46.4%
    assert (k1["national_value"], k1["national_year"]) == (46.4, 2024)
    # January 2025 census is the latest before 30 Sep 2025: INMSS (29,647 + 4,381) / 638,745 = 5.3%
    assert (one(out, "K5_inmss_pct")["national_value"], one(out, "K5_inmss_pct")["national_year"]) == (5.3, 2025)
    # targets only from config: a changed config changes the RAG
    cfg2 = dataclasses.replace(cfg, kpi_targets={"K1": KpiTarget(target=40, better="up", tolerance=0)})
    out2 = kpi.compute_kpis(t, Q, cfg2)
    assert one(out2, "K1")["rag"] == "green" and one(out2, "K2")["rag"] is None


def test_kpi_history_fills_previous_values_from_the_stack(cfg):
    t = tables(ehcp_requests=_requests(K1_REQUESTS))
    hist = kpi.kpi_history(t, [Q.previous, Q], cfg)
    k1 = hist[hist["kpi"] == "K1"].set_index("period")
    assert k1.loc["2025-26Q1", "value"] == pytest.approx(100.0)
    assert k1.loc["2025-26Q2", "previous_value"] == pytest.approx(100.0)
    assert k1.loc["2025-26Q2", "change"] == pytest.approx(-50.0)


def test_suppress_kpis_hides_small_numbers_but_not_money():
    f = pd.DataFrame(
        [
            dict(
                kpi="K7_x_pct_within_18_weeks",
                unit="%",
                numerator=50,
                denominator=400,
                value=12.5,
                previous_value=0.75,
                change=11.75,
                previous_numerator=3,
                previous_denominator=400,
            ),
            dict(
                kpi="K4",
                unit="count",
                numerator=3,
                denominator=float("nan"),
                value=3,
                previous_value=12,
                change=-9,
                previous_denominator=float("nan"),
            ),
            dict(
                kpi="K2",
                unit="%",
                rag="amber",
                numerator=2,
                denominator=8,
                value=25.0,
                previous_value=30.0,
                change=-5.0,
                previous_numerator=6,
                previous_denominator=20,
            ),
            dict(
                kpi="K6",
                unit="%",
                numerator=40,
                denominator=50,
                value=80.0,
                previous_value=50.0,
                change=30.0,
                previous_numerator=2,
                previous_denominator=4,
            ),
            dict(
                kpi="K10_variance_gbp",
                unit="£",
                numerator=4.12e6,
                denominator=4e6,
                value=1.2e5,
                previous_value=0.0,
                change=1.2e5,
                previous_denominator=4e6,
            ),
            dict(
                kpi="K10_cost_inmss_gbp",
                unit="£",
                numerator=70000.0,
                denominator=1,
                value=70000.0,
                previous_value=65000.0,
                change=5000.0,
                previous_denominator=1,
            ),
        ]
    )
    safe = suppress_kpis(f).set_index("kpi")
    assert safe.loc["K4", "value"] == "<5" and safe.loc["K4", "change"] == ""
    assert safe.loc["K2", "numerator"] == "<5" and safe.loc["K2", "value"] == "" and safe.loc["K2", "change"] == ""
    assert safe.loc["K6", "value"] == 80.0 and safe.loc["K6", "previous_value"] == "" and safe.loc["K6", "change"] == ""
    assert safe.loc["K10_variance_gbp", "value"] == 1.2e5
    assert safe.loc["K10_cost_inmss_gbp", "value"] == "" and safe.loc["K10_cost_inmss_gbp", "numerator"] == ""
    # a previous percentage whose numerator was 1-4 is not shown either
    assert (
        safe.loc["K7_x_pct_within_18_weeks", "value"] == 12.5
        and safe.loc["K7_x_pct_within_18_weeks", "previous_value"] == ""
    )
    assert safe.loc["K2", "rag"] is None  # no RAG for a value not shown
    assert "previous_denominator" not in safe.columns and "previous_numerator" not in safe.columns


def test_suppress_kpis_hides_a_count_rows_small_denominator():
    """K6_pending is a count whose denominator (reviews due) is a count too: 1-4 is not shown."""
    f = pd.DataFrame(
        [
            dict(
                kpi="K6_pending",
                unit="count",
                rag=None,
                numerator=0,
                denominator=3,
                value=0,
                previous_value=0,
                change=0,
                previous_numerator=0,
                previous_denominator=3,
            )
        ]
    )
    safe = suppress_kpis(f).set_index("kpi")
    assert safe.loc["K6_pending", "denominator"] == "<5" and safe.loc["K6_pending", "value"] == 0


# ----- the command on the shipped synthetic county ---------------------------------------------


def test_kpis_command_prints_every_kpi_for_the_latest_quarter(shipped_data_dir):
    from sendlib.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["kpis", "--quarter", "latest", "--format", "csv", "--data-dir", str(shipped_data_dir)])
    assert code == 0
    out = pd.read_csv(io.StringIO(buf.getvalue()), dtype=str)
    assert {"kpi", "name", "value", "rag", "national_value"} <= set(out.columns)
    families = set(out["kpi"].str.extract(r"^(K\d+)")[0])
    assert families == {f"K{i}" for i in range(1, 14)}
    # the rows issue 19 names: tribunal appeals and phase transfers with their variants, K6's
    # pending reviews and the decision to assess within 6 weeks
    for row in ("K12", "K12_in_family_favour_pct", "K12_pending", "K13", "K13_school_pct", "K13_post16_pct"):
        assert row in set(out["kpi"]), row
    assert {"K6_pending", "K2_decided_within_6_weeks_pct"} <= set(out["kpi"])
    assert "person_id" not in out.columns
    assert {"K6_pending", "K6_pending_pct", "K6_backlog", "K2_decided_within_6_weeks_pct"} <= set(out["kpi"])


# ----- narrative and charts --------------------------------------------------------------------


def _row(**kw):
    base = dict(
        kpi="K1",
        name="EHC plans issued within 20 weeks",
        period="2025-26Q2",
        numerator=52,
        denominator=100,
        value=52.0,
        unit="%",
        target=60.0,
        rag="red",
        previous_value=61.0,
        previous_numerator=61,
        previous_denominator=100,
        national_value=46.4,
        national_year=2024,
    )
    return {**base, **kw}


def test_narrative_sentence_states_movement_target_and_england():
    from sendlib.publish.narrative import kpi_sentence

    assert kpi_sentence(_row()) == (
        "20-week timeliness (excluding exceptions) fell from 61% to 52%, "
        "below the 60% target (red) and above England's 46% (2024)."
    )
    assert kpi_sentence(_row(value=float("nan"), denominator=0)).endswith(
        "no figure for 2025-26Q2 (nothing to measure in the quarter)."
    )
    # small numbers are not put into words
    assert "not published" in kpi_sentence(_row(numerator=3, denominator=8, value=37.5))
    assert kpi_sentence(_row(kpi="K4", unit="count", value=3, numerator=3, denominator=float("nan"))).startswith(
        "The number of EHC plans in force: fewer than 5"
    )
    # a previous value on a small base is not quoted
    assert kpi_sentence(_row(previous_denominator=6)).startswith("20-week timeliness (excluding exceptions) was 52%")


def test_charts_have_titles_and_alt_text(cfg):
    from sendlib.publish.plots import kpi as kpi_plots

    t = tables(ehcp_requests=_requests(K1_REQUESTS), ehcp_plans=PLANS, pap_actions=pap_frame())
    hist = kpi.kpi_history(t, [Q.previous, Q], cfg)
    charts = [
        kpi_plots.kpi_trend(hist, "K1", cfg.kpi_targets["K1"]),
        kpi_plots.kpi_trend_grid(hist, ["K1", "K2", "K4"], dict(cfg.kpi_targets)),
        kpi_plots.kpi_tiles(hist[hist["period"] == str(Q)], ["K1", "K4", "K11_red"]),
        kpi_plots.placement_mix_chart(hist),
        kpi_plots.waiting_time_chart(kpi.wait_distribution(t, Q)),
    ]
    from sendlib.models import pap

    charts.append(kpi_plots.brag_chart(pap.brag_by_area(pap.action_status(pap_frame(), Q)), "priority_area", str(Q)))
    for c in charts:
        assert c.alt_text
        assert c.figure.texts or c.figure.axes[0].get_title()  # a source line or a title
    # K1 rests on 4 plans: its tile says "not published" and "not rated" in words, not only colour
    assert "not published (fewer than 10 cases) (not rated)" in charts[2].alt_text
    import matplotlib.pyplot as plt

    plt.close("all")


# ----- K12 / K13: wired from sendlib.models.statutory ---------------------------------------------


def test_k12_k13_rows_are_the_statutory_measures(cfg, shipped_data_dir):
    from sendlib.data.loaders import load_tables
    from sendlib.models import statutory

    t = load_tables(cfg)
    q = Quarter.parse("2026-27Q2")
    out = kpi.compute_kpis(t, q, cfg, with_previous=False)
    a = statutory.tribunal_appeal_rate(t, "2025-10-01", "2026-09-30")
    k12 = one(out, "K12")
    assert (k12["numerator"], k12["denominator"]) == (a["appeals_registered"], a["appealable_decisions"])
    assert k12["value"] == pytest.approx(a["appeal_rate_pct"])
    assert one(out, "K12_pending")["value"] == a["pending_at_end"]
    # England's published rate (DfE / MoJ appeal-rate table) is the comparator, with its year
    assert k12["national_value"] == pytest.approx(3.2) and int(k12["national_year"]) == 2024
    p = statutory.phase_transfer_timeliness(t, 2026, as_at=q.end)
    k13 = one(out, "K13")
    assert (k13["numerator"], k13["denominator"]) == (p["finalised_by_deadline"], p["due"])
    school = one(out, "K13_school_pct")
    post16 = one(out, "K13_post16_pct")
    assert school["denominator"] + post16["denominator"] == p["due"]
    assert school["numerator"] + post16["numerator"] == p["finalised_by_deadline"]
