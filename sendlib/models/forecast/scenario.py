"""The forecast scenario file (``config/scenarios/forecast.yaml``): load and validate.

Every assumption the forecast uses lives in the file with a ``source``; this module only reads
it. Unknown or malformed keys raise :class:`~sendlib.core.errors.UsageError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sendlib.core.settings import read_yaml_mapping

from sendlib.core.errors import UsageError
from sendlib.models.forecast.aggregate import METHODS, AggregateSettings
from sendlib.models.forecast.backtest import BacktestSettings

DEFAULT_SCENARIO = Path(__file__).resolve().parents[3] / "config" / "scenarios" / "forecast.yaml"
TRENDS = ("constant", "linear", "damped")


@dataclass(frozen=True)
class RateSpec:
    """Trend settings of one rate (incidence or ceasing)."""

    trend: str = "constant"
    phi: float = 0.8
    multiplier: float = 1.0
    source: str = ""


@dataclass(frozen=True)
class PersonSettings:
    """Settings of the person-level stock-flow model."""

    window_years: int = 4
    incidence: RateSpec = field(default_factory=lambda: RateSpec(trend="damped"))
    ceasing: RateSpec = field(default_factory=RateSpec)
    kappa_age: float = 20.0
    kappa_band: float = 50.0
    rate_paths: str = "bootstrap"
    uncertainty_scale: float = 1.0
    level_years: int = 8


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


def _check_keys(node: Any, allowed: set[str], where: str, path: Path | None) -> dict:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise UsageError(f"scenario {path}: {where} must be a mapping")
    unknown = set(node) - allowed
    if unknown:
        raise UsageError(f"scenario {path}: unknown key(s) {where}.{sorted(unknown)}; expected some of {sorted(allowed)}")
    return node


def _rate(node: Any, where: str, path: Path | None, default: RateSpec) -> RateSpec:
    d = _check_keys(node, {"trend", "phi", "multiplier", "source"}, where, path)
    trend = d.get("trend", default.trend)
    if trend not in TRENDS:
        raise UsageError(f"scenario {path}: {where}.trend '{trend}' is not one of {list(TRENDS)}")
    try:
        phi = float(d.get("phi", default.phi))
        mult = float(d.get("multiplier", default.multiplier))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"scenario {path}: {where}.phi and {where}.multiplier must be numbers") from exc
    if not 0 <= phi <= 1:
        raise UsageError(f"scenario {path}: {where}.phi must be between 0 and 1")
    if mult < 0:
        raise UsageError(f"scenario {path}: {where}.multiplier must be >= 0")
    return RateSpec(trend, phi, mult, str(d.get("source", "")))


def parse_scenario(raw: Mapping[str, Any], path: Path | None = None) -> ForecastScenario:
    """Validate a scenario mapping (as read from YAML)."""
    top = _check_keys(dict(raw), {"name", "description", "as_of", "aggregate", "backtest", "person", "simulation"}, "scenario", path)
    agg = _check_keys(top.get("aggregate"), {"default_method", "source", "k", "flow_k", "ets_alphas", "ets_betas",
                                              "ets_phis", "ets_min_points", "members"}, "aggregate", path)
    method = agg.get("default_method", "mean_growth")
    if method not in METHODS:
        raise UsageError(f"scenario {path}: aggregate.default_method '{method}' is not one of {list(METHODS)}")
    base = AggregateSettings()
    try:
        aggregate = AggregateSettings(
            k=int(agg.get("k", base.k)), flow_k=int(agg.get("flow_k", base.flow_k)),
            ets_alphas=tuple(float(x) for x in agg.get("ets_alphas", base.ets_alphas)),
            ets_betas=tuple(float(x) for x in agg.get("ets_betas", base.ets_betas)),
            ets_phis=tuple(float(x) for x in agg.get("ets_phis", base.ets_phis)),
            ets_min_points=int(agg.get("ets_min_points", base.ets_min_points)),
            members=tuple(agg.get("members", base.members)),
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(f"scenario {path}: aggregate values must be numbers or lists of numbers ({exc})") from exc
    for m in aggregate.members:
        if m not in METHODS or m == "ensemble":
            raise UsageError(f"scenario {path}: aggregate.members: '{m}' is not a base method")
    bt = _check_keys(top.get("backtest"), {"methods", "horizons", "select_candidates", "select_fallback", "min_errors"}, "backtest", path)
    bbase = BacktestSettings()
    backtest = BacktestSettings(
        methods=tuple(bt.get("methods", bbase.methods)), horizons=int(bt.get("horizons", bbase.horizons)),
        select_candidates=tuple(bt.get("select_candidates", bbase.select_candidates)),
        select_fallback=str(bt.get("select_fallback", bbase.select_fallback)),
        min_errors=int(bt.get("min_errors", bbase.min_errors)), aggregate=aggregate,
    )
    for m in list(backtest.methods) + list(backtest.select_candidates) + [backtest.select_fallback]:
        if m not in METHODS and m != "select":
            raise UsageError(f"scenario {path}: backtest method '{m}' is not one of {list(METHODS) + ['select']}")
    pr = _check_keys(top.get("person"), {"window_years", "source", "incidence", "ceasing", "moves", "shrinkage", "uncertainty"}, "person", path)
    pdef = PersonSettings()
    shrink = _check_keys(pr.get("shrinkage"), {"kappa_age", "kappa_band", "source"}, "person.shrinkage", path)
    unc = _check_keys(pr.get("uncertainty"), {"rate_paths", "scale", "level_years", "source"}, "person.uncertainty", path)
    _check_keys(pr.get("moves"), {"trend", "source"}, "person.moves", path)
    if (pr.get("moves") or {}).get("trend", "constant") != "constant":
        raise UsageError(f"scenario {path}: person.moves.trend: only 'constant' is implemented")
    if unc.get("rate_paths", "bootstrap") not in ("bootstrap", "none"):
        raise UsageError(f"scenario {path}: person.uncertainty.rate_paths must be 'bootstrap' or 'none'")
    person = PersonSettings(
        window_years=int(pr.get("window_years", pdef.window_years)),
        incidence=_rate(pr.get("incidence"), "person.incidence", path, pdef.incidence),
        ceasing=_rate(pr.get("ceasing"), "person.ceasing", path, pdef.ceasing),
        kappa_age=float(shrink.get("kappa_age", pdef.kappa_age)),
        kappa_band=float(shrink.get("kappa_band", pdef.kappa_band)),
        rate_paths=str(unc.get("rate_paths", pdef.rate_paths)),
        uncertainty_scale=float(unc.get("scale", pdef.uncertainty_scale)),
        level_years=int(unc.get("level_years", pdef.level_years)),
    )
    if person.window_years < 1:
        raise UsageError(f"scenario {path}: person.window_years must be at least 1")
    sim = _check_keys(top.get("simulation"), {"sims", "seed"}, "simulation", path)
    sims, seed = int(sim.get("sims", 1000)), int(sim.get("seed", 0))
    if sims < 1:
        raise UsageError(f"scenario {path}: simulation.sims must be at least 1")
    return ForecastScenario(name=str(top.get("name", "scenario")), path=path, default_method=method,
                            aggregate=aggregate, backtest=backtest, person=person, sims=sims, seed=seed, raw=dict(raw))


def load_scenario(path: "str | Path | None" = None) -> ForecastScenario:
    """Load a forecast scenario file (default ``config/scenarios/forecast.yaml``)."""
    p = Path(path).expanduser().resolve() if path not in (None, "") else DEFAULT_SCENARIO
    raw = read_yaml_mapping(p, "forecast scenario file", UsageError)
    return parse_scenario(raw, p)
