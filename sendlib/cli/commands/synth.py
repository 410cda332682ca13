"""``sendlib synth``: generate the synthetic county (every canonical table) into a folder."""

from __future__ import annotations

import argparse
import time


def configure(parser: argparse.ArgumentParser) -> None:
    from sendlib.data.synth import DEFAULT_PARAMS, default_end_date, default_seed, load_params

    try:
        p = load_params()
        seed, end = default_seed(p), default_end_date(p)
    except OSError:  # pragma: no cover - the parameters file ships with the package
        seed, end = 20240424, "2026-09-30"
    parser.add_argument(
        "--out-dir",
        metavar="DIR",
        default=None,
        help="folder to write <table>.csv and metadata.yaml into (created if missing); required unless --calibration",
    )
    parser.add_argument(
        "--calibration",
        action="store_true",
        help=(
            "print the calibration table: each measure of the generated county beside the published record "
            "of the county it is modelled on (DfE SEN2), with its tolerance; exit 1 when any is outside it"
        ),
    )
    parser.add_argument(
        "--format",
        choices=("table", "csv", "markdown"),
        default="table",
        help="calibration table format (default: table)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"random seed (default: {seed}); the same seed gives byte-identical files",
    )
    parser.add_argument(
        "--end-date",
        metavar="YYYY-MM-DD",
        default=None,
        help=f"extract date: last day of the generated history (default: {end})",
    )
    parser.add_argument(
        "--params", metavar="F", default=None, help=f"generator parameters YAML (default: {DEFAULT_PARAMS})"
    )


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from sendlib.core.errors import UsageError
    from sendlib.data.synth import default_end_date, default_seed, load_params, write

    try:
        params = load_params(args.params)
    except OSError as exc:
        raise UsageError(f"cannot read the parameters file: {exc}") from exc
    seed = default_seed(params) if args.seed is None else args.seed
    end = args.end_date or default_end_date(params)
    try:
        end = str(pd.Timestamp(end).date())
    except ValueError as exc:
        raise UsageError(f"--end-date '{args.end_date}' is not a date like 2026-09-30") from exc
    if end < "2019-06-30":
        raise UsageError(f"--end-date {end} is too early: the history starts in April 2018 and needs a year")
    if args.out_dir is None and not args.calibration:
        raise UsageError(
            "give --out-dir DIR (where to write the county) or --calibration (print its calibration table)"
        )
    if args.calibration:
        return _calibration(params, seed, end, args)
    t0 = time.perf_counter()
    paths = write(args.out_dir, seed=seed, end_date=end, params=args.params)
    took = time.perf_counter() - t0
    print(f"sendlib synth: wrote {len(paths)} files to {args.out_dir} (seed {seed}, end date {end}) in {took:.1f} s")
    return 0


def _calibration(params: dict, seed: int, end: str, args: argparse.Namespace) -> int:
    """Generate the county (and write it when ``--out-dir`` is given) and print its calibration table."""
    from sendlib.data.synth import generate, write
    from sendlib.data.synth.calibration import calibration_table, format_table

    if args.out_dir is not None:
        write(args.out_dir, seed=seed, end_date=end, params=args.params)
    tables = generate(seed=seed, end_date=end, params=args.params)
    table = calibration_table(tables, params)
    print(format_table(table, args.format), end="" if args.format != "table" else "\n")
    outside = int((~table["within"]).sum())
    if args.format == "table":
        print(f"{len(table) - outside} of {len(table)} measures within tolerance (seed {seed}, end date {end})")
    return 1 if outside else 0
