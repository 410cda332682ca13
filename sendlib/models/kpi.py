"""The board's strategic KPIs (K1-K13), their RAG ratings and the national comparators.

Every KPI is one pure function ``(tables, quarter, config) -> DataFrame`` returning the tidy KPI
shape, one row per variant (:data:`COLUMNS`):

``kpi``                 variant id (``K1``, ``K5_inmss_pct``, ``K7_neurodevelopmental_median_weeks``)
``name``                what it measures, in words
``period``              the quarter (``2025-26Q2``)
``numerator``           count (or pounds, for K10) on top of the fraction; NaN when not a fraction
``denominator``         the base the value is computed on (people, events, pupils or pounds)
``value``               the KPI in ``unit``; NaN when there is nothing to measure (never 0 instead)
``unit``                ``%``, ``count``, ``per 10,000``, ``per 100``, ``ratio``, ``weeks`` or ``£``
``target``              the board's target from the config (``kpi_targets``), else NaN
``rag``                 ``green`` / ``amber`` / ``red`` against the target, else None
``previous_value``      the same function's value for the previous quarter
``change``              ``value - previous_value``
``better``              ``up``, ``down`` or ``context`` (direction of good)
``national_value``      England's figure from ``data/reference/national_comparators.csv``
``national_year``       the year that figure is for (calendar year, or January census year)
``previous_numerator``, ``previous_denominator`` the previous quarter's (so outputs can suppress it too)

Definitions follow the SEN2 guidance and the SEND Code of Practice (``docs/sources.md``); every refinement is in the
function's docstring and in ``docs/kpis.md``. All dates are inclusive: a quarter runs from its
first to its last day, and a spell is "in force on day d" when ``start <= d`` and its end is
empty or ``>= d``. Targets come only from the config: a KPI without one has no RAG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sendlib.core.config import Config, KpiTarget
from sendlib.core.quarters import Quarter
from sendlib.core.schema import (
    BRAG_ORDER,
    HEALTH_SERVICE_GROUP,
    MAINSTREAM_SETTINGS,
    SEN_STATUS,
    SETTING_TYPE,
    TWENTY_WEEKS_DAYS,
)
from sendlib.models.pap import progress_counts
from sendlib.models.projection import AGE_GROUPS, age_group_of
from sendlib.models.statutory import phase_transfer_timeliness, transfer_year_as_at, tribunal_appeal_rate

Tables = Mapping[str, pd.DataFrame]

COLUMNS = [
    "kpi",
    "name",
    "period",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target",
    "rag",
    "previous_value",
    "change",
    "better",
    "national_value",
    "national_year",
    "previous_numerator",
    "previous_denominator",
]
_CORE = ["kpi", "name", "numerator", "denominator", "value", "unit", "better"]

#: File of England comparators, in the config's ``reference_dir``.
COMPARATORS_FILE = "national_comparators.csv"
EIGHTEEN_WEEKS_DAYS = 126
REVIEW_DECISION_DAYS = 28
SIX_WEEKS_DAYS = 42
#: Months after which an academic year starts (September) and the day school-year age is taken on.
ACADEMIC_YEAR_START_MONTH = 9
#: School-year age (age on 31 August) of Year 9, the year in which a young person turns 14: the
#: year from which preparing-for-adulthood (transition) planning is due (SEND Code of Practice 8.9).
YEAR9_SCHOOL_YEAR_AGE = 13
#: Academic ages of the DfE's "16-17 year olds" NEET cohort (Years 12 and 13).
NEET_ACADEMIC_AGES = (16, 17)
#: Backlog row labels for the age groups (``sendlib.models.projection.AGE_GROUPS``).
AGE_GROUP_LABELS = {"under_5": "under 5", "5_10": "5-10", "11_15": "11-15", "16_19": "16-19", "20_25": "20-25"}
HEALTH_GROUPS = tuple(dict.fromkeys(HEALTH_SERVICE_GROUP.values()))


# ----- RAG -------------------------------------------------------------------------------------


def rag(value: float | None, target: KpiTarget | None) -> str | None:
    """RAG rating of ``value`` against a board target.

    Green on the right side of the target (or on it), where "right" follows ``target.better``
    (``up``: at or above; ``down``: at or below); amber on the wrong side by no more than
    ``target.tolerance``; red beyond that. No target, or no value, gives ``None``: a RAG is
    never invented.

    Parameters
    ----------
    value : float or None
        The KPI value in the target's unit.
    target : KpiTarget or None
        From ``Config.kpi_targets``.
    """
    if target is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    shortfall = (target.target - value) if target.better == "up" else (value - target.target)
    if shortfall <= 0:
        return "green"
    if shortfall <= target.tolerance + 1e-9:
        return "amber"
    return "red"


# ----- helpers ---------------------------------------------------------------------------------


def _row(
    kpi: str, name: str, numerator: float, denominator: float, value: float, unit: str, better: str
) -> dict[str, Any]:
    return {
        "kpi": kpi,
        "name": name,
        "numerator": float(numerator),
        "denominator": float(denominator),
        "value": float(value),
        "unit": unit,
        "better": better,
    }


def _pct(num: float, den: float) -> float:
    return 100.0 * num / den if den else math.nan


def _in(s: pd.Series, q: Quarter) -> pd.Series:
    """Dates falling in the quarter (inclusive); missing dates are not in it."""
    return (s >= q.start) & (s <= q.end)


def _in_force(start: pd.Series, end: pd.Series, day: pd.Timestamp) -> pd.Series:
    return (start <= day) & (end.isna() | (end >= day))


def _flag(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def _latest_date_on_or_before(dates: pd.Series, day: pd.Timestamp) -> pd.Timestamp | None:
    eligible = dates[dates <= day]
    return None if eligible.empty else eligible.max()


def academic_year_start(day: pd.Timestamp) -> pd.Timestamp:
    """1 September of the academic year that ``day`` falls in."""
    year = day.year if day.month >= ACADEMIC_YEAR_START_MONTH else day.year - 1
    return pd.Timestamp(year, ACADEMIC_YEAR_START_MONTH, 1)


def school_year_age(birth_month: pd.Series, day: pd.Timestamp) -> pd.Series:
    """Age on 31 August before the academic year that ``day`` falls in (the DfE's "academic age",
    which fixes the school year: 13 = Year 9), from ``YYYY-MM`` birth months; NaN where unknown.

    A month is enough: whoever is born in a month is the same age on 31 August (the month's end).
    """
    text = birth_month.astype("string")
    year = pd.to_numeric(text.str.slice(0, 4), errors="coerce")
    month = pd.to_numeric(text.str.slice(5, 7), errors="coerce")
    aug31_year = academic_year_start(day).year
    return (aug31_year - year - (month > 8).astype("float")).astype("float")


def _birth_months(t: Tables) -> pd.Series:
    """Each person's birth month (``YYYY-MM``) from ``ehcp_plans``, indexed by ``person_id``."""
    p = t["ehcp_plans"][["person_id", "birth_month"]].dropna()
    return p.drop_duplicates("person_id", keep="last").set_index("person_id")["birth_month"]


# ----- the cores: one quarter's rows without targets, previous values or comparators ----------


def _k1(t: Tables, q: Quarter) -> list[dict]:
    r = t["ehcp_requests"][["request_date", "plan_issued_date", "exception"]]
    issued = r[_in(r["plan_issued_date"], q)]
    within = (issued["plan_issued_date"] - issued["request_date"]).dt.days <= TWENTY_WEEKS_DAYS
    exc = _flag(issued["exception"])
    n_ex, d_ex = int((within & ~exc).sum()), int((~exc).sum())
    n_all, d_all = int(within.sum()), len(issued)
    return [
        _row("K1", "EHC plans issued within 20 weeks, excluding exceptions", n_ex, d_ex, _pct(n_ex, d_ex), "%", "up"),
        _row("K1_all", "EHC plans issued within 20 weeks, all cases", n_all, d_all, _pct(n_all, d_all), "%", "up"),
    ]


def _k2(t: Tables, q: Quarter) -> list[dict]:
    r = t["ehcp_requests"][["decision_date", "decision"]]
    decided = r[_in(r["decision_date"], q) & r["decision"].notna()]
    n, d = int((decided["decision"] == "refuse").sum()), len(decided)
    return [
        _row(
            "K2",
            "Assessment decisions made in the period that were refusals (% of decisions)",
            n,
            d,
            _pct(n, d),
            "%",
            "down",
        )
    ] + _k2_six_weeks(t, q)


def _k2_six_weeks(t: Tables, q: Quarter) -> list[dict]:
    r = t["ehcp_requests"][["request_date", "decision_date", "decision"]]
    decided = r[_in(r["decision_date"], q) & r["decision"].notna()]
    within = (decided["decision_date"] - decided["request_date"]).dt.days <= SIX_WEEKS_DAYS
    n, d = int(within.sum()), len(decided)
    return [
        _row(
            "K2_decided_within_6_weeks_pct",
            "Decisions whether to assess made within 6 weeks of the request (% of decisions)",
            n,
            d,
            _pct(n, d),
            "%",
            "up",
        )
    ]


def _k3(t: Tables, q: Quarter) -> list[dict]:
    r = t["ehcp_requests"][["decision", "outcome_date", "outcome"]]
    done = r[(r["decision"] == "assess") & _in(r["outcome_date"], q) & r["outcome"].isin(["plan_issued", "no_plan"])]
    n, d = int((done["outcome"] == "plan_issued").sum()), len(done)
    return [_row("K3", "Assessments completed that ended in a plan", n, d, _pct(n, d), "%", "context")]


def _arrow_text(s: pd.Series) -> pa.Array:
    """A text column as one pyarrow ``large_string`` array (no copy when it is already
    pyarrow-backed, as :func:`sendlib.data.loaders.load_tables` makes it)."""
    arr = pa.array(s.array if hasattr(s.array, "__arrow_array__") else s.astype("string").array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def _run_starts(sorted_values: pa.Array) -> np.ndarray:
    """For values in sorted order, True where a run of equal values starts."""
    starts = np.ones(len(sorted_values), dtype=bool)
    if len(sorted_values) > 1:
        differs = pc.not_equal(sorted_values.slice(1), sorted_values.slice(0, len(sorted_values) - 1))
        starts[1:] = differs.fill_null(True).to_numpy(zero_copy_only=False)
    return starts


def _plan_holders(t: Tables, day: pd.Timestamp) -> pa.Array:
    """Person ids of the plan spells in force on ``day`` (a person with two spells appears twice)."""
    p = t["ehcp_plans"]
    live = _in_force(p["plan_start_date"], p["plan_end_date"], day).to_numpy(dtype=bool)
    return _arrow_text(p["person_id"]).filter(pa.array(live))


def _plans_in_force(t: Tables, day: pd.Timestamp) -> int:
    """How many people have an EHC plan in force on ``day`` (each person once).

    Distinct ids are counted by sorting (no hashing of millions of strings, no Python objects).
    """
    ids = _plan_holders(t, day)
    if len(ids) == 0:
        return 0
    return int(_run_starts(ids.take(pc.sort_indices(ids))).sum())


def _k4(t: Tables, q: Quarter) -> list[dict]:
    n = _plans_in_force(t, q.end)
    pop = t.get("population")
    pop_total = math.nan
    if pop is not None and len(pop):
        years = pop["year"].astype(int)
        usable = years[years <= q.end.year]
        if len(usable):
            year = int(usable.max())
            sel = pop[(years == year) & pop["age"].between(0, 25)]
            pop_total = float(sel["population"].sum())
    rate = 10_000.0 * n / pop_total if pop_total and not math.isnan(pop_total) else math.nan
    return [
        _row("K4", "EHC plans in force at quarter end", n, math.nan, n, "count", "context"),
        _row(
            "K4_rate_per_10k",
            "EHC plans in force per 10,000 residents aged 0-25",
            n,
            pop_total,
            rate,
            "per 10,000",
            "context",
        ),
    ]


def _placed_children(tables: Tables, day: pd.Timestamp) -> tuple[int, np.ndarray]:
    """People with a plan in force on ``day``, and the row positions in ``placements`` of
    :func:`current_placements` for that day (in its row order).

    One sort does both (vectorised, no Python objects per person): the plan holders' ids (marked 0)
    and the placements in force (marked 1, with start and ``placement_id``) are sorted together by
    person, mark, start, ``placement_id``. A run of one person's rows whose first row is a plan
    holder is a child with a plan; the run's last row, when it is a placement, is that child's
    current placement. Positions come out in the order ``sort_values(["person_id", "start_date",
    "placement_id"])`` gives those rows.
    """
    pl = tables["placements"]
    live = np.flatnonzero(_in_force(pl["start_date"], pl["end_date"], day).to_numpy(dtype=bool))
    holders = _plan_holders(tables, day)
    n_h, n_p = len(holders), len(live)
    if n_h + n_p == 0:
        return 0, live
    take = pa.array(live)
    persons = pa.concat_arrays([holders, _arrow_text(pl["person_id"]).take(take)])
    mark = np.r_[np.zeros(n_h, dtype=np.int8), np.ones(n_p, dtype=np.int8)]
    starts = pa.array(pl["start_date"].to_numpy(dtype="datetime64[ns]")[live], pa.timestamp("ns"), from_pandas=True)
    start = pa.concat_arrays([pa.nulls(n_h, pa.timestamp("ns")), starts])
    ids = pa.concat_arrays([pa.nulls(n_h, pa.large_string()), _arrow_text(pl["placement_id"]).take(take)])
    keys = [("person", "ascending"), ("mark", "ascending"), ("start", "ascending"), ("id", "ascending")]
    # arrow's sort is stable and puts missing values last, as pandas' sort_values does
    order = pc.sort_indices(
        pa.table({"person": persons, "mark": mark, "start": start, "id": ids}), sort_keys=keys
    ).to_numpy()
    holder = mark[order] == 0
    first = _run_starts(persons.take(pa.array(order)))
    last = np.r_[first[1:], True]
    has_plan = holder[first][np.cumsum(first) - 1]  # a person's run starts with a plan holder row
    return int((first & holder).sum()), live[order[last & has_plan & ~holder] - n_h]


def current_placements(tables: Tables, day: pd.Timestamp) -> pd.DataFrame:
    """One placement per child with a plan in force on ``day``: the spell in force that day with
    the latest start (ties broken by ``placement_id``). Children with a plan but no placement in
    force are not in the result. Rows are in ``person_id`` order."""
    pl = tables["placements"][["placement_id", "person_id", "setting_type", "start_date", "end_date", "annual_cost"]]
    return pl.iloc[_placed_children(tables, day)[1]]


def _k5(t: Tables, q: Quarter) -> list[dict]:
    children, rows_placed = _placed_children(t, q.end)
    counts = t["placements"]["setting_type"].iloc[rows_placed].value_counts()
    rows = []
    for st, label in SETTING_TYPE.items():
        n = int(counts.get(st, 0))
        better = "down" if st == "inmss" else ("up" if st in MAINSTREAM_SETTINGS else "context")
        rows.append(
            _row(
                f"K5_{st}_pct", f"Children with a plan placed in: {label}", n, children, _pct(n, children), "%", better
            )
        )
    n_main = int(counts.reindex(list(MAINSTREAM_SETTINGS)).fillna(0).sum())
    rows.append(
        _row(
            "K5_mainstream_pct",
            "Children with a plan in mainstream schools (incl. resourced provision)",
            n_main,
            children,
            _pct(n_main, children),
            "%",
            "up",
        )
    )
    n_none = children - len(rows_placed)
    rows.append(
        _row(
            "K5_no_placement_pct",
            "Children with a plan and no placement recorded",
            n_none,
            children,
            _pct(n_none, children),
            "%",
            "down",
        )
    )
    return rows


def review_as_of(reviews: pd.DataFrame, quarter: Quarter) -> pd.Timestamp:
    """The day the annual reviews are known to: the quarter's last day, or the latest meeting or
    decision date recorded when later (the data run to their extract date, so a quarter is seen as
    at the extract)."""
    dates = [quarter.end] + [reviews[c].max() for c in ("meeting_date", "decision_date") if len(reviews)]
    return max(d for d in dates if pd.notna(d))


def review_status(reviews: pd.DataFrame, quarter: Quarter) -> pd.Series:
    """The K6 status of each review due in ``quarter`` (index of ``reviews``): ``on_time``,
    ``late`` or ``pending``.

    ``on_time``: meeting held by the due date and decision within 28 days of the meeting.
    ``pending``: meeting held by the due date, no decision recorded, and the 28-day decision
    window still open on :func:`review_as_of` (``meeting_date + 28 >= as_of``): it can still be
    on time, so it is neither on time nor late. Everything else is ``late`` (not held by the due
    date, or no decision when the window has closed, or a decision after it).
    """
    a = reviews[_in(reviews["due_date"], quarter)]
    window = a["meeting_date"] + pd.Timedelta(days=REVIEW_DECISION_DAYS)
    held = (a["meeting_date"] <= a["due_date"]).fillna(False).astype(bool)
    decided_in_time = (a["decision_date"] <= window).fillna(False).astype(bool)
    as_of = review_as_of(reviews, quarter)
    pending = held & a["decision_date"].isna() & (window >= as_of).fillna(False).astype(bool)
    status = np.select([held & decided_in_time, pending], ["on_time", "pending"], default="late")
    return pd.Series(status, index=a.index, dtype=object)


def review_backlog(tables: Tables, quarter: Quarter) -> pd.DataFrame:
    """Annual reviews overdue at quarter end: due before the quarter's last day with no meeting
    held by that day, for people with a plan in force that day (a ceased plan has no review to
    hold). One row per overdue review: ``age_group`` (:data:`AGE_GROUP_LABELS` of the school-year
    age at quarter end, ``unknown`` without a birth month) and ``months_overdue`` (band: ``0-3``,
    ``3-6``, ``6-12``, ``12+``)."""
    a = tables["annual_reviews"][["person_id", "due_date", "meeting_date"]]
    q_end = quarter.end
    overdue = a[(a["due_date"] < q_end) & (a["meeting_date"].isna() | (a["meeting_date"] > q_end))]
    holders = set(_plan_holders(tables, q_end).to_pylist())
    overdue = overdue[overdue["person_id"].isin(holders)]
    age = school_year_age(overdue["person_id"].map(_birth_months(tables)), q_end)
    group = pd.Series(age_group_of(age.fillna(0).to_numpy()), index=overdue.index).where(age.notna(), "unknown")
    days = (q_end - overdue["due_date"]).dt.days
    months = pd.cut(days, bins=[0, 91, 182, 365, np.inf], labels=["0-3", "3-6", "6-12", "12+"], right=True)
    return pd.DataFrame(
        {
            "age_group": group.map(AGE_GROUP_LABELS).fillna("unknown").to_numpy(),
            "months_overdue": months.to_numpy(),
        }
    )


def review_backlog_table(tables: Tables, quarter: Quarter, by: str = "age_group") -> pd.DataFrame:
    """The backlog (:func:`review_backlog`) counted by ``age_group`` or ``months_overdue``: one row
    per group in order (``overdue_reviews``), no total row (the total is ``K6_backlog``; publish
    with secondary suppression over the whole table so that no suppressed cell can be recovered
    from it)."""
    b = review_backlog(tables, quarter)
    if by == "age_group":
        order = [AGE_GROUP_LABELS[g] for g in AGE_GROUPS] + (["unknown"] if (b["age_group"] == "unknown").any() else [])
    elif by == "months_overdue":
        order = ["0-3", "3-6", "6-12", "12+"]
    else:
        raise ValueError(f"by must be 'age_group' or 'months_overdue', not {by!r}")
    counts = b[by].astype(str).value_counts().reindex(order, fill_value=0)
    return pd.DataFrame({by: order, "overdue_reviews": counts.to_numpy()})


def _k6(t: Tables, q: Quarter) -> list[dict]:
    reviews = t["annual_reviews"]
    status = review_status(reviews[["due_date", "meeting_date", "decision_date"]], q)
    n_due = len(status)
    n_on, n_pending = int((status == "on_time").sum()), int((status == "pending").sum())
    d = n_due - n_pending
    if len(reviews) and reviews["decision_date"].isna().all():
        # no decision date recorded anywhere (a SEN2 return does not hold it): a review decided on
        # time cannot be told from a late one, so K6 and pending are not known (never 0 instead)
        n_on = n_pending = math.nan
    rows = [
        _row(
            "K6",
            "Annual reviews due in the quarter held on time with a decision within 4 weeks (pending excluded)",
            n_on,
            d,
            _pct(n_on, d),
            "%",
            "up",
        ),
        _row(
            "K6_pending",
            "Annual reviews due in the quarter held on time, decision window still open (pending)",
            n_pending,
            n_due,
            n_pending,
            "count",
            "context",
        ),
        _row(
            "K6_pending_pct",
            "Annual reviews due in the quarter still pending (% of reviews due)",
            n_pending,
            n_due,
            _pct(n_pending, n_due),
            "%",
            "context",
        ),
    ]
    backlog = review_backlog(t, q)
    counts = backlog["age_group"].value_counts()
    rows.append(
        _row(
            "K6_backlog",
            "Annual reviews overdue at quarter end (due, meeting not held)",
            len(backlog),
            math.nan,
            len(backlog),
            "count",
            "down",
        )
    )
    for g in AGE_GROUPS:
        n = int(counts.get(AGE_GROUP_LABELS[g], 0))
        rows.append(
            _row(
                f"K6_backlog_age_{g}",
                f"Annual reviews overdue at quarter end, age {AGE_GROUP_LABELS[g]}",
                n,
                math.nan,
                n,
                "count",
                "down",
            )
        )
    return rows


def _k7(t: Tables, q: Quarter) -> list[dict]:
    h = t["health_waits"][["service", "referral_date", "first_contact_date"]]
    rows = []
    for g in HEALTH_GROUPS:
        hg = h[h["service"].isin([sv for sv, grp in HEALTH_SERVICE_GROUP.items() if grp == g])]
        seen = hg[_in(hg["first_contact_date"], q)]
        days = (seen["first_contact_date"] - seen["referral_date"]).dt.days
        n_seen = len(seen)
        within = int((days <= EIGHTEEN_WEEKS_DAYS).sum())
        waiting = hg[
            (hg["referral_date"] <= q.end) & (hg["first_contact_date"].isna() | (hg["first_contact_date"] > q.end))
        ]
        wait_days = (q.end - waiting["referral_date"]).dt.days
        label = g.replace("_", " ")
        median = float(days.median()) / 7.0 if n_seen else math.nan
        longest = float(wait_days.max()) / 7.0 if len(waiting) else math.nan
        rows += [
            _row(
                f"K7_{g}_median_weeks",
                f"Median wait to first contact, {label} (seen in quarter)",
                math.nan,
                n_seen,
                median,
                "weeks",
                "down",
            ),
            _row(
                f"K7_{g}_pct_within_18_weeks",
                f"Seen within 18 weeks, {label}",
                within,
                n_seen,
                _pct(within, n_seen),
                "%",
                "up",
            ),
            _row(
                f"K7_{g}_waiting_list",
                f"Still waiting at quarter end, {label}",
                len(waiting),
                math.nan,
                len(waiting),
                "count",
                "down",
            ),
            _row(
                f"K7_{g}_longest_wait_weeks",
                f"Longest wait at quarter end, {label}",
                math.nan,
                len(waiting),
                longest,
                "weeks",
                "down",
            ),
        ]
    return rows


#: K8 windows: suffix -> (what it covers, in words). The quarter's rows keep their original ids.
K8_WINDOWS = {"": "in the quarter", "_ytd": "academic year to date", "_12m": "last 12 months"}


def _k8_window(q: Quarter, suffix: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    if suffix == "_ytd":
        return academic_year_start(q.end), q.end
    if suffix == "_12m":
        return q.end - pd.DateOffset(years=1) + pd.Timedelta(days=1), q.end
    return q.start, q.end


def _k8(t: Tables, q: Quarter) -> list[dict]:
    ex = t["exclusions"][["sen_status", "kind", "start_date"]]
    susp = ex[ex["kind"] == "suspension"]
    sp = t["school_population"]
    census = _latest_date_on_or_before(sp["census_date"], q.end)
    pupils = (
        sp[sp["census_date"] == census].groupby("sen_status")["pupils"].sum()
        if census is not None
        else pd.Series(dtype=float)
    )
    rows = []
    for suffix, words in K8_WINDOWS.items():
        first, last = _k8_window(q, suffix)
        n_by = susp.loc[(susp["start_date"] >= first) & (susp["start_date"] <= last), "sen_status"].value_counts()
        rates = {}
        for status, label in SEN_STATUS.items():
            n, d = int(n_by.get(status, 0)), float(pupils.get(status, math.nan))
            rates[status] = 100.0 * n / d if d and not math.isnan(d) else math.nan
            rows.append(
                _row(
                    f"K8_{status}_per_100{suffix}",
                    f"Suspensions per 100 pupils, {label}, {words}",
                    n,
                    d,
                    rates[status],
                    "per 100",
                    "down",
                )
            )
        ratio = rates["ehcp"] / rates["none"] if rates["none"] else math.nan
        rows.append(
            _row(
                f"K8_ratio_ehcp_to_none{suffix}",
                f"Suspension rate, pupils with an EHC plan vs pupils with no SEN, {words}",
                int(n_by.get("ehcp", 0)),
                int(n_by.get("none", 0)),
                ratio,
                "ratio",
                "down",
            )
        )
    return rows


def _k9(t: Tables, q: Quarter) -> list[dict]:
    tr = t["transitions"]
    census = _latest_date_on_or_before(tr["census_date"], q.end)
    at = tr[tr["census_date"] == census] if census is not None else tr.iloc[0:0]
    sy_age = school_year_age(at["person_id"].map(_birth_months(t)), census if census is not None else q.end)
    known = sy_age.notna()
    age = at["age"].astype(float)
    # Year 9 and above; without a birth month only an age of 14+ at the census is surely Year 9+
    due = (known & (sy_age >= YEAR9_SCHOOL_YEAR_AGE)) | (~known & (age >= YEAR9_SCHOOL_YEAR_AGE + 1))
    cohort = at[due.to_numpy(bool)]
    n_tp, d_tp = int(_flag(cohort["has_transition_plan"]).sum()), len(cohort)
    lo, hi = NEET_ACADEMIC_AGES
    in_neet = (known & sy_age.between(lo, hi)) | (~known & age.between(lo, hi))
    y1617 = at[in_neet.to_numpy(bool)]
    d = len(y1617)
    n_neet = int((y1617["activity"] == "neet").sum())
    n_unknown = int((y1617["activity"] == "unknown").sum())
    return [
        _row(
            "K9_transition_plan_pct",
            "Young people with a plan in Year 9 or above who have a transition plan",
            n_tp,
            d_tp,
            _pct(n_tp, d_tp),
            "%",
            "up",
        ),
        _row(
            "K9_neet_pct",
            "16-17 year olds with a plan who are NEET (% of all known to the authority)",
            n_neet,
            d,
            _pct(n_neet, d),
            "%",
            "down",
        ),
        _row(
            "K9_not_known_pct",
            "16-17 year olds with a plan whose activity is not known (% of all known to the authority)",
            n_unknown,
            d,
            _pct(n_unknown, d),
            "%",
            "down",
        ),
        _row(
            "K9_neet_or_not_known_pct",
            "16-17 year olds with a plan who are NEET or whose activity is not known",
            n_neet + n_unknown,
            d,
            _pct(n_neet + n_unknown, d),
            "%",
            "down",
        ),
    ]


def _k10(t: Tables, q: Quarter) -> list[dict]:
    b = t["hnb_budget"]
    sel = b[
        (b["as_at_quarter"].astype("string") == str(q)) & (b["financial_year"].astype("string") == q.financial_year)
    ]
    budget = float(sel["budget"].sum()) if len(sel) else math.nan
    outturn = float(sel["forecast_outturn"].sum()) if len(sel) else math.nan
    variance = outturn - budget
    rows = [
        _row(
            "K10_variance_gbp",
            f"High needs forecast outturn minus budget, {q.financial_year}",
            outturn,
            budget,
            variance,
            "£",
            "down",
        ),
        _row(
            "K10_variance_pct",
            f"High needs forecast variance as % of budget, {q.financial_year}",
            variance,
            budget,
            _pct(variance, budget) if len(sel) else math.nan,
            "%",
            "down",
        ),
    ]
    pl = t["placements"][["setting_type", "start_date", "end_date", "annual_cost"]]
    live = pl[_in_force(pl["start_date"], pl["end_date"], q.end)]
    cost = live.groupby("setting_type")["annual_cost"].agg(["sum", "count"])
    for st, label in SETTING_TYPE.items():
        total = float(cost["sum"].get(st, 0.0))
        n = int(cost["count"].get(st, 0))
        rows.append(
            _row(
                f"K10_cost_{st}_gbp",
                f"Average annual cost per placement, {label}",
                total,
                n,
                total / n if n else math.nan,
                "£",
                "down",
            )
        )
    return rows


def _k11(t: Tables, q: Quarter) -> list[dict]:
    c = progress_counts(t["pap_actions"], q)
    total = c["total"]
    better = {"grey": "down", "red": "down", "amber": "context", "green": "up", "blue": "up"}
    rows = [
        _row(f"K11_{b}", f"Priority Action Plan actions rated {b}", c[b], total, c[b], "count", better[b])
        for b in BRAG_ORDER
    ]
    rows += [
        _row(
            "K11_started",
            "PAP actions started since last quarter (grey to any rating)",
            c["started"],
            total,
            c["started"],
            "count",
            "up",
        ),
        _row(
            "K11_moved_up",
            "PAP actions moved up the BRAG scale since last quarter (started actions not included)",
            c["moved_up"],
            total,
            c["moved_up"],
            "count",
            "up",
        ),
        _row(
            "K11_moved_down",
            "PAP actions moved down the BRAG scale since last quarter",
            c["moved_down"],
            total,
            c["moved_down"],
            "count",
            "down",
        ),
        _row(
            "K11_deteriorated",
            "PAP actions that deteriorated since last quarter (moved down, or grey to red)",
            c["deteriorated"],
            total,
            c["deteriorated"],
            "count",
            "down",
        ),
        _row(
            "K11_overdue",
            "PAP actions overdue (past due and not green or blue)",
            c["overdue"],
            total,
            c["overdue"],
            "count",
            "down",
        ),
        _row(
            "K11_needs_attention",
            "PAP actions needing attention (red, or amber past its due date)",
            c["needs_attention"],
            total,
            c["needs_attention"],
            "count",
            "down",
        ),
    ]
    return rows


def _k12(t: Tables, q: Quarter) -> list[dict]:
    """SEND Tribunal appeals over the 12 months to the quarter end (:mod:`sendlib.models.statutory`)."""
    start = (q.end - pd.DateOffset(years=1)) + pd.Timedelta(days=1)
    a = tribunal_appeal_rate(t, start, q.end)
    o = a["outcomes"]
    rows = [
        _row(
            "K12",
            "Appeals registered to the SEND Tribunal, % of appealable decisions (last 12 months)",
            a["appeals_registered"],
            a["appealable_decisions"],
            a["appeal_rate_pct"],
            "%",
            "down",
        ),
        _row(
            "K12_appeals_registered",
            "Appeals registered to the SEND Tribunal (last 12 months)",
            a["appeals_registered"],
            float("nan"),
            a["appeals_registered"],
            "count",
            "down",
        ),
        _row(
            "K12_in_family_favour_pct",
            "Appeals decided by the tribunal in the family's favour, % of those decided (last 12 months)",
            o["upheld"],
            a["decided"],
            a["in_family_favour_pct"],
            "%",
            "down",
        ),
    ]
    for outcome in ("upheld", "conceded", "withdrawn", "dismissed", "struck_out"):
        rows.append(
            _row(
                f"K12_{outcome}",
                f"Tribunal appeals ended in the last 12 months: {outcome.replace('_', ' ')}",
                o[outcome],
                a["outcomes_total"],
                o[outcome],
                "count",
                "context",
            )
        )
    rows.append(
        _row(
            "K12_pending",
            "Tribunal appeals registered and not yet ended at the quarter end",
            a["pending_at_end"],
            float("nan"),
            a["pending_at_end"],
            "count",
            "context",
        )
    )
    return rows


def _k13(t: Tables, q: Quarter) -> list[dict]:
    """Phase transfers of the latest transfer year whose deadline has passed by the quarter end."""
    year = transfer_year_as_at(q.end)
    p = phase_transfer_timeliness(t, year, as_at=q.end)
    school = [v for k, v in p["by_point"].items() if k != "into_post16"]
    s_due = sum(v["due"] for v in school)
    s_on = sum(v["finalised_by_deadline"] for v in school)
    post16 = p["by_point"].get("into_post16", {"due": 0, "finalised_by_deadline": 0})
    return [
        _row(
            "K13",
            f"Phase transfers due in {year} with the amended plan finalised by the statutory deadline, %",
            p["finalised_by_deadline"],
            p["due"],
            p["on_time_pct"],
            "%",
            "up",
        ),
        _row(
            "K13_school_pct",
            f"School phase transfers due in {year} finalised by 15 February, %",
            s_on,
            s_due,
            _pct(s_on, s_due),
            "%",
            "up",
        ),
        _row(
            "K13_post16_pct",
            f"Transfers into post-16 due in {year} finalised by 31 March, %",
            post16["finalised_by_deadline"],
            post16["due"],
            _pct(post16["finalised_by_deadline"], post16["due"]),
            "%",
            "up",
        ),
        _row(
            "K13_not_finalised",
            f"Phase transfers due in {year} with no amended plan finalised at the quarter end",
            p["not_finalised"],
            p["due"],
            p["not_finalised"],
            "count",
            "down",
        ),
    ]


# ----- national comparators --------------------------------------------------------------------


@lru_cache(maxsize=8)
def _read_comparators(path: str, mtime: float) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"kpi": str, "source": str, "definition": str})
    df["period_end"] = pd.to_datetime(df["period_end"], format="%Y-%m-%d")
    return df


def load_national_comparators(config: Config | None = None, path: str | Path | None = None) -> pd.DataFrame:
    """England comparators (``kpi``, ``year``, ``period_end``, ``value``, ``unit``, ``definition``,
    ``source``) from ``<reference_dir>/national_comparators.csv``; empty frame if the file is absent."""
    p = Path(path) if path is not None else (Path(config.reference_dir) / COMPARATORS_FILE if config else None)
    if p is None or not p.is_file():
        return pd.DataFrame(columns=["kpi", "year", "period_end", "value", "unit", "definition", "source"])
    return _read_comparators(str(p), p.stat().st_mtime).copy()


def national_for(comparators: pd.DataFrame, kpis: Iterable[str], quarter: Quarter) -> pd.DataFrame:
    """For each KPI id, the latest England value whose period ended on or before the quarter's end.

    Returns a frame ``kpi``, ``national_value``, ``national_year`` (KPIs without one are absent).
    """
    c = comparators[comparators["kpi"].isin(list(kpis)) & (comparators["period_end"] <= quarter.end)]
    c = c.sort_values(["kpi", "period_end"]).drop_duplicates("kpi", keep="last")
    return c.rename(columns={"value": "national_value", "year": "national_year"})[
        ["kpi", "national_value", "national_year"]
    ]


# ----- assembly --------------------------------------------------------------------------------


def _core_frame(core: Callable[[Tables, Quarter], list[dict]], tables: Tables, q: Quarter) -> pd.DataFrame:
    return pd.DataFrame(core(tables, q), columns=_CORE)


def _comparators(tables: Tables, config: Config) -> pd.DataFrame:
    given = tables.get("national_comparators")
    return given if given is not None else load_national_comparators(config)


def _finish(
    cur: pd.DataFrame, prev: pd.DataFrame | None, quarter: Quarter, config: Config, comparators: pd.DataFrame
) -> pd.DataFrame:
    """Add period, previous values, targets, RAG and comparators to core rows."""
    if prev is not None:
        prev = prev[["kpi", "value", "numerator", "denominator"]].rename(
            columns={
                "value": "previous_value",
                "numerator": "previous_numerator",
                "denominator": "previous_denominator",
            }
        )
        cur = cur.merge(prev, on="kpi", how="left")
    else:
        cur = cur.assign(previous_value=math.nan, previous_numerator=math.nan, previous_denominator=math.nan)
    cur["period"] = str(quarter)
    targets = [config.kpi_targets.get(k) if config is not None else None for k in cur["kpi"]]
    cur["target"] = [t.target if t else math.nan for t in targets]
    cur["better"] = [t.better if t else b for t, b in zip(targets, cur["better"])]
    cur["rag"] = pd.Series([rag(v, t) for v, t in zip(cur["value"], targets)], index=cur.index, dtype=object)
    cur["change"] = cur["value"] - cur["previous_value"]
    nat = national_for(comparators, cur["kpi"], quarter)
    cur = cur.merge(nat, on="kpi", how="left")
    cur["national_value"] = cur["national_value"].astype(float)
    cur["national_year"] = cur["national_year"].astype("Int64")
    return cur[COLUMNS]


def _assemble(
    core: Callable[[Tables, Quarter], list[dict]],
    tables: Tables,
    quarter: Quarter,
    config: Config,
    with_previous: bool = True,
) -> pd.DataFrame:
    cur = _core_frame(core, tables, quarter)
    prev = _core_frame(core, tables, quarter.previous) if with_previous else None
    return _finish(cur, prev, quarter, config, _comparators(tables, config))


def k1_timeliness(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K1: EHC plans issued within 20 weeks (``K1`` excluding exceptions, ``K1_all`` all cases).

    Definition: of new plans issued in the quarter (``plan_issued_date`` in the quarter), with no
    permitted exception for ``K1`` (``exception`` false), the % whose ``plan_issued_date -
    request_date`` is at most 140 days (20 weeks). A quarter with no plans issued gives NaN.
    Source: SEN2 guidance (timeliness of new plans, excluding exceptions); SEND Regulations 2014
    reg. 13; board strategic outcome 4 (``docs/sources.md``). National: DfE SEN2, England, calendar year.
    """
    return _assemble(_k1, tables, quarter, config)


def k2_refusal_rate(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K2: assessment decisions that were refusals, and decisions made within 6 weeks.

    ``K2`` (the board's operational measure): of requests with an assessment decision
    (``decision`` not empty) whose ``decision_date`` falls in the quarter, the % with
    ``decision == "refuse"``. National on the same basis: DfE SEN2 ``requests.csv``, decided not
    to assess / (decided to assess + decided not to assess), 2023 on. It is not the DfE's
    published ``request_not_assess_pc`` (requests not assessed / requests received in the year),
    which the benchmark shows as "Requests not assessed".

    ``K2_decided_within_6_weeks_pct``: of the same decisions, the % made within 6 weeks (42 days)
    of the request (SEND Regulations 2014 reg. 5; the DfE's ``request_outcome_six_weeks_pc``,
    National from ``requests.csv``).
    Source: SEN2 requests; board strategic outcome 3 ("reduction in unsuccessful EHC plan
    assessment referrals").
    """
    return _assemble(_k2, tables, quarter, config)


def k3_assessment_conversion(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K3: assessment conversion.

    Definition: of assessments completed in the quarter (``decision == "assess"``, ``outcome`` in
    ``plan_issued`` / ``no_plan`` and ``outcome_date`` in the quarter), the % with a plan issued.
    Withdrawn and open requests are not completed assessments. Source: SEN2 assessments.
    """
    return _assemble(_k3, tables, quarter, config)


def k4_plans_in_force(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K4: EHC plans in force at quarter end, and per 10,000 residents aged 0-25.

    Definition: distinct people with a plan spell in force on the quarter's last day
    (``plan_start_date <= end`` and ``plan_end_date`` empty or ``>= end``). The rate divides by the
    population aged 0-25 of the calendar year in which the quarter ends (the latest earlier year
    when that one is absent). Source: SEN2 caseload (plans maintained); ONS mid-year estimates.
    """
    return _assemble(_k4, tables, quarter, config)


def k5_placement_mix(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K5: placement mix of children with a plan at quarter end.

    Definition: denominator = people with a plan in force on the quarter's last day; numerator =
    those whose placement in force that day is of each ``setting_type`` (``K5_<setting_type>_pct``;
    a person with two placements in force that day counts once, in the one with the latest start).
    Headlines: ``K5_mainstream_pct`` (``MAINSTREAM_SETTINGS``) and ``K5_inmss_pct``. Refinement:
    ``K5_no_placement_pct`` holds children with no placement recorded, so the mix sums to 100.
    Source: SEN2 caseload by establishment type; board strategic outcome 3. National: DfE SEN2 caseload.
    """
    return _assemble(_k5, tables, quarter, config)


def k6_annual_reviews(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K6: annual reviews on time, those pending, and the backlog.

    ``K6``: of reviews whose ``due_date`` falls in the quarter, less those pending, the % whose
    meeting was held by the due date (``meeting_date <= due_date``) and whose decision was
    notified within 4 weeks of the meeting (``decision_date <= meeting_date + 28 days``). A review
    not held by its due date counts in the denominator, not the numerator.
    ``K6_pending`` / ``K6_pending_pct``: reviews due in the quarter whose meeting was held by the
    due date, with no decision recorded and the 28-day decision window still open on the day the
    data run to (:func:`review_as_of`): neither on time nor late yet, so out of K6's denominator.
    ``K6_backlog`` and ``K6_backlog_age_<group>``: reviews overdue at quarter end (due before the
    last day, no meeting held by then) of people with a plan in force that day, by school-year age
    group (:func:`review_backlog`). Source: SEND Code of Practice 9.176-9.185 (reg. 18-20).
    """
    return _assemble(_k6, tables, quarter, config)


def k7_health_waits(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K7: children's health waits per group (``neurodevelopmental``, ``integrated_therapies``).

    Definition, per :data:`sendlib.core.schema.HEALTH_SERVICE_GROUP` group: of referrals first seen in
    the quarter, the median weeks from ``referral_date`` to ``first_contact_date`` and the % seen
    within 18 weeks (126 days); the waiting list at quarter end (referred on or before the last
    day, no first contact by then) and its longest wait in weeks. Source: board strategic outcome 7 (``docs/sources.md``);
    NHS Constitution 18-week referral-to-treatment standard.
    """
    return _assemble(_k7, tables, quarter, config)


def k8_suspensions(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K8: suspensions per 100 pupils by SEN status, and the EHCP : no-SEN ratio, over three windows.

    Definition: suspensions (``kind == "suspension"``) starting in the window, per 100 pupils of
    the same SEN status on roll at the latest January census on or before the quarter's end
    (summed over phases). Windows: the quarter (``K8_<status>_per_100``, not annualised: it
    follows the school terms), the academic year to date (``_ytd``: 1 September to the quarter's
    last day) and the last 12 months (``_12m``: the year ending on the quarter's last day, an annual
    rate comparable with the DfE's). The ratio divides the EHCP rate by the no-SEN rate (its
    numerator and denominator columns hold the two suspension counts). National (``_12m`` rows):
    DfE, "Suspensions and permanent exclusions in England", England, the latest academic year in
    the comparators file. Source: board strategic outcome 3.
    """
    return _assemble(_k8, tables, quarter, config)


def k9_preparing_for_adulthood(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K9: preparing for adulthood.

    Definition: at the latest ``transitions`` census on or before the quarter's end,
    ``K9_transition_plan_pct`` = % of young people with a plan in Year 9 or above (school-year age
    13+, :func:`school_year_age` from ``ehcp_plans.birth_month``; without a birth month, age 14+ at
    the census) who have a transition plan (SEND Code of Practice 8.9: from Year 9).
    The NEET rows take the 16-17 year olds by academic age (Years 12-13; age at the census when
    the birth month is unknown) known to the authority, whatever their activity:
    ``K9_neet_pct`` = % whose activity is ``neet``, ``K9_not_known_pct`` = % ``unknown``, and the
    DfE's headline ``K9_neet_or_not_known_pct`` = both.
    Source: board strategic outcome 8; DfE "NEET and participation: local authority figures".
    """
    return _assemble(_k9, tables, quarter, config)


def k10_high_needs_spend(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K10: high needs spend.

    Definition: ``K10_variance_gbp`` = forecast outturn minus budget, summed over all budget lines
    of the quarter's financial year as forecast at that quarter (``as_at_quarter``); numerator is
    the forecast outturn and denominator the budget (pounds). ``K10_variance_pct`` = variance as %
    of budget. ``K10_cost_<setting_type>_gbp`` = mean ``annual_cost`` of placements in force on the
    quarter's last day (every placement, denominator = placements). Source: s251 high needs
    budget monitoring; DSG deficit management (Delivering Better Value).
    """
    return _assemble(_k10, tables, quarter, config)


def k11_pap_progress(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K11: Priority Action Plan progress (see :mod:`sendlib.models.pap`).

    Definition: actions by BRAG at quarter end (``K11_grey`` .. ``K11_blue``), started since last
    quarter (grey -> any rating), moved up / down the BRAG scale (started actions are not "up"),
    deteriorated (down, or grey -> red), overdue (due before the quarter's last day and not green
    or blue) and needing attention (red, or amber and overdue). Counts; denominator = actions rated. Source: the Priority Action Plan update, May 2024 (``docs/sources.md``).
    """
    return _assemble(_k11, tables, quarter, config)


def k12_tribunal_appeals(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K12: SEND Tribunal appeal rate, last 12 months to the quarter end.

    Definition: appeals registered to the SEND Tribunal in the 12 months to the quarter end as a
    share of the authority's appealable decisions in the same months, counted as the DfE / MoJ
    "SEND Tribunals and appeal rate" counts them (requests refused, assessments without a plan,
    plans in force at the period end, plans ceased because needs are met;
    :func:`sendlib.models.statutory.appealable_decisions`); with the appeals that ended in the
    period by outcome (upheld in the family's favour, conceded, withdrawn, dismissed, struck out),
    the share of tribunal decisions in the family's favour, and appeals pending. England: the
    published appeal rate for the latest calendar year. Source: ``tribunal_appeals``.
    """
    return _assemble(_k12, tables, quarter, config)


def k13_phase_transfers(tables: Tables, quarter: Quarter, config: Config) -> pd.DataFrame:
    """K13: phase transfers finalised by the statutory deadline.

    Definition: of the children with a plan due to move phase in the latest transfer year whose
    15 February deadline has passed by the quarter end, the share whose amended plan was
    finalised by the deadline (15 February for school phase transfers, 31 March for moves into
    post-16: SEND Regulations 2014 reg. 18; SEND Code of Practice 9.179); split school / post-16,
    and those not finalised at the quarter end. Source: ``phase_transfers``.
    """
    return _assemble(_k13, tables, quarter, config)


#: The dashboard's headline variants (tiles and trend charts), in board order.
HEADLINE_KPIS = [
    "K1",
    "K1_all",
    "K2",
    "K2_decided_within_6_weeks_pct",
    "K3",
    "K4",
    "K4_rate_per_10k",
    "K5_mainstream_pct",
    "K5_inmss_pct",
    "K6",
    "K6_pending",
    "K6_backlog",
    "K7_neurodevelopmental_median_weeks",
    "K7_neurodevelopmental_pct_within_18_weeks",
    "K7_integrated_therapies_median_weeks",
    "K7_integrated_therapies_pct_within_18_weeks",
    "K8_ehcp_per_100_12m",
    "K8_ratio_ehcp_to_none_12m",
    "K9_transition_plan_pct",
    "K9_neet_pct",
    "K9_neet_or_not_known_pct",
    "K10_variance_gbp",
    "K10_variance_pct",
    "K11_red",
    "K11_overdue",
    "K11_needs_attention",
    "K12",
    "K13",
]

#: KPI family -> its function, in the dashboard's order.
KPI_FUNCTIONS: dict[str, Callable[[Tables, Quarter, Config], pd.DataFrame]] = {
    "K1": k1_timeliness,
    "K2": k2_refusal_rate,
    "K3": k3_assessment_conversion,
    "K4": k4_plans_in_force,
    "K5": k5_placement_mix,
    "K6": k6_annual_reviews,
    "K7": k7_health_waits,
    "K8": k8_suspensions,
    "K9": k9_preparing_for_adulthood,
    "K10": k10_high_needs_spend,
    "K11": k11_pap_progress,
    "K12": k12_tribunal_appeals,
    "K13": k13_phase_transfers,
}
_CORES = {
    "K1": _k1,
    "K2": _k2,
    "K3": _k3,
    "K4": _k4,
    "K5": _k5,
    "K6": _k6,
    "K7": _k7,
    "K8": _k8,
    "K9": _k9,
    "K10": _k10,
    "K11": _k11,
    "K12": _k12,
    "K13": _k13,
}


def compute_kpis(tables: Tables, quarter: Quarter, config: Config, *, with_previous: bool = True) -> pd.DataFrame:
    """Every KPI (K1-K13) for the quarter in the tidy shape (:data:`COLUMNS`), in dashboard order.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Canonical tables (:func:`sendlib.data.loaders.load_tables`); optionally ``national_comparators``
        to override the shipped comparators file.
    quarter : Quarter
        The reporting quarter.
    config : Config
        Supplies the targets (``kpi_targets``) and the comparators' folder (``reference_dir``).
    with_previous : bool
        Compute the previous quarter too (``previous_value``, ``change``); default True.
    """
    q = Quarter.parse(quarter)
    cur = pd.DataFrame([r for core in _CORES.values() for r in core(tables, q)], columns=_CORE)
    prev = (
        pd.DataFrame([r for core in _CORES.values() for r in core(tables, q.previous)], columns=_CORE)
        if with_previous
        else None
    )
    return _finish(cur, prev, q, config, _comparators(tables, config))


def kpi_history(tables: Tables, quarters: Iterable[Quarter | str], config: Config) -> pd.DataFrame:
    """:func:`compute_kpis` for each quarter (oldest first), stacked: the data for trend charts.

    ``previous_value`` and ``change`` are filled from the stack (each quarter's previous
    quarter is computed only when it is not itself in ``quarters``).
    """
    qs = [Quarter.parse(q) for q in quarters]
    frames = [compute_kpis(tables, q, config, with_previous=(i == 0)) for i, q in enumerate(qs)]
    hist = pd.concat(frames, ignore_index=True)
    # fill previous values from the preceding quarter in the stack where contiguous
    order = {str(q): i for i, q in enumerate(qs)}
    prev_label = {str(q): str(q.previous) for q in qs}
    look = hist.set_index(["period", "kpi"])[["value", "numerator", "denominator"]]
    for _i, q in enumerate(qs[1:], start=1):
        p = prev_label[str(q)]
        mask = (hist["period"] == str(q)).to_numpy()
        if p in order:
            prev = look.loc[p].reindex(hist.loc[mask, "kpi"])
            hist.loc[mask, "previous_value"] = prev["value"].to_numpy()
            hist.loc[mask, "previous_numerator"] = prev["numerator"].to_numpy()
            hist.loc[mask, "previous_denominator"] = prev["denominator"].to_numpy()
        else:
            filled = compute_kpis(tables, q, config, with_previous=True).set_index("kpi").reindex(hist.loc[mask, "kpi"])
            for col in ["previous_value", "previous_numerator", "previous_denominator"]:
                hist.loc[mask, col] = filled[col].to_numpy()
    hist["change"] = hist["value"] - hist["previous_value"]
    return hist[COLUMNS]


def quarter_rows(history: pd.DataFrame, quarter: Quarter | str) -> pd.DataFrame:
    """The rows of a :func:`kpi_history` frame for one quarter: the same table as
    :func:`compute_kpis` for that quarter (when its previous quarter is in the history too)."""
    return history[history["period"] == str(Quarter.parse(quarter))].reset_index(drop=True)


def wait_distribution(
    tables: Tables, quarter: Quarter, bands_weeks: tuple[int, ...] = (0, 6, 12, 18, 26, 52)
) -> pd.DataFrame:
    """Health waits by band of weeks, per K7 group: those first seen in the quarter (by their wait)
    and those still waiting at quarter end (by their wait so far).

    Returns a frame ``group``, ``status`` (``seen in quarter`` / ``waiting at quarter end``),
    ``band`` (``0-6``, ..., ``52+`` weeks, ordered categorical), ``referrals`` (count).
    """
    h = tables["health_waits"]
    group = h["service"].map(HEALTH_SERVICE_GROUP)
    seen_mask = _in(h["first_contact_date"], quarter)
    wait_mask = (h["referral_date"] <= quarter.end) & (
        h["first_contact_date"].isna() | (h["first_contact_date"] > quarter.end)
    )
    weeks = pd.concat(
        [
            ((h.loc[seen_mask, "first_contact_date"] - h.loc[seen_mask, "referral_date"]).dt.days / 7.0)
            .to_frame("weeks")
            .assign(group=group[seen_mask], status="seen in quarter"),
            ((quarter.end - h.loc[wait_mask, "referral_date"]).dt.days / 7.0)
            .to_frame("weeks")
            .assign(group=group[wait_mask], status="waiting at quarter end"),
        ],
        ignore_index=True,
    )
    edges = list(bands_weeks) + [np.inf]
    labels = [f"{a}-{b}" for a, b in zip(bands_weeks[:-1], bands_weeks[1:])] + [f"{bands_weeks[-1]}+"]
    weeks["band"] = pd.cut(weeks["weeks"], bins=edges, labels=labels, right=False)
    grid = pd.MultiIndex.from_product(
        [list(HEALTH_GROUPS), ["seen in quarter", "waiting at quarter end"], labels], names=["group", "status", "band"]
    )
    out = weeks.groupby(["group", "status", "band"], observed=True).size().reindex(grid, fill_value=0)
    out = out.rename("referrals").reset_index()
    out["band"] = pd.Categorical(out["band"], categories=labels, ordered=True)
    return out


def suspension_windows(kpis: pd.DataFrame) -> pd.DataFrame:
    """The K8 rows of a KPI table (:func:`compute_kpis`, suppressed or not) as one row per SEN
    status and the ratio: the rate in the quarter, the academic year to date and the last 12
    months, with England's annual rate (``_12m`` comparator) and its year. Values are taken as
    they are in ``kpis`` (a suppressed value stays blank)."""
    rows = []
    look = kpis.set_index("kpi")
    for status, label in [*SEN_STATUS.items(), ("ratio", "Ratio, EHC plan to no SEN")]:
        base = "K8_ratio_ehcp_to_none" if status == "ratio" else f"K8_{status}_per_100"
        row: dict[str, Any] = {"pupils": label, "unit": "ratio" if status == "ratio" else "per 100"}
        for suffix, words in K8_WINDOWS.items():
            row[words] = look["value"].get(base + suffix, math.nan)
        row["England (academic year)"] = look["national_value"].get(base + "_12m", math.nan)
        row["England year"] = look["national_year"].get(base + "_12m", pd.NA)
        rows.append(row)
    return pd.DataFrame(rows)
