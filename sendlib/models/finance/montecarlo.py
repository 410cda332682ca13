"""Monte Carlo over the uncertain assumptions and the demand projection's own simulations.

Each uncertain assumption (one with ``low``/``high`` in the scenario file) is drawn from its
distribution: ``triangular`` (min ``low``, mode ``value``, max ``high``), ``uniform``
(``low``-``high``) or ``normal`` (mean ``value``, ``low``/``high`` its 10th/90th percentiles,
clipped to the assumption's allowed range). Draws use common random numbers: draw ``i`` of an
assumption uses the same uniform in every scenario, and the same projection simulation, so
scenario differences are not blurred by sampling noise. The projection's simulations are
resampled with replacement to the number of draws; the base year is held at the central
placements (it is reconciled to the forecast outturn), so uncertainty starts in year 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri

from sendlib.models.finance.model import FinanceBase, SimOutput, central_params, simulate
from sendlib.models.finance.scenarios import ASSUMPTIONS, Assumption, Scenario

#: z of the 90th percentile of a standard normal (low/high of a normal are its 10th/90th percentiles).
_Z90 = 1.2815515655446004
FAN_QUANTILES = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)


def common_uniforms(n: int, seed: int) -> dict[str, np.ndarray]:
    """One stream of ``n`` uniforms per assumption name (stable across scenarios and runs)."""
    return {name: np.random.default_rng([seed, i]).random(n) for i, name in enumerate(sorted(ASSUMPTIONS))}


def draw_assumption(a: Assumption, u: np.ndarray) -> np.ndarray:
    """Values of one assumption for uniforms ``u`` (inverse CDF of its distribution)."""
    if not a.is_uncertain:
        return np.full(u.shape, a.value)
    lo, mode, hi = float(a.low), float(a.value), float(a.high)  # type: ignore[arg-type]
    if a.distribution == "uniform":
        x = lo + u * (hi - lo)
    elif a.distribution == "normal":
        x = mode + (hi - lo) / (2 * _Z90) * ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    else:  # triangular
        fc = (mode - lo) / (hi - lo)
        x = np.where(u < fc, lo + np.sqrt(u * (hi - lo) * (mode - lo)), hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode)))
    spec = ASSUMPTIONS[a.name]
    return np.clip(
        x,
        spec.min_value if spec.min_value is not None else -np.inf,
        spec.max_value if spec.max_value is not None else np.inf,
    )


def sample_params(scenario: Scenario, uniforms: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every assumption as an ``(n,)`` array: drawn when uncertain, else its central value."""
    n = len(next(iter(uniforms.values())))
    params = central_params(scenario, n)
    for name, a in scenario.assumptions.items():
        if a.is_uncertain:
            params[name] = draw_assumption(a, uniforms[name])
    return params


def resample_sims(n_sims: int, n: int, seed: int) -> np.ndarray:
    """Indices of projection simulations for ``n`` draws (with replacement)."""
    if n_sims <= 1:
        return np.zeros(n, dtype=np.int64)
    return np.random.default_rng([seed, 10_000]).integers(0, n_sims, n)


def anchor_base_year(base: FinanceBase, counts: np.ndarray) -> np.ndarray:
    """Hold the base year at the central placements in every draw.

    The base year is the current financial year, priced at the finance team's forecast outturn
    as at the report quarter; demand uncertainty enters from the first projected year.
    """
    out = np.array(counts, dtype=np.float64, copy=True)
    out[:, 0, :] = base.central_counts[0, 0, :]
    return out


def run_monte_carlo(
    base: FinanceBase, scenarios: Sequence[Scenario], draws: int, seed: int = 0
) -> dict[str, SimOutput]:
    """Simulate every scenario ``draws`` times (vectorised); returns name -> :class:`SimOutput`."""
    if draws < 1:
        return {}
    u = common_uniforms(draws, seed)
    idx = resample_sims(base.counts.shape[0], draws, seed)
    return {
        s.name: simulate(base, s, sample_params(s, u), anchor_base_year(base, base.counts_for(s.name)[idx]))
        for s in scenarios
    }


def fan_table(
    base: FinanceBase, mc: Mapping[str, SimOutput], quantiles: Sequence[float] = FAN_QUANTILES
) -> pd.DataFrame:
    """Quantiles of the cumulative balance per scenario and year (whole pounds): ``p05`` ... ``p95``."""
    rows = []
    for name, out in mc.items():
        q = np.quantile(out.cumulative, quantiles, axis=0)  # (Q, T)
        for j, fy in enumerate(base.labels):
            row = {"scenario": name, "financial_year": fy, "year_index": j}
            for k, p in enumerate(quantiles):
                row[f"p{int(round(p * 100)):02d}_gbp"] = int(np.rint(q[k, j]))
            rows.append(row)
    return pd.DataFrame(rows)


def probability_table(base: FinanceBase, mc: Mapping[str, SimOutput], deficit_gbp: float) -> pd.DataFrame:
    """Share of draws in which the cumulative deficit exceeds ``deficit_gbp`` at each year end (%)."""
    rows = []
    for name, out in mc.items():
        p = (out.cumulative < -abs(deficit_gbp)).mean(axis=0) * 100.0
        for j, fy in enumerate(base.labels):
            rows.append(
                {
                    "scenario": name,
                    "financial_year": fy,
                    "year_index": j,
                    "threshold_deficit_gbp": int(deficit_gbp),
                    "probability_deficit_exceeds_pct": round(float(p[j]), 1),
                }
            )
    return pd.DataFrame(rows)
