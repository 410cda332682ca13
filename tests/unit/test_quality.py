"""Unit tests of sendlib.quality on small hand-built frames (expected values worked out by hand)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sendlib.core.config import PROJECT_ROOT, load_config
from sendlib.core.errors import ConfigError, ValidationFailed
from sendlib.core.schema import TABLES
from sendlib.data.loaders import coerce
from sendlib.quality import gate, settings, suites
from sendlib.quality import rules as qrules

SETTINGS = settings.load_settings()


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """A canonical frame from text cells (missing cells empty), through the real coercion."""
    cols = TABLES[name].column_names
    return coerce(pd.DataFrame([{c: r.get(c, "") for c in cols} for r in rows], dtype=str), TABLES[name])


def plan(pid, start, end="", req="", birth="2015-03"):
    return {
        "person_id": pid,
        "request_id": req,
        "birth_month": birth,
        "sex": "F",
        "primary_need": "ASD",
        "plan_start_date": start,
        "plan_end_date": end,
        "end_reason": "needs_met" if end else "",
        "locality": "north",
    }


def placement(plid, pid, start, end="", cost="20000"):
    return {
        "placement_id": plid,
        "person_id": pid,
        "setting_type": "special_maintained",
        "phase": "primary",
        "provider_id": "SP01",
        "start_date": start,
        "end_date": end,
        "annual_cost": cost,
        "out_of_county": "false",
    }


def request(rid, pid, date, outcome="open", issued=""):
    return {
        "request_id": rid,
        "person_id": pid,
        "request_date": date,
        "age_at_request": "7",
        "outcome": outcome,
        "plan_issued_date": issued,
        "exception": "false",
        "locality": "north",
    }


# ----- declarations ----------------------------------------------------------------------------


def test_every_schema_column_has_its_schema_rules():
    rules = qrules.declare_rules(SETTINGS)
    for name, schema in TABLES.items():
        by_rule = {}
        for r in rules[name]:
            by_rule.setdefault(r.rule, set()).update(r.columns)
        assert by_rule["columns_present"] == set(schema.column_names)
        assert by_rule["key_unique"] == set(schema.key)
        for col in schema.columns:
            # a column SEN2 does not hold is nullable for the loader but still required by the gate
            required = not col.nullable or col.not_in_sen2
            assert (col.name in by_rule.get("not_null", set())) == required, (name, col.name)
            if col.codes:
                assert col.name in by_rule["code_list"]
            if col.min_value is not None or col.max_value is not None:
                assert col.name in by_rule["range"]
    assert [r.rule for r in rules[settings.SCHEMA]] == ["type"]


def test_compound_keys_use_compound_uniqueness():
    rules = {r.rule: r for r in qrules.declare_rules(SETTINGS)["ehcp_plans"]}
    assert rules["key_unique"].expectation == "ExpectCompoundColumnsToBeUnique"
    assert rules["key_unique"].kwargs == {"column_list": ["person_id", "plan_start_date"]}


def test_money_ceiling_from_config_and_places_positive():
    ranges = {r.columns[0]: r.kwargs for r in qrules.declare_rules(SETTINGS)["hnb_budget"] if r.rule == "range"}
    assert ranges["budget"] == {"column": "budget", "min_value": 0, "max_value": 200_000_000}
    places = [r for r in qrules.declare_rules(SETTINGS)["capacity"] if r.rule == "range"][0]
    assert places.kwargs["min_value"] == 1


def test_future_dates_allowed_only_where_configured():
    cols = {r.columns[0] for r in qrules.declare_rules(SETTINGS)["capacity"] if r.rule == "not_after_extract"}
    assert cols == set()
    cols = {r.columns[0] for r in qrules.declare_rules(SETTINGS)["placements"] if r.rule == "not_after_extract"}
    assert cols == {"start_date", "end_date"}


def test_settings_errors_name_the_key(tmp_path):
    bad = tmp_path / "quality.yaml"
    bad.write_text("money_ceilings_gbp:\n  placements.no_such_column: {max: 1}\n")
    with pytest.raises(ConfigError, match="money_ceilings_gbp.placements.no_such_column"):
        settings.load_settings(bad)
    bad.write_text("volume: {min_ratio_of_trailing_median: 2}\n")
    with pytest.raises(ConfigError, match="min_ratio_of_trailing_median"):
        settings.load_settings(bad)


# ----- derived checks ---------------------------------------------------------------------------


def test_placement_inside_plan_life_by_hand():
    plans = qrules.with_row_numbers(
        frame("ehcp_plans", [plan("P1", "2020-01-01", "2022-12-31"), plan("P2", "2021-01-01")])
    )
    plc = qrules.with_row_numbers(
        frame(
            "placements",
            [
                placement("A", "P1", "2020-02-01", "2021-07-31"),  # inside
                placement("B", "P1", "2019-09-01", "2020-07-31"),  # starts before the plan
                placement("C", "P1", "2022-09-01"),  # open, but the plan ended
                placement("D", "P2", "2021-09-01"),  # open inside an open plan
                placement("E", "P9", "2021-09-01"),  # no plan: left to person_has_plan
            ],
        )
    )
    got = qrules._inside_plan_life(plc, plans, 0).tolist()
    assert got == [True, False, False, True, True]
    assert qrules._inside_plan_life(plc, plans, 200).tolist() == [True, True, False, True, True]


def test_cross_table_checks_by_hand():
    cfg = load_config()
    tables = {
        "ehcp_requests": frame(
            "ehcp_requests",
            [
                request("R1", "P1", "2020-01-01", "plan_issued", "2020-05-01"),
                request("R2", "P2", "2020-01-01", "plan_issued", "2020-05-01"),  # no plan has R2
                request("R3", "P3", "2020-01-01", "open", "2020-05-01"),  # issued date but still open
            ],
        ),
        "ehcp_plans": frame(
            "ehcp_plans",
            [
                plan("P1", "2020-05-01", req="R1"),
                plan("P4", "2020-05-01", req="R9"),
                plan("P5", "2020-05-01", birth="1990-01"),
            ],
        ),
        "placements": frame("placements", [placement("A", "P1", "2020-06-01"), placement("B", "P7", "2020-06-01")]),
    }
    d = qrules.derive_frames(tables, cfg, pd.Timestamp("2024-03-31"), SETTINGS)
    assert d["ehcp_requests"]["chk__plan_issued_has_plan"].tolist() == [True, False, True]
    assert d["ehcp_requests"]["chk__plan_issued_date_matches_outcome"].tolist() == [True, True, False]
    assert d["ehcp_plans"]["chk__request_exists"].tolist() == [True, False, True]
    assert d["ehcp_plans"]["chk__aged_0_25_at_start"].tolist() == [True, True, False]  # 30 at start
    assert d["placements"]["chk__person_has_plan"].tolist() == [True, False]
    assert d["placements"]["_row"].tolist() == [1, 2]


def test_tribunal_and_phase_transfer_checks_by_hand():
    cfg = load_config()
    appeal = {"decision_appealed": "refuse_assess", "decision_date": "2024-01-10", "registered_date": "2024-02-20"}
    transfer = {"from_phase": "primary", "to_phase": "secondary", "transfer_point": "into_secondary"}
    tables = {
        "ehcp_requests": frame("ehcp_requests", [request("R1", "P1", "2023-11-01", "refused")]),
        "ehcp_plans": frame("ehcp_plans", [plan("P2", "2020-05-01")]),
        "tribunal_appeals": frame(
            "tribunal_appeals",
            [
                {**appeal, "appeal_id": "A1", "person_id": "P1"},  # pending: request only
                {**appeal, "appeal_id": "A2", "person_id": "P2", "outcome": "upheld", "outcome_date": "2024-09-01"},
                {**appeal, "appeal_id": "A3", "person_id": "P9", "outcome": "withdrawn"},  # unknown, no date
            ],
        ),
        "phase_transfers": frame(
            "phase_transfers",
            [
                {**transfer, "person_id": "P2", "transfer_date": "2024-09-01", "due_date": "2024-02-15"},
                {**transfer, "person_id": "P2", "transfer_date": "2025-09-01", "due_date": "2025-03-31"},  # 15 Feb
                {
                    **transfer,
                    "transfer_point": "into_post16",
                    "person_id": "P8",  # no plan
                    "transfer_date": "2026-09-01",
                    "due_date": "2026-03-31",
                },
            ],
        ),
    }
    d = qrules.derive_frames(tables, cfg, pd.Timestamp("2024-12-31"), SETTINGS)
    assert d["tribunal_appeals"]["chk__person_known"].tolist() == [True, True, False]
    assert d["tribunal_appeals"]["chk__outcome_date_matches_outcome"].tolist() == [True, True, False]
    assert d["phase_transfers"]["chk__person_has_plan"].tolist() == [True, True, False]
    assert d["phase_transfers"]["chk__due_date_statutory"].tolist() == [True, False, True]
    # next year's transfers and deadlines may be after the extract; a final date may not
    cols = {r.columns[0] for r in qrules.declare_rules(SETTINGS)["phase_transfers"] if r.rule == "not_after_extract"}
    assert cols == {"final_date"}


def test_not_after_extract_and_locality():
    cfg = load_config()
    t = {
        "ehcp_requests": frame("ehcp_requests", [request("R1", "P1", "2024-03-31"), request("R2", "P2", "2024-04-01")])
    }
    t["ehcp_requests"].loc[1, "locality"] = "atlantis"
    d = qrules.derive_frames(t, cfg, pd.Timestamp("2024-03-31"), SETTINGS)["ehcp_requests"]
    assert d["chk__not_after_extract__request_date"].tolist() == [True, False]
    assert d["chk__locality_known"].tolist() == [True, False]


def test_volume_band_and_continuity_by_hand():
    # 4 quarters of 10 requests, then 4 (< 0.5 x 10), then none, then 10; extract at 2020-03-31
    dates = (
        ["2018-04-15"] * 10
        + ["2018-07-15"] * 10
        + ["2018-10-15"] * 10
        + ["2019-01-15"] * 10
        + ["2019-04-15"] * 4
        + ["2019-10-15"] * 10
        + ["2020-01-15"] * 10
    )
    t = {"ehcp_requests": frame("ehcp_requests", [request(f"R{i}", f"P{i}", d) for i, d in enumerate(dates)])}
    v = qrules.volume_frame(t, pd.Timestamp("2020-03-31"), SETTINGS)
    assert v["quarter"].tolist() == [
        "2018-19Q1",
        "2018-19Q2",
        "2018-19Q3",
        "2018-19Q4",
        "2019-20Q1",
        "2019-20Q2",
        "2019-20Q3",
        "2019-20Q4",
    ]
    assert v["rows"].tolist() == [10, 10, 10, 10, 4, 0, 10, 10]
    assert v["chk__quarter_present"].tolist() == [True] * 5 + [False] + [True] * 2
    # reference medians: none for the first 4; then 10, 10 (10,10,10,4), 7 (10,10,4,0), 7 (10,4,0,10)
    assert v["chk__volume_in_band"].tolist() == [True, True, True, True, False, False, True, True]
    assert v["reference"].iloc[6] == 7.0


def _with_volume(s: settings.QualitySettings, **changes) -> settings.QualitySettings:
    return s.model_copy(update={"volume": s.volume.model_copy(update=changes)})


def test_seasonal_tables_compare_the_same_quarter():
    s = _with_volume(SETTINGS, seasonal_tables=frozenset({"exclusions"}), lag_quarters={})

    def ex(i, d):
        return {
            "event_id": f"X{i}",
            "person_id": f"P{i}",
            "sen_status": "none",
            "kind": "suspension",
            "start_date": d,
            "days": "1",
        }

    # Q2 (summer) always low: 5 vs 20 elsewhere; two years of history
    dates = []
    for fy in (2018, 2019):
        dates += [f"{fy}-05-10"] * 20 + [f"{fy}-07-10"] * 5 + [f"{fy}-11-10"] * 20 + [f"{fy + 1}-02-10"] * 20
    t = {"exclusions": frame("exclusions", [ex(i, d) for i, d in enumerate(dates)])}
    v = qrules.volume_frame(t, pd.Timestamp("2020-03-31"), s)
    assert v["chk__volume_in_band"].all()  # 2019-20Q2: 5 vs last year's Q2 5
    v2 = qrules.volume_frame(t, pd.Timestamp("2020-03-31"), _with_volume(s, seasonal_tables=frozenset()))
    assert not v2["chk__volume_in_band"].all()  # against the trailing median of 20s it fails


def test_schema_frame_flags_a_wrong_dtype():
    t = {"placements": frame("placements", [placement("A", "P1", "2020-06-01")])}
    t["placements"]["annual_cost"] = t["placements"]["annual_cost"].astype(str)
    s = qrules.schema_frame(t)
    bad = s[~s["chk__type_matches"]]
    assert bad["column"].tolist() == ["annual_cost"]


def test_scrub_keeps_row_numbers_only_for_identifying_columns():
    r = {
        "expectation_config": {"kwargs": {"column": "person_id"}, "meta": {"columns": ["person_id"]}},
        "result": {
            "partial_unexpected_list": ["P000001"],
            "partial_unexpected_counts": [{"value": "P000001", "count": 2}],
            "partial_unexpected_index_list": [{"_row": 3, "person_id": "P000001"}],
        },
    }
    out = gate.scrub_result(r, "placements")
    assert "P000001" not in json.dumps(out)
    assert out["result"]["partial_unexpected_index_list"] == [{"_row": 3}]


# ----- committed project -------------------------------------------------------------------------


def test_committed_suites_equal_a_regeneration():
    committed = suites.committed_suites(PROJECT_ROOT / "expectations")
    built = suites.build_suites(settings.load_settings())
    assert sorted(committed) == sorted(built), "run `python -m sendlib.quality build` and commit expectations/"
    for name, suite in built.items():
        assert suites.normalise_suite(committed[name]) == suites.normalise_suite(suite.to_json_dict()), (
            f"expectations/expectations/{name}_suite.json is stale: run `python -m sendlib.quality build`"
        )


def test_committed_project_has_a_checkpoint_and_validation_definition_per_suite():
    root = PROJECT_ROOT / "expectations"
    names = set(suites.committed_suites(root))
    assert {p.stem for p in (root / "checkpoints").glob("*.json")} == {f"{settings.CHECKPOINT}__{n}" for n in names}
    assert {p.stem for p in (root / "validation_definitions").glob("*.json")} == {f"{n}_validation" for n in names}
    assert (root / "great_expectations.yml").is_file()


# ----- the GX run on small frames -------------------------------------------------------------


def test_validate_tables_small_frames_report_and_assert(tmp_path):
    cfg = load_config()
    tables = {
        "ehcp_plans": frame("ehcp_plans", [plan("P1", "2020-05-01"), plan("P2", "2020-05-01")]),
        "placements": frame(
            "placements",
            [
                placement("A", "P1", "2020-06-01"),
                placement("B", "P2", "2020-06-01", cost="-5"),
                placement("C", "P3", "2020-06-01"),
            ],
        ),
    }
    report = gate.validate_tables(cfg, tables, docs_dir=tmp_path / "docs")
    assert not report.success
    msgs = {(f.table, f.column, f.rule): f for f in report.failures}
    cost = msgs[("placements", "annual_cost", "range")]
    assert cost.n_rows == 1 and cost.example_rows == (2,) and "-5" in cost.detail
    has_plan = msgs[("placements", "person_id", "person_has_plan")]
    assert has_plan.example_rows == (3,) and "P3" not in has_plan.message
    f = report.to_frame().set_index("table")
    assert f.loc["placements", "failed"] >= 2
    assert f.loc["placements", "passed"] + f.loc["placements", "failed"] == f.loc["placements", "rules"]
    assert (tmp_path / "docs" / "index.html").is_file()
    with pytest.raises(ValidationFailed, match="table 'placements', column 'annual_cost'"):
        gate.assert_valid(cfg, tables)


def test_settings_refuse_unknown_keys_inside_a_section(tmp_path):
    bad = tmp_path / "quality.yaml"
    bad.write_text("volume:\n  trailing_quartrs: 4\nmoney_ceilings_gbp:\n  hnb_budget.budget: {min: 0}\n")
    with pytest.raises(ConfigError) as exc:
        settings.load_settings(bad)
    msg = str(exc.value)
    assert str(bad) in msg and "volume.trailing_quartrs: unknown key" in msg
    assert "money_ceilings_gbp.hnb_budget.budget.max: is required" in msg
    bad.write_text("volume:\n  seasonal_tables: [population]\n  lag_quarters:\n")
    with pytest.raises(
        ConfigError, match=r"volume\.seasonal_tables\.0: .*'population' is not a table with an event date"
    ):
        settings.load_settings(bad)
    bad.write_text("dates:\n  extract_date_fallback: 2025-03-31\nplacements:\n")
    s = settings.load_settings(bad)
    assert s.extract_date_fallback == pd.Timestamp("2025-03-31") and s.placements.plan_life_tolerance_days == 0
    assert s.volume.trailing_quarters == 4 and s.volume.lag_quarters == {} and s.path == bad
