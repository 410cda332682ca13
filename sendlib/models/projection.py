"""The placement projection that the demand forecast hands to sufficiency and finance.

One object flows down the model chain: forecast -> sufficiency (moves overflow to INMSS) ->
finance (prices it). It carries every simulation, so intervals of any total are computed from
simulated totals, never by adding the quantiles of parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: DfE DSG Management Plan template age groups (whole years of age on 31 August).
AGE_GROUPS = ("under_5", "5_10", "11_15", "16_19", "20_25")
GROUP_COLUMNS = ("setting_type", "phase", "primary_need", "locality", "age_group")


def age_group_of(age: int | np.ndarray | pd.Series) -> str | np.ndarray:
    """DSG template age group of an age in whole years: under_5, 5_10, 11_15, 16_19, 20_25."""
    bins = np.array([5, 11, 16, 20])
    idx = np.searchsorted(bins, np.asarray(age), side="right")
    labels = np.array(AGE_GROUPS, dtype=object)
    out = labels[idx]
    return out if np.ndim(out) else str(out)


def group_sums(draws: np.ndarray, code: np.ndarray, n_keys: int, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Sum ``draws`` ``(n_sims, n_years, n_groups)`` over the groups of each key:
    ``out[:, :, k] = draws[:, :, code == k].sum(axis=2)`` for every ``k`` (groups whose code is
    outside ``0..n_keys-1`` are left out), ``out`` of ``dtype``.

    The same numbers as that loop, to the last bit: each key's groups are added one after another
    in their order, in the dtype of ``draws`` (that is how numpy sums the boolean-mask copy, whose
    group axis is outermost in memory). Instead of one mask copy of the whole array per key, a
    block of simulations at a time is laid out group-major in key order (one gather that stays in
    cache) and each key is summed over its run of groups.
    """
    code = np.asarray(code)
    out = np.zeros(draws.shape[:2] + (n_keys,), dtype=dtype)
    if n_keys == 0 or draws.shape[2] == 0:
        return out
    keep = np.flatnonzero((code >= 0) & (code < n_keys))
    order = keep[np.argsort(code[keep], kind="stable")]
    ordered_codes = code[order]
    starts = np.searchsorted(ordered_codes, np.arange(n_keys), side="left")
    ends = np.searchsorted(ordered_codes, np.arange(n_keys), side="right")
    present = np.flatnonzero(ends > starts)
    by_group = np.moveaxis(draws, 2, 0)  # a view: (n_groups, n_sims, n_years)
    for s0 in range(0, draws.shape[0], _SIM_BLOCK):
        block = by_group[:, s0 : s0 + _SIM_BLOCK][order]  # contiguous, group-major, key order
        for k in present:
            out[s0 : s0 + _SIM_BLOCK, :, k] = block[starts[k] : ends[k]].sum(axis=0)
    return out


#: Simulations per block in :func:`group_sums` (a block of all groups stays within a few MB).
_SIM_BLOCK = 64


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
                f"draws must be (n_sims, {len(self.years)} years, {len(self.groups)} groups), not {self.draws.shape}"
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
        return keys, group_sums(self.draws, code, len(keys))

    def summary(self, by: Sequence[str] | None = None, intervals: Sequence[float] = (0.8, 0.95)) -> pd.DataFrame:
        """Median and central intervals per year (and per ``by`` key), from simulated totals.

        Columns: ``year``, the ``by`` columns, ``median``, then ``lower_80``/``upper_80`` etc.
        """
        keys, tot = self.totals(by)
        n_keys, n_years = tot.shape[2], len(self.years)
        if n_keys == 0 or n_years == 0:
            return pd.DataFrame([])

        # one row per key and year, keys outer: (n_sims, n_years, n_keys) -> (n_keys * n_years,)
        def flat(a: np.ndarray) -> np.ndarray:
            return np.asarray(a, dtype=np.float64).T.reshape(-1)

        columns: dict[str, np.ndarray] = {"median": flat(np.median(tot, axis=0))}
        for level in intervals:
            pct = int(round(level * 100))
            lo, hi = np.quantile(tot, [(1 - level) / 2, 1 - (1 - level) / 2], axis=0)
            columns[f"lower_{pct}"] = flat(lo)
            columns[f"upper_{pct}"] = flat(hi)
        # keys as plain Python values, as a frame built row by row would hold them
        out = (
            pd.DataFrame([r for r in keys.to_dict("records") for _ in range(n_years)])
            if by
            else pd.DataFrame(index=range(n_keys * n_years))
        )
        out.insert(0, "year", pd.Series([y for _ in range(n_keys) for y in self.years]))
        for name, values in columns.items():
            out[name] = values
        return out

    def with_draws(
        self, draws: np.ndarray, groups: pd.DataFrame | None = None, label: str | None = None
    ) -> PlacementProjection:
        """A copy with new draws (and optionally groups / label): used by sufficiency overflow."""
        return PlacementProjection(
            years=list(self.years),
            groups=self.groups if groups is None else groups,
            draws=draws,
            history=self.history,
            label=self.label if label is None else label,
        )
