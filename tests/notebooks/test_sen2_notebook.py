"""The SEN2 return check notebook runs on the shipped county's exported return and on a broken one."""

from __future__ import annotations

import json

import pytest


def _run(tmp_path, path, **params):
    import papermill as pm

    from sendlib.core.config import PROJECT_ROOT

    out = tmp_path / f"{path.stem}.out.ipynb"
    pm.execute_notebook(
        str(PROJECT_ROOT / "notebooks" / "09_sen2_return_check.ipynb"),
        str(out),
        parameters={"return_path": str(path), **params},
        kernel_name="python3",
        progress_bar=False,
    )
    return json.dumps(json.loads(out.read_text(encoding="utf-8"))["cells"])


@pytest.mark.slow
def test_notebook_checks_the_exported_county_and_a_broken_return(tmp_path):
    from sendlib.core.config import PROJECT_ROOT
    from sendlib.data.loaders import load_tables
    from sendlib.data.sen2.exporter import export_return
    from sendlib.report.export import in_board_pack

    assert not in_board_pack(PROJECT_ROOT / "notebooks" / "09_sen2_return_check.ipynb")
    tables = load_tables(None, ["ehcp_requests", "ehcp_plans", "placements", "annual_reviews"])
    good = tmp_path / "county.xml"
    export_return(tables, 2026, good, la_code="931")
    text = _run(tmp_path, good, year=2026)
    assert "0 error(s), 0 query(ies)" in text and "ehcp_plans" in text

    # a placement naming two providers and a plan ceasing before it starts
    broken = tmp_path / "broken.xml"
    xml = good.read_text(encoding="utf-8")
    xml = xml.replace("<SENSetting>OTH</SENSetting>", "<SENSetting>OTH</SENSetting><URN>100000</URN>", 1)
    broken.write_text(xml, encoding="utf-8")
    text = _run(tmp_path, broken, year=2025)
    assert "SEN2-PL01" in text and "not the 2025 census expected" in text
    assert "SENDLIB" not in text  # the stand-in names never reach the findings
