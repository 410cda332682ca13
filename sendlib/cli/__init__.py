"""The ``sendlib`` command line: one entry point, one subcommand per job.

Each subcommand lives in ``sendlib/commands/<name>.py`` and exposes ``configure(parser)`` (adds
its arguments) and ``run(args) -> int``. Only the chosen subcommand's module is imported, so
``sendlib quarters`` does not pay for importing Great Expectations.

Exit codes are in :mod:`sendlib.core.errors` and README.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sendlib import __version__
from sendlib.core.errors import EXIT_INTERNAL, EXIT_USAGE, SendlibError

#: subcommand -> one-line help. The module is sendlib.cli.commands.<name>.
COMMANDS: dict[str, str] = {
    "synth": "generate the synthetic county (canonical tables) into a folder",
    "quarters": "list the quarters in the data, or explain one quarter",
    "validate": "run the data-quality gate (Great Expectations) on every input table",
    "kpis": "print the strategic KPI table for a quarter",
    "benchmark": "compare an authority with England and its region (DfE SEN2 data)",
    "forecast": "project EHC plans (person-level data or published DfE series)",
    "backtest": "rolling-origin backtest of the forecast methods",
    "sufficiency": "specialist place demand against capacity and the pipeline",
    "scenarios": "high needs block and DSG deficit scenarios",
    "sen2": "check (validate) or import a DfE SEN2 person-level XML return",
    "report": "run the quarterly report pack (validate, notebooks, HTML, tables, manifest)",
    "cache": "show or clear the report's private reuse store (results of identical inputs)",
}


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="F",
        default=None,
        help="configuration YAML (default: config/default.yaml in the repository)",
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, import and configure just that subcommand."""
    parser = argparse.ArgumentParser(
        prog="sendlib",
        description="SEND analytics for English local authorities: KPIs, forecasts, finance, board reports.",
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage error, 3 input data error, 4 report step failed.",
    )
    parser.add_argument("--version", action="version", version=f"sendlib {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            module = importlib.import_module(f"sendlib.cli.commands.{name}")
            _add_common(p)
            module.configure(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, run the subcommand, turn known errors into messages and exit codes."""
    from sendlib import skip_slow_optional_imports

    skip_slow_optional_imports()
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    only = chosen if chosen in COMMANDS else None
    if only is None and not any(a in ("-h", "--help", "--version") for a in args_list):
        parser = build_parser(only="__none__")
        parser.print_help(sys.stderr)
        if chosen is not None:
            print(f"\nsendlib: unknown command '{chosen}'", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser(only=only or "__none__")
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args._run(args) or 0)
    except SendlibError as exc:
        print(f"sendlib {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sendlib: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `sendlib forecast ... | head`: the reader left; not an error
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception:  # a bug: show the traceback so it can be reported
        import traceback

        traceback.print_exc()
        print(
            f"sendlib {args.command}: internal error (exit {EXIT_INTERNAL}); please report the traceback above",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
