"""The report run's private cache (sendlib.report.runcache) and the shared projection that uses it."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest

from sendlib.report import runcache


def test_without_a_run_cache_everything_is_computed_or_loaded_as_usual():
    calls = []
    assert runcache.cached(None, "x", {"a": 1}, lambda: calls.append(1) or 42) == 42
    assert runcache.cached("", "x", {"a": 1}, lambda: calls.append(1) or 42) == 42
    assert len(calls) == 2
    assert runcache.load_tables(None) is None
    assert runcache.load_validation("") is None


def test_cached_computes_once_per_key_and_again_for_another_key(tmp_path):
    calls = []

    def compute(v):
        return lambda: calls.append(v) or {"value": v}

    assert runcache.cached(tmp_path, "proj", {"sims": 10}, compute(1)) == {"value": 1}
    assert runcache.cached(tmp_path, "proj", {"sims": 10}, compute(2)) == {"value": 1}  # stored copy
    assert runcache.cached(tmp_path, "proj", {"sims": 20}, compute(3)) == {"value": 3}
    assert calls == [1, 3]


def test_a_second_caller_waits_for_the_first_instead_of_computing_again(tmp_path):
    calls, results = [], []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return np.arange(5)

    threads = [
        threading.Thread(target=lambda: results.append(runcache.cached(tmp_path, "p", {"k": 1}, slow)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all((r == np.arange(5)).all() for r in results)


def test_tables_round_trip_as_fresh_copies_and_subsets(tmp_path):
    tables = {"a": pd.DataFrame({"x": [1, 2]}), "b": pd.DataFrame({"d": pd.to_datetime(["2025-01-02"])})}
    runcache.save_tables(tmp_path, tables)
    back = runcache.load_tables(tmp_path)
    pd.testing.assert_frame_equal(back["b"], tables["b"])
    back["a"].loc[0, "x"] = 99  # a notebook changing its copy changes nobody else's
    assert runcache.load_tables(tmp_path)["a"].loc[0, "x"] == 1
    assert list(runcache.load_tables(tmp_path, ["b"])) == ["b"]
    assert runcache.load_tables(tmp_path, []) == {}
    assert runcache.load_tables(tmp_path, ["missing"]) is None  # caller loads from files instead


def test_notebook_setup_takes_the_report_tables_and_validation_from_the_run_cache(tmp_path):
    from sendlib.core.config import load_config
    from sendlib.notebook import setup

    cfg = load_config()
    plans = pd.DataFrame({"marker": ["from the run cache"]})
    runcache.save_tables(tmp_path, {"pap_actions": plans})
    runcache.save_validation(tmp_path, {"stored": True})
    ctx = setup(quarter="2025-26Q4", validated=True, tables=["pap_actions"], run_cache=str(tmp_path))
    assert ctx.tables["pap_actions"]["marker"].tolist() == ["from the run cache"]
    assert ctx.validation_report() == {"stored": True}
    assert ctx.run_cache == tmp_path
    assert cfg.path == ctx.config.path


@pytest.fixture(scope="module")
def county():
    from sendlib.core.config import load_config
    from sendlib.data.loaders import load_tables

    cfg = load_config()
    return cfg, load_tables(cfg, ["ehcp_plans", "placements", "population", "capacity"])


def test_every_section_gets_the_same_projection_through_the_years_it_asks_for(county, tmp_path):
    from sendlib.core.quarters import Quarter
    from sendlib.models import chain
    from sendlib.models.finance.demand import census_years_needed
    from sendlib.models.forecast.scenario import load_scenario
    from sendlib.notebook import NotebookContext

    cfg, tables = county
    q = "2026-27Q2"
    ctx = NotebookContext(config=cfg, quarter=Quarter.parse(q), tables=tables, run_cache=tmp_path)
    forecast = ctx.projection(years=3, sims=40)
    assert forecast.years == [2027, 2028, 2029] and forecast.n_sims == 40
    full = ctx.projection(sims=40)
    assert full.years[-1] == chain.run_through_year(q, cfg.report.horizon_years) == census_years_needed(q, 5)[-1]
    np.testing.assert_array_equal(full.draws[:, :3, :], forecast.draws)
    assert len(list(tmp_path.glob("projection-*.zip"))) == 1  # computed once for both
    # without a run cache the model computes the same numbers directly
    scenario = load_scenario(cfg.scenario_file("", "forecast"))
    direct = chain.quarter_projection(tables, q, scenario, horizon_years=cfg.report.horizon_years, years=3, sims=40)
    np.testing.assert_array_equal(direct.draws, forecast.draws)
    # finance prices the same projection, with overflow to INMSS moved but the total unchanged
    priced = ctx.projection(through_year=census_years_needed(q, 5)[-1], sims=40, overflow=True)
    assert priced.years == full.years
    np.testing.assert_allclose(priced.draws.sum(axis=2), full.draws.sum(axis=2), rtol=1e-5)
    assert len(list(tmp_path.glob("overflow-*.zip"))) == 1


def test_results_kept_by_one_run_are_taken_by_the_next_unless_fresh(tmp_path):
    store = tmp_path / "store"
    calls = []

    def run(reuse: bool, inputs: str) -> int:
        cache = runcache.new_run_cache()
        runcache.set_store(cache, store, reuse=reuse)
        return runcache.cached(
            cache, "proj", {"sims": 10}, lambda: calls.append(inputs) or len(calls), reusable=lambda: {"tables": inputs}
        )

    assert run(True, "v1") == 1
    assert run(True, "v1") == 1 and calls == ["v1"]  # taken from the store
    assert run(False, "v1") == 2  # --fresh: computed again, and kept
    assert run(True, "v1") == 2
    assert run(True, "v2") == 3  # other inputs: computed
    assert calls == ["v1", "v1", "v2"]


def test_a_result_taken_from_the_store_is_found_by_later_callers_without_the_key_again(tmp_path):
    store = tmp_path / "store"
    first = runcache.new_run_cache()
    runcache.set_store(first, store)
    assert (
        runcache.cached(first, "proj", {"sims": 10}, lambda: "computed", reusable=lambda: {"tables": "v1"})
        == "computed"
    )
    second = runcache.new_run_cache()
    runcache.set_store(second, store)
    asked = []

    def inputs() -> dict:
        asked.append(1)
        return {"tables": "v1"}

    def never() -> str:
        raise AssertionError("should have been taken from the store")

    for _ in range(3):  # three notebooks of the second run
        assert runcache.cached(second, "proj", {"sims": 10}, never, reusable=inputs) == "computed"
    assert asked == [1]  # the table fingerprint (costly) is worked out once per run
