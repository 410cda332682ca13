"""The state the steps of the generator share: parameters, seed, calendar and the arrays built so far.

Each step (:mod:`sendlib.data.synth.county` runs them in order) reads what earlier steps left on the
:class:`County` and adds its own arrays and tables. People, plans and placement spells are kept as
dicts of parallel numpy arrays; dates are day numbers (:mod:`sendlib.data.synth.calendar`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import NA, _census_day, _day, _ymd


@dataclass
class County:
    """One county being generated: its inputs, its calendar and what the steps have built.

    Indices: ``persons`` has one entry per person (``person_ids`` in the same order); ``plan`` one
    per plan, ``plan["pidx"]`` the person; ``spells`` one per placement spell, ``spells["person"]``
    the *plan* index (a person has one plan).
    """

    params: Mapping[str, Any]
    seed: int
    start: int  # first day of the history
    end: int  # the extract date: last day of the history
    end_ts: pd.Timestamp
    first_year: int
    end_year: int
    localities: list[str]
    needs: list[str]
    censuses: list[tuple[int, int]]  # (year, census day) of the January censuses up to the end date
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # built by the steps, in run order
    pop: pd.DataFrame | None = None  # residents by year and age (people.population)
    capacity: pd.DataFrame | None = None  # local specialist settings (providers.capacity)
    requests: dict[str, np.ndarray] | None = None  # requests in the history (requests.requests_and_plans)
    request_ids: np.ndarray | None = None
    persons: dict[str, np.ndarray] | None = None  # bm (birth month index), sex, need, loc
    plan: dict[str, np.ndarray] | None = None  # pidx, start, end, end_eff, reason, request_id, bm, need
    person_ids: np.ndarray | None = None
    spells: dict[str, np.ndarray] | None = None  # placements (placements.placements)

    @classmethod
    def create(cls, params: Mapping, seed: int, end_date: str) -> County:
        """A county from the parameters (``config/synth.yaml``), a seed and an ISO end date."""
        start = _day(params["meta"]["start_date"])
        end = _day(end_date)
        if end <= start + 400:
            raise ValueError(f"end date {end_date} must be more than a year after {params['meta']['start_date']}")
        first_year = int(params["meta"]["first_year"])
        end_year = int(_ymd(np.array([end]))[0][0])
        # census days (third Thursday of January) on or before the end date
        censuses = [(y, _census_day(y)) for y in range(first_year + 1, end_year + 1)]
        return cls(
            params=params,
            seed=int(seed),
            start=start,
            end=end,
            end_ts=pd.Timestamp(end_date),
            first_year=first_year,
            end_year=end_year,
            localities=list(params["localities"]["weights"]),
            needs=list(params["needs"]["order"]),
            censuses=[(y, c) for y, c in censuses if c <= end],
        )

    def in_force_on(self, day: int) -> dict:
        """Plans in force on ``day`` and their placement that day (indices into plan / spells).

        ``spell_of[plan]`` is the spell the plan's holder is in on ``day``, -1 for none."""
        pl, sp = self.plan, self.spells
        in_force = (pl["start"] <= day) & ((pl["end"] == NA) | (pl["end"] > day))
        on = (sp["start"] <= day) & (sp["end_eff"] >= day) & ((sp["end"] == NA) | (sp["end"] >= day))
        spell_of = np.full(len(pl["start"]), -1)
        spell_of[sp["person"][on]] = np.flatnonzero(on)
        return {"plans": np.flatnonzero(in_force), "spell_of": spell_of}
