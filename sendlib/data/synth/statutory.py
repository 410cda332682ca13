"""Phase transfers and SEND Tribunal appeals: the last two steps, built only from what the others made.

Phase transfers (``phase_transfers``) are the placement spells' phase changes on 1 September at a
statutory transfer point (early years -> primary, primary -> secondary, secondary -> post-16; SEND
Regulations 2014, reg. 18) for plans in force on the reg. 18 deadline, plus the next September's
cohort for plans in force on the end date (a child is on the list from 12 months before the
transfer). Each gets a date the amended plan was finalised: on or before the deadline with the
year's ``phase_transfers.on_time_share`` (an assumption), else late; a date after the end date is
left empty (not yet finalised).

Appeals (``tribunal_appeals``) are drawn from the authority's appealable decisions already in the
tables: refusals to assess and assessments without a plan (``ehcp_requests``), new plans
(``ehcp_plans``), amended plans after reviews and phase transfers, decisions not to amend or
re-assess (``annual_reviews``, ``phase_transfers``) and cessations (``ehcp_plans``). For each
calendar year the expected number of appeals is the year's appeal rate (``tribunal_appeals.rate_pct``,
Oxfordshire's published DfE / MoJ rate) times the year's appealable decisions as the DfE counts them
(refusals, assessments without a plan, plans in force in January, plans ceased because needs are
met), shared between the kinds of decision by the MoJ's national mix; each decision of a kind is
appealed with the probability that gives. Registration follows within the appeal window, and the
outcome (MoJ national split of disposals) follows registration; outcomes after the end date are
pending. See docs/synthetic-county.md.

Each table has its own random stream (``STREAMS``), so adding them changed no other table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import NA, _academic_age, _date, _day, _phase, _to_dates, _ymd
from sendlib.data.synth.sampling import STREAMS, _by_year, _ids, _norm, _rng
from sendlib.data.synth.state import County

#: (from phase, to phase) of the statutory transfers the county's placements make -> transfer point
_POINTS = {
    ("early_years", "primary"): "into_school",
    ("primary", "secondary"): "into_secondary",
    ("secondary", "post16"): "into_post16",
}


def _deadline(point: np.ndarray, year: np.ndarray, deadlines: dict) -> np.ndarray:
    """Day number of the reg. 18 deadline of each transfer (``deadlines``: point -> "MM-DD")."""
    md = np.array([str(deadlines[p]) for p in point], dtype=object)
    month = np.array([int(s.split("-")[0]) for s in md], dtype=np.int64)
    day = np.array([int(s.split("-")[1]) for s in md], dtype=np.int64)
    return _date(np.asarray(year, np.int64), month, day)


def phase_transfers(c: County) -> None:
    """Build the ``phase_transfers`` table (needs ``c.spells``, ``c.plan``, ``c.person_ids``)."""
    P = c.params["phase_transfers"]
    r = _rng(c.seed, STREAMS["phase_transfers"])
    pl, sp = c.plan, c.spells
    # past and current transfers: consecutive spells of one plan whose phase changes on 1 September
    prev = np.arange(len(sp["start"]) - 1)
    nxt = prev + 1
    same = sp["person"][prev] == sp["person"][nxt]
    y, m, d = _ymd(sp["start"][nxt])
    sept = (m == 9) & (d == 1)
    pairs = [(a, b) for a, b in zip(sp["phase"][prev], sp["phase"][nxt])]
    point = np.array([_POINTS.get(p, "") for p in pairs], dtype=object)
    hit = same & sept & (point != "")
    plan_a = sp["person"][nxt][hit]
    point_a = point[hit]
    from_a = sp["phase"][prev][hit]
    to_a = sp["phase"][nxt][hit]
    date_a = sp["start"][nxt][hit]
    # the next September's cohort: plans in force on the end date whose phase changes then
    ey, em, _ = _ymd(np.array([c.end]))
    ay_next = int(ey[0]) if int(em[0]) < 9 else int(ey[0]) + 1  # the first 1 September after the end
    t_next = int(_date(ay_next, 9, 1))
    live = np.flatnonzero(pl["end"] == NA)
    aa_now = _academic_age(pl["bm"][live], np.full(len(live), ay_next - 1))
    ph_now = np.asarray(_phase(aa_now), dtype=object)
    ph_next = np.asarray(_phase(aa_now + 1), dtype=object)
    point_n = np.array([_POINTS.get((a, b), "") for a, b in zip(ph_now, ph_next)], dtype=object)
    keep_n = point_n != ""
    plan_b = live[keep_n]
    point_b = point_n[keep_n]
    from_b, to_b = ph_now[keep_n], ph_next[keep_n]
    date_b = np.full(len(plan_b), t_next, dtype=np.int64)

    plan_i = np.concatenate([plan_a, plan_b]).astype(np.int64)
    pt = np.concatenate([point_a, point_b]).astype(object)
    fr = np.concatenate([from_a, from_b]).astype(object)
    to = np.concatenate([to_a, to_b]).astype(object)
    tdate = np.concatenate([date_a, date_b]).astype(np.int64)
    year = _ymd(tdate)[0]
    due = _deadline(pt, year, P["deadline_month_day"])
    # reg. 18 applies to plans in force on the deadline (a plan issued later names the new setting)
    ok = pl["start"][plan_i] < due
    plan_i, pt, fr, to, tdate, year, due = (a[ok] for a in (plan_i, pt, fr, to, tdate, year, due))
    n = len(plan_i)
    p_on = _by_year(P["on_time_share"], year) * np.array([float(P["point_multiplier"].get(p, 1.0)) for p in pt])
    on = r.random(n) < np.minimum(p_on, 1.0)
    early = r.integers(0, int(P["early_days_max"]) + 1, n)
    late = 1 + np.minimum(
        np.floor(r.exponential(float(P["late_days_mean"]), n)).astype(np.int64), int(P["late_days_max"])
    )
    final = np.where(on, due - early, due + late)
    final = np.maximum(final, pl["start"][plan_i])
    # not finalised by the end date, or the plan ceased before an amended plan was issued
    ended = (pl["end"][plan_i] != NA) & (final > pl["end"][plan_i])
    final = np.where((final > c.end) | ended, NA, final)
    pid = c.person_ids[pl["pidx"][plan_i]]
    df = pd.DataFrame(
        {
            "person_id": pid,
            "transfer_point": pt,
            "from_phase": fr,
            "to_phase": to,
            "transfer_date": _to_dates(tdate),
            "due_date": _to_dates(due),
            "final_date": _to_dates(final),
        }
    )
    order = np.lexsort((pid, tdate))
    c.tables["phase_transfers"] = df.iloc[order].reset_index(drop=True)


def _days(s: pd.Series) -> np.ndarray:
    """Day numbers of a date column (:data:`NA` for empty)."""
    v = s.to_numpy(dtype="datetime64[ns]")
    out = v.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(v)] = NA
    return out


def _appealable(c: County) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[int, float]]:
    """The decisions a family may appeal, by pool (person ids, decision days), and the DfE's count
    of appealable decisions per calendar year (refusals, assessments without a plan, plans in force
    at the January census, plans ceased because needs are met)."""
    req = c.tables["ehcp_requests"]
    plans = c.tables["ehcp_plans"]
    rev = c.tables["annual_reviews"]
    pt = c.tables["phase_transfers"]
    A = c.params["tribunal_appeals"]
    refused = req["decision"].eq("refuse").fillna(False).to_numpy(bool)
    no_plan = req["outcome"].eq("no_plan").fillna(False).to_numpy(bool)
    new_plan = plans["request_id"].notna().to_numpy(bool)
    p_end = _days(plans["plan_end_date"])
    cease_ok = plans["end_reason"].isin(list(A["appealable_cease_reasons"])).fillna(False).to_numpy(bool)
    rev_dec = _days(rev["decision_date"])
    pt_fin = _days(pt["final_date"])
    pools = {
        "refusal": (req["person_id"].to_numpy(object)[refused], _days(req["decision_date"])[refused]),
        "no_plan": (req["person_id"].to_numpy(object)[no_plan], _days(req["outcome_date"])[no_plan]),
        "new_plan": (plans["person_id"].to_numpy(object)[new_plan], _days(plans["plan_start_date"])[new_plan]),
        "amend": (
            np.concatenate(
                [rev["person_id"].to_numpy(object)[rev_dec != NA], pt["person_id"].to_numpy(object)[pt_fin != NA]]
            ),
            np.concatenate([rev_dec[rev_dec != NA], pt_fin[pt_fin != NA]]),
        ),
        "cease": (plans["person_id"].to_numpy(object)[cease_ok & (p_end != NA)], p_end[cease_ok & (p_end != NA)]),
    }
    # the DfE denominator per calendar year: the plans are counted at the year's end (the DfE uses
    # the January census that closes the year, the SEN2 return the year's activity is reported in)
    start = _days(plans["plan_start_date"])
    needs_met = plans["end_reason"].eq("needs_met").fillna(False).to_numpy(bool)
    pid = plans["person_id"].to_numpy(object)
    y0, y1 = int(_ymd(np.array([c.start]))[0][0]), int(_ymd(np.array([c.end]))[0][0])
    denom: dict[int, float] = {}
    for year in range(y0, y1 + 1):
        lo, hi = int(_day(f"{year}-01-01")), int(_day(f"{year}-12-31"))
        day = min(hi, c.end)
        in_force = (start <= day) & ((p_end == NA) | (p_end >= day))
        count = len(set(pid[in_force]))
        for key in ("refusal", "no_plan"):
            days = pools[key][1]
            count += int(((days >= lo) & (days <= hi)).sum())
        count += int((needs_met & (p_end >= lo) & (p_end <= hi)).sum())
        denom[year] = float(count)
    return pools, denom


def tribunal_appeals(c: County) -> None:
    """Build the ``tribunal_appeals`` table (needs the requests, plans, reviews and phase transfers)."""
    A = c.params["tribunal_appeals"]
    r = _rng(c.seed, STREAMS["tribunal_appeals"])
    pools, denom = _appealable(c)
    mix = {k: float(v) for k, v in A["decision_mix"].items()}
    pool_of = {k: str(v) for k, v in A["decision_pool"].items()}
    W, M = A["registration_days"], A["mediation_registration_days"]
    people, dec_days, reg_days, kinds = [], [], [], []
    for pool, (pid, days) in pools.items():
        in_history = days >= c.start  # decisions before the history (reviews, transfers) are not drawn
        pid, days = pid[in_history], days[in_history]
        if len(days) == 0:
            continue
        kinds_here = [k for k in mix if pool_of[k] == pool]
        n = len(days)
        # registration if appealed: within the two-month appeal window, or later after mediation
        # (one month after the mediation certificate)
        med = r.random(n) < float(A["mediation_share"])
        lag = np.where(
            med, r.integers(int(M["min"]), int(M["max"]) + 1, n), r.integers(int(W["min"]), int(W["max"]) + 1, n)
        )
        reg = days + lag
        # appeals registered in a year = the year's rate x its appealable decisions, shared by kind:
        # each decision of a kind registering that year is appealed with the probability that gives
        year = _ymd(reg)[0]
        years, counts = np.unique(year, return_counts=True)
        n_in_year = dict(zip(years.tolist(), counts.tolist()))
        rate = _by_year(A["rate_pct"], year) / 100.0
        den = np.array([denom.get(int(y), 0.0) for y in year])
        pool_n = np.array([n_in_year[int(y)] for y in year], dtype=float)
        probs = np.column_stack([rate * den * mix[k] / pool_n for k in kinds_here])
        cum = np.cumsum(probs, axis=1)
        u = r.random(n)
        chosen = (u[:, None] < cum).argmax(axis=1)
        appealed = (u < np.minimum(cum[:, -1], 1.0)) & (reg <= c.end)
        people.append(pid[appealed])
        dec_days.append(days[appealed])
        reg_days.append(reg[appealed])
        kinds.append(np.array(kinds_here, dtype=object)[chosen[appealed]])
    pid = np.concatenate(people)
    dec = np.concatenate(dec_days).astype(np.int64)
    reg = np.concatenate(reg_days).astype(np.int64)
    kind = np.concatenate(kinds).astype(object)
    n = len(pid)
    # outcome: disposal category, then weeks from registration to disposal
    OC = A["outcomes"]
    cats = list(OC["shares"])
    cat = np.array(cats, dtype=object)[r.choice(len(cats), size=n, p=_norm([OC["shares"][k] for k in cats]))]
    in_favour = r.random(n) < float(OC["decided_in_favour_share"])
    outcome = np.where(cat == "decided", np.where(in_favour, "upheld", "dismissed"), cat).astype(object)
    weeks_lo = np.array([float(OC["weeks"][k]["min"]) for k in cat])
    weeks_hi = np.array([float(OC["weeks"][k]["max"]) for k in cat])
    out_day = reg + np.floor(r.uniform(weeks_lo, weeks_hi) * 7).astype(np.int64)
    pending = out_day > c.end
    outcome[pending] = None
    out_day = np.where(pending, NA, out_day)
    order = np.lexsort((pid, reg))
    df = pd.DataFrame(
        {
            "decision_appealed": kind[order],
            "person_id": pid[order],
            "decision_date": _to_dates(dec[order]),
            "registered_date": _to_dates(reg[order]),
            "outcome": outcome[order],
            "outcome_date": _to_dates(out_day[order]),
        }
    )
    df.insert(0, "appeal_id", _ids("SE", len(df), 6))
    cols = [
        "appeal_id",
        "person_id",
        "decision_appealed",
        "decision_date",
        "registered_date",
        "outcome",
        "outcome_date",
    ]
    c.tables["tribunal_appeals"] = df[cols]
