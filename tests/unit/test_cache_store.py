"""Where the report's reuse store lives (never under the output folder), its permissions, the
``sendlib cache`` command, and manifest paths relative to the config file's folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from sendlib.cli import main
from sendlib.core.config import load_config
from sendlib.report import provenance, runcache

POSIX = os.name == "posix"


def _config(tmp_path: Path, extra_paths: str = "", report: str = "") -> Path:
    folder = tmp_path / "project" / "config"
    folder.mkdir(parents=True)
    cfg = folder / "sendlib.yaml"
    cfg.write_text(
        "authority: {name: Test County, dfe_code: '999'}\n"
        f"paths: {{data_dir: ../data, output_dir: ../outputs{extra_paths}}}\n" + report,
        encoding="utf-8",
    )
    return cfg


def test_cache_dir_resolves_from_the_config_folder_else_the_user_cache(tmp_path, _private_user_cache):
    plain = load_config(_config(tmp_path / "a"))
    assert plain.cache_dir is None
    assert runcache.reuse_store(plain) == runcache.cache_dir_of(plain) == _private_user_cache
    configured = load_config(_config(tmp_path / "b", ", cache_dir: ../private-cache"))
    assert configured.cache_dir == (tmp_path / "b" / "project" / "private-cache").resolve()
    assert runcache.reuse_store(configured) == configured.cache_dir
    assert configured.with_cache_dir(tmp_path / "cli").cache_dir == (tmp_path / "cli").resolve()
    assert configured.with_output_dir(tmp_path / "out").cache_dir == configured.cache_dir
    off = load_config(_config(tmp_path / "c", report="report: {reuse: false}\n"))
    assert runcache.reuse_store(off) is None


def test_a_cache_dir_under_the_output_folder_is_refused(tmp_path):
    from sendlib.core.errors import ConfigError

    inside = load_config(_config(tmp_path, ", cache_dir: ../outputs/.private"))
    with pytest.raises(ConfigError, match=r"paths.cache_dir \(or --cache-dir\) is inside paths.output_dir"):
        runcache.reuse_store(inside)
    with pytest.raises(ConfigError):
        runcache.cache_dir_of(inside.with_cache_dir(None).with_output_dir(tmp_path).with_cache_dir(tmp_path / "c"))
    assert main(["cache", "info", "--config", str(inside.path)]) == 2


def test_the_real_default_is_the_users_cache_folder(monkeypatch):
    import platformdirs

    monkeypatch.undo()  # the autouse fixture replaced default_cache_dir
    assert runcache.default_cache_dir() == Path(platformdirs.user_cache_dir("sendlib", appauthor=False))
    assert "outputs" not in runcache.default_cache_dir().parts


@pytest.mark.skipif(not POSIX, reason="POSIX permission bits")
def test_the_store_is_created_owner_only_and_a_loose_one_is_tightened(tmp_path):
    store = tmp_path / "deep" / "store"
    runcache.keep(store, "validation", {"k": 1}, {"ok": True})
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    (entry,) = store.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and entry.read_bytes()[:2] == b"PK"
    store.chmod(0o755)
    runcache.keep(store, "validation", {"k": 2}, {"ok": True})
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    run = runcache.new_run_cache()
    try:
        assert stat.S_IMODE(run.stat().st_mode) == 0o700
        runcache.save_tables(run, {"t": pd.DataFrame({"x": [1]})})
        assert stat.S_IMODE((run / runcache.TABLES_FILE).stat().st_mode) == 0o600
    finally:
        import shutil

        shutil.rmtree(run)


def test_a_tampered_stored_result_is_not_used_but_computed_again(tmp_path):
    store = tmp_path / "store"
    parts = {"k": 1}
    runcache.keep(store, "proj", parts, {"value": 1})
    (entry,) = store.glob("proj-*.zip")
    entry.write_bytes(b"\x80\x04\x95" + b"not really a pickle")  # pickle's magic bytes
    assert runcache.lookup(store, "proj", parts) is None
    assert runcache.reused(store, "proj", parts, lambda: {"value": 2}) == ({"value": 2}, None)
    assert runcache.lookup(store, "proj", parts) == {"value": 2}


def test_clear_and_size_touch_only_what_sendlib_wrote(tmp_path):
    store = tmp_path / "store"
    for i in range(2):
        runcache.keep(store, "projection", {"k": i}, {"i": i})
    mine = store / ".projection-0123.zip.abc.tmp"
    mine.write_bytes(b"half-written")
    theirs = store / "notes.txt"
    theirs.write_text("not ours")
    n, size = runcache.store_size(store)
    assert n == 2 and size == sum(p.stat().st_size for p in store.iterdir() if p != theirs)
    assert runcache.clear_store(store) == (n, size)
    assert [p.name for p in store.iterdir()] == ["notes.txt"]
    theirs.unlink()
    runcache.keep(store, "projection", {"k": 9}, {"i": 9})
    runcache.clear_store(store)
    assert not store.exists()  # empty: removed
    assert runcache.clear_store(store) == (0, 0) and runcache.store_size(store) == (0, 0)


def test_a_legacy_cache_under_the_output_folder_is_deleted(tmp_path):
    out = tmp_path / "outputs"
    assert runcache.remove_legacy_cache(out) is None
    (out / ".cache").mkdir(parents=True)
    (out / ".cache" / "tables-0123456789abcdef01234567.pkl").write_bytes(b"\x80\x04person ids")
    (out / "2025-26Q2").mkdir()
    assert runcache.remove_legacy_cache(out) == out / ".cache"
    assert [p.name for p in out.iterdir()] == ["2025-26Q2"]
    if POSIX:  # a link is removed, never what it points to
        target = tmp_path / "elsewhere"
        target.mkdir()
        (target / "keep.txt").write_text("x")
        (out / ".cache").symlink_to(target, target_is_directory=True)
        runcache.remove_legacy_cache(out)
        assert not (out / ".cache").exists() and (target / "keep.txt").is_file()


def test_cache_info_and_clear_commands(tmp_path, capsys, _private_user_cache):
    cfg = _config(tmp_path, ", cache_dir: ../cache")
    store = (cfg.parent.parent / "cache").resolve()
    runcache.keep(store, "projection", {"k": 1}, {"x": 1})
    assert main(["cache", "info", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert str(store) in out and "stored results: 1" in out and "reuse between runs: on" in out
    assert main(["cache", "clear", "--config", str(cfg)]) == 0
    assert "1 stored result(s)" in capsys.readouterr().out and not store.exists()

    runcache.keep(_private_user_cache, "validation", {"k": 1}, {"x": 1})
    assert main(["cache", "info"]) == 0
    assert str(_private_user_cache) in capsys.readouterr().out
    other = tmp_path / "other"
    runcache.keep(other, "validation", {"k": 1}, {"x": 1})
    assert main(["cache", "clear", "--cache-dir", str(other)]) == 0
    assert not other.exists() and _private_user_cache.is_dir()
    assert main(["cache"]) == 2  # an action is required


def test_manifest_paths_are_relative_to_the_config_folder(tmp_path, monkeypatch):
    cfg = load_config(_config(tmp_path, ", notebooks_dir: ../notebooks"))
    assert provenance.config_relative(cfg.path, cfg) == "sendlib.yaml"
    assert provenance.config_relative(cfg.data_dir, cfg) == "../data"
    assert provenance.config_relative(cfg.path.parent / "scenarios" / "dsg.yaml", cfg) == "scenarios/dsg.yaml"
    hashes = {"data": {"a.csv": "1"}, "other": {str(tmp_path / "project" / "extra" / "t.parquet"): "2"}}
    assert provenance.relative_input_hashes(hashes, cfg) == {
        "data": {"a.csv": "1"},
        "other": {"../extra/t.parquet": "2"},
    }

    def other_drive(path, start=None):
        raise ValueError("path is on mount 'D:', start on mount 'C:'")

    monkeypatch.setattr(provenance.os.path, "relpath", other_drive)
    assert provenance.config_relative(tmp_path / "x" / "t.csv", cfg) == "<elsewhere>/t.csv"
