"""The house style holds: ruff's lint rules and formatter (configured in pyproject.toml) pass."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[dev]')")
@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff_passes(command):
    result = subprocess.run([RUFF, *command], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ruff {' '.join(command)} (fix with `make format`):\n{result.stdout[-4000:]}"


def test_pre_commit_uses_the_pinned_ruff():
    import tomllib

    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    pinned = next(r.split("==")[1] for r in dev if r.startswith("ruff=="))
    hooks = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())["repos"]
    ruff = next(r for r in hooks if r["repo"].endswith("ruff-pre-commit"))
    assert ruff["rev"] == f"v{pinned}"
    assert {h["id"] for h in ruff["hooks"]} == {"ruff-check", "ruff-format"}
