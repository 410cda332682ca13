"""Person-level stock-flow model on synthetic case data whose true rates are set in the test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sendlib.core.quarters import third_thursday_of_january
from sendlib.models.forecast import person
from sendlib.models.forecast.scenario import PersonSettings, RateSpec, ShrinkageSpec, UncertaintySpec
from sendlib.models.projection import PlacementProjection

# true rates of the synthetic county below
CEASE = dict.fromkeys(range(25), 0.05) | {16: 0.20, 19: 0.30}
INCIDENCE = {a: (0.01 if 2 <= a <= 15 else 0.0) for a in range(26)}
P_TO_SPECIAL = 0.10  # mainstream -> special each year while under 16
POP = 2000  # residents per single year of age, every year
NEEDS = ("ASD", "SEMH", "SLCN")


def make_county(seed: int = 1, first: int = 2016, last: int = 2024, start_per_age: int = 60):
    """Simulate people year by year with the rates above and write them as canonical tables."""
    rng = np.random.default_rng(seed)
    people = []  # dicts: id, age (at current census), need, setting, spells, start, end
    nid = 0

    def new_person(age, year, setting, start):
        nonlocal nid
        nid += 1
        p = {
            "person_id": f"P{nid:06d}",
            "birth_month": f"{year - 1 - age}-03",
            "need": NEEDS[rng.integers(3)],
            "age": age,
            "setting": setting,
            "start": start,
            "end": pd.NaT,
            "spells": [[setting, start, pd.NaT]],
            "locality": ("north", "south")[rng.integers(2)],
        }
        people.append(p)
        return p

    def school_setting(age):
        if age >= 16:
            return "fe_college"
        return "mainstream_maintained" if rng.random() < 0.7 else "special_maintained"

    d0 = third_thursday_of_january(first)
    for a in range(26):
        for _ in range(start_per_age):
            new_person(a, first, school_setting(a), d0 - pd.Timedelta(days=30))
    for y in range(first, last):
        d, d_next = third_thursday_of_january(y), third_thursday_of_january(y + 1)
        for p in people:
            if pd.notna(p["end"]) or p["start"] > d:
                continue
            a = p["age"]
            if a >= 25 or rng.random() < CEASE[a]:
                p["end"] = d + pd.Timedelta(days=100)
                p["spells"][-1][2] = p["end"]
                continue
            p["age"] = a + 1
            new = p["setting"]
            if a + 1 == 16:
                new = "fe_college" if p["setting"] == "mainstream_maintained" else "specialist_post16"
            elif a + 1 < 16 and p["setting"] == "mainstream_maintained" and rng.random() < P_TO_SPECIAL:
                new = "special_maintained"
            if new != p["setting"]:
                move = d + pd.Timedelta(days=200)
                p["spells"][-1][2] = move
                p["spells"].append([new, move + pd.Timedelta(days=1), pd.NaT])
                p["setting"] = new
        for a in range(26):
            for _ in range(rng.binomial(POP, INCIDENCE[a])):
                new_person(a, y + 1, school_setting(a), d_next - pd.Timedelta(days=60))
    plans = pd.DataFrame(
        {
            "person_id": [p["person_id"] for p in people],
            "birth_month": [p["birth_month"] for p in people],
            "primary_need": [p["need"] for p in people],
            "plan_start_date": [p["start"] for p in people],
            "plan_end_date": [p["end"] for p in people],
            "locality": [p["locality"] for p in people],
        }
    )
    rows = [(p["person_id"], s[0], s[1], s[2]) for p in people for s in p["spells"]]
    placements = pd.DataFrame(rows, columns=["person_id", "setting_type", "start_date", "end_date"])
    population = pd.DataFrame(
        [(y, a, POP) for y in range(first - 2, 2036) for a in range(26)], columns=["year", "age", "population"]
    )
    as_of = third_thursday_of_january(last) + pd.Timedelta(days=30)
    return {"ehcp_plans": plans, "placements": placements, "population": population}, as_of


@pytest.fixture(scope="module")
def county():
    return make_county()


@pytest.fixture(scope="module")
def rates(county):
    tables, as_of = county
    s = PersonSettings(window_years=8, shrinkage=ShrinkageSpec(kappa_age=5, kappa_band=20))
    return person.estimate_rates(tables["ehcp_plans"], tables["placements"], tables["population"], s, as_of=as_of)


def test_school_year_age_uses_31_august():
    bm = pd.Series(["2010-08", "2010-09"])
    # census January 2020: on 31 August 2019 an August 2010 child is 9, a September 2010 child 8
    assert person.school_year_age(bm, 2020).tolist() == [9, 8]


def test_phase_bands():
    # Reception (school-year age 4) is primary, as in the placements and capacity tables
    assert person.phase_of(np.array([0, 3, 4, 10, 11, 15, 16, 18, 19, 25])).tolist() == [
        "early_years",
        "early_years",
        "primary",
        "primary",
        "secondary",
        "secondary",
        "post16",
        "post16",
        "post19",
        "post19",
    ]


def test_estimator_recovers_ceasing_rates(rates):
    assert rates.years == list(range(2016, 2025))
    mid = rates.cease[[6, 8, 10, 12, 14]].mean()
    assert mid == pytest.approx(0.05, abs=0.015)
    assert rates.cease[16] == pytest.approx(0.20, abs=0.04)
    assert rates.cease[19] == pytest.approx(0.30, abs=0.06)
    assert rates.cease[25] == 1.0
    assert ((rates.cease > 0) & (rates.cease <= 1)).all()


def test_estimator_recovers_incidence(rates):
    assert rates.incidence[2:16].mean() == pytest.approx(0.01, rel=0.1)
    assert rates.incidence[20:].max() < 0.002


def test_estimator_recovers_moves_and_shrinks(rates):
    mm, sp = person.SETTINGS.index("mainstream_maintained"), person.SETTINGS.index("special_maintained")
    p = rates.move[5:14, mm, sp].mean()
    assert p == pytest.approx(P_TO_SPECIAL, abs=0.03)
    # special -> special nearly always; shrinkage keeps it below 1 (never exactly 0 or 1 by accident)
    assert 0.9 < rates.move[8, sp, sp] < 1.0
    assert np.allclose(rates.move.sum(axis=-1), 1.0)


def _fixed_rates(stock_age: int, n: int, cease: float = 0.0) -> person.Rates:
    A, K, S = 26, len(person.NEEDS), len(person.SETTINGS)
    stock = np.zeros((A, K, S))
    k, s = person.NEEDS.index("ASD"), person.SETTINGS.index("special_maintained")
    stock[stock_age, k, s] = n
    move = np.broadcast_to(np.eye(S), (A, S, S)).copy()
    c = np.full(A, cease)
    c[25] = 1.0
    loc = pd.DataFrame({"age_group": [], "primary_need": [], "setting_type": [], "locality": [], "share": []})
    return person.Rates(
        years=[2023, 2024],
        cease=c,
        move=move,
        incidence=np.zeros(A),
        mix=np.zeros((A, K, S)),
        incidence_level=pd.Series([1.0, 1.0], index=[2023, 2024]),
        cease_level=pd.Series([1.0], index=[2023]),
        locality_share=loc,
        stock=stock,
        last_year=2024,
    )


POPN = pd.DataFrame([(y, a, 1000) for y in range(2020, 2036) for a in range(26)], columns=["year", "age", "population"])
NO_NOISE = PersonSettings(
    uncertainty=UncertaintySpec(rate_paths="none"),
    incidence=RateSpec(trend="constant"),
    ceasing=RateSpec(trend="constant"),
)


def test_ages_roll_on_and_cohort_leaves_after_25():
    r = _fixed_rates(stock_age=22, n=40)
    years, cells, draws = person.simulate(r, POPN, horizon=5, n_sims=3, seed=1, settings=NO_NOISE)
    assert years == [2025, 2026, 2027, 2028, 2029]

    def tot_by_age(h):
        return {int(cells[i, 0]): int(draws[0, h, i]) for i in range(len(cells)) if draws[0, h, i]}

    assert tot_by_age(0) == {23: 40}
    assert tot_by_age(2) == {25: 40}
    assert tot_by_age(3) == {}  # 25 at the 2027 census: gone by 2028
    assert draws[:, 3:].sum() == 0


def test_simulations_reproducible_with_seed(county):
    tables, as_of = county
    a = person.project(tables, horizon=3, n_sims=50, seed=7, as_of=as_of)
    b = person.project(tables, horizon=3, n_sims=50, seed=7, as_of=as_of)
    c = person.project(tables, horizon=3, n_sims=50, seed=8, as_of=as_of)
    assert np.array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)


def test_projection_contract_and_totals_intervals(county):
    tables, as_of = county
    proj = person.project(tables, horizon=4, n_sims=200, seed=3, as_of=as_of)
    assert isinstance(proj, PlacementProjection)
    assert proj.draws.dtype == np.float32 and proj.draws.shape[:2] == (200, 4)
    assert proj.years == [2025, 2026, 2027, 2028]
    assert set(proj.groups["locality"]) <= {"north", "south"}
    total = proj.draws.sum(axis=2)
    summ = proj.summary()
    assert summ["median"].tolist() == pytest.approx(np.median(total, axis=0).tolist(), rel=1e-5)
    lo = np.quantile(total, 0.1, axis=0)
    assert summ["lower_80"].tolist() == pytest.approx(lo.tolist(), rel=1e-5)
    # the total's interval is narrower than adding the parts' bounds
    parts = proj.summary(by=["setting_type"])
    added = parts.groupby("year")["lower_80"].sum().to_numpy()
    assert (added < lo).all()
    # the projection continues the history: first projected year within 10% of the last census
    last = proj.history[proj.history["year"] == 2024]["count"].sum()
    assert summ["median"].iloc[0] == pytest.approx(last, rel=0.1)


def test_expected_stock_matches_rates_in_steady_state():
    """Binomial draws average to the stock-flow identity: plans[t+1] = plans[t](1-c) + joiners."""
    r = _fixed_rates(stock_age=10, n=1000, cease=0.1)
    years, cells, draws = person.simulate(r, POPN, horizon=2, n_sims=400, seed=2, settings=NO_NOISE)
    assert draws[:, 0].sum(axis=1).mean() == pytest.approx(900, rel=0.01)
    assert draws[:, 1].sum(axis=1).mean() == pytest.approx(810, rel=0.01)


def test_trend_options_hand_worked():
    level = pd.Series([1.0, 2.0, 3.0], index=[2022, 2023, 2024])
    assert person.trend_path(level, 2, RateSpec(trend="constant"), 3).tolist() == pytest.approx([2.0, 2.0])
    assert person.trend_path(level, 2, RateSpec(trend="linear"), 3).tolist() == pytest.approx([4.0, 5.0])
    # damped: last fitted 3, slope 1 damped by 0.5 a year -> 3.5, 3.75
    assert person.trend_path(level, 2, RateSpec(trend="damped", phi=0.5), 3).tolist() == pytest.approx([3.5, 3.75])
    # the scenario multiplier scales the path; only the last `window` levels count
    assert person.trend_path(level, 1, RateSpec(trend="constant", multiplier=0.5), 2).tolist() == pytest.approx([1.25])


def test_bootstrap_walk_is_seeded_and_neutral_without_history():
    level = pd.Series([1.0, 1.1, 0.9, 1.2, 1.0])
    a = person.bootstrap_walk(level, 3, 5, np.random.default_rng(1))
    b = person.bootstrap_walk(level, 3, 5, np.random.default_rng(1))
    assert np.array_equal(a, b) and a.shape == (5, 3)
    assert (person.bootstrap_walk(level.iloc[:2], 3, 5, np.random.default_rng(1)) == 1).all()
