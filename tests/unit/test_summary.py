"""The executive summary on index.html (sendlib.publish.summary), from small hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest

from sendlib.publish import summary as S

SECTIONS = {
    "02_kpi_dashboard": S.Section("Strategic KPI dashboard", "02_kpi_dashboard.html", "ok"),
    "04_ehcp_demand_forecast": S.Section("EHC plan demand forecast", "04_ehcp_demand_forecast.html", "ok"),
    "05_placement_sufficiency": S.Section("Placement sufficiency", "05_placement_sufficiency.html", "ok"),
    "06_high_needs_dsg": S.Section("High needs block and DSG", "06_high_needs_dsg.html", "ok"),
}


def kpis(k1_value=54.0, k1_rag="red", k1_change=-4.5, k6_value="", k6_change=""):
    return pd.DataFrame(
        {
            "kpi": ["K1", "K4", "K6", "K2", "K3"],
            "name": ["20-week timeliness", "Plans in force", "Reviews on time", "Refusals", "Conversion"],
            "value": [k1_value, 8921, k6_value, 16.3, 93.0],
            "unit": ["%", "count", "%", "%", "%"],
            "target": [60, None, 80, 25, None],
            "rag": [k1_rag, None, "amber", "green", None],
            "change": [k1_change, -48, k6_change, 0.3, 1.3],
            "better": ["up", "context", "up", "down", "context"],
        }
    )


def total(median=15064, year=2031):
    years = list(range(year - 4, year + 1))
    return pd.DataFrame(
        {
            "year": years,
            "median": [9575, 10862, 12224, 13604, median],
            "lower_80": [9281, 10164, 11068, 11909, 12704],
            "upper_80": [10231, 12139, 14219, 16345, 18664],
        }
    )


def places(short_from=2028):
    rows = []
    for year in range(2027, 2032):
        for phase, places_n in (("secondary", 686), ("primary", 719)):
            demand = 800 if year >= short_from and phase == "primary" else 600
            rows.append(
                {
                    "scenario": "base",
                    "year": year,
                    "phase": phase,
                    "capacity_places": places_n,
                    "gap_median": demand - places_n,
                }
            )
    rows.append({"scenario": "whatif", "year": 2027, "phase": "secondary", "capacity_places": 1, "gap_median": 99})
    return pd.DataFrame(rows)


def override(deficit=-128_687_618):
    return pd.DataFrame(
        {
            "scenario": ["unmitigated", "mitigated"],
            "financial_year": ["2027-28", "2027-28"],
            "date": ["2028-03-31", "2028-03-31"],
            "cumulative_balance_gbp": [deficit, -124_173_146],
            "cumulative_balance_p10_gbp": [-146_715_440, -140_578_899],
            "cumulative_balance_p90_gbp": [-117_127_353, -114_354_122],
        }
    )


def comparison():
    years = ["2026-27", "2027-28", "2028-29", "2029-30", "2030-31", "2031-32"]
    return pd.DataFrame(
        {
            "scenario": ["unmitigated"] * 6,
            "financial_year": years,
            "cumulative_balance_gbp": [-87e6, -128e6, -195e6, -290e6, -415e6, -571_635_525],
            "cumulative_balance_p10_gbp": [-87e6, -146e6, -244e6, -387e6, -576e6, -821_995_898],
            "cumulative_balance_p90_gbp": [-87e6, -117e6, -163e6, -226e6, -305e6, -397_470_788],
        }
    )


def pack(**replace):
    tables = {
        "02_kpi_dashboard__kpis": kpis(),
        "04_ehcp_demand_forecast__total": total(),
        "05_placement_sufficiency__demand_vs_capacity_by_phase": places(),
        "06_high_needs_dsg__statutory_override_position": override(),
        "06_high_needs_dsg__comparison": comparison(),
    }
    for key, frame in replace.items():
        if frame is None:
            tables.pop(key)
        else:
            tables[key] = frame
    return tables


def items(tables, sections=SECTIONS, **kw):
    return {i.key: i for i in S.build_summary("2026-27Q2", S.pack_facts(tables), sections, **kw).items}


def test_five_items_each_linking_to_its_section():
    got = items(pack())
    assert list(got) == ["kpis", "plans", "places", "override", "year5"]
    assert [i.href for i in got.values()] == [
        "02_kpi_dashboard.html",
        "04_ehcp_demand_forecast.html",
        "05_placement_sufficiency.html",
        "06_high_needs_dsg.html",
        "06_high_needs_dsg.html",
    ]
    assert all(i.available for i in got.values())


def test_kpis_rated_only_with_rag_word_and_movement():
    item = items(pack())["kpis"]
    # K1 red, K6 amber (value withheld), K2 green; K3 and K4 have no target so no RAG
    assert [k.kpi for k in item.details] == ["K1", "K2", "K6"]
    assert "3 headline KPIs with a board target, 1 red, 1 amber and 1 green" in item.text
    k1, k2, k6 = item.details
    assert k1.rag == "red" and k1.value == "54%"
    assert k1.movement == "down 4.5 points on the previous quarter (worse)" and k1.direction == "worse"
    assert k2.movement == "up 0.3 points on the previous quarter (worse)"  # refusals: down is better
    # a withheld value stays withheld, and no movement is made up for it
    assert k6.value == "not published (small numbers)"
    assert k6.movement == "no comparable figure for the previous quarter"
    html = S.render_html(S.build_summary("q", S.pack_facts(pack()), SECTIONS))
    assert '<span class="rag rag-red">Red</span>' in html and '<span class="rag rag-amber">Amber</span>' in html


def test_movement_in_the_right_direction_is_better():
    item = items(pack(**{"02_kpi_dashboard__kpis": kpis(k1_value=62.0, k1_rag="green", k1_change=2.0)}))["kpis"]
    assert item.details[0].movement == "up 2.0 points on the previous quarter (better)"
    assert "1 moved the right way and 1 the wrong way" in item.text


def test_projected_plans_with_interval_and_plans_now():
    text = items(pack())["plans"].text
    assert text.startswith("15,064 children and young people are projected to have an EHC plan in January 2031")
    assert "(80% interval 12,704 to 18,664)" in text and "5-year forecast" in text
    assert "against 8,921 in force" in text


def test_suppressed_projection_is_shown_as_published():
    frame = total()
    frame["lower_80"] = frame["lower_80"].astype(object)
    frame.loc[4, "lower_80"] = "<5"
    assert "(80% interval <5 to 18,664)" in items(pack(**{"04_ehcp_demand_forecast__total": frame}))["plans"].text


def test_first_shortfall_year_of_the_first_scenario():
    text = items(pack())["places"].text
    # the what-if scenario's 2027 gap is not the base scenario's
    assert "first run out in January 2028" in text and "for primary" in text and "secondary" not in text
    assert "By January 2031 the shortfall is 81 places in total" in text
    none = items(pack(**{"05_placement_sufficiency__demand_vs_capacity_by_phase": places(short_from=2099)}))
    assert none["places"].text.startswith("No specialist phase runs out of local places by January 2031")


def test_small_total_shortfall_is_not_stated():
    frame = places(short_from=2031)
    frame.loc[(frame["year"] == 2031) & (frame["phase"] == "primary"), "gap_median"] = 3  # 81 -> 3
    assert (
        "shortfall is fewer than 5 places"
        in items(pack(**{"05_placement_sufficiency__demand_vs_capacity_by_phase": frame}))["places"].text
    )


def test_dsg_positions_at_override_end_and_year_five():
    got = items(pack())
    over = got["override"].text
    assert over.startswith("When the statutory override ends on 31 March 2028 (end of 2027-28)")
    assert "a deficit of £128.7m unmitigated (80% range: a deficit of £117.1m to £146.7m)" in over
    assert "a deficit of £124.2m mitigated" in over
    year5 = got["year5"].text
    assert year5.startswith("In 2031-32, year 5 of the scenarios")
    assert "a deficit of £571.6m unmitigated (80% range: a deficit of £397.5m to £822.0m)" in year5


@pytest.mark.parametrize("key", ["02_kpi_dashboard__kpis", "06_high_needs_dsg__comparison"])
def test_a_missing_table_gives_a_line_not_a_crash(key):
    got = items(pack(**{key: None}))
    item = got["kpis" if key.startswith("02") else "year5"]
    assert not item.available and f"the table {key}.csv was not published in this pack" in item.text
    assert sum(i.available for i in got.values()) == 4


def test_a_table_without_its_columns_or_rows_gives_a_line():
    got = items(pack(**{"04_ehcp_demand_forecast__total": total().drop(columns=["median"])}))
    assert got["plans"].text == "No figure: the table 04_ehcp_demand_forecast__total.csv has no column median."
    got = items(pack(**{"04_ehcp_demand_forecast__total": total().iloc[0:0]}))
    assert "has no rows" in got["plans"].text


def test_a_failed_or_absent_section_says_so():
    sections = dict(SECTIONS)
    sections["06_high_needs_dsg"] = S.Section("High needs block and DSG", "06_high_needs_dsg.html", "failed")
    del sections["04_ehcp_demand_forecast"]
    got = items(pack(), sections)
    assert "failed in this run" in got["override"].text and not got["override"].available
    assert "not run in this pack" in got["plans"].text and got["plans"].href is None
    html = S.render_html(S.build_summary("q", S.pack_facts(pack()), sections))
    assert html.count('href="06_high_needs_dsg.html"') == 2


def test_changes_since_the_previous_pack():
    before = S.pack_facts(
        pack(
            **{
                "02_kpi_dashboard__kpis": kpis(k1_rag="amber"),
                "04_ehcp_demand_forecast__total": total(median=14000, year=2030),
                "05_placement_sufficiency__demand_vs_capacity_by_phase": places(short_from=2029),
                "06_high_needs_dsg__statutory_override_position": override(deficit=-120_000_000),
                "06_high_needs_dsg__comparison": None,
                "07_benchmarking__latest": pd.DataFrame({"a": [1]}),
            }
        )
    )
    now = S.pack_facts(pack())
    result = S.build_summary("2026-27Q2", now, SECTIONS, previous=before, previous_quarter="2026-27 Q1")
    changes = "\n".join(result.changes or ())
    assert "RAG ratings changed: 20-week timeliness (excluding exceptions) is now red (was amber)." in changes
    assert "15,064 in January 2031, up 1,064 on the previous pack's 14,000 (January 2030)" in changes
    assert "runs out of places: now January 2028, was January 2029" in changes
    assert "unmitigated: a deficit of £128.7m, £8.7m worse than in the previous pack (a deficit of £120.0m)." in changes
    assert "mitigated: unchanged at a deficit of £124.2m" in changes
    assert "DSG balance in the final year: not in the previous pack, so not compared." in changes
    assert "Tables new in this pack: 06_high_needs_dsg__comparison.csv" in changes
    assert "Tables no longer published: 07_benchmarking__latest.csv" in changes
    html = S.render_html(result)
    assert "What changed since the 2026-27 Q1 pack" in html
    assert S.build_summary("q", now, SECTIONS).changes is None
    assert "What changed" not in S.render_html(S.build_summary("q", now, SECTIONS))


def test_html_is_escaped():
    sections = dict(SECTIONS)
    sections["02_kpi_dashboard"] = S.Section("<script>x</script>", "02_kpi_dashboard.html", "ok")
    html = S.render_html(S.build_summary("q", S.pack_facts(pack()), sections))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_read_tables_skips_what_it_cannot_read(tmp_path):
    pack()["02_kpi_dashboard__kpis"].to_csv(tmp_path / "02_kpi_dashboard__kpis.csv", index=False)
    (tmp_path / "broken.csv").write_bytes(b"\xff\xfe\x00bad")
    tables = S.read_tables(tmp_path)
    assert "02_kpi_dashboard__kpis" in tables and "broken" not in tables
    assert S.pack_facts(tables).kpis is not None
