"""A tiny report project for the runner's tests: config, data folder, small notebooks.

Two people (P000123 born 2014-03, P000456 born 2016-11) in ``ehcp_plans``; notebooks take the
common parameters and can fail, leak an identifier, publish a table, plot or write a workbook.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd

from sendlib.core.config import load_config

PEOPLE = pd.DataFrame({"person_id": ["P000123", "P000456"], "birth_month": ["2014-03", "2016-11"]})


TABLES = {"ehcp_plans": PEOPLE}


CODE_MARKER = "CODE_MARKER_7f3a"  # appears only in code cells: must never reach the HTML


def _params_source(fail: bool = False, leak: str = "") -> str:
    return (
        'quarter = "latest"\nconfig_path = ""\ndata_dir = ""\ntables_dir = ""\nvalidated = False\n'
        f"fail = {fail!r}\nleak = {leak!r}\n"
    )


def make_notebook(
    folder: Path,
    stem: str,
    *,
    fail: bool = False,
    leak: str = "",
    publish: bool = False,
    plot: bool = False,
    workbook: bool = False,
) -> Path:
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
        cells.append(
            nbformat.v4.new_code_cell(
                'frame = pd.DataFrame({"locality": ["north", "south"], "plans_count": [12, "<5"], "age": [3, 4]})\n'
                f'if tables_dir:\n    frame.to_csv(Path(tables_dir) / "{stem}__counts.csv", index=False, lineterminator="\\n")\n'
                "frame"
            )
        )
    if plot:
        cells.append(
            nbformat.v4.new_code_cell(
                "%matplotlib inline\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 3))\n"
                'ax.bar(["a", "b"], [3, 5])\nax.set_title("Plans rose in the quarter")\nplt.show()'
            )
        )
    if workbook:
        cells.append(
            nbformat.v4.new_code_cell(
                'if tables_dir:\n    (Path(tables_dir).parent / "dsg_scenarios.xlsx").write_bytes(b"PK-not-really-excel")'
            )
        )
    cells.append(
        nbformat.v4.new_code_cell(
            'if leak:\n    print("row for", leak)\nif fail:\n    raise RuntimeError("told to fail by its parameter")'
        )
    )
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    return path


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
