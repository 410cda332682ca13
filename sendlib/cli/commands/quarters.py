"""``sendlib quarters``: list the complete quarters in the data, or explain one quarter."""

from __future__ import annotations

import argparse

import pandas as pd

from sendlib.cli.commands.common import add_data_dir, add_format, config_from_args, print_frame
from sendlib.core.quarters import Quarter


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    add_format(parser)
    parser.add_argument(
        "quarter",
        nargs="?",
        default=None,
        help="explain this quarter (any accepted form, e.g. 2025-26Q2, FY2025Q2, latest)",
    )


def describe(q: Quarter) -> dict[str, str]:
    """One quarter's facts as strings (the row `sendlib quarters` prints)."""
    return {
        "quarter": str(q),
        "label": q.label,
        "financial_year": q.financial_year,
        "start": f"{q.start:%Y-%m-%d}",
        "end": f"{q.end:%Y-%m-%d}",
        "previous": str(q.previous),
        "census_date": f"{q.census_date:%Y-%m-%d}",
        "latest_census_date": f"{q.latest_census_date:%Y-%m-%d}",
    }


def run(args: argparse.Namespace) -> int:
    from sendlib.data.loaders import extract_date, quarters_in_data, resolve_quarter

    if args.quarter is not None and args.quarter.lower() != "latest":
        print_frame(pd.DataFrame([describe(Quarter.parse(args.quarter))]), args.format)
        return 0
    cfg = config_from_args(args)
    if args.quarter is not None:
        print_frame(pd.DataFrame([describe(resolve_quarter(args.quarter, cfg))]), args.format)
        return 0
    quarters = quarters_in_data(cfg)
    frame = pd.DataFrame([describe(q) for q in quarters])
    if args.format == "table":
        print(
            f"Data extract date: {extract_date(cfg):%Y-%m-%d}; {len(quarters)} complete quarters; "
            f"latest: {quarters[-1]}"
        )
    print_frame(frame, args.format)
    return 0
