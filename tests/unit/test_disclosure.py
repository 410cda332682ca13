"""Small-number suppression, worked by hand."""

import pandas as pd
import pytest

from sendlib.publish.disclosure import small_counts, suppress_table


def test_primary_suppression_of_counts_one_to_four_and_zero_kept():
    df = pd.DataFrame({"n": [0, 1, 4, 5, 12]})
    out = suppress_table(df, counts=["n"])
    assert out["n"].tolist() == [0, "<5", "<5", 5, 12]


def test_percentages_hidden_on_small_denominators_and_suppressed_numerators():
    df = pd.DataFrame({"num": [3, 6, 6], "den": [20, 9, 12], "pct": [15.0, 66.7, 50.0]})
    out = suppress_table(df, counts=["num", "den"], percentages={"pct": ("num", "den")})
    # row 0: numerator 3 suppressed -> 15% would give it back; row 1: denominator 9 < 10.
    assert out["pct"].tolist() == ["", "", 50.0]


def test_secondary_suppression_within_groups():
    # Group a: 3 (primary) + 10 + 20 = 33 published as a total elsewhere -> hide 10 too.
    # Group b: two primary cells already protect each other -> nothing more hidden.
    df = pd.DataFrame({"g": ["a", "a", "a", "b", "b", "b"], "n": [3, 10, 20, 2, 1, 50]})
    out = suppress_table(df, counts=["n"], secondary_groups=["g"])
    assert out["n"].tolist() == ["<5", "c", 20, "<5", "<5", 50]


def test_no_secondary_without_groups_and_whole_table_group():
    df = pd.DataFrame({"n": [3, 10, 20]})
    assert suppress_table(df, counts=["n"])["n"].tolist() == ["<5", 10, 20]
    assert suppress_table(df, counts=["n"], secondary_groups=[])["n"].tolist() == ["<5", "c", 20]


def test_threshold_from_config_and_unknown_column():
    df = pd.DataFrame({"n": [6, 9, 10]})
    assert suppress_table(df, counts=["n"], threshold=10)["n"].tolist() == ["<10", "<10", 10]
    with pytest.raises(KeyError):
        suppress_table(df, counts=["m"])


def test_small_counts_finds_unsuppressed_cells():
    df = pd.DataFrame({"n": [0, 3, "<5", 7]})
    assert small_counts(df, ["n"]).index.tolist() == [1]
