"""EHC needs assessment requests, the plans they lead to, and the people behind both.

Requests arrive as a monthly Poisson stream (``requests.per_year`` interpolated at mid-year, times
a seasonality). Each gets an age, need, sex and locality, a decision whether to assess (about six
weeks after the request) and an outcome: refused, withdrawn, assessed without a plan, or a plan
issued so that the share issued within 20 weeks, exceptions excluded, follows the year's target in
``timeliness`` (SEND Code of Practice 2015, chapter 9; SEND Regulations 2014, reg. 13). Outcomes
after the end date are ``open``.

People are numbered in four blocks: the holders of the plans in force on the first day of the
history, people whose plan was issued in the history from a request made before it, people who
moved into the county with a plan (these three have no request row and no ``request_id``), then
one person per request. See docs/synthetic-county.md, "What is
generated".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import NA, _frac_year, _month_start, _to_dates, _ym, _ymd
from sendlib.data.synth.ceasing import cease
from sendlib.data.synth.people import draw_locality, draw_need, draw_sex, stock_people, transfer_people
from sendlib.data.synth.sampling import STREAMS, _by_year, _ids, _interp_year, _norm, _rng
from sendlib.data.synth.state import County


def requests_and_plans(c: County) -> None:
    """Draw requests, the plans in force at the start and the plans issued, then when they cease.

    Sets ``c.requests``, ``c.request_ids``, ``c.persons`` and ``c.plan``; one random stream feeds
    the three draws in that order."""
    r = _rng(c.seed, STREAMS["requests_and_plans"])
    allreq = _draw_requests(c, r)
    # requests start warmup_months before the history so that plans are issued smoothly from its
    # first day; requests before the start are not output (their plans have no request_id)
    kept = allreq["req"] >= c.start
    warm = ~kept & (allreq["outcome"] == "plan_issued") & (allreq["plan_date"] >= c.start)
    wq = {k: v[warm] for k, v in allreq.items()}
    c.requests = {k: v[kept] for k, v in allreq.items()}
    _people_and_plans(c, r, wq)
    cease(c, r)


def _request_dates(c: County, r: np.random.Generator) -> np.ndarray:
    """Request days, sorted: monthly Poisson counts, each request on a uniform day of its month."""
    R = c.params["requests"]
    warm_start = _ym(np.array([c.start]))[0] - int(R["warmup_months"])
    months = np.arange(warm_start, _ym(np.array([c.end]))[0] + 1)
    season = _norm(R["seasonality"]) * 12
    rate = _interp_year(R["per_year"], months / 12.0 + 1 / 24.0) / 12.0 * season[months % 12]
    counts = r.poisson(rate)
    mstart = _month_start(months)
    mlen = _month_start(months + 1) - mstart
    mi = np.repeat(np.arange(len(months)), counts)
    req = mstart[mi] + np.floor(r.random(len(mi)) * mlen[mi]).astype(np.int64)
    req = np.sort(req, kind="stable")
    return req[req <= c.end]


def _draw_requests(c: County, r: np.random.Generator) -> dict[str, np.ndarray]:
    """Every request from the warm-up on: who it is for and what became of it."""
    R = c.params["requests"]
    req = _request_dates(c, r)
    n = len(req)
    age = r.choice(26, size=n, p=_norm(R["age_weights"]))
    bm = _ym(req) - 12 * age - r.integers(0, 12, n)
    need = draw_need(c, r, age)
    sex = draw_sex(r, n, c.params["caseload"]["sex_male_share"])
    loc = draw_locality(c, r, n)
    return dict(req=req, age=age, bm=bm, need=need, sex=sex, loc=loc, **_outcomes(c, r, req))


def _outcomes(c: County, r: np.random.Generator, req: np.ndarray) -> dict[str, np.ndarray]:
    """Decision, outcome and their dates for each request; anything after the end date is open."""
    R = c.params["requests"]
    n = len(req)
    year = _ymd(req)[0]
    dd_p = R["decision_days"]
    dec_days = np.clip(np.round(r.normal(dd_p["mean"], dd_p["sd"], n)), dd_p["min"], dd_p["max"]).astype(np.int64)
    dd = req + dec_days
    refused = r.random(n) < _by_year(R["refuse_share"], year)
    withdrawn = r.random(n) < float(R["withdrawn_share"])
    wd_date = req + r.integers(R["withdrawn_days"]["min"], R["withdrawn_days"]["max"] + 1, n)
    exception = r.random(n) < float(R["exception_share"])
    no_plan = r.random(n) < _by_year(R["no_plan_share"], year)
    issued = _issue_dates(c, r, req, dd, exception)
    np_days = req + r.integers(R["no_plan_days"]["min"], R["no_plan_days"]["max"] + 1, n)
    np_days = np.maximum(np_days, dd + 7)

    outcome = np.where(refused, "refused", np.where(no_plan, "no_plan", "plan_issued")).astype(object)
    outcome_date = np.where(refused, dd, np.where(no_plan, np_days, issued))
    decision = np.where(refused, "refuse", "assess").astype(object)
    dec_date = dd.copy()
    wd = withdrawn & (wd_date < outcome_date)
    outcome[wd] = "withdrawn"
    outcome_date = np.where(wd, wd_date, outcome_date)
    no_dec = wd & (dd > wd_date)
    decision[no_dec] = None
    dec_date[no_dec] = NA
    plan_date = np.where(outcome == "plan_issued", issued, NA)
    # still open at the extract
    is_open = outcome_date > c.end
    outcome[is_open] = "open"
    outcome_date[is_open] = NA
    plan_date[is_open] = NA
    late_dec = dec_date > c.end
    decision[late_dec] = None
    dec_date[late_dec] = NA
    return dict(
        dec_date=dec_date,
        decision=decision,
        outcome=outcome,
        outcome_date=outcome_date,
        plan_date=plan_date,
        exception=exception,
    )


def _issue_dates(
    c: County, r: np.random.Generator, req: np.ndarray, dd: np.ndarray, exception: np.ndarray
) -> np.ndarray:
    """Day a plan would be issued: within 20 weeks with the year's probability, else late
    (exceptions later still), and never within 14 days of the decision to assess."""
    T = c.params["timeliness"]
    n = len(req)
    p_on = _interp_year(T["within_20_weeks"], _frac_year(req))
    on_time = r.random(n) < p_on
    ot = T["on_time_weeks"]
    weeks = np.where(
        on_time,
        r.uniform(ot["min"], ot["max"], n),
        20.0 + r.exponential(T["late_extra_weeks_mean"], n) + 1.0 / 7.0,
    )
    exc_weeks = 16.0 + r.exponential(T["exception_extra_weeks_mean"], n)
    weeks = np.where(exception, exc_weeks, weeks)
    weeks = np.minimum(weeks, T["late_max_weeks"])
    issued = req + np.floor(weeks * 7).astype(np.int64)
    # a plan late by the 20-week rule stays late after the 14-day floor; on-time stays <= 140
    return np.maximum(issued, dd + 14)


def _people_and_plans(c: County, r: np.random.Generator, wq: dict[str, np.ndarray]) -> None:
    """Number the people (stock, warm-up plans, requests) and list every plan.

    ``wq`` holds the requests made before the history whose plan was issued in it."""
    q = c.requests
    n_stock = int(c.params["caseload"]["initial_stock"])
    n_w = len(wq["req"])
    n = len(q["req"])
    stock = stock_people(c, r, n_stock)
    moved_in = transfer_people(c, r)
    n_t = len(moved_in["start"])
    n_before = n_stock + n_w + n_t  # people with a plan but no request in the history
    person_idx = n_before + np.arange(n)
    q["person_idx"] = person_idx
    c.request_ids = _ids("R", n, 6)
    has_plan = q["outcome"] == "plan_issued"
    c.persons = {
        k: np.concatenate([stock[k], wq[k], moved_in[k], q[k]]).astype(object if k != "bm" else np.int64)
        for k in ("bm", "sex", "need", "loc")
    }
    # plans: stock, issued from requests before the history, moved in (these three have no
    # request_id), then issued from requests in the history
    pidx = np.concatenate([np.arange(n_before), person_idx[has_plan]])
    pstart = np.concatenate([stock["start"], wq["plan_date"], moved_in["start"], q["plan_date"][has_plan]])
    preq = np.concatenate([np.full(n_before, None, dtype=object), c.request_ids[has_plan]])
    c.plan = dict(pidx=pidx, start=pstart, request_id=preq, bm=c.persons["bm"][pidx], need=c.persons["need"][pidx])


def build_tables(c: County) -> None:
    """Build the ``ehcp_requests`` and ``ehcp_plans`` tables (needs ``c.person_ids``)."""
    q = c.requests
    pid = c.person_ids
    c.tables["ehcp_requests"] = pd.DataFrame(
        {
            "request_id": c.request_ids,
            "person_id": pid[q["person_idx"]],
            "request_date": _to_dates(q["req"]),
            "age_at_request": q["age"],
            "primary_need": q["need"],
            "decision_date": _to_dates(q["dec_date"]),
            "decision": q["decision"],
            "outcome_date": _to_dates(q["outcome_date"]),
            "plan_issued_date": _to_dates(q["plan_date"]),
            "outcome": q["outcome"],
            "exception": q["exception"],
            "locality": q["loc"],
        }
    )
    pl = c.plan
    birth_month = np.array([f"{b // 12:04d}-{b % 12 + 1:02d}" for b in pl["bm"]], dtype=object)
    plans = pd.DataFrame(
        {
            "person_id": pid[pl["pidx"]],
            "request_id": pl["request_id"],
            "birth_month": birth_month,
            "sex": c.persons["sex"][pl["pidx"]],
            "primary_need": pl["need"],
            "plan_start_date": _to_dates(pl["start"]),
            "plan_end_date": _to_dates(pl["end"]),
            "end_reason": pl["reason"],
            "locality": c.persons["loc"][pl["pidx"]],
        }
    )
    c.tables["ehcp_plans"] = plans.sort_values(["person_id", "plan_start_date"], kind="stable").reset_index(drop=True)
