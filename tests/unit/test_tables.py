"""Board tables on the pages (sendlib.publish.tables): headers in words with units, no index,
rounding, separators, code names, suppression symbols kept, HTML escaped."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sendlib.publish.tables import (
    SNAKE_CASE,
    board_frame,
    board_table,
    column_label,
    format_value,
    humanise,
    snake_case_headers,
)


def test_headers_are_plain_english_with_units():
    df = pd.DataFrame(
        {
            "year": [2027],
            "demand_lower_80": [12.0],
            "demand_mean": [12.34],
            "cumulative_balance_gbp": [-1_500.0],
            "occupancy_pct": [98.76],
            "prob_shortfall": [0.7],
            "gap_median_whatif": [3.0],
            "brand_new_measure_count": [4],
        }
    )
    shown = board_frame(df)
    assert list(shown.columns) == [
        "Year",
        "Demand, lower 80% bound (children)",
        "Demand, mean (children)",
        "Cumulative balance (£)",
        "Occupancy (%)",
        "Chance of a shortfall (%)",
        "Gap (demand minus places), median, what-if (children)",
        "Brand new measure count",
    ]
    assert snake_case_headers(shown.columns) == []


@pytest.mark.parametrize(
    "name",
    ["days_after_quarter_end", "x_gbp", "overflow_p90_gbp", "a_b_c_pct", "prob_any_thing", "n_rows", "k9_neet_pct"],
)
def test_no_machine_name_survives_as_a_header(name):
    text = column_label(name).text
    assert not SNAKE_CASE.match(text) and "_" not in text


def test_no_index_column_and_a_named_index_becomes_a_column():
    df = pd.DataFrame({"plans": [3, 4]}, index=[7, 9])
    assert list(board_frame(df).columns) == ["Plans"]
    html = board_table(df).to_html()
    assert "row_heading" not in html and "index_name" not in html and ">7<" not in html

    named = pd.DataFrame({"plans": [3, 4]}, index=pd.Index(["north", "south"], name="locality"))
    shown = board_frame(named, codes={"locality": {"north": "North", "south": "South"}})
    assert list(shown.columns) == ["Locality", "Plans"] and list(shown["Locality"]) == ["North", "South"]


def test_rounding_and_thousands_separators():
    df = pd.DataFrame(
        {
            "median": [12345.4],
            "mape": [4.04567],
            "unit_cost_gbp": [53_675.730110775426],
            "cumulative_balance_gbp": [-128_687_618.2],
            "mase": [0.8812],
            "national_year": [2024],
            "value": [53.675730110775426],
            "low": [0.035],
        }
    )
    row = board_frame(df).iloc[0].to_dict()
    assert row == {
        "Median (children)": "12,345",
        "Mean absolute % error (%)": "4.0",
        "Cost per place a year (£)": "53,676",
        "Cumulative balance (£m)": "-128.7",
        "Mean absolute scaled error": "0.88",
        "England, year": "2024",
        "Value": "53.7",
        "Low": "0.035",
    }


def test_money_in_millions_only_when_the_column_reaches_a_million():
    small = board_frame(pd.DataFrame({"extra_cost_gbp": [999_999.0, -5.0]}))
    big = board_frame(pd.DataFrame({"extra_cost_gbp": [1_000_000.0, -5.0]}))
    assert list(small.columns) == ["Extra cost (£)"] and list(small.iloc[:, 0]) == ["999,999", "-5"]
    assert list(big.columns) == ["Extra cost (£m)"] and list(big.iloc[:, 0]) == ["1.0", "-0.0"]


def test_suppression_symbols_and_text_are_shown_as_they_are():
    df = pd.DataFrame({"referrals": [12_000, "<5", "c", ""], "comment": ["ok", None, np.nan, "<5 left"]})
    shown = board_frame(df)
    assert list(shown["Referrals"]) == ["12,000", "<5", "c", ""]
    assert list(shown["Comment"]) == ["ok", "", "", "<5 left"]


def test_numbers_written_as_text_are_rounded_too():
    shown = board_frame(pd.DataFrame({"la_value": ["53.675730110775426", "<5"], "ref": ["1.10", "2B2"]}))
    assert list(shown["Authority value"]) == ["53.7", "<5"]
    assert list(shown["Reference"]) == ["1.10", "2B2"]  # a reference is text, never rounded


def test_labels_from_the_code_lists():
    df = pd.DataFrame(
        {
            "age_group": ["under_5", "11_15", "20_25"],
            "primary_need": ["ASD", "SEMH", "MLD"],
            "setting_type": ["inmss", "special_academy", "fe_college"],
            "phase": ["post16", "primary", "early_years"],
            "brag": ["red", "amber", "blue"],
            "designation": ["mixed", "ASD", "unknown"],
        }
    )
    shown = board_frame(df)
    assert list(shown["Age band"]) == ["Under 5", "11-15", "20-25"]
    assert "11 15" not in shown.to_string()
    assert list(shown["Primary need"]) == [
        "Autistic spectrum disorder",
        "Social, emotional and mental health",
        "Moderate learning difficulty",
    ]
    assert shown["Setting type"].iloc[0] == "Independent or non-maintained special school"
    assert list(shown["Phase"]) == ["Post-16", "Primary", "Early years"]
    assert list(shown["BRAG"]) == ["Red", "Amber", "Blue"]
    assert list(shown["Designation"]) == ["Complex / mixed needs", "Autistic spectrum disorder", "unknown"]


def test_dates_booleans_and_missing_values():
    df = pd.DataFrame(
        {
            "open_date": pd.to_datetime(["2028-03-31", None]),
            "is_over_full": pd.array([True, False], dtype="boolean"),
            "national_value": [np.nan, 46.4],
        }
    )
    shown = board_frame(df)
    assert list(shown["Opens"]) == ["31 Mar 2028", ""]
    assert list(shown["Over full"]) == ["Yes", "No"]
    assert list(shown["England value"]) == ["", "46.4"]


def test_columns_selects_and_orders_and_names_a_missing_one():
    df = pd.DataFrame({"a_b": [1], "year": [2027], "c_d": [2]})
    assert list(board_frame(df, columns=["year", "a_b"]).columns) == ["Year", "A b"]
    with pytest.raises(KeyError, match="no column"):
        board_frame(df, columns=["nope"])


def test_caller_labels_units_and_a_default_kind():
    df = pd.DataFrame({"item": ["Income"], "2026-27": [101_900_000.0], "value": [3.0]})
    shown = board_frame(df, kind="gbp", labels={"value": "Rate"}, units={"value": "per 100"})
    assert list(shown.columns) == ["Item", "2026-27 (£m)", "Rate (per 100)"]
    assert shown.iloc[0].tolist() == ["Income", "101.9", "3"]


def test_duplicate_headers_are_made_unique():
    shown = board_frame(pd.DataFrame({"n": [1], "forecasts_scored": [2]}))
    assert list(shown.columns) == ["Forecasts scored", "Forecasts scored (2)"]


def test_the_styler_renders_an_escaped_table_without_index_and_stable_ids():
    df = pd.DataFrame({"comment": ["<script>alert(1)</script>"], "referrals": ["<5"], "name": ["A & B"]})
    html = board_table(df, caption="Ref <1>").to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;5" in html and "A &amp; B" in html and "Ref &lt;1&gt;" in html
    assert 'class="dataframe board-table"' in html
    headers = re.findall(r"<th[^>]*>(.*?)</th>", html)
    assert headers == ["Comment", "Referrals", "Name"]  # no index header cell, no blank corner
    assert "row_heading" not in html
    assert 'class="data row0 col1 num"' in html and 'class="data row0 col0 text"' in html
    assert html == board_table(df, caption="Ref <1>").to_html()  # same table, same page


def test_board_table_renders_for_jupyter_and_nbconvert():
    styler = board_table(pd.DataFrame({"year": [2027], "median": [9575.0]}))
    html = styler._repr_html_()
    assert "<table" in html and "9,575" in html and "2027" in html


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (1234567.8, "count", "1,234,568"),
        (12.345, "pct", "12.3"),
        (0.123, "share", "12.3"),
        (2027.0, "year", "2027"),
        (-0.602, "number", "-0.6"),
        (True, "text", "Yes"),
        ("c", "count", "c"),
        (None, "count", ""),
        (float("inf"), "count", "inf"),
    ],
)
def test_format_value(value, kind, expected):
    assert format_value(value, kind) == expected


def test_humanise():
    assert humanise("days_after_quarter_end") == "Days after quarter end"
    assert humanise("k9_neet_pct") == "K9 NEET %"


def test_iso_dates_written_as_text_in_date_columns():
    shown = board_frame(pd.DataFrame({"date": ["2028-03-31", "n/a"], "financial_year": ["2027-28", "2028-29"]}))
    assert list(shown["Date"]) == ["31 Mar 2028", "n/a"]
    assert list(shown["Financial year"]) == ["2027-28", "2028-29"]
