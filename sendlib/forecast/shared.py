"""The one person-level projection a report quarter uses, shared by forecast, sufficiency and finance.

Three board sections need the same projection of children with a plan: the demand forecast shows
it, sufficiency compares it with places, finance prices it. They must show the same numbers, so
they take it from here: estimated from the data as at the quarter's end, with the forecast
scenario's settings, number of simulations and seed, and projected far enough for finance (the
January census of the quarter's financial year plus ``report.horizon_years``). Each section keeps
the years it shows. In a report run the projection (and its version with sufficiency's overflow)
is computed once and kept in the run cache (:mod:`sendlib.runcache`), and when the report allows
reuse, a projection an earlier run made from the same tables, settings and code is reused (the
simulations are seeded, so it is the same projection); outside a report it is simply computed.
"""

from __future__ import annotations

import functools

from pathlib import Path
from typing import Mapping

import pandas as pd

from sendlib import runcache
from sendlib.config import Config
from sendlib.projection import PlacementProjection
from sendlib.quarters import Quarter


#: tables the projection (and its overflow) is computed from
_INPUT_TABLES = ("ehcp_plans", "placements", "population", "capacity")
#: sendlib modules whose code decides the projection and overflow
_CODE = ("forecast/person.py", "forecast/scenario.py", "forecast/shared.py", "projection.py", "sufficiency.py")


def run_through_year(config: Config, quarter: "Quarter | str") -> int:
    """The last January census a report's projection reaches: the census of the quarter's
    financial year plus ``report.horizon_years`` (default 5), the furthest finance prices."""
    q = Quarter.parse(quarter)
    horizon = int((config.report or {}).get("horizon_years") or 5)
    return q.census_year + horizon


def report_projection(config: Config, tables: Mapping[str, pd.DataFrame], quarter: "Quarter | str", *,
                      through_year: int | None = None, years: int | None = None, scenario: "str | Path" = "",
                      sims: int | None = None, seed: int | None = None, overflow: bool = False,
                      sufficiency_scenario: "str | Path" = "",
                      run_cache: "str | Path | None" = None) -> PlacementProjection:
    """The quarter's person-level projection, restricted to the years asked for.

    Parameters
    ----------
    config, tables, quarter
        The run's config, canonical tables and reporting quarter (data used up to its end).
    through_year : int, optional
        Last January census wanted; default :func:`run_through_year`.
    years : int, optional
        Or: the number of censuses wanted after the latest one observed (a forecast "horizon").
    scenario : path, optional
        Forecast scenario file (default: the config's ``report.forecast_scenario``).
    sims, seed : int, optional
        Override the scenario's number of simulations and seed (0 / None = the scenario's).
    overflow : bool
        Move the demand that local specialist places cannot meet to INMSS
        (:func:`sendlib.sufficiency.apply_overflow`) with ``sufficiency_scenario`` (default: the
        config's ``report.sufficiency_scenario``): the demand finance prices.
    run_cache : path, optional
        The report run's cache: compute once per run and share between notebooks.
    """
    from sendlib.forecast import person
    from sendlib.forecast.scenario import load_for_config

    q = Quarter.parse(quarter)
    sc = load_for_config(config, scenario)
    n_sims = int(sims) if sims else sc.sims
    use_seed = sc.seed if seed is None else int(seed)
    as_of = q.end
    last_observed = person.census_years(tables["ehcp_plans"], tables.get("placements"), as_of)[-1]
    wanted = last_observed + int(years) if years else (through_year or run_through_year(config, q))
    steps = max(wanted, run_through_year(config, q)) - last_observed
    parts = {"scenario": sc.raw, "sims": n_sims, "seed": use_seed, "as_of": str(as_of.date()), "steps": steps}

    @functools.cache
    def inputs() -> dict[str, str]:  # what else a result kept from an earlier run must share
        return {"tables": runcache.tables_fingerprint({k: tables[k] for k in sorted(tables) if k in _INPUT_TABLES}),
                "code": runcache.code_fingerprint(*_CODE)}

    full = runcache.cached(run_cache, "projection", parts, lambda: person.project(
        dict(tables), steps, n_sims, use_seed, settings=sc.person, label=sc.name, as_of=as_of), reusable=inputs)
    if overflow:
        from sendlib import sufficiency as suff

        path = suff.scenario_file(config, sufficiency_scenario)
        scen = suff.load_scenario(path)
        base = full
        full = runcache.cached(run_cache, "overflow", {**parts, "sufficiency": str(path), "sufficiency_raw": scen},
                               lambda: suff.apply_overflow(base, tables["capacity"], scen), reusable=inputs)
    return _through(full, wanted)


def _through(projection: PlacementProjection, last_year: int) -> PlacementProjection:
    """The projection's censuses up to ``last_year`` (the same simulations, fewer years; the
    draws are a view of the first years, not a copy)."""
    n = sum(1 for y in projection.years if y <= last_year)
    if n == len(projection.years):
        return projection
    return PlacementProjection(years=list(projection.years[:n]), groups=projection.groups,
                               draws=projection.draws[:, :n, :], history=projection.history,
                               label=projection.label)
