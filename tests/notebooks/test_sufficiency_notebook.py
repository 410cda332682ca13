"""The placement sufficiency notebook runs on the shipped data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_notebook_runs_for_the_latest_quarter_and_shows_the_pipeline(shipped_data_dir, tmp_path):
    pytest.importorskip("sendlib.models.forecast.person")
    import papermill as pm

    from sendlib.report.notebook_tools import definitions, has_outputs, read_notebook

    path = REPO / "notebooks" / "05_placement_sufficiency.ipynb"
    nb = read_notebook(path)
    assert not has_outputs(nb) and not definitions(nb)
    out = tmp_path / "05.ipynb"
    tables = tmp_path / "tables"
    pm.execute_notebook(
        str(path),
        str(out),
        cwd=str(path.parent),
        kernel_name="python3",
        progress_bar=False,
        parameters={
            "quarter": "latest",
            "data_dir": str(shipped_data_dir),
            "tables_dir": str(tables),
            "validated": True,
            "sims": 100,
        },
    )
    timeline = pd.read_csv(tables / "05_placement_sufficiency__pipeline_timeline.csv")
    names = " | ".join(timeline["name"])
    for expected in ("Didcot", "Bloxham", "Cherry Fields", "Windrush", "St Frideswide"):
        assert expected in names, expected
    assert timeline.loc[timeline["name"].str.contains("Didcot"), "status"].eq("pipeline").all()
    text = out.read_text(encoding="utf-8")
    assert "Didcot Special School" in text  # the timeline chart's alt text and table
    for name in (
        "demand_vs_capacity_by_phase",
        "gap_by_designation_locality",
        "occupancy_today",
        "overflow_by_phase",
        "whatif_comparison",
    ):
        assert (tables / f"05_placement_sufficiency__{name}.csv").is_file(), name
