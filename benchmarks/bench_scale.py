"""How the KPIs and the person-level forecast grow with the data (prints medians; not a timed test).

For each scale k (default 1, 4 and 16 copies of the shipped county, tiled by
:mod:`benchmarks.national`), times as medians of ``--repeat`` runs:

* ``compute_kpis``: K1-K11 with the previous quarter for the latest complete quarter, as the
  dashboard computes them;
* the person-level forecast, ``sendlib.models.forecast.person.project(tables, horizon=10, n_sims,
  seed, settings)`` with the settings and seed of ``config/scenarios/forecast.yaml`` and
  ``as_of`` the quarter's end (as the report does), and within it the estimation step alone
  (census snapshots and rates: ``snapshots`` + ``estimate_rates``).

and prints seconds and the growth ratio against 1x. The simulation draws one uniform per child
per simulation per year, so its cost grows with the caseload as well as with ``n_sims`` (linearly
in both). To keep ``make bench`` short the forecast here runs 100 simulations by default (the
report runs 1,000: pass ``--sims 1000`` for that figure; at 16x it takes minutes per run).

Run: ``.venv/bin/python benchmarks/bench_scale.py [--repeat N] [--scales 1,4,16] [--sims N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``fn()`` over ``repeat`` runs, and its last result."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is printed (default 3)")
    ap.add_argument("--scales", default="1,4,16", help="copies of the county, comma-separated (default 1,4,16)")
    ap.add_argument("--sims", type=int, default=100, help="forecast simulations (default 100; the report uses 1000)")
    args = ap.parse_args()
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    repeat = max(1, args.repeat)

    import national

    from sendlib.core.config import load_config
    from sendlib.data.loaders import load_tables, resolve_quarter
    from sendlib.models.forecast import person
    from sendlib.models.forecast.scenario import load_scenario
    from sendlib.models.kpi import compute_kpis

    cfg = load_config().with_data_dir(ROOT / "data" / "raw")
    county = load_tables(cfg)
    quarter = resolve_quarter("latest", cfg, county)
    sc = load_scenario()
    as_of = quarter.end
    compute_kpis(county, quarter, cfg)  # warm-up: imports and the comparators file

    print(
        f"KPIs for {quarter} and the person-level forecast (horizon 10, {args.sims:,} simulations, seed {sc.seed}) "
        f"on k copies of the county; medians of {repeat} runs"
    )
    rows = []
    for k in scales:
        tables = national.tile_tables(county, k)

        def estimate(tables=tables):
            years = person.census_years(tables["ehcp_plans"], tables["placements"], as_of)
            snaps = person.snapshots(tables["ehcp_plans"], tables["placements"], years)
            return person.estimate_rates(
                tables["ehcp_plans"], tables["placements"], tables["population"], sc.person, snaps=snaps
            )

        kpi_wall, kpi_cpu, _ = _timed(lambda tables=tables: compute_kpis(tables, quarter, cfg), repeat)
        est_wall, _, rates = _timed(estimate, repeat)
        fc_wall, fc_cpu, _ = _timed(
            lambda tables=tables: person.project(tables, 10, args.sims, sc.seed, settings=sc.person, as_of=as_of),
            repeat,
        )
        stock = int(rates.stock.sum())
        rows.append((k, len(tables["ehcp_plans"]), stock, kpi_wall, kpi_cpu, est_wall, fc_wall, fc_cpu))
        print(f"  {k}x done: KPIs {kpi_wall:.2f} s, forecast {fc_wall:.2f} s", flush=True)

    base = {"kpi": rows[0][3], "est": rows[0][5], "fc": rows[0][6]}
    ref = rows[0][0]
    print()
    print(
        f"{'scale':>6} {'plan rows':>10} {'plans at':>9} | {'KPIs s':>7} {'CPU s':>6} {'ratio':>6} | "
        f"{'estimate s':>10} {'ratio':>6} | {'forecast s':>10} {'CPU s':>6} {'ratio':>6}"
    )
    print(f"{'':>6} {'':>10} {'census':>9} |")
    for k, n_plans, stock, kw, kc, ew, fw, fc in rows:
        print(
            f"{str(k) + 'x':>6} {n_plans:>10,} {stock:>9,} | {kw:7.2f} {kc:6.2f} {kw / base['kpi']:6.1f} | "
            f"{ew:10.2f} {ew / base['est']:6.1f} | {fw:10.2f} {fc:6.2f} {fw / base['fc']:6.1f}"
        )
    print(
        f"ratio = time / time at {ref}x. 'plans at census' = the forecast's starting caseload (latest January "
        f"census); 'estimate' = the snapshots + rates part of the forecast, the rest is simulation and projection"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
