"""Executed notebooks show no machine path (sendlib.report.notebook_tools.relativise_notebook)."""

from __future__ import annotations

import json


def test_machine_paths_are_replaced_longest_first_as_written_and_json_escaped(tmp_path):
    from sendlib.report.notebook_tools import relativise_notebook, replace_machine_paths

    stand_ins = {"/srv/project": "<sendlib>", "/srv/project/config": ".", "C:\\Users\\ana": "~"}
    text = 'config_path = "/srv/project/config/default.yaml"; x = "/srv/project/data"'
    assert replace_machine_paths(text, stand_ins) == 'config_path = "./default.yaml"; x = "<sendlib>/data"'
    nb = {"cells": [{"cell_type": "code", "source": ['p = r"C:\\Users\\ana\\cache"'], "outputs": []}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert relativise_notebook(path, stand_ins)
    assert json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"] == ['p = r"~\\cache"']
    assert not relativise_notebook(path, stand_ins)  # nothing left to replace
