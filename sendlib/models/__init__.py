"""The models: strategic KPIs, the Priority Action Plan tracker, benchmarking against DfE data, the
EHC plan demand forecast, placement sufficiency and high needs / DSG finance, joined by
:mod:`sendlib.models.chain`. Pure functions of their inputs: frames and settings in, frames out.
Imports only :mod:`sendlib.core`, :mod:`sendlib.data` and :mod:`sendlib.quality`, never the
presentation or report layers."""
