"""``sendlib kpis``: print the strategic KPI table (K1-K11) for a quarter.

Published numbers are suppressed (counts 1-4 as ``<5``, percentages on fewer than 10 not shown)
unless ``--unsuppressed`` is given, which is for analysts inside the authority only.
"""

from __future__ import annotations

import argparse

from sendlib.cli.commands.common import add_data_dir, add_format, config_from_args, print_frame

#: Columns printed in the table format (csv/json print every column).
TABLE_COLUMNS = [
    "kpi",
    "name",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target",
    "rag",
    "previous_value",
    "change",
    "national_value",
    "national_year",
]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quarter",
        default="latest",
        help="reporting quarter, e.g. 2025-26Q2 or FY2025Q2 (default: latest complete quarter)",
    )
    add_data_dir(parser)
    add_format(parser)
    parser.add_argument(
        "--unsuppressed", action="store_true", help="print small numbers as they are (internal use only; never publish)"
    )


def run(args: argparse.Namespace) -> int:
    from sendlib.data.loaders import load_tables, resolve_quarter
    from sendlib.models.kpi import compute_kpis
    from sendlib.publish.disclosure import suppress_kpis

    cfg = config_from_args(args)
    tables = load_tables(cfg)
    quarter = resolve_quarter(args.quarter, cfg, tables)
    frame = compute_kpis(tables, quarter, cfg)
    if args.unsuppressed:
        out = frame.drop(columns=["previous_numerator", "previous_denominator"])
    else:
        out = suppress_kpis(frame, threshold=cfg.suppression_threshold, min_denominator=cfg.min_denominator)
    if args.format == "table":
        shown = out[TABLE_COLUMNS].copy()
        for col in ["numerator", "denominator", "value", "target", "previous_value", "change", "national_value"]:
            shown[col] = shown[col].map(_fmt)
        shown["rag"] = shown["rag"].fillna("")
        shown["national_year"] = shown["national_year"].astype(object).where(shown["national_year"].notna(), "")
        print(
            f"{cfg.authority_name}: strategic KPIs, {quarter.label}"
            + ("" if args.unsuppressed else " (small numbers suppressed)")
        )
        print_frame(shown, "table")
    else:
        print_frame(out, args.format)
    return 0


def _fmt(v: object) -> str:
    """Numbers to at most one decimal place for the aligned table; symbols and blanks as they are."""
    if isinstance(v, str):
        return v
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
    if f != f:  # NaN
        return ""
    return f"{f:,.0f}" if f.is_integer() or abs(f) >= 1000 else f"{f:,.1f}"
