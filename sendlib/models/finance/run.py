"""Run every scenario of a file: central path, Monte Carlo, tornado, template tables, summary text."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from sendlib.core.errors import UsageError
from sendlib.core.quarters import Quarter, financial_year_label
from sendlib.models.finance.dsg import template_placements
from sendlib.models.finance.model import (
    FinanceBase,
    SimOutput,
    build_base,
    central_params,
    check_scenario,
    invest_to_save,
    placements_table,
    simulate,
    yearly_table,
)
from sendlib.models.finance.montecarlo import fan_table, probability_table, run_monte_carlo
from sendlib.models.finance.scenarios import ScenarioFile, assumptions_table
from sendlib.models.finance.tornado import tornado_table
from sendlib.models.projection import PlacementProjection

COMPARISON_COLUMNS = [
    "scenario",
    "financial_year",
    "opening_balance_gbp",
    "income_gbp",
    "expenditure_gbp",
    "in_year_balance_gbp",
    "cumulative_balance_gbp",
    "cumulative_balance_p10_gbp",
    "cumulative_balance_p90_gbp",
]


@dataclass
class FinanceResults:
    """Everything one run of the DSG scenarios produces (all money in whole pounds)."""

    scenario_file: ScenarioFile
    base: FinanceBase
    central: dict[str, SimOutput]
    yearly: dict[str, pd.DataFrame]
    comparison: pd.DataFrame
    fan: pd.DataFrame
    probability: pd.DataFrame
    tornado: pd.DataFrame
    invest_to_save: pd.DataFrame
    placements: pd.DataFrame
    template_placements: pd.DataFrame
    assumptions: pd.DataFrame
    draws: int
    seed: int
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def reconciliation(self) -> pd.DataFrame:
        return self.base.reconciliation

    @property
    def override_end(self) -> str:
        """Financial year in which the statutory override ends (31 March of its second year)."""
        return financial_year_label(int(self.scenario_file.statutory_override_end.value))

    @property
    def base_unit_costs_gbp(self) -> dict[str, float]:
        """Setting type -> the council's cost per place a year in the base year (whole pounds)."""
        return self.base.base_unit_costs_gbp

    @property
    def override_position(self) -> pd.DataFrame:
        """Each scenario's cumulative DSG balance on 31 March of the statutory override's last
        year (empty when that year is outside the modelled years): ``scenario``,
        ``financial_year``, ``date``, ``cumulative_balance_gbp`` and its p10 / p90."""
        fy = self.override_end
        c = self.comparison[self.comparison["financial_year"] == fy]
        out = c[
            [
                "scenario",
                "financial_year",
                "cumulative_balance_gbp",
                "cumulative_balance_p10_gbp",
                "cumulative_balance_p90_gbp",
            ]
        ].copy()
        out.insert(2, "date", f"{int(fy[:4]) + 1}-03-31")
        return out.reset_index(drop=True)

    @property
    def year5(self) -> str:
        """Financial year of the summary (year 5, or the last year if the horizon is shorter)."""
        return self.base.labels[min(5, len(self.base.years) - 1)]


def run_finance(
    sf: ScenarioFile,
    projection: PlacementProjection | Mapping[str, PlacementProjection],
    tables: Mapping[str, pd.DataFrame],
    quarter: Quarter | str,
    horizon: int = 5,
    draws: int = 2000,
    seed: int = 0,
    scenarios: Sequence[str] | None = None,
) -> FinanceResults:
    """Run the scenarios (default: every scenario in the file) and collect the outputs.

    Parameters
    ----------
    sf : ScenarioFile
        Validated scenario file.
    projection : PlacementProjection or mapping
        Placement demand (after sufficiency's cascade) covering the base year + ``horizon``; or
        scenario name -> its demand when scenarios have their own sufficiency scenario
        (:func:`sendlib.models.chain.finance_projections`).
    tables : mapping
        Canonical frames ``hnb_budget``, ``dsg_income`` (and ``placements`` for relative costs).
    quarter : Quarter or str
        Report quarter: the base year is its financial year.
    horizon : int
        Years after the base year.
    draws : int
        Monte Carlo draws (0 = none: the p10/p90 columns are empty).
    seed : int
        Random seed (same seed, same numbers).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    names = list(scenarios) if scenarios else sf.names
    unknown = [n for n in names if n not in sf.scenarios]
    if unknown:
        raise UsageError(f"scenario(s) {unknown} not in {sf.path}; expected some of {sf.names}")
    base = build_base(sf, projection, tables, quarter, horizon)
    chosen = [sf.scenarios[n] for n in names]
    for s in chosen:
        check_scenario(base, s)
    central = {s.name: simulate(base, s, central_params(s)) for s in chosen}
    timings["central_s"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    mc = run_monte_carlo(base, chosen, int(draws), seed)
    timings["monte_carlo_s"] = time.perf_counter() - t1
    fan = fan_table(base, mc)
    prob = probability_table(base, mc, float(sf.deficit_threshold_gbp.value))

    yearly = {s.name: yearly_table(base, s, central[s.name]) for s in chosen}
    comp = pd.concat(list(yearly.values()), ignore_index=True)
    if not fan.empty:
        comp = comp.merge(
            fan[["scenario", "financial_year", "p10_gbp", "p90_gbp"]], on=["scenario", "financial_year"], how="left"
        )
        comp = comp.rename(columns={"p10_gbp": "cumulative_balance_p10_gbp", "p90_gbp": "cumulative_balance_p90_gbp"})
    else:
        comp["cumulative_balance_p10_gbp"] = pd.NA
        comp["cumulative_balance_p90_gbp"] = pd.NA
    comp = comp[COMPARISON_COLUMNS]
    for c in ("cumulative_balance_p10_gbp", "cumulative_balance_p90_gbp"):
        comp[c] = comp[c].astype("Int64")

    t2 = time.perf_counter()
    torn = pd.concat([tornado_table(base, s) for s in chosen], ignore_index=True)
    timings["tornado_s"] = time.perf_counter() - t2

    its = []
    for s in chosen:
        ref = s.compare_to
        if s.mitigations and ref and ref != s.name:
            ref_out = central.get(ref)
            if ref_out is None:
                ref_out = simulate(base, sf.scenarios[ref], central_params(sf.scenarios[ref]))
            its.append(invest_to_save(base, s, central[s.name], ref_out, ref))
    its_df = (
        pd.concat(its, ignore_index=True)
        if its
        else pd.DataFrame(
            columns=[
                "scenario",
                "compared_with",
                "financial_year",
                "savings_gbp",
                "investment_gbp",
                "cumulative_savings_gbp",
                "cumulative_investment_gbp",
                "net_benefit_gbp",
                "payback_year",
            ]
        )
    )
    placements = pd.concat([placements_table(base, s, central[s.name]) for s in chosen], ignore_index=True)
    templ = pd.concat([template_placements(base, s.name, central[s.name]) for s in chosen], ignore_index=True)
    timings["total_s"] = time.perf_counter() - t0
    return FinanceResults(
        scenario_file=sf,
        base=base,
        central=central,
        yearly=yearly,
        comparison=comp.reset_index(drop=True),
        fan=fan,
        probability=prob,
        tornado=torn,
        invest_to_save=its_df,
        placements=placements,
        template_placements=templ,
        assumptions=assumptions_table(sf),
        draws=int(draws),
        seed=int(seed),
        timings_s=timings,
    )


def _pounds(x: float) -> str:
    """Whole pounds with the sign in front of the pound sign: -£1,234."""
    return f"{'-' if x < 0 else ''}£{abs(float(x)):,.0f}"


def _money(x: float) -> str:
    """Pounds in words a board reads: £12.3m, £850k, £900."""
    a = abs(float(x))
    sign = "-" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}£{a / 1e6:,.1f}m"
    if a >= 1e4:
        return f"{sign}£{a / 1e3:,.0f}k"
    return f"{sign}£{a:,.0f}"


def _position(x: float) -> str:
    return f"a deficit of {_money(-x)}" if x < 0 else (f"a surplus of {_money(x)}" if x > 0 else "balanced")


def describe_scenarios(res: FinanceResults) -> list[str]:
    """One plain-English sentence (or two) per scenario on its year-5 position."""
    fy = res.year5
    out = []
    threshold = float(res.scenario_file.deficit_threshold_gbp.value)
    for name, y in res.yearly.items():
        row = y[y["financial_year"] == fy].iloc[0]
        text = (
            f"{name}: by the end of {fy} the cumulative DSG balance is {_position(row['cumulative_balance_gbp'])} "
            f"(in-year {_position(row['in_year_balance_gbp'])}"
        )
        c = res.comparison[(res.comparison["scenario"] == name) & (res.comparison["financial_year"] == fy)].iloc[0]
        if pd.notna(c["cumulative_balance_p10_gbp"]):
            text += (
                f"; 80% of simulations between {_money(c['cumulative_balance_p10_gbp'])} and "
                f"{_money(c['cumulative_balance_p90_gbp'])}"
            )
        text += ")."
        p = res.probability[(res.probability["scenario"] == name) & (res.probability["financial_year"] == fy)]
        if not p.empty:
            text += (
                f" Chance the deficit exceeds {_money(threshold)}: {p['probability_deficit_exceeds_pct'].iloc[0]:.0f}%."
            )
        ov = y[y["financial_year"] == res.override_end]
        if not ov.empty:
            text += (
                f" When the statutory override ends (31 March {int(res.override_end[:4]) + 1}) the balance is "
                f"{_position(ov['cumulative_balance_gbp'].iloc[0])}."
            )
        its = res.invest_to_save[res.invest_to_save["scenario"] == name]
        if not its.empty:
            inv = its["cumulative_investment_gbp"].iloc[-1]
            pay = its["payback_year"].iloc[0]
            text += (
                f" Invest to save: {_money(inv)} invested, cumulative savings against {its['compared_with'].iloc[0]} "
                f"{_money(its['cumulative_savings_gbp'].iloc[-1])} by {its['financial_year'].iloc[-1]}; "
                + (f"pays back in {pay}." if pay else "does not pay back within the horizon.")
            )
        out.append(text)
    return out


def reconciliation_text(res: FinanceResults) -> str:
    """The base-year reconciliation and the opening balance, stated in one paragraph."""
    rec = res.reconciliation
    b = res.base
    model, outturn = float(rec["model_base_year_gbp"].sum()), float(rec["forecast_outturn_gbp"].sum())
    deducted = (
        float(rec["academy_place_funding_deducted_gbp"].sum()) if "academy_place_funding_deducted_gbp" in rec else 0.0
    )
    worst = float(rec["difference_gbp"].abs().max()) if len(rec) else 0.0
    hist = b.balance_history
    carried = (
        (
            f" carried forward from {hist['financial_year'].iloc[0]} through {hist['financial_year'].iloc[-1]} "
            f"(actuals, else the latest forecast outturn)"
        )
        if len(hist)
        else ""
    )
    text = (
        f"Base year {b.labels[0]} reconciles to the high needs forecast outturn as at {b.quarter}: the model's "
        f"placements x unit costs plus the lines not driven by plan numbers give £{model:,.0f} against a forecast "
        f"outturn of £{outturn:,.0f}"
        + (f" less £{deducted:,.0f} academy place funding the DfE pays directly" if deducted else "")
        + f" (largest difference on a line £{worst:,.0f}). "
        f"Opening cumulative DSG balance for {b.labels[0]}: {_pounds(b.opening_balance)}{carried}."
    )
    if b.notes:
        text += " Notes: " + "; ".join(b.notes) + "."
    return text
