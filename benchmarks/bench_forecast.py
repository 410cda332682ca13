"""Benchmark the demand forecast (prints medians of several runs; not a timed test).

* person-level: 1,000 simulations x 10 years on the synthetic county (``data/raw`` when it has
  the tables, else a county generated with ``tests/test_forecast_person.make_county`` at a
  realistic size); target under 10 s.
* aggregate: the full rolling-origin backtest on all 153 authorities' published series; target
  under 30 s. Also times the damped ETS fitted with statsmodels for one origin, for comparison.

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


#: CPU seconds of this process (wall time is printed too: on a shared machine it can be far longer)
CPU: list[float] = []


def _timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall seconds over ``repeat`` runs (median CPU seconds appended to :data:`CPU`)."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU.append(statistics.median(cpu))
    return statistics.median(times), out


def _county():
    raw = ROOT / "data" / "raw"
    if all((raw / f"{t}.csv").is_file() for t in ("ehcp_plans", "placements", "population")):
        from sendlib.core.config import load_config
        from sendlib.data.loaders import load_tables

        cfg = load_config().with_data_dir(raw)
        return load_tables(cfg, ["ehcp_plans", "placements", "population"]), None, "data/raw"
    spec = importlib.util.spec_from_file_location("tfp", ROOT / "tests" / "test_forecast_person.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["tfp"] = mod
    spec.loader.exec_module(mod)
    mod.POP = 7000
    tables, as_of = mod.make_county(seed=1, start_per_age=250)
    return tables, as_of, "generated (tests/test_forecast_person.make_county, 7,000 residents per age)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from sendlib.models.forecast import person
    from sendlib.models.forecast.aggregate import AggregateSettings, forecast
    from sendlib.models.forecast.backtest import backtest_published
    from sendlib.models.forecast.dfe_series import published_series, to_wide
    from sendlib.models.forecast.scenario import load_scenario

    sc = load_scenario()
    tables, as_of, where = _county()
    plans, placements, pop = tables["ehcp_plans"], tables["placements"], tables["population"]
    t_est, rates = _timed(lambda: person.estimate_rates(plans, placements, pop, sc.person, as_of=as_of), args.repeat)
    t_sim, res = _timed(lambda: person.simulate(rates, pop, 10, 1000, 1, sc.person), args.repeat)
    years, cells, draws = res
    t_proj, _ = _timed(lambda: person.to_projection(years, cells, draws, rates), args.repeat)
    print(f"person-level on {where}: {int(rates.stock.sum())} plans at {rates.last_year}, {len(cells)} cells")
    print(f"  estimate rates          median {t_est:6.2f} s wall, {CPU[0]:6.2f} s CPU")
    print(f"  simulate 1,000 x 10 yrs median {t_sim:6.2f} s wall, {CPU[1]:6.2f} s CPU")
    print(f"  to_projection           median {t_proj:6.2f} s wall, {CPU[2]:6.2f} s CPU")

    t_read, series = _timed(lambda: published_series(), 1)
    t_bt, bt = _timed(lambda: backtest_published(series, sc.backtest), args.repeat)
    print(
        f"aggregate: read DfE series {t_read:.2f} s; backtest {len(sc.backtest.methods)} methods x "
        f"{bt.summary['n_series'].max()} series, all origins, horizons 1-{sc.backtest.horizons}: median {t_bt:.2f} s wall, {CPU[4]:.2f} s CPU"
    )
    print(f"  methods: {', '.join(sc.backtest.methods)} (target: the whole backtest under 30 s)")
    codes, yrs, stock, new = to_wide(series)
    sm = AggregateSettings(ets_backend="statsmodels")
    t_np, _ = _timed(lambda: forecast("damped_ets", stock, 3, settings=sc.aggregate), args.repeat)
    sub = stock[:30]
    t_sm, _ = _timed(lambda: forecast("damped_ets", sub, 3, settings=sm), 1)
    t_sm *= len(stock) / len(sub)
    print(
        f"  damped ETS, one origin, all {len(stock)} series: numpy grid {t_np * 1000:.1f} ms; statsmodels "
        f"~{t_sm:.1f} s (timed on 30 series and scaled; x{t_sm / max(t_np, 1e-9):.0f}; a full backtest with "
        f"statsmodels would take ~{t_sm * 14:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
