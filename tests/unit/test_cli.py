"""The sendlib command line: subcommands, help, exit codes, the quarters command."""

import subprocess
import sys

import pytest

from sendlib.cli import COMMANDS, main


def test_help_lists_every_subcommand(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_every_subcommand_has_help(capsys):
    for name in COMMANDS:
        try:
            import importlib

            importlib.import_module(f"sendlib.cli.commands.{name}")
        except ModuleNotFoundError:
            pytest.fail(f"subcommand module sendlib.cli.commands.{name} is missing")
        assert main([name, "--help"]) == 0, name
        assert "--config" in capsys.readouterr().out


def test_quarters_explains_one_quarter(capsys):
    assert main(["quarters", "FY2025Q4", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "2025-26Q4" in out and "2026-01-01" in out and "2026-03-31" in out


def test_bad_quarter_exits_2_with_a_message(capsys):
    assert main(["quarters", "2025-27Q1"]) == 2
    assert "one year to the next" in capsys.readouterr().err


def test_quarters_lists_the_data(shipped_data_dir, capsys):
    assert main(["quarters", "--data-dir", str(shipped_data_dir), "--format", "csv"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("quarter,")
    assert out[-1].startswith("2026-27Q2")  # shipped extract date 2026-09-30


def test_console_script_is_installed():
    r = subprocess.run([sys.executable, "-m", "sendlib.cli", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "sendlib" in r.stdout


def test_data_model_doc_is_generated_from_the_schema():
    from pathlib import Path

    from sendlib.core.schema import data_model_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"
    assert doc.read_text() == data_model_markdown(), "run: python -m sendlib.core.schema > docs/data-model.md"


def test_csv_output_is_formula_safe_and_keeps_negative_numbers(capsys):
    import io

    import pandas as pd

    from sendlib.cli.commands.common import print_frame

    out = io.StringIO()
    print_frame(pd.DataFrame({"name": ["=1+2", "+cmd", "ok"], "balance_gbp": [-10.5, 2.0, 0.0]}), "csv", out)
    assert out.getvalue() == "name,balance_gbp\n'=1+2,-10.5\n'+cmd,2.0\nok,0.0\n"
