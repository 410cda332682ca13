"""The placement projection that the demand forecast hands to sufficiency and finance.

One object flows down the model chain: forecast -> sufficiency (moves overflow to INMSS) ->
finance (prices it). It carries every simulation, so intervals of any total are computed from
simulated totals, never by adding the quantiles of parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

#: DfE DSG Management Plan template age groups (whole years of age on 31 August).
AGE_GROUPS = ("under_5", "5_10", "11_15", "16_19", "20_25")
GROUP_COLUMNS = ("setting_type", "phase", "primary_need", "locality", "age_group")


def age_group_of(age: "int | np.ndarray | pd.Series") -> "str | np.ndarray":
    """DSG template age group of an age in whole years: under_5, 5_10, 11_15, 16_19, 20_25."""
    bins = np.array([5, 11, 16, 20])
    idx = np.searchsorted(bins, np.asarray(age), side="right")
    labels = np.array(AGE_GROUPS, dtype=object)
    out = labels[idx]
    return out if np.ndim(out) else str(out)


@dataclass
class PlacementProjection:
    """Simulated counts of children with a plan per group and January census year.

    Attributes
    ----------
    years : list[int]
        January census years projected (ascending).
    groups : DataFrame
        One row per group, columns at least :data:`GROUP_COLUMNS`.
    draws : ndarray
        Shape ``(n_sims, n_years, n_groups)``: counts at each census in each simulation.
    history : DataFrame
        Observed counts: ``year`` plus group columns plus ``count`` (may be empty).
    label : str
        Scenario name.
    """

    years: list[int]
    groups: pd.DataFrame
    draws: np.ndarray
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    label: str = ""

    def __post_init__(self) -> None:
        self.groups = self.groups.reset_index(drop=True)
        missing = [c for c in GROUP_COLUMNS if c not in self.groups.columns]
        if missing:
            raise ValueError(f"projection groups lack columns {missing}")
        if self.draws.ndim != 3 or self.draws.shape[1:] != (len(self.years), len(self.groups)):
            raise ValueError(
                f"draws must be (n_sims, {len(self.years)} years, {len(self.groups)} groups), "
                f"not {self.draws.shape}"
            )

    @property
    def n_sims(self) -> int:
        return int(self.draws.shape[0])

    def totals(self, by: Sequence[str] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
        """Sum simulated counts within groups of ``by`` columns.

        Returns the distinct keys (a frame, one row per key) and an array
        ``(n_sims, n_years, n_keys)``; with ``by=None`` one key, the grand total.
        """
        if not by:
            return pd.DataFrame(index=[0]), self.draws.sum(axis=2, keepdims=True)
        keys = self.groups[list(by)].drop_duplicates().sort_values(list(by)).reset_index(drop=True)
        code = self.groups[list(by)].merge(keys.reset_index(), on=list(by), how="left")["index"].to_numpy()
        out = np.zeros(self.draws.shape[:2] + (len(keys),), dtype=np.float64)
        for k in range(len(keys)):
            out[:, :, k] = self.draws[:, :, code == k].sum(axis=2)
        return keys, out

    def summary(self, by: Sequence[str] | None = None, intervals: Sequence[float] = (0.8, 0.95)) -> pd.DataFrame:
        """Median and central intervals per year (and per ``by`` key), from simulated totals.

        Columns: ``year``, the ``by`` columns, ``median``, then ``lower_80``/``upper_80`` etc.
        """
        keys, tot = self.totals(by)
        rows = []
        for k in range(tot.shape[2]):
            for j, year in enumerate(self.years):
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

    def with_draws(self, draws: np.ndarray, groups: pd.DataFrame | None = None, label: str | None = None) -> "PlacementProjection":
        """A copy with new draws (and optionally groups / label): used by sufficiency overflow."""
        return PlacementProjection(
            years=list(self.years),
            groups=self.groups if groups is None else groups,
            draws=draws,
            history=self.history,
            label=self.label if label is None else label,
        )
