"""sendlib.data.tribunals: the DfE / MoJ "SEND Tribunals and appeal rate" table as published.

Real figures checked by hand against the published file (SEND Appeal rate table 1, EHC plans
release 2025): Oxfordshire (931) 258 / 5,757 = 4.5% (2022), 347 / 6,758 = 5.1% (2023), 396 / 7,705
= 5.1% (2024); England 22,276 / 689,739 = 3.2% (2024); Darlington 2014 " - " appeals (zero).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sendlib.core.errors import DataError
from sendlib.data import tribunals

REPO = Path(__file__).resolve().parents[2]
EXTRACT = REPO / "data" / "reference" / "dfe"
SHARED = REPO.parent / "shared" / "reference" / "dfe"


@pytest.fixture(scope="module")
def rate():
    return tribunals.read_appeal_rate(dfe_dir=EXTRACT)


def _row(df, code, year):
    rows = df[(df["old_la_code"] == code) & (df["year"] == year)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_oxfordshire_as_published(rate):
    for year, (appeals, decisions, pct) in {
        2022: (258, 5757, 4.5),
        2023: (347, 6758, 5.1),
        2024: (396, 7705, 5.1),
    }.items():
        r = _row(rate, "931", year)
        assert (r["appeals_registered"], r["appealable_decisions"], r["appeal_rate_pct"]) == (appeals, decisions, pct)
        assert r["la_name"] == "Oxfordshire" and r["region_name"] == "South East" and r["reason"] == ""
    assert _row(rate, "931", 2024)["in_development_appeal_rate_pct"] == 8.1
    assert math.isnan(_row(rate, "931", 2023)["in_development_appeal_rate_pct"])
    ox = tribunals.appeal_rate_for("931", dfe_dir=EXTRACT)
    assert ox["year"].tolist() == list(range(2014, 2025))
    assert ox.set_index("year").loc[2024, "england_appeal_rate_pct"] == 3.2


def test_england_present(rate):
    eng = rate[rate["geographic_level"] == "National"].set_index("year")
    assert eng.index.tolist() == list(range(2014, 2025))
    assert (eng["la_name"] == "England").all() and eng["old_la_code"].isna().all()
    assert (eng.loc[2024, "appeals_registered"], eng.loc[2024, "appealable_decisions"]) == (22276, 689739)
    assert eng.loc[2024, "appeal_rate_pct"] == 3.2 and eng.loc[2014, "appeal_rate_pct"] == 1.6
    assert "England total excluding suppressed" not in set(rate["la_name"])


def test_zero_dash_symbols_and_footnotes(rate):
    darl = _row(rate, "841", 2014)  # Darlington 2014: " - ,450,0.00%"
    assert darl["appeals_registered"] == 0 and darl["appealable_decisions"] == 450 and darl["appeal_rate_pct"] == 0
    assert darl["reason"] == ""
    cumbria = _row(rate, "909", 2023)  # split in April 2023: ".."
    assert math.isnan(cumbria["appeal_rate_pct"]) and cumbria["reason"] == "not available"
    assert _row(rate, "942", 2023)["la_name"] == "Cumberland"  # "Cumberland8"
    scilly = _row(rate, "420", 2023)  # blank appeals cell, 20 decisions, 0.00%
    assert math.isnan(scilly["appeals_registered"]) and scilly["reason"] == "blank in source"
    assert math.isnan(_row(rate, "890", 2024)["in_development_appeal_rate_pct"])  # Blackpool " x "
    # every current authority once per year; regions read from the rows between them
    assert rate.dropna(subset=["old_la_code"]).groupby("year")["old_la_code"].nunique().eq(155).all()
    assert "Yorkshire and the Humber" in set(rate["region_name"])


def test_hand_built_file(tmp_path):
    text = (
        '"SEND Appeal rate table 1: title1",,,,,,,\n,,,,,,,\n'
        "Local Authority,LA code,2023,,,2024,,\n"
        ",,Appeals registered4,Total Appealable Decisions1,SEND Tribunal Appeal Rate2,"
        'Appeals registered4,"Total Appealable Decisions1,9",SEND Tribunal Appeal Rate2\n'
        "NORTH EAST,,,,,,,\n"
        'Testshire7,999, - ,"1,200",0.00%,~,..,..\n'
        '"England Total4,9",,"1,000","50,000",2.00%,"1,500","60,000",2.50%\n'
        ",,,,,,,\nNotes: ,,,,,,,\n1. a footnote,,,,,,,\n"
    )
    path = tmp_path / "appeal.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    df = tribunals.read_appeal_rate(path)
    t23 = _row(df, "999", 2023)
    assert (t23["la_name"], t23["region_name"], t23["appeals_registered"], t23["appealable_decisions"]) == (
        "Testshire",
        "North East",
        0,
        1200,
    )
    t24 = _row(df, "999", 2024)
    assert math.isnan(t24["appeals_registered"]) and t24["reason"] == "suppressed"
    eng = df[df["la_name"] == "England"].set_index("year")
    assert eng.loc[2024, "appeal_rate_pct"] == 2.5 and eng.loc[2023, "appeals_registered"] == 1000
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="header row"):
        tribunals.read_appeal_rate(path)


@pytest.mark.skipif(not (SHARED / "dfe_ehcp_2025_release").is_dir(), reason="full DfE downloads not present")
def test_extract_copy_is_the_published_file():
    name = tribunals.FILE
    assert (EXTRACT / "dfe_ehcp_2025_release" / name).read_bytes() == (
        SHARED / "dfe_ehcp_2025_release" / name
    ).read_bytes()
