"""The vectorised projection code computes exactly what the straightforward loops did.

Each test builds a small random projection (fractional float32 draws, so the order of additions
matters) and compares ``PlacementProjection.totals`` / ``.summary`` with a plain reference
implementation written the obvious way. (The sufficiency cascade and ``apply_overflow`` are
checked by their properties in ``test_chain_properties.py``: conservation, capacity and
monotonicity.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
