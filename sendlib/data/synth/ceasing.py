"""When and why each plan ceases.

A plan ceases at the first of three dates: the end of a school year (with a probability by age
that peaks when Year 11 ends, age 16, and when post-16 study ends, age 19), at any time (a family
moving away, ``ceasing.anytime_rate`` a year), and at the latest on 31 July of the year the young
person is 25 (a plan can run to age 25: SEND Code of Practice 2015, chapter 9, "Ceasing an EHC
plan"; docs/synthetic-county.md). Reasons are drawn per route from ``ceasing.reasons_*``. Plans still in
force on the end date have no end date.
"""

from __future__ import annotations

import numpy as np

from sendlib.data.synth.calendar import NA, _academic_age, _date, _day, _md, _ymd
from sendlib.data.synth.sampling import _band, _norm
from sendlib.data.synth.state import County


def cease(c: County, r: np.random.Generator) -> None:
    """Add ``end`` (NA while in force), ``reason`` and ``end_eff`` (end or the end date) to ``c.plan``."""
    Cz = c.params["ceasing"]
    pl = c.plan
    n = len(pl["start"])
    bm, start = pl["bm"], pl["start"]
    # maximum age: 31 July of the first year in which the young person is 25 on that day
    mm, md = _md(Cz["max_age_month_day"])
    max_age = int(Cz["max_age"])
    y_max = -(-(bm + 12 * max_age - (mm - 1)) // 12)  # ceil
    maxdate = _date(y_max, mm, md)
    eoy_date, eoy_aa = _end_of_year(c, r)
    t0 = np.maximum(start, c.start)
    anytime = t0 + np.ceil(r.exponential(365.25 / float(Cz["anytime_rate"]), n)).astype(np.int64)
    end = np.minimum(np.minimum(eoy_date, anytime), maxdate)
    end = np.maximum(end, start)
    reason = np.full(n, None, dtype=object)
    is_max = end == maxdate
    is_eoy = ~is_max & (end == eoy_date)
    is_any = ~is_max & ~is_eoy
    reason[is_max] = "max_age"
    bands = Cz["reasons_end_of_year"]
    band_idx = _band(eoy_aa, bands)
    for i, (_key, dist) in enumerate(bands.items()):
        sel = is_eoy & (band_idx == i)
        codes = list(dist)
        reason[sel] = np.array(codes, dtype=object)[
            r.choice(len(codes), size=int(sel.sum()), p=_norm(list(dist.values())))
        ]
    ad = Cz["reasons_anytime"]
    codes = list(ad)
    reason[is_any] = np.array(codes, dtype=object)[
        r.choice(len(codes), size=int(is_any.sum()), p=_norm(list(ad.values())))
    ]
    in_force = end > c.end
    end[in_force] = NA
    reason[in_force] = None
    pl["end"] = end
    pl["reason"] = reason
    # the effective end of the case history for each plan
    pl["end_eff"] = np.where(in_force, c.end, end)


def _end_of_year(c: County, r: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The first end-of-school-year ceasing of each plan (a day in the summer window) and the
    academic age then; plans that never cease this way get the largest day number.

    A plan must have run ``min_plan_days_before_end_of_year`` days first; one draw per plan and
    school year from the plans' first school year to the end date's."""
    Cz = c.params["ceasing"]
    pl = c.plan
    n = len(pl["start"])
    bm, start = pl["bm"], pl["start"]
    eoy_p = Cz["end_of_year"]
    eoy_tab = np.array([float(eoy_p.get(a, eoy_p.get(str(a), 0.0))) for a in range(26)])
    m1, d1 = _md(Cz["end_window"]["first"])
    m2, d2 = _md(Cz["end_window"]["last"])
    window = int(_day(f"2001-{m2:02d}-{d2:02d}") - _day(f"2001-{m1:02d}-{d1:02d}")) + 1
    first_ay = int(_ymd(np.array([start.min()]))[0][0]) - 1
    eoy_date = np.full(n, NA + 0, dtype=np.int64)
    eoy_aa = np.zeros(n, dtype=np.int64)
    found = np.zeros(n, dtype=bool)
    min_days = int(Cz["min_plan_days_before_end_of_year"])
    for ay in range(max(first_ay, c.first_year - 1), c.end_year + 1):
        day = _date(ay + 1, m1, d1) + r.integers(0, window, n)
        aa = np.clip(_academic_age(bm, np.full(n, ay)), 0, 25)
        elig = ~found & (day > start + min_days) & (day >= c.start)
        hit = elig & (r.random(n) < eoy_tab[aa])
        eoy_date[hit] = day[hit]
        eoy_aa[hit] = aa[hit]
        found |= hit
    eoy_date[~found] = np.iinfo(np.int64).max
    return eoy_date, eoy_aa
