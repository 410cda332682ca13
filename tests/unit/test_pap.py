"""Priority Action Plan tracker on a hand-built plan of six actions (expected values by hand).

Quarter 2025-26Q2 ends 30 September 2025; the previous quarter is 2025-26Q1.

| ref  | Q1    | Q2    | due        | at Q2 end | movement | overdue at 30 Sep 2025            |
|------|-------|-------|------------|-----------|----------|-----------------------------------|
| 1.1  | amber | green | 2025-04-30 | green     | up       | no (green)                        |
| 2B:3 | amber | red   | 2025-04-30 | red       | down     | yes                               |
| 3A1  | grey  | grey  | 2025-09-30 | grey      | same     | no (due on the last day, not before) |
| 4C1  | red   | -     | 2025-08-31 | red       | same     | yes (keeps its Q1 rating)         |
| 5B1  | -     | amber | none (TBC) | amber     | new      | no (no due date)                  |
| 5D1  | green | blue  | 2024-01-31 | blue      | up       | no (blue)                         |
"""

from __future__ import annotations

import pandas as pd
from test_kpi import pap_frame

from sendlib.core.quarters import Quarter
from sendlib.models import pap

Q = Quarter.parse("2025-26Q2")


def test_action_status_movement_and_overdue():
    s = pap.action_status(pap_frame(), Q).set_index("ref")
    assert s["brag"].to_dict() == {
        "1.1": "green",
        "2B:3": "red",
        "3A1": "grey",
        "4C1": "red",
        "5B1": "amber",
        "5D1": "blue",
    }
    assert s["movement"].to_dict() == {
        "1.1": "up",
        "2B:3": "down",
        "3A1": "same",
        "4C1": "same",
        "5B1": "new",
        "5D1": "up",
    }
    assert sorted(s.index[s["is_overdue"]]) == ["2B:3", "4C1"]
    assert s["priority_area"].to_dict() == {"1.1": 1, "2B:3": 2, "3A1": 3, "4C1": 4, "5B1": 5, "5D1": 5}


def test_brag_by_area_counts_with_totals():
    t = pap.brag_by_area(pap.action_status(pap_frame(), Q)).set_index("priority_area")
    assert list(t.columns) == ["grey", "red", "amber", "green", "blue", "total"]
    assert t.loc["5"].to_dict() == {"grey": 0, "red": 0, "amber": 1, "green": 0, "blue": 1, "total": 2}
    assert t.loc["All"].to_dict() == {"grey": 1, "red": 2, "amber": 1, "green": 1, "blue": 1, "total": 6}


def test_movement_summary_and_red_and_overdue_lists():
    status = pap.action_status(pap_frame(), Q)
    m = pap.movement_summary(status).set_index("priority_area")
    assert m.loc["All"].to_dict() == {"started": 0, "up": 2, "same": 2, "down": 1, "new": 1, "deteriorated": 1}
    red = pap.red_actions(status)
    assert list(red["ref"]) == ["2B:3", "4C1"]
    assert list(red["comment"]) == ["comment 2B:3", "comment 4C1"]
    assert list(pap.overdue_actions(status)["ref"]) == ["2B:3", "4C1"]


def test_first_quarter_has_no_movement_and_an_empty_quarter_keeps_ratings():
    q1 = pap.action_status(pap_frame(), Q.previous)
    # in Q1 five actions were rated (5B1 not yet); none had an earlier rating
    assert len(q1) == 5 and set(q1["movement"]) == {"new"}
    # 2025-26Q3 has no ratings at all: every action keeps its Q2 rating and nothing moves
    q3 = pap.action_status(pap_frame(), Q.next)
    assert len(q3) == 6 and set(q3["movement"]) == {"same"}


def test_brag_history():
    h = pap.brag_history(pap_frame(), [Q.previous, Q]).set_index("quarter")
    assert h.loc["2025-26Q1"].to_dict() == {"grey": 1, "red": 1, "amber": 2, "green": 1, "blue": 0, "total": 5}
    assert h.loc["2025-26Q2", "total"] == 6


def test_progress_counts_match_k11():
    c = pap.progress_counts(pap_frame(), Q)
    assert c == {
        "grey": 1,
        "red": 2,
        "amber": 1,
        "green": 1,
        "blue": 1,
        "started": 0,
        "moved_up": 2,
        "moved_down": 1,
        "deteriorated": 1,
        "overdue": 2,
        "needs_attention": 2,
        "total": 6,
    }
    assert isinstance(pap.ratings_at(pap_frame(), Q), pd.DataFrame)


def _started_frame():
    """Five actions, grey at the end of 2025-26Q1, re-rated in Q2 (worked by hand below).

    | ref | Q1   | Q2    | due        | movement | deteriorated | needs attention at 30 Sep 2025 |
    |-----|------|-------|------------|----------|--------------|--------------------------------|
    | 1.1 | grey | red   | 2025-12-31 | started  | yes          | yes (red)                      |
    | 1.2 | grey | amber | 2025-08-31 | started  | no           | yes (amber, due before 30 Sep) |
    | 1.3 | grey | green | 2025-08-31 | started  | no           | no                             |
    | 1.4 | grey | grey  | 2025-08-31 | same     | no           | no (grey)                      |
    | 2.1 | amber| amber | 2025-09-30 | same     | no           | no (due on the last day)       |
    """
    rows = [
        ("1.1", "grey", "red", "2025-12-31"),
        ("1.2", "grey", "amber", "2025-08-31"),
        ("1.3", "grey", "green", "2025-08-31"),
        ("1.4", "grey", "grey", "2025-08-31"),
        ("2.1", "amber", "amber", "2025-09-30"),
    ]
    recs = []
    for ref, b1, b2, due in rows:
        for q, b in (("2025-26Q1", b1), ("2025-26Q2", b2)):
            recs.append(dict(ref=ref, objective="o", theme="t", project="p", quarter=q, brag=b, due=due, comment="c"))
    from test_kpi import frame

    return frame("pap_actions", recs)


def test_grey_to_anything_is_started_and_grey_to_red_is_a_deterioration():
    s = pap.action_status(_started_frame(), Q).set_index("ref")
    assert s["movement"].to_dict() == {
        "1.1": "started",
        "1.2": "started",
        "1.3": "started",
        "1.4": "same",
        "2.1": "same",
    }
    assert s.index[s["deteriorated"]].tolist() == ["1.1"]
    assert s.index[s["needs_attention"]].tolist() == ["1.1", "1.2"]
    att = pap.attention_actions(s.reset_index())
    assert att[["ref", "reason"]].values.tolist() == [["1.1", "red"], ["1.2", "amber past its due date"]]
    c = pap.progress_counts(_started_frame(), Q)
    assert (c["started"], c["moved_up"], c["moved_down"], c["deteriorated"], c["needs_attention"]) == (3, 0, 0, 1, 2)
