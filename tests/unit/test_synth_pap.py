"""The synthetic Priority Action Plan history (``sendlib.data.synth.pap``) and its published ratings.

The scrutiny report of 20 May 2024 (``pap:`` in ``config/synth.yaml``, docs/sources.md) printed a
progress comment for each of the 34 actions; ``published`` records the BRAG status read from it
by ``published_rule``. The generated history must pass through those ratings at the report's
quarter, look like the plan of a council under an improvement notice at the end of the default
history, and never go backwards from done (green, blue) or back to grey.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from sendlib.core import schema
from sendlib.core.quarters import Quarter
from sendlib.data.synth import default_end_date, default_seed, load_params
from sendlib.data.synth.pap import _parse_due, pap
from sendlib.data.synth.state import County

PARAMS = load_params()
A = PARAMS["pap"]
SEED = default_seed(PARAMS)
END = default_end_date(PARAMS)
REPORT = Quarter.parse(A["report_quarter"])
RANK = {b: i for i, b in enumerate(schema.BRAG_ORDER)}
SEEDS = [SEED, *range(1, 40)]


def _pap(seed: int = SEED, end: str = END, params: dict = PARAMS) -> pd.DataFrame:
    """The ``pap_actions`` table the generator builds (its own random stream: the same as in a full run)."""
    c = County.create(params, seed, end)
    pap(c)
    return c.tables["pap_actions"]


def _published() -> dict[str, str]:
    """Each action's rating at the report quarter: the published one, else the assumed one."""
    return {str(a["ref"]): a.get("published") or A["unpublished_brag"] for a in A["actions"]}


def _read(comment: str) -> str | None:
    """``published_rule`` applied to a comment (first matching rule; blank: None)."""
    if not comment.strip():
        return None
    for rule in A["published_rule"]["rules"]:
        if any(re.search(p, comment, re.IGNORECASE) for p in rule["patterns"]):
            return rule["brag"]
    return A["published_rule"]["otherwise"]


def _at(df: pd.DataFrame, quarter: str) -> pd.Series:
    return df[df["quarter"] == quarter].set_index("ref")["brag"]


def test_published_ratings_are_read_from_the_comments_by_the_documented_rule() -> None:
    assert len(A["actions"]) == 34
    assert REPORT == Quarter.containing(pd.Timestamp("2024-05-20"))  # the committee's meeting
    for a in A["actions"]:
        assert a.get("published") == _read(str(a.get("comment") or "")), a["ref"]
    counts = pd.Series([a.get("published") or "blank" for a in A["actions"]]).value_counts()
    # what the report published (May 2024): 11 done, 18 in progress, 3 not begun, 1 behind, 1 blank
    assert counts.to_dict() == {"amber": 18, "green": 11, "grey": 3, "red": 1, "blank": 1}
    assert {a["ref"]: a.get("published") for a in A["actions"] if a["ref"] in {"1.2", "5B1", "5B2", "5D1", "4A3"}} == {
        "1.2": "green",  # "Completed"
        "5B1": "grey",  # "Refresh of SEND Strategy & PAP planned"
        "5B2": "green",  # "Published March 23"
        "5D1": "red",  # "... Needs to be broader and deeper"
        "4A3": None,  # no comment printed
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_history_passes_through_the_published_ratings(seed: int) -> None:
    df = _pap(seed)
    assert _at(df, str(REPORT)).to_dict() == _published()
    comments = df[df["quarter"] == str(REPORT)].set_index("ref")["comment"]
    for a in A["actions"]:
        if str(a.get("comment") or "").strip():
            assert comments[a["ref"]] == a["comment"].strip()


@pytest.mark.parametrize("seed", SEEDS)
def test_ratings_never_go_back_from_done_or_to_grey(seed: int) -> None:
    df = _pap(seed)
    for ref, g in df.groupby("ref"):
        ranks = g.sort_values("quarter")["brag"].map(RANK).tolist()
        done = [i for i, r in enumerate(ranks) if r >= RANK["green"]]
        if done:  # once green, green or blue (so never blue -> grey)
            assert min(ranks[done[0] :]) >= RANK["green"], ref
        begun = [i for i, r in enumerate(ranks) if r != RANK["grey"]]
        if begun:  # grey only before an action starts
            assert RANK["grey"] not in ranks[begun[0] :], ref


@pytest.mark.parametrize("seed", SEEDS)
def test_late_actions_go_red_not_silently_green(seed: int) -> None:
    """A dated action not done by the quarter after its due quarter (after the report at the
    earliest) is red then; undated actions ("TBC", "On go") are never blue."""
    df = _pap(seed)
    quarters = sorted(df["quarter"].unique())
    for a in A["actions"]:
        g = df[df["ref"] == a["ref"]].set_index("quarter")["brag"]
        due = _parse_due(str(a["due"]))
        if due is None:
            assert "blue" not in set(g), a["ref"]
            continue
        after = max(Quarter.containing(due).next, REPORT.next)
        if str(after) in quarters and g[str(after)] not in ("green", "blue"):
            assert g[str(after)] == "red", a["ref"]


def test_latest_quarter_of_the_default_data_is_not_rosy() -> None:
    """At 2026-27 Q2 (the default end date), two years after the plan's February 2025 target, the
    plan of a council under an improvement notice: the bounds are

    - every action begun (grey 0);
    - blue (embedded, sustained) at most a third of the actions (11): the old history had 28;
    - done (green + blue) from a third (the 11 the report showed done, which stay done) to about
      two thirds (22), so that it is neither stalled nor rosy;
    - at least 8 still unfinished (amber + red), at least 4 amber (recovery plans) and at least
      one red (delayed, impact not delivered)."""
    last = Quarter.latest_complete(pd.Timestamp(END))
    assert str(last) == "2026-27Q2"
    counts = _at(_pap(), str(last)).value_counts()
    n = {b: int(counts.get(b, 0)) for b in schema.BRAG_ORDER}
    assert sum(n.values()) == 34
    assert n["grey"] == 0
    assert n["blue"] <= 11
    assert 11 <= n["green"] + n["blue"] <= 22
    assert n["amber"] + n["red"] >= 8 and n["amber"] >= 4 and n["red"] >= 1


def test_deterministic_for_a_seed() -> None:
    a, b = _pap(), _pap()
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == schema.TABLES["pap_actions"].column_names
    assert len(a) == 34 * 12
    other = _pap(SEED + 1)
    assert not a["brag"].equals(other["brag"])
    assert _at(other, str(REPORT)).to_dict() == _at(a, str(REPORT)).to_dict()  # the published ratings


def test_short_histories() -> None:
    """An end date before the report quarter gives the earlier quarters only; before the plan, a
    header-only table."""
    short = _pap(end="2024-03-31")
    assert sorted(short["quarter"].unique()) == ["2023-24Q3", "2023-24Q4"]
    assert set(short["brag"]) <= {"grey", "amber", "green"}
    empty = _pap(end="2023-09-30")
    assert len(empty) == 0 and list(empty.columns) == schema.TABLES["pap_actions"].column_names


def test_an_unknown_published_rating_is_refused() -> None:
    params = {**PARAMS, "pap": {**A, "actions": [{**A["actions"][0], "published": "purple"}]}}
    with pytest.raises(ValueError, match="purple"):
        _pap(params=params)
