"""The KPI dashboard and PAP tracker notebooks: thin, stripped, and running for every quarter of
the last two years of the shipped synthetic county under papermill."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from sendlib.core.schema import identifying_columns

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = ["02_kpi_dashboard", "03_pap_tracker"]
PARAMETERS = {
    "quarter": "latest",
    "config_path": "",
    "data_dir": "",
    "tables_dir": "",
    "validated": False,
    "run_cache": "",
}


def _last_two_years() -> list[str]:
    """The eight latest complete quarters of the shipped data (empty when data/raw is absent)."""
    if not (REPO / "data" / "raw" / "ehcp_plans.csv").is_file():
        return []
    from sendlib.core.config import load_config
    from sendlib.core.quarters import last_n_quarters
    from sendlib.data.loaders import latest_complete_quarter

    return [str(q) for q in last_n_quarters(latest_complete_quarter(load_config()), 8)]


QUARTERS = _last_two_years()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_thin_stripped_and_parameterised(name):
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    values: dict = {}
    exec(tagged[0].source, {}, values)  # simple literals only: no derived values
    assert values == PARAMETERS
    for cell in code:
        assert not re.search(r"^\s*(def|class) ", cell.source, re.M), cell.source[:80]
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
    assert "sendlib.notebook.setup(" in "".join(c.source for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("quarter", QUARTERS or [pytest.param("none", marks=pytest.mark.skip("data/raw absent"))])
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_for_each_recent_quarter(name, quarter, tmp_path):
    import papermill as pm

    out = tmp_path / f"{name}.ipynb"
    tables = tmp_path / "tables"
    pm.execute_notebook(
        str(REPO / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters={"quarter": quarter, "tables_dir": str(tables), "validated": True},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    executed = nbformat.read(out, as_version=4)
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    written = sorted(tables.glob(f"{name}__*.csv"))
    assert written, "the notebook published no tables"
    forbidden = {c for cols in identifying_columns().values() for c in cols}
    for path in written:
        frame = pd.read_csv(path, dtype=str)
        assert not forbidden & set(frame.columns), path.name
    if name == "02_kpi_dashboard":
        kpis = pd.read_csv(tables / "02_kpi_dashboard__kpis.csv", dtype=str)
        assert set(kpis["period"]) == {quarter}
        assert set(kpis["kpi"].str.extract(r"^(K\d+)")[0]) == {f"K{i}" for i in range(1, 14)}
