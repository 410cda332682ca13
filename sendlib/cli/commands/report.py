"""``sendlib report``: run the quarterly board pack into ``<output_dir>/<quarter>/``.

Validates the inputs, executes every notebook with the quarter's parameters, exports HTML without
code, and writes tables, workbooks, the executed notebooks, ``index.html``, ``manifest.json``,
``run.log`` and ``pack.pdf`` (when a Chromium-family browser is found; ``--no-pdf`` skips it).
Exit codes: 0 ok, 2 usage error, 3 input data / quality gate failed (nothing written), 4 a
notebook or an output check failed (previous output untouched; partial output in
``<output_dir>/failed-<quarter>-<timestamp>/``). See docs/report.md.
"""

from __future__ import annotations

import argparse

from sendlib.cli.commands.common import add_cache_dir, add_data_dir, config_from_args
from sendlib.core.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quarter",
        default="latest",
        help="quarter to report, e.g. 2025-26Q2 (default: latest complete quarter in the data)",
    )
    add_data_dir(parser)
    parser.add_argument(
        "--output-dir", metavar="DIR", default=None, help="write <DIR>/<quarter>/ instead of the config's output_dir"
    )
    add_cache_dir(parser)
    parser.add_argument(
        "--notebooks-dir",
        metavar="DIR",
        default=None,
        help="run the notebooks in DIR instead of the config's notebooks_dir",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        metavar="N",
        type=int,
        default=None,
        help="notebooks run at once (default: report.jobs in the config, else the number of cores)",
    )
    parser.add_argument(
        "--only",
        metavar="NAME",
        nargs="+",
        default=None,
        help="run only these notebooks (e.g. 02_kpi_dashboard or kpi_dashboard)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help="longest a single notebook cell may run (default: no limit)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="compute everything again: run the quality gate and the simulations even when an "
        "earlier run kept results for identical inputs, code and settings "
        "(the new results are kept for later runs; `sendlib cache clear` deletes them)",
    )
    parser.add_argument(
        "--no-pdf",
        dest="pdf",
        action="store_false",
        help="do not print pack.pdf (by default it is written when Chromium, Chrome or Edge is found)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="log only to run.log; print just the result line")


def run(args: argparse.Namespace) -> int:
    from sendlib.report.runner import run_report

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    cfg = config_from_args(args)
    result = run_report(
        cfg,
        args.quarter,
        jobs=args.jobs,
        only=args.only,
        notebooks_dir=args.notebooks_dir,
        timeout=args.timeout,
        quiet=args.quiet,
        fresh=args.fresh,
        pdf=args.pdf,
    )
    print(
        f"sendlib report: {result.quarter}: {len(result.notebooks)} section(s) ok; "
        f"open {result.output_dir / 'index.html'}"
    )
    return result.exit_code
