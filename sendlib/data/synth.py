"""The synthetic county: a coherent, person-level history of a county's SEND services.

:func:`generate` builds every canonical table in :data:`sendlib.data.schema.TABLES` for a county the
size of the one in the seeds (~700,000 residents) from April 2018 to an end date (the extract
date); :func:`write` writes them as ``<table>.csv`` plus ``metadata.yaml``. Every rate, count,
cost and date that drives it is in ``config/synth.yaml`` (with a source note per block); the code
holds only the mechanics. No row describes a real person.

Determinism: one ``numpy.random.default_rng([seed, k])`` stream per component ``k``, stable sorts
only, no iteration over sets, no dependence on today's date. The same seed, end date and
parameters give byte-identical files.

Dates are handled as integer day numbers (days since 1970-01-01) throughout, and converted to
``datetime64`` only when the frames are built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from sendlib.core.config import PROJECT_ROOT
from sendlib.core.quarters import Quarter, financial_year_label, third_thursday_of_january
from sendlib.data.schema import TABLES

DEFAULT_PARAMS = PROJECT_ROOT / "config" / "synth.yaml"
GENERATOR = "sendlib synth (sendlib/data/synth.py)"
NA = np.int64(-(10**9))  # missing date (day number)

__all__ = ["DEFAULT_PARAMS", "load_params", "default_seed", "default_end_date", "generate", "write"]


# ----- parameters -----------------------------------------------------------------------------


def load_params(path: "str | Path | None" = None) -> dict:
    """Read the generator's parameters (default: ``config/synth.yaml``)."""
    p = Path(path) if path is not None else DEFAULT_PARAMS
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is present
    with open(p, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader


def default_seed(params: Mapping | None = None) -> int:
    return int((params or load_params())["meta"]["default_seed"])


def default_end_date(params: Mapping | None = None) -> str:
    return str((params or load_params())["meta"]["default_end_date"])


# ----- date helpers (int day numbers) ---------------------------------------------------------


def _day(text: str) -> int:
    return int(np.datetime64(str(text), "D").astype(np.int64))


def _ym(days: np.ndarray) -> np.ndarray:
    """Month index year*12 + (month-1) of day numbers."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _month_start(ym: np.ndarray) -> np.ndarray:
    return (np.asarray(ym, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ym = _ym(days)
    return ym // 12, ym % 12 + 1, np.asarray(days, dtype=np.int64) - _month_start(ym) + 1


def _date(y: Any, m: Any, d: Any) -> np.ndarray:
    y, m, d = np.broadcast_arrays(np.asarray(y, np.int64), np.asarray(m, np.int64), np.asarray(d, np.int64))
    return _month_start(y * 12 + m - 1) + d - 1


def _add_months(days: np.ndarray, k: int) -> np.ndarray:
    y, m, d = _ymd(days)
    ym = y * 12 + m - 1 + k
    first = _month_start(ym)
    dim = _month_start(ym + 1) - first
    return first + np.minimum(d, dim) - 1


def _md(text: str) -> tuple[int, int]:
    m, d = str(text).split("-")
    return int(m), int(d)


def _age(bm: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Age in whole years at ``days`` for people born on the 1st of month index ``bm``."""
    return (_ym(days) - bm) // 12


def _academic_age(bm: np.ndarray, ay: np.ndarray) -> np.ndarray:
    """Age on 31 August before the academic year starting in September of ``ay``."""
    return (np.asarray(ay, np.int64) * 12 + 7 - bm) // 12


def _phase(aa: np.ndarray) -> np.ndarray:
    return np.select([aa < 4, aa <= 10, aa <= 15, aa <= 18], ["early_years", "primary", "secondary", "post16"], "post19")


def _to_dates(days: np.ndarray) -> pd.Series:
    arr = np.asarray(days, dtype=np.int64)
    out = arr.astype("datetime64[D]").astype("datetime64[ns]")
    out[arr == NA] = np.datetime64("NaT")
    return pd.Series(out)


def _by_year(table: Mapping, years: np.ndarray) -> np.ndarray:
    """Look up a {year: value} table, holding the first/last value outside its range."""
    keys = sorted(int(k) for k in table)
    vals = np.array([float(table[k]) for k in keys])
    full = np.interp(np.arange(keys[0], keys[-1] + 1), keys, vals)
    idx = np.clip(np.asarray(years, np.int64) - keys[0], 0, len(full) - 1)
    return full[idx]


def _interp_year(table: Mapping, frac_years: np.ndarray) -> np.ndarray:
    """Interpolate a {year: value} table at fractional years (values sit at mid-year)."""
    keys = sorted(int(k) for k in table)
    vals = np.array([float(table[k]) for k in keys])
    return np.interp(np.asarray(frac_years, float), np.array(keys) + 0.5, vals)


def _frac_year(days: np.ndarray) -> np.ndarray:
    y, m, d = _ymd(days)
    return y + (m - 1 + (d - 1) / 31.0) / 12.0


def _norm(w: Any) -> np.ndarray:
    a = np.asarray(w, dtype=float)
    return a / a.sum()


def _choice_rows(r: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = r.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _rng(seed: int, k: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(k)])


def _band(age: np.ndarray, bands: Mapping) -> np.ndarray:
    """Index of the "lo-hi" band (keys in the given order) containing each age."""
    out = np.full(len(age), len(bands) - 1)
    for i, key in reversed(list(enumerate(bands))):
        lo, hi = (int(x) for x in str(key).split("-"))
        out[(age >= lo) & (age <= hi)] = i
    return out


# ----- the model ------------------------------------------------------------------------------


class _County:
    def __init__(self, params: Mapping, seed: int, end_date: str):
        self.P = params
        self.seed = int(seed)
        self.start = _day(params["meta"]["start_date"])
        self.end = _day(end_date)
        if self.end <= self.start + 400:
            raise ValueError(f"end date {end_date} must be more than a year after {params['meta']['start_date']}")
        self.end_ts = pd.Timestamp(end_date)
        self.first_year = int(params["meta"]["first_year"])
        self.end_year = int(_ymd(np.array([self.end]))[0][0])
        self.localities = list(params["localities"]["weights"])
        self.needs = list(params["needs"]["order"])
        self.tables: dict[str, pd.DataFrame] = {}
        # census days (third Thursday of January) on or before the end date
        self.censuses = [
            (y, _day(third_thursday_of_january(y).strftime("%Y-%m-%d")))
            for y in range(self.first_year + 1, self.end_year + 1)
        ]
        self.censuses = [(y, c) for y, c in self.censuses if c <= self.end]

    # ----- shared draws ---------------------------------------------------------------------
    def _need_for_age(self, r: np.random.Generator, age: np.ndarray) -> np.ndarray:
        bands = self.P["needs"]["by_age_band"]
        mats = np.array([_norm(v) for v in bands.values()])
        idx = _band(age, bands)
        return np.array(self.needs, dtype=object)[_choice_rows(r, mats[idx])]

    def _locality(self, r: np.random.Generator, n: int) -> np.ndarray:
        w = self.P["localities"]["weights"]
        return np.array(self.localities, dtype=object)[r.choice(len(w), size=n, p=_norm([w[k] for k in self.localities]))]

    # ----- population -----------------------------------------------------------------------
    def population(self) -> None:
        P = self.P["population"]
        r = _rng(self.seed, 10)
        base = np.array(P["base_2018"], dtype=float)
        ages = np.arange(26)
        bands = P["growth_by_band"]
        growth = np.array([float(list(bands.values())[i]) for i in _band(ages, bands)])
        years = np.arange(self.first_year, int(P["last_year"]) + 1)
        # last mid-year (30 June) on or before the end date is an estimate; later years projections
        last_est = self.end_year if self.end >= _day(f"{self.end_year}-06-30") else self.end_year - 1
        rows = []
        noise = r.normal(0.0, float(P["noise_sd"]), size=(len(years), 26))
        for i, y in enumerate(years):
            pop = base * (1.0 + growth) ** (y - self.first_year)
            if y <= last_est:
                pop = pop * (1.0 + noise[i])
            pop = np.clip(np.round(pop), P["min"], P["max"]).astype(int)
            kind = "estimate" if y <= last_est else "projection"
            rows.append(pd.DataFrame({"year": y, "age": ages, "population": pop, "kind": kind}))
        self.pop = pd.concat(rows, ignore_index=True)
        self.tables["population"] = self.pop

    # ----- requests and plans ---------------------------------------------------------------
    def requests_and_plans(self) -> None:
        P, R, T = self.P, self.P["requests"], self.P["timeliness"]
        r = _rng(self.seed, 20)
        # monthly request counts: annual rate interpolated at mid-year, times seasonality
        # requests start warmup_months before the history so that plans are issued smoothly from
        # its first day; requests before the start are not output (their plans have no request_id)
        warm_start = _ym(np.array([self.start]))[0] - int(R["warmup_months"])
        months = np.arange(warm_start, _ym(np.array([self.end]))[0] + 1)
        season = _norm(R["seasonality"]) * 12
        rate = _interp_year(R["per_year"], months / 12.0 + 1 / 24.0) / 12.0 * season[months % 12]
        counts = r.poisson(rate)
        mstart = _month_start(months)
        mlen = _month_start(months + 1) - mstart
        mi = np.repeat(np.arange(len(months)), counts)
        req = mstart[mi] + np.floor(r.random(len(mi)) * mlen[mi]).astype(np.int64)
        req = np.sort(req, kind="stable")
        req = req[req <= self.end]
        n = len(req)
        age = r.choice(26, size=n, p=_norm(R["age_weights"]))
        bm = _ym(req) - 12 * age - r.integers(0, 12, n)
        need = self._need_for_age(r, age)
        sex = np.where(r.random(n) < P["caseload"]["sex_male_share"], "M", "F")
        loc = self._locality(r, n)
        year = _ymd(req)[0]
        dd_p = R["decision_days"]
        dec_days = np.clip(np.round(r.normal(dd_p["mean"], dd_p["sd"], n)), dd_p["min"], dd_p["max"]).astype(np.int64)
        dd = req + dec_days
        refused = r.random(n) < _by_year(R["refuse_share"], year)
        withdrawn = r.random(n) < float(R["withdrawn_share"])
        wd_date = req + r.integers(R["withdrawn_days"]["min"], R["withdrawn_days"]["max"] + 1, n)
        exception = r.random(n) < float(R["exception_share"])
        no_plan = r.random(n) < float(R["no_plan_share"])
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
        issued = np.maximum(issued, dd + 14)
        # a plan late by the 20-week rule stays late after the 14-day floor; on-time stays <= 140
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
        is_open = outcome_date > self.end
        outcome[is_open] = "open"
        outcome_date[is_open] = NA
        plan_date[is_open] = NA
        late_dec = dec_date > self.end
        decision[late_dec] = None
        dec_date[late_dec] = NA

        n_stock = int(P["caseload"]["initial_stock"])
        allreq = dict(req=req, age=age, bm=bm, need=need, sex=sex, loc=loc, dec_date=dec_date,
                      decision=decision, outcome=outcome, outcome_date=outcome_date,
                      plan_date=plan_date, exception=exception)
        kept = req >= self.start
        warm = ~kept & (outcome == "plan_issued") & (plan_date >= self.start)
        wq = {k: v[warm] for k, v in allreq.items()}
        n_w = len(wq["req"])
        self.req = {k: v[kept] for k, v in allreq.items()}
        n = int(kept.sum())
        # people: stock first, then plans from requests before the history, then requests
        person_idx = n_stock + n_w + np.arange(n)
        self.req["person_idx"] = person_idx
        self.request_ids = _ids("R", n, 6)
        bm, sex, need, loc = self.req["bm"], self.req["sex"], self.req["need"], self.req["loc"]
        outcome, plan_date = self.req["outcome"], self.req["plan_date"]

        # ----- plans already in force on the start date (request_id empty)
        C = P["caseload"]
        ages0 = r.choice(26, size=n_stock, p=_norm(C["stock_age_weights"]))
        start_ym = _ym(np.array([self.start]))[0]
        bm0 = start_ym - 12 * ages0 - r.integers(0, 12, n_stock)
        birth0 = _month_start(bm0)
        span = np.minimum(float(C["stock_max_years_before"]), np.maximum(ages0 - 1.5, 0.3))
        pstart0 = self.start - 1 - np.floor(r.random(n_stock) * span * 365.25).astype(np.int64)
        pstart0 = np.maximum(pstart0, birth0 + 180)
        need0 = self._need_for_age(r, ages0)
        sex0 = np.where(r.random(n_stock) < C["sex_male_share"], "M", "F")
        loc0 = self._locality(r, n_stock)

        has_plan = outcome == "plan_issued"
        self.persons = dict(
            bm=np.concatenate([bm0, wq["bm"], bm]),
            sex=np.concatenate([sex0, wq["sex"], sex]).astype(object),
            need=np.concatenate([need0, wq["need"], need]).astype(object),
            loc=np.concatenate([loc0, wq["loc"], loc]).astype(object),
        )
        n_people = n_stock + n_w + n
        # plans: stock, issued from requests before the history (no request_id), issued
        pidx = np.concatenate([np.arange(n_stock + n_w), person_idx[has_plan]])
        pstart = np.concatenate([pstart0, wq["plan_date"], plan_date[has_plan]])
        preq = np.concatenate([np.full(n_stock + n_w, None, dtype=object), self.request_ids[has_plan]])
        self.n_people = n_people
        self.plan = dict(pidx=pidx, start=pstart, request_id=preq, bm=self.persons["bm"][pidx],
                         need=self.persons["need"][pidx])
        self._cease(r)

    def _cease(self, r: np.random.Generator) -> None:
        Cz = self.P["ceasing"]
        pl = self.plan
        n = len(pl["start"])
        bm, start = pl["bm"], pl["start"]
        # maximum age: 31 July of the first year in which the young person is 25 on that day
        mm, md = _md(Cz["max_age_month_day"])
        max_age = int(Cz["max_age"])
        y_max = -(-(bm + 12 * max_age - (mm - 1)) // 12)  # ceil
        maxdate = _date(y_max, mm, md)
        # end-of-academic-year ceasing
        eoy_p = Cz["end_of_year"]
        eoy_tab = np.array([float(eoy_p.get(a, eoy_p.get(str(a), 0.0))) for a in range(0, 26)])
        m1, d1 = _md(Cz["end_window"]["first"])
        m2, d2 = _md(Cz["end_window"]["last"])
        window = int(_day(f"2001-{m2:02d}-{d2:02d}") - _day(f"2001-{m1:02d}-{d1:02d}")) + 1
        first_ay = int(_ymd(np.array([start.min()]))[0][0]) - 1
        eoy_date = np.full(n, NA + 0, dtype=np.int64)
        eoy_aa = np.zeros(n, dtype=np.int64)
        found = np.zeros(n, dtype=bool)
        min_days = int(Cz["min_plan_days_before_end_of_year"])
        for ay in range(max(first_ay, self.first_year - 1), self.end_year + 1):
            c = _date(ay + 1, m1, d1) + r.integers(0, window, n)
            aa = np.clip(_academic_age(bm, np.full(n, ay)), 0, 25)
            elig = ~found & (c > start + min_days) & (c >= self.start)
            hit = elig & (r.random(n) < eoy_tab[aa])
            eoy_date[hit] = c[hit]
            eoy_aa[hit] = aa[hit]
            found |= hit
        eoy_date[~found] = np.iinfo(np.int64).max
        t0 = np.maximum(start, self.start)
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
        for i, (key, dist) in enumerate(bands.items()):
            sel = is_eoy & (band_idx == i)
            codes = list(dist)
            reason[sel] = np.array(codes, dtype=object)[r.choice(len(codes), size=int(sel.sum()), p=_norm(list(dist.values())))]
        ad = Cz["reasons_anytime"]
        codes = list(ad)
        reason[is_any] = np.array(codes, dtype=object)[r.choice(len(codes), size=int(is_any.sum()), p=_norm(list(ad.values())))]
        in_force = end > self.end
        end[in_force] = NA
        reason[in_force] = None
        pl["end"] = end
        pl["reason"] = reason
        # the effective end of the case history for each plan
        pl["end_eff"] = np.where(in_force, self.end, end)

    def build_request_and_plan_tables(self) -> None:
        q = self.req
        n = len(q["req"])
        pid = self.person_ids
        self.tables["ehcp_requests"] = pd.DataFrame({
            "request_id": self.request_ids,
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
        })
        pl = self.plan
        bm = pl["bm"]
        birth_month = np.array([f"{b // 12:04d}-{b % 12 + 1:02d}" for b in bm], dtype=object)
        plans = pd.DataFrame({
            "person_id": pid[pl["pidx"]],
            "request_id": pl["request_id"],
            "birth_month": birth_month,
            "sex": self.persons["sex"][pl["pidx"]],
            "primary_need": pl["need"],
            "plan_start_date": _to_dates(pl["start"]),
            "plan_end_date": _to_dates(pl["end"]),
            "end_reason": pl["reason"],
            "locality": self.persons["loc"][pl["pidx"]],
        })
        self.tables["ehcp_plans"] = plans.sort_values(["person_id", "plan_start_date"], kind="stable").reset_index(drop=True)
        assert n == len(self.tables["ehcp_requests"])

    # ----- placements -----------------------------------------------------------------------
    def placements(self) -> None:
        P = self.P["placements"]
        r = _rng(self.seed, 30)
        pl = self.plan
        n = len(pl["start"])
        start, end_eff, bm = pl["start"], pl["end_eff"], pl["bm"]
        need = pl["need"]
        level = r.random(n)
        mult = np.array([float(P["need_intensity"][k]) for k in need])
        # push the latent level up or down by need, keeping it in (0, 1)
        level = 1.0 - (1.0 - level) ** mult
        sub_u = r.random(n)
        # person x academic-year rows
        ay_first = np.maximum(_ay_of(start), _ay_of(np.array([self.start]))[0])
        ay_last = _ay_of(end_eff)
        nrows = ay_last - ay_first + 1
        ri = np.repeat(np.arange(n), nrows)
        offs = np.arange(len(ri)) - np.repeat(np.cumsum(nrows) - nrows, nrows)
        ay = ay_first[ri] + offs
        row_s = np.maximum(_date(ay, 9, 1), start[ri])
        row_e = np.minimum(_date(ay + 1, 8, 31), end_eff[ri])
        aa = _academic_age(bm[ri], ay)
        phase = _phase(aa)
        # escalation within a phase
        # escalation within a phase: a move on a date within the academic year; a move that would
        # fall after the end of the history (or of the plan) does not happen
        move_date = _date(ay, 9, 1) + np.floor(r.uniform(0.1, 0.9, len(ri)) * 365).astype(np.int64)
        esc = r.random(len(ri)) < float(P["escalation_rate"])
        esc &= (offs > 0) & (move_date <= row_e)
        step = np.where(esc, float(P["escalation_step"]), 0.0)
        cum = np.cumsum(step)
        base_cum = np.repeat(cum[np.cumsum(nrows) - nrows] - step[np.cumsum(nrows) - nrows], nrows)
        row_level = np.clip(level[ri] + (cum - base_cum), 0, 0.999)
        # setting per row
        setting = np.full(len(ri), "", dtype=object)
        groups = list(P["groups"])
        # separate settings (college, NEET, ...) are drawn once per person and phase, not yearly
        phase_no = np.select([phase == "early_years", phase == "primary", phase == "secondary", phase == "post16"], [0, 1, 2, 3], 4)
        u_sep = r.random((n, 5))[ri, phase_no]
        semh = need[ri] == "SEMH"
        for ph in ["early_years", "primary", "secondary", "post16", "post19"]:
            sel = phase == ph
            if not sel.any():
                continue
            sep = P["separate"].get(ph, {}) or {}
            # separate settings first (drawn independently of the level)
            acc = np.zeros(len(ri))
            chosen = np.zeros(len(ri), dtype=bool)
            for code, share in sep.items():
                sh = np.full(len(ri), float(share))
                if code == "alternative_provision":
                    sh = np.where(semh, sh * float(P["semh_ap_multiplier"]), sh)
                hit = sel & ~chosen & (u_sep >= acc) & (u_sep < acc + sh)
                setting[hit] = code
                chosen |= hit
                acc = acc + sh
            iw = P["intensity_weights"][ph]
            w = np.array([float(iw.get(g, 0.0)) for g in groups])
            rest = sel & ~chosen
            if w.sum() <= 0:
                # nothing in the intensity groups (post19): fall back to the separate settings' mix
                codes = list(sep)
                pw = _norm(list(sep.values()))
                setting[rest] = np.array(codes, dtype=object)[r.choice(len(codes), size=int(rest.sum()), p=pw)]
                continue
            cum_w = np.cumsum(_norm(w))
            gi = np.minimum(np.searchsorted(cum_w, row_level[rest], side="right"), len(groups) - 1)
            setting[rest] = np.array(groups, dtype=object)[gi]
        # subtypes: maintained / academy
        acad = P["academy_share"]
        is_ms = setting == "mainstream"
        ms_acad = sub_u[ri] < np.array([float(acad.get(p, 0.0)) for p in phase])
        setting[is_ms & ms_acad] = "mainstream_academy"
        setting[is_ms & ~ms_acad] = "mainstream_maintained"
        is_sp = setting == "special"
        sp_acad = sub_u[ri] < float(acad["special"])
        setting[is_sp & sp_acad] = "special_academy"
        setting[is_sp & ~sp_acad] = "special_maintained"
        # collapse consecutive rows with the same setting and phase into spells
        key = np.array([f"{s}|{p}" for s, p in zip(setting, phase)], dtype=object)
        new = np.ones(len(ri), dtype=bool)
        new[1:] = (ri[1:] != ri[:-1]) | (key[1:] != key[:-1])
        phase_change = np.ones(len(ri), dtype=bool)
        phase_change[1:] = (ri[1:] != ri[:-1]) | (phase[1:] != phase[:-1])
        # spell start: first row of the person -> plan start (or start of the phase for older
        # plans); phase change -> 1 September; a move within a phase -> a date within the year
        first_of_person = offs == 0
        phase_lo = np.select([phase == "early_years", phase == "primary", phase == "secondary", phase == "post16"], [0, 4, 11, 16], 19)
        phase_start = _date(ay - (aa - phase_lo), 9, 1)
        spell_start = np.where(first_of_person, np.maximum(start[ri], np.where(aa >= 4, phase_start, start[ri])),
                               np.where(phase_change, row_s, move_date))
        sp_rows = np.flatnonzero(new)
        sp_person = ri[sp_rows]
        sp_start = spell_start[sp_rows]
        sp_setting = setting[sp_rows]
        sp_phase = phase[sp_rows]
        ns = len(sp_rows)
        last_of_person = np.ones(ns, dtype=bool)
        last_of_person[:-1] = sp_person[1:] != sp_person[:-1]
        sp_end = np.empty(ns, dtype=np.int64)
        sp_end[:-1] = sp_start[1:] - 1
        sp_end[last_of_person] = pl["end"][sp_person[last_of_person]]  # NA while in force
        sp_end_eff = np.where(sp_end == NA, self.end, sp_end)
        assert (sp_end_eff >= sp_start).all()
        self.spells = dict(person=sp_person, start=sp_start, end=sp_end, end_eff=sp_end_eff,
                           setting=sp_setting, phase=sp_phase)
        self._providers(r)
        self._costs(r)
        sp = self.spells
        pid = self.person_ids[pl["pidx"][sp["person"]]]
        df = pd.DataFrame({
            "person_id": pid,
            "setting_type": sp["setting"],
            "phase": sp["phase"],
            "provider_id": sp["provider"],
            "start_date": _to_dates(sp["start"]),
            "end_date": _to_dates(sp["end"]),
            "annual_cost": sp["cost"],
            "out_of_county": sp["ooc"],
        })
        order = np.lexsort((sp["start"], pid))
        df = df.iloc[order].reset_index(drop=True)
        df.insert(0, "placement_id", _ids("PL", len(df), 6))
        self.tables["placements"] = df

    def _providers(self, r: np.random.Generator) -> None:
        P = self.P["placements"]
        sp = self.spells
        ns = len(sp["start"])
        prov = np.full(ns, "", dtype=object)
        ooc = np.zeros(ns, dtype=bool)
        setting, phase = sp["setting"], sp["phase"]
        pidx = self.plan["pidx"][sp["person"]]
        need = self.persons["need"][pidx]
        loc = self.persons["loc"][pidx]
        cap = self.capacity_frame
        npv = P["providers"]
        u = r.random(ns)
        u2 = r.random(ns)
        # local specialist settings
        for stype in ["resourced_provision", "special_maintained", "special_academy"]:
            group = "resourced_provision" if stype == "resourced_provision" else "special"
            local_share = float(P["local_share"][group])
            for ph in ["early_years", "primary", "secondary", "post16", "post19"]:
                sel = np.flatnonzero((setting == stype) & (phase == ph))
                if len(sel) == 0:
                    continue
                rows = cap[(cap["setting_type"] == stype) & (cap["phase"] == ph)].reset_index(drop=True)
                want_local = u[sel] < local_share
                if len(rows):
                    opn = np.array([_day(d.strftime("%Y-%m-%d")) for d in rows["open_date"]])
                    cls = np.array([_day(d.strftime("%Y-%m-%d")) if pd.notna(d) else np.iinfo(np.int64).max for d in rows["close_date"]])
                    places = rows["places"].to_numpy(dtype=float)
                    desig = rows["designation"].to_numpy(dtype=object)
                    sloc = rows["locality"].to_numpy(dtype=object)
                    elig = (opn[None, :] <= sp["start"][sel][:, None]) & (cls[None, :] >= sp["end_eff"][sel][:, None])
                    elig &= (rows["status"].to_numpy() == "open")[None, :]
                    w = places[None, :] * elig
                    match = desig[None, :] == need[sel][:, None]
                    w = w * np.where(match, float(P["designation_match_weight"]),
                                     np.where(desig[None, :] == "mixed", float(P["mixed_designation_weight"]), 1.0))
                    w = w * np.where(sloc[None, :] == loc[sel][:, None], float(P["same_locality_weight"]), 1.0)
                    young = (sp["start"][sel][:, None] - opn[None, :]) < int(P["new_setting_days"])
                    w = w * np.where(young, float(P["new_setting_weight"]), 1.0)
                    has = w.sum(axis=1) > 0
                    loc_sel = want_local & has
                    if loc_sel.any():
                        k = _choice_rows(r, w[loc_sel])
                        prov[sel[loc_sel]] = rows["setting_id"].to_numpy(dtype=object)[k]
                    want_local = loc_sel
                else:
                    want_local = np.zeros(len(sel), dtype=bool)
                ext = sel[~want_local]
                prefix = "OOC-RB" if stype == "resourced_provision" else "OOC-SP"
                prov[ext] = [f"{prefix}{1 + int(x * npv['out_of_county_special']):02d}" for x in u2[ext]]
                ooc[ext] = True
        # everything else
        for stype, prefix, count_key, ooc_share in [
            ("inmss", "IND", "inmss", P["inmss_out_of_county_share"]),
            ("fe_college", "FEC", "fe_college", P["fe_out_of_county_share"]),
            ("specialist_post16", "SPI", "specialist_post16", P["specialist_post16_out_of_county_share"]),
            ("alternative_provision", "APR", "alternative_provision", 0.0),
            ("other_post16", "TRN", "other_post16", 0.0),
        ]:
            sel = np.flatnonzero(setting == stype)
            k = 1 + (u2[sel] * int(npv[count_key])).astype(int)
            prov[sel] = [f"{prefix}{x:03d}" for x in k]
            ooc[sel] = u[sel] < float(ooc_share)
        for stype in ["mainstream_maintained", "mainstream_academy"]:
            sel = np.flatnonzero(setting == stype)
            ph = phase[sel]
            key = np.where(ph == "primary", "primary", np.where(ph == "early_years", "early_years", "secondary"))
            pre = np.where(ph == "primary", "PRI", np.where(ph == "early_years", "EYS", "SEC"))
            cnt = np.array([int(npv[k]) for k in key])
            k = 1 + (u2[sel] * cnt).astype(int)
            prov[sel] = [f"{p}{x:03d}" for p, x in zip(pre, k)]
            ooc[sel] = u[sel] < float(P["mainstream_out_of_county_share"])
        for stype, pid_ in [("elective_home", "EHE"), ("neet", "NEET"), ("other", "OTHER")]:
            sel = setting == stype
            prov[sel] = pid_
        assert (prov != "").all(), sorted(set(zip(setting[prov == ""], phase[prov == ""])))
        sp["provider"] = prov
        sp["ooc"] = ooc

    def _costs(self, r: np.random.Generator) -> None:
        C = self.P["costs"]
        sp = self.spells
        ns = len(sp["start"])
        setting, phase = sp["setting"], sp["phase"]
        med = np.array([float(C["median"][s]) for s in setting])
        place = np.array([float(C["place_funding"].get(s, 0.0)) for s in setting])
        noise = np.exp(r.normal(0.0, float(C["sd_log"]), ns))
        fy = _fy_of(sp["start"])
        infl = (1.0 + float(C["inflation"])) ** (fy - int(C["base_year"]))
        top = med * noise * infl
        top = np.where(phase == "early_years", top * float(C["early_years_factor"]), top)
        resi = (setting == "inmss") & (r.random(ns) < float(C["inmss_residential_share"]))
        top = np.where(resi, top * float(C["inmss_residential_factor"]), top)
        cost = np.minimum(np.round(place + top, 0), float(C["max"]))
        sp["cost"] = cost

    # ----- annual reviews -------------------------------------------------------------------
    def annual_reviews(self) -> None:
        A = self.P["annual_reviews"]
        r = _rng(self.seed, 40)
        pl = self.plan
        n = len(pl["start"])
        start, end = pl["start"], pl["end"]
        stop = np.where(end == NA, self.end, end - 1)
        # first due date on or after the start of the history: an anniversary of the plan
        y_s, m_s, d_s = _ymd(start)
        y0 = _ymd(np.array([self.start]))[0][0]
        k = np.maximum(1, y0 - y_s - 1)
        due = _add_months_arr(start, 12 * k)
        while True:
            early = due < self.start
            if not early.any():
                break
            due[early] = _add_months(due[early], 12)
        rows_p, rows_due, rows_meet, rows_dec = [], [], [], []
        alive = due <= stop
        idx = np.arange(n)
        prev_meet = np.full(n, NA, dtype=np.int64)
        while alive.any():
            i = idx[alive]
            d = due[alive]
            yr = _ymd(d)[0]
            p_on = _by_year(A["on_time_share"], yr)
            on = r.random(len(i)) < p_on
            meet = np.where(on, d - r.integers(0, int(A["early_days_max"]) + 1, len(i)),
                            d + 1 + np.minimum(r.exponential(float(A["late_days_mean"]), len(i)).astype(np.int64), int(A["late_days_max"])))
            meet = np.maximum(meet, start[i] + 180)
            quick = r.random(len(i)) < float(A["decision_within_4_weeks_share"])
            dec = meet + np.where(quick, r.integers(1, 29, len(i)), r.integers(29, int(A["decision_late_days_max"]) + 1, len(i)))
            # a review cannot happen after the plan ended
            meet_ok = (meet <= self.end) & (meet <= stop[i])
            dec_ok = meet_ok & (dec <= self.end) & (dec <= stop[i])
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
        pid = self.person_ids[pl["pidx"][pi]]
        df = pd.DataFrame({
            "person_id": pid,
            "due_date": _to_dates(np.concatenate(rows_due)),
            "meeting_date": _to_dates(np.concatenate(rows_meet)),
            "decision_date": _to_dates(np.concatenate(rows_dec)),
        })
        order = np.lexsort((np.concatenate(rows_due), pid))
        self.tables["annual_reviews"] = df.iloc[order].reset_index(drop=True)

    # ----- at each census -------------------------------------------------------------------
    def _at(self, day: int) -> dict:
        """Plans in force on ``day`` and their placement that day (indices into plan / spells)."""
        pl, sp = self.plan, self.spells
        in_force = (pl["start"] <= day) & ((pl["end"] == NA) | (pl["end"] > day))
        on = (sp["start"] <= day) & (sp["end_eff"] >= day) & ((sp["end"] == NA) | (sp["end"] >= day))
        spell_of = np.full(len(pl["start"]), -1)
        spell_of[sp["person"][on]] = np.flatnonzero(on)
        return {"plans": np.flatnonzero(in_force), "spell_of": spell_of}

    def transitions(self) -> None:
        T = self.P["transitions"]
        r = _rng(self.seed, 50)
        pl, sp = self.plan, self.spells
        frames = []
        for year, c in self.censuses:
            at = self._at(c)
            i = at["plans"]
            bm = pl["bm"][i]
            age = _age(bm, np.full(len(i), c))
            jan_born = bm % 12 == 0
            ok = (age >= 14) & (age <= 25) & ~(jan_born & (age == 14))
            i, age = i[ok], age[ok]
            s = at["spell_of"][i]
            setting = np.where(s >= 0, sp["setting"][np.maximum(s, 0)], "other")
            p_tp = np.minimum(_by_year(T["transition_plan_share"], np.full(len(i), year)) + float(T["age_boost"]) * (age - 14), 0.98)
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
            frames.append(pd.DataFrame({
                "person_id": self.person_ids[pl["pidx"][i]],
                "census_date": pd.Timestamp(np.datetime64(int(c), "D")),
                "age": age,
                "has_transition_plan": has_tp,
                "activity": act,
            }))
        df = pd.concat(frames, ignore_index=True)
        self.tables["transitions"] = df.sort_values(["census_date", "person_id"], kind="stable").reset_index(drop=True)

    def _census_counts(self, year: int, c: int) -> tuple[dict, np.ndarray]:
        """Pupils on roll at the January census ``c`` by (phase, SEN status), and the placement
        spells of plan holders on roll at the county's schools that day."""
        S = self.P["school_population"]
        sp = self.spells
        pop = self.pop.set_index(["year", "age"])["population"]
        o = S["on_roll"]
        at = self._at(c)
        s = at["spell_of"][at["plans"]]
        s = s[s >= 0]
        st, ph, ooc = sp["setting"][s], sp["phase"][s], sp["ooc"][s]
        local = ~ooc
        ms = np.isin(st, ["mainstream_maintained", "mainstream_academy", "resourced_provision"]) & local
        ms &= np.isin(ph, ["primary", "secondary", "post16"])
        special = np.isin(st, ["special_maintained", "special_academy"]) & local
        e_pri = int((ms & (ph == "primary")).sum())
        e_sec = int((ms & np.isin(ph, ["secondary", "post16"])).sum())
        e_spe = int(special.sum())
        py = max(year - 1, self.first_year)  # mid-year estimate before the census

        def roll(lo: int, hi: int, share: float) -> float:
            return sum(float(pop.loc[(py, a)]) for a in range(lo, hi + 1)) * share

        pri = roll(o["primary_ages"][0], o["primary_ages"][1], o["primary_share"])
        sec = roll(o["secondary_ages"][0], o["secondary_ages"][1], o["secondary_share"]) + \
            roll(o["sixth_form_ages"][0], o["sixth_form_ages"][1], o["sixth_form_share"])
        ss = S["sen_support_share"]
        sup_pri = round(pri * float(_by_year(ss["primary"], np.array([year]))[0]))
        sup_sec = round(sec * float(_by_year(ss["secondary"], np.array([year]))[0]))
        ex = S["special_roll_extra"]
        cells = {
            ("primary", "ehcp"): e_pri, ("primary", "sen_support"): sup_pri,
            ("primary", "none"): round(pri) - e_pri - sup_pri,
            ("secondary", "ehcp"): e_sec, ("secondary", "sen_support"): sup_sec,
            ("secondary", "none"): round(sec) - e_sec - sup_sec,
            ("special", "ehcp"): e_spe, ("special", "sen_support"): max(1, round(e_spe * float(ex["sen_support"]))),
            ("special", "none"): max(1, round(e_spe * float(ex["none"]))),
        }
        cells = {k: int(max(v, 1)) for k, v in cells.items()}
        return cells, s[ms | special]

    def school_population(self) -> None:
        rows = []
        for year, c in self.censuses:
            cells, _ = self._census_counts(year, c)
            for (phase, status), v in cells.items():
                rows.append({"census_date": pd.Timestamp(np.datetime64(int(c), "D")), "phase": phase,
                             "sen_status": status, "pupils": v})
        self.tables["school_population"] = pd.DataFrame(rows)

    # ----- exclusions -----------------------------------------------------------------------
    def exclusions(self) -> None:
        X = self.P["exclusions"]
        r = _rng(self.seed, 60)
        sp, pl = self.spells, self.plan
        term = X["term"]
        fm, fd = _md(term["first"]); lm, ld = _md(term["last"])
        cm1, cd1 = _md(term["christmas_first"]); cm2, cd2 = _md(term["christmas_last"])
        dv = np.array(X["days"]["values"], dtype=float)
        dw = _norm(X["days"]["weights"])
        out = []
        ay_first = int(_ay_of(np.array([self.start]))[0])
        ay_last = int(_ay_of(np.array([self.end]))[0])
        for ay in range(ay_first, ay_last + 1):
            year = ay + 1
            c = _day(third_thursday_of_january(year).strftime("%Y-%m-%d"))
            if c > self.end:  # the current school year: the latest census taken
                year, c = self.censuses[-1]
            cells, cand_spells = self._census_counts(year, c)
            days = np.arange(_day(f"{ay}-{fm:02d}-{fd:02d}"), _day(f"{ay + 1}-{lm:02d}-{ld:02d}") + 1)
            dow = (days + 3) % 7  # 0 = Monday
            xmas = (days >= _day(f"{ay}-{cm1:02d}-{cd1:02d}")) & (days <= _day(f"{ay + 1}-{cm2:02d}-{cd2:02d}"))
            days = days[(dow < 5) & ~xmas]
            n_all = len(days)
            days = days[days >= self.start]
            if len(days) == 0:
                continue
            share_of_year = len(days) / n_all
            pupils: dict[str, int] = {}
            for (phase, status), v in cells.items():
                pupils[status] = pupils.get(status, 0) + v
            yf = float(_by_year(X["year_factor"], np.array([ay]))[0])
            for status in ["ehcp", "sen_support", "none"]:
                n_pupils = int(pupils.get(status, 0))
                for kind, rate_key in [("suspension", "suspensions_per_100"), ("permanent", "permanent_per_100")]:
                    lam = n_pupils * float(X[rate_key][status]) / 100.0 * yf * share_of_year
                    k = int(r.poisson(lam))
                    if k == 0:
                        continue
                    when = days[r.integers(0, len(days), k)]
                    if status == "ehcp":
                        cand = cand_spells
                        if len(cand) == 0:
                            continue
                        s = cand[r.integers(0, len(cand), k)]
                        lo = np.maximum(sp["start"][s], days[0])
                        hi = np.minimum(sp["end_eff"][s], days[-1])
                        okk = hi >= lo
                        s, lo, hi = s[okk], lo[okk], hi[okk]
                        when = lo + np.floor(r.random(len(s)) * (hi - lo + 1)).astype(np.int64)
                        # move weekend dates to the Friday before (still within the spell, or drop)
                        dw_ = (when + 3) % 7
                        when = np.where(dw_ >= 5, when - (dw_ - 4), when)
                        good = when >= lo
                        s, when = s[good], when[good]
                        person = self.person_ids[pl["pidx"][sp["person"][s]]]
                    else:
                        pool = max(1, int(round(n_pupils * float(X["pupil_pool_share"]))))
                        pick = r.integers(0, pool, len(when))
                        person = np.array([f"U{ay % 100:02d}{status[0].upper()}{p:05d}" for p in pick], dtype=object)
                    if kind == "suspension":
                        dd = dv[r.choice(len(dv), size=len(when), p=dw)]
                    else:
                        pd_ = X["permanent_days"]
                        dd = r.integers(int(pd_["min"]), int(pd_["max"]) + 1, len(when)).astype(float)
                    out.append(pd.DataFrame({"person_id": person, "sen_status": status, "kind": kind,
                                             "start_day": when, "days": dd}))
        df = pd.concat(out, ignore_index=True)
        df = df[df["start_day"] <= self.end]
        # a permanently excluded pupil is excluded once
        df = df.iloc[np.lexsort((df["kind"].to_numpy(), df["start_day"].to_numpy(), df["person_id"].to_numpy()))]
        perm = df["kind"] == "permanent"
        dup = perm & df.duplicated(["person_id", "kind"], keep="first")
        df = df[~dup]
        df = df.iloc[np.lexsort((df["person_id"].to_numpy(), df["start_day"].to_numpy()))].reset_index(drop=True)
        self.tables["exclusions"] = pd.DataFrame({
            "event_id": _ids("X", len(df), 6),
            "person_id": df["person_id"].to_numpy(),
            "sen_status": df["sen_status"].to_numpy(),
            "kind": df["kind"].to_numpy(),
            "start_date": _to_dates(df["start_day"].to_numpy()),
            "days": df["days"].to_numpy(dtype=float),
        })

    # ----- health waits ---------------------------------------------------------------------
    def health_waits(self) -> None:
        H = self.P["health_waits"]
        r = _rng(self.seed, 70)
        months = np.arange(_ym(np.array([self.start]))[0], _ym(np.array([self.end]))[0] + 1)
        mstart = _month_start(months)
        mlen = _month_start(months + 1) - mstart
        frames = []
        for service in ["neurodevelopmental", "speech_language", "occupational_therapy", "physiotherapy"]:
            S = H[service]
            rate = _interp_year(S["referrals"], months / 12.0 + 1 / 24.0) / 12.0
            counts = r.poisson(rate)
            mi = np.repeat(np.arange(len(months)), counts)
            ref = mstart[mi] + np.floor(r.random(len(mi)) * mlen[mi]).astype(np.int64)
            ref = np.sort(ref[ref <= self.end], kind="stable")
            med = _interp_year(S["median_weeks"], _frac_year(ref))
            weeks = np.minimum(med * np.exp(r.normal(0.0, float(S["sd_log"]), len(ref))), float(H["max_weeks"]))
            first = ref + np.round(weeks * 7).astype(np.int64)
            first = np.where(first > self.end, NA, first)
            frames.append((service, ref, first))
        ref = np.concatenate([f[1] for f in frames])
        first = np.concatenate([f[2] for f in frames])
        service = np.concatenate([np.full(len(f[1]), f[0], dtype=object) for f in frames])
        order = np.lexsort((service, ref))
        self.tables["health_waits"] = pd.DataFrame({
            "referral_id": _ids("H", len(ref), 6),
            "service": service[order],
            "referral_date": _to_dates(ref[order]),
            "first_contact_date": _to_dates(first[order]),
        })

    # ----- capacity -------------------------------------------------------------------------
    def capacity(self) -> None:
        rows = []
        for s in self.P["capacity"]["settings"]:
            for phase, places in s["places"].items():
                rows.append({
                    "setting_id": s["id"], "name": s["name"], "setting_type": s["type"], "phase": phase,
                    "designation": s["designation"], "locality": s["locality"], "places": int(places),
                    "open_date": pd.Timestamp(s["open"]),
                    "close_date": pd.Timestamp(s["close"]) if s.get("close") else pd.NaT,
                    "status": s.get("status", "open"),
                })
        df = pd.DataFrame(rows)
        # a setting approved or open whose open date is after the extract is pipeline
        later = (df["status"] == "open") & (df["open_date"] > self.end_ts)
        df.loc[later, "status"] = "pipeline"
        # an approved setting whose open date has passed by the extract is open
        opened = (df["status"] == "pipeline") & (df["open_date"] <= self.end_ts)
        df.loc[opened, "status"] = "open"
        self.capacity_frame = df
        self.tables["capacity"] = df

    # ----- finance --------------------------------------------------------------------------
    def finance(self) -> None:
        F = self.P["hnb_budget"]
        r = _rng(self.seed, 80)
        sp = self.spells
        fy_first = self.first_year
        last_fy = Quarter.containing(self.end_ts).fy_start
        lines = list(TABLES["hnb_budget"].column("line").codes)
        pl_lines = F["placement_lines"]
        g_after = float(F["growth_after_extract"])
        outturn: dict[tuple[int, str], float] = {}
        for fy in range(fy_first, last_fy + 1):
            a, b = _day(f"{fy}-04-01"), _day(f"{fy + 1}-03-31")
            ndays = b - a + 1
            known_end = min(b, self.end)
            for line in lines:
                total = 0.0
                if line in pl_lines:
                    sel = np.isin(sp["setting"], pl_lines[line])
                    s0 = np.maximum(sp["start"][sel], a)
                    s1 = np.minimum(sp["end_eff"][sel], known_end)
                    days = np.maximum(s1 - s0 + 1, 0)
                    total = float((sp["cost"][sel] * days).sum() / ndays)
                    if b > self.end:
                        # the rest of the year: spend running at the extract date, growing
                        live = sel.copy()
                        live[sel] = (sp["start"][sel] <= self.end) & (sp["end_eff"][sel] >= self.end) & (sp["end"][sel] == NA)
                        run_rate = float(sp["cost"][live].sum())
                        rest = b - self.end
                        total += run_rate * rest / ndays * (1.0 + g_after * rest / 2 / 365.0)
                fixed = F["fixed_lines"].get(line)
                if fixed is not None:
                    total += float(fixed["base"]) * (1.0 + float(fixed["growth"])) ** (fy - fy_first)
                outturn[(fy, line)] = total * (1.0 + r.normal(0.0, float(F["noise_sd"])))
        rows = []
        rec = F["forecast_recognition"]
        for fy in range(fy_first, last_fy + 1):
            under = float(_by_year(F["under_budget"], np.array([fy]))[0])
            ended = _day(f"{fy + 1}-03-31") <= self.end
            for line in lines:
                out = outturn[(fy, line)]
                budget = round(out * (1.0 - under + r.normal(0.0, float(F["budget_noise_sd"]))), -3)
                for q in range(1, 5):
                    qq = Quarter(fy, q)
                    if qq.end > self.end_ts:
                        break
                    fc = budget + (out - budget) * float(rec[q - 1]) + out * r.normal(0.0, float(F["forecast_noise_sd"]))
                    rows.append({"financial_year": financial_year_label(fy), "as_at_quarter": str(qq), "line": line,
                                 "budget": max(budget, 0.0), "forecast_outturn": max(round(fc, -2), 0.0),
                                 "actual": float(round(out)) if ended else np.nan})
        self.tables["hnb_budget"] = pd.DataFrame(rows)
        D = self.P["dsg_income"]
        inc = []
        for fy in range(fy_first, last_fy + 1):
            for item in ["hnb_allocation", "block_transfer", "other"]:
                inc.append({"financial_year": financial_year_label(fy), "item": item,
                            "amount": float(_by_year(D[item], np.array([fy]))[0])})
            if fy == fy_first:
                inc.append({"financial_year": financial_year_label(fy), "item": "opening_cumulative_balance",
                            "amount": float(D["opening_cumulative_balance"])})
        self.tables["dsg_income"] = pd.DataFrame(inc)

    # ----- Priority Action Plan -------------------------------------------------------------
    def pap(self) -> None:
        A = self.P["pap"]
        r = _rng(self.seed, 90)
        first = Quarter.parse(A["first_quarter"])
        last = Quarter.latest_complete(self.end_ts)
        quarters = []
        q = first
        while not last < q:
            quarters.append(q)
            q = q.next
        qi = {str(q): i for i, q in enumerate(quarters)}
        dq = A["delay_quarters"]
        bq = A["blue_after_quarters"]
        lo, hi = A["start_quarters_before_due"]
        rows = []
        for act in A["actions"]:
            due = _parse_due(str(act["due"]))
            if due is not None:
                due_q = Quarter.containing(due)
                due_i = (due_q.fy_start - first.fy_start) * 4 + (due_q.q - first.q)
            else:
                nd = Quarter.parse(A["no_due_green_quarter"])
                due_i = (nd.fy_start - first.fy_start) * 4 + (nd.q - first.q)
            delay = int(r.choice(dq["values"], p=_norm(dq["weights"])))
            start_i = due_i - int(r.integers(lo, hi + 1))
            green_i = due_i + delay
            blue_i = green_i + int(r.choice(bq["values"], p=_norm(bq["weights"])))
            never_blue = r.random() < float(A["never_blue_share"])
            if due is None:
                blue_i = 10**6  # ongoing actions stay green at most
            seed_comment = str(act.get("comment") or "").strip()
            for i, qq in enumerate(quarters):
                if i < start_i and i < green_i:
                    brag = "grey"
                elif i < due_i or (i < green_i and i == due_i):
                    brag = "amber"
                elif i < green_i:
                    brag = "red" if delay >= 2 or i > due_i else "amber"
                elif i < blue_i or never_blue:
                    brag = "green"
                else:
                    brag = "blue"
                comment = A["comments"][brag]
                if str(qq) == A["seed_comment_quarter"] and seed_comment:
                    comment = seed_comment
                rows.append({"ref": str(act["ref"]), "objective": act["objective"], "theme": act["theme"],
                             "project": act["project"], "due": pd.Timestamp(due) if due is not None else pd.NaT,
                             "quarter": str(qq), "brag": brag, "comment": comment})
        # an end date before the plan's first quarter gives an empty table (header only)
        self.tables["pap_actions"] = pd.DataFrame(rows, columns=TABLES["pap_actions"].column_names)

    # ----- run ------------------------------------------------------------------------------
    def run(self) -> dict[str, pd.DataFrame]:
        self.population()
        self.capacity()
        self.requests_and_plans()
        self.person_ids = _ids("P", self.n_people, 6)
        self.build_request_and_plan_tables()
        self.placements()
        self.annual_reviews()
        self.school_population()
        self.transitions()
        self.exclusions()
        self.health_waits()
        self.finance()
        self.pap()
        return {name: self.tables[name] for name in TABLES}


def _ay_of(days: np.ndarray) -> np.ndarray:
    y, m, _ = _ymd(days)
    return np.where(m >= 9, y, y - 1)


def _fy_of(days: np.ndarray) -> np.ndarray:
    y, m, _ = _ymd(days)
    return np.where(m >= 4, y, y - 1)


def _add_months_arr(days: np.ndarray, k: np.ndarray) -> np.ndarray:
    y, m, d = _ymd(days)
    ym = y * 12 + m - 1 + np.asarray(k, np.int64)
    first = _month_start(ym)
    dim = _month_start(ym + 1) - first
    return first + np.minimum(d, dim) - 1


_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
           "sep": 9, "oct": 10, "nov": 11, "dec": 12}


def _parse_due(text: str) -> "pd.Timestamp | None":
    """'Apr 24' -> 2024-04-30, 'Sept 24' -> 2024-09-30; 'TBC' / 'On go' -> None."""
    parts = text.strip().split()
    if len(parts) != 2 or parts[0][:3].lower() not in _MONTHS or not parts[1].isdigit():
        return None
    month = _MONTHS[parts[0][:3].lower()]
    year = 2000 + int(parts[1]) if len(parts[1]) == 2 else int(parts[1])
    return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)


# ----- public API -----------------------------------------------------------------------------


def generate(seed: int | None = None, end_date: str | None = None,
             params: "Mapping | str | Path | None" = None) -> dict[str, pd.DataFrame]:
    """Generate every canonical table (schema order) for the synthetic county."""
    P = params if isinstance(params, Mapping) else load_params(params)
    seed = default_seed(P) if seed is None else int(seed)
    end = default_end_date(P) if end_date is None else str(pd.Timestamp(end_date).date())
    return _County(P, seed, end).run()


def metadata_text(seed: int, end_date: str) -> str:
    """The ``metadata.yaml`` written beside the tables (fixed layout, so it is byte-stable)."""
    return (
        f"extract_date: '{end_date}'\n"
        f"generator: {GENERATOR}\n"
        f"seed: {int(seed)}\n"
        "description: >-\n"
        "  Synthetic county generated by sendlib synth: a coherent, person-level history of a\n"
        "  county's SEND services modelled on the size of a real county. Every person, plan,\n"
        "  placement and event is made up: no row describes a real child or young person.\n"
        "  Parameters and their sources are in config/synth.yaml (docs/synthetic-county.md).\n"
    )


def write(out_dir: "str | Path", seed: int | None = None, end_date: str | None = None,
          params: "str | Path | None" = None) -> list[Path]:
    """Generate and write every table as ``<out_dir>/<table>.csv`` plus ``metadata.yaml``."""
    from sendlib.data.loaders import METADATA_FILE, write_table

    P = load_params(params)
    seed = default_seed(P) if seed is None else int(seed)
    end = default_end_date(P) if end_date is None else str(pd.Timestamp(end_date).date())
    tables = _County(P, seed, end).run()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [write_table(df, name, out) for name, df in tables.items()]
    meta = out / METADATA_FILE
    meta.write_text(metadata_text(seed, end), encoding="utf-8", newline="\n")
    paths.append(meta)
    return paths
