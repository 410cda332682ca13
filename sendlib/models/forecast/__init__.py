"""EHC plan demand forecast: person-level stock-flow simulation and aggregate models, backtested.

* :mod:`sendlib.models.forecast.person` - the stock-flow model on the authority's case data, simulated;
  returns a :class:`sendlib.models.projection.PlacementProjection` for sufficiency and finance.
* :mod:`sendlib.models.forecast.aggregate` - methods for a published yearly caseload (naive growth,
  mean growth, damped ETS, flow on new plans, ensemble), vectorised over authorities.
* :mod:`sendlib.models.forecast.backtest` - rolling-origin backtest (MAPE, MASE, bias, interval
  coverage) and forecasts of published series with empirical intervals.
* :mod:`sendlib.models.forecast.scenario` - the scenario file ``config/scenarios/forecast.yaml``.
* :mod:`sendlib.models.forecast.dfe_series` - the DfE series the aggregate model reads.

See ``docs/forecast.md`` for the method notes and the backtest results.
"""

from sendlib.models.forecast.scenario import ForecastScenario, load_scenario

__all__ = ["ForecastScenario", "load_scenario"]
