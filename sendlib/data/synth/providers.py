"""Local specialist capacity, the provider of each placement spell, and what each spell costs.

``capacity`` lists the county's special schools and resource bases (``capacity.settings`` in
``config/synth.yaml``: the named pipeline from the council's published roadmap, other settings
fictional). Local special and resource-base spells go to a capacity setting open for the whole
spell, weighted by places, designation, locality and newness; the rest go out of county. Other
providers have made-up ids by kind (docs/synthetic-county.md, "Conventions worth knowing").
``annual_cost`` is place funding (GBP 10,000 special, GBP 6,000 resourced provision: DfE high needs
funding operational guide) plus a log-normal top-up or fee, inflated per financial year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import PHASES, _day, _fy_of
from sendlib.data.synth.sampling import _choice_rows
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
    """Special schools and resource bases: a local capacity setting for the ``local_share``
    wanting one (when any is eligible), else another authority's setting."""
    P = c.params["placements"]
    sp = c.spells
    setting, phase = sp["setting"], sp["phase"]
    pidx = c.plan["pidx"][sp["person"]]
    need = c.persons["need"][pidx]
    loc = c.persons["loc"][pidx]
    cap = c.capacity
    npv = P["providers"]
    for stype in ["resourced_provision", "special_maintained", "special_academy"]:
        group = "resourced_provision" if stype == "resourced_provision" else "special"
        local_share = float(P["local_share"][group])
        for ph in PHASES:
            sel = np.flatnonzero((setting == stype) & (phase == ph))
            if len(sel) == 0:
                continue
            rows = cap[(cap["setting_type"] == stype) & (cap["phase"] == ph)].reset_index(drop=True)
            want_local = u[sel] < local_share
            if len(rows):
                w = _setting_weights(c, rows, sel, need, loc)
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


def _setting_weights(c: County, rows: pd.DataFrame, sel: np.ndarray, need: np.ndarray, loc: np.ndarray) -> np.ndarray:
    """(spells x settings) weights: places of the settings open for the whole spell, favouring a
    matching designation, the spell's locality and newly opened settings (which fill first)."""
    P = c.params["placements"]
    sp = c.spells
    opn = np.array([_day(d.strftime("%Y-%m-%d")) for d in rows["open_date"]])
    cls = np.array(
        [_day(d.strftime("%Y-%m-%d")) if pd.notna(d) else np.iinfo(np.int64).max for d in rows["close_date"]]
    )
    places = rows["places"].to_numpy(dtype=float)
    desig = rows["designation"].to_numpy(dtype=object)
    sloc = rows["locality"].to_numpy(dtype=object)
    elig = (opn[None, :] <= sp["start"][sel][:, None]) & (cls[None, :] >= sp["end_eff"][sel][:, None])
    elig &= (rows["status"].to_numpy() == "open")[None, :]
    w = places[None, :] * elig
    match = desig[None, :] == need[sel][:, None]
    w = w * np.where(
        match,
        float(P["designation_match_weight"]),
        np.where(desig[None, :] == "mixed", float(P["mixed_designation_weight"]), 1.0),
    )
    w = w * np.where(sloc[None, :] == loc[sel][:, None], float(P["same_locality_weight"]), 1.0)
    young = (sp["start"][sel][:, None] - opn[None, :]) < int(P["new_setting_days"])
    return w * np.where(young, float(P["new_setting_weight"]), 1.0)


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
