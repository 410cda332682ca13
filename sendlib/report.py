"""The quarterly report run: validate, execute every notebook, export HTML, publish, check.

This module and :mod:`sendlib.kernel_pool` are the only ones that know papermill and nbconvert.
One call, :func:`run_report`, does what ``sendlib report`` promises a scheduler:

1. resolve the quarter (``latest`` = the latest complete quarter in the data);
2. run the data-quality gate (:func:`sendlib.quality.assert_valid`); on failure stop with
   :class:`~sendlib.errors.ValidationFailed` (exit 3) before anything is written;
3. take a lock (``<output_dir>/.<quarter>.lock``) so two runs cannot write the same quarter;
4. execute every notebook with papermill on a pool of warm kernels (:class:`KernelPool`: started
   at the beginning of the run, they import the notebooks' modules while the gate runs, and each
   runs several notebooks in turn), with the common parameters ``quarter``, ``config_path``,
   ``data_dir``, ``tables_dir``, ``validated=True`` and ``run_cache`` (the run's private cache:
   the validated tables, the gate's result, results shared between sections, see
   :mod:`sendlib.runcache`); one failing notebook does not stop the others;
5. export each executed notebook to HTML without code, prompts, stderr or warnings, with a
   table of contents and the house stylesheet (``assets/report.css``);
6. check the outputs: no person identifier or birth month from the input data anywhere
   (``identifier scan``), no unsuppressed count of 1-4 in a count column of a published table
   (``small-count scan``), inputs unchanged by the run;
7. write ``index.html`` and ``manifest.json``, then move the whole folder into place
   atomically. A failed run leaves the previous good output untouched and keeps its partial
   output in ``<output_dir>/failed-<quarter>-<timestamp>/``; it raises
   :class:`~sendlib.errors.ReportFailed` (exit 4).

Layout of ``<output_dir>/<quarter>/``::

    index.html            links to each section with its status and run time
    <notebook>.html       one per notebook, no code
    assets/report.css     the one stylesheet
    tables/*.csv          tidy tables the notebooks published (suppressed)
    *.xlsx                workbooks the notebooks wrote (finance scenarios)
    notebooks/*.ipynb     the executed notebooks
    manifest.json         provenance: parameters, hashes, versions, validation, timings
    run.log               the run's log
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from sendlib.config import PROJECT_ROOT, Config
from sendlib import runcache
from sendlib.errors import EXIT_OK, EXIT_REPORT, ReportFailed, UsageError
from sendlib.kernel_pool import KERNEL_ENV, Job, KernelPool, last_line as _last_line, notebook_imports

LOG = logging.getLogger("sendlib.report")

RESOURCES = Path(__file__).resolve().parent / "resources" / "report"
#: nbconvert template (in ``RESOURCES / "nbconvert"``) used for every section.
NBCONVERT_TEMPLATE = "sendlib_board"
STYLESHEET = "assets/report.css"
#: Folder under the output folder for results reused between runs (validation of identical inputs).
CACHE_DIR = ".cache"

#: Packages whose versions go into the manifest (the analysis and report stack).
STACK_PACKAGES: tuple[str, ...] = (
    "pandas", "numpy", "scipy", "statsmodels", "great-expectations", "matplotlib", "seaborn",
    "pyarrow", "openpyxl", "pyyaml", "papermill", "nbconvert", "nbclient", "nbformat",
    "ipykernel", "jupyter-client", "jinja2", "tqdm",
)

#: Column names treated as counts by the small-count scan: exact names and name endings.
COUNT_COLUMN_NAMES = ("n", "count", "numerator", "denominator")
COUNT_COLUMN_SUFFIXES = ("_n", "_count", "count", "_numerator", "_denominator")

_NOTEBOOK_NAME = re.compile(r"^(\d+)[_-](.+)$")
_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+")
#: A base64 raster image in a notebook's JSON (``"image/png": "iVBOR..."``, ``\n`` escapes allowed).
_JSON_IMAGE = re.compile(r'"image/(?:png|jpeg|gif|webp)":\s*"[A-Za-z0-9+/=\\]*"')
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_MONTH_TOKEN = re.compile(r"(?<![0-9])(\d{4}-\d{2})(?![0-9-])")
_SCANNED_SUFFIXES = {".html", ".htm", ".csv", ".ipynb", ".json", ".log", ".txt", ".md", ".css"}


# ----- small records --------------------------------------------------------------------------


@dataclass
class NotebookResult:
    """How one notebook's execution and export went."""

    name: str                   # file name, e.g. "02_kpi_dashboard.ipynb"
    stem: str                   # "02_kpi_dashboard"
    title: str = ""             # first markdown heading, else a readable stem
    status: str = "pending"     # ok | failed
    seconds: float = 0.0        # execution wall time
    started: float = 0.0        # when it started, seconds after the run began
    kernel: int = 0             # which of the run's kernels ran it
    error: str | None = None    # last line of the error, when failed
    html: str | None = None     # relative path of the exported HTML
    executed: str | None = None  # relative path of the executed notebook
    export_seconds: float = 0.0


@dataclass
class Finding:
    """A problem the output checks found. Never holds the offending value itself."""

    check: str      # "identifier scan" | "small-count scan" | "inputs unchanged"
    file: str       # path relative to the report folder
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.file}: {self.detail}"


@dataclass
class ReportResult:
    """What :func:`run_report` produced."""

    quarter: str
    status: str                  # ok | failed
    output_dir: Path             # the final folder, or the failed-... folder
    notebooks: list[NotebookResult]
    findings: list[Finding] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.status == "ok" else EXIT_REPORT


# ----- notebooks ------------------------------------------------------------------------------


def discover_notebooks(notebooks_dir: "str | Path", only: Sequence[str] | None = None) -> list[Path]:
    """The notebooks to run, sorted by file name.

    ``only`` selects by stem (``02_kpi_dashboard``) or by the part after the ``NN_`` prefix
    (``kpi_dashboard``); a name that matches nothing is a :class:`UsageError`.
    Checkpoint folders and files starting with ``.`` or ``_`` are ignored.
    """
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise UsageError(f"notebooks folder not found: {folder}")
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith((".", "_")))
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


# ----- HTML export ----------------------------------------------------------------------------


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
                o for o in cell.get("outputs", [])
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


_HEADING = re.compile(r"<h([1-3])\s+id=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)


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
                    cell.source = "\n".join(lines[:i] + lines[i + 1:])
                return
        if cell.source.strip():
            return


def export_html(
    executed: "str | Path",
    target: "str | Path",
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


# ----- checks ---------------------------------------------------------------------------------


def sha256_file(path: "str | Path") -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_folder(folder: "str | Path | None") -> dict[str, str]:
    """``{relative path: sha256}`` for every file under ``folder`` (sorted; empty if missing)."""
    if folder is None or not Path(folder).is_dir():
        return {}
    root = Path(folder)
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


@dataclass(frozen=True)
class Identifiers:
    """Identifying values from the input data that must never appear in an output.

    ``ids`` are record identifiers (person ids, request ids, ...) that contain a letter and a
    digit and are at least 5 characters long (shorter or all-digit ids would match ordinary
    numbers; they are counted in ``skipped``). ``birth_months`` are ``YYYY-MM`` values.
    """

    ids: frozenset[str]
    birth_months: frozenset[str]
    skipped: int = 0


#: A record identifier worth scanning for: a whole token of 5+ characters with a letter and a digit.
_ID_LIKE = re.compile(r"(?=[^A-Za-z]*[A-Za-z])(?=\D*\d)[A-Za-z0-9_-]{5,}")
_BIRTH_MONTH = re.compile(r"\d{4}-\d{2}")


def collect_identifiers(tables: Mapping[str, Any]) -> Identifiers:
    """The identifying values in canonical tables (columns flagged ``identifying`` in the schema)."""
    from sendlib.schema import identifying_columns

    months: set[str] = set()
    id_columns: list[set[str]] = []
    for table, cols in identifying_columns().items():
        df = tables.get(table)
        if df is None:
            continue
        for col in cols:
            if col not in df.columns:
                continue
            values = {str(v).strip() for v in df[col].dropna().unique().tolist()}
            if "birth" in col:
                months |= {v for v in values if _BIRTH_MONTH.fullmatch(v)}
            else:
                id_columns.append(values)
    # a person id appears in several tables: test each distinct value once
    ids = {v for v in set().union(*id_columns) if _ID_LIKE.fullmatch(v)}
    skipped = sum(len(values - ids) - ("" in values) for values in id_columns)
    return Identifiers(frozenset(ids), frozenset(months), skipped)


def scan_text_for_identifiers(text: str, identifiers: Identifiers) -> tuple[int, int, bool]:
    """(id hits, birth-month hits, mentions a birth-month column) in one file's text.

    Embedded images (``data:...;base64,`` in HTML, base64 ``image/png`` strings in a notebook's
    JSON) are skipped: they are pixels, and tokenising megabytes of base64 is slow. An identifier counts only as a whole
    token. A birth month counts only where it appears on the same line as an identifier, or
    in a CSV column whose header names a birth month or date of birth: months alone are too
    common (monthly trends) to flag.
    """
    text = _JSON_IMAGE.sub('"image:"', _DATA_URI.sub("data:", text))
    id_hits = 0
    month_hits = 0
    for line in text.splitlines():
        tokens = set(_TOKEN.findall(line))
        line_ids = tokens & identifiers.ids
        id_hits += len(line_ids)
        if line_ids and identifiers.birth_months:
            month_hits += len(set(_MONTH_TOKEN.findall(line)) & identifiers.birth_months)
    mentions = bool(re.search(r"\b(birth_month|date_of_birth|dob)\b", text, flags=re.I))
    return id_hits, month_hits, mentions


def redact(text: str, identifiers: Identifiers) -> str:
    """``text`` with every identifier from the input data replaced by ``[identifier]`` (for
    error messages that go to the terminal, the log and the index)."""
    return _TOKEN.sub(lambda m: "[identifier]" if m.group(0) in identifiers.ids else m.group(0), text)


def scan_outputs_for_identifiers(folder: "str | Path", identifiers: Identifiers) -> list[Finding]:
    """Identifier scan: every text output under ``folder`` (HTML, CSV, ipynb, JSON, log).

    Findings name the file and how many values were found, never the values.
    """
    import csv
    import io

    root = Path(folder)
    findings: list[Finding] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in _SCANNED_SUFFIXES:
            continue
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        id_hits, month_hits, mentions = scan_text_for_identifiers(text, identifiers)
        if path.suffix.lower() == ".csv":
            rows = list(csv.reader(io.StringIO(text)))
            if rows:
                birth_cols = [i for i, h in enumerate(rows[0])
                              if re.search(r"birth|dob", h, flags=re.I)]
                month_hits += sum(
                    1 for r in rows[1:] for i in birth_cols
                    if i < len(r) and r[i].strip() in identifiers.birth_months
                )
                if birth_cols:
                    findings.append(Finding("identifier scan", rel, "has a birth month / date of birth column"))
        if id_hits:
            findings.append(Finding("identifier scan", rel,
                                    f"{id_hits} distinct record identifier(s) from the input data"))
        if month_hits:
            findings.append(Finding("identifier scan", rel,
                                    f"{month_hits} birth month(s) from the input data next to an identifier"))
        if mentions and path.suffix.lower() in (".csv", ".html"):
            findings.append(Finding("identifier scan", rel, "mentions a birth-month / date-of-birth field"))
    return findings


def is_count_column(name: str) -> bool:
    """True for columns the small-count scan checks: ``n``, ``count``, ``numerator``,
    ``denominator``, or names ending ``_n``, ``count``, ``_numerator``, ``_denominator``."""
    low = name.strip().lower()
    return low in COUNT_COLUMN_NAMES or low.endswith(COUNT_COLUMN_SUFFIXES)


def scan_small_counts(tables_dir: "str | Path", threshold: int = 5) -> list[Finding]:
    """Small-count scan: published tables must not show a count from 1 to ``threshold - 1``.

    Conservative on purpose: only count columns (:func:`is_count_column`) are checked, and only
    cells that are a bare whole number (``3`` or ``3.0``); suppressed cells read ``<5``.
    """
    import csv

    findings: list[Finding] = []
    folder = Path(tables_dir)
    if not folder.is_dir():
        return findings
    small = re.compile(r"^\s*([0-9]+)(?:\.0+)?\s*$")
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                continue
            cols = [i for i, h in enumerate(header) if is_count_column(h)]
            if not cols:
                continue
            hits: dict[str, int] = {}
            for row in reader:
                for i in cols:
                    if i < len(row):
                        m = small.match(row[i])
                        if m and 1 <= int(m.group(1)) < threshold:
                            hits[header[i]] = hits.get(header[i], 0) + 1
        for col, n in sorted(hits.items()):
            findings.append(Finding("small-count scan", f"tables/{path.name}",
                                    f"column '{col}' has {n} unsuppressed count(s) between 1 and {threshold - 1}"))
    return findings


# ----- provenance -----------------------------------------------------------------------------


def git_commit(repo: "str | Path" = PROJECT_ROOT) -> str | None:
    """The repository's HEAD commit, or None (no git, not a repository, no commits)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=str(repo), capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else None


def package_versions(names: Iterable[str] = STACK_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None when not installed), plus Python's."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def input_files(config: Config) -> dict[str, dict[str, str]]:
    """Hashes of every input file: ``data`` (the data folder), ``reference``, ``scenarios``
    and any configured table file outside the data folder (``other``)."""
    data = hash_folder(config.data_dir)
    other = {}
    for name, src in sorted(config.tables.items()):
        if src.path is not None and Path(src.path).is_file():
            p = Path(src.path)
            try:
                p.relative_to(config.data_dir)
            except ValueError:
                other[str(p)] = sha256_file(p)
    return {
        "data": data,
        "reference": hash_folder(config.reference_dir),
        "scenarios": hash_folder(config.scenarios_dir),
        "other": other,
    }


def changed_inputs(before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Input files (``group/path``) added, removed or changed between two :func:`input_files`."""
    out = []
    for group in sorted(set(before) | set(after)):
        b, a = before.get(group, {}), after.get(group, {})
        out += [f"{group}/{name}" for name in sorted(set(b) | set(a)) if b.get(name) != a.get(name)]
    return out


def summarise_validation(result: Any) -> dict[str, Any]:
    """A JSON-able summary of a validation result for the manifest, with no data values.

    A :class:`sendlib.quality.ValidationReport` gives its own summary (``to_dict``: per-table
    rows, rules, passed, failed, and the failures named by table, column and rule); any other
    gate result gives at least its ``success``.
    """
    if result is None:
        return {"success": True, "detail": "gate passed (no result object)"}
    if isinstance(result, Mapping):
        return {k: v for k, v in result.items() if isinstance(v, (str, int, float, bool, type(None)))}
    to_dict = getattr(result, "to_dict", None)
    if callable(to_dict):
        try:
            summary = dict(to_dict())
        except Exception as exc:  # a summary must never break the run
            return {"success": bool(getattr(result, "success", True)), "summary_error": type(exc).__name__}
        tables = summary.get("tables") or []
        summary["n_rules"] = int(sum(t.get("rules", 0) for t in tables))
        summary["n_failed"] = int(sum(t.get("failed", 0) for t in tables))
        return summary
    return {"success": bool(getattr(result, "success", True))}


def reuse_store(config: Config) -> Path | None:
    """Where results are kept for later runs with identical inputs (``<output_dir>/.cache``), or
    None when the config's ``report.reuse`` is false."""
    if _report_option(config, "reuse") is False:
        return None
    return Path(config.output_dir) / CACHE_DIR


def _report_option(config: Config, key: str, default: Any = None) -> Any:
    """``report.<key>`` from the config (``default`` when unset or the section is missing)."""
    section = config.report if isinstance(config.report, Mapping) else {}
    return section.get(key, default)


def _tables_key(config: Config, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """What identifies the loaded tables completely: byte-identical data files (sha256), the same
    table sources and loader code. None when a table comes from SQL (contents not hashed)."""
    if any(src.format == "sql" for src in config.tables.values()):
        return None
    return {"files": {k: inputs.get(k) for k in ("data", "other")},
            "sources": {name: repr(src) for name, src in sorted(config.tables.items())},
            "code": runcache.code_fingerprint("data.py", "schema.py", "config.py")}


def default_validator(config: Config, tables: Mapping[str, Any], fresh: bool = False) -> Any:
    """The quality gate (raises ValidationFailed): :func:`sendlib.quality.assert_valid_reusing`,
    which reuses the stored result of an identical earlier validation (same table contents,
    rules, code and versions) unless ``fresh`` or reuse is off (:func:`reuse_store`)."""
    from sendlib.quality import assert_valid, assert_valid_reusing

    store = reuse_store(config)
    if store is None:
        return assert_valid(config, tables)
    return assert_valid_reusing(config, tables, store, reuse=not fresh)


# ----- locking and atomic replace ------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def quarter_lock(output_dir: "str | Path", quarter: str) -> Iterator[Path]:
    """Hold ``<output_dir>/.<quarter>.lock`` (created with O_EXCL) for the run.

    A lock left by a process that no longer exists (same host) is stale and is replaced.
    Raises :class:`ReportFailed` when another live run holds it.
    """
    import socket

    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / f".{quarter}.lock"
    host = socket.gethostname()
    payload = json.dumps({"pid": os.getpid(), "host": host,
                          "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    for attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(lock.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                held = {}
            pid = int(held.get("pid", 0) or 0)
            same_host = held.get("host") in (None, host)
            if attempt == 0 and same_host and not _pid_alive(pid):
                LOG.warning("removing stale lock %s (process %s is gone)", lock, pid or "unknown")
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            raise ReportFailed(
                f"another report run is writing quarter {quarter} (lock {lock} held by process "
                f"{pid or 'unknown'} on {held.get('host', 'unknown host')}); wait for it or, if it has "
                "died, delete the lock file"
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload)
        break
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def replace_atomically(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final``; an existing ``final`` is moved aside first, then deleted.

    Both are in the same folder, so each step is a rename. If the second rename fails, the old
    output is moved back.
    """
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{_stamp()}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


# ----- progress and logging -------------------------------------------------------------------


class _Progress:
    """A tqdm bar on a terminal, plain log lines otherwise."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        self.tty = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="notebooks", unit="nb", file=sys.stderr, leave=True)

    def done(self, result: NotebookResult) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result.stem}: {result.status}")
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _TqdmHandler(logging.StreamHandler):
    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # pragma: no cover
            self.handleError(record)


def _attach_log(log_file: Path, tty: bool, quiet: bool) -> list[logging.Handler]:
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)  # run.log also holds the kernels' stderr
    handlers: list[logging.Handler] = [file_handler]
    if not quiet:
        console = _TqdmHandler() if tty else logging.StreamHandler(sys.stderr)
        console.setLevel(logging.INFO)
        # nbconvert's accessibility hints ("Alternative text is missing") are for notebook
        # authors: run.log only, so a scheduled run's console shows steps and failures.
        console.addFilter(lambda r: not (r.name.endswith(".nbconvert") and r.levelno < logging.ERROR))
        handlers.append(console)
    for h in handlers:
        h.setFormatter(fmt)
        LOG.addHandler(h)
    LOG.setLevel(logging.DEBUG)
    LOG.propagate = False
    return handlers


# ----- the run --------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _render_index(context: Mapping[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(RESOURCES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template("index.html.j2").render(**context)


def _default_jobs(config: Config) -> int:
    configured = _report_option(config, "jobs")
    if configured:
        return max(1, int(configured))
    return max(1, os.cpu_count() or 1)


def run_report(
    config: Config,
    quarter: str = "latest",
    *,
    jobs: int | None = None,
    only: Sequence[str] | None = None,
    notebooks_dir: "str | Path | None" = None,
    validator: Callable[[Config, Mapping[str, Any]], Any] | None = None,
    tables: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    progress: bool | None = None,
    quiet: bool = False,
    fresh: bool = False,
) -> ReportResult:
    """Run the quarterly report pack into ``<config.output_dir>/<quarter>/``.

    Parameters
    ----------
    config : Config
        The run's configuration (``--data-dir`` / ``--output-dir`` already applied).
    quarter : str
        Any accepted quarter form, or ``latest`` (the latest complete quarter in the data).
    jobs : int, optional
        Notebooks run at once (default: ``report.jobs`` in the config, else the number of cores).
    only : list of str, optional
        Run only these notebooks (stem or name without the ``NN_`` prefix).
    notebooks_dir : path, optional
        Where the notebooks are (default: ``config.notebooks_dir``).
    validator : callable, optional
        ``validator(config, tables)`` raising :class:`ValidationFailed` on failure (default:
        :func:`sendlib.quality.assert_valid`); its return value is summarised in the manifest.
    tables : mapping, optional
        Canonical tables already loaded (default: load every table with :mod:`sendlib.data`).
        Used to resolve ``latest``, for the quality gate and for the identifier scan.
    timeout : float, optional
        Seconds a single cell may run (default: ``report.cell_timeout_seconds``, else none).
    progress : bool, optional
        Force the progress bar on or off (default: on when stderr is a terminal).
    quiet : bool
        Log only to ``run.log``, not to stderr.
    fresh : bool
        Compute everything again: run the quality gate and the simulations even when an earlier
        run stored results for identical inputs, code and settings (``<output_dir>/.cache``).

    Returns
    -------
    ReportResult
        With ``status == "ok"``. Failures raise instead.

    Raises
    ------
    UsageError
        Unknown quarter, a quarter after the extract date, no notebooks, bad ``--only``.
    DataError, ValidationFailed
        Inputs unreadable or the quality gate failed; nothing has been written.
    ReportFailed
        A notebook failed, an output check failed, or another run holds the lock. The partial
        output is in ``<output_dir>/failed-<quarter>-<timestamp>/`` (named in the message).
    """
    from sendlib import __version__
    from sendlib.data import load_tables, resolve_quarter

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    started = _now()
    nb_dir = Path(notebooks_dir).expanduser().resolve() if notebooks_dir else config.notebooks_dir
    notebooks = discover_notebooks(nb_dir, only)
    n_jobs = max(1, int(jobs)) if jobs else _default_jobs(config)
    if timeout is None and _report_option(config, "cell_timeout_seconds"):
        timeout = float(_report_option(config, "cell_timeout_seconds"))

    # Kernels start now and import what the notebooks import while this process loads and
    # validates the data; nothing is submitted to them unless the gate passes.
    cache = runcache.new_run_cache()
    try:
        fork = _report_option(config, "fork_kernels") is not False
        with KernelPool(min(n_jobs, len(notebooks)), nb_dir, {**os.environ, **KERNEL_ENV},
                        imports=lambda: notebook_imports(notebooks), stderr_dir=cache, fork=fork) as pool:
            t = time.perf_counter()
            inputs_before = input_files(config)  # before reading: a change while loading is caught too
            timings["hash_inputs"] = time.perf_counter() - t

            t = time.perf_counter()
            store = reuse_store(config)
            tables_key = _tables_key(config, inputs_before) if store is not None and tables is None else None
            kept_tables = runcache.lookup(store, "tables", tables_key) if tables_key and not fresh else None
            if tables is not None:
                tables = dict(tables)
            else:
                tables = kept_tables if kept_tables is not None else load_tables(config)
            q = resolve_quarter(quarter, config, tables)
            qs = str(q)
            timings["load_and_resolve"] = time.perf_counter() - t

            t = time.perf_counter()
            validation = (validator(config, tables) if validator
                          else default_validator(config, tables, fresh=fresh))
            timings["validate"] = time.perf_counter() - t
            if tables_key and kept_tables is None:  # kept only once the gate has passed
                runcache.keep(store, "tables", tables_key, tables)
            identifiers = collect_identifiers(tables)
            t = time.perf_counter()
            runcache.save_tables(cache, tables)
            runcache.save_validation(cache, validation)
            runcache.set_store(cache, store, reuse=not fresh)
            timings["share_tables"] = time.perf_counter() - t
            del tables

            out_root = Path(config.output_dir)
            with quarter_lock(out_root, qs):
                stamp = _stamp()
                tmp = out_root / f".{qs}.tmp-{stamp}"
                (tmp / "notebooks").mkdir(parents=True)
                (tmp / "tables").mkdir()
                (tmp / "assets").mkdir()
                shutil.copyfile(RESOURCES / "report.css", tmp / STYLESHEET)
                bar = _Progress(len(notebooks), progress)
                handlers = _attach_log(tmp / "run.log", bar.tty, quiet)
                try:
                    return _run_in(tmp, out_root, qs, q, config, nb_dir, notebooks, n_jobs, timeout, bar,
                                   identifiers, inputs_before, validation, timings, t0, started, __version__,
                                   pool, cache)
                except BaseException:
                    # Interrupted or a bug: never leave a half-built pack where the next run would see it.
                    if tmp.exists():
                        failed_dir = out_root / f"failed-{qs}-{_stamp()}"
                        with contextlib.suppress(OSError):
                            os.replace(tmp, failed_dir)
                            LOG.error("run stopped; partial output in %s", failed_dir)
                    raise
                finally:
                    bar.close()
                    for h in handlers:
                        LOG.removeHandler(h)
                        h.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _run_in(tmp: Path, out_root: Path, qs: str, q: Any, config: Config, nb_dir: Path,
            notebooks: list[Path], n_jobs: int, timeout: float | None, bar: _Progress,
            identifiers: Identifiers, inputs_before: dict, validation: Any,
            timings: dict[str, float], t0: float, started: str, version: str,
            pool: KernelPool, cache: Path) -> ReportResult:
    final = out_root / qs
    LOG.info("sendlib %s report for %s: %d notebook(s), %d job(s), output %s", version, qs,
             len(notebooks), n_jobs, final)
    reused = getattr(validation, "reused_key", None)
    LOG.info("quality gate passed in %.1fs%s", timings["validate"],
             f" (result of an identical earlier validation reused, key {reused}; --fresh to rerun)"
             if reused else "")
    parameters = {
        "quarter": qs,
        "config_path": str(config.path),
        "data_dir": str(config.data_dir),
        "tables_dir": str(tmp / "tables"),
        "validated": True,
        "run_cache": str(cache),
    }
    results = {p.name: NotebookResult(name=p.name, stem=p.stem) for p in notebooks}
    exporter = make_exporter()
    context = {
        "authority": config.authority_name,
        "quarter": qs,
        "quarter_label": getattr(q, "label", qs),
        "generated": started,
    }
    t = time.perf_counter()
    export_total = 0.0
    # Each warm kernel takes the next notebook, longest first; this thread exports each as it finishes.
    pool_offset = pool.started_at - t0
    for p in longest_first(notebooks, final / "manifest.json"):
        pool.submit(Job(p, tmp / "notebooks" / p.name, parameters, timeout))
    LOG.info("started %d notebook(s) on %d kernel(s)", len(notebooks), pool.size)
    for job, outcome in pool.results():
        p = job.notebook
        res = results[p.name]
        res.status, res.seconds = outcome.status, round(outcome.seconds, 2)
        res.started, res.kernel = round(outcome.started + pool_offset, 2), outcome.kernel
        res.error = redact(outcome.error, identifiers) if outcome.error else None
        executed = tmp / "notebooks" / p.name
        if executed.is_file():
            res.executed = f"notebooks/{p.name}"
            te = time.perf_counter()
            try:
                res.title = export_html(executed, tmp / f"{p.stem}.html", exporter=exporter,
                                        context={**context, "status": res.status, "error": res.error})
                res.html = f"{p.stem}.html"
            except Exception as exc:
                res.status = "failed"
                res.error = res.error or _last_line(f"HTML export failed: {type(exc).__name__}: {exc}")
            res.export_seconds = round(time.perf_counter() - te, 2)
            export_total += res.export_seconds
        if not res.title:
            res.title = notebook_title({}, p.stem)
        if res.status == "ok":
            LOG.info("%s: ok in %.1fs", p.stem, res.seconds)
        else:
            LOG.error("%s: FAILED after %.1fs: %s", p.stem, res.seconds, res.error)
        bar.done(res)
    timings["notebooks"] = time.perf_counter() - t
    pool.release()  # the kernels shut down in the background while the checks run
    timings["export_html"] = export_total
    timings["kernel_warmup_max"] = max(pool.boot_seconds, default=0.0)
    kernels = {"forked": pool.forked, "zygote_import_seconds": pool.zygote_import_seconds}
    for path in pool.stderr_files():
        _log_kernel_stderr(path, identifiers)

    # Checks on everything written so far (manifest and index are written after, from safe data).
    t = time.perf_counter()
    findings = scan_outputs_for_identifiers(tmp, identifiers)
    small = scan_small_counts(tmp / "tables", config.suppression_threshold)
    small_mode = str(_report_option(config, "small_count_check", "fail"))
    inputs_after = input_files(config)
    changed = changed_inputs(inputs_before, inputs_after)
    if changed:
        shown = ", ".join(changed[:5]) + (f" (+{len(changed) - 5} more)" if len(changed) > 5 else "")
        findings.append(Finding("inputs unchanged", str(config.data_dir),
                                f"input files changed while the report ran ({shown}); "
                                "the pack may mix two versions of the data: run it again"))
    timings["checks"] = time.perf_counter() - t
    for f in findings + small:
        (LOG.warning if (f in small and small_mode == "warn") else LOG.error)("%s", f)
    failing = findings + (small if small_mode != "warn" else [])

    ordered = [results[p.name] for p in notebooks]
    failed_nbs = [r for r in ordered if r.status != "ok"]
    status = "ok" if not failed_nbs and not failing else "failed"
    table_files = sorted((tmp / "tables").glob("*.csv"))
    workbooks = sorted(p for p in tmp.rglob("*.xlsx") if not p.name.startswith("~$"))
    timings["total"] = time.perf_counter() - t0
    manifest = {
        "sendlib_version": version,
        "quarter": qs,
        "status": status,
        "started": started,
        "finished": _now(),
        "parameters": _manifest_parameters(config, qs),
        "config": {"path": str(config.path), "sha256": sha256_file(config.path)},
        "notebooks_dir": str(nb_dir),
        "notebook_sources": {p.name: sha256_file(p) for p in notebooks},
        "git_commit": git_commit(),
        "inputs": {"data_dir": str(config.data_dir), "reference_dir": str(config.reference_dir),
                   "scenarios_dir": str(config.scenarios_dir), "sha256": inputs_before},
        "packages": package_versions(),
        "validation": summarise_validation(validation),
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        "jobs": n_jobs,
        "kernels": kernels,
        "notebooks": [asdict(r) for r in ordered],
        "outputs": {
            "tables": {f"tables/{p.name}": sha256_file(p) for p in table_files},
            "workbooks": {p.relative_to(tmp).as_posix(): sha256_file(p) for p in workbooks},
        },
        "checks": {
            "identifier_scan": {"status": "ok" if not [f for f in findings if f.check == "identifier scan"] else "failed",
                                "ids_checked": len(identifiers.ids),
                                "birth_months_checked": len(identifiers.birth_months),
                                "ids_not_checked_too_short": identifiers.skipped},
            "small_count_scan": {"status": "ok" if not small else ("warn" if small_mode == "warn" else "failed"),
                                 "columns": "n, count, numerator, denominator and names ending _n, count, "
                                            "_numerator, _denominator"},
            "inputs_unchanged": not changed,
            "findings": [asdict(f) for f in findings + small],
        },
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    (tmp / "index.html").write_text(_render_index({
        **context,
        "status": status,
        "finished": manifest["finished"],
        "total_seconds": round(timings["total"], 1),
        "notebooks": ordered,
        "tables": [p.name for p in table_files],
        "workbooks": [p.relative_to(tmp).as_posix() for p in workbooks],
        "findings": [str(f) for f in findings + small],
        "stylesheet": STYLESHEET,
        "version": version,
        "git_commit": manifest["git_commit"],
    }), encoding="utf-8")

    if status == "ok":
        LOG.info("report for %s complete in %.1fs: %s", qs, timings["total"], final)
        _flush_log()
        replace_atomically(tmp, final)
        return ReportResult(qs, "ok", final, ordered, findings + small, manifest)

    failed_dir = out_root / f"failed-{qs}-{_stamp()}"
    reasons = [f"notebook {r.stem} failed: {r.error}" for r in failed_nbs] + [str(f) for f in failing]
    LOG.error("report for %s FAILED; previous output (if any) left untouched; partial output in %s",
              qs, failed_dir)
    _flush_log()
    os.replace(tmp, failed_dir)
    more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
    raise ReportFailed(f"report for {qs} failed: {'; '.join(reasons[:3])}{more}. "
                       f"Partial output and run.log in {failed_dir}")


def _manifest_parameters(config: Config, qs: str) -> dict[str, Any]:
    return {"quarter": qs, "config_path": str(config.path), "data_dir": str(config.data_dir),
            "tables_dir": "tables", "validated": True}


def longest_first(notebooks: Sequence[Path], previous_manifest: Path) -> list[Path]:
    """The order to start notebooks in: longest first by the previous pack's timings for this
    quarter (so no long notebook starts last), notebooks it lacks first, file order among equals.
    Only the start order changes; the pack is always in file order."""
    try:
        previous = {nb["stem"]: float(nb["seconds"]) for nb in json.loads(previous_manifest.read_text())["notebooks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return list(notebooks)
    return sorted(notebooks, key=lambda p: -previous.get(p.stem, float("inf")))


def _log_kernel_stderr(path: Path, identifiers: Identifiers) -> None:
    """Copy a kernel's stderr (start-up messages, warnings, crashes) into run.log, redacted."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip():
            LOG.debug("%s: %s", path.stem, redact(line.rstrip(), identifiers))


def _flush_log() -> None:
    for h in LOG.handlers:
        h.flush()
