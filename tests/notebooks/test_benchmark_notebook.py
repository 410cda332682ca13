"""The benchmarking notebook runs on the shipped DfE extract."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_notebook_runs(tmp_path):
    import papermill as pm

    from sendlib.core.config import PROJECT_ROOT

    pm.execute_notebook(
        str(PROJECT_ROOT / "notebooks" / "07_benchmarking.ipynb"),
        str(tmp_path / "out.ipynb"),
        parameters={"validated": True, "tables_dir": str(tmp_path / "tables"), "la": "825"},
        kernel_name="python3",
        progress_bar=False,
    )
    assert (tmp_path / "tables" / "07_benchmarking__latest.csv").is_file()
