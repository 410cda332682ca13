"""The real pack on a copy of the shipped county whose free text starts with formula characters.

One report run (``sendlib report --data-dir COPY --output-dir TMP``) on a copy of ``data/raw`` in
which every PAP action's text (objective, theme, project, half the comments) and every specialist
setting's name begins with ``=``, ``+``, ``-`` or ``@`` (the quality gate accepts them: they are
free text). Then:

- no cell of ``tables/*.csv`` begins with a formula character unless it is a plain number
  (OWASP CSV injection; ``sendlib.publish.sanitise``), the poisoned text did reach the tables
  (neutralised), and negative money is still a number;
- every ``<table>`` on every page is a board table: no snake_case header, no index column;
- no page holds an absolute path of the temporary folders or of the repository.
"""

from __future__ import annotations

import csv
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sendlib.publish.sanitise import FORMULA_STARTS
from sendlib.publish.tables import SNAKE_CASE

REPO = Path(__file__).resolve().parents[2]
DATA_RAW = REPO / "data" / "raw"
#: a plain signed number written as text: a spreadsheet reads it as a number, never a formula
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DATA_RAW / "ehcp_plans.csv").is_file(), reason="data/raw has not been generated"),
]


def poison(folder: Path) -> None:
    """Free text of the canonical tables (sendlib.core.schema: pap_actions objective, theme, project,
    comment; capacity name) rewritten to start with formula characters."""
    pap = pd.read_csv(folder / "pap_actions.csv", dtype=str, keep_default_na=False)
    pap["objective"] = "+" + pap["objective"]
    pap["theme"] = "-" + pap["theme"]
    pap["project"] = "@" + pap["project"]
    pap["comment"] = pap["comment"].where(pap.index % 2 == 1, '=HYPERLINK("http://example.invalid","click")')
    pap.to_csv(folder / "pap_actions.csv", index=False, lineterminator="\n")
    cap = pd.read_csv(folder / "capacity.csv", dtype=str, keep_default_na=False)
    cap["name"] = "=" + cap["name"]
    cap.to_csv(folder / "capacity.csv", index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    from sendlib.cli import main

    root = tmp_path_factory.mktemp("board_pack")
    data = root / "data"
    shutil.copytree(DATA_RAW, data)
    poison(data)
    out = root / "outputs"
    code = main(["report", "--quarter", "latest", "--data-dir", str(data), "--output-dir", str(out), "--quiet"])
    packs = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert code == 0, f"report failed: {[p.name for p in packs]}; see run.log in the failed- folder"
    (folder,) = packs
    return root, folder


class _Tables(HTMLParser):
    """Every ``<table>`` of a page as rows of (tag, text) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._row: list[tuple[str, str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
            self.tables[-1].append(self._row)
        elif tag in ("th", "td") and self._row is not None:
            self._cell = [tag, ""]

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None and self._row is not None:
            self._row.append((self._cell[0], self._cell[1].strip()))
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data


def page_tables(html: str) -> list[list[list[tuple[str, str]]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def table_problems(rows: list[list[tuple[str, str]]]) -> list[str]:
    """What makes a table a data frame rather than a board table."""
    if not rows:
        return []
    problems = []
    header = [text for tag, text in rows[0] if tag == "th"]
    problems += [f"snake_case header {h!r}" for h in header if SNAKE_CASE.match(h)]
    body = rows[1:]
    if any(tag == "th" for row in body for tag, _ in row):
        problems.append("row header cells (an index column)")
    if header and header[0] == "" and len(header) > 1:
        problems.append("empty top-left header (an index column)")
    first = [row[0][1] for row in body if row]
    if len(first) > 1 and first == [str(i) for i in range(len(first))]:
        problems.append("a first column 0, 1, 2... (an index column)")
    return problems


def test_the_checks_see_a_data_frame():
    frame = pd.DataFrame({"demand_lower_80": [1.5, 2.5]})
    problems = table_problems(page_tables(frame.to_html())[0])
    assert "snake_case header 'demand_lower_80'" in problems
    assert "row header cells (an index column)" in problems and "empty top-left header (an index column)" in problems
    from sendlib.publish.tables import board_table

    assert table_problems(page_tables(board_table(frame).to_html())[0]) == []


def test_no_csv_cell_starts_a_formula_and_negative_money_stays_numeric(pack):
    _, folder = pack
    bad, neutralised = [], 0
    for path in sorted((folder / "tables").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.reader(fh)):
                for cell in row:
                    if cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell):
                        bad.append(f"{path.name} line {n + 1}: {cell[:40]!r}")
                    neutralised += cell.startswith(("'=", "'+", "'-", "'@"))
    assert bad == []
    assert neutralised > 0, "the poisoned free text never reached the tables: the test proves nothing"
    actions = pd.read_csv(folder / "tables" / "03_pap_tracker__actions.csv", dtype=str)
    assert actions["theme"].str.startswith("'-").all() and actions["project"].str.startswith("'@").all()
    timeline = pd.read_csv(folder / "tables" / "05_placement_sufficiency__pipeline_timeline.csv", dtype=str)
    assert timeline["name"].str.startswith("'=").all()
    comparison = pd.read_csv(folder / "tables" / "06_high_needs_dsg__comparison.csv")
    assert pd.api.types.is_numeric_dtype(comparison["cumulative_balance_gbp"])
    assert (comparison["cumulative_balance_gbp"] < 0).any()  # the synthetic county runs a deficit


def test_every_page_table_is_a_board_table(pack):
    _, folder = pack
    pages = sorted(folder.glob("0*.html"))
    assert len(pages) == 7
    problems, n_tables = [], 0
    for page in pages:
        for i, rows in enumerate(page_tables(page.read_text(encoding="utf-8"))):
            n_tables += 1
            problems += [f"{page.name} table {i + 1}: {p}" for p in table_problems(rows)]
    assert n_tables >= 30, n_tables  # every section shows its tables
    assert problems == []


def test_no_page_holds_an_absolute_path(pack):
    root, folder = pack
    machine = {str(root), root.as_posix(), str(REPO), REPO.as_posix()}
    leaks = []
    for page in sorted(folder.glob("*.html")):
        text = page.read_text(encoding="utf-8")
        leaks += [f"{page.name}: {m}" for m in machine if m and m in text]
    assert leaks == []
    dsg = (folder / "06_high_needs_dsg.html").read_text(encoding="utf-8")
    assert "scenarios/dsg.yaml" in dsg  # shown relative to the config file's folder


def test_no_workbook_cell_starts_a_formula_and_money_stays_numeric(pack):
    """The finance workbook of the same run: no text cell a spreadsheet would run (every text cell
    goes through sendlib.publish.sanitise), no formula cell at all, and the balances are numbers."""
    from openpyxl import load_workbook

    _, folder = pack
    (path,) = list(folder.glob("*.xlsx"))
    wb = load_workbook(path)
    assert wb.active.title == "Summary"
    bad, negative_money = [], 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if cell.data_type == "f" or (isinstance(v, str) and v.startswith(FORMULA_STARTS)):
                    if not (isinstance(v, str) and PLAIN_NUMBER.fullmatch(v)):
                        bad.append(f"{ws.title}!{cell.coordinate}: {str(v)[:40]!r}")
                if isinstance(v, (int, float)) and v < 0 and cell.data_type == "n":
                    negative_money += 1
    assert bad == []
    assert negative_money > 0, "no negative number in the workbook: the deficit should be one"
