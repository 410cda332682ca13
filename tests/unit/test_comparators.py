"""England comparators: the shipped file is what the builder makes from the shipped DfE extract."""

from __future__ import annotations

import pandas as pd

from sendlib.core.config import load_config
from sendlib.data import comparators
from sendlib.models import benchmark


def test_shipped_comparators_are_rebuilt_from_the_shipped_extract(tmp_path):
    cfg = load_config()
    shipped = cfg.reference_dir / "national_comparators.csv"
    out = tmp_path / "national_comparators.csv"
    comparators.write(comparators.rebuild(cfg.reference_dir / "dfe", shipped), out)
    assert out.read_text() == shipped.read_text(), "rebuild data/reference/national_comparators.csv (docs/kpis.md)"


def test_sen2_rows_hold_the_published_england_figures():
    cfg = load_config()
    c = comparators.sen2_comparators(cfg.reference_dir / "dfe").set_index(["kpi", "year"])["value"]
    assert c[("K1", 2022)] == 49.2 and c[("K1", 2024)] == 46.4
    assert c[("K2", 2024)] == 27.8  # 38,889 / (101,045 + 38,889)
    assert c[("K2_decided_within_6_weeks_pct", 2024)] == 84.8
    assert c[("K5_inmss_pct", 2025)] == 5.3


def test_every_comparator_row_names_its_source():
    cfg = load_config()
    c = pd.read_csv(cfg.reference_dir / "national_comparators.csv", dtype=str, keep_default_na=False)
    assert (c["source"].str.len() > 20).all() and (c["definition"] != "").all()


def test_benchmark_shows_both_refusal_measures_under_their_own_names_and_the_6_week_measure():
    b = benchmark.benchmark("931")
    v = b.set_index(["indicator", "year"])
    assert round(v.loc[("requests_not_assessed_pct", 2024), "la_value"], 1) == 15.1  # DfE request_not_assess_pc
    assert v.loc[("decided_within_6_weeks_pct", 2024), "la_value"] == 95.5
    assert v.loc[("decided_within_6_weeks_pct", 2024), "england_value"] == 84.8
    assert round(v.loc[("refused_of_decisions_pct", 2024), "england_value"], 1) == 27.8  # K2 basis
    labels = {i.name: i.label for i in benchmark.INDICATORS}
    assert len(set(labels.values())) == len(labels)
    assert not any(lbl.lower().startswith("refusal rate") for lbl in labels.values())
