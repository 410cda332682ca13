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


def test_show_is_a_board_table_with_the_configs_locality_names(tmp_path):
    ctx = _ctx(tmp_path)
    published = ctx.publish(
        pd.DataFrame({"locality": ["city", "north"], "children": [3, 40]}), "x", counts=["children"]
    )
    html = ctx.show(published).to_html()
    assert "Locality" in html and "City" in html and "North" in html and ">city<" not in html
    assert "Children on roll" in html and "&lt;5" in html and "row_heading" not in html


def test_published_csv_is_formula_safe_and_keeps_negative_numbers(tmp_path):
    ctx = _ctx(tmp_path)
    df = pd.DataFrame(
        {"comment": ['=HYPERLINK("http://x","click")', "@SUM(A1)", "-2+3", "fine"], "gbp": [-5.5, 1, 2, 3]}
    )
    ctx.publish(df, "free_text")
    back = pd.read_csv(tmp_path / "tables" / "kpi_dashboard__free_text.csv")
    assert list(back["comment"]) == ['\'=HYPERLINK("http://x","click")', "'@SUM(A1)", "'-2+3", "fine"]
    assert back["gbp"].dtype == "float64" and back["gbp"].iloc[0] == -5.5
