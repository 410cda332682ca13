"""Tiny hand-made inputs for the finance tests (two setting types, two or three years).

Worked example (base year 2025-26, report quarter 2025-26Q2):

- placements (January census): special_maintained 100 (2026), 110 (2027), 120 (2028);
  inmss 20, 25, 30.
- forecast outturn 2025-26 as at 2025-26Q2: special_maintained GBP 2,000,000 (-> unit cost
  20,000), inmss GBP 1,000,000 (-> 50,000), central_sen_services GBP 500,000 (not plan-driven).
- income 2025-26: hnb_allocation 3,000,000, block_transfer 0, other 100,000; opening cumulative
  balance for 2024-25 -800,000; 2024-25 income 3,000,000 and actual spend 3,200,000, so the
  balance brought into 2025-26 is -1,000,000.
- assumptions: inflation 10%, HNB growth 5%, other income growth 0, schools block
  GBP 100,000,000 growing 0%, block transfer 0.5%, central services growth 2%.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from sendlib.core.schema import SETTING_TYPE
from sendlib.models.projection import PlacementProjection

QUARTER = "2025-26Q2"

LINE_MAP = {
    "mainstream_maintained": "mainstream_top_up",
    "mainstream_academy": "mainstream_top_up",
    "resourced_provision": "resourced_provision",
    "special_maintained": "special_maintained",
    "special_academy": "special_academy",
    "inmss": "inmss",
    "alternative_provision": "alternative_provision",
    "fe_college": "post16_fe",
    "specialist_post16": "post16_fe",
    "other_post16": "post16_fe",
    "elective_home": "other_placements",
    "neet": "other_placements",
    "other": "other_placements",
}


def _a(value, **kw):
    return {"value": value, "source": "test", "as_of": "2025-11-01", **kw}


def scenario_dict() -> dict:
    """A valid scenario file as a mapping (tests edit copies of it)."""
    base_assumptions = {
        "unit_cost_inflation_pct": _a(10),
        "hnb_allocation_growth_pct": _a(5),
        "other_income_growth_pct": _a(0),
        "schools_block_gbp": _a(100_000_000),
        "schools_block_growth_pct": _a(0),
        "block_transfer_pct": _a(0.5),
        "central_sen_services_growth_pct": _a(2),
        "hospital_education_growth_pct": _a(0),
        "sen_support_services_growth_pct": _a(0),
    }
    return {
        "version": 1,
        "statutory_override": {"end_financial_year": "2027-28", "source": "test", "as_of": "2025-06-30"},
        "deficit_threshold": {"deficit_gbp": 1_500_000, "source": "test", "as_of": "2025-06-30"},
        "block_transfer_cap": {"pct_of_schools_block": 0.5, "source": "test", "as_of": "2025-06-30"},
        "budget_lines": {"setting_to_line": dict(LINE_MAP), "source": "test", "as_of": "2025-06-30"},
        "scenarios": {
            "unmitigated": {"description": "trends", "assumptions": copy.deepcopy(base_assumptions)},
            "mitigated": {
                "extends": "unmitigated",
                "mitigations": [
                    {
                        "name": "local_places",
                        "kind": "inmss_to_local",
                        "start_year": "2027-28",
                        "to_setting": "special_maintained",
                        "places": {"2027-28": 5},
                        "investment_gbp": {"2026-27": 100_000, "2027-28": 50_000},
                        "source": "test",
                        "as_of": "2025-11-01",
                    }
                ],
            },
        },
    }


def projection(n_years: int = 2, sims: np.ndarray | None = None) -> PlacementProjection:
    """special_maintained 100, 110, 120 and inmss 20, 25, 30 at censuses 2026, 2027, 2028."""
    years = [2026, 2027, 2028][:n_years]
    groups = pd.DataFrame(
        {
            "setting_type": ["special_maintained", "inmss"],
            "phase": ["primary", "secondary"],
            "primary_need": ["ASD", "SEMH"],
            "locality": ["north", "north"],
            "age_group": ["5_10", "11_15"],
        }
    )
    draws = np.array([[[100, 20], [110, 25], [120, 30]]], dtype=np.float32)[:, :n_years, :]
    if sims is not None:
        draws = sims.astype(np.float32)
    return PlacementProjection(years=years, groups=groups, draws=draws)


def tables() -> dict[str, pd.DataFrame]:
    hnb = pd.DataFrame(
        [
            # the base year, forecast at the report quarter (and an older forecast that must be ignored)
            ("2025-26", "2025-26Q2", "special_maintained", 1_900_000.0, 2_000_000.0, np.nan),
            ("2025-26", "2025-26Q2", "inmss", 900_000.0, 1_000_000.0, np.nan),
            ("2025-26", "2025-26Q2", "central_sen_services", 500_000.0, 500_000.0, np.nan),
            ("2025-26", "2025-26Q1", "special_maintained", 1_900_000.0, 9_999_999.0, np.nan),
            # the year before: actuals
            ("2024-25", "2024-25Q4", "special_maintained", 1_800_000.0, 1_850_000.0, 1_900_000.0),
            ("2024-25", "2024-25Q4", "inmss", 800_000.0, 850_000.0, 900_000.0),
            ("2024-25", "2024-25Q4", "central_sen_services", 400_000.0, 400_000.0, 400_000.0),
        ],
        columns=["financial_year", "as_at_quarter", "line", "budget", "forecast_outturn", "actual"],
    )
    inc = pd.DataFrame(
        [
            ("2024-25", "opening_cumulative_balance", -800_000.0),
            ("2024-25", "hnb_allocation", 2_950_000.0),
            ("2024-25", "block_transfer", 0.0),
            ("2024-25", "other", 50_000.0),
            ("2025-26", "hnb_allocation", 3_000_000.0),
            ("2025-26", "block_transfer", 0.0),
            ("2025-26", "other", 100_000.0),
        ],
        columns=["financial_year", "item", "amount"],
    )
    return {"hnb_budget": hnb, "dsg_income": inc}


def all_settings() -> list[str]:
    return list(SETTING_TYPE)


# ===== tests: hand-worked numbers ====================================================================

import pytest  # noqa: E402

from sendlib.core.errors import UsageError  # noqa: E402
from sendlib.core.quarters import Quarter  # noqa: E402
from sendlib.models.finance import (  # noqa: E402
    build_base,
    carry_forward_balance,
    central_params,
    parse_scenarios,
    run_finance,
    simulate,
    yearly_table,
)


def _run(sf_dict=None, n_years=2, name="unmitigated"):
    sf = parse_scenarios(sf_dict or scenario_dict())
    base = build_base(sf, projection(n_years), tables(), QUARTER, horizon=n_years - 1)
    sc = sf.scenarios[name]
    out = simulate(base, sc, central_params(sc))
    return base, sc, out, yearly_table(base, sc, out)


def test_opening_balance_is_carried_forward_from_the_data():
    # -800,000 + (2,950,000 + 0 + 50,000) - (1,900,000 + 900,000 + 400,000 actuals) = -1,000,000
    opening, hist = carry_forward_balance(tables()["dsg_income"], tables()["hnb_budget"], Quarter.parse(QUARTER))
    assert opening == -1_000_000
    assert hist["financial_year"].tolist() == ["2024-25"]
    assert hist["expenditure_basis"].iloc[0].startswith("actual")


def test_base_year_unit_costs_reconcile_to_the_forecast_outturn():
    base, _, _, y = _run()
    uc = dict(zip(base.settings, base.unit_cost))
    assert uc["special_maintained"] == pytest.approx(20_000)  # 2,000,000 / 100
    assert uc["inmss"] == pytest.approx(50_000)  # 1,000,000 / 20
    rec = base.reconciliation.set_index("line")
    assert (rec["difference_gbp"] == 0).all()
    assert rec.loc["special_maintained", "forecast_outturn_gbp"] == 2_000_000  # at 2025-26Q2, not Q1
    assert y["expenditure_gbp"].iloc[0] == 3_500_000


def test_two_years_two_settings_hand_worked():
    _, _, _, y = _run()
    r = y.set_index("financial_year")
    # expenditure 2026-27: 110 x 20,000 x 1.1 + 25 x 50,000 x 1.1 + 500,000 x 1.02
    assert r.loc["2026-27", "expenditure_special_maintained_gbp"] == 2_420_000
    assert r.loc["2026-27", "expenditure_inmss_gbp"] == 1_375_000
    assert r.loc["2026-27", "expenditure_central_sen_services_gbp"] == 510_000
    assert r.loc["2026-27", "expenditure_gbp"] == 4_305_000
    # income 2026-27: 3,000,000 x 1.05 + 0.5% x 100,000,000 + 100,000
    assert r.loc["2026-27", "income_hnb_allocation_gbp"] == 3_150_000
    assert r.loc["2026-27", "income_block_transfer_gbp"] == 500_000
    assert r.loc["2026-27", "income_gbp"] == 3_750_000
    # base year income from the data: 3,000,000 + 0 + 100,000
    assert r.loc["2025-26", "income_gbp"] == 3_100_000
    assert r["in_year_balance_gbp"].tolist() == [-400_000, -555_000]
    assert r["opening_balance_gbp"].tolist() == [-1_000_000, -1_400_000]
    assert r["cumulative_balance_gbp"].tolist() == [-1_400_000, -1_955_000]


def test_block_transfer_is_capped():
    d = scenario_dict()
    d["scenarios"]["unmitigated"]["assumptions"]["block_transfer_pct"]["value"] = 0.75
    with pytest.raises(UsageError, match=r"block_transfer_pct\.value.*above the cap"):
        parse_scenarios(d)


def test_mitigation_starting_in_year_2_changes_nothing_in_year_1():
    d = scenario_dict()
    d["scenarios"]["mitigated"]["mitigations"][0]["investment_gbp"] = {"2027-28": 50_000}
    sf = parse_scenarios(d)
    base = build_base(sf, projection(3), tables(), QUARTER, horizon=2)
    un, mi = sf.scenarios["unmitigated"], sf.scenarios["mitigated"]
    yu = yearly_table(base, un, simulate(base, un, central_params(un)))
    ym = yearly_table(base, mi, simulate(base, mi, central_params(mi)))
    money = [c for c in yu.columns if c.endswith("_gbp") or c == "placements"]
    pd.testing.assert_frame_equal(yu.loc[:1, money], ym.loc[:1, money])
    # 2027-28: 5 children move from INMSS (50,000) to local special (20,000), x 1.1^2
    assert ym.loc[2, "expenditure_inmss_gbp"] == 25 * 50_000 * 1.21
    assert ym.loc[2, "expenditure_special_maintained_gbp"] == 125 * 20_000 * 1.21
    assert yu.loc[2, "expenditure_inmss_gbp"] == 30 * 50_000 * 1.21


def test_invest_to_save_payback_year():
    # savings 2027-28: (120x20,000 + 30x50,000 - 125x20,000 - 25x50,000) x 1.21 = 181,500
    # cumulative investment: 100,000 by 2026-27, 150,000 by 2027-28 -> pays back in 2027-28
    sf = parse_scenarios(scenario_dict())
    res = run_finance(sf, projection(3), tables(), QUARTER, horizon=2, draws=0)
    its = res.invest_to_save.set_index("financial_year")
    assert its["savings_gbp"].tolist() == [0, 0, 181_500]
    assert its["cumulative_investment_gbp"].tolist() == [0, 100_000, 150_000]
    assert set(its["payback_year"]) == {"2027-28"}
    # no payback when investment exceeds the savings
    d = scenario_dict()
    d["scenarios"]["mitigated"]["mitigations"][0]["investment_gbp"] = {"2026-27": 200_000}
    res2 = run_finance(parse_scenarios(d), projection(3), tables(), QUARTER, horizon=2, draws=0)
    assert set(res2.invest_to_save["payback_year"]) == {""}


def test_fewer_new_plans_cuts_growth_from_its_start_year():
    # special_maintained 100 -> 110 -> 120; cutting half the growth from 2026-27: 105, 110
    d = scenario_dict()
    d["scenarios"]["mitigated"]["mitigations"] = [
        {
            "name": "early_help",
            "kind": "fewer_new_plans",
            "start_year": "2026-27",
            "reduction_pct": 50,
            "settings": ["special_maintained"],
            "source": "test",
            "as_of": "2025-11-01",
        }
    ]
    sf = parse_scenarios(d)
    base = build_base(sf, projection(3), tables(), QUARTER, horizon=2)
    mi = sf.scenarios["mitigated"]
    out = simulate(base, mi, central_params(mi))
    k = base.settings.index("special_maintained")
    assert out.counts[0, :, k].tolist() == [100, 105, 110]
    assert out.counts[0, :, base.settings.index("inmss")].tolist() == [20, 25, 30]


def test_delivery_scales_mitigation_effects():
    d = scenario_dict()
    d["scenarios"]["mitigated"]["assumptions"] = {"mitigation_delivery_pct": _a(50)}
    sf = parse_scenarios(d)
    base = build_base(sf, projection(3), tables(), QUARTER, horizon=2)
    mi = sf.scenarios["mitigated"]
    out = simulate(base, mi, central_params(mi))
    assert out.counts[0, 2, base.settings.index("inmss")] == pytest.approx(27.5)


def test_unit_cost_change_mitigation():
    d = scenario_dict()
    d["scenarios"]["mitigated"]["mitigations"] = [
        {
            "name": "banding",
            "kind": "unit_cost_change",
            "start_year": "2026-27",
            "change_pct": -10,
            "settings": ["special_maintained"],
            "source": "test",
            "as_of": "2025-11-01",
        }
    ]
    base, _, _, y = _run(d, name="mitigated")
    # 110 x 20,000 x 1.1 x 0.9
    assert y.loc[1, "expenditure_special_maintained_gbp"] == 2_178_000


def test_mitigation_in_the_base_year_is_refused():
    d = scenario_dict()
    d["scenarios"]["mitigated"]["mitigations"][0]["start_year"] = "2025-26"
    d["scenarios"]["mitigated"]["mitigations"][0]["places"] = {"2025-26": 5}
    with pytest.raises(UsageError, match=r"mitigations\[0\]\.start_year.*not after the base year"):
        run_finance(parse_scenarios(d), projection(3), tables(), QUARTER, horizon=2, draws=0)


def test_balance_identity_holds_exactly_in_every_scenario_with_uncertainty():
    sims = np.array(
        [[[100, 20], [110, 25], [120, 30]], [[100, 20], [117, 27], [133, 37]], [[100, 20], [104, 22], [111, 24]]],
        dtype=float,
    )
    d = scenario_dict()
    d["scenarios"]["unmitigated"]["assumptions"]["unit_cost_inflation_pct"] = _a(3.3, low=1.7, high=6.1)
    res = run_finance(parse_scenarios(d), projection(3, sims), tables(), QUARTER, horizon=2, draws=500, seed=3)
    c = res.comparison
    for _, g in c.groupby("scenario"):
        g = g.reset_index(drop=True)
        assert (g["cumulative_balance_gbp"] == g["opening_balance_gbp"] + g["income_gbp"] - g["expenditure_gbp"]).all()
        assert (g["opening_balance_gbp"].iloc[1:].to_numpy() == g["cumulative_balance_gbp"].iloc[:-1].to_numpy()).all()
        assert (g["cumulative_balance_p10_gbp"] <= g["cumulative_balance_p90_gbp"]).all()


def test_monte_carlo_is_reproducible_and_spreads():
    d = scenario_dict()
    d["scenarios"]["unmitigated"]["assumptions"]["unit_cost_inflation_pct"] = _a(10, low=5, high=15)
    sf = parse_scenarios(d)
    a = run_finance(sf, projection(3), tables(), QUARTER, horizon=2, draws=400, seed=7)
    b = run_finance(sf, projection(3), tables(), QUARTER, horizon=2, draws=400, seed=7)
    pd.testing.assert_frame_equal(a.fan, b.fan)
    last = a.fan[(a.fan["scenario"] == "unmitigated")].iloc[-1]
    assert last["p05_gbp"] < last["p50_gbp"] < last["p95_gbp"]
    # base year has no uncertainty from inflation
    first = a.fan.iloc[0]
    assert first["p05_gbp"] == first["p95_gbp"]


def test_tornado_ranks_the_assumption_that_moves_the_balance_most():
    d = scenario_dict()
    a = d["scenarios"]["unmitigated"]["assumptions"]
    a["unit_cost_inflation_pct"] = _a(10, low=5, high=15)
    a["central_sen_services_growth_pct"] = _a(2, low=0, high=4)
    res = run_finance(parse_scenarios(d), projection(3), tables(), QUARTER, horizon=2, draws=0)
    t = res.tornado[res.tornado["scenario"] == "unmitigated"]
    assert t["assumption"].iloc[0] == "unit_cost_inflation_pct"
    assert t["financial_year"].iloc[0] == "2027-28"  # year 5 clipped to the horizon
    # central_sen_services at 0% vs 4% growth, summed over 2026-27 and 2027-28:
    # 500,000 x 0.04 + 500,000 x (1.04^2 - 1) = 20,000 + 40,800
    row = t.set_index("assumption").loc["central_sen_services_growth_pct"]
    assert row["swing_gbp"] == 60_800


def test_projection_too_short_is_a_clear_error():
    sf = parse_scenarios(scenario_dict())
    with pytest.raises(UsageError, match="January 2028 census"):
        build_base(sf, projection(2), tables(), QUARTER, horizon=2)


def test_dsg_template_placements_by_category_and_age():
    res = run_finance(parse_scenarios(scenario_dict()), projection(3), tables(), QUARTER, horizon=2, draws=0)
    t = res.template_placements
    m = t[(t["scenario"] == "mitigated") & (t["financial_year"] == "2027-28")].set_index(["category", "age_group"])
    assert m.loc[("Maintained special schools or special academies", "5-10"), "placements"] == 125
    assert m.loc[("NMSS or independent", "11-15"), "placements"] == 25
    assert len(t[t["financial_year"] == "2025-26"]) == 2 * 7 * 5  # two scenarios x 7 categories x 5 ages


def test_plain_english_summary_mentions_each_scenario():
    from sendlib.models.finance import describe_scenarios

    res = run_finance(parse_scenarios(scenario_dict()), projection(3), tables(), QUARTER, horizon=2, draws=200)
    text = describe_scenarios(res)
    assert len(text) == 2 and text[0].startswith("unmitigated") and "deficit of" in text[0]
    assert "pays back in 2027-28" in text[1]


def test_base_year_is_held_at_the_reconciled_outturn_in_every_draw():
    sims = np.array([[[100, 20], [110, 25], [120, 30]], [[80, 10], [117, 27], [133, 37]]], dtype=float)
    res = run_finance(parse_scenarios(scenario_dict()), projection(3, sims), tables(), QUARTER, horizon=2, draws=300)
    f = res.fan[res.fan["year_index"] == 0]
    assert (f["p05_gbp"] == f["p95_gbp"]).all()
    # the central path uses the mean of the simulations: base-year unit costs reconcile to it
    assert (res.reconciliation["difference_gbp"] == 0).all()
    assert res.fan[res.fan["year_index"] == 2]["p05_gbp"].lt(res.fan[res.fan["year_index"] == 2]["p95_gbp"]).all()
