"""The forecast notebook runs on the shipped data and leads with the backtests (issue 18)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_notebook_runs(tmp_path):
    import papermill as pm

    from sendlib.core.config import PROJECT_ROOT

    pm.execute_notebook(
        str(PROJECT_ROOT / "notebooks" / "04_ehcp_demand_forecast.ipynb"),
        str(tmp_path / "out.ipynb"),
        parameters={"validated": True, "tables_dir": str(tmp_path / "tables"), "sims": 100, "horizon": 3},
        kernel_name="python3",
        progress_bar=False,
    )
    tables = {p.name for p in (tmp_path / "tables").iterdir()}
    assert any(n.startswith("04_ehcp_demand_forecast__backtest") for n in tables), tables
    assert any(n.startswith("04_ehcp_demand_forecast__person_backtest") for n in tables), tables
