"""Debian's ``chromium`` for the browser tests: where it is, and the headless flags CI uses.

Browser builds cannot be downloaded on these machines (no ``playwright install``), so the tests
drive the system package; they are skipped only when it is absent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: The Chromium executable, or None when it is not installed.
CHROMIUM: str | None = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or "")
        if p and Path(p).is_file()
    ),
    None,
)

#: Flags for a quiet, offline headless run.
HEADLESS_FLAGS: list[str] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
