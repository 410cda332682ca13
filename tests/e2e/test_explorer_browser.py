"""The DSG scenario explorer in JupyterLab, driven in headless Chromium over the DevTools protocol.

Starts ``jupyter lab --no-browser`` on a free port with a token set here, on a copy of
``notebooks/08_dsg_scenario_explorer.ipynb`` in a temporary folder (so the committed notebook is
never saved with outputs), opens it in Debian's ``chromium`` (no Playwright browser download),
runs every cell, moves the INMSS price control with the keyboard, clicks "Save as scenario" and
checks that the year-5 figure on the page changes to the value ``sendlib scenarios --scenarios
<saved file> --format csv`` gives for the saved scenario. Takes a screenshot into the test's
folder (and into ``docs/images/dsg_explorer.png`` when ``SENDLIB_DOCS_SCREENSHOT=1``).

Skipped only when Chromium is not installed (CI installs it; locally: ``apt-get install chromium``).
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from chromium import CHROMIUM
from devtools import DevTools, headless_chromium, stop, wait_for

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "08_dsg_scenario_explorer.ipynb"
TOKEN = "sendlib-explorer-test-token"
INMSS_STEPS = 5  # ArrowRight presses on the INMSS price slider (step 1%): +5%
DOCS_SHOT = REPO / "docs" / "images" / "dsg_explorer.png"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a temporary folder holding a copy of the explorer notebook."""
    work = tmp_path / "lab"
    work.mkdir()
    shutil.copy(REPO / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter_config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter_runtime"),
        "MPLBACKEND": "Agg",
    }
    log = open(tmp_path / "jupyter.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={work}",
            f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_for(up, 60, "JupyterLab to answer")
        yield base, work
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with remote debugging; yields a :class:`DevTools` on its page."""
    with headless_chromium(tmp_path / "profile", 1600, 1000) as dt:
        yield dt


def year5_on_page(dt: DevTools):
    return dt.js(
        "(() => { const e = document.querySelector('.dsg-year5'); return e ? e.getAttribute('data-gbp') : null; })()"
    )


def test_explorer_runs_in_jupyterlab_and_matches_sendlib_scenarios(lab, browser, tmp_path):
    base, work = lab
    dt = browser
    dt.send("Page.navigate", url=f"{base}/lab/tree/{NOTEBOOK}?token={TOKEN}&reset")
    wait_for(lambda: dt.js("!!(window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell'))"), 90, "the lab")
    # the kernel is ready when the notebook's session reports it idle (a kernel dialog is accepted)
    kernel_status = (
        "(() => { const d = document.querySelector('.jp-Dialog .jp-mod-accept'); if (d) d.click(); "
        "const w = [...window.jupyterapp.shell.widgets('main')].find(x => x.sessionContext); "
        "if (w) window.jupyterapp.shell.activateById(w.id); "
        "const s = w && w.sessionContext; const k = s && s.session && s.session.kernel; "
        "return k ? k.status : 'no kernel: ' + (w ? w.title.label : 'no widget'); })()"
    )
    try:
        wait_for(lambda: (v := dt.js(kernel_status)) == "idle" or print(v), 90, "the kernel")
    except AssertionError:
        (tmp_path / "failed.png").write_bytes(base64.b64decode(dt.send("Page.captureScreenshot", format="png")["data"]))
        raise
    dt.js("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    before = wait_for(lambda: year5_on_page(dt), 180, "the explorer's figures")
    assert int(before) < 0  # a deficit in year 5 (the shipped county)

    # move the INMSS price control: focus the slider handle, ArrowRight (one 1% step each)
    dt.js(
        "document.querySelector('.dsg-inmss-price-pct').scrollIntoView();"
        "document.querySelector('.dsg-inmss-price-pct .noUi-handle').focus()"
    )
    for _ in range(INMSS_STEPS):
        dt.key("ArrowRight", 39)
        time.sleep(0.1)
    readout = wait_for(
        lambda: dt.js(
            "(() => { const r = document.querySelector('.dsg-inmss-price-pct .widget-readout'); "
            "return r && parseFloat(r.textContent) > 0 ? r.textContent : null; })()"
        ),
        10,
        "the INMSS slider to move",
    )
    after = wait_for(lambda: (v := year5_on_page(dt)) != before and v, 30, "the year-5 figure to change")
    time.sleep(1.5)  # debounce: the last step's update
    after = year5_on_page(dt)

    # "Save as scenario", then the command on the saved file
    dt.js("[...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Save as scenario').click()")
    saved = work / "saved_scenarios.yaml"
    wait_for(saved.is_file, 30, "the saved scenario file")
    out = subprocess.run(
        [sys.executable, "-m", "sendlib.cli", "scenarios", "--scenarios", str(saved), "--format", "csv"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    cli = pd.read_csv(io.StringIO(out.stdout))
    explored = cli[cli["scenario"] == "explored"]
    expected = int(explored["cumulative_balance_gbp"].iloc[-1])
    assert float(readout) == INMSS_STEPS and f"change_pct: {float(INMSS_STEPS)}" in saved.read_text()
    after = wait_for(lambda: year5_on_page(dt) == str(expected) and expected, 15, f"the year-5 figure {expected}")
    assert int(after) == expected, (before, after, expected)
    assert int(after) < int(before)  # dearer INMSS places: a deeper deficit

    # screenshot of the explorer (code cells collapsed)
    dt.js("window.jupyterapp.commands.execute('notebook:hide-all-cell-code')")
    dt.js("[...document.querySelectorAll('button')].forEach(b => b.textContent.trim() === 'No' && b.click())")
    dt.js("window.jupyterapp.shell.collapseLeft()")
    dt.js("document.querySelector('.dsg-figures').closest('.jp-OutputArea').scrollIntoView({block: 'start'})")
    time.sleep(1.0)
    box = dt.js(
        "(() => { const r = document.querySelector('.dsg-figures').closest('.jp-OutputArea').getBoundingClientRect(); "
        "return [r.x, r.y, r.width, Math.min(r.height, 1000 - r.y)]; })()"
    )
    clip = dict(zip(("x", "y", "width", "height"), box), scale=1)
    png = base64.b64decode(dt.send("Page.captureScreenshot", format="png", clip=clip)["data"])
    shot = tmp_path / "dsg_explorer.png"
    shot.write_bytes(png)
    assert png[:4] == b"\x89PNG" and len(png) > 10_000
    if os.environ.get("SENDLIB_DOCS_SCREENSHOT") == "1":
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        from PIL import Image  # matplotlib's dependency: a palette PNG keeps the docs image small

        Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64).save(DOCS_SHOT, optimize=True)
