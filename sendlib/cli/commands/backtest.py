"""``sendlib backtest``: rolling-origin backtest of the aggregate forecast methods.

On the DfE published series (default; all current authorities, or ``--la``) or on the yearly
totals of the authority's own case data (``--data-dir``). The table is over the scenario file's
``report_origins`` (out of sample: the default method is chosen on ``selection_origins``, with
errors ending before them); with ``--data-dir`` every origin. One row per method x horizon: ``mape``,
``mase``, ``bias`` (percent; positive = over-forecast), ``coverage_80``, ``coverage_95``
(percent of actuals inside the intervals), ``n`` (forecasts scored), ``n_series``, ``n_origins``.
"""

from __future__ import annotations

import argparse

import pandas as pd

from sendlib.cli.commands.common import add_data_dir, add_format, config_from_args, print_frame
from sendlib.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    parser.add_argument(
        "--dfe-dir", metavar="DIR", default=None, help="DfE SEN2 folder (default: the config's reference_dir/dfe)"
    )
    parser.add_argument(
        "--la",
        metavar="CODE",
        nargs="+",
        default=None,
        help="only these authorities (3-digit codes); default all current authorities",
    )
    parser.add_argument(
        "--scenario",
        metavar="F",
        default=None,
        help="forecast scenario YAML (methods, horizons; default config/scenarios/forecast.yaml)",
    )
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from sendlib.models.forecast.backtest import backtest_published
    from sendlib.models.forecast.scenario import load_scenario

    if args.data_dir and (args.dfe_dir or args.la):
        raise UsageError("give either --data-dir (case data) or --dfe-dir/--la (published data), not both")
    sc = load_scenario(args.scenario or None)
    if args.data_dir:
        from sendlib.data.loaders import load_tables
        from sendlib.models.forecast.person import census_years, snapshots

        cfg = config_from_args(args)
        t = load_tables(cfg, ["ehcp_plans", "placements"])
        snaps = snapshots(t["ehcp_plans"], t["placements"], census_years(t["ehcp_plans"], t["placements"]))
        tot = snaps.groupby("year").size()
        series = pd.DataFrame(
            {
                "old_la_code": cfg.dfe_code or "county",
                "la_name": cfg.authority_name,
                "year": tot.index,
                "ehc_plans": tot.to_numpy(float),
                "new_plans": float("nan"),
            }
        )
        # the county's own few censuses: every origin is reported, nothing is selected on them
        settings = sc.backtest.model_copy(update={"min_errors": 5, "selection_origins": None, "report_origins": None})
        result = backtest_published(series, settings, current_only=False)
    else:
        from sendlib.models.forecast.dfe_series import published_series

        result = backtest_published(published_series(args.dfe_dir), sc.backtest, codes=args.la)
    out = result.summary.sort_values(["horizon", "mape"]).reset_index(drop=True)
    num = ["mape", "mase", "bias", "coverage_80", "coverage_95"]
    out[num] = out[num].round(2)
    if args.format == "table":
        rs = result.settings
        reported = out["n_origins"].max() if len(out) else 0
        origins = (
            f"origins {rs.report_origins[0]}-{rs.report_origins[1]} (out of sample)"
            if rs is not None and rs.report_origins
            else f"origins {int(result.cases['origin'].min())}-{int(result.cases['origin'].max())}"
        )
        print(
            f"Rolling-origin backtest: {int(out['n_series'].max())} series, {origins}, up to {reported} "
            f"origins a horizon; metrics in percent except mase; scenario default method: {sc.default_method}"
        )
        if result.selection is not None and len(result.selection):
            from sendlib.models.forecast.backtest import choose_default

            print(
                f"Chosen on origins {rs.selection_origins[0]}-{rs.selection_origins[1]} with targets up to "
                f"{rs.report_origins[0] if rs.report_origins else 'the latest'}: {choose_default(result)} "
                f"(lowest mean MAPE over horizons 1-{rs.default_horizons})"
            )
    print_frame(out, args.format)
    return 0
