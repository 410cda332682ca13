"""Board-pack pages: which notebooks run, and how an executed notebook becomes an HTML page.

Notebooks are discovered in file-name order (``NN_name.ipynb``); each executed notebook is
exported without code, prompts, stderr or tracebacks, with a table of contents and the house
stylesheet; ``index.html`` is rendered from a Jinja template. Only this module knows nbconvert.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sendlib.core.errors import UsageError

LOG = logging.getLogger("sendlib.report")

RESOURCES = Path(__file__).resolve().parents[1] / "resources" / "report"


#: nbconvert template (in ``RESOURCES / "nbconvert"``) used for every section.
NBCONVERT_TEMPLATE = "sendlib_board"


STYLESHEET = "assets/report.css"


_NOTEBOOK_NAME = re.compile(r"^(\d+)[_-](.+)$")


_HEADING = re.compile(r"<h([1-3])\s+id=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)


def discover_notebooks(notebooks_dir: str | Path, only: Sequence[str] | None = None) -> list[Path]:
    """The notebooks to run, sorted by file name.

    ``only`` selects by stem (``02_kpi_dashboard``) or by the part after the ``NN_`` prefix
    (``kpi_dashboard``); a name that matches nothing is a :class:`UsageError`.
    Checkpoint folders and files starting with ``.`` or ``_`` are ignored, and so are notebooks
    that are not part of the board pack (metadata ``"sendlib": {"board_pack": false}``, e.g. the
    interactive DSG scenario explorer, :func:`in_board_pack`).
    """
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise UsageError(f"notebooks folder not found: {folder}")
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith((".", "_")) and in_board_pack(p))
    if not only:
        if not found:
            raise UsageError(f"no notebooks (*.ipynb) in {folder}")
        return found
    chosen: list[Path] = []
    for name in only:
        key = Path(name).stem if name.endswith(".ipynb") else name
        hits = [p for p in found if key in (p.stem, short_name(p.stem))]
        if not hits:
            raise UsageError(
                f"--only {name}: no such notebook in {folder} "
                f"(choose from {', '.join(short_name(p.stem) for p in found) or 'none'})"
            )
        chosen += [p for p in hits if p not in chosen]
    return sorted(chosen)


def in_board_pack(path: str | Path) -> bool:
    """False for a notebook whose metadata says ``"sendlib": {"board_pack": false}`` (an
    interactive notebook such as ``08_dsg_scenario_explorer``); True otherwise (also when the file
    is not readable JSON: the run reports that)."""
    import json

    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return True
    return not (
        isinstance(meta, dict) and isinstance(meta.get("sendlib"), dict) and meta["sendlib"].get("board_pack") is False
    )


def _sendlib_metadata(path: str | Path) -> dict:
    import json

    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return {}
    own = meta.get("sendlib") if isinstance(meta, dict) else None
    return own if isinstance(own, dict) else {}


def notebook_needs(path: str | Path) -> list[str]:
    """The inputs a section cannot run without, from its metadata ``"sendlib": {"needs": [...]}``:
    a table name (``capacity``), or ``table.column`` when the column must be known in at least one
    row (``placements.annual_cost``: a SEN2 return does not hold costs). Empty when not declared."""
    needs = _sendlib_metadata(path).get("needs") or []
    return [str(n) for n in needs] if isinstance(needs, list) else []


def unmet_needs(needs: Sequence[str], tables: Mapping[str, Any]) -> list[str]:
    """The needs (:func:`notebook_needs`) the loaded ``tables`` do not meet: a table not loaded, or
    a ``table.column`` not loaded or empty in every row."""
    unmet = []
    for need in needs:
        table, _, column = need.partition(".")
        df = tables.get(table)
        if df is None or (column and (column not in df.columns or not df[column].notna().any())):
            unmet.append(need)
    return unmet


def describe_unmet(unmet: Sequence[str]) -> str:
    """The sentence a skipped section shows: which inputs it needs that the data do not hold."""
    tables = [n for n in unmet if "." not in n]
    columns = [n for n in unmet if "." in n]
    parts = []
    if tables:
        parts.append(f"the table{'s' if len(tables) > 1 else ''} {', '.join(tables)}, not in the data")
    if columns:
        parts.append(f"known values of {', '.join(columns)} (empty: a SEN2 return does not hold them)")
    return "This section could not run: it needs " + "; and ".join(parts) + "."


def skipped_notebook(source: str | Path, reason: str) -> Any:
    """A stand-in for a section that could not run (:func:`unmet_needs`, or too little data): its
    title and ``reason``, for :func:`export_html` to render as the section's page."""
    import nbformat

    try:
        nb = nbformat.read(str(source), as_version=4)
        title = notebook_title(nb, Path(source).stem)
    except (OSError, ValueError):
        title = notebook_title({}, Path(source).stem)
    text = (
        f"# {title}\n\n{reason}\n\nAdd the missing inputs to the configuration's data (the `tables:` "
        "section or the data folder) and run the report again; the other sections ran without them."
    )
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])


def short_name(stem: str) -> str:
    """``02_kpi_dashboard`` -> ``kpi_dashboard``; stems without an ``NN_`` prefix unchanged."""
    m = _NOTEBOOK_NAME.match(stem)
    return m.group(2) if m else stem


def notebook_title(nb: Mapping[str, Any], stem: str) -> str:
    """The first markdown heading of a notebook, else its stem made readable."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        for line in src.splitlines():
            m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if m:
                return m.group(1).strip()
    return short_name(stem).replace("_", " ").capitalize()


def clean_for_board(nb: Any) -> Any:
    """Remove from an executed notebook what a board pack must not show (in place, returned).

    Drops stderr streams (warnings, logging), error tracebacks, papermill's error banner cells,
    and cells tagged ``remove-cell`` / ``remove_cell`` / ``hide``. Code is hidden by the exporter.
    """
    drop_tags = {"remove-cell", "remove_cell", "hide", "papermill-error-cell-tag"}
    kept = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []) or [])
        if tags & drop_tags:
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and o.get("output_type") != "error"
            ]
        kept.append(cell)
    nb.cells = kept
    return nb


def make_exporter() -> Any:
    """One HTML exporter for the run: no code, no prompts, the board template."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        log=LOG.getChild("nbconvert"),
        template_name=NBCONVERT_TEMPLATE,
        extra_template_basedirs=[str(RESOURCES / "nbconvert")],
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    return exporter


def table_of_contents(body: str) -> list[tuple[int, str, str]]:
    """(level, anchor, text) for every h1-h3 with an id in rendered HTML, in order."""
    toc = []
    for level, anchor, inner in _HEADING.findall(body):
        inner = re.sub(r"<a class=\"anchor-link\".*?</a>", "", inner, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        if text:
            toc.append((int(level), anchor, text))
    return toc


def _toc_html(toc: Sequence[tuple[int, str, str]]) -> str:
    if not toc:
        return ""
    items = "\n".join(
        f'<li class="toc-level-{lvl}"><a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a></li>'
        for lvl, anchor, text in toc
    )
    return f'<nav class="toc" aria-label="Contents"><h2 class="toc-title">Contents</h2><ol>\n{items}\n</ol></nav>'


def _drop_title_heading(nb: Any, title: str) -> None:
    """Remove the first markdown heading when it is the page title (shown in the header)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if m:
                if m.group(1).strip() == title:
                    cell.source = "\n".join(lines[:i] + lines[i + 1 :])
                return
        if cell.source.strip():
            return


def export_html(
    executed: str | Path,
    target: str | Path,
    *,
    exporter: Any,
    context: Mapping[str, Any],
) -> str:
    """Export an executed notebook to a board-pack HTML page; returns the page title.

    ``context`` fills the page header: ``authority``, ``quarter``, ``quarter_label``,
    ``status``, ``error``, ``generated``. The table of contents is built from the rendered
    headings; stderr, warnings and tracebacks are removed first (:func:`clean_for_board`).
    """
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    stem = Path(target).stem
    title = notebook_title(nb, stem)
    clean_for_board(nb)
    _drop_title_heading(nb, title)  # the page header shows the title once
    nb.metadata["title"] = title
    resources = {"sendlib": {**context, "title": title, "stylesheet": STYLESHEET}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = body.replace("<!--SENDLIB-TOC-->", _toc_html(table_of_contents(body)), 1)
    Path(target).write_text(body, encoding="utf-8")
    return title


def render_index(context: Mapping[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(RESOURCES)), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    return env.get_template("index.html.j2").render(**context)
