"""sendlib.data.dfe: readers and series, on hand-built files and on the real DfE figures.

Real-data facts were checked by hand against the DfE files and the release's own headlines
(DfE, Education, health and care plans, June 2025 release: docs/sources.md): England 353,995 EHC plans in January 2019 and 638,745 in
January 2025; Oxfordshire (931) 3,554 (January 2019) and 4,627 (January 2021); England's 20-week
rate excluding exceptions 50.3% (2023) and 46.4% (2024).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sendlib.core.errors import DataError, UsageError
from sendlib.data import dfe

REPO = Path(__file__).resolve().parents[2]
EXTRACT = REPO / "data" / "reference" / "dfe"
SHARED = REPO.parent / "shared" / "reference" / "dfe"

SOURCES = [
    pytest.param(EXTRACT, id="extract"),
    pytest.param(
        SHARED,
        id="downloads",
        marks=pytest.mark.skipif(
            not (SHARED / "dfe_ehcp_2025_release").is_dir(), reason="full DfE downloads not present"
        ),
    ),
]


# ------------------------------------------------------------------ hand-built files

HEADER_2025 = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,new_la_code,old_la_code,la_name,breakdown_topic,breakdown,ehcplans,special_total\r\n"
)


def _write(path: Path, text: str, bom: bool) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_bom_crlf_symbols_and_academic_year(tmp_path):
    text = HEADER_2025 + (
        "202425,Academic year,National,E92000001,England,,,,,,All EHC plans,All EHC plans,100,40\r\n"
        "202425,Academic year,Local authority,E92000001,England,E12000008,South East,E10000025,931,Oxfordshire,"
        "All EHC plans,All EHC plans,x,z\r\n"
        "202425,Academic year,Local authority,E92000001,England,E12000008,South East,E10000025,931,Oxfordshire,"
        "Sex,Female,c,low\r\n"
    )
    f = _write(tmp_path / "caseload.csv", text, bom=True)
    long = dfe.read_ees(f)
    assert "time_period" in long.columns  # BOM not glued to the first header
    assert set(long["year"]) == {2025}  # 202425 = January 2025
    la = long[(long["old_la_code"] == "931") & (long["breakdown"] == "All EHC plans")].set_index("measure")
    assert math.isnan(la.loc["ehc_plans", "value"]) and la.loc["ehc_plans", "reason"] == "unavailable"
    assert math.isnan(la.loc["special_total", "value"]) and la.loc["special_total", "reason"] == "not applicable"
    sex = long[long["breakdown"] == "Female"].set_index("measure")
    assert sex.loc["ehc_plans", "reason"] == "suppressed"
    assert sex.loc["special_total", "reason"] == "rounds to zero"
    assert (long["value"].fillna(-1) != 0).all()  # symbols never become zero
    totals = dfe.read_ees(f, totals_only=True)
    assert "Female" not in set(totals["breakdown"])
    nat = totals[totals["geographic_level"] == "National"].set_index("measure")["value"]
    assert nat["ehc_plans"] == 100 and nat["special_total"] == 40


def test_2022_layout_blanks_column_order_and_renames(tmp_path):
    text = (
        "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
        "old_la_code,new_la_code,la_name,characteristic_age,Total_st,Total_ehc,Total_all,NewCol\n"
        '2018,Calendar year,National,E92000001,England,"","","","","",Total,10,20,30,5\n'
        '2018,Calendar year,Local authority,E92000001,England,E12000008,South East,931,E10000025,Oxfordshire,Total,u,:,"",7\n'
    )
    f = _write(tmp_path / "sen2_age_caseload.csv", text, bom=False)
    long = dfe.read_ees(f)
    assert set(long["measure"]) == {"statements", "ehc_plans", "ehc_plans_and_statements", "NewCol"}
    la = long[long["old_la_code"] == "931"].set_index("measure")
    assert la.loc["statements", "reason"] == "low reliability"
    assert la.loc["ehc_plans", "reason"] == "not available"
    assert la.loc["ehc_plans_and_statements", "reason"] == "blank in source"
    assert la.loc["NewCol", "value"] == 7  # unknown new columns are kept
    assert set(long["year"]) == {2018}
    assert (la["new_la_code"] == "E10000025").all()  # read by name despite the swapped order


def test_missing_indicator_and_file_errors_name_them(tmp_path):
    f = _write(tmp_path / "caseload.csv", HEADER_2025, bom=True)
    with pytest.raises(DataError, match="nonesuch"):
        dfe.read_ees(f, measures=["nonesuch"])
    with pytest.raises(DataError, match="requests.csv"):
        dfe.find_file("requests", tmp_path)
    with pytest.raises(UsageError, match="unknown DfE file"):
        dfe.find_file("bogus", tmp_path)


def test_check_sums_to_national_flags_a_bad_year():
    frame = pd.DataFrame(
        {
            "geographic_level": ["National", "Local authority", "Local authority"] * 2,
            "year": [2019] * 3 + [2020] * 3,
            "n": [10.0, 4.0, 6.0, 10.0, 4.0, 5.0],
        }
    )
    bad = dfe.check_sums_to_national(frame, "n")
    assert list(bad["year"]) == [2020] and bad["difference"].iloc[0] == -1
    assert len(dfe.check_sums_to_national(frame, "n", all_years=True)) == 2


# ------------------------------------------------------------------ real DfE figures


@pytest.fixture(scope="module", params=SOURCES)
def series(request):
    d = request.param
    return d, dfe.caseload_series(d), dfe.activity_series(d), dfe.placement_mix(d)


def _value(frame, col, year, level="National", code=""):
    sel = frame[(frame["geographic_level"] == level) & (frame["year"] == year)]
    if code:
        sel = sel[sel["old_la_code"] == code]
    assert len(sel) == 1, (level, code, year)
    return sel[col].iloc[0]


def test_caseload_headlines(series):
    _, cs, _, _ = series
    assert _value(cs, "ehc_plans", 2025) == 638745
    assert _value(cs, "ehc_plans", 2019) == 353995
    assert _value(cs, "ehc_plans", 2019, "Local authority", "931") == 3554
    assert _value(cs, "ehc_plans", 2021, "Local authority", "931") == 4627
    assert cs["year"].min() == 2010 and cs["year"].max() == 2025
    assert list(cs.columns[:8]) == [
        "old_la_code",
        "la_name",
        "region_code",
        "region_name",
        "geographic_level",
        "year",
        "ehc_plans",
        "reason",
    ]


def test_authorities_sum_to_england_every_january(series):
    _, cs, _, _ = series
    check = dfe.check_sums_to_national(cs, "ehc_plans", all_years=True)
    assert set(range(2019, 2026)) <= set(check["year"])
    assert check["matches"].all(), check[~check["matches"]]


def test_timeliness_headlines(series):
    _, _, act, _ = series
    assert round(_value(act, "timeliness_20wk_excl_pct", 2023), 1) == 50.3
    assert round(_value(act, "timeliness_20wk_excl_pct", 2024), 1) == 46.4
    assert _value(act, "requests", 2019) == 82329
    # the 2022 release (sen2_mi) supplies 2014-2018; 2019 is the 2025 release's
    assert _value(act, "requests", 2018) == 72423


def test_buckinghamshire_is_one_authority(series):
    _, cs, _, _ = series
    bucks = cs[cs["old_la_code"] == "825"]
    assert sorted(bucks["year"]) == list(range(2010, 2026))  # one row a year despite new_la_code changes
    assert set(bucks["la_name"]) == {"Buckinghamshire"}


def test_unavailable_cells_are_nan_with_reason(series):
    d, _, act, _ = series
    # Leicester's 2023 requests are 'x' in requests.csv
    row = act[(act["old_la_code"] == "856") & (act["year"] == 2023)].iloc[0]
    assert math.isnan(row["requests"]) and "requests: unavailable" in row["reason"]
    long = dfe.read_file("requests", d, measures=["requests_decided_to_assess"], totals_only=True)
    nat2019 = long[(long["geographic_level"] == "National") & (long["year"] == 2019)].iloc[0]
    assert math.isnan(nat2019["value"]) and nat2019["reason"] == "unavailable"
    stat = dfe.read_file("sen2_age_caseload", d, measures=["statements"], totals_only=True)
    z = stat[(stat["geographic_level"] == "National") & (stat["year"] == 2019)].iloc[0]
    assert math.isnan(z["value"]) and z["reason"] == "not applicable"


def test_placement_mix_england_2019(series):
    _, _, _, mix = series
    # caseload.csv Jan 2019: special_total 136,630; independent 13,744 + non-maintained 3,788
    assert _value(mix, "special", 2019) == 136630
    assert _value(mix, "inmss", 2019) == 13744 + 3788
    assert round(_value(mix, "special_pct", 2019), 1) == 38.6


def test_extract_is_small_and_matches_downloads():
    size = sum(p.stat().st_size for p in EXTRACT.rglob("*") if p.is_file())
    assert size < 5_000_000
    assert (EXTRACT / "lait2025_la_lookup.csv").is_file() and (EXTRACT / "README.md").is_file()
    assert len(dfe.la_lookup(EXTRACT)) == 153
    cv = dfe.caveats_for("825", EXTRACT)
    assert (cv["scope"] == "825").any() and (cv["source"] != "").all()


def test_flag_regional_copies_hand_built():
    long = pd.DataFrame(
        {
            "geographic_level": ["Regional", "Local authority", "Local authority", "Regional", "Local authority"],
            "region_code": ["R1", "R1", "R1", "R2", "R2"],
            "year": [2022] * 5,
            "measure": ["new_plans"] * 5,
            "value": [30.0, 30.0, 12.0, 0.0, 0.0],
            "reason": [""] * 5,
        }
    )
    out = dfe.flag_regional_copies(long)
    assert math.isnan(out["value"].iloc[1]) and out["reason"].iloc[1] == dfe.REGIONAL_COPY
    assert out["value"].iloc[2] == 12 and out["value"].iloc[4] == 0  # zeros left alone


def test_yorkshire_2022_new_plans_are_not_the_regional_total(series):
    _, _, act, _ = series
    hull = act[(act["old_la_code"] == "810") & (act["year"] == 2022)].iloc[0]
    assert math.isnan(hull["new_plans"]) and "regional total" in hull["reason"]
    bad = dfe.check_sums_to_national(act, "new_plans")
    assert list(bad["year"]) == [2022] and bad["n_missing"].iloc[0] == 15
