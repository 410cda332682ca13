"""Local specialist capacity, the provider of each placement spell, and what each spell costs.

``capacity`` lists the county's special schools and resource bases (``capacity.settings`` in
``config/synth.yaml``: the named pipeline from the council's published roadmap, other settings
fictional). Local special and resource-base spells take a free place in a capacity setting open
for the whole spell (designated for the need, else mixed), in order of start, so no setting is
ever fuller than its places; children without a place go out of county, to an independent
special school or stay in mainstream (``placements.no_local_place``). Other
providers have made-up ids by kind (docs/synthetic-county.md, "Conventions worth knowing").
``annual_cost`` is place funding (GBP 10,000 special, GBP 6,000 resourced provision: DfE high needs
funding operational guide) plus a log-normal top-up or fee, inflated per financial year.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import _day, _fy_of
from sendlib.data.synth.state import County


def capacity(c: County) -> None:
    """Build the ``capacity`` table (one row per setting and phase), kept as ``c.capacity``.

    A setting whose open date is after the end date is ``pipeline``; a ``pipeline`` setting whose
    open date has passed by then is ``open``."""
    rows = []
    for s in c.params["capacity"]["settings"]:
        for phase, places in s["places"].items():
            rows.append(
                {
                    "setting_id": s["id"],
                    "name": s["name"],
                    "setting_type": s["type"],
                    "phase": phase,
                    "designation": s["designation"],
                    "locality": s["locality"],
                    "places": int(places),
                    "open_date": pd.Timestamp(s["open"]),
                    "close_date": pd.Timestamp(s["close"]) if s.get("close") else pd.NaT,
                    "status": s.get("status", "open"),
                }
            )
    df = pd.DataFrame(rows)
    later = (df["status"] == "open") & (df["open_date"] > c.end_ts)
    df.loc[later, "status"] = "pipeline"
    opened = (df["status"] == "pipeline") & (df["open_date"] <= c.end_ts)
    df.loc[opened, "status"] = "open"
    c.capacity = df
    c.tables["capacity"] = df


def allocate_providers(c: County, r: np.random.Generator) -> None:
    """Add ``provider`` and ``ooc`` (out of county) to ``c.spells``."""
    sp = c.spells
    ns = len(sp["start"])
    prov = np.full(ns, "", dtype=object)
    ooc = np.zeros(ns, dtype=bool)
    u = r.random(ns)
    u2 = r.random(ns)
    _local_specialist(c, r, u, u2, prov, ooc)
    _other_providers(c, u, u2, prov, ooc)
    setting, phase = sp["setting"], sp["phase"]
    assert (prov != "").all(), sorted(set(zip(setting[prov == ""], phase[prov == ""])))
    sp["provider"] = prov
    sp["ooc"] = ooc


def _local_specialist(
    c: County, r: np.random.Generator, u: np.ndarray, u2: np.ndarray, prov: np.ndarray, ooc: np.ndarray
) -> None:
    """Special schools and resource bases, allocated in order of spell start so that no local
    setting ever holds more children than its usable places (:func:`_usable_places`).

    A spell whose family wants a local place (``local_share``) takes a free place in a setting
    open for the whole spell: first one designated for the child's primary need, then a mixed /
    complex-needs one, then (``any_designation_fallback``) any; within a tier the draw is weighted
    by places and locality (``same_locality_weight``). The child's setting type becomes the
    setting's (maintained / academy special school, resource base). Without a free place the
    child goes where ``no_local_place`` sends them for the phase: another authority's special
    school or base (out of county), an independent / non-maintained special school, or stays in
    mainstream (a college for post-16). Other spells go out of county."""
    P = c.params["placements"]
    sp = c.spells
    setting, phase = sp["setting"], sp["phase"]
    pidx = c.plan["pidx"][sp["person"]]
    need = c.persons["need"][pidx]
    loc = c.persons["loc"][pidx]
    npv = P["providers"]
    specialist = np.isin(setting, ["resourced_provision", "special_maintained", "special_academy"])
    group = np.where(setting == "resourced_provision", "resourced_provision", "special")
    want_local = u < np.array([float(P["local_share"][g]) for g in group])
    u_pick = r.random(len(setting))
    u_fall = r.random(len(setting))
    cap = c.capacity
    cap = cap[cap["status"] == "open"].reset_index(drop=True)
    ids = cap["setting_id"].to_numpy(dtype=object)
    cap_group = np.where(cap["setting_type"].to_numpy() == "resourced_provision", "resourced_provision", "special")
    opn = np.array([_day(d.strftime("%Y-%m-%d")) for d in cap["open_date"]])
    cls = np.array([_day(d.strftime("%Y-%m-%d")) if pd.notna(d) else np.iinfo(np.int64).max for d in cap["close_date"]])
    places = cap["places"].to_numpy(dtype=float)
    desig = cap["designation"].to_numpy(dtype=object)
    sloc = cap["locality"].to_numpy(dtype=object)
    stype = cap["setting_type"].to_numpy(dtype=object)
    cphase = cap["phase"].to_numpy(dtype=object)
    held: list[list[int]] = [[] for _ in range(len(cap))]  # end days of the children in each setting
    any_tier = bool(P["any_designation_fallback"])
    locality_weight = float(P["same_locality_weight"])
    order = np.flatnonzero(specialist)
    order = order[np.argsort(sp["start"][order], kind="stable")]
    for i in order:
        start, end = int(sp["start"][i]), int(sp["end_eff"][i])
        chosen = -1
        if want_local[i]:
            cand = np.flatnonzero((cap_group == group[i]) & (cphase == phase[i]) & (opn <= start) & (cls >= end))
            free = []
            for j in cand:
                h = held[j]
                while h and h[0] < start:
                    heapq.heappop(h)
                if len(h) < _usable_places(P, places[j], start - opn[j]):
                    free.append(j)
            if free:
                fr = np.array(free)
                tiers = [desig[fr] == need[i], desig[fr] == "mixed"]
                if any_tier:
                    tiers.append(np.ones(len(fr), dtype=bool))
                for tier in tiers:
                    if tier.any():
                        js = fr[tier]
                        w = places[js] * np.where(sloc[js] == loc[i], locality_weight, 1.0)
                        k = min(int(np.searchsorted(np.cumsum(w) / w.sum(), u_pick[i], side="right")), len(js) - 1)
                        chosen = int(js[k])
                        break
        if chosen >= 0:
            heapq.heappush(held[chosen], end)
            prov[i] = ids[chosen]
            setting[i] = stype[chosen]
            continue
        dest = _no_place_destination(P, str(phase[i]), float(u_fall[i])) if want_local[i] else "out_of_county"
        if dest == "out_of_county":
            prefix = "OOC-RB" if group[i] == "resourced_provision" else "OOC-SP"
            prov[i] = f"{prefix}{1 + int(u2[i] * npv['out_of_county_special']):02d}"
            ooc[i] = True
        elif dest == "mainstream":
            academy = u2[i] < float(P["academy_share"].get(str(phase[i]), 0.0))
            setting[i] = "mainstream_academy" if academy else "mainstream_maintained"
        else:
            setting[i] = dest  # inmss, fe_college, specialist_post16, other: providers drawn later


def _usable_places(P: dict, places: float, days_open: int) -> int:
    """Places a setting can fill: its places plus the over-admission allowance, ramped up over
    its first school years (``new_setting_fill``: new schools open with a few year groups)."""
    ramp = [float(x) for x in P["new_setting_fill"]]
    share = ramp[min(int(days_open // 365), len(ramp) - 1)]
    return int(np.floor(places * share * (1.0 + float(P["over_admission_pct"]) / 100.0) + 1e-9))


def _no_place_destination(P: dict, phase: str, u: float) -> str:
    """Where a child who wants a local specialist place goes when none is free (``no_local_place``)."""
    dist = P["no_local_place"][phase]
    codes = list(dist)
    cum = np.cumsum([float(dist[k]) for k in codes])
    return codes[min(int(np.searchsorted(cum / cum[-1], u, side="right")), len(codes) - 1)]


def _other_providers(c: County, u: np.ndarray, u2: np.ndarray, prov: np.ndarray, ooc: np.ndarray) -> None:
    """Every other setting type: a provider drawn from a pool of made-up ids (or a fixed id)."""
    P = c.params["placements"]
    npv = P["providers"]
    setting, phase = c.spells["setting"], c.spells["phase"]
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


def draw_costs(c: County, r: np.random.Generator) -> None:
    """Add ``cost`` (annual, GBP) to ``c.spells``: place funding plus top-up or fee, inflated to
    the financial year the spell starts in, capped at ``costs.max``."""
    C = c.params["costs"]
    sp = c.spells
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
