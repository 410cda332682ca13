"""High needs block and DSG deficit scenarios (``docs/finance.md``).

Load a scenario file (:func:`load_scenarios`), then :func:`run_finance` with the placement
projection (forecast -> sufficiency) and the ``hnb_budget`` / ``dsg_income`` tables. The finance
workbook is written by :mod:`sendlib.publish.finance_workbook`.
"""

from sendlib.models.finance.dsg import (
    DSG_CATEGORIES,
    SETTING_TO_CATEGORY,
    template_finance,
    template_placements,
    template_wide,
)
from sendlib.models.finance.model import (
    FinanceBase,
    SimOutput,
    build_base,
    carry_forward_balance,
    central_params,
    invest_to_save,
    setting_counts,
    simulate,
    yearly_table,
)
from sendlib.models.finance.montecarlo import fan_table, probability_table, run_monte_carlo
from sendlib.models.finance.run import (
    COMPARISON_COLUMNS,
    FinanceResults,
    describe_scenarios,
    reconciliation_text,
    run_finance,
)
from sendlib.models.finance.scenarios import (
    ASSUMPTIONS,
    Scenario,
    ScenarioFile,
    assumptions_table,
    load_scenarios,
    parse_scenarios,
)
from sendlib.models.finance.tornado import tornado_table

__all__ = [
    "ASSUMPTIONS",
    "COMPARISON_COLUMNS",
    "DSG_CATEGORIES",
    "SETTING_TO_CATEGORY",
    "FinanceBase",
    "FinanceResults",
    "Scenario",
    "ScenarioFile",
    "SimOutput",
    "assumptions_table",
    "build_base",
    "carry_forward_balance",
    "central_params",
    "describe_scenarios",
    "fan_table",
    "invest_to_save",
    "load_scenarios",
    "parse_scenarios",
    "probability_table",
    "run_finance",
    "run_monte_carlo",
    "setting_counts",
    "simulate",
    "template_finance",
    "template_placements",
    "template_wide",
    "tornado_table",
    "yearly_table",
    "reconciliation_text",
]
