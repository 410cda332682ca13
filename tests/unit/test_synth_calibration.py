"""The shipped synthetic county against the published record of the county it is modelled on.

Reads the committed ``data/raw`` (through the loaders, as every model does) and the shipped DfE
extract in ``data/reference/dfe``. ``test_synth.py`` checks that ``data/raw`` is the generator's
output for the defaults, so these hold for the generator too.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sendlib.core.config import PROJECT_ROOT, load_config
from sendlib.core.quarters import third_thursday_of_january
from sendlib.data.loaders import load_tables
from sendlib.data.synth import load_params
from sendlib.data.synth.calibration import _within, calibration_table, format_table, published_record
from sendlib.models.forecast.person import carried_in, census_years, coverage_start

DOC = PROJECT_ROOT / "docs" / "synthetic-county.md"


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return load_tables(load_config())


@pytest.fixture(scope="module")
def params() -> dict:
    return load_params()


@pytest.fixture(scope="module")
def table(tables: dict[str, pd.DataFrame], params: dict) -> pd.DataFrame:
    return calibration_table(tables, params)


def test_every_measure_within_its_tolerance(table: pd.DataFrame) -> None:
    outside = table[~table["within"]]
    assert outside.empty, "\n" + format_table(outside)


def test_table_covers_the_published_record_the_issue_names(table: pd.DataFrame) -> None:
    measures = set(table["measure"])
    for year in range(2019, 2026):
        assert f"EHC plans, January {year}" in measures
    for label in ("Mainstream schools", "State special", "Further education", "Independent", "NEET"):
        assert any(m.startswith(label) for m in measures), label
    for need in ("ASD", "SEMH", "SLCN", "MLD", "SLD", "PMLD"):
        assert any(f"Primary need {need}," in m for m in measures), need
    assert {"Requests for assessment, 2024", "New EHC plans, 2024"} <= measures


def test_published_values_are_oxfordshires() -> None:
    rec = published_record("931")
    assert rec["caseload"][2019] == 3554 and rec["caseload"][2025] == 7307
    assert rec["requests"][2024] == 1734 and rec["new_plans"][2024] == 1159
    assert round(rec["refused_pct"][2024], 1) == 15.1
    assert round(rec["within_20_weeks_pct"][2024], 1) == 38.5
    assert round(rec["setting:mainstream"][2025], 1) == 51.7
    assert round(rec["need:ASD"][2025], 1) == 37.3


def test_tolerance_kinds() -> None:
    assert _within(103.0, 100.0, "relative_pct", 3) and not _within(103.1, 100.0, "relative_pct", 3)
    assert _within(21.5, 20.0, "points", 1.5) and not _within(21.6, 20.0, "points", 1.5)
    assert _within(2.0, np.nan, "at_most", 2) and not _within(2.1, np.nan, "at_most", 2)
    with pytest.raises(ValueError):
        _within(1.0, 1.0, "roughly", 1)


def test_calibration_table_in_the_docs_is_current(table: pd.DataFrame) -> None:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- calibration:start -->\n(.*?)<!-- calibration:end -->", text, flags=re.S)
    assert m, "docs/synthetic-county.md lacks the calibration table markers"
    assert m.group(1) == format_table(table, "markdown"), (
        "the calibration table in docs/synthetic-county.md is out of date: "
        "paste the output of `sendlib synth --calibration --format markdown`"
    )


def test_cli_prints_the_table_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sendlib.cli", "synth", "--calibration"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "EHC plans, January 2025" in done.stdout
    assert "24 of 24 measures within tolerance" in done.stdout


# ----- placements respect capacity ----------------------------------------------------------------


def test_no_local_setting_above_its_places_at_any_census(tables: dict[str, pd.DataFrame], params: dict) -> None:
    allowance = float(params["placements"]["over_admission_pct"]) / 100.0
    pl, cap = tables["placements"], tables["capacity"]
    for year in range(2019, 2027):
        day = pd.Timestamp(third_thursday_of_january(year))
        on = pl[(pl["start_date"] <= day) & (pl["end_date"].isna() | (pl["end_date"] >= day))]
        held = on.groupby(["provider_id", "phase"]).size().rename("children").reset_index()
        held = held.merge(cap, left_on=["provider_id", "phase"], right_on=["setting_id", "phase"])
        assert len(held), year
        over = held[held["children"] > np.floor(held["places"] * (1 + allowance) + 1e-9)]
        assert over.empty, (year, over[["setting_id", "phase", "children", "places"]].to_dict("records"))


def test_specialist_placements_are_at_capacity_settings_or_out_of_county(tables: dict[str, pd.DataFrame]) -> None:
    pl, cap = tables["placements"], tables["capacity"]
    spec = pl[pl["setting_type"].isin(["special_maintained", "special_academy", "resourced_provision"])]
    local = spec["provider_id"].isin(cap["setting_id"])
    assert (local | spec["out_of_county"].astype(bool)).all()
    assert not (local & spec["out_of_county"].astype(bool)).any()
    # a child at a capacity setting is in the phase and setting type the setting has places for
    at = spec[local].merge(cap, left_on=["provider_id", "phase"], right_on=["setting_id", "phase"], how="left")
    assert at["places"].notna().all()
    assert (at["setting_type_x"] == at["setting_type_y"]).all()


def test_children_take_places_designated_for_their_need_or_mixed(tables: dict[str, pd.DataFrame]) -> None:
    pl, cap, plans = tables["placements"], tables["capacity"], tables["ehcp_plans"]
    need = plans.drop_duplicates("person_id")[["person_id", "primary_need"]]
    at = pl.merge(
        cap.drop_duplicates("setting_id")[["setting_id", "designation"]], left_on="provider_id", right_on="setting_id"
    )
    at = at.merge(need, on="person_id")
    assert ((at["designation"] == at["primary_need"]) | (at["designation"] == "mixed")).all()


# ----- history starts where the extract does --------------------------------------------------------


def test_history_starts_at_the_first_covered_census(tables: dict[str, pd.DataFrame]) -> None:
    plans = tables["ehcp_plans"]
    assert coverage_start(plans) >= pd.Timestamp("2018-04-01")
    years = census_years(plans, tables["placements"])
    assert years[0] == 2019 and years[-1] == 2026
    flagged = carried_in(plans)
    assert flagged.sum() > 2000, "plans in force when the history starts are carried in"
    assert plans.loc[flagged, "request_id"].isna().all()
    assert (plans.loc[flagged, "plan_start_date"] >= pd.Timestamp("2014-09-01")).all()
