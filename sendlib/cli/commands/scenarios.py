"""``sendlib scenarios``: high needs block and DSG deficit scenarios side by side.

Validates the scenario file first (nothing is computed or written when it is bad), projects
demand (forecast -> sufficiency), prices it per scenario, and prints one row per scenario x
financial year: income, expenditure, in-year and cumulative balance, with the 10th and 90th
percentiles of the cumulative balance from the Monte Carlo. ``--format json`` prints an object:
``scenario_file`` (relative to the config file's folder, :meth:`~sendlib.core.config.Config.relative`),
``comparison`` (those rows), ``base_unit_costs_gbp`` (setting type -> the council's cost per place
a year in the base year) and ``statutory_override`` (its last financial year and each scenario's
cumulative balance on 31 March of it). ``--excel`` also writes the workbook.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sendlib.cli.commands.common import add_data_dir, add_format, config_from_args, print_frame
from sendlib.core.errors import UsageError

#: forecast (plans, placements, population), sufficiency (capacity), finance (budget, income)
TABLES_NEEDED = ("ehcp_plans", "placements", "population", "capacity", "hnb_budget", "dsg_income")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios",
        metavar="F",
        default="",
        help="DSG scenario YAML (default: the config's report.scenarios, config/scenarios/dsg.yaml)",
    )
    parser.add_argument("--quarter", default="latest", help="report quarter, e.g. 2025-26Q2 (default: latest)")
    parser.add_argument(
        "--horizon",
        type=int,
        default=None,
        help="years after the base year (default: the config's report.horizon_years, else 5)",
    )
    parser.add_argument("--draws", type=int, default=2000, help="Monte Carlo draws (default 2000; 0 = none)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        default=None,
        help="run only this scenario (repeatable; default: every scenario in the file)",
    )
    add_data_dir(parser)
    add_format(parser)
    parser.add_argument("--excel", metavar="PATH", default=None, help="also write the scenarios workbook (.xlsx) here")


def run(args: argparse.Namespace) -> int:
    from sendlib.data.loaders import load_tables, resolve_quarter
    from sendlib.models import chain
    from sendlib.models.finance import load_scenarios, run_finance
    from sendlib.models.finance.demand import census_years_needed
    from sendlib.models.forecast.scenario import load_scenario
    from sendlib.models.sufficiency import load_scenario as load_sufficiency
    from sendlib.publish.finance_workbook import write_workbook

    cfg = config_from_args(args)
    sf = load_scenarios(cfg.scenario_file(args.scenarios, "dsg"))  # validated before anything else
    if args.draws < 0:
        raise UsageError(f"--draws must be 0 or more, not {args.draws}")
    horizon = args.horizon if args.horizon is not None else cfg.report.horizon_years
    if not 1 <= horizon <= 30:
        raise UsageError(f"--horizon must be 1-30 years, not {horizon}")
    if args.excel and Path(args.excel).suffix.lower() != ".xlsx":
        raise UsageError(f"--excel {args.excel}: the workbook name must end in .xlsx")
    tables = load_tables(cfg, TABLES_NEEDED)
    quarter = resolve_quarter(args.quarter, cfg, tables)
    projection = chain.quarter_projection(
        tables,
        quarter,
        load_scenario(cfg.scenario_file("", "forecast")),
        horizon_years=cfg.report.horizon_years,
        through_year=census_years_needed(quarter, horizon)[-1],
        seed=args.seed,
    )
    demand = chain.finance_projections(
        tables, projection, load_sufficiency(cfg.scenario_file("", "sufficiency")), sf, quarter, args.only
    )
    res = run_finance(
        sf, demand, tables, quarter, horizon=horizon, draws=args.draws, seed=args.seed, scenarios=args.only
    )
    if args.format == "table":
        from sendlib.models.finance import reconciliation_text

        print(f"DSG scenarios, {quarter.label}; {args.draws} Monte Carlo draws; scenario file {cfg.relative(sf.path)}")
        print(reconciliation_text(res))
    if args.format == "json":
        records = json.loads(res.comparison.to_json(orient="records"))
        position = json.loads(res.override_position.to_json(orient="records"))
        payload = {
            "quarter": str(quarter),
            "scenario_file": cfg.relative(sf.path),
            "base_financial_year": res.base.labels[0],
            "base_unit_costs_gbp": res.base_unit_costs_gbp,
            "statutory_override": {"end_financial_year": res.override_end, "position": position},
            "comparison": records,
        }
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_frame(res.comparison, args.format)
    if args.excel:
        from sendlib.data.loaders import SYNTHETIC_NOTICE, read_metadata

        notice = SYNTHETIC_NOTICE if read_metadata(cfg.data_dir).synthetic else None
        path = write_workbook(res, args.excel, notice=notice, base_dir=cfg.path.parent)
        print(f"wrote {path}", file=sys.stderr)
    return 0
