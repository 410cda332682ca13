"""Suspension and permanent exclusion rates of the generated county (issue 16).

Rates are measured from the generated ``exclusions`` and ``school_population`` tables, as K8 and the
DfE do: events in the school year per 100 pupils of the same SEN status on roll at the January
census of that school year. They are compared with England's figures in ``config/synth.yaml``
(``exclusions``), whose sources the block cites.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from sendlib.data.synth import default_end_date, generate, load_params

PARAMS = load_params()
X = PARAMS["exclusions"]
EXTRACT = pd.Timestamp(default_end_date(PARAMS))
COMPLETE_YEARS = range(2018, 2026)  # 2018/19 to 2025/26
STATUSES = ("ehcp", "sen_support", "none")


@pytest.fixture(scope="module")
def county() -> dict[str, pd.DataFrame]:
    return generate()


def _england(kind: str, status: str, ay: int) -> float:
    """The configured England rate per 100 for academic year ``ay`` (the last year held after)."""
    table: Mapping = X["suspensions_per_100" if kind == "suspension" else "permanent_per_100"][status]
    years = sorted(int(y) for y in table)
    return float(table[min(max(ay, years[0]), years[-1])])


def _academic_year(d: pd.Series) -> pd.Series:
    return d.dt.year - (d.dt.month < 9).astype(int)


def _events(county: dict[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """Events of ``kind`` by academic year (rows) and SEN status (columns)."""
    ex = county["exclusions"]
    ex = ex[ex["kind"] == kind]
    n = ex.groupby([_academic_year(ex["start_date"]), "sen_status"]).size().unstack(fill_value=0)
    return n.reindex(columns=list(STATUSES), fill_value=0)


def _rolls(county: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Pupils on roll at each January census by SEN status, indexed by the census's school year."""
    sp = county["school_population"]
    roll = sp.groupby(["census_date", "sen_status"])["pupils"].sum().unstack()
    roll.index = pd.DatetimeIndex(roll.index).year - 1
    return roll[list(STATUSES)]


def _rates(county: dict[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """Events per 100 pupils per school year, complete school years only."""
    n, roll = _events(county, kind), _rolls(county)
    years = list(COMPLETE_YEARS)
    return 100.0 * n.reindex(years, fill_value=0) / roll.reindex(years)


def _school_days(first: pd.Timestamp, last: pd.Timestamp, ay: int) -> pd.DatetimeIndex:
    """Weekdays from ``first`` to ``last`` without the Christmas break of academic year ``ay``."""
    t = X["term"]
    days = pd.bdate_range(first, last)
    xmas = (days >= pd.Timestamp(f"{ay}-{t['christmas_first']}")) & (
        days <= pd.Timestamp(f"{ay + 1}-{t['christmas_last']}")
    )
    return days[~xmas]


def test_every_complete_year_has_a_census_and_events(county: dict[str, pd.DataFrame]) -> None:
    roll = _rolls(county)
    assert set(COMPLETE_YEARS) <= set(roll.index)
    n = _events(county, "suspension").reindex(list(COMPLETE_YEARS), fill_value=0)
    assert (n > 0).all().all()


@pytest.mark.parametrize("ay", COMPLETE_YEARS)
def test_ehcp_suspension_rate_three_to_eight_times_no_sen(county: dict[str, pd.DataFrame], ay: int) -> None:
    r = _rates(county, "suspension").loc[ay]
    ratio = r["ehcp"] / r["none"]
    assert 3.0 <= ratio <= 8.0, f"{ay}/{(ay + 1) % 100:02d}: EHCP {r['ehcp']:.2f} vs no SEN {r['none']:.2f}"


@pytest.mark.parametrize("ay", COMPLETE_YEARS)
@pytest.mark.parametrize("status", STATUSES)
def test_suspension_rates_within_25pct_of_england(county: dict[str, pd.DataFrame], ay: int, status: str) -> None:
    got = _rates(county, "suspension").loc[ay, status]
    want = _england("suspension", status, ay)
    assert got == pytest.approx(want, rel=0.25), f"{ay}/{(ay + 1) % 100:02d} {status}: {got:.2f} vs {want}"


def test_permanent_exclusion_rates_near_england(county: dict[str, pd.DataFrame]) -> None:
    """Permanent exclusions are few (a handful of EHCP ones a year), so compare the sum over the
    complete years with the sum of the configured rates x rolls."""
    n = _events(county, "permanent").reindex(list(COMPLETE_YEARS), fill_value=0)
    roll = _rolls(county).reindex(list(COMPLETE_YEARS))
    for status in STATUSES:
        expected = sum(_england("permanent", status, ay) / 100 * roll.loc[ay, status] for ay in COMPLETE_YEARS)
        got = int(n[status].sum())
        assert abs(got - expected) <= max(0.25 * expected, 3 * np.sqrt(expected)), (status, got, expected)


@pytest.mark.parametrize("status", STATUSES)
def test_part_year_to_the_extract_date_is_pro_rata(county: dict[str, pd.DataFrame], status: str) -> None:
    """The school year containing the extract date has its share of the year's events, no more:
    events / (rate x pupils on roll at the latest census x share of school days elapsed) in 0.5-2."""
    ay = int(_academic_year(pd.Series([EXTRACT])).iloc[0])
    t = X["term"]
    first, last = pd.Timestamp(f"{ay}-{t['first']}"), pd.Timestamp(f"{ay + 1}-{t['last']}")
    share = len(_school_days(first, EXTRACT, ay)) / len(_school_days(first, last, ay))
    assert 0 < share < 0.5, "the default extract date is early in the school year"
    sp = county["school_population"]
    census = sp.loc[sp["census_date"] <= EXTRACT, "census_date"].max()
    pupils = sp.loc[(sp["census_date"] == census) & (sp["sen_status"] == status), "pupils"].sum()
    n = _events(county, "suspension")
    got = int(n.loc[ay, status]) if ay in n.index else 0
    expected = _england("suspension", status, ay) / 100 * pupils * share
    assert expected > 20
    assert 0.5 * expected <= got <= 2.0 * expected, (status, got, expected, share)


def test_no_events_after_the_extract_date(county: dict[str, pd.DataFrame]) -> None:
    ex = county["exclusions"]
    assert (ex["start_date"] <= EXTRACT).all()
    assert (ex["start_date"].dt.day_of_week < 5).all()
