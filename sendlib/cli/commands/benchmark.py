"""``sendlib benchmark``: an authority against its region and England on the DfE's SEN2 figures.

Reads the shipped extract (``<reference_dir>/dfe`` of the config, i.e. ``data/reference/dfe``) or
the folder given with ``--dfe-dir`` (full DfE downloads, or a newer release). No network.
"""

from __future__ import annotations

import argparse

from sendlib.cli.commands.common import add_format, config_from_args, print_frame


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--la",
        metavar="CODE",
        default=None,
        help="DfE 3-digit authority code (old_la_code) or name (default: the config's comparator_code, else its dfe_code)",
    )
    parser.add_argument(
        "--dfe-dir",
        metavar="DIR",
        default=None,
        help="folder with the DfE SEN2 files (default: <reference_dir>/dfe, the shipped extract)",
    )
    parser.add_argument("--latest", action="store_true", help="only the latest year with data for each indicator")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from sendlib.data.dfe import default_dfe_dir
    from sendlib.models.benchmark import benchmark, latest

    cfg = config_from_args(args)
    dfe_dir = args.dfe_dir or default_dfe_dir(cfg)
    la = args.la or cfg.benchmark_code
    table = benchmark(la, dfe_dir)
    if args.latest:
        table = latest(table)
    if args.format == "table" and len(table):
        first = table.iloc[0]
        print(
            f"{first['la_name']} ({first['old_la_code']}) against {first['region_name']} and England; "
            f"rank 1 = highest value among authorities. Source: DfE SEN2 ({dfe_dir})"
        )
        table = table.drop(columns=["label"]).round(1)
    print_frame(table, args.format)
    return 0
