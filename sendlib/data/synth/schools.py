"""Pupils on roll at each January census, and suspensions and permanent exclusions.

Rolls come from the population table (mid-year estimate before the census, times an on-roll share
per phase); SEN support is a share of the roll by year (England 2024: 13.6%) and EHC plans are
counted from the placements at the county's schools on census day. Exclusions happen on school
days at England's rates per 100 pupils per school year by SEN status and academic year
(``exclusions`` in ``config/synth.yaml``; DfE "Suspensions and permanent exclusions in England"):
events = rate / 100 x pupils of that status on roll at the school year's January census x the
share of the year's school days in the history (the part year at the start or at the extract
date). An EHC-plan pupil excluded is a plan holder on roll at a county school that day. Pupils
without a plan get ids ``U<yy><N|S><n>`` (docs/synthetic-county.md, "Conventions worth knowing").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import _ay_of, _census_day, _day, _md, _to_dates
from sendlib.data.synth.sampling import STREAMS, _by_year, _ids, _norm, _rng
from sendlib.data.synth.state import County


def _on_roll(c: County, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Placement spells of plan holders on ``day``, and which of them are on roll at a county
    mainstream school (incl. resourced provision) and at a county special school."""
    sp = c.spells
    at = c.in_force_on(day)
    s = at["spell_of"][at["plans"]]
    s = s[s >= 0]
    st, ph, ooc = sp["setting"][s], sp["phase"][s], sp["ooc"][s]
    local = ~ooc
    ms = np.isin(st, ["mainstream_maintained", "mainstream_academy", "resourced_provision"]) & local
    ms &= np.isin(ph, ["primary", "secondary", "post16"])
    special = np.isin(st, ["special_maintained", "special_academy"]) & local
    return s, ms, special


def census_counts(c: County, year: int, day: int) -> tuple[dict, np.ndarray]:
    """Pupils on roll at the January census ``day`` by (phase, SEN status), and the placement
    spells of plan holders on roll at the county's schools that day."""
    S = c.params["school_population"]
    sp = c.spells
    pop = c.pop.set_index(["year", "age"])["population"]
    o = S["on_roll"]
    s, ms, special = _on_roll(c, day)
    ph = sp["phase"][s]
    e_pri = int((ms & (ph == "primary")).sum())
    e_sec = int((ms & np.isin(ph, ["secondary", "post16"])).sum())
    e_spe = int(special.sum())
    py = max(year - 1, c.first_year)  # mid-year estimate before the census

    def roll(lo: int, hi: int, share: float) -> float:
        return sum(float(pop.loc[(py, a)]) for a in range(lo, hi + 1)) * share

    pri = roll(o["primary_ages"][0], o["primary_ages"][1], o["primary_share"])
    sec = roll(o["secondary_ages"][0], o["secondary_ages"][1], o["secondary_share"]) + roll(
        o["sixth_form_ages"][0], o["sixth_form_ages"][1], o["sixth_form_share"]
    )
    ss = S["sen_support_share"]
    sup_pri = round(pri * float(_by_year(ss["primary"], np.array([year]))[0]))
    sup_sec = round(sec * float(_by_year(ss["secondary"], np.array([year]))[0]))
    ex = S["special_roll_extra"]
    cells = {
        ("primary", "ehcp"): e_pri,
        ("primary", "sen_support"): sup_pri,
        ("primary", "none"): round(pri) - e_pri - sup_pri,
        ("secondary", "ehcp"): e_sec,
        ("secondary", "sen_support"): sup_sec,
        ("secondary", "none"): round(sec) - e_sec - sup_sec,
        ("special", "ehcp"): e_spe,
        ("special", "sen_support"): max(1, round(e_spe * float(ex["sen_support"]))),
        ("special", "none"): max(1, round(e_spe * float(ex["none"]))),
    }
    cells = {k: int(max(v, 1)) for k, v in cells.items()}
    return cells, s[ms | special]


def school_population(c: County) -> None:
    """Build the ``school_population`` table: 9 cells (phase x SEN status) per census."""
    rows = []
    for year, day in c.censuses:
        cells, _ = census_counts(c, year, day)
        for (phase, status), v in cells.items():
            rows.append(
                {
                    "census_date": pd.Timestamp(np.datetime64(int(day), "D")),
                    "phase": phase,
                    "sen_status": status,
                    "pupils": v,
                }
            )
    c.tables["school_population"] = pd.DataFrame(rows)


def _school_days(c: County, ay: int) -> tuple[np.ndarray, int]:
    """School days of academic year ``ay`` in the history (weekdays in term, Christmas out; from the
    start to the end date), and how many school days the whole year has."""
    term = c.params["exclusions"]["term"]
    fm, fd = _md(term["first"])
    lm, ld = _md(term["last"])
    cm1, cd1 = _md(term["christmas_first"])
    cm2, cd2 = _md(term["christmas_last"])
    days = np.arange(_day(f"{ay}-{fm:02d}-{fd:02d}"), _day(f"{ay + 1}-{lm:02d}-{ld:02d}") + 1)
    dow = (days + 3) % 7  # 0 = Monday
    xmas = (days >= _day(f"{ay}-{cm1:02d}-{cd1:02d}")) & (days <= _day(f"{ay + 1}-{cm2:02d}-{cd2:02d}"))
    days = days[(dow < 5) & ~xmas]
    return days[(days >= c.start) & (days <= c.end)], len(days)


def exclusions(c: County) -> None:
    """Build the ``exclusions`` table: Poisson counts per school year, SEN status and kind.

    The expected count is rate / 100 x pupils on roll x share of school days: the rate per 100
    pupils per school year of the status and academic year, the pupils of that status on roll at
    the school year's January census (the latest census while the year's census is still ahead),
    and the share of the year's school days inside the history, counted after the days are cut at
    the start and at the end date."""
    X = c.params["exclusions"]
    r = _rng(c.seed, STREAMS["exclusions"])
    out = []
    ay_first = int(_ay_of(np.array([c.start]))[0])
    ay_last = int(_ay_of(np.array([c.end]))[0])
    for ay in range(ay_first, ay_last + 1):
        days, n_all = _school_days(c, ay)
        if len(days) == 0:
            continue
        share_of_year = len(days) / n_all
        year = ay + 1
        day = _census_day(year)
        if day > c.end:  # the current school year: the latest census taken
            year, day = c.censuses[-1]
        cells, cand_spells = census_counts(c, year, day)
        if day < days[0] or day > days[-1]:
            # the census is outside the year's days in the history: plan holders on roll on the
            # last school day of the history instead (they are the ones who can be excluded)
            s, ms, special = _on_roll(c, int(days[-1]))
            cand_spells = s[ms | special]
        pupils: dict[str, int] = {}
        for (_phase, status), v in cells.items():
            pupils[status] = pupils.get(status, 0) + v
        for status in ["ehcp", "sen_support", "none"]:
            n_pupils = int(pupils.get(status, 0))
            for kind, rate_key in [("suspension", "suspensions_per_100"), ("permanent", "permanent_per_100")]:
                rate = float(_by_year(X[rate_key][status], np.array([ay]))[0])
                lam = rate / 100.0 * n_pupils * share_of_year
                k = int(r.poisson(lam))
                if k == 0:
                    continue
                if status == "ehcp":
                    if len(cand_spells) == 0:
                        continue
                    person, when = _plan_holders(c, r, cand_spells, days, k)
                else:
                    when = days[r.integers(0, len(days), k)]
                    # pupils suspended at least once: the year's expected suspensions of the
                    # status over the suspensions per suspended pupil, drawn with repeats
                    susp = float(_by_year(X["suspensions_per_100"][status], np.array([ay]))[0])
                    per_pupil = float(X["suspensions_per_suspended_pupil"])
                    pool = max(1, int(round(n_pupils * susp / 100.0 / per_pupil)))
                    pick = r.integers(0, pool, k)
                    person = np.array([f"U{ay % 100:02d}{status[0].upper()}{p:05d}" for p in pick], dtype=object)
                out.append(
                    pd.DataFrame(
                        {
                            "person_id": person,
                            "sen_status": status,
                            "kind": kind,
                            "start_day": when,
                            "days": _lengths(c, r, kind, len(when)),
                        }
                    )
                )
    c.tables["exclusions"] = _table(c, pd.concat(out, ignore_index=True))


def _plan_holders(
    c: County, r: np.random.Generator, cand: np.ndarray, days: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` exclusions of plan holders on roll (spells ``cand``): person ids and school days
    (of ``days``) within both the spell and the year. Every candidate spell is on roll on one of
    ``days`` (the census day or the last school day), so each of the ``k`` draws finds a day."""
    sp, pl = c.spells, c.plan
    s = cand[r.integers(0, len(cand), k)]
    lo = np.searchsorted(days, sp["start"][s], side="left")
    hi = np.searchsorted(days, sp["end_eff"][s], side="right") - 1
    okk = hi >= lo
    s, lo, hi = s[okk], lo[okk], hi[okk]
    idx = lo + np.floor(r.random(len(s)) * (hi - lo + 1)).astype(np.int64)
    return c.person_ids[pl["pidx"][sp["person"][s]]], days[idx]


def _lengths(c: County, r: np.random.Generator, kind: str, n: int) -> np.ndarray:
    """Days lost per exclusion: suspensions from a weighted list, permanent ones uniform."""
    X = c.params["exclusions"]
    if kind == "suspension":
        dv = np.array(X["days"]["values"], dtype=float)
        return dv[r.choice(len(dv), size=n, p=_norm(X["days"]["weights"]))]
    pd_ = X["permanent_days"]
    return r.integers(int(pd_["min"]), int(pd_["max"]) + 1, n).astype(float)


def _table(c: County, df: pd.DataFrame) -> pd.DataFrame:
    """Events up to the end date, one permanent exclusion per pupil, sorted, with ids."""
    df = df[df["start_day"] <= c.end]
    df = df.iloc[np.lexsort((df["kind"].to_numpy(), df["start_day"].to_numpy(), df["person_id"].to_numpy()))]
    perm = df["kind"] == "permanent"
    dup = perm & df.duplicated(["person_id", "kind"], keep="first")
    df = df[~dup]
    df = df.iloc[np.lexsort((df["person_id"].to_numpy(), df["start_day"].to_numpy()))].reset_index(drop=True)
    return pd.DataFrame(
        {
            "event_id": _ids("X", len(df), 6),
            "person_id": df["person_id"].to_numpy(),
            "sen_status": df["sen_status"].to_numpy(),
            "kind": df["kind"].to_numpy(),
            "start_date": _to_dates(df["start_day"].to_numpy()),
            "days": df["days"].to_numpy(dtype=float),
        }
    )
