"""The Priority Action Plan: a BRAG rating for every action in every quarter.

The actions (ref, objective, theme, project, due month, progress comment) are the council's
published Priority Action Plan, listed under ``pap.actions`` in ``config/synth.yaml``, each with
the status the scrutiny report published (``published``: read from the report's comment by
``pap.published_rule``). The history passes through that rating at ``pap.report_quarter``
exactly; the quarters before and after are synthetic:

- before the report: grey until the action starts (a few quarters before it is due), then amber;
  actions the report shows done turned green in the report quarter or shortly before; actions it
  shows behind are red in the report quarter only;
- after the report: done actions stay green and may become blue (embedded) some quarters later;
  the others (grey ones start after the report) are amber until due and then either finish
  (green) or slip: red after the due date for some quarters, then amber again on a re-baselined
  plan, then green; some do not recover within the history. Actions without a due date ("TBC",
  "On go") are never red for lateness and stay green at most.

No action falls back once green, so none goes from blue back to grey. The report's own comment is
shown at the report quarter; other quarters carry a generic comment for the rating
(docs/synthetic-county.md, "The Priority Action Plan").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sendlib.core.quarters import Quarter
from sendlib.core.schema import TABLES
from sendlib.data.synth.sampling import STREAMS, _norm, _rng
from sendlib.data.synth.state import County

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}

#: Published statuses an action can have at the report quarter (blue is never read from a comment).
_PUBLISHED = ("grey", "red", "amber", "green")


@dataclass(frozen=True)
class _Path:
    """Quarter indices (from ``pap.first_quarter``) at which an action's rating changes.

    grey before ``start``; amber from ``start``; red from ``red_from`` to ``red_to`` (exclusive);
    green from ``green``; blue from ``blue``. Red wins over grey and amber in its span; green and
    blue win over everything. A value past the history means "not within the history"."""

    start: int
    red_from: int
    red_to: int
    green: int
    blue: int
    recovered: bool  # amber after a red spell: a re-baselined plan (its own comment)

    def brag(self, i: int) -> str:
        if i >= self.blue:
            return "blue"
        if i >= self.green:
            return "green"
        if self.red_from <= i < self.red_to:
            return "red"
        if i >= self.start:
            return "amber"
        return "grey"


def pap(c: County) -> None:
    """Build the ``pap_actions`` table, from ``pap.first_quarter`` to the latest complete quarter.

    An end date before the first quarter gives an empty table (header only)."""
    A = c.params["pap"]
    r = _rng(c.seed, STREAMS["pap"])
    first = Quarter.parse(A["first_quarter"])
    last = Quarter.latest_complete(c.end_ts)
    quarters = []
    q = first
    while not last < q:
        quarters.append(q)
        q = q.next
    report_q = Quarter.parse(A["report_quarter"])
    rep = _index(first, report_q)
    no_due = _index(first, Quarter.parse(A["no_due_quarter"]))
    rows = []
    for act in A["actions"]:
        due = _parse_due(str(act["due"]))
        due_i = _index(first, Quarter.containing(due)) if due is not None else None
        published = act.get("published") or A["unpublished_brag"]
        if published not in _PUBLISHED:
            raise ValueError(f"pap action {act['ref']}: published rating {published!r} not one of {_PUBLISHED}")
        path = _path(r, A, published, rep, due_i, no_due)
        seed_comment = str(act.get("comment") or "").strip()
        for i, qq in enumerate(quarters):
            brag = path.brag(i)
            if i == rep and brag != published:  # the invariant the whole module exists for
                raise RuntimeError(f"pap action {act['ref']}: {brag} at the report quarter, published {published}")
            key = "amber_recovery" if brag == "amber" and path.recovered and i >= path.red_to else brag
            comment = A["comments"][key]
            if i == rep and seed_comment:
                comment = seed_comment
            rows.append(
                {
                    "ref": str(act["ref"]),
                    "objective": act["objective"],
                    "theme": act["theme"],
                    "project": act["project"],
                    "due": pd.Timestamp(due) if due is not None else pd.NaT,
                    "quarter": str(qq),
                    "brag": brag,
                    "comment": comment,
                }
            )
    c.tables["pap_actions"] = pd.DataFrame(rows, columns=TABLES["pap_actions"].column_names)


def _draw(r: np.random.Generator, spec: dict) -> int:
    """One integer from a ``{values, weights}`` block."""
    return int(r.choice(spec["values"], p=_norm(spec["weights"])))


def _path(r: np.random.Generator, A: dict, published: str, rep: int, due_i: int | None, no_due: int) -> _Path:
    """An action's synthetic path through its ``published`` rating at quarter ``rep``.

    Every action takes the same draws in the same order whatever its rating, so editing one
    action's rating leaves the other actions' histories unchanged."""
    lo, hi = A["start_quarters_before_due"]
    lead = int(r.integers(lo, hi + 1))
    done_before = _draw(r, A["green_before_report_quarters"])
    start_after = _draw(r, A["start_after_report_quarters"])
    late = r.random()
    red_q = _draw(r, A["red_quarters"])
    recovery_q = _draw(r, A["recovery_amber_quarters"])
    blue_q = _draw(r, A["blue_after_quarters"])
    never_blue = r.random() < float(A["never_blue_share"])

    never = 10**6
    dated = due_i is not None
    due = due_i if dated else no_due  # a nominal due quarter for "TBC" / "On go" actions
    start = min((due_i if dated else rep) - lead, rep)  # begun by the report unless it shows the action grey
    if published == "green":
        green = rep - done_before
        blue = max(green + blue_q, rep + 1) if dated and not never_blue else never
        return _Path(min(start, green - 1), never, never, green, blue, False)
    if published == "grey":
        start = rep + start_after
    on_time = max(due, start + int(A["min_work_quarters"]), rep + 1)  # done in the due quarter at the latest
    slips = published == "red" or late < float(A["late_probability"][published])
    slips = slips or (dated and on_time > max(due, rep + 1))  # begun too late to finish by its due date
    if published == "red":  # behind at the report: red from the report quarter
        red_from = rep
        red_to = rep + red_q
    elif slips and dated:  # red from the quarter after the due date (after the report at the earliest)
        red_from = max(due + 1, rep + 1)
        red_to = red_from + red_q
        start = min(start, red_to)  # a late start is red, then amber on the recovery plan: never grey again
    else:  # no red spell; an undated action that slips simply takes longer (amber)
        red_from = red_to = never
    if published == "red" or slips:
        green = max(due + 1, rep + 1) + red_q + recovery_q if red_from == never else red_to + recovery_q
    else:
        green = on_time
    blue = green + blue_q if dated and not never_blue else never
    return _Path(start, red_from, red_to, green, blue, red_from != never)


def _index(first: Quarter, q: Quarter) -> int:
    """Number of quarters from ``first`` to ``q``."""
    return (q.fy_start - first.fy_start) * 4 + (q.q - first.q)


def _parse_due(text: str) -> pd.Timestamp | None:
    """'Apr 24' -> 2024-04-30, 'Sept 24' -> 2024-09-30; 'TBC' / 'On go' -> None."""
    parts = text.strip().split()
    if len(parts) != 2 or parts[0][:3].lower() not in _MONTHS or not parts[1].isdigit():
        return None
    month = _MONTHS[parts[0][:3].lower()]
    year = 2000 + int(parts[1]) if len(parts[1]) == 2 else int(parts[1])
    return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)
