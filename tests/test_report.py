"""The quarterly report run (sendlib.report): small notebooks written here, then the real pack.

The fast tests build a tiny project in a temporary folder: a config, a data folder holding a
``metadata.yaml`` (extract date 2025-10-15, so ``latest`` is 2025-26Q2) and one CSV, and three
notebooks that each take the five common parameters. The canonical tables are passed in directly
(two people: P000123 born 2014-03, P000456 born 2016-11) and the quality gate is replaced by a
stub, so these tests exercise the runner, not the models.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from sendlib.core.config import load_config
from sendlib.core.errors import EXIT_REPORT, ReportFailed, ValidationFailed
from sendlib import report as rp

REPO = Path(__file__).resolve().parent.parent

PEOPLE = pd.DataFrame({"person_id": ["P000123", "P000456"], "birth_month": ["2014-03", "2016-11"]})
TABLES = {"ehcp_plans": PEOPLE}

CODE_MARKER = "CODE_MARKER_7f3a"  # appears only in code cells: must never reach the HTML


def _params_source(fail: bool = False, leak: str = "") -> str:
    return (
        'quarter = "latest"\nconfig_path = ""\ndata_dir = ""\ntables_dir = ""\nvalidated = False\n'
        f"fail = {fail!r}\nleak = {leak!r}\n"
    )


def make_notebook(folder: Path, stem: str, *, fail: bool = False, leak: str = "", publish: bool = False,
                  plot: bool = False, workbook: bool = False) -> Path:
    """A small report notebook: a heading, a parameters cell, noise on stderr, optional extras."""
    nb = nbformat.v4.new_notebook()
    title = stem.split("_", 1)[1].replace("_", " ").title()
    cells = [
        nbformat.v4.new_markdown_cell(f"# {title} section\n\nIntroduction for the board."),
        nbformat.v4.new_code_cell(_params_source(fail, leak), metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            f"import sys, warnings\nfrom pathlib import Path\nimport pandas as pd\n{CODE_MARKER} = 1\n"
            'warnings.warn("STRAY_WARNING_TEXT")\nprint("STDERR_NOISE", file=sys.stderr)\n'
            'print(f"Reporting quarter {quarter}")'
        ),
        nbformat.v4.new_markdown_cell("## Findings\n\n### Detail"),
        nbformat.v4.new_code_cell('pd.DataFrame({"group": ["a", "b"], "value": [1.5, 2.5]})'),
    ]
    if publish:
        cells.append(nbformat.v4.new_code_cell(
            'frame = pd.DataFrame({"locality": ["north", "south"], "plans_count": [12, "<5"], "age": [3, 4]})\n'
            f'if tables_dir:\n    frame.to_csv(Path(tables_dir) / "{stem}__counts.csv", index=False, lineterminator="\\n")\n'
            "frame"
        ))
    if plot:
        cells.append(nbformat.v4.new_code_cell(
            "%matplotlib inline\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 3))\n"
            'ax.bar(["a", "b"], [3, 5])\nax.set_title("Plans rose in the quarter")\nplt.show()'
        ))
    if workbook:
        cells.append(nbformat.v4.new_code_cell(
            'if tables_dir:\n    (Path(tables_dir).parent / "dsg_scenarios.xlsx").write_bytes(b"PK-not-really-excel")'
        ))
    cells.append(nbformat.v4.new_code_cell(
        'if leak:\n    print("row for", leak)\nif fail:\n    raise RuntimeError("told to fail by its parameter")'
    ))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def project(tmp_path: Path):
    """A tiny project: config, data folder, reference folder, three notebooks."""
    return build_project(tmp_path)


def build_project(tmp_path: Path):
    """Write the tiny project into ``tmp_path`` and return its config."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "metadata.yaml").write_text("extract_date: 2025-10-15\n", encoding="utf-8")
    PEOPLE.to_csv(data / "ehcp_plans.csv", index=False)
    ref = tmp_path / "reference"
    ref.mkdir()
    (ref / "sen2.csv").write_text("year,plans\n2025,100\n", encoding="utf-8")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    make_notebook(nbs, "01_alpha", publish=True, plot=True)
    make_notebook(nbs, "02_beta", workbook=True)
    make_notebook(nbs, "03_gamma")
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(
        "authority: {name: Test County, dfe_code: '999'}\n"
        "paths: {data_dir: data, reference_dir: reference, output_dir: outputs, notebooks_dir: notebooks,"
        " scenarios_dir: scenarios, expectations_dir: expectations}\n",
        encoding="utf-8",
    )
    return load_config(cfg_file)


def _passes(config, tables):
    return {"success": True, "n_checks": 3}


def run(config, **kw):
    kw.setdefault("tables", TABLES)
    kw.setdefault("validator", _passes)
    kw.setdefault("jobs", 2)
    kw.setdefault("quiet", True)
    return rp.run_report(config, "latest", **kw)


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ----- the whole run, small notebooks ------------------------------------------------------------


@pytest.mark.slow
def test_report_writes_a_complete_pack_and_reruns_identically(project):
    result = run(project)
    out = project.output_dir / "2025-26Q2"
    assert result.status == "ok" and result.output_dir == out and result.exit_code == 0

    # one HTML per notebook, no code, no prompts, no stderr or warnings, a TOC, the stylesheet
    for stem in ("01_alpha", "02_beta", "03_gamma"):
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert CODE_MARKER not in page
        # nbconvert marks a code input as jp-InputArea-editor / jp-CodeMirrorEditor with a highlight
        # div (markdown cells also sit in a jp-InputArea, so that class alone is not code)
        for marker in ("jp-InputArea-editor", "jp-CodeMirrorEditor", "hl-ipython3", "jp-InputPrompt",
                       "jp-OutputPrompt", "jp-CodeCell jp-mod-noOutputs"):
            assert marker not in page, marker
        assert "STRAY_WARNING_TEXT" not in page and "STDERR_NOISE" not in page
        assert "Reporting quarter 2025-26Q2" in page  # stdout is kept; the quarter was injected
        assert 'href="assets/report.css"' in page
        assert '<nav class="toc"' in page and 'href="#Findings"' in page
        assert "<script src=" not in page  # no CDN: opens offline
    assert (out / "assets" / "report.css").is_file()
    assert "data:image/png;base64," in (out / "01_alpha.html").read_text(encoding="utf-8")

    index = (out / "index.html").read_text(encoding="utf-8")
    for stem, title in (("01_alpha", "Alpha section"), ("02_beta", "Beta section"), ("03_gamma", "Gamma section")):
        assert f'href="{stem}.html"' in index and title in index
    assert index.count("badge-ok") == 3 and "2025-26Q2" in index

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["quarter"] == "2025-26Q2" and manifest["status"] == "ok"
    assert manifest["parameters"] == {"quarter": "2025-26Q2", "config_path": str(project.path),
                                      "data_dir": str(project.data_dir), "tables_dir": "tables",
                                      "validated": True}
    data_files = {p.name for p in project.data_dir.iterdir()}
    assert set(manifest["inputs"]["sha256"]["data"]) == data_files == {"metadata.yaml", "ehcp_plans.csv"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in manifest["inputs"]["sha256"]["data"].values())
    assert set(manifest["inputs"]["sha256"]["reference"]) == {"sen2.csv"}
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["config"]["sha256"])
    assert manifest["packages"]["papermill"] and manifest["packages"]["pandas"]
    assert manifest["validation"]["success"] is True
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "ok", "ok"]
    assert {"validate", "notebooks", "total"} <= set(manifest["timings_seconds"])
    assert manifest["checks"]["identifier_scan"]["ids_checked"] == 2
    assert "git_commit" in manifest and "sendlib_version" in manifest

    assert (out / "tables" / "01_alpha__counts.csv").is_file()
    assert (out / "dsg_scenarios.xlsx").is_file()  # the finance workbook contract
    assert "dsg_scenarios.xlsx" in index
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == ["01_alpha.ipynb", "02_beta.ipynb",
                                                                     "03_gamma.ipynb"]
    assert (out / "run.log").read_text(encoding="utf-8").count(": ok in ") == 3
    # nothing left behind: no lock, no temporary folder, nothing written to data
    assert sorted(p.name for p in project.output_dir.iterdir()) == ["2025-26Q2"]
    assert {p.name for p in project.data_dir.iterdir()} == data_files

    # a second run with the same inputs: byte-identical tables, the pack replaced in place
    first_tables = _tree_bytes(out / "tables")
    first_manifest = (out / "manifest.json").read_bytes()
    run(project)
    assert _tree_bytes(out / "tables") == first_tables
    assert (out / "manifest.json").read_bytes() != first_manifest  # new run, new timings
    assert sorted(p.name for p in project.output_dir.iterdir()) == ["2025-26Q2"]


@pytest.mark.slow
def test_a_failing_notebook_fails_the_run_but_not_the_others_or_the_previous_pack(project, tmp_path):
    run(project)
    good = project.output_dir / "2025-26Q2"
    before = _tree_bytes(good)

    make_notebook(project.notebooks_dir, "02_beta", fail=True)
    with pytest.raises(ReportFailed) as info:
        run(project)
    assert info.value.exit_code == EXIT_REPORT
    message = str(info.value)
    assert "02_beta" in message and "RuntimeError: told to fail by its parameter" in message
    assert _tree_bytes(good) == before  # previous good output untouched

    failed = [p for p in project.output_dir.iterdir() if p.name.startswith("failed-2025-26Q2-")]
    assert len(failed) == 1 and failed[0].name in message
    folder = failed[0]
    for stem in ("01_alpha", "02_beta", "03_gamma"):
        assert (folder / f"{stem}.html").is_file()  # the others ran; the failed one shows where it stopped
    assert "did not complete" in (folder / "02_beta.html").read_text(encoding="utf-8")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index.count("badge-ok") == 2 and index.count("badge-failed") == 1
    assert "RuntimeError: told to fail by its parameter" in index
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "failed", "ok"]
    assert not list(project.output_dir.glob(".*"))  # no lock or temporary folder left


@pytest.mark.slow
def test_a_person_id_in_any_output_fails_the_run_without_printing_it(project):
    make_notebook(project.notebooks_dir, "03_gamma", leak="P000123")
    with pytest.raises(ReportFailed) as info:
        run(project)
    message = str(info.value)
    assert "identifier scan" in message and "P000123" not in message
    assert not (project.output_dir / "2025-26Q2").exists()
    folder = next(project.output_dir.glob("failed-2025-26Q2-*"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = {f["file"] for f in manifest["checks"]["findings"] if f["check"] == "identifier scan"}
    assert "notebooks/03_gamma.ipynb" in files and "03_gamma.html" in files
    assert "P000123" not in json.dumps(manifest)


@pytest.mark.slow
def test_only_runs_the_named_notebooks(project):
    result = run(project, only=["beta", "01_alpha"], jobs=1)
    assert [n.stem for n in result.notebooks] == ["01_alpha", "02_beta"]
    assert not (result.output_dir / "03_gamma.html").exists()


def test_validation_failure_writes_nothing(project):
    def gate(config, tables):
        raise ValidationFailed("ehcp_plans: 3 rows fail 'plan_start_date is a date'")

    with pytest.raises(ValidationFailed):
        run(project, validator=gate)
    assert not project.output_dir.exists()


def test_lock_refuses_a_second_run_and_replaces_a_stale_lock(project, tmp_path):
    out = tmp_path / "outputs"
    with rp.quarter_lock(out, "2025-26Q2") as lock:
        assert lock.is_file() and json.loads(lock.read_text())["pid"] == os.getpid()
        with pytest.raises(ReportFailed, match="another report run"):
            with rp.quarter_lock(out, "2025-26Q2"):
                pass
        with pytest.raises(ReportFailed, match="another report run"):
            run(project)  # the whole run stops at the lock, before writing anything
        assert sorted(p.name for p in out.iterdir()) == [".2025-26Q2.lock"]
    assert not lock.exists()

    # a lock left by a process that has gone is stale
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    lock.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    with rp.quarter_lock(out, "2025-26Q2"):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


# ----- the pieces ------------------------------------------------------------------------------


def test_discover_notebooks_sorts_and_selects(tmp_path):
    for stem in ("02_kpi_dashboard", "01_data_quality", "10_extra"):
        make_notebook(tmp_path, stem)
    (tmp_path / ".hidden.ipynb").write_text("{}")
    assert [p.stem for p in rp.discover_notebooks(tmp_path)] == ["01_data_quality", "02_kpi_dashboard", "10_extra"]
    assert [p.stem for p in rp.discover_notebooks(tmp_path, ["kpi_dashboard", "01_data_quality"])] == [
        "01_data_quality", "02_kpi_dashboard"]
    with pytest.raises(Exception, match="no such notebook"):
        rp.discover_notebooks(tmp_path, ["finance"])
    with pytest.raises(Exception, match="no notebooks"):
        rp.discover_notebooks(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path)


def test_identifier_scan_finds_ids_not_similar_numbers_or_images():
    ids = rp.collect_identifiers({"ehcp_plans": PEOPLE})
    assert ids.ids == {"P000123", "P000456"} and ids.birth_months == {"2014-03", "2016-11"}
    scan = rp.scan_text_for_identifiers
    assert scan("group,count\nnorth,P000123\n", ids)[0] == 1
    assert scan("P0001234 XP000123 P000123x", ids) == (0, 0, False)  # whole tokens only
    assert scan('<img src="data:image/png;base64,AAAA/P000123/BBBB">', ids)[0] == 0
    # a notebook's JSON: base64 pixels are skipped, text outputs beside them are not
    assert scan('{"image/png": "AAAA/P000123\\nBB==", "text/plain": "x"}', ids)[0] == 0
    assert scan('{"image/png": "AAAA==", "text/plain": "P000456"}', ids)[0] == 1
    assert scan("month,plans\n2014-03,12\n", ids) == (0, 0, False)  # a month alone is a monthly trend
    assert scan("P000456 born 2016-11", ids) == (1, 1, False)
    assert scan("birth_month", ids)[2] is True
    assert rp.redact("KeyError: 'P000123'", ids) == "KeyError: '[identifier]'"


def test_identifier_scan_skips_short_or_numeric_ids():
    ids = rp.collect_identifiers({"ehcp_plans": pd.DataFrame({"person_id": ["12", "P1", "AB12345"],
                                                              "birth_month": ["2014-03"] * 3})})
    assert ids.ids == {"AB12345"} and ids.skipped == 2


def test_small_count_scan_checks_count_columns_only(tmp_path):
    (tmp_path / "a.csv").write_text(
        "locality,plans_count,age,year,n,denominator,pct\n"
        "north,<5,3,2024,12,40,2.0\nsouth,3,4,2025,3.0,2,1\ncity,0,2,2023,<5,100,3\n",
        encoding="utf-8",
    )
    (tmp_path / "b.csv").write_text("need,age_years\nASD,4\n", encoding="utf-8")
    found = rp.scan_small_counts(tmp_path, threshold=5)
    assert [(f.file, f.detail.split("'")[1]) for f in found] == [
        ("tables/a.csv", "denominator"), ("tables/a.csv", "n"), ("tables/a.csv", "plans_count")]
    assert all(f.check == "small-count scan" for f in found)
    assert rp.is_count_column("headcount") and rp.is_count_column("n") and rp.is_count_column("numerator")
    assert not rp.is_count_column("age") and not rp.is_count_column("year") and not rp.is_count_column("pct")


def test_replace_atomically_swaps_folders(tmp_path):
    final, tmp = tmp_path / "2025-26Q2", tmp_path / ".2025-26Q2.tmp"
    final.mkdir(); (final / "old.txt").write_text("old")
    tmp.mkdir(); (tmp / "new.txt").write_text("new")
    rp.replace_atomically(tmp, final)
    assert [p.name for p in final.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-26Q2"]


def test_table_of_contents_from_rendered_headings():
    body = ('<h1 id="KPI-dashboard">KPI dashboard<a class="anchor-link" href="#KPI-dashboard">¶</a></h1>'
            '<h2 id="Timeliness">Timeliness &amp; reviews<a class="anchor-link" href="#Timeliness">¶</a></h2>'
            '<h4 id="x">deep</h4>')
    assert rp.table_of_contents(body) == [(1, "KPI-dashboard", "KPI dashboard"), (2, "Timeliness", "Timeliness & reviews")]


def test_git_commit_is_none_outside_a_repository(tmp_path):
    assert rp.git_commit(tmp_path) is None
    sha = rp.git_commit(REPO)
    assert sha is None or re.fullmatch(r"[0-9a-f]{40}", sha)


# ----- end to end on the shipped synthetic county -------------------------------------------------


def _real_pack_available() -> str | None:
    if not list((REPO / "notebooks").glob("*.ipynb")):
        return "notebooks/ has no notebooks yet"
    if not (REPO / "data" / "raw" / "ehcp_plans.csv").is_file():
        return "data/raw has not been generated"
    try:
        import sendlib.quality  # noqa: F401
    except ImportError:
        return "sendlib.quality is not available yet"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_real_pack_available() is not None, reason=str(_real_pack_available()))
def test_end_to_end_on_the_shipped_data(tmp_path):
    from sendlib.cli import main

    code = main(["report", "--quarter", "latest", "--output-dir", str(tmp_path), "--quiet"])
    packs = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert code == 0, f"report failed: {[p.name for p in packs]}; see run.log in the failed- folder"
    (out,) = packs
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    notebooks = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
    assert [n["stem"] for n in manifest["notebooks"]] == notebooks
    for stem in notebooks:
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert "jp-InputArea-editor" not in page and "Traceback" not in page
    assert list((out / "tables").glob("*.csv")), "the notebooks published no tables"
    data_files = {p.relative_to(REPO / "data" / "raw").as_posix() for p in (REPO / "data" / "raw").rglob("*")
                  if p.is_file() and not p.name.startswith(".")}
    assert set(manifest["inputs"]["sha256"]["data"]) == data_files


def test_changed_inputs_names_added_removed_and_changed_files():
    before = {"data": {"a.csv": "1", "b.csv": "2"}, "reference": {"r.csv": "9"}}
    after = {"data": {"a.csv": "1", "b.csv": "3", "c.csv": "4"}, "reference": {}}
    assert rp.changed_inputs(before, after) == ["data/b.csv", "data/c.csv", "reference/r.csv"]
    assert rp.changed_inputs(before, before) == []


def test_the_title_heading_is_shown_once_and_other_headings_stay():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# KPI dashboard\n\nIntro"), nbformat.v4.new_markdown_cell("# Other")]
    assert rp.notebook_title(nb, "02_kpi_dashboard") == "KPI dashboard"
    rp._drop_title_heading(nb, "KPI dashboard")
    assert nb.cells[0].source == "\nIntro" and nb.cells[1].source == "# Other"
    assert rp.notebook_title({"cells": []}, "02_kpi_dashboard") == "Kpi dashboard"


def test_cli_refuses_bad_options_with_exit_2(tmp_path, capsys):
    from sendlib.cli import main

    assert main(["report", "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert main(["report", "--notebooks-dir", str(tmp_path / "nowhere")]) == 2
    assert "notebooks folder not found" in capsys.readouterr().err
