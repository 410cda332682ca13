"""DSG scenario files: validation errors name the key; the CLI writes nothing for a bad file."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_finance import QUARTER, projection, scenario_dict, tables

from sendlib.cli import main
from sendlib.core.errors import UsageError
from sendlib.core.quarters import Quarter
from sendlib.models.finance import ASSUMPTIONS, load_scenarios, parse_scenarios

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "scenarios" / "dsg.yaml"


def _bad(edit) -> str:
    d = scenario_dict()
    edit(d)
    with pytest.raises(UsageError) as exc:
        parse_scenarios(d)
    return str(exc.value)


def _unm(d):
    return d["scenarios"]["unmitigated"]["assumptions"]


def test_shipped_file_is_valid_and_every_assumption_is_sourced():
    sf = load_scenarios(SHIPPED)
    assert {"unmitigated", "mitigated"} <= set(sf.names) and len(sf.names) >= 3
    assert sf.statutory_override_end.value == 2027  # 2027-28, ends 31 March 2028
    for sc in sf.scenarios.values():
        for a in sc.assumptions.values():
            assert a.source and a.as_of, (sc.name, a.name)
        for m in sc.mitigations:
            assert m.source and m.as_of
    mit = sf.scenarios["mitigated"]
    assert {m.kind for m in mit.mitigations} == {"fewer_new_plans", "local_places", "unit_cost_change"}
    assert all(sum(m.investment_gbp.values()) > 0 for m in mit.mitigations)
    # mitigated: its new places come from its own sufficiency file (beyond the pipeline)
    assert mit.sufficiency_scenario is not None and mit.sufficiency_scenario.file == "sufficiency_mitigated.yaml"
    # pipeline_delayed is the unmitigated case with the approved pipeline a year late: no actions
    late = sf.scenarios["pipeline_delayed"]
    assert late.mitigations == () and late.sufficiency_scenario.file == "sufficiency_pipeline_delayed.yaml"
    unm = sf.scenarios["unmitigated"]
    assert {k: a.value for k, a in late.assumptions.items()} == {k: a.value for k, a in unm.assumptions.items()}
    assert unm.mitigations == () and unm.sufficiency_scenario is None


def test_unknown_top_level_key():
    msg = _bad(lambda d: d.update({"scenaros": {}}))
    assert "scenaros" in msg and "unknown key" in msg


def test_unknown_assumption_names_the_key_and_suggests():
    msg = _bad(lambda d: _unm(d).update({"unit_cost_inflaton_pct": _unm(d)["unit_cost_inflation_pct"]}))
    assert "scenarios.unmitigated.assumptions.unit_cost_inflaton_pct" in msg
    assert "unit_cost_inflation_pct" in msg  # did you mean


def test_unknown_field_inside_an_assumption():
    msg = _bad(lambda d: _unm(d)["hnb_allocation_growth_pct"].update({"vaule": 3}))
    assert "scenarios.unmitigated.assumptions.hnb_allocation_growth_pct.vaule" in msg


@pytest.mark.parametrize("text", ["3%", "-2", "1,000"])
def test_number_written_as_text(text):
    msg = _bad(lambda d: _unm(d)["unit_cost_inflation_pct"].update({"value": text}))
    assert "scenarios.unmitigated.assumptions.unit_cost_inflation_pct.value" in msg
    assert "is text" in msg


def test_negative_inflation_is_refused_but_negative_funding_growth_is_allowed():
    msg = _bad(lambda d: _unm(d)["unit_cost_inflation_pct"].update({"value": -1}))
    assert "unit_cost_inflation_pct.value" in msg and "negative" in msg
    d = scenario_dict()
    _unm(d)["hnb_allocation_growth_pct"]["value"] = -1
    parse_scenarios(d)


def test_mitigation_on_an_unknown_setting_type():
    def edit(d):
        d["scenarios"]["mitigated"]["mitigations"].append(
            {
                "name": "banding",
                "kind": "unit_cost_change",
                "start_year": "2026-27",
                "change_pct": -3,
                "settings": ["special_school"],
                "source": "x",
                "as_of": "2025-01-01",
            }
        )

    msg = _bad(edit)
    assert "scenarios.mitigated.mitigations.1.settings.0" in msg and "special_school" in msg


@pytest.mark.parametrize("year", ["2027-29", "27-28", 2027])
def test_bad_start_year(year):
    msg = _bad(lambda d: d["scenarios"]["mitigated"]["mitigations"][0].update({"start_year": year}))
    assert "scenarios.mitigated.mitigations.0.start_year" in msg


def test_missing_source_and_bad_as_of():
    msg = _bad(lambda d: _unm(d)["schools_block_gbp"].pop("source"))
    assert "schools_block_gbp.source" in msg
    msg = _bad(lambda d: _unm(d)["schools_block_gbp"].update({"as_of": "last year"}))
    assert "schools_block_gbp.as_of" in msg


def test_missing_required_assumption_and_growth_of_non_plan_line():
    msg = _bad(lambda d: _unm(d).pop("hnb_allocation_growth_pct"))
    assert "hnb_allocation_growth_pct" in msg and "required" in msg
    msg = _bad(lambda d: _unm(d).pop("hospital_education_growth_pct"))
    assert "hospital_education_growth_pct" in msg


def test_low_high_must_bracket_the_value_and_distribution_known():
    msg = _bad(lambda d: _unm(d)["unit_cost_inflation_pct"].update({"low": 12, "high": 15}))
    assert "unit_cost_inflation_pct" in msg and "low" in msg
    msg = _bad(lambda d: _unm(d)["unit_cost_inflation_pct"].update({"low": 5, "high": 15, "distribution": "lognormal"}))
    assert "unit_cost_inflation_pct.distribution" in msg


def test_extends_unknown_and_circular():
    msg = _bad(lambda d: d["scenarios"]["mitigated"].update({"extends": "nope"}))
    assert "scenarios.mitigated.extends" in msg

    def circ(d):
        d["scenarios"]["unmitigated"]["extends"] = "mitigated"

    assert "circular" in _bad(circ)


def test_extends_merges_mitigations_by_name_and_can_disable():
    d = scenario_dict()
    d["scenarios"]["user"] = {
        "extends": "mitigated",
        "mitigations": [{"name": "local_places", "kind": "inmss_to_local", "enabled": False}],
    }
    sf = parse_scenarios(d)
    assert sf.scenarios["user"].mitigations == ()
    assert len(sf.scenarios["mitigated"].mitigations) == 1


def test_a_disabled_mitigation_must_still_be_a_valid_one():
    d = scenario_dict()
    d["scenarios"]["user"] = {
        "extends": "mitigated",
        "mitigations": [{"name": "new_idea", "kind": "fewer_new_plans", "enabled": False}],
    }
    msg = _bad(lambda x: x.update(d))
    assert "scenarios.user.mitigations.1.reduction_pct: is required" in msg
    d["scenarios"]["user"]["mitigations"][0]["reduction_pct"] = 10
    msg = _bad(lambda x: x.update(d))
    assert "scenarios.user.mitigations.1.start_year: is required" in msg


def test_mitigation_keys_belong_to_its_kind_and_names_are_not_written_in_an_assumption():
    msg = _bad(lambda d: d["scenarios"]["mitigated"]["mitigations"][0].update({"change_pct": -3}))
    assert "scenarios.mitigated.mitigations.0.change_pct: unknown key for kind inmss_to_local" in msg
    msg = _bad(lambda d: _unm(d)["schools_block_gbp"].update({"name": "schools_block_gbp"}))
    assert "scenarios.unmitigated.assumptions.schools_block_gbp.name: unknown key" in msg


def test_a_compare_to_outside_the_file_names_the_key():
    msg = _bad(lambda d: d["scenarios"]["mitigated"].update({"compare_to": "baseline"}))
    assert "scenarios.mitigated.compare_to: scenario 'baseline' is not in this file" in msg


def test_every_assumption_has_a_description():
    assert all(spec.description and spec.unit for spec in ASSUMPTIONS.values())


# ----- the command line -------------------------------------------------------------------------------


@pytest.fixture
def fake_inputs(monkeypatch):
    """The CLI on the hand-made tables and projection (no data folder, no forecast needed)."""
    monkeypatch.setattr("sendlib.data.loaders.load_tables", lambda cfg, names=None: tables())
    monkeypatch.setattr("sendlib.data.loaders.resolve_quarter", lambda text, cfg, t=None: Quarter.parse(QUARTER))
    monkeypatch.setattr(
        "sendlib.models.chain.quarter_projection", lambda tables, quarter, scenario, **kw: projection(3)
    )


def _write(tmp_path: Path, d: dict) -> Path:
    p = tmp_path / "dsg.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return p


def test_cli_csv_balance_identity_holds_exactly(tmp_path, fake_inputs, capsys):
    p = _write(tmp_path, scenario_dict())
    assert main(["scenarios", "--scenarios", str(p), "--horizon", "2", "--draws", "300", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(df.columns) == [
        "scenario",
        "financial_year",
        "opening_balance_gbp",
        "income_gbp",
        "expenditure_gbp",
        "in_year_balance_gbp",
        "cumulative_balance_gbp",
        "cumulative_balance_p10_gbp",
        "cumulative_balance_p90_gbp",
    ]
    assert set(df["scenario"]) == {"unmitigated", "mitigated"}
    for _, g in df.groupby("scenario"):
        prev = g["opening_balance_gbp"].iloc[0]
        for _, r in g.iterrows():
            assert r["in_year_balance_gbp"] == r["income_gbp"] - r["expenditure_gbp"]
            assert r["cumulative_balance_gbp"] == prev + r["income_gbp"] - r["expenditure_gbp"]
            prev = r["cumulative_balance_gbp"]
    un = df[df["scenario"] == "unmitigated"]
    assert un["cumulative_balance_gbp"].iloc[:2].tolist() == [-1_400_000, -1_955_000]


@pytest.mark.parametrize(
    "edit,key",
    [
        (
            lambda d: _unm(d).update({"unit_cost_inflaton_pct": {"value": 3, "source": "x", "as_of": "2025-01-01"}}),
            "unit_cost_inflaton_pct",
        ),
        (lambda d: _unm(d)["unit_cost_inflation_pct"].update({"value": "-2"}), "unit_cost_inflation_pct.value"),
        (
            lambda d: d["scenarios"]["mitigated"]["mitigations"][0].update({"to_setting": "special_school"}),
            "to_setting",
        ),
    ],
)
def test_cli_bad_scenario_file_exits_2_and_writes_nothing(tmp_path, fake_inputs, capsys, edit, key):
    d = scenario_dict()
    edit(d)
    p = _write(tmp_path, d)
    out = tmp_path / "out" / "dsg.xlsx"
    assert main(["scenarios", "--scenarios", str(p), "--excel", str(out), "--format", "csv"]) == 2
    captured = capsys.readouterr()
    assert key in captured.err and "error" in captured.err
    assert captured.out == ""
    assert not out.exists() and not out.parent.exists()


def test_cli_missing_scenario_file(tmp_path, capsys):
    assert main(["scenarios", "--scenarios", str(tmp_path / "nope.yaml")]) == 2
    assert "scenario file not found" in capsys.readouterr().err
