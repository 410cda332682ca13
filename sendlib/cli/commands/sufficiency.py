"""``sendlib sufficiency``: specialist place demand against capacity and the pipeline.

Runs the person-level demand forecast, compares its specialist placements with the capacity
table under a sufficiency scenario, and prints per census year: demand (median and 80%
interval), places, children placed in local places, utilisation, probability of a shortfall, the
overflow by destination (other authorities' maintained places, independent special schools,
post-16 providers, early years settings), the out-of-county line and the first year the gap
opens; with ``--level designation`` (the default) each phase also has a total row (designation
``all``). ``--compare F`` prints how capacity, gap and
overflow move between the scenario and a what-if file instead.
"""

from __future__ import annotations

import argparse

from sendlib.cli.commands.common import add_data_dir, add_format, config_from_args, print_frame
from sendlib.core.errors import UsageError

LEVELS = {
    "group": ["phase", "designation", "locality"],
    "designation": ["phase", "designation"],
    "phase": ["phase"],
    "total": None,
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        metavar="F",
        default=None,
        help="sufficiency scenario YAML; a relative name is looked up in the config's scenarios folder, then the current directory (default: the config's report.sufficiency_scenario)",
    )
    parser.add_argument(
        "--compare",
        metavar="F",
        default=None,
        help="a what-if scenario YAML: print base vs what-if capacity, gap and overflow",
    )
    parser.add_argument(
        "--quarter",
        default="latest",
        help="reporting quarter, e.g. 2025-26Q2 (default: latest complete quarter in the data)",
    )
    parser.add_argument("--horizon", type=int, default=5, metavar="N", help="January censuses to project (default 5)")
    parser.add_argument("--sims", type=int, default=500, metavar="N", help="simulations (default 500)")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="random seed (default: the forecast scenario's simulation.seed)",
    )
    parser.add_argument(
        "--level",
        choices=list(LEVELS),
        default="designation",
        help="rows: group (phase x designation x locality), designation (phase x designation), "
        "phase, or total (default: designation)",
    )
    add_data_dir(parser)
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    if args.horizon < 1 or args.horizon > 20:
        raise UsageError(f"--horizon must be 1-20 censuses, not {args.horizon}")
    if args.sims < 10:
        raise UsageError(f"--sims must be at least 10, not {args.sims}")
    from sendlib.data.loaders import load_tables, resolve_quarter
    from sendlib.models import sufficiency as suff

    cfg = config_from_args(args)
    base = suff.load_scenario(cfg.scenario_file(args.scenario, "sufficiency"))
    whatif = suff.load_scenario(cfg.scenario_file(args.compare, "sufficiency")) if args.compare else None
    tables = load_tables(cfg)
    quarter = resolve_quarter(args.quarter, cfg, tables)
    projection = project_demand(cfg, tables, quarter, args.horizon, args.sims, args.seed)
    by = LEVELS[args.level]
    if whatif is not None:
        frame = suff.compare_scenarios(
            projection, tables["capacity"], base, whatif, by=by, placements=tables["placements"]
        )
    else:
        frame = suff.assess(projection, tables["capacity"], base, tables["placements"]).table(by)
    frame = frame.round(3)
    if args.format == "table":
        label = f"{base.name} vs {whatif.name}" if whatif is not None else base.name
        print(
            f"Placement sufficiency, {quarter.label}; scenario {label}; "
            f"{args.sims} simulations; January censuses {projection.years[0]}-{projection.years[-1]}"
        )
    print_frame(frame, args.format)
    return 0


def project_demand(cfg, tables, quarter, horizon: int, sims: int, seed: int | None):
    """The person-level demand forecast as a PlacementProjection: ``horizon`` censuses after the
    last one on or before the quarter's end, with the config's forecast scenario
    (``report.forecast_scenario``); ``seed`` ``None`` takes the scenario's seed."""
    from sendlib.models.forecast import person
    from sendlib.models.forecast.scenario import load_scenario

    fs = load_scenario(cfg.scenario_file("", "forecast"))
    return person.project(
        tables, horizon, sims, fs.seed if seed is None else seed, settings=fs.person, label=fs.name, as_of=quarter.end
    )
