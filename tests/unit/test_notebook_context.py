"""The notebook context: publish refuses identifying columns, suppresses, writes deterministic CSVs."""

import pandas as pd
import pytest

from sendlib.core.config import load_config
from sendlib.core.quarters import Quarter
from sendlib.notebook import NotebookContext


def _ctx(tmp_path, notebook="kpi_dashboard"):
    return NotebookContext(
        config=load_config(), quarter=Quarter(2025, 2), tables={}, tables_dir=tmp_path / "tables", notebook=notebook
    )


def test_publish_suppresses_and_writes(tmp_path):
    ctx = _ctx(tmp_path)
    df = pd.DataFrame({"setting": ["a", "b"], "children": [3, 40], "den": [50, 50], "pct": [6.0, 80.0]})
    out = ctx.publish(df, "mix", counts=["children"], percentages={"pct": ("children", "den")})
    assert out["children"].tolist() == ["<5", 40]
    assert out["pct"].tolist() == ["", 80.0]
    path = tmp_path / "tables" / "kpi_dashboard__mix.csv"
    assert path.read_text() == "setting,children,den,pct\na,<5,50,\nb,40,50,80\n"
    assert ctx.output_folder == tmp_path


def test_publish_refuses_identifying_columns(tmp_path):
    ctx = _ctx(tmp_path)
    with pytest.raises(ValueError, match="person_id"):
        ctx.publish(pd.DataFrame({"person_id": ["P1"], "n": [10]}), "x", counts=["n"])
    assert not (tmp_path / "tables").exists()


def test_publish_without_tables_dir_writes_nothing(tmp_path):
    ctx = NotebookContext(config=load_config(), quarter=Quarter(2025, 2), tables={})
    out = ctx.publish(pd.DataFrame({"n": [2]}), "x", counts=["n"])
    assert out["n"].tolist() == ["<5"] and ctx.published == []
