"""UK financial-year quarters: parsing, printing, dates and edge cases (Q4 spans two calendar years)."""

import pandas as pd
import pytest

from sendlib.core.errors import UsageError
from sendlib.core.quarters import (
    Quarter,
    financial_year_label,
    last_n_quarters,
    parse_financial_year,
    quarter_range,
    third_thursday_of_january,
)


@pytest.mark.parametrize(
    "text",
    [
        "2025-26Q2",
        "2025-26 Q2",
        "2025-26-Q2",
        "2025/26 Q2",
        "2025-2026 Q2",
        "FY2025Q2",
        "fy2025 q2",
        " 2025-26q2 ",
        "FY2025-26 Q2",
    ],
)
def test_lenient_forms_parse_to_the_canonical_quarter(text):
    q = Quarter.parse(text)
    assert q == Quarter(2025, 2)
    assert str(q) == "2025-26Q2"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("2025-27Q2", "one year to the next"),
        ("2025-26Q5", "1-4"),
        ("Q2 2025", "not understood"),
        ("", "not understood"),
        ("2025-26", "not understood"),
    ],
)
def test_bad_quarters_say_what_was_not_understood(text, fragment):
    with pytest.raises(UsageError) as err:
        Quarter.parse(text)
    assert fragment in str(err.value)
    assert repr(text) in repr(str(err.value)) or text.strip() in str(err.value)


def test_q2_is_july_to_september():
    q = Quarter.parse("2025-26Q2")
    assert q.start == pd.Timestamp("2025-07-01")
    assert q.end == pd.Timestamp("2025-09-30")
    assert q.financial_year == "2025-26"
    assert q.label == "2025-26 Q2 (Jul-Sep 2025)"


def test_q4_spans_january_to_march_of_the_next_calendar_year():
    q = Quarter.parse("2025-26Q4")
    assert q.start == pd.Timestamp("2026-01-01")
    assert q.end == pd.Timestamp("2026-03-31")
    assert q.financial_year == "2025-26"
    assert q.next == Quarter(2026, 1)
    assert Quarter.containing("2026-02-14") == q
    assert Quarter.containing("2026-04-01") == Quarter(2026, 1)


def test_q3_ends_on_31_december():
    assert Quarter(2024, 3).end == pd.Timestamp("2024-12-31")


def test_previous_wraps_across_financial_years():
    assert Quarter(2025, 1).previous == Quarter(2024, 4)
    assert Quarter(2025, 3).previous == Quarter(2025, 2)
    assert Quarter(2025, 1) - 5 == Quarter(2023, 4)
    assert Quarter(2023, 4) + 5 == Quarter(2025, 1)


def test_census_dates():
    # Third Thursday of January: 2025-01-16 (Jan 1 2025 was a Wednesday), 2026-01-15.
    assert third_thursday_of_january(2025) == pd.Timestamp("2025-01-16")
    assert third_thursday_of_january(2026) == pd.Timestamp("2026-01-15")
    q = Quarter(2025, 2)
    assert q.census_date == pd.Timestamp("2026-01-15")
    assert q.census_year == 2026
    assert q.latest_census_date == pd.Timestamp("2025-01-16")
    # In Q4 the census of the same financial year has happened.
    assert Quarter(2025, 4).latest_census_date == pd.Timestamp("2026-01-15")


def test_latest_complete_quarter():
    assert Quarter.latest_complete("2026-09-30") == Quarter(2026, 2)
    assert Quarter.latest_complete("2026-09-29") == Quarter(2026, 1)
    assert Quarter.latest_complete("2026-01-01") == Quarter(2025, 3)


def test_ranges_and_ordering():
    qs = list(quarter_range("2024-25Q3", "2025-26Q2"))
    assert [str(q) for q in qs] == ["2024-25Q3", "2024-25Q4", "2025-26Q1", "2025-26Q2"]
    assert last_n_quarters("2025-26Q2", 3) == [Quarter(2024, 4), Quarter(2025, 1), Quarter(2025, 2)]
    assert sorted([Quarter(2025, 1), Quarter(2024, 4)]) == [Quarter(2024, 4), Quarter(2025, 1)]


def test_financial_year_labels():
    assert parse_financial_year("2025-26") == 2025
    assert parse_financial_year("2025/2026") == 2025
    assert financial_year_label(2099) == "2099-00"
    with pytest.raises(UsageError):
        parse_financial_year("2025-27")
