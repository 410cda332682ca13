"""The quarterly report run: validate, execute every notebook, export HTML, publish, check.

This module and :mod:`sendlib.report.kernel_pool` are the only ones that know papermill and nbconvert.
One call, :func:`run_report`, does what ``sendlib report`` promises a scheduler:

1. resolve the quarter (``latest`` = the latest complete quarter in the data);
2. run the data-quality gate (:func:`sendlib.quality.gate.assert_valid`); on failure stop with
   :class:`~sendlib.core.errors.ValidationFailed` (exit 3) before anything is written;
3. take a lock (``<output_dir>/.<quarter>.lock``) so two runs cannot write the same quarter;
4. execute every notebook with papermill on a pool of warm kernels (:class:`KernelPool`: started
   at the beginning of the run, they import the notebooks' modules while the gate runs, and each
   runs several notebooks in turn), with the common parameters ``quarter``, ``config_path``,
   ``data_dir``, ``tables_dir``, ``validated=True`` and ``run_cache`` (the run's private cache:
   the validated tables, the gate's result, results shared between sections, see
   :mod:`sendlib.report.runcache`; results of identical inputs are kept between runs in the
   private reuse store, ``paths.cache_dir`` or the user's cache folder, never under
   ``output_dir``); one failing notebook does not stop the others; a notebook whose
   declared inputs (metadata ``"sendlib": {"needs": [...]}``) the data lack, or that stops with
   :class:`~sendlib.core.errors.InsufficientData`, is ``skipped``: not a failure, and its page and
   the index say what it needs;
5. export each executed notebook to HTML without code, prompts, stderr or warnings, with a
   table of contents and the house stylesheet (``assets/report.css``);
6. check the outputs: no person identifier or birth month from the input data anywhere
   (``identifier scan``), no unsuppressed count of 1-4 in a count column of a published table
   (``small-count scan``), inputs unchanged by the run;
7. write ``index.html`` and ``manifest.json`` (paths in it relative to the config file's folder),
   and ``pack.pdf`` (the whole pack printed by headless Chromium, :mod:`sendlib.report.pdf`)
   when a browser is found and the run passed, then move the whole folder into place
   atomically. A failed run leaves the previous good output untouched and keeps its partial
   output in ``<output_dir>/failed-<quarter>-<timestamp>/``; it raises
   :class:`~sendlib.core.errors.ReportFailed` (exit 4).

Layout of ``<output_dir>/<quarter>/``::

    index.html            links to each section with its status and run time
    <notebook>.html       one per notebook, no code
    assets/report.css     the one stylesheet
    tables/*.csv          tidy tables the notebooks published (suppressed)
    *.xlsx                workbooks the notebooks wrote (finance scenarios)
    notebooks/*.ipynb     the executed notebooks
    manifest.json         provenance: parameters, hashes, versions, validation, timings
    pack.pdf              index and sections in one PDF (when Chromium is present)
    run.log               the run's log
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sendlib.core.config import Config
from sendlib.core.errors import EXIT_OK, EXIT_REPORT, InsufficientData, ReportFailed
from sendlib.core.fingerprint import code_fingerprint
from sendlib.report import runcache
from sendlib.report.checks import (
    Finding,
    Identifiers,
    collect_identifiers,
    redact,
    scan_outputs_for_identifiers,
    scan_small_counts,
)
from sendlib.report.export import (
    RESOURCES,
    STYLESHEET,
    describe_unmet,
    discover_notebooks,
    export_html,
    make_exporter,
    notebook_needs,
    notebook_title,
    render_index,
    skipped_notebook,
    unmet_needs,
)
from sendlib.report.kernel_pool import KERNEL_ENV, Job, KernelPool, last_line, notebook_imports
from sendlib.report.logs import Progress, attach_log, flush_log, log_kernel_stderr
from sendlib.report.notebook_tools import relativise_notebook
from sendlib.report.outputs import quarter_lock, replace_atomically, stamp
from sendlib.report.pdf import try_write_pack_pdf
from sendlib.report.provenance import (
    changed_inputs,
    config_relative,
    git_commit,
    input_files,
    package_versions,
    relative_input_hashes,
    sha256_file,
    summarise_validation,
)
from sendlib.report.runcache import reuse_store

LOG = logging.getLogger("sendlib.report")


@dataclass
class NotebookResult:
    """How one notebook's execution and export went."""

    name: str  # file name, e.g. "02_kpi_dashboard.ipynb"
    stem: str  # "02_kpi_dashboard"
    title: str = ""  # first markdown heading, else a readable stem
    status: str = "pending"  # ok | failed | skipped (an input it needs is not in the data)
    seconds: float = 0.0  # execution wall time
    started: float = 0.0  # when it started, seconds after the run began
    kernel: int = 0  # which of the run's kernels ran it
    error: str | None = None  # last line of the error, when failed
    html: str | None = None  # relative path of the exported HTML
    executed: str | None = None  # relative path of the executed notebook
    export_seconds: float = 0.0


@dataclass
class ReportResult:
    """What :func:`run_report` produced."""

    quarter: str
    status: str  # ok | failed
    output_dir: Path  # the final folder, or the failed-... folder
    notebooks: list[NotebookResult]
    findings: list[Finding] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.status == "ok" else EXIT_REPORT


@dataclass
class _Run:
    """What one run's steps share once the gate has passed: settings, inputs, folders, timings."""

    config: Config
    quarter: Any  # the resolved sendlib.core.quarters.Quarter
    notebooks_dir: Path
    notebooks: list[Path]
    jobs: int
    timeout: float | None
    identifiers: Identifiers
    inputs_before: dict[str, dict[str, str]]
    validation: Any
    cache: Path  # the run's private cache (sendlib.report.runcache)
    tmp: Path  # the pack being built; renamed into place at the end
    started: str
    t0: float
    timings: dict[str, float]
    version: str
    synthetic: bool = False  # the data folder's metadata.yaml says synthetic: true (banner on every page)
    #: notebook name -> the inputs it needs that the data do not hold (it is not run)
    unmet: dict[str, list[str]] = field(default_factory=dict)
    pdf: bool = True  # print pack.pdf (also needs report.pdf and a browser)

    @property
    def label(self) -> str:
        return str(self.quarter)

    @property
    def out_root(self) -> Path:
        return Path(self.config.output_dir)

    @property
    def final(self) -> Path:
        return self.out_root / self.label

    def context(self) -> dict[str, Any]:
        """What every page header shows (``synthetic_notice``: the banner text, empty for real data)."""
        from sendlib.data.loaders import SYNTHETIC_NOTICE

        return {
            "authority": self.config.authority_name,
            "quarter": self.label,
            "quarter_label": getattr(self.quarter, "label", self.label),
            "generated": self.started,
            "synthetic_notice": SYNTHETIC_NOTICE if self.synthetic else "",
        }

    def parameters(self) -> dict[str, Any]:
        """The common parameters every notebook is run with."""
        return {
            "quarter": self.label,
            "config_path": str(self.config.path),
            "data_dir": str(self.config.data_dir),
            "tables_dir": str(self.tmp / "tables"),
            "validated": True,
            "run_cache": str(self.cache),
        }


def _tables_key(config: Config, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """What identifies the loaded tables completely: byte-identical data files (sha256), the same
    table sources and loader code. None when a table comes from SQL (contents not hashed)."""
    if any(src.format in ("sql", "sen2_xml") for src in config.tables.values()):
        return None  # SQL contents are not hashed; a return's tables depend on the pseudonym key too
    return {
        "files": {k: inputs.get(k) for k in ("data", "other")},
        "sources": {name: repr(src) for name, src in sorted(config.tables.items())},
        "code": code_fingerprint("data/loaders.py", "core/schema.py", "core/config.py"),
    }


def default_validator(config: Config, tables: Mapping[str, Any], fresh: bool = False) -> Any:
    """The quality gate (raises ValidationFailed), reusing the stored result of an earlier
    validation with the same :func:`sendlib.quality.gate.validation_key` (same table contents,
    rules, code and versions) unless ``fresh`` or reuse is off (:func:`reuse_store`), so a
    re-run of an unchanged pack skips Great Expectations. Only passing results are stored (a
    failure raises first); a reused report says so (``reused_key``)."""
    from sendlib.quality.gate import assert_valid, validation_key

    store = reuse_store(config)
    if store is None:
        return assert_valid(config, tables)
    report, reused = runcache.reused(
        store,
        "validation",
        {"key": validation_key(config, tables)},
        lambda: assert_valid(config, tables),
        take=not fresh,
    )
    if reused is not None:
        if not report.success:  # never stored, but a gate must not trust a file blindly
            return assert_valid(config, tables)
        report.reused_key = reused
    return report


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _default_jobs(config: Config) -> int:
    return config.report.jobs or max(1, os.cpu_count() or 1)


def longest_first(notebooks: Sequence[Path], previous_manifest: Path) -> list[Path]:
    """The order to start notebooks in: longest first by the previous pack's timings for this
    quarter (so no long notebook starts last), notebooks it lacks first, file order among equals.
    Only the start order changes; the pack is always in file order."""
    try:
        previous = {nb["stem"]: float(nb["seconds"]) for nb in json.loads(previous_manifest.read_text())["notebooks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return list(notebooks)
    return sorted(notebooks, key=lambda p: -previous.get(p.stem, float("inf")))


def run_report(
    config: Config,
    quarter: str = "latest",
    *,
    jobs: int | None = None,
    only: Sequence[str] | None = None,
    notebooks_dir: str | Path | None = None,
    validator: Callable[[Config, Mapping[str, Any]], Any] | None = None,
    tables: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    progress: bool | None = None,
    quiet: bool = False,
    fresh: bool = False,
    pdf: bool = True,
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
        :func:`sendlib.quality.gate.assert_valid`); its return value is summarised in the manifest
        and shared with the notebooks through the run cache, so it must be a value
        :mod:`sendlib.report.safe_store` can store (JSON-like values, frames, arrays, the
        allow-listed dataclasses such as the gate's ``ValidationReport``).
    tables : mapping, optional
        Canonical tables already loaded (default: load every table with :mod:`sendlib.data.loaders`).
        Used to resolve ``latest``, for the quality gate and for the identifier scan.
    timeout : float, optional
        Seconds a single cell may run (default: ``report.cell_timeout_seconds``, else none).
    progress : bool, optional
        Force the progress bar on or off (default: on when stderr is a terminal).
    quiet : bool
        Log only to ``run.log``, not to stderr.
    fresh : bool
        Compute everything again: run the quality gate and the simulations even when an earlier
        run stored results for identical inputs, code and settings (the reuse store,
        :func:`sendlib.report.runcache.reuse_store`); the new results are kept.
    pdf : bool
        Print ``pack.pdf`` when the run passes, ``report.pdf`` is true and a Chromium-family
        browser is found (``report.chromium``); False (``--no-pdf``) skips it. A missing
        browser or a failed print only logs why; the report still succeeds.

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
    from sendlib.data.loaders import load_tables, read_metadata, resolve_quarter

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    started = _now()
    nb_dir = Path(notebooks_dir).expanduser().resolve() if notebooks_dir else config.notebooks_dir
    notebooks = discover_notebooks(nb_dir, only)
    n_jobs = max(1, int(jobs)) if jobs else _default_jobs(config)
    if timeout is None:
        timeout = config.report.cell_timeout_seconds

    # Earlier versions kept person-level pickles in <output_dir>/.cache: delete them first, even
    # if this run fails (logged in run.log below).
    legacy = runcache.remove_legacy_cache(config.output_dir)
    store = reuse_store(config)  # a cache folder inside the output folder stops the run here (exit 2)

    # Kernels start now and import what the notebooks import while this process loads and
    # validates the data; nothing is submitted to them unless the gate passes.
    cache = runcache.new_run_cache()
    try:
        with KernelPool(
            min(n_jobs, len(notebooks)),
            nb_dir,
            {**os.environ, **KERNEL_ENV},
            imports=lambda: notebook_imports(notebooks),
            stderr_dir=cache,
        ) as pool:
            t = time.perf_counter()
            inputs_before = input_files(config)  # before reading: a change while loading is caught too
            timings["hash_inputs"] = time.perf_counter() - t

            t = time.perf_counter()
            tables_key = _tables_key(config, inputs_before) if store is not None and tables is None else None
            kept_tables = runcache.lookup(store, "tables", tables_key) if tables_key and not fresh else None
            if tables is not None:
                tables = dict(tables)
            else:
                tables = kept_tables if kept_tables is not None else load_tables(config)
            q = resolve_quarter(quarter, config, tables)
            timings["load_and_resolve"] = time.perf_counter() - t

            t = time.perf_counter()
            validation = validator(config, tables) if validator else default_validator(config, tables, fresh=fresh)
            timings["validate"] = time.perf_counter() - t
            if tables_key and kept_tables is None:  # kept only once the gate has passed
                runcache.keep(store, "tables", tables_key, tables)
            identifiers = collect_identifiers(tables)
            unmet = {p.name: u for p in notebooks if (u := unmet_needs(notebook_needs(p), tables))}
            t = time.perf_counter()
            runcache.save_tables(cache, tables)
            runcache.save_validation(cache, validation)
            runcache.set_store(cache, store, reuse=not fresh)
            timings["share_tables"] = time.perf_counter() - t
            del tables

            out_root = Path(config.output_dir)
            with quarter_lock(out_root, str(q)):
                tmp = out_root / f".{q}.tmp-{stamp()}"
                (tmp / "notebooks").mkdir(parents=True)
                (tmp / "tables").mkdir()
                (tmp / "assets").mkdir()
                shutil.copyfile(RESOURCES / "report.css", tmp / STYLESHEET)
                run = _Run(
                    config,
                    q,
                    nb_dir,
                    notebooks,
                    n_jobs,
                    timeout,
                    identifiers,
                    inputs_before,
                    validation,
                    cache,
                    tmp,
                    started,
                    t0,
                    timings,
                    __version__,
                    unmet=unmet,
                    synthetic=read_metadata(config.data_dir).synthetic,
                    pdf=pdf,
                )
                bar = Progress(len(notebooks), progress)
                handlers = attach_log(tmp / "run.log", bar.tty, quiet, machine_path_stand_ins(run))
                try:
                    if legacy is not None:
                        LOG.warning(
                            "deleted %s/%s: earlier versions kept person-level cached results there; "
                            "results are now kept in the private cache folder (sendlib cache info)",
                            config_relative(out_root, config),
                            legacy.name,
                        )
                    results = _execute_and_export(run, pool, bar)
                    return _finish(run, results)
                except BaseException:
                    # Interrupted or a bug: never leave a half-built pack where the next run would see it.
                    if tmp.exists():
                        failed_dir = out_root / f"failed-{q}-{stamp()}"
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


def _execute_and_export(run: _Run, pool: KernelPool, bar: Progress) -> list[NotebookResult]:
    """Submit every notebook to the warm kernels (longest first) and export each to HTML as it
    finishes; returns the results in file order. Shuts the kernels down in the background."""
    LOG.info(
        "sendlib %s report for %s: %d notebook(s), %d job(s), output %s",
        run.version,
        run.label,
        len(run.notebooks),
        run.jobs,
        config_relative(run.final, run.config),
    )
    reused = getattr(run.validation, "reused_key", None)
    LOG.info(
        "quality gate passed in %.1fs%s",
        run.timings["validate"],
        f" (result of an identical earlier validation reused, key {reused}; --fresh to rerun)" if reused else "",
    )
    parameters = run.parameters()
    context = run.context()
    results = {p.name: NotebookResult(name=p.name, stem=p.stem) for p in run.notebooks}
    exporter = make_exporter()
    t = time.perf_counter()
    export_total = 0.0
    pool_offset = pool.started_at - run.t0
    for p in run.notebooks:
        if p.name in run.unmet:
            _skip(run, results[p.name], p, exporter, context)
            bar.done(results[p.name])
    for p in longest_first([p for p in run.notebooks if p.name not in run.unmet], run.final / "manifest.json"):
        pool.submit(Job(p, run.tmp / "notebooks" / p.name, parameters, run.timeout))
    LOG.info("started %d notebook(s) on %d kernel(s)", len(run.notebooks) - len(run.unmet), pool.size)
    for job, outcome in pool.results():
        p = job.notebook
        res = results[p.name]
        res.status, res.seconds = outcome.status, round(outcome.seconds, 2)
        res.started, res.kernel = round(outcome.started + pool_offset, 2), outcome.kernel
        res.error = redact(outcome.error, run.identifiers) if outcome.error else None
        executed = run.tmp / "notebooks" / p.name
        too_little = f"{InsufficientData.__name__}: "
        if res.status == "failed" and (res.error or "").startswith(too_little):
            _skip(
                run,
                res,
                p,
                exporter,
                context,
                f"This section could not run: {res.error[len(too_little) :].rstrip('.')}.",
            )
            res.executed = f"notebooks/{p.name}" if executed.is_file() else None
        elif executed.is_file():
            res.executed = f"notebooks/{p.name}"
            te = time.perf_counter()
            try:
                res.title = export_html(
                    executed,
                    run.tmp / f"{p.stem}.html",
                    exporter=exporter,
                    context={**context, "status": res.status, "error": res.error},
                )
                res.html = f"{p.stem}.html"
            except Exception as exc:
                res.status = "failed"
                res.error = res.error or last_line(f"HTML export failed: {type(exc).__name__}: {exc}")
            res.export_seconds = round(time.perf_counter() - te, 2)
            export_total += res.export_seconds
        if not res.title:
            res.title = notebook_title({}, p.stem)
        if res.status == "ok":
            LOG.info("%s: ok in %.1fs", p.stem, res.seconds)
        elif res.status != "skipped":  # a skipped section was logged by _skip
            LOG.error("%s: FAILED after %.1fs: %s", p.stem, res.seconds, res.error)
        bar.done(res)
    run.timings["notebooks"] = time.perf_counter() - t
    pool.release()  # the kernels shut down in the background while the checks run
    stand_ins = machine_path_stand_ins(run)
    for executed in sorted((run.tmp / "notebooks").glob("*.ipynb")):
        relativise_notebook(executed, stand_ins)
    run.timings["export_html"] = export_total
    run.timings["kernel_warmup_max"] = max(pool.boot_seconds, default=0.0)
    for path in pool.stderr_files():
        log_kernel_stderr(path, run.identifiers)
    return [results[p.name] for p in run.notebooks]


def machine_path_stand_ins(run: _Run) -> dict[str, str]:
    """What an executed notebook shows instead of each machine folder the run used: the pack's
    temporary folder, the run cache, the data and config folders (relative to the config's
    folder, as the manifest records them), the package, the Python environment and the home
    folder."""
    import sys

    from sendlib.core.config import PROJECT_ROOT

    config_dir = run.config.path.parent
    out = {
        str(run.tmp): "<pack>",
        str(run.cache): "<run cache>",
        str(run.config.path): config_relative(run.config.path, run.config),
        str(run.config.data_dir): config_relative(run.config.data_dir, run.config),
        str(run.notebooks_dir): config_relative(run.notebooks_dir, run.config),
        str(config_dir): ".",
        str(PROJECT_ROOT): "<sendlib>",
        sys.prefix: "<python>",
        str(Path.home()): "~",
    }
    return {k: v for k, v in out.items() if len(k) > 1}


def _skip(
    run: _Run, res: NotebookResult, source: Path, exporter: Any, context: Mapping[str, Any], reason: str = ""
) -> None:
    """A section whose inputs are not in the data (or hold too little, ``reason``): not run; its
    page says what it needs."""
    import nbformat

    res.status, res.error = "skipped", reason or describe_unmet(run.unmet[source.name])
    stub = run.cache / f"{source.stem}.skipped.ipynb"
    nbformat.write(skipped_notebook(source, res.error), str(stub))
    res.title = export_html(
        stub,
        run.tmp / f"{source.stem}.html",
        exporter=exporter,
        context={**context, "status": "skipped", "error": res.error},
    )
    res.html = f"{source.stem}.html"
    LOG.warning("%s: not run: %s", source.stem, res.error)


def _check_outputs(run: _Run) -> tuple[list[Finding], list[Finding], list[str]]:
    """Identifier scan, small-count scan and inputs-unchanged check on everything written so far
    (the manifest and index are written after, from safe data): ``(findings, small, changed)``."""
    t = time.perf_counter()
    findings = scan_outputs_for_identifiers(run.tmp, run.identifiers)
    small = scan_small_counts(run.tmp / "tables", run.config.suppression_threshold)
    changed = changed_inputs(run.inputs_before, input_files(run.config))
    if changed:
        shown = ", ".join(changed[:5]) + (f" (+{len(changed) - 5} more)" if len(changed) > 5 else "")
        findings.append(
            Finding(
                "inputs unchanged",
                config_relative(run.config.data_dir, run.config),
                f"input files changed while the report ran ({shown}); "
                "the pack may mix two versions of the data: run it again",
            )
        )
    run.timings["checks"] = time.perf_counter() - t
    return findings, small, changed


def _finish(run: _Run, ordered: list[NotebookResult]) -> ReportResult:
    """Check the outputs, write the manifest and index, then publish the pack or keep it aside."""
    findings, small, changed = _check_outputs(run)
    small_mode = run.config.report.small_count_check
    for f in findings + small:
        (LOG.warning if (f in small and small_mode == "warn") else LOG.error)("%s", f)
    failing = findings + (small if small_mode != "warn" else [])
    failed_nbs = [r for r in ordered if r.status not in ("ok", "skipped")]
    status = "ok" if not failed_nbs and not failing else "failed"
    manifest = _write_manifest_and_index(run, ordered, status, findings, small, small_mode, changed)

    if status == "ok":
        _write_pdf(run, ordered, manifest)
        LOG.info(
            "report for %s complete in %.1fs: %s",
            run.label,
            run.timings["total"],
            config_relative(run.final, run.config),
        )
        flush_log()
        replace_atomically(run.tmp, run.final)
        return ReportResult(run.label, "ok", run.final, ordered, findings + small, manifest)

    failed_dir = run.out_root / f"failed-{run.label}-{stamp()}"
    reasons = [f"notebook {r.stem} failed: {r.error}" for r in failed_nbs] + [str(f) for f in failing]
    LOG.error(
        "report for %s FAILED; previous output (if any) left untouched; partial output in %s",
        run.label,
        config_relative(failed_dir, run.config),
    )
    flush_log()
    os.replace(run.tmp, failed_dir)
    more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
    raise ReportFailed(
        f"report for {run.label} failed: {'; '.join(reasons[:3])}{more}. Partial output and run.log in {failed_dir}"
    )


def _write_pdf(run: _Run, ordered: list[NotebookResult], manifest: dict[str, Any]) -> None:
    """``pack.pdf`` (index, then the sections in order) when it can be printed; recorded in the
    manifest's outputs with its time. A missing browser or a failed print logs one line only."""
    settings = run.config.report
    pages = ["index.html", *(r.html for r in ordered if r.html)]
    outcome = try_write_pack_pdf(
        run.tmp,
        pages,
        enabled=run.pdf and settings.pdf,
        configured=settings.chromium,
        timeout=settings.pdf_timeout_seconds,
    )
    run.timings["pdf"] = outcome.seconds
    run.timings["total"] = time.perf_counter() - run.t0
    manifest["timings_seconds"] = {k: round(v, 2) for k, v in run.timings.items()}
    manifest["outputs"]["pdf"] = {outcome.path.name: sha256_file(outcome.path)} if outcome.path else {}
    (run.tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _write_manifest_and_index(
    run: _Run,
    ordered: list[NotebookResult],
    status: str,
    findings: list[Finding],
    small: list[Finding],
    small_mode: str,
    changed: list[str],
) -> dict[str, Any]:
    """``manifest.json`` (provenance) and ``index.html`` (the pack's front page); returns the manifest."""
    tmp, config = run.tmp, run.config
    table_files = sorted((tmp / "tables").glob("*.csv"))
    workbooks = sorted(p for p in tmp.rglob("*.xlsx") if not p.name.startswith("~$"))
    run.timings["total"] = time.perf_counter() - run.t0
    manifest = {
        "sendlib_version": run.version,
        "quarter": run.label,
        "status": status,
        "synthetic": run.synthetic,
        "started": run.started,
        "finished": _now(),
        "parameters": _manifest_parameters(config, run.label),
        # every path relative to the config file's folder, with / separators (never absolute)
        "config": {"path": config_relative(config.path, config), "sha256": sha256_file(config.path)},
        "notebooks_dir": config_relative(run.notebooks_dir, config),
        "notebook_sources": {p.name: sha256_file(p) for p in run.notebooks},
        "git_commit": git_commit(),
        "inputs": {
            "data_dir": config_relative(config.data_dir, config),
            "reference_dir": config_relative(config.reference_dir, config),
            "scenarios_dir": config_relative(config.scenarios_dir, config),
            "sha256": relative_input_hashes(run.inputs_before, config),
        },
        "packages": package_versions(),
        "validation": summarise_validation(run.validation),
        "timings_seconds": {k: round(v, 2) for k, v in run.timings.items()},
        "jobs": run.jobs,
        "notebooks": [asdict(r) for r in ordered],
        "outputs": {
            "tables": {f"tables/{p.name}": sha256_file(p) for p in table_files},
            "workbooks": {p.relative_to(tmp).as_posix(): sha256_file(p) for p in workbooks},
        },
        "checks": {
            "identifier_scan": {
                "status": "ok" if not [f for f in findings if f.check == "identifier scan"] else "failed",
                "ids_checked": len(run.identifiers.ids),
                "birth_months_checked": len(run.identifiers.birth_months),
                "ids_not_checked_too_short": run.identifiers.skipped,
            },
            "small_count_scan": {
                "status": "ok" if not small else ("warn" if small_mode == "warn" else "failed"),
                "columns": "n, count, numerator, denominator and names ending _n, count, _numerator, _denominator",
            },
            "inputs_unchanged": not changed,
            "findings": [asdict(f) for f in findings + small],
        },
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    (tmp / "index.html").write_text(
        render_index(
            {
                **run.context(),
                "status": status,
                "finished": manifest["finished"],
                "total_seconds": round(run.timings["total"], 1),
                "notebooks": ordered,
                "tables": [p.name for p in table_files],
                "workbooks": [p.relative_to(tmp).as_posix() for p in workbooks],
                "findings": [str(f) for f in findings + small],
                "stylesheet": STYLESHEET,
                "version": run.version,
                "git_commit": manifest["git_commit"],
                "summary_html": _summary_html(run, ordered),
            }
        ),
        encoding="utf-8",
    )
    return manifest


def _summary_html(run: _Run, ordered: list[NotebookResult]) -> str:
    """The executive summary for the top of the index (:mod:`sendlib.publish.summary`), from this
    pack's published tables and, when ``<output_dir>/<previous quarter>/`` holds a pack, its
    tables too. A summary that cannot be built gives a line saying so, never a failed run."""
    from sendlib.publish import summary

    try:
        sections = {r.stem: summary.Section(r.title or r.stem, r.html, r.status) for r in ordered}
        facts = summary.pack_facts(summary.read_tables(run.tmp / "tables"))
        previous, previous_label = None, None
        prev_q = getattr(run.quarter, "previous", None)
        if prev_q is not None:
            prev_tables = run.out_root / str(prev_q) / "tables"
            if prev_tables.is_dir():
                previous = summary.pack_facts(summary.read_tables(prev_tables))
                previous_label = getattr(prev_q, "label", str(prev_q))
        return summary.render_html(
            summary.build_summary(
                run.label,
                facts,
                sections,
                threshold=run.config.suppression_threshold,
                previous=previous,
                previous_quarter=previous_label,
            )
        )
    except Exception as exc:  # the pack's sections stand on their own; say the summary is missing
        LOG.exception("the executive summary could not be built")
        return (
            '<section class="exec-summary"><h2>Summary for the board</h2><p>The summary could not be built '
            f"in this run ({type(exc).__name__}); see the sections below.</p></section>"
        )


def _manifest_parameters(config: Config, qs: str) -> dict[str, Any]:
    """The notebooks' common parameters as the manifest records them (paths relative to the
    config file's folder)."""
    return {
        "quarter": qs,
        "config_path": config_relative(config.path, config),
        "data_dir": config_relative(config.data_dir, config),
        "tables_dir": "tables",
        "validated": True,
    }
