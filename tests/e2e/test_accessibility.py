"""Every page of the board pack passes axe-core in headless Chromium: no serious or critical
accessibility violation (contrast, table headers, alt text, keyboard access, language...), and
the page structure a screen-reader user navigates by (heading order, one main landmark, all
content in landmarks) is sound. See :mod:`axe_check` for the rule sets (WCAG 2.2 A and AA, and
axe's best practices).

Two packs are checked: the small test project's (index, three sections, a table, a chart) and
the real report on the shipped synthetic county (the run shared with test_report.py). Skipped,
with the reason, only where Chromium or axe-core is missing; CI installs both (``.ci/run``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_check import axe_missing, describe, failing, run_axe
from chromium import CHROMIUM
from devtools import headless_chromium
from report_factory import build_project
from test_report import _real_pack_available, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: .ci/run)"),
    pytest.mark.skipif(axe_missing() is not None, reason=str(axe_missing())),
]


def pages_of(pack: Path) -> list[Path]:
    """index.html first, then the sections in order."""
    return [pack / "index.html", *sorted(p for p in pack.glob("*.html") if p.name != "index.html")]


def check_pack(pack: Path, profile: Path) -> None:
    pages = pages_of(pack)
    assert len(pages) >= 2 and pages[0].is_file()
    problems = []
    with headless_chromium(profile, 1280, 900) as dt:
        for page in pages:
            bad = failing(run_axe(dt, page))
            if bad:
                problems.append(describe(page.name, bad))
    assert not problems, "axe-core found accessibility violations:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def small_pack(tmp_path_factory):
    return run(build_project(tmp_path_factory.mktemp("project")), jobs=2).output_dir


def test_every_page_of_the_small_pack_passes_axe(small_pack, tmp_path):
    check_pack(small_pack, tmp_path / "profile")


@pytest.mark.skipif(_real_pack_available() is not None, reason=str(_real_pack_available()))
def test_every_page_of_the_real_pack_passes_axe(shipped_report, tmp_path):
    code, out = shipped_report
    assert code == 0, "the real report failed (see test_end_to_end_on_the_shipped_data)"
    (pack,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert len(pages_of(pack)) == 8  # index and seven sections
    check_pack(pack, tmp_path / "profile")


def test_the_check_finds_what_it_is_meant_to_find(tmp_path):
    """The check can fail: a page without a language, an image without alt text, low contrast
    and a skipped heading level is reported with rule ids, selectors and help links."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>Bad</title></head><body><main><h1>Bad page</h1>"
        '<h4>Skipped levels</h4><img src="data:image/png;base64,iVBORw0KGgo=">'
        '<p style="color:#bbb;background:#fff">faint text</p></main></body></html>',
        encoding="utf-8",
    )
    with headless_chromium(tmp_path / "profile", 800, 600) as dt:
        bad = failing(run_axe(dt, page))
    ids = {v["id"] for v in bad}
    assert {"html-has-lang", "image-alt", "color-contrast", "heading-order"} <= ids, ids
    text = describe("bad.html", bad)
    assert "bad.html: image-alt (critical)" in text and "dequeuniversity.com/rules/axe/" in text and "img" in text
