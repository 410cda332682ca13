"""Shared fixtures: repository paths and the default configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendlib.core.config import load_config

REPO = Path(__file__).resolve().parent.parent
DATA_RAW = REPO / "data" / "raw"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def default_config():
    return load_config()


@pytest.fixture(scope="session")
def shipped_data_dir() -> Path:
    """The committed synthetic county (data/raw)."""
    if not (DATA_RAW / "ehcp_plans.csv").is_file():
        pytest.skip("data/raw has not been generated")
    return DATA_RAW


@pytest.fixture(autouse=True)
def _private_user_cache(tmp_path_factory, monkeypatch):
    """Each test's report reuse store is its own temporary folder, never the user's real cache
    folder (``sendlib.report.runcache.default_cache_dir``; kernels get the store from the run)."""
    from sendlib.report import runcache

    folder = tmp_path_factory.mktemp("user-cache") / "sendlib"
    monkeypatch.setattr(runcache, "default_cache_dir", lambda: folder)
    return folder
