"""The scale benchmarks' tiler (benchmarks/national.py): k copies of the county with distinct ids.

Two copies of the shipped county must have unique keys, every reference resolving inside its own
copy, the loaders' dtypes, and KPI counts doubled with percentages unchanged. No timings here:
the benchmarks themselves run on demand (``make bench``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from sendlib.core.schema import TABLES
from sendlib.data.loaders import load_tables, resolve_quarter
from sendlib.models.kpi import compute_kpis

REPO = Path(__file__).resolve().parents[2]

#: references the tiler must keep: (table, column) -> (table, column) it points at
REFERENCES = [
    (("placements", "person_id"), ("ehcp_plans", "person_id")),
    (("ehcp_plans", "request_id"), ("ehcp_requests", "request_id")),
    (("ehcp_requests", "person_id"), ("ehcp_plans", "person_id")),
    (("annual_reviews", "person_id"), ("ehcp_plans", "person_id")),
    (("transitions", "person_id"), ("ehcp_plans", "person_id")),
    (("exclusions", "person_id"), ("ehcp_plans", "person_id")),
    (("placements", "provider_id"), ("capacity", "setting_id")),
]


@pytest.fixture(scope="module")
def national():
    spec = importlib.util.spec_from_file_location("bench_national", REPO / "benchmarks" / "national.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_national"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def county(shipped_data_dir, default_config):
    cfg = default_config.with_data_dir(shipped_data_dir)
    tables = load_tables(cfg)
    return cfg, tables, resolve_quarter("latest", cfg, tables)


@pytest.fixture(scope="module")
def doubled(national, county):
    return national.tile_tables(county[1], 2)


def test_id_columns_come_from_the_schema(national):
    ids = national.id_columns()
    assert ids["ehcp_plans"] == ["person_id", "request_id"]
    assert ids["placements"] == ["placement_id", "person_id", "provider_id"]  # provider_id via capacity.setting_id
    assert ids["capacity"] == ["setting_id"]
    assert "locality" not in sum(ids.values(), [])
    assert set(national.scaled_columns()) == {"population", "school_population", "hnb_budget", "dsg_income"}


def test_two_copies_have_unique_keys_and_twice_the_ids(national, county, doubled):
    base = county[1]
    for name, cols in national.id_columns().items():
        assert len(doubled[name]) == 2 * len(base[name]), name
        assert not doubled[name].duplicated(list(TABLES[name].key)).any(), f"{name}: duplicate key"
        for col in cols:
            assert doubled[name][col].nunique() == 2 * base[name][col].nunique(), f"{name}.{col}"
            assert doubled[name][col].isna().sum() == 2 * base[name][col].isna().sum(), f"{name}.{col}"
    for name in national.scaled_columns():  # aggregates: one row per key, numbers doubled
        assert len(doubled[name]) == len(base[name])


def test_references_resolve_within_each_copy(county, doubled):
    base = county[1]
    for (tab, col), (ref_tab, ref_col) in REFERENCES:

        def resolved(t, tab=tab, col=col, ref_tab=ref_tab, ref_col=ref_col):
            vals = t[tab][col].dropna()
            return int(vals.isin(set(t[ref_tab][ref_col].dropna())).sum())

        n = resolved(base)
        assert n > 0, f"{tab}.{col}: nothing to check"
        assert resolved(doubled) == 2 * n, f"{tab}.{col} -> {ref_tab}.{ref_col}"
    # the second copy's rows point at the second copy's ids
    pl, plans = doubled["placements"], doubled["ehcp_plans"]
    second = pl["person_id"].str.endswith("#1")
    assert second.sum() == len(base["placements"])
    assert pl.loc[second, "person_id"].isin(set(plans.loc[plans["person_id"].str.endswith("#1"), "person_id"])).all()


def test_dtypes_are_the_loaders(county, doubled):
    for name, df in county[1].items():
        assert dict(doubled[name].dtypes) == dict(df.dtypes), name


def test_kpis_on_two_copies_double_the_counts(national, county, doubled):
    cfg, base_tables, quarter = county
    base = compute_kpis(base_tables, quarter, cfg).set_index("kpi")
    two = compute_kpis(doubled, quarter, cfg).set_index("kpi")
    assert base.loc["K4", "numerator"] > 1000
    assert two.loc["K4", "numerator"] == 2 * base.loc["K4", "numerator"]
    assert two.loc["K4", "value"] == 2 * base.loc["K4", "value"]
    assert two.loc["K1", "denominator"] == 2 * base.loc["K1", "denominator"]
    assert two.loc["K5_mainstream_pct", "numerator"] == 2 * base.loc["K5_mainstream_pct", "numerator"]
    assert two.loc["K5_mainstream_pct", "value"] == pytest.approx(base.loc["K5_mainstream_pct", "value"])
    assert two.loc["K4_rate_per_10k", "value"] == pytest.approx(base.loc["K4_rate_per_10k", "value"])
    national.check_scaled_kpis(base.reset_index(), two.reset_index(), 2)


def test_the_check_catches_a_tiler_that_reuses_ids(national, county):
    """Copies without distinct ids count each child once: K4 does not double and the check fails."""
    cfg, base_tables, quarter = county
    naive = {
        n: (pd.concat([df, df], ignore_index=True) if n in national.id_columns() else df)
        for n, df in base_tables.items()
    }
    with pytest.raises(AssertionError, match="K"):
        national.check_scaled_kpis(compute_kpis(base_tables, quarter, cfg), compute_kpis(naive, quarter, cfg), 2)
