"""``sendlib forecast``: project EHC plans from the authority's case data (person-level model)
or from the DfE's published series for one, several or all authorities (aggregate model).

Output rows are January census years: with published data one row per authority x year
(``old_la_code``, ``la_name``, ``year``, ``median``, ``lower_80``, ``upper_80``, ``lower_95``,
``upper_95``, ``method``); with case data, rows for the total and by age band, need and setting
(``breakdown`` names which, ``group`` the value).
"""

from __future__ import annotations

import argparse

import pandas as pd

from sendlib.cli.commands.common import add_data_dir, add_format, config_from_args, print_frame
from sendlib.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    parser.add_argument(
        "--dfe-dir",
        metavar="DIR",
        default=None,
        help="forecast the DfE published series read from DIR (default: the config's reference_dir/dfe)",
    )
    parser.add_argument(
        "--la",
        metavar="CODE",
        nargs="+",
        default=None,
        help="authorities to forecast from published data: 3-digit codes (e.g. 931), or 'all'",
    )
    parser.add_argument("--horizon", type=int, default=5, help="years ahead (January censuses; default 5)")
    parser.add_argument("--sims", type=int, default=None, help="simulations (default: the scenario's, 1000)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    parser.add_argument(
        "--scenario", metavar="F", default=None, help="forecast scenario YAML (default: config/scenarios/forecast.yaml)"
    )
    parser.add_argument(
        "--method",
        default=None,
        help="aggregate method for published data: naive_growth, mean_growth, no_change, damped_ets, flow, panel, "
        "ensemble or weighted (default: the scenario's default_method)",
    )
    add_format(parser)


def _round(df: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in ("median", "lower_80", "upper_80", "lower_95", "upper_95") if c in df.columns]
    df = df.copy()
    df[cols] = df[cols].round(0)
    return df


def run(args: argparse.Namespace) -> int:
    from sendlib.models.forecast.scenario import load_scenario

    if args.horizon < 1 or args.horizon > 20:
        raise UsageError("--horizon must be between 1 and 20 years")
    if args.sims is not None and args.sims < 1:
        raise UsageError("--sims must be at least 1")
    if args.data_dir and (args.dfe_dir or args.la):
        raise UsageError("give either --data-dir (case data) or --dfe-dir/--la (published data), not both")
    sc = load_scenario(args.scenario or None)
    cfg = config_from_args(args)
    if args.dfe_dir or args.la:
        from sendlib.models.forecast.backtest import forecast_published
        from sendlib.models.forecast.dfe_series import published_series

        method = args.method or sc.default_method
        series = published_series(args.dfe_dir)
        codes = args.la or [cfg.benchmark_code]
        if [c.lower() for c in codes] == ["all"]:
            latest = series.loc[series["ehc_plans"].notna(), "year"].max()
            codes = sorted(series.loc[(series["year"] == latest) & series["ehc_plans"].notna(), "old_la_code"].unique())
        out = forecast_published(series, args.horizon, method, codes, sc.backtest)
        out = out[out["kind"] == "forecast"].drop(columns="kind")
        print_frame(_round(out), args.format)
        return 0
    from sendlib.data.loaders import load_tables
    from sendlib.models.forecast.person import project

    tables = load_tables(cfg, ["ehcp_plans", "placements", "population"])
    proj = project(
        tables,
        args.horizon,
        n_sims=args.sims or sc.sims,
        seed=sc.seed if args.seed is None else args.seed,
        settings=sc.person,
        label=sc.name,
    )
    parts = [proj.summary().assign(breakdown="total", group="all")]
    for col in ("age_group", "primary_need", "setting_type"):
        parts.append(proj.summary(by=[col]).rename(columns={col: "group"}).assign(breakdown=col))
    out = pd.concat(parts, ignore_index=True)
    # the authority's own code; blank for data that are no real authority's (the synthetic county)
    out.insert(0, "old_la_code", cfg.dfe_code or "")
    out = out[["old_la_code", "breakdown", "group", "year", "median", "lower_80", "upper_80", "lower_95", "upper_95"]]
    if args.format == "table":
        print(
            f"{cfg.authority_name}: EHC plans projected at each January census, scenario '{sc.name}', "
            f"{proj.n_sims} simulations"
        )
    print_frame(_round(out), args.format)
    return 0
