"""The Priority Action Plan: a BRAG rating for every action in every quarter.

The actions (ref, objective, theme, project, due month, progress comment) are the council's
published Priority Action Plan, listed under ``pap.actions`` in ``config/synth.yaml``. Their
history is synthetic: each action starts a few quarters before it is due (grey before), is amber
until due, may run late (red), turns green when done and blue once embedded; actions without a
due date ("TBC", "On go") stay green at most. The plan's own comment is shown at
``seed_comment_quarter``; other quarters carry a generic comment for the rating
(docs/synthetic-county.md, "Conventions worth knowing").
"""

from __future__ import annotations

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
    dq = A["delay_quarters"]
    bq = A["blue_after_quarters"]
    lo, hi = A["start_quarters_before_due"]
    rows = []
    for act in A["actions"]:
        due = _parse_due(str(act["due"]))
        due_i = _index(first, Quarter.containing(due) if due is not None else Quarter.parse(A["no_due_green_quarter"]))
        delay = int(r.choice(dq["values"], p=_norm(dq["weights"])))
        start_i = due_i - int(r.integers(lo, hi + 1))
        green_i = due_i + delay
        blue_i = green_i + int(r.choice(bq["values"], p=_norm(bq["weights"])))
        never_blue = r.random() < float(A["never_blue_share"])
        if due is None:
            blue_i = 10**6  # ongoing actions stay green at most
        seed_comment = str(act.get("comment") or "").strip()
        for i, qq in enumerate(quarters):
            brag = _brag(i, start_i, due_i, green_i, blue_i, delay, never_blue)
            comment = A["comments"][brag]
            if str(qq) == A["seed_comment_quarter"] and seed_comment:
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


def _index(first: Quarter, q: Quarter) -> int:
    """Number of quarters from ``first`` to ``q``."""
    return (q.fy_start - first.fy_start) * 4 + (q.q - first.q)


def _brag(i: int, start_i: int, due_i: int, green_i: int, blue_i: int, delay: int, never_blue: bool) -> str:
    """Rating in quarter ``i`` of an action started, due, done (green) and embedded (blue) in the
    given quarters: grey before the start, amber until due (and in the due quarter), red after the
    due quarter until done, green when done, blue once embedded (never, for some)."""
    if i < start_i and i < green_i:
        return "grey"
    if i < due_i or (i < green_i and i == due_i):
        return "amber"
    if i < green_i:
        return "red" if delay >= 2 or i > due_i else "amber"
    if i < blue_i or never_blue:
        return "green"
    return "blue"


def _parse_due(text: str) -> pd.Timestamp | None:
    """'Apr 24' -> 2024-04-30, 'Sept 24' -> 2024-09-30; 'TBC' / 'On go' -> None."""
    parts = text.strip().split()
    if len(parts) != 2 or parts[0][:3].lower() not in _MONTHS or not parts[1].isdigit():
        return None
    month = _MONTHS[parts[0][:3].lower()]
    year = 2000 + int(parts[1]) if len(parts[1]) == 2 else int(parts[1])
    return pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)
