"""The vectorised projection / sufficiency code computes exactly what the straightforward loops did.

Each test builds a small random projection (fractional float32 draws, so the order of additions
matters) and compares ``PlacementProjection.totals`` / ``.summary``, ``sufficiency.apply_overflow``
and ``Sufficiency.table`` with a plain reference implementation written the obvious way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sendlib.models import sufficiency as suff
from sendlib.models.projection import GROUP_COLUMNS, PlacementProjection, group_sums

YEARS = [2026, 2027, 2028, 2029]
SETTINGS = ["mainstream_maintained", "special_maintained", "special_academy", "resourced_provision", "inmss"]
PHASES = ["primary", "secondary", "post16"]
NEEDS = ["ASD", "SEMH", "SLCN", "MLD"]
LOCALITIES = ["north", "city", "south"]
AGES = ["5_10", "11_15", "16_19"]


def _projection(seed: int = 0, n_sims: int = 40, n_groups: int = 150, dtype=np.float32) -> PlacementProjection:
    rng = np.random.default_rng(seed)
    rows = {c: rng.choice(v, n_groups) for c, v in zip(GROUP_COLUMNS, [SETTINGS, PHASES, NEEDS, LOCALITIES, AGES])}
    groups = pd.DataFrame(rows).drop_duplicates().reset_index(drop=True)
    # some inmss groups exist already, others must be created by the overflow
    draws = rng.gamma(2.0, 6.0, size=(n_sims, len(YEARS), len(groups))).astype(dtype)
    draws[:, :, rng.random(len(groups)) < 0.1] = 0  # empty groups
    history = pd.DataFrame(
        {
            "year": [2025] * len(groups),
            **{c: groups[c] for c in GROUP_COLUMNS},
            "count": rng.integers(0, 30, len(groups)),
        }
    )
    return PlacementProjection(years=list(YEARS), groups=groups, draws=draws, history=history, label="t")


# ----- reference implementations (the loops the vectorised code replaced) ------------------------


def _ref_totals(p: PlacementProjection, by):
    if not by:
        return pd.DataFrame(index=[0]), p.draws.sum(axis=2, keepdims=True)
    keys = p.groups[list(by)].drop_duplicates().sort_values(list(by)).reset_index(drop=True)
    code = p.groups[list(by)].merge(keys.reset_index(), on=list(by), how="left")["index"].to_numpy()
    out = np.zeros(p.draws.shape[:2] + (len(keys),), dtype=np.float64)
    for k in range(len(keys)):
        out[:, :, k] = p.draws[:, :, code == k].sum(axis=2)
    return keys, out


def _ref_summary(p: PlacementProjection, by=None, intervals=(0.8, 0.95)):
    keys, tot = _ref_totals(p, by)
    rows = []
    for k in range(tot.shape[2]):
        for j, year in enumerate(p.years):
            x = tot[:, j, k]
            row = {"year": year}
            if by:
                row.update(keys.iloc[k].to_dict())
            row["median"] = float(np.median(x))
            for level in intervals:
                pct = int(round(level * 100))
                lo, hi = np.quantile(x, [(1 - level) / 2, 1 - (1 - level) / 2])
                row[f"lower_{pct}"] = float(lo)
                row[f"upper_{pct}"] = float(hi)
            rows.append(row)
    return pd.DataFrame(rows)


def _ref_apply_overflow(projection, capacity_frame, scenario):
    s = suff.assess(projection, capacity_frame, scenario)
    over = s.overflow
    groups = projection.groups.copy()
    draws = projection.draws.astype(np.float64, copy=True)
    gk = s.group_key
    moved = np.zeros_like(draws)
    for k in range(len(s.keys)):
        m = gk == k
        if not m.any():
            continue
        total = s.demand[:, :, k]
        share = np.divide(
            draws[:, :, m], total[:, :, None], out=np.zeros_like(draws[:, :, m]), where=total[:, :, None] > 0
        )
        moved[:, :, m] = share * over[:, :, k][:, :, None]
    moved = np.minimum(moved, draws)
    draws -= moved
    match_cols = [c for c in GROUP_COLUMNS if c != "setting_type"]
    sources = np.flatnonzero(moved.reshape(-1, moved.shape[2]).sum(axis=0) > 0)
    if len(sources):
        tuples = list(groups[match_cols].astype(str).itertuples(index=False, name=None))
        is_target = (groups["setting_type"] == suff.OVERFLOW_SETTING).to_numpy()
        target_index = {t: i for i, t in enumerate(tuples) if is_target[i]}
        new_rows = []
        targets = np.empty(len(sources), dtype=int)
        for n, gi in enumerate(sources):
            keyv = tuples[gi]
            if keyv not in target_index:
                row = groups.iloc[gi].copy()
                row["setting_type"] = suff.OVERFLOW_SETTING
                target_index[keyv] = len(groups) + len(new_rows)
                new_rows.append(row)
            targets[n] = target_index[keyv]
        if new_rows:
            groups = pd.concat([groups, pd.DataFrame(new_rows)], ignore_index=True)
            draws = np.concatenate([draws, np.zeros(draws.shape[:2] + (len(new_rows),))], axis=2)
        for n, gi in enumerate(sources):
            draws[:, :, targets[n]] += moved[:, :, gi]
    return projection.with_draws(draws.astype(projection.draws.dtype, copy=False), groups=groups)


def _ref_table(s: suff.Sufficiency, by=suff.KEY, interval=0.8):
    keys, d, c, o = s.rollup(by)
    pct = int(round(interval * 100))
    qs = [(1 - interval) / 2, 0.5, 1 - (1 - interval) / 2]
    dq = np.quantile(d, qs, axis=0)
    oq = np.quantile(o, qs, axis=0)
    short = (d > c[None, :, :]).mean(axis=0)
    omean = o.mean(axis=0)
    rows = []
    for k in range(d.shape[2]):
        key = keys.iloc[k].to_dict() if by else {}
        for j, year in enumerate(s.years):
            cap = float(c[j, k])
            row = {"scenario": s.scenario, "year": int(year), **key}
            row.update(
                {
                    "demand_median": float(dq[1, j, k]),
                    f"demand_lower_{pct}": float(dq[0, j, k]),
                    f"demand_upper_{pct}": float(dq[2, j, k]),
                    "capacity_places": cap,
                    "gap_median": float(dq[1, j, k] - cap),
                    f"gap_lower_{pct}": float(dq[0, j, k] - cap),
                    f"gap_upper_{pct}": float(dq[2, j, k] - cap),
                    "utilisation_pct": float(dq[1, j, k] / cap * 100.0) if cap > 0 else np.nan,
                    "prob_shortfall": float(short[j, k]),
                    "overflow_median": float(oq[1, j, k]),
                    f"overflow_lower_{pct}": float(oq[0, j, k]),
                    f"overflow_upper_{pct}": float(oq[2, j, k]),
                    "overflow_mean": float(omean[j, k]),
                }
            )
            rows.append(row)
    out = pd.DataFrame(rows)
    out["first_gap_year"] = suff.first_gap_year(out, list(by) if by else [])
    return out


# ----- capacity and scenario ----------------------------------------------------------------------


def _capacity() -> pd.DataFrame:
    rows = []
    n = 0
    for phase in PHASES:
        for des in ("asd", "semh", "mixed"):
            for loc in LOCALITIES[:2]:  # no places in "south": everything there overflows
                n += 1
                rows.append(
                    {
                        "setting_id": f"S{n}",
                        "name": f"School {n}",
                        "setting_type": "special_maintained",
                        "phase": phase,
                        "designation": des,
                        "locality": loc,
                        "places": 20 + 7 * n,
                        "open_date": "2015-09-01",
                        "close_date": None,
                        "status": "open",
                    }
                )
    rows.append(
        {
            "setting_id": "P1",
            "name": "New school",
            "setting_type": "special_academy",
            "phase": "primary",
            "designation": "asd",
            "locality": "south",
            "places": 30,
            "open_date": "2027-09-01",
            "close_date": None,
            "status": "pipeline",
        }
    )
    return suff._as_capacity(pd.DataFrame(rows))


def _scenario(match_within: str = "locality", baseline: str = "none") -> suff.SufficiencyScenario:
    return suff.SufficiencyScenario(
        name=f"test {match_within} {baseline}",
        phases=tuple(PHASES),
        designation_map={"ASD": "asd", "SEMH": "semh"},
        unmatched_designation="mixed",
        match_within=match_within,
        baseline_excess=baseline,
    )


# ----- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "by", [None, ["setting_type"], ["age_group"], ["primary_need"], ["phase", "locality"], list(GROUP_COLUMNS)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_totals_identical_to_loop(by, dtype):
    p = _projection(seed=1, dtype=dtype)
    keys, tot = p.totals(by)
    rkeys, rtot = _ref_totals(p, by)
    pd.testing.assert_frame_equal(keys, rkeys)
    assert tot.dtype == rtot.dtype
    np.testing.assert_array_equal(tot, rtot)  # to the last bit


def test_group_sums_matches_mask_sums_with_gaps_and_many_blocks():
    rng = np.random.default_rng(7)
    draws = rng.random((150, 3, 400)).astype(np.float32) * 10  # > one block of simulations
    code = rng.integers(-1, 9, 400)  # -1 = out of scope; key 9 never used
    out = group_sums(draws, code, 10)
    for k in range(10):
        np.testing.assert_array_equal(out[:, :, k], draws[:, :, code == k].sum(axis=2))
    assert out.dtype == np.float64


@pytest.mark.parametrize("by", [None, ["setting_type"], ["primary_need"], ["phase", "locality"]])
def test_summary_identical_to_loop(by):
    p = _projection(seed=2)
    got = p.summary(by)
    want = _ref_summary(p, by)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    got = p.summary(by, intervals=(0.5,))
    pd.testing.assert_frame_equal(got, _ref_summary(p, by, intervals=(0.5,)), check_exact=True)


@pytest.mark.parametrize("match_within,baseline", [("locality", "none"), ("county", "none"), ("locality", "hold")])
def test_apply_overflow_identical_to_loop(match_within, baseline):
    p = _projection(seed=3, n_sims=60, n_groups=220)
    cap, sc = _capacity(), _scenario(match_within, baseline)
    got = suff.apply_overflow(p, cap, sc)
    want = _ref_apply_overflow(p, cap, sc)
    assert len(got.groups) > len(p.groups)  # the test exercises new inmss groups
    pd.testing.assert_frame_equal(got.groups, want.groups)
    assert got.draws.dtype == want.draws.dtype == p.draws.dtype
    np.testing.assert_array_equal(got.draws, want.draws)
    # children are moved, not lost
    np.testing.assert_allclose(got.draws.sum(axis=2), p.draws.sum(axis=2), rtol=1e-5)


def test_apply_overflow_identical_with_ample_places():
    p = _projection(seed=4)
    cap = _capacity()
    cap["places"] = (cap["places"] * 1000).astype("Int64")
    sc = _scenario()
    got = suff.apply_overflow(p, cap, sc)
    want = _ref_apply_overflow(p, cap, sc)
    pd.testing.assert_frame_equal(got.groups, want.groups)
    np.testing.assert_array_equal(got.draws, want.draws)


@pytest.mark.parametrize("by", [None, ["phase"], ["phase", "designation"], list(suff.KEY)])
@pytest.mark.parametrize("match_within", ["locality", "county"])
def test_table_identical_to_rows(by, match_within):
    p = _projection(seed=5)
    s = suff.assess(p, _capacity(), _scenario(match_within))
    got = s.table(by)
    want = _ref_table(s, by)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    if by and "locality" in by:
        assert got["utilisation_pct"].isna().any()  # groups without places: empty utilisation
    pd.testing.assert_frame_equal(s.table(by, interval=0.9), _ref_table(s, by, interval=0.9), check_exact=True)
