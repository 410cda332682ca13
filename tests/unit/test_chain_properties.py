"""Properties of the forecast -> sufficiency -> finance chain, on hand-built random cases.

hypothesis is not installed: each property runs over parametrised seeds of numpy random
generators (random projections, capacity tables and scenario settings).

- the cascade conserves children: placed + overflow by destination = demand, for every
  simulation, year and group; nobody is placed above the places (plus the allowance);
- ``apply_overflow`` moves children, never loses or creates them, and never leaves a group negative;
- removing or delaying places never lowers the overflow, nor the deficit (school-age phases,
  where overflow goes to dearer places);
- adding demand never lowers cost.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from test_finance import QUARTER, scenario_dict, tables

from sendlib.models import sufficiency as suff
from sendlib.models.finance import build_base, central_params, parse_scenarios, simulate
from sendlib.models.projection import PlacementProjection

YEARS = [2026, 2027, 2028]
PHASES = ["early_years", "primary", "secondary", "post16"]
NEEDS = ["ASD", "SEMH", "SLCN", "MLD", "HI"]
LOCALITIES = ["north", "city", "south"]
SPECIALIST = ["special_maintained", "special_academy", "resourced_provision"]
TOL = 1e-6


def random_projection(rng: np.random.Generator, n_sims: int = 40, n_groups: int = 60, phases=PHASES):
    g = pd.DataFrame(
        {
            "setting_type": rng.choice(SPECIALIST + ["inmss", "mainstream_academy"], n_groups),
            "phase": rng.choice(phases, n_groups),
            "primary_need": rng.choice(NEEDS, n_groups),
            "locality": rng.choice(LOCALITIES, n_groups),
            "age_group": rng.choice(["under_5", "5_10", "11_15", "16_19"], n_groups),
        }
    ).drop_duplicates(ignore_index=True)
    draws = rng.gamma(2.0, rng.uniform(1, 12, len(g)), (n_sims, len(YEARS), len(g))).astype(np.float32)
    return PlacementProjection(years=list(YEARS), groups=g, draws=draws)


def random_capacity(rng: np.random.Generator, phases=PHASES) -> pd.DataFrame:
    rows = []
    n = 0
    for phase in phases:
        for des in ("ASD", "SEMH", "mixed", "MLD"):
            for loc in LOCALITIES[: rng.integers(1, 4)]:
                n += 1
                pipeline = rng.random() < 0.3
                rows.append(
                    {
                        "setting_id": f"S{n}",
                        "name": f"School {n}",
                        "setting_type": rng.choice(SPECIALIST),
                        "phase": phase,
                        "designation": des,
                        "locality": loc,
                        "places": int(rng.integers(1, 40)),
                        "open_date": "2026-09-01" if pipeline else "2015-09-01",
                        "close_date": None,
                        "status": "pipeline" if pipeline else "open",
                    }
                )
    return suff._as_capacity(pd.DataFrame(rows))


def random_scenario(rng: np.random.Generator, phases=PHASES, **kw) -> suff.SufficiencyScenario:
    base = dict(
        name="random",
        phases=tuple(phases),
        designation_map={"ASD": "ASD", "SEMH": "SEMH", "MLD": "MLD", "HI": "HI"},
        unmatched_designation="mixed",
        match_within=str(rng.choice(["county", "locality"])),
        cross_designation=str(rng.choice(["none", "mixed", "any"])),
        over_admission_pct=float(rng.choice([0.0, 5.0])),
        overflow_out_of_county_pct=float(rng.uniform(0, 60)),
        post16_overflow_split={"specialist_post16": 70.0, "fe_college": 30.0},
    )
    base.update(kw)
    return suff.SufficiencyScenario(**base)


def random_placements(rng: np.random.Generator, capacity: pd.DataFrame, n: int = 300) -> pd.DataFrame:
    """Placements in force at the January 2025 census, some out of county."""
    return pd.DataFrame(
        {
            "setting_type": rng.choice(SPECIALIST, n),
            "phase": rng.choice(PHASES, n),
            "provider_id": rng.choice(capacity["setting_id"].astype(str), n),
            "start_date": pd.Timestamp("2024-09-01"),
            "end_date": pd.NaT,
            "annual_cost": 20_000.0,
            "out_of_county": rng.random(n) < 0.2,
        }
    )


SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_cascade_conserves_children_and_respects_places(seed):
    rng = np.random.default_rng(seed)
    p, cap = random_projection(rng), random_capacity(rng)
    sc = random_scenario(rng)
    s = suff.assess(p, cap, sc, random_placements(rng, cap))
    total_over = sum(s.overflow_to[d] for d in suff.DESTINATIONS)
    # placed + overflow by destination = demand, every simulation, year and group
    np.testing.assert_allclose(s.placed + total_over, s.demand, atol=TOL)
    assert (s.placed >= -TOL).all() and (s.placed <= s.demand + TOL).all()
    assert all((s.overflow_to[d] >= -TOL).all() for d in suff.DESTINATIONS)
    # per phase: children in local places = children placed <= places x (1 + allowance)
    keys, c, a = s.rollup_all(["phase"])
    allow = 1 + sc.over_admission_pct / 100
    np.testing.assert_allclose(a["placed"], a["occupied"], atol=1e-6)
    assert (a["placed"] <= c[None] * allow + TOL).all()
    assert (a["overflow"] >= a["demand"] - c[None] * allow - TOL).all()
    # each group's own places are never over-filled
    assert (s.occupied <= s.capacity[None] * allow + TOL).all()
    # the table's phase total rows say the same
    t = s.table(["phase", "designation"])
    tot = t[t["designation"] == "all"]
    assert (tot["placed_mean"] <= tot["capacity_places"] * allow + TOL).all()
    assert (tot["overflow_mean"] >= tot["demand_mean"] - tot["capacity_places"] * allow - TOL).all()
    assert (tot["overflow_mean"] <= tot["demand_mean"] + TOL).all()
    assert (tot["utilisation_pct"].dropna() <= 100 * allow + TOL).all()
    dests = tot[[f"overflow_{d}_mean" for d in suff.DESTINATIONS]].sum(axis=1)
    np.testing.assert_allclose(dests, tot["overflow_mean"], atol=1e-6)
    np.testing.assert_allclose(tot["placed_mean"] + tot["overflow_mean"], tot["demand_mean"], atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_overflow_goes_where_its_phase_sends_it(seed):
    rng = np.random.default_rng(100 + seed)
    p, cap = random_projection(rng), random_capacity(rng)
    s = suff.assess(p, cap, random_scenario(rng))
    phase = s.keys["phase"].to_numpy()
    ey, p16 = phase == "early_years", phase == "post16"
    assert np.allclose(s.overflow_to["inmss"][:, :, ey | p16], 0)
    assert np.allclose(s.overflow_to["out_of_county"][:, :, ey | p16], 0)
    assert np.allclose(s.overflow_to["early_years"][:, :, ~ey], 0)
    assert np.allclose(s.overflow_to["post16"][:, :, ~p16], 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_apply_overflow_moves_children_and_never_loses_them(seed):
    rng = np.random.default_rng(200 + seed)
    p, cap = random_projection(rng), random_capacity(rng)
    sc = random_scenario(rng)
    placements = random_placements(rng, cap)
    after = suff.apply_overflow(p, cap, sc, placements)
    np.testing.assert_allclose(after.draws.sum(axis=2), p.draws.sum(axis=2), rtol=1e-5)
    assert (after.draws >= 0).all()
    s = suff.assess(p, cap, sc, placements)
    moved = p.draws.sum() - after.draws[:, :, : p.draws.shape[2]][:, :, s.group_key >= 0].sum()
    # what left the local specialist groups is the overflow that changes setting type
    to_elsewhere = sum(s.overflow_to[d].sum() for d in ("inmss", "post16", "early_years"))
    kept = p.draws[:, :, s.group_key < 0].sum()
    np.testing.assert_allclose(moved - kept, to_elsewhere, rtol=1e-4)


def _phase_overflow(p, cap, sc, placements=None) -> np.ndarray:
    s = suff.assess(p, cap, sc, placements)
    keys, _, a = s.rollup_all(["phase"])
    return keys["phase"].tolist(), a["overflow"]


@pytest.mark.parametrize("seed", SEEDS)
def test_removing_places_never_lowers_overflow(seed):
    rng = np.random.default_rng(300 + seed)
    p, cap = random_projection(rng), random_capacity(rng)
    sc = random_scenario(rng, cross_designation=str(rng.choice(["mixed", "any"])))
    fewer = cap.copy()
    drop = rng.random(len(cap)) < 0.3
    fewer.loc[drop, "places"] = (fewer.loc[drop, "places"] * rng.uniform(0, 0.9, drop.sum())).round().clip(1)
    fewer = fewer.astype({"places": "Int64"})
    fewer = fewer[~(rng.random(len(fewer)) < 0.1)]  # and some settings gone
    k0, before = _phase_overflow(p, cap, sc)
    k1, after = _phase_overflow(p, fewer, sc)
    common = [k for k in k0 if k in k1]
    for k in common:
        assert (after[:, :, k1.index(k)] >= before[:, :, k0.index(k)] - TOL).all(), k


@pytest.mark.parametrize("seed", SEEDS)
def test_delaying_the_pipeline_never_lowers_overflow(seed):
    rng = np.random.default_rng(400 + seed)
    p, cap = random_projection(rng), random_capacity(rng)
    sc = random_scenario(rng)
    late = suff.SufficiencyScenario(**{**sc.__dict__, "pipeline_delay_years": 1})
    k0, before = _phase_overflow(p, cap, sc)
    k1, after = _phase_overflow(p, cap, late)
    assert k0 == k1
    assert (after >= before - TOL).all()
    # the delayed places are really missing in 2027 (the pipeline opens in September 2026)
    if (cap["status"] == "pipeline").any():
        placed0 = suff.assess(p, cap, sc).capacity.sum(axis=1)
        placed1 = suff.assess(p, cap, late).capacity.sum(axis=1)
        assert placed1[1] < placed0[1]


# ----- finance --------------------------------------------------------------------------------------


def _finance_scenario():
    d = copy.deepcopy(scenario_dict())
    return parse_scenarios(d)


def _school_age_projection(rng: np.random.Generator) -> PlacementProjection:
    p = random_projection(rng, n_sims=20, phases=["primary", "secondary"])
    return p


@pytest.mark.parametrize("seed", range(6))
def test_removing_places_never_lowers_the_deficit(seed):
    # School-age overflow goes to INMSS (dearer than the special places in the fixture:
    # inmss GBP 50,000 against special_maintained GBP 20,000), so fewer places cost more.
    rng = np.random.default_rng(500 + seed)
    p = _school_age_projection(rng)
    p.draws[:, 0, :] = p.draws[:, 0, :]  # base census is the first projected year
    p = PlacementProjection(years=[2026, 2027, 2028], groups=p.groups, draws=p.draws)
    cap = random_capacity(rng, phases=["primary", "secondary"])
    sc = random_scenario(rng, phases=("primary", "secondary"), overflow_out_of_county_pct=0.0)
    fewer = cap.copy()
    fewer["places"] = (fewer["places"] * 0.5).round().clip(1).astype("Int64")
    sf = _finance_scenario()
    unm = sf.scenarios["unmitigated"]
    balances = []
    for c in (cap, fewer):
        demand = suff.apply_overflow(p, c, sc)
        base = build_base(sf, demand, tables(), QUARTER, horizon=2)
        # every setting type costs what the fixture's lines say; give the specialist types the
        # special school unit cost and INMSS its own, so the comparison is like for like
        uc = dict(zip(base.settings, base.unit_cost))
        base.unit_cost = np.array([uc["inmss"] if s == "inmss" else uc["special_maintained"] for s in base.settings])
        balances.append(simulate(base, unm, central_params(unm)).cumulative[0])
    assert (balances[1][1:] <= balances[0][1:] + 1).all()


@pytest.mark.parametrize("seed", range(6))
def test_adding_demand_never_lowers_cost(seed):
    rng = np.random.default_rng(600 + seed)
    sf = _finance_scenario()
    p = _school_age_projection(rng)
    base = build_base(sf, p, tables(), QUARTER, horizon=2)
    for name in sf.names:
        sc = sf.scenarios[name]
        params = central_params(sc)
        counts = base.central_counts
        extra = counts + rng.uniform(0, 30, counts.shape) * (np.arange(counts.shape[1]) >= 1)[None, :, None]
        lo = simulate(base, sc, params, counts).expenditure_total
        hi = simulate(base, sc, params, extra).expenditure_total
        assert (hi >= lo - 1).all(), name
