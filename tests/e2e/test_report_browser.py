"""The board pack renders in a real browser: headless Chromium opens index.html and a section.

Skipped when Chromium is not installed (CI installs it; locally: ``apt-get install chromium``).
Checks that the page renders its images (``img`` elements with a ``data:image/png`` source),
that the stylesheet loads, that Chromium logs no console error, and takes a screenshot into the
test's temporary folder.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from chromium import CHROMIUM, HEADLESS_FLAGS
from report_factory import build_project
from test_report import run

from sendlib.report import export

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]

FLAGS = [*HEADLESS_FLAGS, "--allow-file-access-from-files"]


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a local file with the flags CI uses."""
    cmd = [
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    """Lines where Chromium reports a console message at error level or a failed load."""
    return [
        ln
        for ln in stderr.splitlines()
        if re.search(r"CONSOLE.*(error|Uncaught)|Failed to load resource|net::ERR_", ln, flags=re.I)
        and "favicon" not in ln
    ]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return run(build_project(tmp_path_factory.mktemp("project")), jobs=2).output_dir


def test_index_and_section_render_with_images_and_no_console_errors(pack, tmp_path):
    profile = tmp_path / "profile"

    dom = chromium(pack / "01_alpha.html", profile, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert re.search(r'<img[^>]+src="data:image/png;base64,', dom.stdout), "no rendered PNG image"
    assert '<nav class="toc"' in dom.stdout and "Alpha section" in dom.stdout
    assert console_errors(dom.stderr) == []

    shot = tmp_path / "section.png"
    res = chromium(pack / "01_alpha.html", profile, f"--screenshot={shot}", "--window-size=1280,2000")
    assert res.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000
    assert console_errors(res.stderr) == []

    index = chromium(pack / "index.html", profile, "--dump-dom")
    assert index.returncode == 0
    links = re.findall(r'<a href="(\d\d_\w+\.html)"', index.stdout)
    assert links == ["01_alpha.html", "02_beta.html", "03_gamma.html"]
    assert console_errors(index.stderr) == []
    shot = tmp_path / "index.png"  # kept in the test's folder for a human to look at
    res = chromium(pack / "index.html", profile, f"--screenshot={shot}", "--window-size=1280,2000")
    assert res.returncode == 0 and shot.is_file()


def test_the_stylesheet_applies(pack, tmp_path):
    """A style only report.css sets (the skip link is moved off screen) shows in computed layout."""
    probe = pack / "probe.html"
    probe.write_text(
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="assets/report.css"></head><body>'
        '<a class="skip-link" id="s" href="#x">skip</a><script>'
        'window.onload=function(){document.body.setAttribute("data-left",'
        'String(document.getElementById("s").getBoundingClientRect().left));}</script></body></html>',
        encoding="utf-8",
    )
    out = chromium(probe, tmp_path / "profile", "--dump-dom", "--virtual-time-budget=2000")
    m = re.search(r'data-left="(-?[\d.]+)"', out.stdout)
    assert m and float(m.group(1)) < -1000, out.stdout[:500]
    assert export.STYLESHEET == "assets/report.css"
