"""sendlib.models.benchmark and `sendlib benchmark`: hand-built frames, then the shipped extract."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sendlib.cli import main
from sendlib.core.errors import UsageError
from sendlib.models import benchmark as bm


def _frame() -> pd.DataFrame:
    """England, one region, three authorities, two Januaries; values chosen to rank by hand."""
    rows = [
        # level, region, code, name, year, ehc_plans, timeliness
        ("National", "", "", "", 2024, 1000.0, 50.0),
        ("National", "", "", "", 2025, 1100.0, 40.0),
        ("Regional", "R1", "", "", 2024, 600.0, 45.0),
        ("Regional", "R1", "", "", 2025, 690.0, 35.0),
        ("Local authority", "R1", "001", "Alpha", 2024, 200.0, 60.0),
        ("Local authority", "R1", "001", "Alpha", 2025, 250.0, np.nan),
        ("Local authority", "R1", "002", "Beta", 2024, 400.0, 30.0),
        ("Local authority", "R1", "002", "Beta", 2025, 440.0, 30.0),
        ("Local authority", "R2", "003", "Gamma", 2024, 400.0, 55.0),
        ("Local authority", "R2", "003", "Gamma", 2025, 410.0, 20.0),
    ]
    f = pd.DataFrame(
        rows,
        columns=[
            "geographic_level",
            "region_code",
            "old_la_code",
            "la_name",
            "year",
            "ehc_plans",
            "timeliness_20wk_excl_pct",
        ],
    )
    f["region_name"] = f["region_code"].map({"R1": "Region One", "R2": "Region Two", "": ""})
    f["reason"] = ""
    f.loc[(f["old_la_code"] == "001") & (f["year"] == 2025), "reason"] = "timeliness_20wk_excl_num: unavailable"
    return bm.add_growth(f)


def test_growth_is_on_the_same_geography():
    f = _frame()
    alpha25 = f[(f["old_la_code"] == "001") & (f["year"] == 2025)]["growth_pct"].iloc[0]
    assert alpha25 == pytest.approx(25.0)  # 250 / 200 - 1
    eng25 = f[(f["geographic_level"] == "National") & (f["year"] == 2025)]["growth_pct"].iloc[0]
    assert eng25 == pytest.approx(10.0)
    assert math.isnan(f[(f["old_la_code"] == "001") & (f["year"] == 2024)]["growth_pct"].iloc[0])


def test_compare_ranks_1_is_highest_and_ties_share():
    c = bm.compare(_frame(), "002", indicators=["ehc_plans", "growth_pct", "timeliness_20wk_excl_pct"])
    r = c.set_index(["indicator", "year"])
    # 2024 plans: Beta 400 and Gamma 400 tie for 1st, Alpha 3rd
    assert r.loc[("ehc_plans", 2024), "rank"] == 1 and r.loc[("ehc_plans", 2024), "n_ranked"] == 3
    # 2025 plans: Beta 440 highest
    assert r.loc[("ehc_plans", 2025), "rank"] == 1
    assert r.loc[("ehc_plans", 2025), "region_value"] == 690 and r.loc[("ehc_plans", 2025), "england_value"] == 1100
    # 2025 growth: Alpha 25%, Beta 10%, Gamma 2.5% -> Beta 2nd
    assert r.loc[("growth_pct", 2025), "rank"] == 2
    # 2025 timeliness: Alpha missing, so only 2 ranked; Beta 30 > Gamma 20 -> 1st of 2
    assert r.loc[("timeliness_20wk_excl_pct", 2025), "rank"] == 1
    assert r.loc[("timeliness_20wk_excl_pct", 2025), "n_ranked"] == 2
    assert r.loc[("timeliness_20wk_excl_pct", 2025), "better"] == "up"


def test_missing_value_keeps_its_reason():
    c = bm.compare(_frame(), "alpha", indicators=["timeliness_20wk_excl_pct"])
    row = c[c["year"] == 2025].iloc[0]
    assert math.isnan(row["la_value"]) and "unavailable" in row["reason"] and pd.isna(row["rank"])


def test_unknown_la_names_code_and_suggests():
    with pytest.raises(UsageError) as exc:
        bm.compare(_frame(), "Alpah")
    assert "'Alpah'" in str(exc.value) and "Alpha (001)" in str(exc.value)
    with pytest.raises(UsageError, match="'999'"):
        bm.compare(_frame(), "999")


def test_latest_picks_the_last_year_with_a_value():
    c = bm.compare(_frame(), "001", indicators=["ehc_plans", "timeliness_20wk_excl_pct"])
    lt = bm.latest(c).set_index("indicator")
    assert lt.loc["ehc_plans", "year"] == 2025
    assert lt.loc["timeliness_20wk_excl_pct", "year"] == 2024


def test_cli_benchmark_csv_on_shipped_extract(capsys):
    assert main(["benchmark", "--la", "931", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("old_la_code,la_name,region_name,indicator")
    rows = [line for line in out[1:] if line.startswith("931,Oxfordshire")]
    assert len(rows) > 30
    assert any(",ehc_plans," in r and ",2019," in r and ",3554.0," in r for r in rows)


def test_cli_unknown_la_is_a_usage_error(capsys):
    assert main(["benchmark", "--la", "Oxfordshre"]) == 2
    assert "Oxfordshire (931)" in capsys.readouterr().err


def test_charts_have_titles_and_alt_text():
    from sendlib.publish.plots import benchmark as pb

    c = bm.compare(_frame(), "002", indicators=["ehc_plans", "timeliness_20wk_excl_pct"])
    c["label"] = c["indicator"]
    t = pb.trend_chart(c, "timeliness_20wk_excl_pct")
    assert "Beta" in t.figure.axes[0].get_title() and "below England" in t.figure.axes[0].get_title()
    r = pb.rank_chart(c)
    assert "rank" in r.alt_text
    import matplotlib.pyplot as plt

    plt.close("all")


def test_cli_benchmark_carries_the_published_appeal_rate_and_6_week_measure(capsys):
    import io

    assert main(["benchmark", "--la", "931", "--format", "csv"]) == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"old_la_code": str})
    appeal = out[out["indicator"] == "appeal_rate_pct"].set_index("year")
    assert list(appeal.index) == list(range(2014, 2025))
    # as published in "SEND Tribunals and appeal rate 2014-2024" (DfE / MoJ)
    assert appeal.loc[[2022, 2023, 2024], "la_value"].tolist() == [4.5, 5.1, 5.1]
    assert appeal.loc[2024, "england_value"] == 3.2
    six = out[out["indicator"] == "decided_within_6_weeks_pct"].set_index("year")
    assert six.loc[2024, "la_value"] == 95.5 and six.loc[2024, "england_value"] == 84.8
