"""The census years finance prices: the base financial year's January census and ``horizon`` more.

Finance takes its demand as a :class:`~sendlib.models.projection.PlacementProjection` (the
person-level forecast after sufficiency's overflow to INMSS, :func:`sendlib.models.chain.quarter_projection`);
this module only says how far that projection must reach.
"""

from __future__ import annotations

from sendlib.core.quarters import Quarter


def census_years_needed(quarter: Quarter | str, horizon: int) -> list[int]:
    """January census years finance needs: the base year's (``fy_start + 1``) to ``+ horizon``."""
    q = Quarter.parse(quarter)
    return [q.census_year + t for t in range(int(horizon) + 1)]
