"""Formula neutralising for CSV and Excel outputs (sendlib.publish.sanitise)."""

from __future__ import annotations

import pandas as pd
import pytest

from sendlib.publish.sanitise import is_formula_like, neutralise_frame, neutralise_text


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "- bullet"]
)
def test_formula_like_text_is_prefixed(text):
    assert is_formula_like(text)
    assert neutralise_text(text) == "'" + text


@pytest.mark.parametrize("value", ["Plain text", "", "-3", "+1.5", "-2.5e3", -4.0, 7, None, "a=b"])
def test_other_values_are_left_alone(value):
    assert not is_formula_like(value)
    assert neutralise_text(value) == value


def test_frame_keeps_numbers_numeric_and_neutralises_text_and_headers():
    df = pd.DataFrame(
        {
            "comment": ["=cmd|' /C calc'!A0", "fine", None],
            "balance_gbp": [-1_250_000.0, 30.5, 0.0],
            "count": ["<5", 12, "c"],
            "=bad header": ["x", "y", "z"],
        }
    )
    out = neutralise_frame(df)
    assert out.loc[0, "comment"] == "'=cmd|' /C calc'!A0"
    assert out.loc[1, "comment"] == "fine" and pd.isna(out.loc[2, "comment"])
    assert out["balance_gbp"].dtype == "float64" and out.loc[0, "balance_gbp"] == -1_250_000.0
    assert list(out["count"]) == ["<5", 12, "c"]
    assert "'=bad header" in out.columns
    assert df.loc[0, "comment"].startswith("=")  # the input is not changed
