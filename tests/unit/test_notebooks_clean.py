"""Committed notebooks are clean: stripped, parameterised, and free of definitions.

Also tests ``python -m sendlib.report.notebook_tools`` (the Makefile's ``notebooks-clean`` target) on
notebooks written here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from sendlib.report import notebook_tools as nt

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
PARAMS = 'quarter = "latest"\nconfig_path = ""\ndata_dir = ""\ntables_dir = ""\nvalidated = False\n'

committed = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


@pytest.mark.skipif(not NOTEBOOKS, reason="notebooks/ has no notebooks yet")
@committed
def test_committed_notebook_has_no_outputs(path):
    nb = nt.read_notebook(path)
    assert not nt.has_outputs(nb), f"{path.name} has outputs or execution counts: run `make notebooks-clean`"


@pytest.mark.skipif(not NOTEBOOKS, reason="notebooks/ has no notebooks yet")
@committed
def test_committed_notebook_takes_the_common_parameters(path):
    nb = nt.read_notebook(path)
    assert nt.parameters_cell(nb) is not None, f"{path.name} has no cell tagged 'parameters'"
    assert nt.missing_common_parameters(nb) == [], f"{path.name}: parameters cell lacks these"


@pytest.mark.skipif(not NOTEBOOKS, reason="notebooks/ has no notebooks yet")
@committed
def test_committed_notebook_defines_no_function_or_class(path):
    assert nt.definitions(nt.read_notebook(path)) == [], f"{path.name}: move these into sendlib"


def _dirty_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "%matplotlib inline\nx = 1\nx",
            execution_count=3,
            outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "1"}, execution_count=3)],
            metadata={"execution": {"iopub.status.idle": "2025-01-01"}, "tags": ["keep"]},
        ),
    ]
    nb.metadata["papermill"] = {"parameters": {}}
    nbformat.write(nb, str(path))
    return path


def test_strip_removes_outputs_counts_and_run_metadata_but_keeps_tags(tmp_path):
    path = _dirty_notebook(tmp_path / "a.ipynb")
    nb = nt.read_notebook(path)
    assert nt.has_outputs(nb)
    assert nt.strip_files([path]) == [path]
    clean = nt.read_notebook(path)
    assert not nt.has_outputs(clean)
    code = nt.code_cells(clean)[1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {"tags": ["keep"]}
    assert "papermill" not in clean["metadata"]
    assert nt.parameters_cell(clean)["metadata"]["tags"] == ["parameters"]
    nbformat.validate(nbformat.read(str(path), as_version=4))
    before = path.read_bytes()
    assert nt.strip_files([path]) == []  # clean notebooks are not rewritten
    assert path.read_bytes() == before


def test_command_line_check_and_strip(tmp_path):
    path = _dirty_notebook(tmp_path / "a.ipynb")
    cmd = [sys.executable, "-m", "sendlib.report.notebook_tools"]
    check = subprocess.run(cmd + ["check", str(path)], capture_output=True, text=True)
    assert check.returncode == 1 and "a.ipynb" in check.stderr
    strip = subprocess.run(cmd + ["strip", str(path)], capture_output=True, text=True)
    assert strip.returncode == 0 and "stripped" in strip.stdout
    assert subprocess.run(cmd + ["check", str(path)]).returncode == 0


def test_parameters_and_definitions_are_found_by_parsing():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": ['quarter: str = "latest"\n', 'config_path = ""\n', "data_dir = ''\n", "validated = False\n"],
            },
            {"cell_type": "code", "metadata": {}, "source": "%time x = 1\ndef helper(a):\n    return a\n"},
            {
                "cell_type": "code",
                "metadata": {},
                "source": "result = sendlib.models.kpi.compute(ctx)  # defined elsewhere\n",
            },
            {"cell_type": "code", "metadata": {}, "source": "class Thing:\n    pass\n"},
            {"cell_type": "markdown", "metadata": {}, "source": "def in markdown is fine\n"},
        ]
    }
    assert nt.missing_common_parameters(nb) == ["tables_dir"]
    assert nt.definitions(nb) == ["cell 1: def helper", "cell 3: class Thing"]
    assert nt.missing_common_parameters({"cells": []}) == list(nt.COMMON_PARAMETERS)
    broken = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = (\ndef f():\n"}]}
    assert nt.definitions(broken) == ["cell 0: def f"]
