"""The synthetic county has no DfE code of its own; Oxfordshire (931) is its named comparator."""

from __future__ import annotations

import io

import pandas as pd

from sendlib.cli import main
from sendlib.publish.narrative import benchmark_subject


def _csv(capsys) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False)


def test_the_synthetic_county_projection_carries_no_real_authority_code(capsys):
    assert main(["forecast", "--horizon", "1", "--sims", "3", "--format", "csv"]) == 0
    out = _csv(capsys)
    assert "old_la_code" in out.columns and len(out)
    assert set(out["old_la_code"]) == {""}  # blank: the county is no real authority


def test_benchmark_defaults_to_the_comparator_named_as_itself(capsys):
    assert main(["benchmark", "--latest", "--format", "csv"]) == 0
    out = _csv(capsys)
    assert set(out["old_la_code"]) == {"931"} and set(out["la_name"]) == {"Oxfordshire"}


def test_benchmark_subject_names_a_comparator_as_a_real_other_authority():
    text = benchmark_subject("Synthetic County", None, "931", "Oxfordshire")
    assert text.startswith("Synthetic County is compared with Oxfordshire (931), a real authority")
    assert "not Synthetic County's" in text
    assert "compared with" in benchmark_subject("Anyshire", "123", "931", "Oxfordshire")
    own = benchmark_subject("Oxfordshire", "931", "931", "Oxfordshire")
    assert own.startswith("Oxfordshire's own published figures (DfE code 931)") and "compared with" not in own
