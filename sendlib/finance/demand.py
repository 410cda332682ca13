"""The demand that finance prices: the person-level forecast, then sufficiency's overflow to INMSS.

The one place finance reaches up the model chain (forecast -> sufficiency -> finance). Everything
else in :mod:`sendlib.finance` takes a :class:`~sendlib.projection.PlacementProjection` as given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pandas as pd

from sendlib.config import Config
from sendlib.errors import UsageError
from sendlib.projection import PlacementProjection
from sendlib.quarters import Quarter


def census_years_needed(quarter: "Quarter | str", horizon: int) -> list[int]:
    """January census years finance needs: the base year's (``fy_start + 1``) to ``+ horizon``."""
    q = Quarter.parse(quarter)
    return [q.census_year + t for t in range(int(horizon) + 1)]


def demand_projection(config: Config, tables: Mapping[str, pd.DataFrame], quarter: "Quarter | str",
                      horizon: int, sims: int | None = None, seed: int | None = None, with_overflow: bool = True,
                      run_cache: "str | Path | None" = None) -> PlacementProjection:
    """Project placements far enough for ``horizon`` financial years after the base year.

    The quarter's person-level projection (:func:`sendlib.forecast.shared.report_projection`:
    data as at the quarter's end, the config's forecast scenario, its number of simulations and
    seed unless ``sims`` / ``seed`` are given), then (``with_overflow``)
    :func:`sendlib.sufficiency.apply_overflow` with the config's sufficiency scenario, so places
    the county lacks are priced as INMSS. In a report run (``run_cache``) this is the same
    projection the forecast and sufficiency sections show, computed once.

    Raises
    ------
    UsageError
        When the person-level forecast is not available in this installation.
    """
    try:
        from sendlib.forecast.shared import report_projection
    except ImportError as exc:  # pragma: no cover - the forecast ships with the package
        raise UsageError(
            "finance needs the person-level demand forecast (sendlib.forecast.person), which is not "
            "available in this installation; build a PlacementProjection and call sendlib.finance.run_finance"
        ) from exc
    need = census_years_needed(quarter, horizon)
    return report_projection(config, tables, quarter, through_year=need[-1], sims=sims, seed=seed,
                             overflow=with_overflow and "capacity" in tables, run_cache=run_cache)


def scenario_path(config: Config, value: "str | Path | None" = None) -> Path:
    """The DSG scenario file: empty = the config's ``report.scenarios`` (``scenarios/dsg.yaml``);
    a relative path is looked up in the config's ``scenarios_dir``, then the current directory."""
    if value is None or not str(value).strip():
        path = config.resolve((config.report or {}).get("scenarios") or "scenarios/dsg.yaml")
    else:
        p = Path(str(value)).expanduser()
        candidates = [p] if p.is_absolute() else [Path(config.scenarios_dir) / p, Path.cwd() / p]
        path = next((c for c in candidates if c.is_file()), candidates[-1])
    path = Path(path).resolve()
    if not path.is_file():
        raise UsageError(f"scenario file not found: {path}")
    return path
