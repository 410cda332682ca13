"""The orchestrator: runs the steps that build the county, in order, on one :class:`County`.

The order is fixed by what each step reads: placements need the capacity and the plans, census
counts need the population and the placements. Each step draws from its own random stream
(:data:`sendlib.data.synth.sampling.STREAMS`), so the order of the steps does not change the draws
within any of them.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from sendlib.core.schema import TABLES
from sendlib.data.synth import (
    finance,
    health,
    pap,
    people,
    placements,
    providers,
    requests,
    reviews,
    schools,
    statutory,
)
from sendlib.data.synth.sampling import _ids
from sendlib.data.synth.state import County


def run(params: Mapping, seed: int, end_date: str) -> dict[str, pd.DataFrame]:
    """Every canonical table (schema order) of the county for ``seed`` up to ``end_date``."""
    c = County.create(params, seed, end_date)
    people.population(c)
    providers.capacity(c)
    requests.requests_and_plans(c)
    c.person_ids = _ids("P", len(c.persons["bm"]), 6)
    requests.build_tables(c)
    placements.placements(c)
    reviews.annual_reviews(c)
    schools.school_population(c)
    reviews.transitions(c)
    schools.exclusions(c)
    health.health_waits(c)
    finance.finance(c)
    pap.pap(c)
    # added last (they read only what the steps above built; their own streams): phase transfers
    # from the placements, then appeals against decisions in every table before them
    statutory.phase_transfers(c)
    statutory.tribunal_appeals(c)
    return {name: c.tables[name] for name in TABLES}
