"""``sendlib validate``: run the data-quality gate (Great Expectations) on every input table.

Loads every canonical table (a file that cannot be read stops the run with exit 3 and writes
nothing; with the config's ``missing_tables: skip`` a table whose file is not there is listed, with
the report sections that need it, instead), validates them against the committed suites in ``expectations/``, prints one line per
table (rows, rules, passed, failed) and each failure (table, column, rule, rows, example row
numbers; never a value of an identifying column), writes the Data Docs site to
``<output_dir>/data-docs/`` (``<output_dir>/<quarter>/data-docs/`` with ``--quarter``) with a
``validation.json`` summary in it, and exits 0 only when every rule passed (3 otherwise). When the
gate fails the output folder is not touched: the Data Docs go to a temporary folder (printed), or
to ``--docs-dir``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from sendlib.cli.commands.common import add_data_dir, add_format, config_from_args, print_frame


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_dir(parser)
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        default=None,
        help="write the Data Docs site under DIR/data-docs (default: the config's output_dir)",
    )
    parser.add_argument(
        "--quarter", default=None, help="write under <output-dir>/<quarter>/data-docs (any accepted form, or latest)"
    )
    parser.add_argument(
        "--tables", default=None, metavar="T1,T2", help="validate only these tables (comma-separated; default all)"
    )
    parser.add_argument(
        "--docs-dir",
        metavar="DIR",
        default=None,
        help="build the Data Docs site in DIR whatever the result (default: "
        "<output-dir>/data-docs when every rule passed, else a temporary folder)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not build the Data Docs site")
    add_format(parser)


def run(args: argparse.Namespace) -> int:
    from sendlib.core.errors import UsageError, ValidationFailed
    from sendlib.core.schema import TABLES

    start = time.perf_counter()
    cfg = config_from_args(args)
    names = None
    if args.tables:
        names = [t.strip() for t in args.tables.split(",") if t.strip()]
        unknown = [t for t in names if t not in TABLES]
        if unknown:
            raise UsageError(f"--tables: unknown table(s) {unknown}; expected some of {sorted(TABLES)}")
    from sendlib.data.loaders import load_tables, resolve_quarter
    from sendlib.quality import gate

    # 1. read everything first: a DataError here exits 3 before anything is written
    frames = load_tables(cfg, names)
    absent = [n for n in (names or TABLES) if n not in frames]  # only with missing_tables: skip
    out_dir = cfg.output_dir
    if args.quarter:
        out_dir = out_dir / str(resolve_quarter(args.quarter, cfg, frames if names is None else None))
    # 2. validate (one GX context for the whole run). Data Docs are built in a scratch folder and
    #    moved into the output folder only when everything passed: a failed gate leaves the
    #    output folder untouched (the report pack must not hold half a run).
    scratch = None
    if args.no_docs:
        build_dir = None
    elif args.docs_dir:
        build_dir = Path(args.docs_dir).expanduser().resolve()
    else:
        scratch = Path(tempfile.mkdtemp(prefix="sendlib-data-docs-"))
        build_dir = scratch / "data-docs"
    report = gate.validate_tables(cfg, frames, docs_dir=build_dir)
    if scratch is not None and report.success:
        final = out_dir / "data-docs"
        if final.exists():
            shutil.rmtree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(build_dir), str(final))
        shutil.rmtree(scratch, ignore_errors=True)
        report.docs_index = final / "index.html"
        build_dir = final
    if build_dir is not None:
        (build_dir / "validation.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    frame = report.to_frame()
    frame["latest_date"] = frame["latest_date"].map(lambda d: "" if d is None or d != d else f"{d:%Y-%m-%d}")
    if args.format == "table":
        print(
            f"Data-quality gate: {cfg.data_dir} (extract date {report.extract_date:%Y-%m-%d}, "
            f"from {report.extract_date_source})"
        )
    print_frame(frame, args.format)
    if args.format == "table":
        if absent:
            print(f"\nNot in the data (config missing_tables: skip), so not validated: {', '.join(absent)}")
            for line in _sections_without(cfg, absent):
                print(f"  - {line}")
        if report.failures:
            print(f"\n{len(report.failures)} failure(s):")
            for f in report.failures:
                print(f"  - {f.message}")
        if report.docs_index is not None:
            where = "" if report.success or args.docs_dir else " (not copied to the output folder: the gate failed)"
            print(f"\nData Docs: {report.docs_index}{where}")
        print(f"{'PASSED' if report.success else 'FAILED'} in {time.perf_counter() - start:.1f} s")
    if not report.success:
        raise ValidationFailed(
            f"the data-quality gate failed ({len(report.failures)} rule(s)); "
            + "; ".join(f.message for f in report.failures[:3])
            + (" ..." if len(report.failures) > 3 else "")
        )
    return 0


def _sections_without(cfg, absent: list[str]) -> list[str]:
    """For each board-pack section that needs one of the ``absent`` tables: its name and what it lacks."""
    from sendlib.core.errors import UsageError
    from sendlib.report.export import discover_notebooks, notebook_needs

    try:
        notebooks = discover_notebooks(cfg.notebooks_dir)
    except UsageError:
        return []
    out = []
    for p in notebooks:
        lacking = [n for n in notebook_needs(p) if n.partition(".")[0] in absent]
        if lacking:
            out.append(
                f"section {p.stem} cannot run without: {', '.join(dict.fromkeys(n.partition('.')[0] for n in lacking))}"
            )
    return out
