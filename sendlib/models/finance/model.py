"""The high needs block / DSG model: calibrate a base year, then price placements year by year.

Per financial year ``t`` (``t = 0`` the base year, the financial year of the report quarter):

- expenditure on each budget line = sum over the setting types mapped to it of
  placements x unit cost x (1 + inflation)^t, plus the line's part not driven by plan numbers
  grown at its own rate (central SEN services, hospital education, SEN support services, the
  non-plan part of alternative provision), plus any mitigation investment;
- income = high needs block allocation x (1 + growth)^t + block transfer (a % of the schools block,
  capped) + other income x (1 + growth)^t;
- in-year balance = income - expenditure; cumulative balance = previous cumulative + in-year,
  starting from the opening balance carried forward from the data.

Every money figure is rounded to whole pounds per line and year *before* totals and balances are
formed, so ``cumulative[t] = cumulative[t-1] + income[t] - expenditure[t]`` holds exactly.

Calibration: base-year unit costs are set so that placements x unit cost on each line equals the
line's ``hnb_budget`` forecast outturn as at the report quarter (times the line's plan-driven share);
relative costs of setting types that share a line come from ``placements.annual_cost``.
Financial year ``(Y-1)-(Y)`` takes the projection's January ``Y`` census (docs/architecture.md).

The engine :func:`simulate` is vectorised over draws: the central run is one draw, the Monte Carlo
many, the tornado one draw per assumption extreme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sendlib.core.errors import DataError, UsageError
from sendlib.core.quarters import Quarter, financial_year_label
from sendlib.core.schema import HNB_LINE, SETTING_TYPE
from sendlib.models.finance.scenarios import ASSUMPTIONS, Scenario, ScenarioFile
from sendlib.models.projection import PlacementProjection

INCOME_ITEMS = ("hnb_allocation", "block_transfer", "other")
INVESTMENT_LINE = "mitigation_investment"


@dataclass
class FinanceBase:
    """Everything the scenarios share: the calibrated base year, the opening balance, the demand.

    Attributes
    ----------
    quarter : str
        Report quarter (``2025-26Q2``); the base year is its financial year.
    years : list[int]
        Financial-year start years modelled, base year first (``[2025, ..., 2025 + horizon]``).
    settings, lines : tuple[str, ...]
        Setting types (schema order) and high needs budget lines (schema order).
    setting_line : ndarray
        ``(S,)`` index into ``lines`` of each setting type's line.
    unit_cost : ndarray
        ``(S,)`` base-year unit cost, pounds per placement per year (calibrated).
    base_outturn, base_non_plan : ndarray
        ``(L,)`` base-year forecast outturn per line, and its part not driven by plan numbers
        (whole pounds).
    base_income : dict
        Base-year income per item (whole pounds) from ``dsg_income``.
    opening_balance : float
        Cumulative DSG balance at the start of the base year (negative = deficit).
    counts : ndarray
        ``(n_sims, T, S)`` projected placements per setting type at each year's January census.
    group_keys, group_counts
        Setting type x age group keys and their ``(T, K)`` mean projected counts (DSG template).
    reconciliation, balance_history : DataFrame
        The base-year reconciliation and how the opening balance was carried forward.
    """

    quarter: str
    years: list[int]
    settings: tuple[str, ...]
    lines: tuple[str, ...]
    setting_line: np.ndarray
    unit_cost: np.ndarray
    base_outturn: np.ndarray
    base_non_plan: np.ndarray
    base_income: dict[str, float]
    opening_balance: float
    counts: np.ndarray
    group_keys: pd.DataFrame
    group_counts: np.ndarray
    reconciliation: pd.DataFrame
    balance_history: pd.DataFrame
    block_transfer_cap_pct: float = 0.5
    notes: list[str] = field(default_factory=list)
    #: ``(S,)`` place funding per child the council pays (maintained places): fixed, not inflated
    fixed_cost: np.ndarray | None = None
    #: ``(L,)`` base-year reconciling item per line (forecast outturn less placements in force x
    #: observed unit costs: in-year starters and leavers, part-year costs), held in cash
    calibration: np.ndarray | None = None
    #: scenario name -> ``(n_sims, T, S)`` placements from that scenario's sufficiency cascade
    scenario_counts: dict[str, np.ndarray] = field(default_factory=dict)
    #: True when base-year counts are the placements in force at the quarter end (else the
    #: projection's January census) and unit costs their observed mean annual cost
    observed_base: bool = False

    def __post_init__(self) -> None:
        if self.fixed_cost is None:
            self.fixed_cost = np.zeros(len(self.settings))
        if self.calibration is None:
            self.calibration = np.zeros(len(self.lines))

    @property
    def base_fy(self) -> int:
        return self.years[0]

    def counts_for(self, scenario: str) -> np.ndarray:
        """``(n_sims, T, S)`` placements for a scenario (its own cascade, else the shared one)."""
        return self.scenario_counts.get(scenario, self.counts)

    def central_counts_for(self, scenario: str) -> np.ndarray:
        """``(1, T, S)`` mean placements for a scenario."""
        return self.counts_for(scenario).mean(axis=0, keepdims=True)

    @property
    def base_unit_costs_gbp(self) -> dict[str, float]:
        """Setting type -> the council's cost per place a year in the base year (whole pounds)."""
        return {s: float(np.rint(u)) for s, u in zip(self.settings, self.unit_cost)}

    @property
    def labels(self) -> list[str]:
        return [financial_year_label(y) for y in self.years]

    @property
    def central_counts(self) -> np.ndarray:
        """``(1, T, S)`` mean projected placements (the central path)."""
        return self.counts.mean(axis=0, keepdims=True)


# ----- inputs from the data -------------------------------------------------------------------------


def setting_counts(
    projection: PlacementProjection, fy_starts: Sequence[int], settings: Sequence[str] = tuple(SETTING_TYPE)
) -> np.ndarray:
    """Projected placements per setting type for financial years ``fy_starts``.

    Financial year ``(Y-1)-(Y)`` takes the January ``Y`` census. A census year before the
    projection's first year is taken from its ``history`` (the same in every simulation).

    Returns
    -------
    ndarray
        ``(n_sims, len(fy_starts), len(settings))`` float64 counts of children with a plan.

    Raises
    ------
    UsageError
        When the projection does not reach the last year needed.
    """
    keys, tot = projection.totals(["setting_type"])
    col = {s: i for i, s in enumerate(keys["setting_type"].astype(str))}
    years = list(projection.years)
    out = np.zeros((projection.n_sims, len(fy_starts), len(settings)), dtype=np.float64)
    hist = projection.history
    for j, fy in enumerate(fy_starts):
        census = fy + 1
        if census in years:
            yi = years.index(census)
            for k, s in enumerate(settings):
                if s in col:
                    out[:, j, k] = tot[:, yi, col[s]]
        elif years and census < years[0] and not hist.empty and census in set(hist["year"].astype(int)):
            h = hist[hist["year"].astype(int) == census].groupby("setting_type")["count"].sum()
            for k, s in enumerate(settings):
                out[:, j, k] = float(h.get(s, 0.0))
        else:
            raise UsageError(
                f"the placement projection covers January censuses {years[0] if years else '-'}-"
                f"{years[-1] if years else '-'}, but financial year {financial_year_label(fy)} needs the "
                f"January {census} census: project further (a longer forecast horizon) or shorten --horizon"
            )
    return out


def group_counts(projection: PlacementProjection, fy_starts: Sequence[int]) -> tuple[pd.DataFrame, np.ndarray]:
    """Mean projected placements by setting type x DSG age group, ``(T, K)``, for the template tables."""
    keys, tot = projection.totals(["setting_type", "age_group"])
    mean = tot.mean(axis=0)
    years = list(projection.years)
    out = np.zeros((len(fy_starts), len(keys)))
    hist = projection.history
    for j, fy in enumerate(fy_starts):
        census = fy + 1
        if census in years:
            out[j] = mean[years.index(census)]
        elif not hist.empty and census in set(hist["year"].astype(int)):
            h = hist[hist["year"].astype(int) == census].groupby(["setting_type", "age_group"])["count"].sum()
            out[j] = [float(h.get((r.setting_type, r.age_group), 0.0)) for r in keys.itertuples()]
    return keys, out


def relative_costs(
    placements: pd.DataFrame | None, at: pd.Timestamp, settings: Sequence[str] = tuple(SETTING_TYPE)
) -> dict[str, float]:
    """Mean ``annual_cost`` of placements open on ``at`` per setting type (pounds a year).

    Used only to share a budget line's cost between the setting types mapped to it (FE colleges
    and specialist post-16 institutions share ``post16_fe``); a setting type with no open placement
    gets weight 1 relative to nothing (equal shares). Empty or missing data: all weights 1.
    """
    if placements is None or placements.empty or "annual_cost" not in placements:
        return dict.fromkeys(settings, 1.0)
    p = placements
    open_ = (p["start_date"] <= at) & (p["end_date"].isna() | (p["end_date"] >= at))
    mean = p[open_].groupby("setting_type")["annual_cost"].mean()
    return {s: float(mean[s]) if s in mean.index and mean[s] > 0 else float("nan") for s in settings}


def observed_counts(
    placements: pd.DataFrame | None, at: pd.Timestamp, settings: Sequence[str] = tuple(SETTING_TYPE)
) -> dict[str, tuple[int, float]] | None:
    """Placements in force on ``at`` per setting type: ``(count, mean annual_cost)``.

    The basis of ``K10_cost_<setting_type>_gbp`` (:mod:`sendlib.models.kpi`): every placement
    with ``start_date <= at`` and ``end_date`` empty or on/after ``at``. None without placements
    (or without ``annual_cost``).
    """
    if placements is None or placements.empty or "annual_cost" not in placements:
        return None
    p = placements
    live = ((p["start_date"] <= at) & (p["end_date"].isna() | (p["end_date"] >= at))).fillna(False).to_numpy()
    g = p[live].groupby(p["setting_type"][live].astype(str))["annual_cost"].agg(["size", "mean"])
    return {
        s: (int(g.loc[s, "size"]), float(g.loc[s, "mean"])) if s in g.index else (0, float("nan")) for s in settings
    }


def _expenditure_for_year(hnb: pd.DataFrame, fy: str, quarter: Quarter) -> tuple[dict[str, float], str]:
    """A year's spend per line: actuals when every line has one, else the latest forecast at or
    before ``quarter``."""
    rows = hnb[hnb["financial_year"] == fy]
    if rows.empty:
        raise DataError(
            "hnb_budget",
            f"no rows for financial year {fy}",
            column="financial_year",
            detail="needed to carry the DSG balance forward to the base year",
        )
    qs = rows["as_at_quarter"].astype(str)
    eligible = rows[[Quarter.parse(q) <= quarter for q in qs]]
    if eligible.empty:
        eligible = rows
    latest = max(eligible["as_at_quarter"].astype(str), key=Quarter.parse)
    at = eligible[eligible["as_at_quarter"].astype(str) == latest]
    if at["actual"].notna().all():
        return at.groupby("line")["actual"].sum().to_dict(), f"actual (as at {latest})"
    return at.groupby("line")["forecast_outturn"].sum().to_dict(), f"forecast outturn as at {latest}"


def carry_forward_balance(
    dsg_income: pd.DataFrame, hnb_budget: pd.DataFrame, quarter: Quarter
) -> tuple[float, pd.DataFrame]:
    """Cumulative DSG balance at the start of the quarter's financial year.

    Starts from the latest ``opening_cumulative_balance`` in ``dsg_income`` for a year up to the
    base year (s251 line 1.9.3 of the year before) and adds each later year's in-year balance:
    income (``dsg_income``) minus spend (``hnb_budget`` actuals, else forecast outturn).

    Returns the opening balance (whole pounds) and one row per year carried.
    """
    base = quarter.fy_start
    inc = dsg_income.copy()
    inc["fy_start"] = inc["financial_year"].astype(str).str[:4].astype(int)
    ob = inc[(inc["item"] == "opening_cumulative_balance") & (inc["fy_start"] <= base)]
    if ob.empty:
        raise DataError(
            "dsg_income",
            f"no opening_cumulative_balance row for {quarter.financial_year} or earlier",
            column="item",
            detail="the model needs the cumulative DSG balance brought forward",
        )
    start = int(ob["fy_start"].max())
    balance = float(np.rint(ob[ob["fy_start"] == start]["amount"].sum()))
    rows = []
    for y in range(start, base):
        fy = financial_year_label(y)
        items = inc[(inc["fy_start"] == y) & inc["item"].isin(INCOME_ITEMS)]
        income = float(sum(np.rint(items.groupby("item")["amount"].sum())))
        spend_lines, basis = _expenditure_for_year(hnb_budget, fy, quarter)
        spend = float(sum(np.rint(v) for v in spend_lines.values()))
        closing = balance + income - spend
        rows.append(
            {
                "financial_year": fy,
                "opening_balance_gbp": balance,
                "income_gbp": income,
                "expenditure_gbp": spend,
                "in_year_balance_gbp": income - spend,
                "closing_balance_gbp": closing,
                "expenditure_basis": basis,
            }
        )
        balance = closing
    hist = pd.DataFrame(
        rows,
        columns=[
            "financial_year",
            "opening_balance_gbp",
            "income_gbp",
            "expenditure_gbp",
            "in_year_balance_gbp",
            "closing_balance_gbp",
            "expenditure_basis",
        ],
    )
    return balance, hist


def build_base(
    sf: ScenarioFile,
    projection: PlacementProjection | Mapping[str, PlacementProjection],
    tables: Mapping[str, pd.DataFrame],
    quarter: Quarter | str,
    horizon: int,
) -> FinanceBase:
    """Calibrate the base year and assemble the inputs every scenario shares.

    Parameters
    ----------
    sf : ScenarioFile
        Validated scenario file (the setting-type -> line map, plan-driven shares, place funding).
    projection : PlacementProjection or mapping
        Demand (after sufficiency's cascade) with January census years covering the base year +
        ``horizon``; or scenario name -> its own projection (scenarios with their own sufficiency
        scenario, :func:`sendlib.models.chain.finance_projections`). The first is the shared one.
    tables : mapping
        Canonical frames: ``hnb_budget``, ``dsg_income`` and optionally ``placements``.
    quarter : Quarter or str
        Report quarter; the base year is its financial year, reconciled to the forecast outturn
        as at this quarter.
    horizon : int
        Projected years after the base year (1-30).

    With ``placements``, the base year's counts are the placements in force at the quarter end
    and each setting type's unit cost is their mean ``annual_cost`` (less the academy place
    funding the DfE pays directly); each line's difference between that and its forecast outturn
    is a reconciling item held in cash (``calibration``), so the base year equals the outturn.
    Overflow changes counts only from the first projected year. Without ``placements`` the base
    year takes the projection's January census and unit costs are calibrated to the outturn.
    """
    q = Quarter.parse(quarter)
    if not 1 <= int(horizon) <= 30:
        raise UsageError(f"horizon must be 1-30 years, not {horizon}")
    years = [q.fy_start + t for t in range(int(horizon) + 1)]
    settings = tuple(SETTING_TYPE)
    lines = tuple(HNB_LINE)
    setting_line = np.array([lines.index(sf.setting_to_line[s]) for s in settings])
    projections = dict(projection) if isinstance(projection, Mapping) else {"": projection}
    if not projections:
        raise UsageError("no placement projection given")
    first = next(iter(projections.values()))
    observed = observed_counts(tables.get("placements"), q.end, settings)
    scenario_counts = {}
    for name, proj in projections.items():
        c = setting_counts(proj, years, settings)
        if observed is not None:
            c[:, 0, :] = np.array([observed[s][0] for s in settings], dtype=np.float64)[None, :]
        scenario_counts[name] = c
    counts = scenario_counts[next(iter(projections))]
    for c in scenario_counts.values():  # one base year for every scenario (the shared one's)
        c[:, 0, :] = counts[:, 0, :].mean(axis=0)[None, :]
    gkeys, gcounts = group_counts(first, years)

    hnb = tables["hnb_budget"]
    fy0 = q.financial_year
    base_rows = hnb[(hnb["financial_year"] == fy0) & (hnb["as_at_quarter"].astype(str) == str(q))]
    if base_rows.empty:
        raise DataError(
            "hnb_budget",
            f"no forecast outturn for {fy0} as at {q}",
            column="as_at_quarter",
            detail="the base year is reconciled to the forecast outturn at the report quarter",
        )
    outturn = base_rows.groupby("line")["forecast_outturn"].sum()
    budget = base_rows.groupby("line")["budget"].sum()
    base_outturn = np.array([float(np.rint(outturn.get(ln, 0.0))) for ln in lines])

    pf = sf.place_funding
    deducted_each = np.array([pf.deducted_gbp(s) if pf else 0.0 for s in settings])
    fixed_cost = np.array([pf.council_fixed_gbp(s) if pf else 0.0 for s in settings])
    mean0 = counts[:, 0, :].mean(axis=0)
    # academy place funding in the line's outturn that never reaches the council
    deducted_line = np.zeros(len(lines))
    if pf is not None and pf.outturn_includes_academy_place_funding:
        np.add.at(deducted_line, setting_line, mean0 * deducted_each)
        deducted_line = np.rint(deducted_line)
    council_outturn = base_outturn - deducted_line
    weights = relative_costs(tables.get("placements"), q.end, settings)
    notes: list[str] = []
    unit_cost = np.zeros(len(settings))
    calibration = np.zeros(len(lines))
    base_non_plan = np.zeros(len(lines))
    rec_rows = []
    for li, ln in enumerate(lines):
        members = [si for si in range(len(settings)) if setting_line[si] == li]
        share = sf.plan_driven_share.get(ln, 1.0) if members else 0.0
        if members and float(mean0[members].sum()) <= 0 and share > 0:
            notes.append(
                f"line '{ln}': no placements in the base year, so it is treated as not "
                "driven by plan numbers (grown at its own rate)"
            )
            share = 0.0
        non_plan = float(np.rint((1.0 - share) * council_outturn[li]))
        plan_part = council_outturn[li] - non_plan
        base_non_plan[li] = non_plan
        if members and share > 0:
            if observed is not None:
                obs = np.array([observed[settings[si]][1] for si in members]) - deducted_each[members]
                known = obs[np.isfinite(obs)]
                obs = np.where(np.isfinite(obs), obs, known.mean() if known.size else 0.0)
                unit_cost[members] = np.maximum(obs, 0.0)
                calibration[li] = plan_part - float((mean0[members] * unit_cost[members]).sum())
            else:
                w = np.array([weights[settings[si]] for si in members])
                known = w[np.isfinite(w)]
                w = np.where(np.isfinite(w), w, known.mean() if known.size else 1.0)
                weighted = float((mean0[members] * w).sum())
                unit_cost[members] = plan_part * w / weighted if weighted > 0 else 0.0
        n_line = float(mean0[members].sum()) if members else 0.0
        rec_rows.append(
            {
                "line": ln,
                "label": HNB_LINE[ln],
                "setting_types": ", ".join(settings[si] for si in members),
                "base_year_placements": n_line,
                "unit_cost_gbp": float(np.rint((mean0[members] * unit_cost[members]).sum() / n_line))
                if members and n_line > 0 and share > 0
                else None,
                "plan_driven_gbp": float((mean0[members] * unit_cost[members]).sum()) if members else 0.0,
                "reconciling_item_gbp": calibration[li],
                "not_plan_driven_gbp": non_plan,
                "budget_gbp": float(np.rint(budget.get(ln, 0.0))),
                "forecast_outturn_gbp": base_outturn[li],
                "academy_place_funding_deducted_gbp": deducted_line[li],
                "council_outturn_gbp": council_outturn[li],
            }
        )
    fixed_cost = np.minimum(fixed_cost, unit_cost)  # place funding is part of the unit cost
    rec = pd.DataFrame(rec_rows)
    onehot = np.eye(len(lines))[setting_line]
    model_exp = np.rint(np.einsum("s,s,sl->l", mean0, unit_cost, onehot) + calibration) + base_non_plan
    rec["model_base_year_gbp"] = model_exp
    rec["difference_gbp"] = rec["model_base_year_gbp"] - rec["council_outturn_gbp"]
    rec.insert(0, "financial_year", fy0)
    rec.insert(1, "as_at_quarter", str(q))
    if observed is not None:
        notes.append(
            f"base-year placements are those in force on {q.end:%d %B %Y} and unit costs their mean annual cost "
            "(as K10); each line's difference from the forecast outturn is a reconciling item held in cash"
        )
    if deducted_line.any():
        notes.append(
            "academy place funding (paid by the DfE and deducted from the high needs allocation) is taken out "
            f"of the base-year outturn: £{deducted_line.sum():,.0f}"
        )

    inc = tables["dsg_income"]
    inc0 = inc[inc["financial_year"] == fy0]
    missing = [i for i in INCOME_ITEMS if i not in set(inc0["item"])]
    if "hnb_allocation" in missing:
        raise DataError(
            "dsg_income",
            f"no hnb_allocation for {fy0}",
            column="item",
            detail="the base year's income is read from the data",
        )
    base_income = {i: float(np.rint(inc0[inc0["item"] == i]["amount"].sum())) for i in INCOME_ITEMS}
    opening, hist = carry_forward_balance(inc, hnb, q)
    return FinanceBase(
        quarter=str(q),
        years=years,
        settings=settings,
        lines=lines,
        setting_line=setting_line,
        unit_cost=unit_cost,
        base_outturn=council_outturn,
        base_non_plan=base_non_plan,
        base_income=base_income,
        opening_balance=opening,
        counts=counts,
        group_keys=gkeys,
        group_counts=gcounts,
        reconciliation=rec,
        balance_history=hist,
        block_transfer_cap_pct=float(sf.block_transfer_cap_pct.value),
        notes=notes,
        fixed_cost=fixed_cost,
        calibration=calibration,
        scenario_counts={k: v for k, v in scenario_counts.items() if k},
        observed_base=observed is not None,
    )


# ----- the engine -----------------------------------------------------------------------------------


def check_scenario(base: FinanceBase, scenario: Scenario) -> None:
    """Refuse mitigations that start in or before the (reconciled) base year."""
    for i, m in enumerate(scenario.mitigations):
        if m.start_year <= base.base_fy:
            raise UsageError(
                f"scenarios.{scenario.name}.mitigations[{i}].start_year: {financial_year_label(m.start_year)} is not "
                f"after the base year {financial_year_label(base.base_fy)} (reconciled to the forecast outturn); "
                f"start in {financial_year_label(base.base_fy + 1)} or later"
            )


def central_params(scenario: Scenario, n: int = 1) -> dict[str, np.ndarray]:
    """Every assumption at its central value, as ``(n,)`` arrays."""
    return {name: np.full(n, scenario.value(name), dtype=np.float64) for name in ASSUMPTIONS}


def _by_year(amounts: Mapping[int, float], years: Sequence[int], *, carry: bool) -> np.ndarray:
    """Amounts keyed by financial-year start as a ``(T,)`` array; ``carry`` holds the latest value on."""
    out = np.zeros(len(years))
    for j, y in enumerate(years):
        if carry:
            past = [v for k, v in amounts.items() if k <= y]
            out[j] = past[-1] if past else 0.0
        else:
            out[j] = amounts.get(y, 0.0)
    return out


def investment_by_year(base: FinanceBase, scenario: Scenario) -> np.ndarray:
    """``(T,)`` mitigation investment in whole pounds per year."""
    total = np.zeros(len(base.years))
    for m in scenario.mitigations:
        total += _by_year(m.investment_gbp, base.years, carry=False)
    return np.rint(total)


def apply_mitigations_to_counts(
    base: FinanceBase, scenario: Scenario, counts: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Placements after the growth adjustment, early help and INMSS -> local moves.

    ``counts`` is ``(D, T, S)``; returns a new array. Order: extra growth on the projection,
    then ``fewer_new_plans`` (a share of each setting's year-on-year growth removed from the
    start year; falls are untouched), then ``inmss_to_local`` (up to the places open, never more
    than the INMSS placements). Mitigation effects are scaled by ``mitigation_delivery_pct``.
    """
    D, T, S = counts.shape
    t = np.arange(T, dtype=np.float64)
    g = params["placement_growth_adjustment_pct"][:, None, None] / 100.0
    c = counts * (1.0 + g) ** t[None, :, None] if np.any(g) else counts.copy()
    delivery = params["mitigation_delivery_pct"] / 100.0  # (D,)
    for m in scenario.mitigations:
        ts = m.start_year - base.base_fy
        if ts >= T:
            continue
        if m.kind == "fewer_new_plans":
            mask = np.array([(not m.settings) or s in m.settings for s in base.settings])
            r = (m.reduction_pct / 100.0) * delivery  # (D,)
            d = np.diff(c, axis=1)  # (D, T-1, S): growth into year t+1
            cut = np.where(d > 0, d * r[:, None, None], 0.0)
            cut[:, : ts - 1, :] = 0.0  # growth into years before the start year untouched
            cut[:, :, ~mask] = 0.0
            c = c - np.concatenate([np.zeros((D, 1, S)), np.cumsum(cut, axis=1)], axis=1)
        elif m.kind == "inmss_to_local":
            places = _by_year(m.places, base.years, carry=True)
            places[:ts] = 0.0
            i_from, i_to = base.settings.index("inmss"), base.settings.index(m.to_setting)
            moved = np.minimum(places[None, :] * delivery[:, None], c[:, :, i_from])
            moved = np.maximum(moved, 0.0)
            c[:, :, i_from] -= moved
            c[:, :, i_to] += moved
    return np.maximum(c, 0.0)


def unit_cost_factors(base: FinanceBase, scenario: Scenario, params: Mapping[str, np.ndarray], T: int) -> np.ndarray:
    """``(D, T, S)`` multiplier on base top-ups and fees (unit cost less the place funding the
    council pays, which is fixed): inflation, the general change, banding mitigations."""
    t = np.arange(T, dtype=np.float64)
    infl = (1.0 + params["unit_cost_inflation_pct"][:, None] / 100.0) ** t[None, :]  # (D,T)
    change = 1.0 + params["unit_cost_change_pct"][:, None] / 100.0 * (t[None, :] >= 1)
    f = (infl * change)[:, :, None] * np.ones(len(base.settings))
    delivery = params["mitigation_delivery_pct"] / 100.0
    for m in scenario.mitigations:
        if m.kind != "unit_cost_change":
            continue
        ts = m.start_year - base.base_fy
        mask = np.array([s in m.settings for s in base.settings])
        on = (t >= ts)[None, :, None] & mask[None, None, :]
        f = f * np.where(on, 1.0 + (m.change_pct / 100.0) * delivery[:, None, None], 1.0)
    return f


@dataclass
class SimOutput:
    """Arrays from :func:`simulate`, all money in whole pounds.

    ``income`` ``(D, T, 3)`` by :data:`INCOME_ITEMS`; ``expenditure`` ``(D, T, L+1)`` by budget line
    then mitigation investment; ``counts`` ``(D, T, S)`` placements after mitigations;
    ``cumulative`` ``(D, T)``.
    """

    income: np.ndarray
    expenditure: np.ndarray
    counts: np.ndarray
    opening: float

    @property
    def income_total(self) -> np.ndarray:
        return self.income.sum(axis=2)

    @property
    def expenditure_total(self) -> np.ndarray:
        return self.expenditure.sum(axis=2)

    @property
    def in_year(self) -> np.ndarray:
        return self.income_total - self.expenditure_total

    @property
    def cumulative(self) -> np.ndarray:
        return self.opening + np.cumsum(self.in_year, axis=1)


def simulate(
    base: FinanceBase, scenario: Scenario, params: Mapping[str, np.ndarray], counts: np.ndarray | None = None
) -> SimOutput:
    """Run one scenario for ``D`` draws of the assumptions (vectorised).

    Parameters
    ----------
    params : mapping
        Every name in :data:`ASSUMPTIONS` -> ``(D,)`` array of values.
    counts : ndarray, optional
        ``(D, T, S)`` projected placements per draw (default: the central path, broadcast).
    """
    T, S, L = len(base.years), len(base.settings), len(base.lines)
    D = len(next(iter(params.values())))
    if counts is None:
        counts = np.broadcast_to(base.central_counts_for(scenario.name), (D, T, S))
    t = np.arange(T, dtype=np.float64)
    c = apply_mitigations_to_counts(base, scenario, counts, params)
    fixed = base.fixed_cost[None, None, :]
    top_up = (base.unit_cost - base.fixed_cost)[None, None, :]
    cost = c * (fixed + top_up * unit_cost_factors(base, scenario, params, T))
    onehot = np.zeros((S, L))
    onehot[np.arange(S), base.setting_line] = 1.0
    plan = np.rint(cost @ onehot + base.calibration[None, None, :])  # (D,T,L)
    growth = np.stack([params.get(f"{ln}_growth_pct", np.zeros(D)) for ln in base.lines], axis=1)  # (D,L)
    non_plan = np.rint(base.base_non_plan[None, None, :] * (1.0 + growth[:, None, :] / 100.0) ** t[None, :, None])
    invest = np.broadcast_to(investment_by_year(base, scenario)[None, :, None], (D, T, 1))
    expenditure = np.concatenate([plan + non_plan, invest], axis=2)

    def grown(amount: float, rate: np.ndarray) -> np.ndarray:
        return np.rint(amount * (1.0 + rate[:, None] / 100.0) ** t[None, :])

    hnb = grown(base.base_income["hnb_allocation"], params["hnb_allocation_growth_pct"])
    other = grown(base.base_income["other"], params["other_income_growth_pct"])
    pct = np.minimum(params["block_transfer_pct"], base.block_transfer_cap_pct) / 100.0
    sb = (
        params["schools_block_gbp"][:, None] * (1.0 + params["schools_block_growth_pct"][:, None] / 100.0) ** t[None, :]
    )
    block = np.rint(pct[:, None] * sb)
    block[:, 0] = base.base_income["block_transfer"]
    income = np.stack([hnb, block, other], axis=2)
    return SimOutput(income=income, expenditure=expenditure, counts=c, opening=base.opening_balance)


def yearly_table(base: FinanceBase, scenario: Scenario, out: SimOutput, draw: int = 0) -> pd.DataFrame:
    """One scenario's yearly income, expenditure by line and balances (one draw, whole pounds)."""
    T = len(base.years)
    df = pd.DataFrame(
        {
            "scenario": scenario.name,
            "financial_year": base.labels,
            "year_index": np.arange(T),
            "census_year": [y + 1 for y in base.years],
        }
    )
    cum = out.cumulative[draw]
    df["opening_balance_gbp"] = np.concatenate([[base.opening_balance], cum[:-1]])
    for k, item in enumerate(INCOME_ITEMS):
        df[f"income_{item}_gbp"] = out.income[draw, :, k]
    df["income_gbp"] = out.income_total[draw]
    for k, ln in enumerate(list(base.lines) + [INVESTMENT_LINE]):
        df[f"expenditure_{ln}_gbp"] = out.expenditure[draw, :, k]
    df["expenditure_gbp"] = out.expenditure_total[draw]
    df["in_year_balance_gbp"] = out.in_year[draw]
    df["cumulative_balance_gbp"] = cum
    money = [c for c in df.columns if c.endswith("_gbp")]
    df[money] = df[money].round(0).astype("int64")
    df["placements"] = out.counts[draw].sum(axis=1).round(1)
    return df


def placements_table(base: FinanceBase, scenario: Scenario, out: SimOutput, draw: int = 0) -> pd.DataFrame:
    """Placements by setting type per year after mitigations (one draw), long form."""
    rows = []
    for j, fy in enumerate(base.labels):
        for k, s in enumerate(base.settings):
            rows.append(
                {
                    "scenario": scenario.name,
                    "financial_year": fy,
                    "census_year": base.years[j] + 1,
                    "setting_type": s,
                    "placements": float(out.counts[draw, j, k]),
                    "unit_cost_gbp": float(np.rint(base.unit_cost[k])),
                }
            )
    return pd.DataFrame(rows)


def invest_to_save(
    base: FinanceBase, scenario: Scenario, out: SimOutput, baseline: SimOutput, baseline_name: str
) -> pd.DataFrame:
    """Savings against ``baseline`` per year, cumulative investment and the payback year.

    Savings are the baseline's expenditure minus this scenario's, both excluding mitigation
    investment. Payback year: the first year in which cumulative savings reach cumulative
    investment (empty when they never do within the horizon, or there is no investment).
    """
    gross = out.expenditure[0, :, :-1].sum(axis=1)
    gross_base = baseline.expenditure[0, :, :-1].sum(axis=1)
    savings = gross_base - gross
    inv = out.expenditure[0, :, -1]
    cum_s, cum_i = np.cumsum(savings), np.cumsum(inv)
    payback = ""
    if cum_i[-1] > 0:
        hit = np.nonzero((cum_s >= cum_i) & (cum_i > 0))[0]
        if hit.size:
            payback = base.labels[int(hit[0])]
    df = pd.DataFrame(
        {
            "scenario": scenario.name,
            "compared_with": baseline_name,
            "financial_year": base.labels,
            "savings_gbp": savings,
            "investment_gbp": inv,
            "cumulative_savings_gbp": cum_s,
            "cumulative_investment_gbp": cum_i,
            "net_benefit_gbp": cum_s - cum_i,
        }
    )
    money = [c for c in df.columns if c.endswith("_gbp")]
    df[money] = df[money].round(0).astype("int64")
    df["payback_year"] = payback
    return df
