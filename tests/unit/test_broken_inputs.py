"""The quality gate on deliberately broken copies of the synthetic county.

For each kind of breakage: ``sendlib validate`` exits 3, its message names the table and the
column (or the file), and nothing is written to the output folder. Also: the shipped data passes
every rule, and nothing written (Data Docs, validation.json) holds a person or record id.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from broken_corpus import BREAKAGES, SHIPPED, Breakage, copy_shipped

from sendlib.cli import main
from sendlib.core.schema import TABLES

pytestmark = pytest.mark.skipif(
    not (SHIPPED / "ehcp_requests.csv").is_file(),
    reason="the synthetic county (data/raw/*.csv) is not generated yet: run `make synth`",
)


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Keep the command's temporary Data Docs folder inside tmp_path."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b.kind for b in BREAKAGES])
def test_broken_input_is_refused(breakage: Breakage, tmp_path, scratch, capsys):
    data = copy_shipped(tmp_path / "data")
    breakage.apply(data)
    out = tmp_path / "out"
    code = main(["validate", "--data-dir", str(data), "--output-dir", str(out)])
    captured = capsys.readouterr()
    err = captured.err
    assert code == 3, captured.out + err
    assert "Traceback" not in err
    assert err.startswith("sendlib validate: error: ")
    assert f"table '{breakage.table}'" in err
    if breakage.column is not None:
        assert f"column '{breakage.column}'" in err or f"column '{breakage.column}," in err, err
    else:
        assert f"{breakage.table}.csv" in err, err
    assert _files_under(out) == [], "a failed gate must write nothing to the output folder"


def test_the_twelve_kinds_are_covered():
    kinds = {b.kind for b in BREAKAGES}
    assert {
        "missing_column",
        "unknown_code",
        "negative_cost",
        "duplicate_key",
        "plan_issued_before_request",
        "future_date",
        "impossible_date",
        "negative_places",
        "empty_table",
        "money_as_text",
        "missing_file",
        "wrong_encoding",
    } <= kinds


def _identifiers(data: Path) -> set[str]:
    """Every value of an id-like identifying column in the input (person, request, placement ...)."""
    ids: set[str] = set()
    for name, schema in TABLES.items():
        cols = [c for c in schema.identifying_columns if c.endswith("_id")]
        if not cols or not (data / f"{name}.csv").is_file():
            continue
        df = pd.read_csv(data / f"{name}.csv", dtype=str, usecols=cols, keep_default_na=False)
        for c in cols:
            ids.update(v for v in df[c].unique() if v)
    return ids


def _leaked(folder: Path, ids: set[str]) -> set[str]:
    token = re.compile(r"[A-Z]{1,2}\d{6}")
    found: set[str] = set()
    for path in _files_under(folder):
        text = path.read_text(encoding="utf-8", errors="ignore")
        found |= set(token.findall(text)) & ids
    return found


def test_shipped_data_passes_every_rule_and_docs_hold_no_ids(tmp_path, scratch, capsys):
    out = tmp_path / "out"
    code = main(["validate", "--output-dir", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "PASSED" in captured.out
    docs = out / "data-docs"
    assert (docs / "index.html").is_file()
    assert (docs / "validation.json").is_file()
    written = _files_under(out)
    assert len(written) > 3
    ids = _identifiers(SHIPPED)
    assert len(ids) > 1000
    assert _leaked(out, ids) == set()


def test_failure_results_and_docs_hold_no_ids(tmp_path, scratch, capsys):
    """Failures on identifying columns (duplicate ids, a placement whose person has no plan)
    are reported by row number only: no id reaches the message, results or Data Docs."""
    data = copy_shipped(tmp_path / "data")
    plc = pd.read_csv(data / "placements.csv", dtype=str, keep_default_na=False)
    plc.loc[4, "person_id"] = "P999999"  # a person with no plan
    plc = pd.concat([plc, plc.iloc[[20]]], ignore_index=True)  # duplicate placement_id
    plc.to_csv(data / "placements.csv", index=False, lineterminator="\n")
    docs = tmp_path / "docs"
    code = main(["validate", "--data-dir", str(data), "--output-dir", str(tmp_path / "out"), "--docs-dir", str(docs)])
    captured = capsys.readouterr()
    assert code == 3
    assert "column 'person_id'" in captured.err + captured.out
    assert "row 5" in captured.out
    assert (docs / "index.html").is_file()
    ids = _identifiers(data) | {"P999999"}
    assert _leaked(docs, ids) == set()
    assert not re.search(r"[A-Z]{1,2}\d{6}", captured.out + captured.err)
