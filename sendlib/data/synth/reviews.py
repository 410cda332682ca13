"""Annual reviews of plans, and the preparation for adulthood of young people aged 14-25.

A plan is reviewed at least every 12 months and the authority decides within 4 weeks of the
meeting whether to keep, amend or cease it (SEND Code of Practice 2015, chapter 9, "Reviewing an
EHC plan"). Reviews here fall due 12 months after the plan was issued, then 12 months after the
last meeting; the share of meetings on time follows ``annual_reviews.on_time_share`` by year.

At each January census, every young person with a plan in force from Year 9 (school-year age 13,
the year in which they turn 14) to age 25 gets a transition plan flag (share rising by year and
age) and an activity read from their placement that day (docs/synthetic-county.md, "What is
generated").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import NA, _academic_age, _add_months, _add_months_arr, _age, _to_dates, _ymd
from sendlib.data.synth.sampling import STREAMS, _by_year, _rng
from sendlib.data.synth.state import County


def annual_reviews(c: County) -> None:
    """Build the ``annual_reviews`` table: one row per review due while the plan is in force."""
    A = c.params["annual_reviews"]
    r = _rng(c.seed, STREAMS["annual_reviews"])
    pl = c.plan
    n = len(pl["start"])
    start, end = pl["start"], pl["end"]
    stop = np.where(end == NA, c.end, end - 1)
    due = _first_due(c)
    rows_p, rows_due, rows_meet, rows_dec = [], [], [], []
    alive = due <= stop
    idx = np.arange(n)
    while alive.any():
        i = idx[alive]
        d = due[alive]
        yr = _ymd(d)[0]
        p_on = _by_year(A["on_time_share"], yr)
        on = r.random(len(i)) < p_on
        meet = np.where(
            on,
            d - r.integers(0, int(A["early_days_max"]) + 1, len(i)),
            d
            + 1
            + np.minimum(r.exponential(float(A["late_days_mean"]), len(i)).astype(np.int64), int(A["late_days_max"])),
        )
        meet = np.maximum(meet, start[i] + 180)
        quick = r.random(len(i)) < float(A["decision_within_4_weeks_share"])
        dec = meet + np.where(
            quick, r.integers(1, 29, len(i)), r.integers(29, int(A["decision_late_days_max"]) + 1, len(i))
        )
        # a review cannot happen after the plan ended
        meet_ok = (meet <= c.end) & (meet <= stop[i])
        dec_ok = meet_ok & (dec <= c.end) & (dec <= stop[i])
        rows_p.append(i)
        rows_due.append(d)
        rows_meet.append(np.where(meet_ok, meet, NA))
        rows_dec.append(np.where(dec_ok, dec, NA))
        # next review due 12 months after this meeting (or this due date if none held)
        nxt = _add_months(np.where(meet_ok, meet, d), 12)
        nxt = np.maximum(nxt, d + 200)
        due[alive] = nxt
        alive = due <= stop
    pi = np.concatenate(rows_p)
    pid = c.person_ids[pl["pidx"][pi]]
    df = pd.DataFrame(
        {
            "person_id": pid,
            "due_date": _to_dates(np.concatenate(rows_due)),
            "meeting_date": _to_dates(np.concatenate(rows_meet)),
            "decision_date": _to_dates(np.concatenate(rows_dec)),
        }
    )
    order = np.lexsort((np.concatenate(rows_due), pid))
    c.tables["annual_reviews"] = df.iloc[order].reset_index(drop=True)


def _first_due(c: County) -> np.ndarray:
    """First review due on or after the start of the history: an anniversary of the plan."""
    start = c.plan["start"]
    y_s = _ymd(start)[0]
    y0 = _ymd(np.array([c.start]))[0][0]
    k = np.maximum(1, y0 - y_s - 1)
    due = _add_months_arr(start, 12 * k)
    while True:
        early = due < c.start
        if not early.any():
            break
        due[early] = _add_months(due[early], 12)
    return due


def transitions(c: County) -> None:
    """Build the ``transitions`` table: plan holders from Year 9 (school-year age 13) to age 25 at
    each January census.

    Young people aged 14-25 at the census (January-born 14-year-olds aside) draw from the
    ``transitions`` stream; the rest of Year 9 (13-year-olds born February-August, and January-born
    14-year-olds, whose age is read as on the 1st of their birth month) draw from a sub-stream of
    it, so adding them left the older rows' draws unchanged."""
    T = c.params["transitions"]
    r = _rng(c.seed, STREAMS["transitions"])
    r9 = np.random.default_rng([int(c.seed), int(STREAMS["transitions"]), 9])
    pl, sp = c.plan, c.spells
    frames = []
    for year, day in c.censuses:
        at = c.in_force_on(day)
        i_all = at["plans"]
        bm_all = pl["bm"][i_all]
        age_all = _age(bm_all, np.full(len(i_all), day))
        jan_born = bm_all % 12 == 0
        older = (age_all >= 14) & (age_all <= 25) & ~(jan_born & (age_all == 14))
        year9 = (_academic_age(bm_all, np.full(len(i_all), year - 1)) == 13) & ~older
        for keep, rng in ((older, r), (year9, r9)):
            frames.append(_transition_rows(c, T, rng, year, day, at, i_all[keep], age_all[keep], pl, sp))
    df = pd.concat(frames, ignore_index=True)
    c.tables["transitions"] = df.sort_values(["census_date", "person_id"], kind="stable").reset_index(drop=True)


def _transition_rows(c, T, r, year, day, at, i, age, pl, sp) -> pd.DataFrame:
    """The census rows of plan holders ``i`` (ages ``age``), drawing from ``r``."""
    s = at["spell_of"][i]
    setting = np.where(s >= 0, sp["setting"][np.maximum(s, 0)], "other")
    p_tp = np.minimum(
        _by_year(T["transition_plan_share"], np.full(len(i), year)) + float(T["age_boost"]) * (age - 14), 0.98
    )
    has_tp = r.random(len(i)) < p_tp
    act = np.full(len(i), "education", dtype=object)
    act[setting == "neet"] = "neet"
    op = setting == "other_post16"
    emp = r.random(len(i)) < float(T["other_post16_employment_share"])
    act[op & emp] = "employment"
    act[op & ~emp] = "training"
    unk = (r.random(len(i)) < float(T["unknown_share"])) & (age >= 16) & (setting != "neet")
    act[unk] = "unknown"
    act[(setting == "other") & (age >= 16)] = "unknown"
    return pd.DataFrame(
        {
            "person_id": c.person_ids[pl["pidx"][i]],
            "census_date": pd.Timestamp(np.datetime64(int(day), "D")),
            "age": age,
            "has_transition_plan": has_tp,
            "activity": act,
        }
    )
