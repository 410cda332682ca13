"""The forecast scenario file (``config/scenarios/forecast.yaml``): load and validate.

Every assumption the forecast uses lives in the file with a ``source``; this module only reads
it. The file is declared by :class:`ForecastScenarioFile` (its sections, their keys, types,
defaults and rules); an unknown or malformed key raises :class:`~sendlib.core.errors.UsageError`
naming the file, the key (``person.incidence.trend``) and the rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sendlib.core.errors import UsageError
from sendlib.core.settings import SettingsModel, parse_settings, read_yaml_mapping
from sendlib.models.forecast.aggregate import METHODS, AggregateSettings
from sendlib.models.forecast.backtest import BacktestSection, BacktestSettings

DEFAULT_SCENARIO = Path(__file__).resolve().parents[3] / "config" / "scenarios" / "forecast.yaml"
TRENDS = ("constant", "linear", "damped")


class _Section(SettingsModel):
    """A section of the file; written empty (``person:`` with nothing under it) it is all defaults."""

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return {} if value is None else value


class RateSpec(_Section):
    """Trend settings of one rate (incidence or ceasing)."""

    trend: Literal["constant", "linear", "damped"] = "constant"
    #: damping per year for ``damped`` (1 = linear, 0 = constant at the last level)
    phi: float = Field(0.8, ge=0, le=1)
    #: scenario lever: 0.9 = 10% fewer than the trend
    multiplier: float = Field(1.0, ge=0)
    source: str = ""


class IncidenceSpec(RateSpec):
    """``person.incidence``: the trend of new plans is damped unless the file says otherwise."""

    trend: Literal["constant", "linear", "damped"] = "damped"


class MovesSpec(_Section):
    """``person.moves``: transition shares between settings (only held constant is implemented)."""

    trend: Literal["constant"] = "constant"
    source: str = ""


class ShrinkageSpec(_Section):
    """``person.shrinkage``: pseudo-counts pulling small cells toward broader groups."""

    kappa_age: float = 20.0
    kappa_band: float = 50.0
    source: str = ""


class UncertaintySpec(_Section):
    """``person.uncertainty``: bootstrap of the rates' yearly changes (``none``: binomial noise only)."""

    rate_paths: Literal["bootstrap", "none"] = "bootstrap"
    scale: float = 1.0
    #: the latest yearly levels whose changes are resampled
    level_years: int = 8
    source: str = ""


class PersonSettings(_Section):
    """Settings of the person-level stock-flow model (the file's ``person`` section), by
    subsection as in the file (``shrinkage.kappa_age``, ``uncertainty.rate_paths``, ...)."""

    window_years: int = Field(4, ge=1)
    source: str = ""
    incidence: RateSpec = Field(default_factory=IncidenceSpec)
    ceasing: RateSpec = Field(default_factory=RateSpec)
    moves: MovesSpec = Field(default_factory=MovesSpec)
    shrinkage: ShrinkageSpec = Field(default_factory=ShrinkageSpec)
    uncertainty: UncertaintySpec = Field(default_factory=UncertaintySpec)

    @field_validator("incidence", mode="before")
    @classmethod
    def _incidence_defaults(cls, value: Any) -> Any:
        return IncidenceSpec.model_validate(value) if value is None or isinstance(value, Mapping) else value


class AggregateSection(AggregateSettings, _Section):
    """The ``aggregate`` section: the suite's default method, its evidence, and the methods' parameters."""

    default_method: Literal[(*METHODS, "weighted")] = "mean_growth"  # type: ignore[valid-type]
    source: str = ""

    def settings(self) -> AggregateSettings:
        """The methods' parameters alone."""
        return AggregateSettings(**self.model_dump(exclude={"default_method", "source"}))


class BacktestFileSection(BacktestSection, _Section):
    """The ``backtest`` section as written (an empty section is all defaults)."""


class PersonBacktestSettings(_Section):
    """``person_backtest``: rolling origins on the authority's own censuses for the person-level
    model, against the aggregate methods on the yearly totals of the same data."""

    #: years ahead scored
    horizons: int = Field(3, ge=1)
    #: simulations per origin (fewer than a forecast's: only the total's quantiles are needed)
    sims: int = Field(200, ge=10)
    #: censuses of history an origin needs (two give one transition to estimate from)
    min_censuses: int = Field(2, ge=2)
    #: aggregate methods scored on the same origins
    methods: tuple[str, ...] = ("naive_growth", "mean_growth", "damped_ets", "weighted", "no_change")
    #: past errors an aggregate method's empirical interval needs (one authority has few)
    min_errors: int = Field(3, ge=1)
    source: str = ""


class SimulationSettings(_Section):
    """``simulation``: number of simulated futures and the random seed."""

    sims: int = Field(1000, ge=1)
    seed: int = 0


class ForecastScenarioFile(SettingsModel):
    """The forecast scenario file (``config/scenarios/forecast.yaml``)."""

    name: str = "scenario"
    description: str = ""
    as_of: str | dt.date = ""
    aggregate: AggregateSection = Field(default_factory=AggregateSection)
    backtest: BacktestFileSection = Field(default_factory=BacktestFileSection)
    person: PersonSettings = Field(default_factory=PersonSettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    person_backtest: PersonBacktestSettings = Field(default_factory=PersonBacktestSettings)

    def scenario(self, path: Path | None, raw: Mapping[str, Any]) -> ForecastScenario:
        """The scenario the models use (``raw``: the mapping as read, kept for reuse keys)."""
        aggregate = self.aggregate.settings()
        return ForecastScenario(
            name=self.name,
            path=path,
            default_method=self.aggregate.default_method,
            aggregate=aggregate,
            backtest=BacktestSettings(**self.backtest.model_dump(), aggregate=aggregate),
            person=self.person,
            sims=self.simulation.sims,
            seed=self.simulation.seed,
            person_backtest=self.person_backtest,
            raw=dict(raw),
        )


@dataclass(frozen=True)
class ForecastScenario:
    """A loaded forecast scenario."""

    name: str
    path: Path | None
    default_method: str
    aggregate: AggregateSettings
    backtest: BacktestSettings
    person: PersonSettings
    sims: int
    seed: int
    person_backtest: PersonBacktestSettings = field(default_factory=PersonBacktestSettings)
    #: the file's mapping as read (JSON-able; part of the projection's reuse key)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def assumptions(self) -> list[dict[str, str]]:
        """The assumptions in force as rows (section, key, value, source) for a notebook table."""
        rows = []

        def walk(prefix: str, node: Any, source: str) -> None:
            if isinstance(node, dict):
                src = str(node.get("source", source))
                for k, v in node.items():
                    if k != "source":
                        walk(f"{prefix}.{k}" if prefix else k, v, src)
            else:
                rows.append({"assumption": prefix, "value": str(node), "source": source})

        for section in ("aggregate", "person", "simulation"):
            walk(section, self.raw.get(section, {}), "")
        return rows


def parse_scenario(raw: Mapping[str, Any], path: Path | None = None) -> ForecastScenario:
    """Validate a scenario mapping (as read from YAML); errors name the key and the rule."""
    origin = f"forecast scenario file {path}" if path else "forecast scenario"
    settings = parse_settings(ForecastScenarioFile, raw, origin, UsageError)
    return settings.scenario(path, raw)


def load_scenario(path: str | Path | None = None) -> ForecastScenario:
    """Load a forecast scenario file (default ``config/scenarios/forecast.yaml``)."""
    p = Path(path).expanduser().resolve() if path not in (None, "") else DEFAULT_SCENARIO
    raw = read_yaml_mapping(p, "forecast scenario file", UsageError)
    return parse_scenario(raw, p)
