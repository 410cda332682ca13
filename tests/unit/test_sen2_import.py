"""SEN2 import completeness: a mis-nested return is refused, values failing a rule import with the
rule id and what was kept, and the imported tables pass the loaders and the quality gate; the
``tables: {sen2: {format: sen2_xml, ...}}`` config form and ``missing_tables: skip``.

The returns here are the made-up one of ``test_sen2.py`` and the shipped synthetic county exported
with ``sendlib sen2 export``. No real child's data.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_sen2 import UPN1_BAD, VALID, _write

from sendlib.cli import main
from sendlib.core.config import load_config
from sendlib.core.errors import ConfigError, DataError
from sendlib.data import loaders
from sendlib.data.sen2 import importer
from sendlib.data.sen2.exporter import export_return
from sendlib.quality import rules as qrules
from sendlib.quality.gate import validate_tables

REPO = Path(__file__).resolve().parents[2]
KEY_ENV = "SENDLIB_PSEUDONYM_KEY"
SEN2_TABLES = ("ehcp_requests", "ehcp_plans", "placements", "annual_reviews")


def write_config(folder: Path, data_dir: Path, **extra: object) -> Path:
    """A config in ``folder`` reading ``data_dir``, with the repository's suites and notebooks and
    the SEN2 import's locality code listed (as docs/sen2.md says)."""
    cfg = {
        "authority": {
            "name": "Imported County",
            "dfe_code": "931",
            "localities": {"north": "North", "city": "City", "south": "South", "west": "West", "vale": "Vale"}
            | {"unknown": "Not known (SEN2 import)"},
        },
        "paths": {
            "data_dir": str(data_dir),
            "reference_dir": str(REPO / "data" / "reference"),
            "output_dir": str(folder / "out"),
            "expectations_dir": str(REPO / "expectations"),
            "notebooks_dir": str(REPO / "notebooks"),
            "scenarios_dir": str(REPO / "config" / "scenarios"),
        },
        "report": {
            "scenarios": str(REPO / "config" / "scenarios" / "dsg.yaml"),
            "sufficiency_scenario": str(REPO / "config" / "scenarios" / "sufficiency.yaml"),
            "forecast_scenario": str(REPO / "config" / "scenarios" / "forecast.yaml"),
        },
        **extra,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def county_return(tmp_path_factory) -> Path:
    """The shipped county as the 2026 return (as ``sendlib sen2 export --year 2026`` writes it)."""
    tables = loaders.load_tables(None, SEN2_TABLES)
    path = tmp_path_factory.mktemp("ret") / "sen2_2026.xml"
    export_return(tables, 2026, path, la_code="931")
    return path


# -- (a) nesting ------------------------------------------------------------------------------


def test_misnested_return_is_refused(tmp_path, monkeypatch, capsys):
    """An Assessment directly under Person (not under its Requests) cannot be tied to a request."""
    monkeypatch.setenv(KEY_ENV, "k")
    start = VALID.index("<Assessment>")
    end = VALID.index("</Assessment>") + len("</Assessment>")
    block = VALID[start:end]
    broken = VALID[:start] + VALID[end:]
    broken = broken.replace("</Requests>", "</Requests>" + block, 1)
    path = _write(tmp_path, broken)
    assert main(["sen2", "import", str(path), "--out-dir", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert "element nesting does not follow the XSD" in err and "Assessment" in err
    assert not (tmp_path / "out").exists()


@dataclass
class _Err:
    path: str
    line: int | None
    person_pos: int | None
    reason: str
    kind: str


@pytest.mark.parametrize(
    ("kind", "reason", "refused"),
    [
        ("nesting", "Unexpected child with tag 'Assessment' at position 3.", True),
        ("nesting", "The content of element 'Requests' is not complete. Tag 'ActivePlans' expected.", True),
        # an item out of place inside its own module (the mock return's LastReview) is read where it is
        ("nesting", "Unexpected child with tag 'LastReview' at position 7.", False),
        ("value", "value doesn't match any pattern", False),
    ],
)
def test_structure_error_kind_decides(tmp_path, monkeypatch, kind, reason, refused):
    """Only a content-model error naming a module element refuses the import."""
    monkeypatch.setenv(KEY_ENV, "k")
    err = _Err("/Message/Persons/Person[1]/Requests[1]", 20, 1, reason, kind)
    monkeypatch.setattr(importer, "check_structure", lambda ret: ([err], 2025))
    path = _write(tmp_path, VALID)
    if refused:
        with pytest.raises(DataError, match="nesting"):
            importer.build_tables(path, b"k")
    else:
        _, findings, _, _ = importer.build_tables(path, b"k")
        assert [f.rule_id for f in findings] == ["SEN2-XSD"]


def test_item_order_is_not_nesting():
    """An item out of order inside its own module (the mock return's LastReview) is not nesting."""

    @dataclass
    class E:
        reason: str

    assert not importer.is_nesting_error(E("Unexpected child with tag 'LastReview' at position 7."))
    assert importer.is_nesting_error(E("Unexpected child with tag 'Assessment' at position 9."))


# -- (b) values failing rules -----------------------------------------------------------------


def test_value_failures_import_with_rule_and_effect(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(KEY_ENV, "k")
    path = _write(tmp_path, VALID.replace(VALID[VALID.index("<UPN>") + 5 : VALID.index("</UPN>")], UPN1_BAD))
    assert main(["sen2", "import", str(path), "--out-dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "SEN2-P01" in ln)
    assert "kept: the person id is the keyed hash of the UPN as written" in line
    assert UPN1_BAD not in out
    assert (tmp_path / "out" / "ehcp_plans.csv").is_file()
    assert main(["sen2", "import", str(path), "--out-dir", str(tmp_path / "strict"), "--strict"]) == 3
    assert not (tmp_path / "strict").exists()


def test_every_rule_says_what_the_import_does():
    from sendlib.data.sen2.rules import RULES, STRUCTURE_RULE

    assert {r.id for r in RULES} | {STRUCTURE_RULE} <= set(importer.RULE_EFFECT)


def test_review_due_on_the_plan_anniversary_nearest_the_meeting():
    start = pd.to_datetime(pd.Series(["2020-03-10", "2020-03-10", "2024-07-05"]))
    meeting = pd.to_datetime(pd.Series(["2023-02-20", "2023-05-01", "2024-12-01"]))
    due = importer._anniversary_due(start, meeting)
    assert due.dt.strftime("%Y-%m-%d").tolist() == ["2023-03-10", "2023-03-10", "2025-07-05"]


# -- (c) the imported tables pass the loaders and the gate ------------------------------------


def test_imported_county_passes_loaders_and_gate(tmp_path, monkeypatch, county_return, capsys):
    monkeypatch.setenv(KEY_ENV, "a-test-key")
    out = tmp_path / "imported"
    assert main(["sen2", "import", str(county_return), "--out-dir", str(out)]) == 0
    meta = yaml.safe_load((out / "metadata.yaml").read_text(encoding="utf-8"))
    assert meta["extract_date"] == "2026-01-15"
    assert set(meta["not_known"]) == {"placements.setting_type", "placements.annual_cost", "placements.out_of_county"}
    cfg = load_config(write_config(tmp_path, out, missing_tables="skip"))
    tables = loaders.load_tables(cfg)
    assert sorted(tables) == sorted(SEN2_TABLES)
    assert tables["placements"]["annual_cost"].isna().all()
    report = validate_tables(cfg, tables)
    assert report.success, report.summary()
    capsys.readouterr()
    assert main(["validate", "--config", str(cfg.path), "--no-docs"]) == 0
    said = capsys.readouterr().out
    assert "Not in the data" in said and "hnb_budget" in said and "06_high_needs_dsg cannot run" in said


def test_gate_requires_costs_unless_declared_not_known(tmp_path):
    """The shipped data's gate is as strict as before: an empty annual_cost fails not_null unless
    the data folder's metadata.yaml declares it not known (as an import writes)."""
    cfg = load_config().with_data_dir(tmp_path)
    plc = loaders.load_tables(None, ["placements"])["placements"].head(20).copy()
    plc.loc[3, "annual_cost"] = float("nan")
    settings = qrules.load_settings()
    extract = pd.Timestamp("2026-09-30")
    frame = qrules.derive_frames({"placements": plc}, cfg, extract, settings)["placements"]
    assert frame["chk__known__annual_cost"].tolist().count(False) == 1
    (tmp_path / "metadata.yaml").write_text("not_known: [placements.annual_cost]\n", encoding="utf-8")
    frame = qrules.derive_frames({"placements": plc}, cfg, extract, settings)["placements"]
    assert frame["chk__known__annual_cost"].all()
    assert not frame["chk__known__out_of_county"].isna().any()


# -- the config form: tables.sen2 and missing_tables ------------------------------------------


def test_sen2_source_gives_the_same_tables_as_the_import(tmp_path, monkeypatch, county_return):
    monkeypatch.setenv(KEY_ENV, "a-test-key")
    shutil.copy(county_return, tmp_path / "sen2_2026.xml")
    data = tmp_path / "other"
    data.mkdir()
    cfg = load_config(
        write_config(tmp_path, data, tables={"sen2": {"format": "sen2_xml", "path": str(tmp_path / "sen2_2026.xml")}})
    )
    assert cfg.table_source("placements").format == "sen2_xml"
    assert cfg.table_source("capacity").format == "csv"
    in_memory = loaders.load_tables(cfg, SEN2_TABLES)
    importer.import_return(county_return, tmp_path / "csv", cfg)
    (tmp_path / "plain").mkdir()
    from_csv = loaders.load_tables(load_config(write_config(tmp_path / "plain", tmp_path / "csv")), SEN2_TABLES)
    for name in SEN2_TABLES:
        pd.testing.assert_frame_equal(in_memory[name], from_csv[name], check_dtype=True)
    assert list(data.iterdir()) == [], "the in-memory route writes no person-level file"


def test_sen2_xml_only_for_the_sen2_entry(tmp_path):
    bad = write_config(tmp_path, tmp_path, tables={"placements": {"format": "sen2_xml", "path": "x.xml"}})
    with pytest.raises(ConfigError, match="sen2_xml"):
        load_config(bad)
    bad = write_config(tmp_path, tmp_path, tables={"sen2": {"format": "csv", "path": "x.csv"}})
    with pytest.raises(ConfigError, match="sen2"):
        load_config(bad)


def test_missing_tables_skip_and_error(tmp_path):
    for name in ("ehcp_requests", "ehcp_plans", "pap_actions"):
        shutil.copy(REPO / "data" / "raw" / f"{name}.csv", tmp_path / f"{name}.csv")
    cfg = load_config(write_config(tmp_path, tmp_path))
    with pytest.raises(DataError, match="file not found"):
        loaders.load_tables(cfg)
    cfg = load_config(write_config(tmp_path, tmp_path, missing_tables="skip"))
    assert sorted(loaders.load_tables(cfg)) == ["ehcp_plans", "ehcp_requests", "pap_actions"]
    assert "capacity" in loaders.absent_tables(cfg)
    (tmp_path / "ehcp_plans.csv").unlink()
    with pytest.raises(DataError, match="ehcp_plans"):
        loaders.load_tables(cfg)
