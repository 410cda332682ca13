"""Pieces of the report runner on their own: discovery, scans, export helpers, provenance, CLI checks."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from report_factory import PEOPLE, make_notebook

from sendlib.report import checks, export, outputs, provenance

REPO = Path(__file__).resolve().parents[2]


def test_discover_notebooks_sorts_and_selects(tmp_path):
    for stem in ("02_kpi_dashboard", "01_data_quality", "10_extra"):
        make_notebook(tmp_path, stem)
    (tmp_path / ".hidden.ipynb").write_text("{}")
    assert [p.stem for p in export.discover_notebooks(tmp_path)] == ["01_data_quality", "02_kpi_dashboard", "10_extra"]
    assert [p.stem for p in export.discover_notebooks(tmp_path, ["kpi_dashboard", "01_data_quality"])] == [
        "01_data_quality",
        "02_kpi_dashboard",
    ]
    with pytest.raises(Exception, match="no such notebook"):
        export.discover_notebooks(tmp_path, ["finance"])
    with pytest.raises(Exception, match="no notebooks"):
        export.discover_notebooks(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path)


def test_identifier_scan_finds_ids_not_similar_numbers_or_images():
    ids = checks.collect_identifiers({"ehcp_plans": PEOPLE})
    assert ids.ids == {"P000123", "P000456"} and ids.birth_months == {"2014-03", "2016-11"}
    scan = checks.scan_text_for_identifiers
    assert scan("group,count\nnorth,P000123\n", ids)[0] == 1
    assert scan("P0001234 XP000123 P000123x", ids) == (0, 0, False)  # whole tokens only
    assert scan('<img src="data:image/png;base64,AAAA/P000123/BBBB">', ids)[0] == 0
    # a notebook's JSON: base64 pixels are skipped, text outputs beside them are not
    assert scan('{"image/png": "AAAA/P000123\\nBB==", "text/plain": "x"}', ids)[0] == 0
    assert scan('{"image/png": "AAAA==", "text/plain": "P000456"}', ids)[0] == 1
    assert scan("month,plans\n2014-03,12\n", ids) == (0, 0, False)  # a month alone is a monthly trend
    assert scan("P000456 born 2016-11", ids) == (1, 1, False)
    assert scan("birth_month", ids)[2] is True
    assert checks.redact("KeyError: 'P000123'", ids) == "KeyError: '[identifier]'"


def test_identifier_scan_skips_short_or_numeric_ids():
    ids = checks.collect_identifiers(
        {"ehcp_plans": pd.DataFrame({"person_id": ["12", "P1", "AB12345"], "birth_month": ["2014-03"] * 3})}
    )
    assert ids.ids == {"AB12345"} and ids.skipped == 2


def test_small_count_scan_checks_count_columns_only(tmp_path):
    (tmp_path / "a.csv").write_text(
        "locality,plans_count,age,year,n,denominator,pct\n"
        "north,<5,3,2024,12,40,2.0\nsouth,3,4,2025,3.0,2,1\ncity,0,2,2023,<5,100,3\n",
        encoding="utf-8",
    )
    (tmp_path / "b.csv").write_text("need,age_years\nASD,4\n", encoding="utf-8")
    found = checks.scan_small_counts(tmp_path, threshold=5)
    assert [(f.file, f.detail.split("'")[1]) for f in found] == [
        ("tables/a.csv", "denominator"),
        ("tables/a.csv", "n"),
        ("tables/a.csv", "plans_count"),
    ]
    assert all(f.check == "small-count scan" for f in found)
    assert checks.is_count_column("headcount") and checks.is_count_column("n") and checks.is_count_column("numerator")
    assert (
        not checks.is_count_column("age") and not checks.is_count_column("year") and not checks.is_count_column("pct")
    )


def test_replace_atomically_swaps_folders(tmp_path):
    final, tmp = tmp_path / "2025-26Q2", tmp_path / ".2025-26Q2.tmp"
    final.mkdir()
    (final / "old.txt").write_text("old")
    tmp.mkdir()
    (tmp / "new.txt").write_text("new")
    outputs.replace_atomically(tmp, final)
    assert [p.name for p in final.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-26Q2"]


def test_table_of_contents_from_rendered_headings():
    body = (
        '<h1 id="KPI-dashboard">KPI dashboard<a class="anchor-link" href="#KPI-dashboard">¶</a></h1>'
        '<h2 id="Timeliness">Timeliness &amp; reviews<a class="anchor-link" href="#Timeliness">¶</a></h2>'
        '<h4 id="x">deep</h4>'
    )
    assert export.table_of_contents(body) == [
        (1, "KPI-dashboard", "KPI dashboard"),
        (2, "Timeliness", "Timeliness & reviews"),
    ]


def test_git_commit_is_none_outside_a_repository(tmp_path):
    assert provenance.git_commit(tmp_path) is None
    sha = provenance.git_commit(REPO)
    assert sha is None or re.fullmatch(r"[0-9a-f]{40}", sha)


def test_changed_inputs_names_added_removed_and_changed_files():
    before = {"data": {"a.csv": "1", "b.csv": "2"}, "reference": {"r.csv": "9"}}
    after = {"data": {"a.csv": "1", "b.csv": "3", "c.csv": "4"}, "reference": {}}
    assert provenance.changed_inputs(before, after) == ["data/b.csv", "data/c.csv", "reference/r.csv"]
    assert provenance.changed_inputs(before, before) == []


def test_the_title_heading_is_shown_once_and_other_headings_stay():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# KPI dashboard\n\nIntro"), nbformat.v4.new_markdown_cell("# Other")]
    assert export.notebook_title(nb, "02_kpi_dashboard") == "KPI dashboard"
    export._drop_title_heading(nb, "KPI dashboard")
    assert nb.cells[0].source == "\nIntro" and nb.cells[1].source == "# Other"
    assert export.notebook_title({"cells": []}, "02_kpi_dashboard") == "Kpi dashboard"


def test_cli_refuses_bad_options_with_exit_2(tmp_path, capsys):
    from sendlib.cli import main

    assert main(["report", "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert main(["report", "--notebooks-dir", str(tmp_path / "nowhere")]) == 2
    assert "notebooks folder not found" in capsys.readouterr().err


def test_notebooks_outside_the_board_pack_are_not_run(tmp_path):
    import nbformat

    for stem in ("01_data_quality", "08_dsg_scenario_explorer"):
        make_notebook(tmp_path, stem)
    path = tmp_path / "08_dsg_scenario_explorer.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata["sendlib"] = {"board_pack": False}
    nbformat.write(nb, str(path))
    assert [p.stem for p in export.discover_notebooks(tmp_path)] == ["01_data_quality"]
    assert not export.in_board_pack(REPO / "notebooks" / "08_dsg_scenario_explorer.ipynb")
    assert export.in_board_pack(REPO / "notebooks" / "06_high_needs_dsg.ipynb")
