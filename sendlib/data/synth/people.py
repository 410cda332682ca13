"""Residents and the people who hold plans: the population table and the draws that describe a person.

The population table gives residents by single year of age 0-25 for every year from the first
year to ``population.last_year``: mid-year estimates up to the last 30 June on or before the end
date (with noise, as estimates are revised), projections after (shaped on ONS mid-year estimates
for a ~700,000 county; see ``config/synth.yaml``). A person's primary need is drawn by age band
(SEN2 2024 England shares) and their locality from ``config/default.yaml``'s codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import _day, _month_start, _ym
from sendlib.data.synth.sampling import STREAMS, _band, _choice_rows, _norm, _rng
from sendlib.data.synth.state import County


def population(c: County) -> None:
    """Build the ``population`` table (also kept as ``c.pop`` for the school rolls)."""
    P = c.params["population"]
    r = _rng(c.seed, STREAMS["population"])
    base = np.array(P["base_2018"], dtype=float)
    ages = np.arange(26)
    bands = P["growth_by_band"]
    growth = np.array([float(list(bands.values())[i]) for i in _band(ages, bands)])
    years = np.arange(c.first_year, int(P["last_year"]) + 1)
    # last mid-year (30 June) on or before the end date is an estimate; later years projections
    last_est = c.end_year if c.end >= _day(f"{c.end_year}-06-30") else c.end_year - 1
    rows = []
    noise = r.normal(0.0, float(P["noise_sd"]), size=(len(years), 26))
    for i, y in enumerate(years):
        pop = base * (1.0 + growth) ** (y - c.first_year)
        if y <= last_est:
            pop = pop * (1.0 + noise[i])
        pop = np.clip(np.round(pop), P["min"], P["max"]).astype(int)
        kind = "estimate" if y <= last_est else "projection"
        rows.append(pd.DataFrame({"year": y, "age": ages, "population": pop, "kind": kind}))
    c.pop = pd.concat(rows, ignore_index=True)
    c.tables["population"] = c.pop


def draw_need(c: County, r: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """Primary need of people of the given ages (``needs.by_age_band``)."""
    bands = c.params["needs"]["by_age_band"]
    mats = np.array([_norm(v) for v in bands.values()])
    idx = _band(age, bands)
    return np.array(c.needs, dtype=object)[_choice_rows(r, mats[idx])]


def draw_locality(c: County, r: np.random.Generator, n: int) -> np.ndarray:
    """Locality of ``n`` people (``localities.weights``)."""
    w = c.params["localities"]["weights"]
    return np.array(c.localities, dtype=object)[r.choice(len(w), size=n, p=_norm([w[k] for k in c.localities]))]


def draw_sex(r: np.random.Generator, n: int, male_share: float) -> np.ndarray:
    """Sex ("M" / "F") of ``n`` people."""
    return np.where(r.random(n) < male_share, "M", "F")


def stock_people(c: County, r: np.random.Generator, n_stock: int) -> dict[str, np.ndarray]:
    """The holders of the plans already in force on the first day of the history.

    Their plans started up to ``caseload.stock_max_years_before`` years earlier, never before six
    months of age nor before ``caseload.earliest_plan_date`` (1 September 2014, when EHC plans
    replaced statements); returns birth month index, sex, need, locality and plan start."""
    C = c.params["caseload"]
    ages0 = r.choice(26, size=n_stock, p=_norm(C["stock_age_weights"]))
    start_ym = _ym(np.array([c.start]))[0]
    bm0 = start_ym - 12 * ages0 - r.integers(0, 12, n_stock)
    birth0 = _month_start(bm0)
    span = np.minimum(float(C["stock_max_years_before"]), np.maximum(ages0 - 1.5, 0.3))
    pstart0 = c.start - 1 - np.floor(r.random(n_stock) * span * 365.25).astype(np.int64)
    # EHC plans exist from the reform (statements were converted to plans from then on)
    pstart0 = np.maximum(np.maximum(pstart0, birth0 + 180), _day(str(C["earliest_plan_date"])))
    need0 = draw_need(c, r, ages0)
    sex0 = draw_sex(r, n_stock, C["sex_male_share"])
    loc0 = draw_locality(c, r, n_stock)
    return dict(bm=bm0, sex=sex0, need=need0, loc=loc0, start=pstart0)


def transfer_people(c: County, r: np.random.Generator) -> dict[str, np.ndarray]:
    """People who move into the county holding another authority's EHC plan (``caseload.transfers_in``
    a calendar year, on a uniform day of the year): their plan starts here on the day they arrive
    and has no request in this county. Ages follow the caseload's (``stock_age_weights``); returns
    birth month index, sex, need, locality and plan start, sorted by plan start."""
    C = c.params["caseload"]
    per_year = C["transfers_in"]
    starts = []
    for y in range(c.first_year, c.end_year + 1):
        lo, hi = max(_day(f"{y}-01-01"), c.start), min(_day(f"{y}-12-31"), c.end)
        if hi < lo:
            continue
        share = (hi - lo + 1) / 365.0
        n = int(r.poisson(float(per_year.get(y, per_year.get(str(y), 0))) * share))
        starts.append(lo + np.floor(r.random(n) * (hi - lo + 1)).astype(np.int64))
    start = np.sort(np.concatenate(starts), kind="stable") if starts else np.zeros(0, dtype=np.int64)
    n = len(start)
    ages = r.choice(26, size=n, p=_norm(C["stock_age_weights"]))
    bm = _ym(start) - 12 * ages - r.integers(0, 12, n)
    bm = np.minimum(bm, _ym(start) - 6)  # at least six months old on arrival
    return dict(
        bm=bm,
        sex=draw_sex(r, n, C["sex_male_share"]),
        need=draw_need(c, r, ages),
        loc=draw_locality(c, r, n),
        start=start,
    )
