"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def shipped_report(tmp_path_factory):
    """``sendlib report --quarter latest`` on the shipped synthetic county, run once for every
    test that looks at the real pack: ``(exit code, output folder)``. Tests that use it skip
    first when the real pack cannot be built (``test_report._real_pack_available``)."""
    from sendlib.cli import main

    out = tmp_path_factory.mktemp("shipped_report")
    code = main(["report", "--quarter", "latest", "--output-dir", str(out), "--quiet"])
    return code, out
