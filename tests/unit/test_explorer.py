"""The DSG scenario explorer (sendlib.publish.explorer): levers -> a validated scenario -> figures,
and "Save as scenario" reproduced to the pound by ``sendlib scenarios --scenarios F --format csv``."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from sendlib.core.errors import UsageError
from sendlib.models.finance import load_scenarios
from sendlib.publish import explorer as ex_mod
from sendlib.publish.explorer import Explorer

REPO = Path(__file__).resolve().parents[2]
DRAWS = 300


@pytest.fixture(scope="module")
def explorer():
    return Explorer.from_config(draws=DRAWS)


def test_the_template_levers_give_the_template_scenario(explorer):
    fig = explorer.figures(explorer.levers())
    assert fig.compare_to == "unmitigated"
    res = fig.results
    c = res.comparison.set_index(["scenario", "financial_year"])
    cols = ["income_gbp", "expenditure_gbp", "cumulative_balance_gbp"]
    # the same scenario as the template ('mitigated' run by itself gives the same central path)
    from sendlib.models.finance import run_finance

    ref = run_finance(
        explorer.sf,
        explorer._demand_for(explorer.sf, ["unmitigated", "mitigated"]),
        explorer.tables,
        explorer.quarter,
        horizon=explorer.horizon,
        draws=DRAWS,
        scenarios=["unmitigated", "mitigated"],
    ).comparison.set_index(["scenario", "financial_year"])
    assert (c.loc["explored", cols].values == ref.loc["mitigated", cols].values).all()
    assert fig.year5 == res.year5 and fig.override_year == "2027-28"
    assert fig.year5_gbp == int(ref.loc[("mitigated", fig.year5), "cumulative_balance_gbp"])
    assert fig.payback_year == "" or fig.payback_year in explorer.years
    html = explorer.summary_html(fig)
    assert f'data-gbp="{fig.year5_gbp}"' in html and "dsg-year5" in html
    assert explorer.chart_png(fig)[:4] == b"\x89PNG"


def test_a_lever_changes_the_figures(explorer):
    lv = explorer.levers()
    base = explorer.figures(lv)
    dearer = explorer.figures(replace(lv, inmss_price_pct=10.0))
    assert dearer.year5_gbp < base.year5_gbp  # dearer INMSS: a deeper deficit
    more = explorer.figures(replace(lv, hnb_allocation_growth_pct=lv.hnb_allocation_growth_pct + 2))
    assert more.year5_gbp > base.year5_gbp


def test_invalid_levers_are_refused_by_the_scenario_reader(explorer):
    lv = explorer.levers()
    with pytest.raises(UsageError, match="cap"):
        explorer.figures(replace(lv, block_transfer_pct=0.8))
    with pytest.raises(UsageError, match="already"):
        explorer.save(lv, Path("/tmp/never-written.yaml"), name="mitigated")


def test_saved_scenario_is_reproduced_to_the_pound_by_sendlib_scenarios(explorer, tmp_path):
    lv = explorer.levers()
    lv = replace(
        lv,
        inmss_price_pct=7.0,
        unit_cost_inflation_pct=4.0,
        placement_growth_adjustment_pct=1.0,
        block_transfer_pct=0.3,
        local_places=24,
        local_places_year=explorer.years[2],
        mitigations={**lv.mitigations, "banding": (False, "2028-29"), "early_help": (True, explorer.years[2])},
    )
    fig = explorer.figures(lv, "meeting_case")
    path = explorer.save(lv, tmp_path / "sub" / "saved.yaml", name="meeting_case")
    sf = load_scenarios(path)  # the same reader as the command
    assert "meeting_case" in sf.names and sf.scenarios["meeting_case"].compare_to == "unmitigated"
    out = subprocess.run(
        [sys.executable, "-m", "sendlib.cli", "scenarios", "--scenarios", str(path), "--format", "csv"]
        + ["--draws", str(DRAWS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    cli = pd.read_csv(io.StringIO(out.stdout))
    cli = cli[cli["scenario"] == "meeting_case"].reset_index(drop=True)
    mine = fig.comparison.astype({"cumulative_balance_p10_gbp": "int64", "cumulative_balance_p90_gbp": "int64"})
    pd.testing.assert_frame_equal(cli, mine, check_dtype=False)
    assert int(cli["cumulative_balance_gbp"].iloc[-1]) == fig.year5_gbp
    # the new local places resolve the mitigated sufficiency file from the new folder
    again = explorer.save(replace(lv, inmss_price_pct=1.0), path, name="second_case")
    assert set(load_scenarios(again).names) >= {"meeting_case", "second_case", "mitigated"}


def test_switching_off_the_new_resource_bases_drops_their_sufficiency_file(explorer):
    lv = explorer.levers()
    body = explorer.scenario_body(replace(lv, mitigations={**lv.mitigations, "new_resource_bases": (False, "2027-28")}))
    assert body["sufficiency_scenario"] is None
    assert {"name": "new_resource_bases", "enabled": False} in body["mitigations"]
    assert "sufficiency_scenario" not in explorer.scenario_body(lv)


def test_debounce_without_a_running_loop_calls_at_once():
    calls = []
    ex_mod._debounce(lambda: calls.append(1), 0.2)()
    assert calls == [1]


def test_the_controls_update_the_figures_and_save(explorer, tmp_path):
    """Outside a kernel the widgets work without a front end, and updates run at once."""
    import ipywidgets as w

    ui = explorer.ui(save_path=tmp_path / "saved.yaml")

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    widgets = list(walk(ui))
    inmss = next(x for x in widgets if "dsg-inmss-price-pct" in x._dom_classes)
    figures = next(x for x in widgets if "dsg-figures" in x._dom_classes)
    before = figures.value
    inmss.value = 5.0
    expected = explorer.figures(replace(explorer.levers(), inmss_price_pct=5.0)).year5_gbp
    assert figures.value != before and f'data-gbp="{expected}"' in figures.value
    next(x for x in widgets if isinstance(x, w.Button) and x.description == "Save as scenario").click()
    assert load_scenarios(tmp_path / "saved.yaml").scenarios["explored"].mitigations[-1].change_pct == 5.0
