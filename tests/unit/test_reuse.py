"""Reusing results of identical earlier runs: the quality gate's result, loaded tables, start order."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sendlib.core.config import load_config
from sendlib.core.errors import ValidationFailed
from sendlib.quality import gate as quality
from sendlib.report import runcache
from sendlib.report.runner import default_validator, longest_first


def _report(success: bool = True) -> quality.ValidationReport:
    failures = [] if success else [quality.Failure("ehcp_plans", "person_id", "unique", "keys unique", 2, (1, 2))]
    return quality.ValidationReport([], failures, pd.Timestamp("2026-09-30"), "metadata.yaml")


@pytest.fixture
def counted(monkeypatch):
    calls = []

    def fake_assert_valid(config, tables, **kw):
        calls.append(1)
        report = _report(success=not tables["t"].empty and tables["t"]["x"].iloc[0] != -1)
        report.raise_for_failures()
        return report

    monkeypatch.setattr(quality, "assert_valid", fake_assert_valid)
    return calls


def test_an_identical_validation_is_reused_and_any_change_validates_again(tmp_path, counted):
    cfg = load_config().with_output_dir(tmp_path)
    tables = {"t": pd.DataFrame({"x": [1, 2]})}
    first = default_validator(cfg, tables)
    again = default_validator(cfg, {"t": pd.DataFrame({"x": [1, 2]})})
    assert len(counted) == 1 and first.reused_key is None and again.reused_key is not None
    assert again.to_dict()["reused_from_cache"] is True
    default_validator(cfg, {"t": pd.DataFrame({"x": [1, 3]})})  # one value changed
    default_validator(cfg, {"t": pd.DataFrame({"x": [1.0, 2.0]})})  # dtype changed
    assert len(counted) == 3


def test_fresh_validates_again_and_keeps_the_new_result(tmp_path, counted):
    cfg = load_config().with_output_dir(tmp_path)
    tables = {"t": pd.DataFrame({"x": [1, 2]})}
    default_validator(cfg, tables)
    assert default_validator(cfg, tables, fresh=True).reused_key is None
    assert default_validator(cfg, tables).reused_key is not None
    assert len(counted) == 2


def test_a_failed_validation_is_never_stored(tmp_path, counted, _private_user_cache):
    cfg = load_config().with_output_dir(tmp_path)
    bad = {"t": pd.DataFrame({"x": [-1]})}
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            default_validator(cfg, bad)
    assert len(counted) == 2
    assert not list(_private_user_cache.parent.rglob("validation-*")) and not list(tmp_path.rglob("*"))


def test_a_passing_validation_is_kept_in_the_private_cache_not_under_the_output_folder(
    tmp_path, counted, _private_user_cache
):
    cfg = load_config().with_output_dir(tmp_path / "outputs")
    default_validator(cfg, {"t": pd.DataFrame({"x": [1]})})
    (kept,) = _private_user_cache.glob("validation-*.zip")
    assert kept.read_bytes()[:2] == b"PK" and not (tmp_path / "outputs").exists()
    other = cfg.with_cache_dir(tmp_path / "elsewhere")
    default_validator(other, {"t": pd.DataFrame({"x": [1]})})
    assert len(list((tmp_path / "elsewhere").glob("validation-*.zip"))) == 1 and len(counted) == 2


def test_validation_key_depends_on_the_extract_date_and_the_rules(tmp_path, monkeypatch):
    cfg = load_config()
    tables = {"t": pd.DataFrame({"x": [1]})}
    key = quality.validation_key(cfg, tables)
    assert key == quality.validation_key(cfg, {"t": pd.DataFrame({"x": [1]})})
    monkeypatch.setattr(quality, "resolve_extract_date", lambda c, s: (pd.Timestamp("2030-01-01"), "test"))
    assert quality.validation_key(cfg, tables) != key


def test_reused_keeps_a_few_results_per_kind_and_computes_when_there_is_no_store(tmp_path):
    assert runcache.reused(None, "x", {"a": 1}, lambda: 5) == (5, None)
    for i in range(runcache.KEEP_PER_NAME + 2):
        assert runcache.reused(tmp_path, "x", {"a": i}, lambda i=i: i) == (i, None)
    assert runcache.reused(tmp_path, "x", {"a": 4}, lambda: -1) == (4, runcache.cache_key({"a": 4}))
    assert len(list(tmp_path.glob("x-*.zip"))) == runcache.KEEP_PER_NAME


def test_notebooks_start_longest_first_by_the_previous_pack(tmp_path):
    nbs = [Path(f"/nb/{s}.ipynb") for s in ("01_a", "02_b", "03_c", "04_new")]
    assert longest_first(nbs, tmp_path / "missing.json") == nbs
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "notebooks": [
                    {"stem": "01_a", "seconds": 1.0},
                    {"stem": "02_b", "seconds": 9.0},
                    {"stem": "03_c", "seconds": 4.0},
                ]
            }
        )
    )
    assert [p.stem for p in longest_first(nbs, manifest)] == ["04_new", "02_b", "03_c", "01_a"]
    manifest.write_text("not json")
    assert longest_first(nbs, manifest) == nbs
