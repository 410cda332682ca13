"""Chromium for the browser tests: where it is, and the headless flags CI uses.

Browser builds cannot be downloaded on these machines (no ``playwright install``), so the tests
drive the system package (Debian's ``chromium``), found the way ``sendlib report`` finds the
browser that prints ``pack.pdf`` (:func:`sendlib.report.pdf.find_chromium`); they are skipped
only when there is none.
"""

from __future__ import annotations

from sendlib.report.pdf import HEADLESS_FLAGS as REPORT_FLAGS
from sendlib.report.pdf import find_chromium

#: The Chromium executable, or None when it is not installed.
CHROMIUM: str | None = find_chromium()

#: Flags for a quiet, offline headless run (the report's, without the sandbox: CI runs as root).
HEADLESS_FLAGS: list[str] = [*REPORT_FLAGS, "--no-sandbox"]
