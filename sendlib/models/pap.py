"""Priority Action Plan (PAP) tracker: the 34 actions by BRAG, movement and overdue actions.

The PAP (``docs/sources.md``: Priority Action Plan update, May 2024) groups its actions into five priority areas; an action's area is the first
character of its reference (``1.4`` -> 1, ``2B:3`` -> 2, ``3A1`` -> 3). Each action is rated every
quarter on the DfE's BRAG scale (:data:`sendlib.core.schema.BRAG_ORDER`: grey, red, amber, green,
blue, in order of progress).

Refinements (also in ``docs/kpis.md``):

- an action's rating "at quarter end" is its latest rating given at or before that quarter (so an
  action not re-rated in a quarter keeps its last rating rather than vanishing);
- movement compares that rating with the rating at the end of the previous quarter: ``started``
  (grey, not started, last quarter and any other rating now: starting is not "moving up" the
  scale), otherwise by position in ``BRAG_ORDER``: ``up``, ``down``, ``same``; ``new`` when the
  action had no rating last quarter;
- deteriorated: moved down, or started as red (grey -> red: started and already delayed);
- overdue: a due date strictly before the quarter's last day and a rating that is neither green
  nor blue (actions with no due date, "TBC" or "ongoing", are never overdue);
- needs attention: rated red, or rated amber and overdue (amber past its due date).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.core.quarters import Quarter
from sendlib.core.schema import BRAG_ORDER

#: Ratings that count as delivered for the overdue rule.
DELIVERED = ("green", "blue")
MOVEMENTS = ("started", "up", "same", "down", "new")
#: The "not started" rating: leaving it is ``started``, not a move up the scale.
NOT_STARTED = "grey"


def _quarter_index(labels: pd.Series) -> pd.Series:
    """Canonical quarter labels (``2025-26Q2``) as sortable integers (fy_start * 4 + q - 1)."""
    text = labels.astype("string")
    return text.str.slice(0, 4).astype(int) * 4 + text.str.slice(-1).astype(int) - 1


def _q_index(q: Quarter) -> int:
    return q.fy_start * 4 + q.q - 1


def ratings_at(pap: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """Each action's latest rating given at or before ``quarter`` (one row per ``ref``).

    Parameters
    ----------
    pap : DataFrame
        The canonical ``pap_actions`` table.
    quarter : Quarter
        The quarter whose end the ratings describe.

    Returns
    -------
    DataFrame
        The ``pap_actions`` columns for the chosen rows, plus ``priority_area`` (1-5, int).
    """
    if len(pap) == 0:
        return pap.assign(priority_area=pd.Series(dtype="int64"))
    idx = _quarter_index(pap["quarter"])
    upto = pap[(idx <= _q_index(quarter)).to_numpy()].copy()
    upto["_qi"] = idx[(idx <= _q_index(quarter)).to_numpy()]
    latest = upto.sort_values(["ref", "_qi"]).drop_duplicates("ref", keep="last").drop(columns="_qi")
    latest["priority_area"] = latest["ref"].astype("string").str.strip().str.slice(0, 1).astype(int)
    return latest.reset_index(drop=True)


def action_status(pap: pd.DataFrame, quarter: Quarter) -> pd.DataFrame:
    """Every action at the quarter's end: BRAG, the previous quarter's BRAG, movement, overdue.

    Returns
    -------
    DataFrame
        One row per action: ``ref``, ``priority_area``, ``objective``, ``theme``, ``project``,
        ``due``, ``brag``, ``previous_brag``, ``movement`` (started / up / same / down / new),
        ``deteriorated`` (moved down, or grey -> red), ``is_overdue`` (bool), ``needs_attention``
        (red, or amber and overdue), ``comment``.
    """
    now = ratings_at(pap, quarter)
    before = ratings_at(pap, quarter.previous)[["ref", "brag"]].rename(columns={"brag": "previous_brag"})
    out = now.merge(before, on="ref", how="left")
    rank = {b: i for i, b in enumerate(BRAG_ORDER)}
    r_now = out["brag"].map(rank).astype(float)
    r_before = out["previous_brag"].map(rank).astype(float)
    started = (out["previous_brag"] == NOT_STARTED).fillna(False).to_numpy(bool) & (out["brag"] != NOT_STARTED).fillna(
        False
    ).to_numpy(bool)
    out["movement"] = np.select(
        [r_before.isna(), started, r_now > r_before, r_now < r_before], ["new", "started", "up", "down"], default="same"
    )
    red = (out["brag"] == "red").fillna(False).to_numpy(bool)
    out["deteriorated"] = (out["movement"] == "down").to_numpy(bool) | (
        (out["movement"] == "started").to_numpy(bool) & red
    )
    due = pd.to_datetime(out["due"])
    out["is_overdue"] = ((due < quarter.end) & ~out["brag"].isin(DELIVERED)).fillna(False).astype(bool)
    amber = (out["brag"] == "amber").fillna(False).to_numpy(bool)
    out["needs_attention"] = red | (amber & out["is_overdue"].to_numpy(bool))
    cols = [
        "ref",
        "priority_area",
        "objective",
        "theme",
        "project",
        "due",
        "brag",
        "previous_brag",
        "movement",
        "deteriorated",
        "is_overdue",
        "needs_attention",
        "comment",
    ]
    return out[cols].sort_values(["priority_area", "ref"]).reset_index(drop=True)


def brag_by_area(status: pd.DataFrame) -> pd.DataFrame:
    """Actions by priority area (rows, plus ``All``) and BRAG (columns in progress order), with a total.

    Parameters
    ----------
    status : DataFrame
        Output of :func:`action_status`.
    """
    table = pd.crosstab(status["priority_area"].astype(str), status["brag"])
    table = table.reindex(columns=list(BRAG_ORDER), fill_value=0)
    table.loc["All"] = table.sum()
    table["total"] = table.sum(axis=1)
    table.index.name = "priority_area"
    table.columns.name = None
    return table.reset_index()


def movement_summary(status: pd.DataFrame) -> pd.DataFrame:
    """Actions by movement since last quarter (started, up, same, down, new) per priority area and
    ``All``, with ``deteriorated`` (down, or grey -> red) as a last column."""
    table = pd.crosstab(status["priority_area"].astype(str), status["movement"])
    table = table.reindex(columns=list(MOVEMENTS), fill_value=0)
    table["deteriorated"] = (
        status.groupby(status["priority_area"].astype(str))["deteriorated"].sum().reindex(table.index, fill_value=0)
    )
    table.loc["All"] = table.sum()
    table.index.name = "priority_area"
    table.columns.name = None
    return table.reset_index()


def attention_actions(status: pd.DataFrame) -> pd.DataFrame:
    """Actions needing attention: rated red, or amber and past their due date (``needs_attention``),
    with why (``reason``) and their progress comments."""
    cols = ["ref", "priority_area", "objective", "due", "brag", "previous_brag", "movement", "comment"]
    out = status.loc[status["needs_attention"], cols].reset_index(drop=True)
    out.insert(5, "reason", np.where(out["brag"] == "red", "red", "amber past its due date"))
    return out


def red_actions(status: pd.DataFrame) -> pd.DataFrame:
    """Red-rated actions with their progress comments (what the board asks about first)."""
    cols = ["ref", "priority_area", "objective", "due", "previous_brag", "comment"]
    return status.loc[status["brag"] == "red", cols].reset_index(drop=True)


def overdue_actions(status: pd.DataFrame) -> pd.DataFrame:
    """Actions past their due date at quarter end and not yet green or blue."""
    cols = ["ref", "priority_area", "objective", "due", "brag", "comment"]
    return status.loc[status["is_overdue"], cols].reset_index(drop=True)


def progress_counts(pap: pd.DataFrame, quarter: Quarter) -> dict[str, int]:
    """The K11 counts: actions per BRAG, started, moved up, moved down, deteriorated, overdue,
    needing attention, and the total.

    The counts of :func:`action_status`'s table (same rules), counted on arrays: the KPI history
    asks for them for every quarter it shows.
    """
    counts = dict.fromkeys(BRAG_ORDER, 0) | {
        "started": 0,
        "moved_up": 0,
        "moved_down": 0,
        "deteriorated": 0,
        "overdue": 0,
        "needs_attention": 0,
        "total": 0,
    }
    if len(pap) == 0:
        return counts
    qi = _quarter_index(pap["quarter"]).to_numpy()
    ref, _ = pd.factorize(pap["ref"], use_na_sentinel=False)
    brag = pap["brag"].to_numpy(dtype=object, na_value=None)
    rank = {b: i for i, b in enumerate(BRAG_ORDER)}
    brag_rank = np.array([rank.get(b, np.nan) if b is not None else np.nan for b in brag], dtype=float)
    now = _latest_row_by_ref(ref, qi, _q_index(quarter))
    before = _latest_row_by_ref(ref, qi, _q_index(quarter.previous))
    rows = now[now >= 0]
    if not len(rows):
        return counts
    now_brag = brag[rows]
    for b in BRAG_ORDER:
        counts[b] = int(sum(1 for x in now_brag if x == b))
    r_now = brag_rank[rows]
    prev_rows = before[now >= 0]
    r_before = np.where(prev_rows >= 0, brag_rank[np.maximum(prev_rows, 0)], np.nan)
    grey = rank[NOT_STARTED]
    started = (r_before == grey) & ~np.isnan(r_now) & (r_now != grey)  # no rating (NaN) is not started
    counts["started"] = int(started.sum())
    counts["moved_up"] = int(((r_now > r_before) & ~started).sum())
    counts["moved_down"] = int((r_now < r_before).sum())
    red = np.array([x == "red" for x in now_brag], dtype=bool)
    counts["deteriorated"] = int(((r_now < r_before) | (started & red)).sum())
    due = pd.to_datetime(pap["due"]).to_numpy()[rows]
    delivered = np.array([x in DELIVERED for x in now_brag], dtype=bool)
    overdue = (due < np.datetime64(quarter.end)) & ~delivered  # NaT compares False
    counts["overdue"] = int(overdue.sum())
    amber = np.array([x == "amber" for x in now_brag], dtype=bool)
    counts["needs_attention"] = int((red | (amber & overdue)).sum())
    counts["total"] = int(len(rows))
    return counts


def _latest_row_by_ref(ref: np.ndarray, qi: np.ndarray, upto: int) -> np.ndarray:
    """Per ref code (``0..ref.max()``), the row of its latest rating at or before quarter index
    ``upto`` (the last such row in table order when a quarter has several), else -1: the rows
    :func:`ratings_at` keeps."""
    out = np.full(int(ref.max()) + 1 if len(ref) else 0, -1, dtype=np.int64)
    rows = np.flatnonzero(qi <= upto)
    order = rows[np.lexsort((rows, qi[rows], ref[rows]))]  # by ref, quarter, table order
    out[ref[order]] = order  # the last assignment per ref wins: its latest row
    return out


def brag_history(pap: pd.DataFrame, quarters: list[Quarter]) -> pd.DataFrame:
    """Actions by BRAG at the end of each quarter (oldest first): ``quarter`` plus one column per
    BRAG in progress order, and ``total``."""
    rows = []
    for q in quarters:  # a handful of quarters, not people
        counts = ratings_at(pap, q)["brag"].value_counts()
        rows.append({"quarter": str(q), **{b: int(counts.get(b, 0)) for b in BRAG_ORDER}})
    out = pd.DataFrame(rows, columns=["quarter", *BRAG_ORDER])
    out["total"] = out[list(BRAG_ORDER)].sum(axis=1)
    return out
