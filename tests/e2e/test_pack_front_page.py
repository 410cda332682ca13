"""The pack's front page and banner on the tiny project (tests/report_factory.py): the
synthetic-data banner on every page when the data folder says ``synthetic: true`` and on none
when it does not; ``synthetic`` in the manifest; the executive summary on the index, with a line
(not a crash) for every section that did not run, and "what changed" when the previous
quarter's pack is in the output folder."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from report_factory import TABLES, build_project

from sendlib.data.loaders import SYNTHETIC_NOTICE
from sendlib.report import runner


def _run(config):
    return runner.run_report(
        config, "latest", tables=TABLES, validator=lambda c, t: {"success": True, "n_checks": 1}, jobs=1, quiet=True
    )


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}


@pytest.mark.slow
def test_synthetic_data_put_the_banner_on_every_page_and_in_the_manifest(tmp_path):
    config = build_project(tmp_path)
    (config.data_dir / "metadata.yaml").write_text("extract_date: 2025-10-15\nsynthetic: true\n", encoding="utf-8")
    # a previous quarter's pack in the output folder: the index says what changed since it
    previous = config.output_dir / "2025-26Q1" / "tables"
    previous.mkdir(parents=True)
    (previous / "01_alpha__counts.csv").write_text("locality,plans_count\nnorth,12\n", encoding="utf-8")
    (previous / "09_old__gone.csv").write_text("a\n1\n", encoding="utf-8")
    result = _run(config)
    assert result.status == "ok"
    out = result.output_dir
    pages = _pages(out)
    assert set(pages) == {"index.html", "01_alpha.html", "02_beta.html", "03_gamma.html"}
    for name, page in pages.items():
        assert 'class="banner banner-synthetic"' in page, name
        assert SYNTHETIC_NOTICE in html.unescape(page), name
        # the banner comes before the page header: the first thing a reader sees
        assert page.index("banner-synthetic") < page.index('class="page-header"'), name
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["synthetic"] is True
    index = pages["index.html"]
    assert "Summary for the board" in index
    # the tiny project runs none of the board's sections: each line says so, the run does not fail
    assert index.count("was not run in this pack") == 5
    assert "What changed since the 2025-26 Q1 (Apr-Jun 2025) pack" in index
    assert "Tables no longer published: 09_old__gone.csv." in index


@pytest.mark.slow
def test_real_data_have_no_synthetic_banner(tmp_path):
    config = build_project(tmp_path)  # metadata.yaml without synthetic: true
    result = _run(config)
    assert result.status == "ok"
    for name, page in _pages(result.output_dir).items():
        assert "banner-synthetic" not in page and SYNTHETIC_NOTICE not in html.unescape(page), name
    assert json.loads((result.output_dir / "manifest.json").read_text(encoding="utf-8"))["synthetic"] is False
    assert "What changed since" not in (result.output_dir / "index.html").read_text(encoding="utf-8")
