"""``sendlib report`` straight from a SEN2 return (``tables: {sen2: {format: sen2_xml, ...}}``).

The county is the synthetic one generated to the 2026 census day (``sendlib synth --end-date``, so
every table is as at the return's reference date), exported as its 2026 return. Requests, plans,
placements and annual reviews come from the return, in memory; the other tables are the county's
CSVs. Their person ids are replaced by the pseudonyms the import gives the same people (what a
council does with its other person-level extracts, with the same key), so the tables link.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sendlib.cli import main
from sendlib.data.sen2.exporter import export_return
from sendlib.data.sen2.importer import pseudonym

REPO = Path(__file__).resolve().parents[2]
CENSUS = "2026-01-15"
KEY = "a-test-key"
SEN2_TABLES = ("ehcp_requests", "ehcp_plans", "placements", "annual_reviews")
PERSON_TABLES = ("exclusions", "transitions", "tribunal_appeals", "phase_transfers")
#: tables the gate checks against the people with a request or a plan
LINKED = ("tribunal_appeals", "phase_transfers")


def _persons_in(path: Path) -> set[str]:
    """The synthetic ids the exporter wrote as forenames (a test-only reading of its stand-in)."""
    import re

    return set(re.findall(r"<Forename>([^<]+)</Forename>", path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """A folder with ``return.xml`` and ``data/`` (the non-SEN2 tables, pseudonymised ids)."""
    from sendlib.data.loaders import load_tables

    root = tmp_path_factory.mktemp("county")
    full = root / "full"
    assert main(["synth", "--out-dir", str(full), "--end-date", CENSUS]) == 0
    cfg = _config(root, full, {})
    from sendlib.core.config import load_config

    tables = load_tables(load_config(cfg), SEN2_TABLES)
    export_return(tables, 2026, root / "return.xml", la_code="931")
    # the exporter's stand-ins: names SENDLIB and the id, born on the first of the birth month
    # (2010-01-01 for a person with a request and no plan)
    births = tables["ehcp_plans"].drop_duplicates("person_id").set_index("person_id")["birth_month"]
    dob = dict.fromkeys(tables["ehcp_requests"]["person_id"], "2010-01-01") | {p: f"{m}-01" for p, m in births.items()}
    in_return = _persons_in(root / "return.xml")
    ids = {p: pseudonym(KEY.encode(), None, None, "SENDLIB", p, d) for p, d in dob.items() if p in in_return}
    data = root / "data"
    data.mkdir()
    for f in full.iterdir():
        if f.stem in SEN2_TABLES:
            continue
        shutil.copy(f, data / f.name)
        if f.stem in PERSON_TABLES:
            df = pd.read_csv(f, dtype=str, keep_default_na=False)
            if f.stem in LINKED:
                # a return holds one year's cohort: appeals and transfers of people not in it
                # (plans ended before the year) cannot be linked to it
                df = df[df["person_id"].isin(ids)]
            df["person_id"] = df["person_id"].map(lambda p: ids.get(p, p))
            df.to_csv(data / f.name, index=False, lineterminator="\n")
    return root


def _config(folder: Path, data_dir: Path, tables: dict, **extra: object) -> Path:
    scen = REPO / "config" / "scenarios"
    cfg = {
        "authority": {
            "name": "Synthetic County (from its SEN2 return)",
            "dfe_code": "931",
            "localities": {
                "north": "North",
                "city": "City",
                "south": "South",
                "west": "West",
                "vale": "Vale",
                "unknown": "Not known (SEN2 import)",
            },
        },
        "paths": {
            "data_dir": str(data_dir),
            "reference_dir": str(REPO / "data" / "reference"),
            "output_dir": str(folder / "out"),
            "expectations_dir": str(REPO / "expectations"),
            "notebooks_dir": str(REPO / "notebooks"),
            "scenarios_dir": str(scen),
        },
        "tables": tables,
        "report": {
            "jobs": 2,
            "reuse": False,
            "scenarios": str(scen / "dsg.yaml"),
            "sufficiency_scenario": str(scen / "sufficiency.yaml"),
            "forecast_scenario": str(scen / "forecast.yaml"),
        },
        **extra,
    }
    path = folder / f"config-{len(list(folder.glob('config-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def _report(cfg: Path, out: Path) -> tuple[int, dict, Path]:
    code = main(["report", "--config", str(cfg), "--quarter", "latest", "--output-dir", str(out), "--quiet"])
    packs = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert len(packs) == 1, [p.name for p in packs]
    return code, json.loads((packs[0] / "manifest.json").read_text(encoding="utf-8")), packs[0]


@pytest.mark.slow
def test_report_from_the_return_plus_the_other_tables(county, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDLIB_PSEUDONYM_KEY", KEY)
    sen2 = {"sen2": {"format": "sen2_xml", "path": str(county / "return.xml")}}
    cfg = _config(tmp_path, county / "data", sen2)
    code, manifest, pack = _report(cfg, tmp_path / "out")
    status = {n["stem"]: n["status"] for n in manifest["notebooks"]}
    reasons = {n["stem"]: n["error"] for n in manifest["notebooks"] if n["error"]}
    assert code == 0 and manifest["status"] == "ok", reasons
    # what one return cannot give: costs (SEN2 holds none) and a second census for the forecast
    assert {s for s, v in status.items() if v == "skipped"} == {
        "04_ehcp_demand_forecast",
        "05_placement_sufficiency",
        "06_high_needs_dsg",
    }
    assert "two January censuses" in reasons["04_ehcp_demand_forecast"]
    assert "placements.annual_cost" in reasons["06_high_needs_dsg"]
    assert {s for s, v in status.items() if v == "ok"} == {
        "01_data_quality",
        "02_kpi_dashboard",
        "03_pap_tracker",
        "07_benchmarking",
    }
    kpis = (
        pd.read_csv(pack / "tables" / "02_kpi_dashboard__kpis.csv", dtype=str)
        if (pack / "tables" / "02_kpi_dashboard__kpis.csv").is_file()
        else None
    )
    assert kpis is None or {"K1", "K4"} <= set(kpis["kpi"])
    assert manifest["quarter"] == "2025-26Q3"  # the last quarter complete at the census day
    # the in-memory route wrote no person-level table anywhere
    assert sorted(p.name for p in (county / "data").iterdir() if p.stem in SEN2_TABLES) == []


@pytest.mark.slow
def test_report_from_the_return_without_finance_or_capacity(county, tmp_path, monkeypatch):
    monkeypatch.setenv("SENDLIB_PSEUDONYM_KEY", KEY)
    data = tmp_path / "data"
    shutil.copytree(county / "data", data)
    for name in ("hnb_budget", "dsg_income", "capacity"):
        (data / f"{name}.csv").unlink()
    sen2 = {"sen2": {"format": "sen2_xml", "path": str(county / "return.xml")}}
    cfg = _config(tmp_path, data, sen2, missing_tables="skip")
    code, manifest, pack = _report(cfg, tmp_path / "out")
    status = {n["stem"]: n["status"] for n in manifest["notebooks"]}
    assert code == 0 and manifest["status"] == "ok", manifest["notebooks"]
    skipped = {s for s, v in status.items() if v == "skipped"}
    # the KPIs need hnb_budget (K10); sufficiency and finance need capacity and the budget tables
    assert {"02_kpi_dashboard", "05_placement_sufficiency", "06_high_needs_dsg"} <= skipped
    assert {s for s, v in status.items() if v == "ok"} == set(status) - skipped
    index = (pack / "index.html").read_text(encoding="utf-8")
    assert "could not run" in index and "Not run: input missing" in index
    page = (pack / "06_high_needs_dsg.html").read_text(encoding="utf-8")
    assert "This section could not run" in page and "hnb_budget" in page and "capacity" in page
    # sendlib validate says the same, and passes on what is there
    assert main(["validate", "--config", str(cfg), "--no-docs"]) == 0


@pytest.mark.slow
def test_a_section_whose_inputs_are_missing_is_shown_as_not_run(tmp_path):
    """The runner on the tiny project: 02_beta declares a table the data lack and a column that is
    empty; it is not run, the run still succeeds, and index and page say what it needs."""
    import nbformat
    from report_factory import TABLES, build_project

    from sendlib.report import runner

    config = build_project(tmp_path)
    path = config.notebooks_dir / "02_beta.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata["sendlib"] = {"needs": ["capacity", "ehcp_plans.birth_month", "ehcp_plans.plan_end_date"]}
    nbformat.write(nb, str(path))
    result = runner.run_report(
        config, "latest", tables=TABLES, validator=lambda c, t: {"success": True}, jobs=2, quiet=True
    )
    status = {n.stem: (n.status, n.error) for n in result.notebooks}
    assert result.status == "ok" and status["01_alpha"][0] == "ok" and status["03_gamma"][0] == "ok"
    assert status["02_beta"][0] == "skipped"
    assert "capacity" in status["02_beta"][1] and "ehcp_plans.plan_end_date" in status["02_beta"][1]
    assert "birth_month" not in status["02_beta"][1]  # a known column is met
    out = result.output_dir
    assert "Not run: input missing" in (out / "index.html").read_text(encoding="utf-8")
    page = (out / "02_beta.html").read_text(encoding="utf-8")
    assert "This section could not run" in page and "capacity" in page
    assert not (out / "notebooks" / "02_beta.ipynb").exists()
