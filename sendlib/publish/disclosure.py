"""Small-number suppression for published outputs (statistical disclosure control).

Applied at output time only, never to the data the models use (``docs/kpis.md``, "Small numbers"):

- primary: a count from 1 to ``threshold - 1`` is published as ``"<threshold"`` (``"<5"``);
  zero is published as 0 (a true zero discloses nothing about an individual);
- percentages built on a denominator below ``min_denominator`` are not published (``""``), nor
  is a percentage whose numerator was suppressed (it would give the numerator back);
- secondary: within each group of rows that add up to a published total
  (``secondary_groups``), when exactly one cell of a count column is suppressed, the next
  smallest published cell is suppressed too (shown as ``"c"``, the DfE symbol), so the hidden
  value cannot be recovered by differencing.

The GSS / DfE convention of ``c`` for confidential cells is followed for secondary suppression.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

SECONDARY_SYMBOL = "c"


def suppress_table(
    df: pd.DataFrame,
    counts: Sequence[str] = (),
    percentages: Mapping[str, str | tuple[str, str]] | None = None,
    threshold: int = 5,
    min_denominator: int = 10,
    secondary_groups: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return a copy of ``df`` safe to publish.

    Parameters
    ----------
    df : DataFrame
        Aggregate table (never person-level rows).
    counts : sequence of str
        Columns holding counts of people or events.
    percentages : mapping
        ``{pct_col: denominator_col}`` or ``{pct_col: (numerator_col, denominator_col)}``.
    threshold : int
        Counts ``1 .. threshold-1`` are suppressed (default 5: counts 1-4 shown as ``<5``).
    min_denominator : int
        Percentages on a denominator below this are not shown.
    secondary_groups : sequence of str, optional
        Columns that define groups of rows whose counts add up to a published total; within each
        group secondary suppression protects a single suppressed cell. ``[]`` means the whole
        table is one group; ``None`` means no secondary suppression.

    Returns
    -------
    DataFrame
        Count and percentage columns become object columns holding numbers or symbols.
    """
    percentages = dict(percentages or {})
    missing = [c for c in list(counts) + list(percentages) if c not in df.columns]
    if missing:
        raise KeyError(f"cannot suppress: columns {missing} not in table")
    out = df.copy()
    primary = {}
    for col in counts:
        values = pd.to_numeric(df[col], errors="coerce")
        primary[col] = ((values >= 1) & (values < threshold)).fillna(False).to_numpy()

    secondary = {col: np.zeros(len(df), dtype=bool) for col in counts}
    if secondary_groups is not None:
        keys = (
            [np.zeros(len(df), dtype=int)]
            if len(secondary_groups) == 0
            else [df[list(secondary_groups)].astype(str).agg("|".join, axis=1).to_numpy()]
        )
        group_key = keys[0]
        for col in counts:
            values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            for g in pd.unique(group_key):
                idx = np.flatnonzero(group_key == g)
                if len(idx) < 2:
                    continue
                hidden = primary[col][idx]
                if hidden.sum() == 1:
                    candidates = [i for i in idx if not primary[col][i] and values[i] > 0]
                    if candidates:
                        smallest = min(candidates, key=lambda i: (values[i], i))
                        secondary[col][smallest] = True

    for col in counts:
        values = df[col]
        new = values.astype(object).copy()
        new[primary[col]] = f"<{threshold}"
        new[secondary[col]] = SECONDARY_SYMBOL
        new = new.map(_tidy_number)
        out[col] = new.astype(object)

    for pct, spec in percentages.items():
        if isinstance(spec, tuple):
            num_col, den_col = spec
        else:
            num_col, den_col = None, spec
        den = pd.to_numeric(df[den_col], errors="coerce")
        hide = (den < min_denominator).fillna(True).to_numpy().copy()
        if num_col is not None and num_col in primary:
            hide |= primary[num_col] | secondary[num_col]
        if den_col in primary:
            hide |= primary[den_col] | secondary[den_col]
        new = df[pct].astype(object).copy()
        new[hide] = ""
        out[pct] = new.map(_tidy_number).astype(object)
    return out


def _tidy_number(v: object) -> object:
    """Publish whole-number floats as ints (``12`` not ``12.0``); leave symbols alone."""
    if isinstance(v, (float, np.floating)) and not np.isnan(v) and float(v).is_integer():
        return int(v)
    return v


def small_counts(df: pd.DataFrame, counts: Sequence[str], threshold: int = 5) -> pd.DataFrame:
    """Rows of ``df`` where a count column holds an unsuppressed value 1..threshold-1 (a check)."""
    mask = np.zeros(len(df), dtype=bool)
    for col in counts:
        v = pd.to_numeric(df[col], errors="coerce")
        mask |= ((v >= 1) & (v < threshold)).fillna(False).to_numpy()
    return df[mask]


def suppress_kpis(frame: pd.DataFrame, threshold: int = 5, min_denominator: int = 10) -> pd.DataFrame:
    """A KPI table (:func:`sendlib.models.kpi.compute_kpis`) made safe to publish.

    Rules by kind of row: counts (``unit == "count"``): value, numerator, denominator and previous
    value are counts (1 to threshold-1 shown as ``<5``); fractions, rates, medians and averages: numerator and
    denominator are counts and the value (and previous value) is not shown on a denominator below
    ``min_denominator`` or a suppressed numerator; budget variances (``K10_variance_*``) are money
    and left alone. ``change`` is blanked wherever either of its values is not shown. The frame the
    models use is never changed: this returns a copy.
    """
    if frame.empty:
        return frame.copy()
    kind = np.select(
        [frame["kpi"].str.startswith("K10_variance"), frame["unit"] == "count", frame["unit"] == "£"],
        ["money", "count", "average"],
        default="fraction",
    )
    parts = []
    for k, sub in frame.groupby(kind, sort=False):
        if k == "money":
            safe = sub.astype(dict.fromkeys(["numerator", "denominator", "value", "previous_value", "change"], object))
        elif k == "count":
            safe = suppress_table(
                sub,
                # a count row may carry its base as denominator (K6_pending: reviews due), a count too
                counts=["value", "numerator", "denominator", "previous_value"],
                threshold=threshold,
                min_denominator=min_denominator,
            )
        elif k == "average":  # numerator is total pounds: hide it with the average on small bases
            safe = suppress_table(
                sub,
                counts=["denominator"],
                percentages={
                    "value": "denominator",
                    "numerator": "denominator",
                    "previous_value": "previous_denominator",
                },
                threshold=threshold,
                min_denominator=min_denominator,
            )
        else:
            safe = suppress_table(
                sub,
                counts=["numerator", "denominator", "previous_numerator"],
                percentages={
                    "value": ("numerator", "denominator"),
                    "previous_value": ("previous_numerator", "previous_denominator"),
                },
                threshold=threshold,
                min_denominator=min_denominator,
            )
        parts.append(safe)
    out = pd.concat(parts).loc[frame.index]
    hidden = ["", f"<{threshold}", "c"]
    value_shown = ~out["value"].isin(hidden)
    out["change"] = out["change"].astype(object).where(value_shown & ~out["previous_value"].isin(hidden), "")
    out["rag"] = out["rag"].astype(object).where(value_shown, None)  # no RAG for a value not shown
    return out.drop(columns=["previous_numerator", "previous_denominator"])
