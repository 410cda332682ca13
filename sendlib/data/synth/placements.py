"""Where each plan holder is educated: one placement spell per plan and phase, plus in-year moves.

Each child carries a latent "intensity" (need-adjusted, rising with occasional in-year escalation)
that picks the setting group by phase, so that children stay in the same kind of provision across
phases; separate settings (colleges, alternative provision, NEET, ...) are drawn per phase.
Consecutive school years in the same setting and phase make one spell; spells start on the plan
start, on 1 September at a phase transfer, or on the day of an in-year move. Providers and costs
are added by :mod:`sendlib.data.synth.providers`. Parameters: ``placements`` in
``config/synth.yaml`` (SEN2 2024 establishment types); docs/synthetic-county.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import NA, PHASES, _academic_age, _ay_of, _date, _phase, _to_dates
from sendlib.data.synth.providers import allocate_providers, draw_costs
from sendlib.data.synth.sampling import STREAMS, _ids, _norm, _rng
from sendlib.data.synth.state import County


def placements(c: County) -> None:
    """Build the placement spells (``c.spells``), their providers and costs, and the table."""
    r = _rng(c.seed, STREAMS["placements"])
    rows = _school_years(c, r)
    setting = _settings(c, r, rows)
    c.spells = _spells(c, rows, setting)
    allocate_providers(c, r)
    draw_costs(c, r)
    c.tables["placements"] = _table(c)


def _school_years(c: County, r: np.random.Generator) -> dict[str, np.ndarray]:
    """One row per plan and school year in the history, with the phase, an in-year move date and
    the intensity level that year (``ri`` is the plan, ``offs`` the year's number within it)."""
    P = c.params["placements"]
    pl = c.plan
    n = len(pl["start"])
    start, end_eff, bm = pl["start"], pl["end_eff"], pl["bm"]
    need = pl["need"]
    level = r.random(n)
    mult = np.array([float(P["need_intensity"][k]) for k in need])
    # push the latent level up or down by need, keeping it in (0, 1)
    level = 1.0 - (1.0 - level) ** mult
    sub_u = r.random(n)  # academy or maintained, once per plan
    # person x academic-year rows
    ay_first = np.maximum(_ay_of(start), _ay_of(np.array([c.start]))[0])
    ay_last = _ay_of(end_eff)
    nrows = ay_last - ay_first + 1
    ri = np.repeat(np.arange(n), nrows)
    offs = np.arange(len(ri)) - np.repeat(np.cumsum(nrows) - nrows, nrows)
    ay = ay_first[ri] + offs
    row_s = np.maximum(_date(ay, 9, 1), start[ri])
    row_e = np.minimum(_date(ay + 1, 8, 31), end_eff[ri])
    aa = _academic_age(bm[ri], ay)
    phase = _phase(aa)
    # escalation within a phase: a move on a date within the academic year; a move that would
    # fall after the end of the history (or of the plan) does not happen
    move_date = _date(ay, 9, 1) + np.floor(r.uniform(0.1, 0.9, len(ri)) * 365).astype(np.int64)
    esc = r.random(len(ri)) < float(P["escalation_rate"])
    esc &= (offs > 0) & (move_date <= row_e)
    step = np.where(esc, float(P["escalation_step"]), 0.0)
    cum = np.cumsum(step)
    base_cum = np.repeat(cum[np.cumsum(nrows) - nrows] - step[np.cumsum(nrows) - nrows], nrows)
    row_level = np.clip(level[ri] + (cum - base_cum), 0, 0.999)
    return dict(
        n=n, ri=ri, offs=offs, ay=ay, aa=aa, phase=phase, row_s=row_s, move_date=move_date, level=row_level, sub_u=sub_u
    )


def _settings(c: County, r: np.random.Generator, rows: dict) -> np.ndarray:
    """Setting type of each school-year row: a separate setting by its share, else the intensity
    group the row's level falls in; then maintained or academy for mainstream and special."""
    P = c.params["placements"]
    ri, phase, row_level = rows["ri"], rows["phase"], rows["level"]
    need = c.plan["need"]
    setting = np.full(len(ri), "", dtype=object)
    groups = list(P["groups"])
    # separate settings (college, NEET, ...) are drawn once per person and phase, not yearly
    phase_no = np.select(
        [phase == "early_years", phase == "primary", phase == "secondary", phase == "post16"], [0, 1, 2, 3], 4
    )
    u_sep = r.random((rows["n"], 5))[ri, phase_no]
    semh = need[ri] == "SEMH"
    for ph in PHASES:
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
    sub_u = rows["sub_u"]
    is_ms = setting == "mainstream"
    ms_acad = sub_u[ri] < np.array([float(acad.get(p, 0.0)) for p in phase])
    setting[is_ms & ms_acad] = "mainstream_academy"
    setting[is_ms & ~ms_acad] = "mainstream_maintained"
    is_sp = setting == "special"
    sp_acad = sub_u[ri] < float(acad["special"])
    setting[is_sp & sp_acad] = "special_academy"
    setting[is_sp & ~sp_acad] = "special_maintained"
    return setting


def _spells(c: County, rows: dict, setting: np.ndarray) -> dict[str, np.ndarray]:
    """Collapse consecutive rows with the same setting and phase into spells with start and end."""
    pl = c.plan
    start = pl["start"]
    ri, offs, ay, aa, phase = rows["ri"], rows["offs"], rows["ay"], rows["aa"], rows["phase"]
    key = np.array([f"{s}|{p}" for s, p in zip(setting, phase)], dtype=object)
    new = np.ones(len(ri), dtype=bool)
    new[1:] = (ri[1:] != ri[:-1]) | (key[1:] != key[:-1])
    phase_change = np.ones(len(ri), dtype=bool)
    phase_change[1:] = (ri[1:] != ri[:-1]) | (phase[1:] != phase[:-1])
    # spell start: first row of the person -> plan start (or start of the phase for older
    # plans); phase change -> 1 September; a move within a phase -> a date within the year
    first_of_person = offs == 0
    phase_lo = np.select(
        [phase == "early_years", phase == "primary", phase == "secondary", phase == "post16"], [0, 4, 11, 16], 19
    )
    phase_start = _date(ay - (aa - phase_lo), 9, 1)
    spell_start = np.where(
        first_of_person,
        np.maximum(start[ri], np.where(aa >= 4, phase_start, start[ri])),
        np.where(phase_change, rows["row_s"], rows["move_date"]),
    )
    sp_rows = np.flatnonzero(new)
    sp_person = ri[sp_rows]
    sp_start = spell_start[sp_rows]
    ns = len(sp_rows)
    last_of_person = np.ones(ns, dtype=bool)
    last_of_person[:-1] = sp_person[1:] != sp_person[:-1]
    sp_end = np.empty(ns, dtype=np.int64)
    sp_end[:-1] = sp_start[1:] - 1
    sp_end[last_of_person] = pl["end"][sp_person[last_of_person]]  # NA while in force
    sp_end_eff = np.where(sp_end == NA, c.end, sp_end)
    assert (sp_end_eff >= sp_start).all()
    return dict(
        person=sp_person, start=sp_start, end=sp_end, end_eff=sp_end_eff, setting=setting[sp_rows], phase=phase[sp_rows]
    )


def _table(c: County) -> pd.DataFrame:
    """The ``placements`` table, sorted by person and start, with sequence-number ids."""
    sp = c.spells
    pid = c.person_ids[c.plan["pidx"][sp["person"]]]
    df = pd.DataFrame(
        {
            "person_id": pid,
            "setting_type": sp["setting"],
            "phase": sp["phase"],
            "provider_id": sp["provider"],
            "start_date": _to_dates(sp["start"]),
            "end_date": _to_dates(sp["end"]),
            "annual_cost": sp["cost"],
            "out_of_county": sp["ooc"],
        }
    )
    order = np.lexsort((sp["start"], pid))
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "placement_id", _ids("PL", len(df), 6))
    return df
