"""Dates as integer day numbers, and the school, census and financial calendars built on them.

Every date in the generator is an ``int64`` day number (days since 1970-01-01), so whole arrays of
dates can be shifted, compared and split into year, month and day with numpy; :func:`_to_dates`
turns them into ``datetime64`` only when a table is built. A missing date is :data:`NA`.

Conventions (docs/synthetic-county.md, "Conventions worth knowing"): people are born on the 1st of
their birth month (a month index ``year * 12 + month - 1``); the school year starts on 1 September
and the phase follows the age on 31 August before it (Reception = 4); the financial year starts on
1 April; the school census is on the third Thursday of January (DfE school census guide).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sendlib.core.quarters import third_thursday_of_january

NA = np.int64(-(10**9))  # missing date (day number)

#: the phases :func:`_phase` returns, youngest first
PHASES = ["early_years", "primary", "secondary", "post16", "post19"]


def _day(text: str) -> int:
    """Day number of an ISO date (``"2018-04-01"``)."""
    return int(np.datetime64(str(text), "D").astype(np.int64))


def _census_day(year: int) -> int:
    """Day number of the January school census of ``year`` (its third Thursday)."""
    return _day(third_thursday_of_january(year).strftime("%Y-%m-%d"))


def _ym(days: np.ndarray) -> np.ndarray:
    """Month index year*12 + (month-1) of day numbers."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _month_start(ym: np.ndarray) -> np.ndarray:
    """Day number of the 1st of each month index."""
    return (np.asarray(ym, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day of the month of day numbers."""
    ym = _ym(days)
    return ym // 12, ym % 12 + 1, np.asarray(days, dtype=np.int64) - _month_start(ym) + 1


def _date(y: Any, m: Any, d: Any) -> np.ndarray:
    """Day numbers of (year, month, day), broadcast; a day past the month's end runs on."""
    y, m, d = np.broadcast_arrays(np.asarray(y, np.int64), np.asarray(m, np.int64), np.asarray(d, np.int64))
    return _month_start(y * 12 + m - 1) + d - 1


def _add_months(days: np.ndarray, k: int) -> np.ndarray:
    """Day numbers ``k`` months later, clipped to the last day of the target month."""
    y, m, d = _ymd(days)
    ym = y * 12 + m - 1 + k
    first = _month_start(ym)
    dim = _month_start(ym + 1) - first
    return first + np.minimum(d, dim) - 1


def _add_months_arr(days: np.ndarray, k: np.ndarray) -> np.ndarray:
    """:func:`_add_months` with a number of months per date."""
    y, m, d = _ymd(days)
    ym = y * 12 + m - 1 + np.asarray(k, np.int64)
    first = _month_start(ym)
    dim = _month_start(ym + 1) - first
    return first + np.minimum(d, dim) - 1


def _md(text: str) -> tuple[int, int]:
    """Month and day of a ``"MM-DD"`` parameter."""
    m, d = str(text).split("-")
    return int(m), int(d)


def _frac_year(days: np.ndarray) -> np.ndarray:
    """Fractional year of day numbers (for interpolating yearly parameters)."""
    y, m, d = _ymd(days)
    return y + (m - 1 + (d - 1) / 31.0) / 12.0


def _ay_of(days: np.ndarray) -> np.ndarray:
    """Academic year (the calendar year its September falls in) of day numbers."""
    y, m, _ = _ymd(days)
    return np.where(m >= 9, y, y - 1)


def _fy_of(days: np.ndarray) -> np.ndarray:
    """Financial year (the calendar year its April falls in) of day numbers."""
    y, m, _ = _ymd(days)
    return np.where(m >= 4, y, y - 1)


def _age(bm: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Age in whole years at ``days`` for people born on the 1st of month index ``bm``."""
    return (_ym(days) - bm) // 12


def _academic_age(bm: np.ndarray, ay: np.ndarray) -> np.ndarray:
    """Age on 31 August before the academic year starting in September of ``ay``."""
    return (np.asarray(ay, np.int64) * 12 + 7 - bm) // 12


def _phase(aa: np.ndarray) -> np.ndarray:
    """Phase of education for an academic age: early years < 4, primary 4-10, secondary 11-15,
    post-16 16-18, post-19 19+ (Reception is the year a child is 4 on 31 August)."""
    return np.select(
        [aa < 4, aa <= 10, aa <= 15, aa <= 18], ["early_years", "primary", "secondary", "post16"], "post19"
    )


def _to_dates(days: np.ndarray) -> pd.Series:
    """Day numbers as a ``datetime64[ns]`` series, :data:`NA` as ``NaT``."""
    arr = np.asarray(days, dtype=np.int64)
    out = arr.astype("datetime64[D]").astype("datetime64[ns]")
    out[arr == NA] = np.datetime64("NaT")
    return pd.Series(out)
