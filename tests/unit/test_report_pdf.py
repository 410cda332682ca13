"""pack.pdf without a browser: finding Chromium, the print document, and a run without a PDF.

The PDF itself (Chromium printing the real pack) is checked in tests/e2e/test_pack_pdf.py.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import nbformat
import pytest

from sendlib.report import export, pdf


def _page(folder: Path, name: str, body: str, title: str = "A page") -> None:
    folder.joinpath(name).write_text(
        f'<!DOCTYPE html><html lang="en-GB"><head><title>{title}</title>'
        f'<link rel="stylesheet" href="assets/report.css"></head><body class="board-section">'
        f'<a class="skip-link" href="#content">Skip to content</a>{body}<script>alert(1)</script></body></html>',
        encoding="utf-8",
    )


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "report.css").write_text("body { color: #0b0c0c; }\n", encoding="utf-8")
    _page(
        tmp_path,
        "index.html",
        '<main id="content"><h1>Pack</h1><a href="01_alpha.html">Alpha</a> <a href="tables/a.csv">a.csv</a>'
        ' <a href="manifest.json">manifest</a> <a href="https://www.gov.uk/">GOV.UK</a></main>',
        title="Test County: SEND board pack, 2025-26 Q2",
    )
    _page(
        tmp_path,
        "01_alpha.html",
        '<nav class="toc"><a href="#Findings">Findings</a></nav><main id="content">'
        '<h2 id="Findings">Findings</h2><p id="T_abc_row0">styled</p><a href="index.html">Back</a>'
        '<a href="02_beta.html#Detail">Beta detail</a></main>',
    )
    _page(tmp_path, "02_beta.html", '<main id="content"><h2 id="Detail">Detail</h2></main>')
    return tmp_path


def test_the_print_document_joins_the_pages_in_order_with_links_inside_it(pack):
    doc = pdf.print_document(pack, ["index.html", "01_alpha.html", "02_beta.html"])
    assert doc.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in doc
    assert "<title>Test County: SEND board pack, 2025-26 Q2</title>" in doc  # the PDF's title
    assert "body { color: #0b0c0c; }" in doc and "assets/report.css" not in doc  # stylesheet inlined
    assert doc.index('id="page-index"') < doc.index('id="page-01_alpha"') < doc.index('id="page-02_beta"')
    assert "<script" not in doc and "alert(1)" not in doc and "skip-link" not in doc
    # links between pages and to anchors stay inside the document; anchors are unique per page
    assert 'href="#page-01_alpha"' in doc and 'href="#page-index"' in doc
    assert 'href="#01_alpha--Findings"' in doc and 'id="01_alpha--Findings"' in doc
    assert 'href="#02_beta--Detail"' in doc
    assert 'id="T_abc_row0"' in doc  # ids nothing links to keep their names (pandas Styler's CSS)
    # files of the pack become plain text; web links stay
    assert 'href="tables/a.csv"' not in doc and ">a.csv</a>" in doc
    assert 'href="manifest.json"' not in doc
    assert 'href="https://www.gov.uk/"' in doc
    assert str(pack) not in doc


def test_find_chromium_takes_the_configured_browser_only(tmp_path, monkeypatch):
    assert pdf.find_chromium(tmp_path / "no-such-browser") is None
    assert pdf.find_chromium("no-such-browser-sendlib") is None
    assert pdf.find_chromium(sys.executable) == str(Path(sys.executable))  # any executable path is taken
    monkeypatch.setenv("PATH", str(tmp_path))
    for var in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(pdf, "_well_known_locations", lambda: [tmp_path / "nothing"])
    assert pdf.find_chromium() is None


def test_no_browser_or_switched_off_logs_one_line_and_writes_nothing(pack, caplog):
    caplog.set_level(logging.INFO, logger="sendlib.report")
    out = pdf.try_write_pack_pdf(pack, ["index.html"], configured="no-such-browser-sendlib")
    assert out.path is None and "no-such-browser-sendlib" in out.reason and not (pack / "pack.pdf").exists()
    off = pdf.try_write_pack_pdf(pack, ["index.html"], enabled=False)
    assert off.path is None and "--no-pdf" in off.reason
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(m.startswith("no pack.pdf written: ") for m in lines)


def test_a_browser_that_fails_is_reported_not_raised(pack, tmp_path, caplog):
    """A 'browser' that exits without printing (here: Python running a script that fails)."""
    caplog.set_level(logging.WARNING, logger="sendlib.report")
    with pytest.raises(pdf.PdfError, match="wrote no PDF"):
        pdf.write_pack_pdf(pack, ["index.html"], tmp_path / "out.pdf", chromium=sys.executable, timeout=60)
    assert not (tmp_path / "out.pdf").exists()


def test_settings_and_flags_for_the_pdf():
    from sendlib.core.config import ReportSettings, load_config

    settings = load_config().report
    assert settings.pdf is True and settings.chromium is None and settings.pdf_timeout_seconds > 0
    assert ReportSettings(pdf=False, chromium="msedge").chromium == "msedge"
    assert "--no-pdf-header-footer" in pdf.PRINT_FLAGS and "--headless" in pdf.HEADLESS_FLAGS


def test_a_table_output_takes_the_keyboard_focus_and_a_chart_keeps_its_alt_text(tmp_path):
    """A wide table scrolls inside its output, so that output is focusable (WCAG 2.1.1, axe
    scrollable-region-focusable); text outputs are not made focusable."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n## Part"),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output(
                    "execute_result", data={"text/html": "<table><tr><th>a</th></tr></table>"}, execution_count=1
                ),
                nbformat.v4.new_output("display_data", data={"text/html": "<p>note</p>"}),
                nbformat.v4.new_output(
                    "display_data", data={"image/png": "iVBORw0KGgo="}, metadata={"image/png": {"alt": "A chart"}}
                ),
            ],
            execution_count=1,
        ),
    ]
    executed = tmp_path / "01_x.ipynb"
    nbformat.write(nb, str(executed))
    export.export_html(
        executed,
        tmp_path / "01_x.html",
        exporter=export.make_exporter(),
        context={"authority": "Test", "quarter": "2025-26Q2", "quarter_label": "Q2", "generated": "now"},
    )
    page = (tmp_path / "01_x.html").read_text(encoding="utf-8")
    assert page.count('tabindex="0"') == 1
    table_div = page[page.index("table-scroll") - 200 : page.index("<table>")]
    assert 'tabindex="0"' in table_div
    assert 'alt="A chart"' in page and '<html lang="en-GB">' in page
