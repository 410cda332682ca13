"""The forecast -> sufficiency -> finance chain for one reporting quarter.

Three board sections use the same projection of children with a plan: the demand forecast shows
it, sufficiency compares it with places, finance prices it after the demand local places cannot
meet has moved to INMSS. These functions say what that projection is, from the inputs they are
given: estimated from the data as at the quarter's end, with the forecast scenario's settings,
number of simulations and seed, and projected far enough for finance (the January census of the
quarter's financial year plus ``report.horizon_years``). Sharing one computed projection between
notebooks is the report runner's job (:meth:`sendlib.notebook.NotebookContext.projection`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from sendlib.core.errors import UsageError
from sendlib.core.quarters import Quarter
from sendlib.models.forecast.scenario import ForecastScenario
from sendlib.models.projection import PlacementProjection

if TYPE_CHECKING:
    from sendlib.models.finance.scenarios import ScenarioFile
    from sendlib.models.sufficiency import SufficiencyScenario

T = TypeVar("T")

#: ``memo(name, key_parts, compute)``: returns ``compute()`` or an equal result computed before
Memo = Callable[[str, Mapping[str, Any], Callable[[], Any]], Any]

#: tables the projection and its overflow are computed from
INPUT_TABLES = ("ehcp_plans", "placements", "population", "capacity")
#: sendlib modules (paths inside the package) whose code decides the projection and its overflow
CODE = (
    "models/chain.py",
    "models/forecast/person.py",
    "models/forecast/scenario.py",
    "models/projection.py",
    "models/sufficiency.py",
)


def compute_now(name: str, parts: Mapping[str, Any], compute: Callable[[], T]) -> T:
    """The :data:`Memo` that keeps nothing: every call computes."""
    return compute()


def run_through_year(quarter: Quarter | str, horizon_years: int) -> int:
    """The last January census a quarter's projection reaches: the census of the quarter's
    financial year plus ``horizon_years``, the furthest finance prices."""
    return Quarter.parse(quarter).census_year + int(horizon_years)


@dataclass(frozen=True)
class ProjectionPlan:
    """What one quarter's projection is computed with (and what identifies it for reuse)."""

    scenario: ForecastScenario
    sims: int
    seed: int
    as_of: pd.Timestamp
    steps: int  # censuses projected after the last one observed
    wanted: int  # the last January census the caller asked for

    def key(self) -> dict[str, Any]:
        """JSON-able parts that identify the full projection (not the years a caller keeps)."""
        return {
            "scenario": self.scenario.raw,
            "sims": self.sims,
            "seed": self.seed,
            "as_of": str(self.as_of.date()),
            "steps": self.steps,
        }


def plan_projection(
    tables: Mapping[str, pd.DataFrame],
    quarter: Quarter | str,
    scenario: ForecastScenario,
    *,
    horizon_years: int,
    years: int | None = None,
    through_year: int | None = None,
    sims: int | None = None,
    seed: int | None = None,
) -> ProjectionPlan:
    """Work out a quarter's projection: always through :func:`run_through_year` (so every section
    shares one), and further when ``years`` (censuses after the latest observed) or
    ``through_year`` ask for more. ``sims`` / ``seed``: 0 / None take the scenario's."""
    from sendlib.models.forecast import person

    q = Quarter.parse(quarter)
    last_observed = person.census_years(tables["ehcp_plans"], tables.get("placements"), q.end)[-1]
    full = run_through_year(q, horizon_years)
    wanted = last_observed + int(years) if years else (through_year or full)
    return ProjectionPlan(
        scenario=scenario,
        sims=int(sims) if sims else scenario.sims,
        seed=scenario.seed if seed is None else int(seed),
        as_of=q.end,
        steps=max(wanted, full) - last_observed,
        wanted=wanted,
    )


def project(tables: Mapping[str, pd.DataFrame], plan: ProjectionPlan) -> PlacementProjection:
    """The person-level projection :func:`plan_projection` describes (all its years)."""
    from sendlib.models.forecast import person

    return person.project(
        dict(tables),
        plan.steps,
        plan.sims,
        plan.seed,
        settings=plan.scenario.person,
        label=plan.scenario.name,
        as_of=plan.as_of,
    )


def through(projection: PlacementProjection, last_year: int) -> PlacementProjection:
    """The projection's censuses up to ``last_year`` (the same simulations, fewer years; the
    draws are a view of the first years, not a copy)."""
    n = sum(1 for y in projection.years if y <= last_year)
    if n == len(projection.years):
        return projection
    return PlacementProjection(
        years=list(projection.years[:n]),
        groups=projection.groups,
        draws=projection.draws[:, :n, :],
        history=projection.history,
        label=projection.label,
    )


def quarter_projection(
    tables: Mapping[str, pd.DataFrame],
    quarter: Quarter | str,
    scenario: ForecastScenario,
    *,
    horizon_years: int,
    years: int | None = None,
    through_year: int | None = None,
    sims: int | None = None,
    seed: int | None = None,
    overflow: SufficiencyScenario | None = None,
    memo: Memo = compute_now,
) -> PlacementProjection:
    """The quarter's person-level projection, restricted to the years asked for.

    Parameters
    ----------
    tables, quarter
        Canonical tables and the reporting quarter (data used up to its end).
    scenario
        The forecast scenario (settings, simulations, seed).
    horizon_years
        The config's ``report.horizon_years``: the projection always reaches
        :func:`run_through_year`, so every section of a quarter shares one.
    years, through_year
        The censuses wanted: ``years`` after the latest observed, or through ``through_year``
        (default: :func:`run_through_year`).
    sims, seed
        Override the scenario's number of simulations and seed (0 / None = the scenario's).
    overflow
        A sufficiency scenario: move the demand that local specialist places cannot meet to
        INMSS (:func:`sendlib.models.sufficiency.apply_overflow`): the demand finance prices.
    memo
        How results are kept: the report runner passes one that computes each result once per
        run and shares it between notebooks; the default computes.
    """
    plan = plan_projection(
        tables,
        quarter,
        scenario,
        horizon_years=horizon_years,
        years=years,
        through_year=through_year,
        sims=sims,
        seed=seed,
    )
    full = memo("projection", plan.key(), lambda: project(tables, plan))
    if overflow is not None:
        from sendlib.models import sufficiency as suff

        base = full
        full = memo(
            "overflow",
            {**plan.key(), "sufficiency": str(overflow.path), "sufficiency_raw": overflow},
            lambda: suff.apply_overflow(base, tables["capacity"], overflow, tables.get("placements")),
        )
    return through(full, plan.wanted)


def finance_projections(
    tables: Mapping[str, pd.DataFrame],
    projection: PlacementProjection,
    sufficiency: SufficiencyScenario,
    scenario_file: ScenarioFile,
    quarter: Quarter | str,
    names: Sequence[str] | None = None,
) -> dict[str, PlacementProjection]:
    """Each DSG scenario's demand: ``projection`` (before any overflow) through the placement
    cascade of the scenario's own ``sufficiency_scenario`` file (relative to the DSG scenario
    file's folder), else of ``sufficiency`` (the run's). Scenarios sharing a file share one result.
    Without a ``capacity`` table every scenario takes ``projection`` as it is.

    Checks every ``local_places`` mitigation against its sufficiency file: each setting it names
    must be one of the file's ``add_settings`` (new places, never the capacity table's: the
    pipeline is already counted), opening after the report quarter and not before the
    mitigation's ``start_year``; raises :class:`~sendlib.core.errors.UsageError` otherwise.
    """
    from sendlib.models import sufficiency as suff

    q = Quarter.parse(quarter)
    folder = Path(scenario_file.path).expanduser().parent if scenario_file.path != "<memory>" else Path.cwd()
    done: dict[str, PlacementProjection] = {}
    out: dict[str, PlacementProjection] = {}
    for name in names or scenario_file.names:
        sc = scenario_file.scenarios[name]
        ref = sc.sufficiency_scenario
        chosen = sufficiency if ref is None else suff.load_scenario(folder / ref.file)
        _check_local_places(name, sc, chosen, q)
        key = "" if ref is None else str((folder / ref.file).resolve())
        if "capacity" not in tables:  # no places to compare with: demand as projected
            done[key] = projection
        if key not in done:
            done[key] = suff.apply_overflow(projection, tables["capacity"], chosen, tables.get("placements"))
        out[name] = done[key]
    return out


def _check_local_places(name: str, scenario: Any, sufficiency: SufficiencyScenario, quarter: Quarter) -> None:
    added = sufficiency.add_settings
    for i, m in enumerate(scenario.mitigations):
        if m.kind != "local_places":
            continue
        where = f"scenarios.{name}.mitigations[{i}] ({m.name})"
        for sid in m.setting_ids:
            rows = added[added["setting_id"] == sid]
            if rows.empty:
                raise UsageError(
                    f"{where}: setting {sid} is not a new setting (add_settings) of sufficiency scenario "
                    f"'{sufficiency.name}': a mitigation counts only places beyond the capacity table and its pipeline"
                )
            opens = pd.Timestamp(rows["open_date"].min())
            start = pd.Timestamp(f"{m.start_year}-04-01")
            if opens <= quarter.end or opens < start:
                raise UsageError(
                    f"{where}: setting {sid} opens on {opens:%Y-%m-%d}, before the report quarter ends or before "
                    f"the mitigation's start year; places open before the base year are not mitigations"
                )
