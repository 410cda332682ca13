"""Placement sufficiency: hand-worked small cases (expected values worked out by hand)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sendlib.core.errors import UsageError
from sendlib.models.projection import PlacementProjection
from sendlib.models.sufficiency import (
    SufficiencyScenario,
    apply_overflow,
    assess,
    assumptions_table,
    capacity_in_scenario,
    census_day,
    compare_scenarios,
    current_occupancy,
    load_scenario,
    overflow_draws,
    overflow_summary,
    parse_scenario,
    pipeline_timeline,
    places_by_year,
)

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "config" / "scenarios"


# ----- small builders ---------------------------------------------------------------------------


def cap_row(
    setting_id,
    places,
    open_date,
    close_date=None,
    status="open",
    phase="primary",
    designation="ASD",
    locality="north",
    setting_type="special_maintained",
    name=None,
):
    return {
        "setting_id": setting_id,
        "name": name or setting_id,
        "setting_type": setting_type,
        "phase": phase,
        "designation": designation,
        "locality": locality,
        "places": places,
        "open_date": pd.Timestamp(open_date),
        "close_date": pd.NaT if close_date is None else pd.Timestamp(close_date),
        "status": status,
    }


def capacity(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def scenario(**kw) -> SufficiencyScenario:
    base = dict(
        name="test",
        phases=("primary", "secondary"),
        designation_map={"ASD": "ASD", "SLD": "mixed", "MLD": "mixed", "HI": "HI"},
        unmatched_designation="mixed",
        cross_designation="none",  # designated places only, unless a test says otherwise
    )
    base.update(kw)
    return SufficiencyScenario(**base)


def projection(groups: list[dict], draws, years=(2026, 2027)) -> PlacementProjection:
    g = pd.DataFrame(
        [
            {
                "setting_type": "special_maintained",
                "phase": "primary",
                "primary_need": "ASD",
                "locality": "north",
                "age_group": "5_10",
                **x,
            }
            for x in groups
        ]
    )
    return PlacementProjection(years=list(years), groups=g, draws=np.asarray(draws, dtype=np.float32))


RAW_SCENARIO = {
    "name": "t",
    "source": "test",
    "as_of": "2026-11-23",
    "phases": {"value": ["primary"], "source": "s"},
    "designation_map": {"value": {"ASD": "ASD"}, "source": "s"},
    "unmatched_designation": {"value": "mixed", "source": "s"},
    "usable_places_pct": {"value": 100, "source": "s"},
    "match_within": {"value": "locality", "source": "s"},
    "over_admission_pct": {"value": 0, "source": "s"},
    "cross_designation": {"value": "none", "source": "s"},
    "out_of_county_return_pct": {"value": 0, "source": "s"},
    "overflow_out_of_county_pct": {"value": 0, "source": "s"},
    "post16_overflow_split": {"value": {"specialist_post16": 50, "fe_college": 50}, "source": "s"},
    "early_years_overflow_setting": {"value": "mainstream_maintained", "source": "s"},
    "include_proposed": {"value": False, "source": "s"},
}


# ----- supply: when places count --------------------------------------------------------------


def test_census_day_is_third_thursday_of_january():
    assert census_day(2026) == pd.Timestamp("2026-01-15")
    assert census_day(2025) == pd.Timestamp("2025-01-16")


def test_mid_year_opening_counts_from_the_next_census():
    # Census days: 16 Jan 2025, 15 Jan 2026, 21 Jan 2027.
    # A base opening in April 2025 is not there on 16 Jan 2025, is there on 15 Jan 2026.
    # One opening on census day itself counts that year (open_date <= census day).
    cap = capacity(cap_row("RB1", 8, "2025-04-22"), cap_row("RB2", 8, "2026-01-15"), cap_row("RB3", 8, "2026-01-16"))
    got = places_by_year(cap, [2025, 2026, 2027], by=["setting_id"])
    wide = got.pivot(index="setting_id", columns="year", values="places")
    assert wide.loc["RB1"].tolist() == [0, 8, 8]
    assert wide.loc["RB2"].tolist() == [0, 8, 8]
    assert wide.loc["RB3"].tolist() == [0, 0, 8]


def test_closure_removes_places_from_its_date():
    # 100 places closing 31 Aug 2026 count on 15 Jan 2026, not on 21 Jan 2027.
    # Closing on census day itself: gone that census (close_date > census day is required).
    cap = capacity(
        cap_row("SS1", 100, "2010-09-01", close_date="2026-08-31"),
        cap_row("SS2", 50, "2010-09-01", close_date="2027-01-21"),
        cap_row("SS3", 20, "2010-09-01"),
    )
    got = places_by_year(cap, [2026, 2027], by=["phase"])
    assert got["places"].tolist() == [170, 20]


def test_usable_places_pct_scales_places():
    cap = capacity(cap_row("SS1", 80, "2010-09-01"))
    got = places_by_year(cap, [2026], by=["phase"], usable_places_pct=105)
    assert got["places"].tolist() == [84]


def test_proposed_places_count_only_when_the_scenario_includes_them():
    cap = capacity(
        cap_row("SS1", 100, "2010-09-01"),
        cap_row("NEW1", 60, "2026-09-01", status="proposed"),
        cap_row("NEW2", 40, "2026-09-01", status="proposed"),
        cap_row("PIPE", 8, "2026-09-01", status="pipeline"),
    )
    assert sorted(capacity_in_scenario(cap, scenario())["setting_id"]) == ["PIPE", "SS1"]
    assert sorted(capacity_in_scenario(cap, scenario(include_proposed=True))["setting_id"]) == [
        "NEW1",
        "NEW2",
        "PIPE",
        "SS1",
    ]
    assert sorted(capacity_in_scenario(cap, scenario(include_setting_ids=("NEW2",)))["setting_id"]) == [
        "NEW2",
        "PIPE",
        "SS1",
    ]


# ----- demand, gap, probability of shortfall ----------------------------------------------------


def test_gap_utilisation_first_gap_year_and_probability_of_shortfall():
    # One group (primary ASD north), 10 places in both years; 4 simulations.
    # 2026 demand 8, 9, 10, 11 -> median 9.5, gap -0.5, 1 of 4 sims above 10 -> p = 0.25
    # 2027 demand 10, 12, 13, 15 -> median 12.5, gap 2.5, 3 of 4 above 10 -> p = 0.75
    proj = projection([{}], [[[8], [10]], [[9], [12]], [[10], [13]], [[11], [15]]])
    cap = capacity(cap_row("SS1", 10, "2010-09-01"))
    t = assess(proj, cap, scenario()).table(totals=False)
    assert t["year"].tolist() == [2026, 2027]
    assert t["demand_median"].tolist() == [9.5, 12.5]
    assert t["capacity_places"].tolist() == [10, 10]
    assert t["gap_median"].tolist() == [-0.5, 2.5]
    # utilisation: mean children in the places / places: 2026 (8+9+10+10)/4 = 9.25; 2027 full
    assert t["utilisation_pct"].tolist() == [92.5, 100.0]
    assert t["placed_mean"].tolist() == [9.25, 10.0]
    assert t["prob_shortfall"].tolist() == [0.25, 0.75]
    assert t["first_gap_year"].tolist() == [2027, 2027]
    # overflow per sim 2026: 0,0,0,1 -> mean 0.25; 2027: 0,2,3,5 -> mean 2.5, median 2.5
    assert t["overflow_mean"].tolist() == [0.25, 2.5]
    assert t["overflow_median"].tolist() == [0.0, 2.5]


def test_demand_groups_by_designation_with_fallback_to_mixed():
    # HI maps to HI, but there is no primary HI setting: HI children count against mixed.
    # MLD maps to mixed. SEMH is not in the map: mixed. Mainstream and INMSS are not specialist demand.
    groups = [
        {"primary_need": "ASD"},
        {"primary_need": "HI"},
        {"primary_need": "MLD"},
        {"primary_need": "SEMH", "setting_type": "special_academy"},
        {"primary_need": "ASD", "setting_type": "mainstream_academy"},
        {"primary_need": "ASD", "setting_type": "inmss"},
        {"primary_need": "ASD", "phase": "post19"},
    ]
    proj = projection(groups, [[[5, 1, 2, 3, 40, 7, 9]]], years=(2026,))
    cap = capacity(cap_row("A", 4, "2010-01-01"), cap_row("M", 10, "2010-01-01", designation="mixed"))
    t = assess(proj, cap, scenario()).table(["designation"], totals=False)
    assert dict(zip(t["designation"], t["demand_median"])) == {"ASD": 5, "mixed": 6}
    assert dict(zip(t["designation"], t["gap_median"])) == {"ASD": 1, "mixed": -4}


def test_rollup_nets_gap_but_adds_overflow():
    # North: 12 children, 10 places (overflow 2); south: 3 children, 10 places (spare 7).
    # County: demand 15, capacity 20, gap -5, but overflow 2 (spare south places do not absorb it).
    proj = projection([{"locality": "north"}, {"locality": "south"}], [[[12, 3]]], years=(2026,))
    cap = capacity(cap_row("N", 10, "2010-01-01"), cap_row("S", 10, "2010-01-01", locality="south"))
    suff = assess(proj, cap, scenario())
    total = suff.table(None)
    assert total[["demand_median", "capacity_places", "gap_median", "overflow_median"]].iloc[0].tolist() == [
        15,
        20,
        -5,
        2,
    ]
    by_loc = suff.table(["locality"])
    assert by_loc["overflow_median"].tolist() == [2, 0]
    assert overflow_summary(suff, by=None)["overflow_median"].tolist() == [2]


def test_county_matching_lets_spare_places_elsewhere_absorb_demand():
    # Same as above but places anywhere in the county will do: county demand 15 vs 20 places,
    # so no overflow. With north 14 and south 9 (23 vs 20): county overflow 3, shared 14:9 ->
    # 3 x 14/23 to north and 3 x 9/23 to south.
    proj = projection([{"locality": "north"}, {"locality": "south"}], [[[12, 3]], [[14, 9]]], years=(2026,))
    cap = capacity(cap_row("N", 10, "2010-01-01"), cap_row("S", 10, "2010-01-01", locality="south"))
    suff = assess(proj, cap, scenario(match_within="county"))
    np.testing.assert_allclose(suff.overflow[:, 0, :], [[0, 0], [3 * 14 / 23, 3 * 9 / 23]])
    out = apply_overflow(proj, cap, scenario(match_within="county"))
    np.testing.assert_allclose(out.draws[1, 0], [14 - 42 / 23, 9 - 27 / 23, 42 / 23, 27 / 23], rtol=1e-6)
    np.testing.assert_allclose(out.draws.sum(axis=2), proj.draws.sum(axis=2))


def test_no_frozen_excess_every_child_above_places_overflows():
    # January 2026 census (history): 13 children in 10 places. Projected 2027: 15 children.
    # Nothing is held: overflow is 15 - 10 = 5, equal to the gap, and all 5 move to INMSS.
    proj = projection([{}], [[[15]]], years=(2027,))
    proj.history = pd.DataFrame(
        [
            {
                "year": 2026,
                "setting_type": "special_maintained",
                "phase": "primary",
                "primary_need": "ASD",
                "locality": "north",
                "age_group": "5_10",
                "count": 13,
            }
        ]
    )
    cap = capacity(cap_row("A", 10, "2010-01-01"))
    t = assess(proj, cap, scenario()).table(totals=False)
    assert t["overflow_median"].tolist() == [5]
    assert t["gap_median"].tolist() == [5]
    out = apply_overflow(proj, cap, scenario())
    np.testing.assert_allclose(out.draws[0, 0], [10, 5])
    assert out.groups["setting_type"].tolist() == ["special_maintained", "inmss"]
    with pytest.raises(TypeError):
        scenario(baseline_excess="hold")


def test_places_with_no_demand_still_appear():
    proj = projection([{}], [[[3]]], years=(2026,))
    cap = capacity(cap_row("A", 4, "2010-01-01"), cap_row("E", 10, "2010-01-01", designation="SEMH"))
    t = assess(proj, cap, scenario()).table(["designation"])
    assert dict(zip(t["designation"], t["gap_median"])) == {"ASD": -1, "SEMH": -10, "all": -11}


# ----- overflow ---------------------------------------------------------------------------------


def test_overflow_is_max_of_zero_and_excess_never_negative():
    demand = np.array([[[12, 3], [10, 0]]])
    cap = np.array([[10, 5], [10, 5]])
    got = overflow_draws(demand, cap)
    assert got.tolist() == [[[2, 0], [0, 0]]]
    assert (got >= 0).all()
    assert got.sum() == 2


def test_apply_overflow_moves_excess_to_inmss_proportionally_and_conserves_children():
    # Group primary ASD north has 10 places. Two projection groups feed it:
    # special_maintained 5_10 (9 children) and special_academy 11_15... keep phase primary:
    # special_academy age 5_10 with need ASD (3). Demand 12 -> overflow 2, shared 9:3 ->
    # 1.5 from the maintained group, 0.5 from the academy group, all into one new inmss group.
    # A mainstream group (7) is untouched; an existing inmss group for SLD is untouched.
    groups = [
        {"setting_type": "special_maintained"},
        {"setting_type": "special_academy"},
        {"setting_type": "mainstream_maintained"},
        {"setting_type": "inmss", "primary_need": "SLD"},
    ]
    proj = projection(groups, [[[9, 3, 7, 2], [6, 2, 7, 2]]])
    cap = capacity(cap_row("A", 10, "2010-01-01"))
    out = apply_overflow(proj, cap, scenario())
    assert len(out.groups) == 5
    new = out.groups.iloc[4]
    assert (new["setting_type"], new["primary_need"], new["locality"], new["age_group"]) == (
        "inmss",
        "ASD",
        "north",
        "5_10",
    )
    np.testing.assert_allclose(out.draws[0, 0], [7.5, 2.5, 7, 2, 2])
    np.testing.assert_allclose(out.draws[0, 1], [6, 2, 7, 2, 0])  # 8 <= 10: nothing moves
    np.testing.assert_allclose(out.draws.sum(axis=2), proj.draws.sum(axis=2))
    assert (out.draws >= 0).all()
    assert out.years == proj.years and out.label == proj.label


def test_apply_overflow_adds_to_an_existing_inmss_group():
    groups = [{"setting_type": "special_maintained"}, {"setting_type": "inmss"}]
    proj = projection(groups, [[[13, 4]], [[8, 4]]], years=(2026,))
    cap = capacity(cap_row("A", 10, "2010-01-01"))
    out = apply_overflow(proj, cap, scenario())
    assert len(out.groups) == 2
    np.testing.assert_allclose(out.draws[:, 0, :], [[10, 7], [8, 4]])
    np.testing.assert_allclose(out.draws.sum(axis=2), proj.draws.sum(axis=2))


def test_apply_overflow_total_moved_equals_summed_group_overflow():
    rng = np.random.default_rng(1)
    groups = [
        {"locality": loc, "primary_need": need, "setting_type": st, "age_group": ag}
        for loc in ("north", "south")
        for need in ("ASD", "MLD")
        for st in ("special_maintained", "resourced_provision")
        for ag in ("5_10", "11_15")
    ]
    draws = rng.integers(0, 20, size=(50, 3, len(groups)))
    proj = projection(groups, draws, years=(2026, 2027, 2028))
    cap = capacity(
        cap_row("A", 30, "2010-01-01"),
        cap_row("B", 25, "2010-01-01", designation="mixed"),
        cap_row("C", 20, "2027-01-01", locality="south"),
    )
    suff = assess(proj, cap, scenario())
    out = apply_overflow(proj, cap, scenario())
    inmss = (out.groups["setting_type"] == "inmss").to_numpy()
    np.testing.assert_allclose(out.draws[:, :, inmss].sum(axis=2), suff.overflow.sum(axis=2), rtol=1e-5)
    np.testing.assert_allclose(out.draws.sum(axis=2), proj.draws.sum(axis=2), rtol=1e-5)
    assert (out.draws >= 0).all()
    # after the move no group is above its places
    after = assess(out, cap, scenario())
    assert (after.overflow < 1e-3).all()


# ----- what-ifs and comparison ------------------------------------------------------------------


def test_whatif_brings_forward_a_base_and_adds_a_school():
    cap = capacity(cap_row("A", 10, "2010-01-01"), cap_row("RB", 8, "2026-04-20", status="pipeline"))
    raw = copy.deepcopy(RAW_SCENARIO)
    raw["change_open_date"] = {"RB": {"date": "2026-01-05", "source": "s"}}
    raw["add_settings"] = [
        {
            "setting_id": "NEW",
            "name": "New school",
            "setting_type": "special_academy",
            "phase": "primary",
            "designation": "ASD",
            "locality": "north",
            "places": 120,
            "open_date": "2027-09-01",
            "source": "s",
        }
    ]
    whatif = parse_scenario(raw)
    base = parse_scenario(RAW_SCENARIO)
    # 2026: 18 children. Base: 10 places (RB opens April) -> overflow 8; what-if: 18 places -> 0.
    # 2027: base 18 places, overflow 0. 2028: what-if adds 120 places.
    proj = projection([{}], [[[18], [18]]], years=(2026, 2027))
    cmp = compare_scenarios(proj, cap, base, whatif, by=None)
    assert cmp["capacity_places_base"].tolist() == [10, 18]
    assert cmp["capacity_places_whatif"].tolist() == [18, 18]
    assert cmp["overflow_median_change"].tolist() == [-8, 0]
    assert cmp["gap_median_whatif"].tolist() == [0, 0]
    tl = pipeline_timeline(cap, whatif, since="2025-01-01")
    assert tl["setting_id"].tolist() == ["RB", "NEW"]
    assert tl["first_census_year"].tolist() == [2026, 2028]
    assert tl["changed"].tolist() == [True, True]


def test_timeline_lists_proposed_but_marks_it_not_counted():
    cap = capacity(
        cap_row("A", 10, "2010-01-01"),
        cap_row("P", 60, "2028-09-01", status="proposed"),
        cap_row("RB", 8, "2025-04-22", status="open"),
    )
    tl = pipeline_timeline(cap, scenario(), since="2024-01-01")
    assert tl["setting_id"].tolist() == ["RB", "P"]
    assert tl["counted"].tolist() == [True, False]
    assert tl["first_census_year"].tolist() == [2026, 2029]


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda r: r.update(pipeline={"value": 1, "source": "s"}), "pipeline"),
        (lambda r: r.update(change_open_date={"RB": {"date": "2025-13-01", "source": "s"}}), "change_open_date.RB"),
        (lambda r: r.update(change_open_date={"RB": {"date": "soon", "source": "s"}}), "change_open_date.RB"),
        (
            lambda r: r.update(
                add_settings=[
                    {
                        "setting_id": "N",
                        "name": "n",
                        "setting_type": "special_academy",
                        "phase": "primary",
                        "designation": "ASD",
                        "locality": "north",
                        "places": -8,
                        "open_date": "2027-01-01",
                        "source": "s",
                    }
                ]
            ),
            "add_settings.0.places",
        ),
        (
            lambda r: r.update(
                add_settings=[
                    {
                        "setting_id": "N",
                        "name": "n",
                        "setting_type": "inmss",
                        "phase": "primary",
                        "designation": "ASD",
                        "locality": "north",
                        "places": 8,
                        "open_date": "2027-01-01",
                        "source": "s",
                    }
                ]
            ),
            "add_settings.0.setting_type",
        ),
        (lambda r: r.update(add_settings=[{"setting_id": "N", "places": 8}]), "add_settings.0.open_date"),
        (lambda r: r["designation_map"]["value"].update(AUT="ASD"), "designation_map.value.AUT"),
        (lambda r: r["designation_map"]["value"].update(ASD="autism"), "designation_map.value.ASD"),
        (lambda r: r.pop("phases"), "phases"),
        (lambda r: r.update(phases=["primary"]), "phases"),
        (lambda r: r.update(include_proposed={"value": "yes", "source": "s"}), "include_proposed"),
        (lambda r: r.update(usable_places_pct={"value": -5, "source": "s"}), "usable_places_pct"),
        (lambda r: r.update(usable_places_pct={"value": 100}), "usable_places_pct"),
        (lambda r: r.update(match_within={"value": "region", "source": "s"}), "match_within"),
        (lambda r: r.update(baseline_excess={"value": "keep", "source": "s"}), "baseline_excess"),
    ],
)
def test_bad_scenario_raises_usage_error_naming_the_key(mutate, key):
    raw = copy.deepcopy(RAW_SCENARIO)
    mutate(raw)
    with pytest.raises(UsageError) as exc:
        parse_scenario(raw)
    assert key in str(exc.value)


@pytest.mark.parametrize(
    "field, key",
    [
        ("change_open_date", "change_open_date.NOPE"),
        ("change_close_date", "change_close_date.NOPE"),
        ("include_proposed", "include_proposed.NOPE"),
    ],
)
def test_unknown_setting_id_in_a_whatif_is_a_usage_error(field, key):
    raw = copy.deepcopy(RAW_SCENARIO)
    if field == "include_proposed":
        raw[field] = {"value": ["NOPE"], "source": "s"}
    else:
        raw[field] = {"NOPE": {"date": "2027-01-01", "source": "s"}}
    sc = parse_scenario(raw)
    with pytest.raises(UsageError, match=key.replace(".", r"\.")):
        capacity_in_scenario(capacity(cap_row("A", 10, "2010-01-01")), sc)


def test_adding_a_setting_that_exists_is_a_usage_error():
    raw = copy.deepcopy(RAW_SCENARIO)
    raw["add_settings"] = [
        {
            "setting_id": "A",
            "name": "n",
            "setting_type": "special_academy",
            "phase": "primary",
            "designation": "ASD",
            "locality": "north",
            "places": 8,
            "open_date": "2027-01-01",
            "source": "s",
        }
    ]
    with pytest.raises(UsageError, match="add_settings"):
        capacity_in_scenario(capacity(cap_row("A", 10, "2010-01-01")), parse_scenario(raw))


def test_shipped_scenarios_load_and_whatif_extends_base():
    base = load_scenario(SCENARIOS / "sufficiency.yaml")
    assert base.name == "base" and base.unmatched_designation == "mixed"
    assert base.designation_map["ASD"] == "ASD" and base.designation_map["SPLD"] == "mixed"
    assert base.match_within in ("county", "locality")
    assert not base.include_proposed
    whatif = load_scenario(SCENARIOS / "sufficiency_whatif.yaml")
    assert whatif.designation_map == base.designation_map
    assert len(whatif.add_settings) + len(whatif.change_open_date) > 0
    log = assumptions_table(whatif)
    assert log["source"].str.len().gt(0).all()


def test_unknown_key_in_a_file_names_the_key(tmp_path):
    raw = copy.deepcopy(RAW_SCENARIO)
    raw["include_propsed"] = {"value": True, "source": "s"}
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(UsageError, match="include_propsed"):
        load_scenario(p)


def test_extends_is_resolved_beside_the_file_and_errors_name_the_key(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({**RAW_SCENARIO, "description": "the base"}))
    child = {
        "extends": "base.yaml",
        "name": "w",
        "source": "w",
        "as_of": "2026-11-23",
        "include_proposed": {"value": ["P1"], "source": "what-if"},
    }
    (tmp_path / "w.yaml").write_text(yaml.safe_dump(child))
    sc = load_scenario(tmp_path / "w.yaml")
    assert sc.name == "w" and sc.include_setting_ids == ("P1",) and not sc.include_proposed
    assert sc.phases == ("primary",) and sc.description == ""  # the parent's description is not inherited
    assert parse_scenario(child, path=tmp_path / "w.yaml").sources["include_proposed"] == "what-if"
    (tmp_path / "lost.yaml").write_text(yaml.safe_dump({**child, "extends": "nope.yaml"}))
    with pytest.raises(UsageError, match=r"lost\.yaml: extends: scenario file not found"):
        load_scenario(tmp_path / "lost.yaml")
    (tmp_path / "loop.yaml").write_text(yaml.safe_dump({**child, "extends": "loop.yaml"}))
    with pytest.raises(UsageError, match=r"extends: .*goes round in a circle"):
        load_scenario(tmp_path / "loop.yaml")


def test_added_settings_close_after_they_open_and_are_listed_once():
    row = {
        "setting_id": "N",
        "name": "n",
        "setting_type": "special_academy",
        "phase": "primary",
        "designation": "ASD",
        "locality": "north",
        "places": 8,
        "open_date": "2027-01-01",
        "source": "s",
    }
    raw = copy.deepcopy(RAW_SCENARIO)
    raw["add_settings"] = [{**row, "close_date": "2026-08-31"}]
    with pytest.raises(UsageError, match=r"add_settings\.0\.close_date: must be after its open_date"):
        parse_scenario(raw)
    raw["add_settings"] = [row, {**row, "places": 4}]
    with pytest.raises(UsageError, match=r"add_settings\.1: lists N \(primary\) again"):
        parse_scenario(raw)
    raw["add_settings"] = [row, {**row, "phase": "secondary"}]
    raw["change_close_date"] = {"N": {"date": None, "source": "s"}}
    sc = parse_scenario(raw)
    assert sc.add_settings["phase"].tolist() == ["primary", "secondary"] and sc.change_close_date == {"N": None}


# ----- today --------------------------------------------------------------------------------------


def test_current_occupancy_shows_over_full_settings_first():
    cap = capacity(
        cap_row("A", 10, "2010-01-01"),
        cap_row("B", 8, "2010-01-01", setting_type="resourced_provision"),
        cap_row("C", 8, "2027-01-01", status="pipeline"),
    )
    census = "2026-01-15"
    pl = pd.DataFrame(
        {
            "provider_id": ["A"] * 6 + ["B"] * 9 + ["B", "X"],
            "phase": ["primary"] * 17,
            "start_date": pd.to_datetime(["2024-09-01"] * 15 + ["2026-02-01", "2024-09-01"]),
            "end_date": pd.to_datetime([None] * 5 + ["2025-07-20"] + [None] * 8 + ["2026-01-15", None, None]),
        }
    )
    got = current_occupancy(pl, cap, census)
    # A: 5 in force (one ended July 2025). B: 9 in force (one ends on census day: still in force),
    # one starts after census. C not open yet. X is not a local specialist setting.
    assert got["setting_id"].tolist() == ["B", "A"]
    assert got["children"].tolist() == [9, 5]
    assert got["is_over_full"].tolist() == [True, False]
    assert got["over_places"].tolist() == [1, 0]
    assert got["occupancy_pct"].tolist() == [112.5, 50.0]


def test_overflow_cost_prices_the_move_at_the_difference_in_unit_costs():
    # 2 of 12 ASD children above 10 places (one sim) move from special_maintained to inmss.
    # Unit costs: special 25,000, inmss 60,000 -> extra 2 x 35,000 = 70,000.
    from sendlib.models.sufficiency import moved_to_inmss, overflow_cost

    proj = projection([{}], [[[12]]], years=(2026,))
    after = apply_overflow(proj, capacity(cap_row("A", 10, "2010-01-01")), scenario())
    moved = moved_to_inmss(proj, after)
    assert dict(zip(moved["setting_type"], moved["children_change"])) == {"inmss": 2, "special_maintained": -2}
    cost = overflow_cost(proj, after, {"special_maintained": 25_000, "inmss": 60_000})
    assert cost[["children_moved", "extra_cost_gbp"]].iloc[0].tolist() == [2, 70_000]


def test_charts_draw_with_findings_in_titles():
    import matplotlib.pyplot as plt

    from sendlib.publish.plots import sufficiency as charts

    proj = projection([{}, {"phase": "secondary"}], [[[12, 3], [14, 3]], [[9, 3], [16, 4]]])
    cap = capacity(
        cap_row("A", 10, "2010-01-01"),
        cap_row("B", 10, "2010-01-01", phase="secondary"),
        cap_row(
            "RB", 8, "2027-01-04", status="pipeline", setting_type="resourced_provision", name="Windrush resource base"
        ),
    )
    res = assess(proj, cap, scenario())
    by_phase = res.table(["phase"])
    # primary: medians 10.5 (2026) vs 10 places -> short from 2026; 2027 places 18.
    chart = charts.demand_vs_capacity(by_phase)
    assert "primary from 2026" in chart.figure.texts[0].get_text() or "primary from 2026" in chart.alt_text
    heat = charts.gap_heat_table(res.table(["phase", "designation", "locality"]))
    assert len([a for a in heat.figure.axes if a.get_visible() and a.has_data()]) == 2
    # 2027: primary median 15 vs 18 places, secondary 3.5 vs 10: no group short in the last year
    assert heat.alt_text.startswith("No group is short of places by 2027")
    tl = charts.pipeline_timeline(pipeline_timeline(cap, scenario(), since="2025-01-01"))
    assert "Windrush resource base" in tl.alt_text
    bars = charts.overflow_bars(overflow_summary(res, by=["phase"]))
    assert bars.alt_text
    plt.close("all")


# ----- command line and notebook on the shipped synthetic county -----------------------------------


def test_cli_reports_a_usage_error_for_a_bad_scenario(tmp_path, capsys):
    from sendlib.cli import main

    raw = copy.deepcopy(RAW_SCENARIO)
    raw["change_open_date"] = {"SP14": {"date": "2027-02-30", "source": "s"}}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    assert main(["sufficiency", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "change_open_date.SP14" in err and "sendlib sufficiency: error" in err


@pytest.mark.slow
def test_cli_on_the_shipped_data(shipped_data_dir, capsys):
    pytest.importorskip("sendlib.models.forecast.person")
    from sendlib.cli import main

    assert (
        main(
            [
                "sufficiency",
                "--data-dir",
                str(shipped_data_dir),
                "--sims",
                "50",
                "--horizon",
                "3",
                "--level",
                "phase",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert {"primary", "secondary"} <= set(out["phase"])
    assert (out["overflow_median"] >= 0).all()
    assert (
        main(
            [
                "sufficiency",
                "--data-dir",
                str(shipped_data_dir),
                "--sims",
                "50",
                "--horizon",
                "3",
                "--level",
                "total",
                "--compare",
                "sufficiency_whatif.yaml",
                "--format",
                "csv",
            ]
        )
        == 0
    )
    cmp = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert (cmp["capacity_places_change"] >= 0).all() and cmp["capacity_places_change"].max() > 0
