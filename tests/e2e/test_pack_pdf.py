"""``sendlib report`` writes ``pack.pdf`` when Chromium is present: the real pack on the shipped
synthetic county (the run shared with test_report.py), index first then the sections, with no
path of the machine that made it; ``--no-pdf`` (``pdf=False``) writes none and says so.

Skipped, with the reason, only where Chromium is missing (CI installs it: ``.ci/run``).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from pathlib import Path

import pytest
from chromium import CHROMIUM
from devtools import headless_chromium
from report_factory import build_project
from test_report import _real_pack_available, run

from sendlib.report.pdf import print_document

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: .ci/run)"),
]

#: The real pack prints to more pages than this (index, seven sections with charts and tables).
MIN_PAGES = 20


def pdf_pages(data: bytes) -> int:
    """Page objects in a PDF (``/Type /Page``, not ``/Pages``)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def inflated_streams(data: bytes) -> list[bytes]:
    """The PDF's Flate-compressed streams, decompressed (those that are not are skipped)."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, flags=re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return out


@pytest.mark.skipif(_real_pack_available() is not None, reason=str(_real_pack_available()))
def test_the_real_report_writes_pack_pdf(shipped_report):
    code, out = shipped_report
    assert code == 0, "the real report failed (see test_end_to_end_on_the_shipped_data)"
    (pack,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    data = (pack / "pack.pdf").read_bytes()
    assert data[:5] == b"%PDF-"
    assert pdf_pages(data) > MIN_PAGES
    assert b"/Lang (en-GB)" in data
    # no absolute path: Chromium's header/footer (the file's address) is off, no link leaves the PDF
    for text in [data, *inflated_streams(data)]:
        for needle in (str(out).encode(), str(pack).encode(), b"file:", b"sendlib-pdf-", str(Path.home()).encode()):
            assert needle not in text, needle
    assert not re.search(rb"/URI\s*\((?!https?:|mailto:)", data)
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["pdf"] == {"pack.pdf": hashlib.sha256(data).hexdigest()}
    assert manifest["timings_seconds"]["pdf"] > 0
    assert "wrote pack.pdf" in (pack / "run.log").read_text(encoding="utf-8")


@pytest.mark.skipif(_real_pack_available() is not None, reason=str(_real_pack_available()))
def test_nothing_in_the_real_pack_is_cut_off_on_paper(shipped_report, tmp_path):
    """Printed (print media, A4's width inside the stylesheet's margins: 186 mm = 703 px), no
    table, chart or text block reaches past the page's right edge, where the PDF would cut it."""
    code, out = shipped_report
    assert code == 0
    (pack,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    pages = ["index.html", *sorted(p.name for p in pack.glob("*.html") if p.name != "index.html")]
    doc = tmp_path / "print.html"
    doc.write_text(print_document(pack, pages), encoding="utf-8")
    with headless_chromium(tmp_path / "profile", 703, 1000) as dt:
        dt.open(doc.as_uri())
        dt.send("Emulation.setEmulatedMedia", media="print")
        wide = dt.js(
            "(() => { const right = document.body.getBoundingClientRect().right + 1; "
            "return [...document.querySelectorAll('table, img, pre, p, li, .jp-OutputArea-output')]"
            ".filter(e => e.getBoundingClientRect().right > right)"
            ".map(e => e.closest('.print-page').id + ' ' + e.tagName + ' ' + Math.round(e.getBoundingClientRect().right)); })()"
        )
    assert wide == [], wide


def test_a_small_pack_prints_index_first_and_no_pdf_turns_it_off(tmp_path):
    config = build_project(tmp_path)
    result = run(config, jobs=2)
    data = (result.output_dir / "pack.pdf").read_bytes()
    assert data[:5] == b"%PDF-" and pdf_pages(data) >= 4  # the index and three sections, each on its own sheet
    titles = re.findall(rb"/Title\s*\(([^)]*)\)", data)
    assert titles and titles[0].startswith(b"Test County: SEND board pack")  # the document title: the index's
    assert str(tmp_path).encode() not in data

    result = run(config, jobs=2, pdf=False)
    assert not (result.output_dir / "pack.pdf").exists()
    assert json.loads((result.output_dir / "manifest.json").read_text(encoding="utf-8"))["outputs"]["pdf"] == {}
    assert "no pack.pdf written: PDF switched off" in (result.output_dir / "run.log").read_text(encoding="utf-8")
