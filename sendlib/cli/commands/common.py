"""Small helpers the subcommands share: config with --data-dir/--output-dir applied, output formats."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from sendlib.core.config import Config, load_config

if TYPE_CHECKING:  # pandas is imported where a frame is printed: `sendlib report` starts without it
    import pandas as pd

FORMATS = ("table", "csv", "json")


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="read the canonical tables from DIR instead of the config's data_dir",
    )


def add_format(parser: argparse.ArgumentParser, default: str = "table") -> None:
    parser.add_argument("--format", choices=FORMATS, default=default, help=f"output format (default: {default})")


def config_from_args(args: argparse.Namespace) -> Config:
    """The run's config, with --data-dir, --output-dir and --cache-dir applied when the command
    has them."""
    cfg = load_config(getattr(args, "config", None))
    cfg = cfg.with_data_dir(getattr(args, "data_dir", None))
    cfg = cfg.with_output_dir(getattr(args, "output_dir", None))
    cfg = cfg.with_cache_dir(getattr(args, "cache_dir", None))
    return cfg


def add_cache_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=None,
        help="keep the report's reuse store in DIR instead of the config's paths.cache_dir "
        "(default: the user's cache folder)",
    )


def print_frame(df: pd.DataFrame, fmt: str, out: TextIO | None = None) -> None:
    """Print a frame as an aligned table, CSV (UTF-8, LF) or JSON records.

    CSV is formula-safe (:func:`sendlib.publish.sanitise.neutralise_frame`): it is what a user
    redirects to a file and opens in Excel.
    """
    out = out or sys.stdout
    if fmt == "csv":
        from sendlib.publish.sanitise import neutralise_frame

        neutralise_frame(df).to_csv(out, index=False, lineterminator="\n")
    elif fmt == "json":
        records = json.loads(df.to_json(orient="records", date_format="iso"))
        json.dump(records, out, indent=2)
        out.write("\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            out.write(df.to_string(index=False) + "\n")
