"""The quarterly report run (sendlib.report): small notebooks written here, then the real pack.

The fast tests build a tiny project in a temporary folder: a config, a data folder holding a
``metadata.yaml`` (extract date 2025-10-15, so ``latest`` is 2025-26Q2) and one CSV, and three
notebooks that each take the five common parameters. The canonical tables are passed in directly
(two people: P000123 born 2014-03, P000456 born 2016-11) and the quality gate is replaced by a
stub, so these tests exercise the runner, not the models.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from report_factory import CODE_MARKER, TABLES, build_project, make_notebook

from sendlib.core.errors import EXIT_REPORT, ReportFailed, ValidationFailed
from sendlib.report import outputs, runner

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path):
    """A tiny project: config, data folder, reference folder, three notebooks."""
    return build_project(tmp_path)


def _passes(config, tables):
    return {"success": True, "n_checks": 3}


def run(config, **kw):
    kw.setdefault("tables", TABLES)
    kw.setdefault("validator", _passes)
    kw.setdefault("jobs", 2)
    kw.setdefault("quiet", True)
    return runner.run_report(config, "latest", **kw)


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ----- the whole run, small notebooks ------------------------------------------------------------


@pytest.mark.slow
def test_report_writes_a_complete_pack_and_reruns_identically(project):
    result = run(project)
    out = project.output_dir / "2025-26Q2"
    assert result.status == "ok" and result.output_dir == out and result.exit_code == 0

    # one HTML per notebook, no code, no prompts, no stderr or warnings, a TOC, the stylesheet
    for stem in ("01_alpha", "02_beta", "03_gamma"):
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert CODE_MARKER not in page
        # nbconvert marks a code input as jp-InputArea-editor / jp-CodeMirrorEditor with a highlight
        # div (markdown cells also sit in a jp-InputArea, so that class alone is not code)
        for marker in (
            "jp-InputArea-editor",
            "jp-CodeMirrorEditor",
            "hl-ipython3",
            "jp-InputPrompt",
            "jp-OutputPrompt",
            "jp-CodeCell jp-mod-noOutputs",
        ):
            assert marker not in page, marker
        assert "STRAY_WARNING_TEXT" not in page and "STDERR_NOISE" not in page
        assert "Reporting quarter 2025-26Q2" in page  # stdout is kept; the quarter was injected
        assert 'href="assets/report.css"' in page
        assert '<nav class="toc"' in page and 'href="#Findings"' in page
        assert "<script src=" not in page  # no CDN: opens offline
    assert (out / "assets" / "report.css").is_file()
    assert "data:image/png;base64," in (out / "01_alpha.html").read_text(encoding="utf-8")

    index = (out / "index.html").read_text(encoding="utf-8")
    for stem, title in (("01_alpha", "Alpha section"), ("02_beta", "Beta section"), ("03_gamma", "Gamma section")):
        assert f'href="{stem}.html"' in index and title in index
    assert index.count("badge-ok") == 3 and "2025-26Q2" in index

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["quarter"] == "2025-26Q2" and manifest["status"] == "ok"
    assert manifest["parameters"] == {  # paths relative to the config file's folder, never absolute
        "quarter": "2025-26Q2",
        "config_path": "config.yaml",
        "data_dir": "data",
        "tables_dir": "tables",
        "validated": True,
    }
    assert (manifest["config"]["path"], manifest["notebooks_dir"]) == ("config.yaml", "notebooks")
    assert (manifest["inputs"]["data_dir"], manifest["inputs"]["reference_dir"]) == ("data", "reference")
    data_files = {p.name for p in project.data_dir.iterdir()}
    assert set(manifest["inputs"]["sha256"]["data"]) == data_files == {"metadata.yaml", "ehcp_plans.csv"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in manifest["inputs"]["sha256"]["data"].values())
    assert set(manifest["inputs"]["sha256"]["reference"]) == {"sen2.csv"}
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["config"]["sha256"])
    assert manifest["packages"]["papermill"] and manifest["packages"]["pandas"]
    assert manifest["validation"]["success"] is True
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "ok", "ok"]
    assert {"validate", "notebooks", "total"} <= set(manifest["timings_seconds"])
    assert manifest["checks"]["identifier_scan"]["ids_checked"] == 2
    assert "git_commit" in manifest and "sendlib_version" in manifest

    assert (out / "tables" / "01_alpha__counts.csv").is_file()
    assert (out / "dsg_scenarios.xlsx").is_file()  # the finance workbook contract
    assert "dsg_scenarios.xlsx" in index
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == [
        "01_alpha.ipynb",
        "02_beta.ipynb",
        "03_gamma.ipynb",
    ]
    assert (out / "run.log").read_text(encoding="utf-8").count(": ok in ") == 3
    # nothing left behind: no temporary folder, no lock holder, nothing written to data (the empty
    # lock file stays: the operating system's lock on it is what counts, and it was released)
    assert sorted(p.name for p in project.output_dir.iterdir()) == [".2025-26Q2.lock", "2025-26Q2"]
    assert {p.name for p in project.data_dir.iterdir()} == data_files

    # a second run with the same inputs: byte-identical tables, the pack replaced in place
    first_tables = _tree_bytes(out / "tables")
    first_manifest = (out / "manifest.json").read_bytes()
    run(project)
    assert _tree_bytes(out / "tables") == first_tables
    assert (out / "manifest.json").read_bytes() != first_manifest  # new run, new timings
    assert sorted(p.name for p in project.output_dir.iterdir()) == [".2025-26Q2.lock", "2025-26Q2"]


@pytest.mark.slow
def test_a_failing_notebook_fails_the_run_but_not_the_others_or_the_previous_pack(project, tmp_path):
    run(project)
    good = project.output_dir / "2025-26Q2"
    before = _tree_bytes(good)

    make_notebook(project.notebooks_dir, "02_beta", fail=True)
    with pytest.raises(ReportFailed) as info:
        run(project)
    assert info.value.exit_code == EXIT_REPORT
    message = str(info.value)
    assert "02_beta" in message and "RuntimeError: told to fail by its parameter" in message
    assert _tree_bytes(good) == before  # previous good output untouched

    failed = [p for p in project.output_dir.iterdir() if p.name.startswith("failed-2025-26Q2-")]
    assert len(failed) == 1 and failed[0].name in message
    folder = failed[0]
    for stem in ("01_alpha", "02_beta", "03_gamma"):
        assert (folder / f"{stem}.html").is_file()  # the others ran; the failed one shows where it stopped
    assert "did not complete" in (folder / "02_beta.html").read_text(encoding="utf-8")
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert index.count("badge-ok") == 2 and index.count("badge-failed") == 1
    assert "RuntimeError: told to fail by its parameter" in index
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "failed", "ok"]
    assert [p.name for p in project.output_dir.glob(".*")] == [".2025-26Q2.lock"]  # no temporary folder left


@pytest.mark.slow
def test_a_person_id_in_any_output_fails_the_run_without_printing_it(project):
    make_notebook(project.notebooks_dir, "03_gamma", leak="P000123")
    with pytest.raises(ReportFailed) as info:
        run(project)
    message = str(info.value)
    assert "identifier scan" in message and "P000123" not in message
    assert not (project.output_dir / "2025-26Q2").exists()
    folder = next(project.output_dir.glob("failed-2025-26Q2-*"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = {f["file"] for f in manifest["checks"]["findings"] if f["check"] == "identifier scan"}
    assert "notebooks/03_gamma.ipynb" in files and "03_gamma.html" in files
    assert "P000123" not in json.dumps(manifest)


@pytest.mark.slow
def test_only_runs_the_named_notebooks(project):
    result = run(project, only=["beta", "01_alpha"], jobs=1)
    assert [n.stem for n in result.notebooks] == ["01_alpha", "02_beta"]
    assert not (result.output_dir / "03_gamma.html").exists()


def test_validation_failure_writes_nothing(project):
    def gate(config, tables):
        raise ValidationFailed("ehcp_plans: 3 rows fail 'plan_start_date is a date'")

    with pytest.raises(ValidationFailed):
        run(project, validator=gate)
    assert not project.output_dir.exists()


def test_lock_refuses_a_second_run_and_is_freed_when_its_process_dies(project, tmp_path):
    out = tmp_path / "outputs"
    with outputs.quarter_lock(out, "2025-26Q2") as lock:
        holder = json.loads((out / ".2025-26Q2.lock.json").read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(ReportFailed, match=f"another report run.*process {os.getpid()}"):
            with outputs.quarter_lock(out, "2025-26Q2"):
                pass
        with pytest.raises(ReportFailed, match="another report run"):
            run(project)  # the whole run stops at the lock, before writing anything
        assert not [p for p in out.iterdir() if not p.name.startswith(".2025-26Q2.lock")]
    assert not (out / ".2025-26Q2.lock.json").exists()

    # a run that dies holding the lock does not block the next one: the OS frees the lock
    code = (
        "import sys, time\nfrom sendlib.report.outputs import quarter_lock\n"
        f"with quarter_lock({str(out)!r}, '2025-26Q2'):\n    print('held', flush=True)\n    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(ReportFailed, match=f"process {child.pid}"):
            with outputs.quarter_lock(out, "2025-26Q2"):
                pass
    finally:
        child.kill()
        child.wait()
    with outputs.quarter_lock(out, "2025-26Q2") as again:
        assert again == lock


# ----- the pieces ------------------------------------------------------------------------------


# ----- end to end on the shipped synthetic county -------------------------------------------------


def _real_pack_available() -> str | None:
    if not list((REPO / "notebooks").glob("*.ipynb")):
        return "notebooks/ has no notebooks yet"
    if not (REPO / "data" / "raw" / "ehcp_plans.csv").is_file():
        return "data/raw has not been generated"
    try:
        import sendlib.quality  # noqa: F401
    except ImportError:
        return "sendlib.quality is not available yet"
    return None


@pytest.mark.slow
@pytest.mark.skipif(_real_pack_available() is not None, reason=str(_real_pack_available()))
def test_end_to_end_on_the_shipped_data(shipped_report):
    code, tmp_path = shipped_report  # one real report, shared with the PDF and accessibility tests
    packs = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert code == 0, f"report failed: {[p.name for p in packs]}; see run.log in the failed- folder"
    (out,) = packs
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    from sendlib.report.export import discover_notebooks

    # every board-pack notebook (the interactive explorer, 08, is not part of the pack)
    notebooks = [p.stem for p in discover_notebooks(REPO / "notebooks")]
    assert "08_dsg_scenario_explorer" not in notebooks and len(notebooks) == 7
    assert [n["stem"] for n in manifest["notebooks"]] == notebooks
    for stem in notebooks:
        page = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert "jp-InputArea-editor" not in page and "Traceback" not in page
    assert list((out / "tables").glob("*.csv")), "the notebooks published no tables"
    data_files = {
        p.relative_to(REPO / "data" / "raw").as_posix()
        for p in (REPO / "data" / "raw").rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    assert set(manifest["inputs"]["sha256"]["data"]) == data_files

    # the shipped county is synthetic: every page says so first, and the manifest records it
    assert manifest["synthetic"] is True
    index = (out / "index.html").read_text(encoding="utf-8")
    for page in [index] + [(out / f"{stem}.html").read_text(encoding="utf-8") for stem in notebooks]:
        assert 'class="banner banner-synthetic"' in page
    # the executive summary has a figure for each of its five lines (none says a table is missing)
    assert "Summary for the board" in index and index.count('class="summary-item"') == 5
    assert "summary-missing" not in index
    _assert_931_only_as_the_comparator(out, notebooks)


def _assert_931_only_as_the_comparator(out: Path, notebooks: list[str]) -> None:
    """Oxfordshire's real DfE code (931) appears only as Oxfordshire's, never as the synthetic
    county's own: in tables, every row coded 931 is named Oxfordshire, and no code column of a
    table without authority names carries it; on pages, the benchmarking section names it as a
    comparator and nothing labels the county with it."""
    import pandas as pd

    from sendlib.core.config import load_config

    county = load_config().authority_name
    for path in sorted((out / "tables").glob("*.csv")):
        frame = pd.read_csv(path, dtype=str)
        for col in [c for c in frame.columns if "la_code" in c or c in ("lea", "la", "authority_code")]:
            coded = frame[frame[col].astype(str).str.strip() == "931"]
            if coded.empty:
                continue
            assert "la_name" in frame.columns, f"{path.name}: {col} 931 without the authority's name"
            assert set(coded["la_name"]) == {"Oxfordshire"}, path.name
    pages = {stem: (out / f"{stem}.html").read_text(encoding="utf-8") for stem in notebooks}
    for stem, page in pages.items():
        text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", page)
        assert not re.search(rf"{county}\W{{0,3}}(DfE code )?931", text), stem
    assert "compared with Oxfordshire (931), a real authority" in pages["07_benchmarking"]


# ----- nothing person-level under the output folder; the private cache --------------------------

#: how every pickle protocol from 2 on starts (protocols 0 and 1 start with an opcode such as "(")
PICKLE_MAGIC = b"\x80"


def _id_finder(ids: set[str]):
    """``find(blob) -> ids in blob`` for any byte string, found anywhere (not only as whole
    words): ids of the form letters + digits (``P000123``) by one overlapping regex per shape,
    any others by plain search."""
    shapes: dict[tuple[str, int], set[bytes]] = {}
    others = []
    for i in ids:
        m = re.fullmatch(r"([A-Za-z]*)([0-9]+)", i)
        if m:
            shapes.setdefault((m.group(1), len(m.group(2))), set()).add(i.encode())
        else:
            others.append(i.encode())
    patterns = [
        (re.compile(b"(?=(" + re.escape(prefix.encode()) + b"[0-9]{%d}))" % n), wanted)
        for (prefix, n), wanted in shapes.items()
    ]

    def find(blob: bytes) -> set[bytes]:
        hits = {o for o in others if o in blob}
        for pattern, wanted in patterns:
            hits |= {m.group(1) for m in pattern.finditer(blob)} & wanted
        return hits

    return find


def _files_with_ids(folder: Path, ids: set[str]) -> dict[str, int]:
    """``{file: distinct ids found}`` for EVERY file under ``folder`` (hidden folders and binary
    files included), read as bytes; zip-based files (xlsx, the cache format) member by member too,
    since their members are compressed."""
    import zipfile

    find = _id_finder(ids)
    found: dict[str, int] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        blobs = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                blobs += [zf.read(name) for name in zf.namelist()]
        hits = set().union(*(find(blob) for blob in blobs))
        if hits:
            found[path.relative_to(folder).as_posix()] = len(hits)
    return found


def _absolute_strings(value) -> list[str]:
    """Every string in a JSON value (keys too) that is an absolute path, POSIX or Windows."""
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _absolute_strings(k) + _absolute_strings(v)
    elif isinstance(value, list):
        for v in value:
            out += _absolute_strings(v)
    elif isinstance(value, str) and (value.startswith(("/", "\\\\", "~")) or re.match(r"^[A-Za-z]:[\\/]", value)):
        out.append(value)
    return out


def test_the_id_and_path_probes_can_fail(tmp_path):
    import zipfile

    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "blob.bin").write_bytes(b"\x00\x01xP000123P0004567\xff")
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/sharedStrings.xml", "<t>P000456</t>" * 50)
    (tmp_path / "clean.csv").write_text("a,b\nP000124,P00012\n")
    (tmp_path / "other.txt").write_text("id-7 here")
    ids = {"P000123", "P000456", "id-7"}
    assert _files_with_ids(tmp_path, ids) == {".hidden/blob.bin": 2, "book.xlsx": 1, "other.txt": 1}
    assert _absolute_strings({"a": ["x/y", "/tmp/q"], "C:\\data": 1, "b": "../data"}) == ["/tmp/q", "C:\\data"]


@pytest.mark.slow
def test_the_run_cache_and_reuse_store_stay_private_and_a_legacy_cache_is_deleted(tmp_path):
    """The tiny project with a notebook that keeps a person-level result for later runs."""
    import stat

    import nbformat
    import yaml

    project = build_project(tmp_path)
    raw = yaml.safe_load(project.path.read_text(encoding="utf-8"))
    raw["paths"]["cache_dir"] = "private-cache"
    project.path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    from sendlib.core.config import load_config

    config = load_config(project.path)
    nb_path = project.notebooks_dir / "03_gamma.ipynb"
    nb = nbformat.read(str(nb_path), as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "from sendlib.report import runcache\n"
            "import pandas as pd\n"
            "kept = runcache.cached(run_cache, 'probe', {'k': 1},\n"
            "    lambda: pd.DataFrame({'person_id': ['P000' + n for n in ('123', '456')]}), reusable=lambda: {'t': 1})\n"
            "print(len(kept), 'people')"
        )
    )
    nbformat.write(nb, str(nb_path))
    legacy = config.output_dir / ".cache"
    legacy.mkdir(parents=True)
    (legacy / "tables-0123456789abcdef01234567.pkl").write_bytes(PICKLE_MAGIC + b"P000123")

    run(config)
    out = config.output_dir / "2025-26Q2"
    assert not legacy.exists()
    assert "deleted outputs/.cache" in (out / "run.log").read_text(encoding="utf-8")
    assert _files_with_ids(config.output_dir, {"P000123", "P000456"}) == {}
    store = tmp_path / "private-cache"
    entries = sorted(p.name for p in store.iterdir())
    assert len(entries) == 1 and entries[0].startswith("probe-") and entries[0].endswith(".zip")
    if os.name == "posix":
        assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert not [p for p in store.rglob("*") if p.is_file() and p.read_bytes().startswith(PICKLE_MAGIC)]
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in manifest and not _absolute_strings(json.loads(manifest))


def _copy_project(tmp_path: Path) -> Path:
    """The repository's config, data, notebooks and expectations in ``tmp_path`` (same layout),
    with the cache folder inside it: the config to run."""
    import shutil

    import yaml

    for folder in ("config", "data/raw", "data/reference", "notebooks", "expectations"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    cfg = tmp_path / "config" / "default.yaml"
    raw = yaml.safe_load(cfg.read_text(encoding="utf-8"))
    raw["paths"]["cache_dir"] = "../private-cache"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return cfg


@pytest.mark.slow
@pytest.mark.skipif(_real_pack_available() is not None, reason=str(_real_pack_available()))
def test_no_person_id_under_the_output_folder_and_the_cache_is_private(tmp_path):
    """Issue 20 "done when": after `sendlib report` on the shipped county no file anywhere under the
    output folder holds a person id; the cache folder is owner-only and holds no pickle; the
    manifest records no absolute path."""
    import stat

    import pandas as pd

    from sendlib.cli import main
    from sendlib.report import safe_store

    cfg = _copy_project(tmp_path)
    outputs = tmp_path / "outputs"
    (outputs / ".cache").mkdir(parents=True)  # what earlier versions left: person-level pickles
    (outputs / ".cache" / "tables-0123456789abcdef01234567.pkl").write_bytes(PICKLE_MAGIC + b"\x04...")

    code = main(["report", "--config", str(cfg), "--quarter", "latest", "--quiet"])
    packs = [p for p in outputs.iterdir() if not p.name.startswith(".")]
    assert code == 0, f"report failed: {[p.name for p in packs]}; see run.log in the failed- folder"
    assert not (outputs / ".cache").exists()

    data = tmp_path / "data" / "raw"
    ids = set(pd.read_csv(data / "ehcp_plans.csv", usecols=["person_id"], dtype=str)["person_id"].dropna())
    for table in data.glob("*.csv"):
        header = table.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
        if "person_id" in header:
            ids |= set(pd.read_csv(table, usecols=["person_id"], dtype=str)["person_id"].dropna())
    assert len(ids) > 1000
    assert _files_with_ids(outputs, ids) == {}

    store = tmp_path / "private-cache"
    kept = sorted(p.name.split("-")[0] for p in store.iterdir() if p.suffix == ".zip")
    assert {"tables", "validation", "projection", "overflow"} <= set(kept), kept
    if os.name == "posix":
        assert stat.S_IMODE(store.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in store.iterdir())
    files = [p for p in store.rglob("*") if p.is_file()]
    assert not [p.name for p in files if p.read_bytes()[:1] == PICKLE_MAGIC]
    assert all(safe_store.is_store_file(p) for p in files)

    (pack,) = packs
    text = (pack / "manifest.json").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(REPO) not in text
    manifest = json.loads(text)
    assert not _absolute_strings(manifest)
    assert manifest["config"]["path"] == "default.yaml" and manifest["inputs"]["data_dir"] == "../data/raw"

    # no file of the pack (pages, tables, workbook, executed notebooks, log) names a machine folder:
    # the project's, the repository's, the Python environment's or the home folder
    import sys
    import zipfile

    machine = [str(tmp_path), str(REPO), sys.prefix, str(Path.home())]
    leaks = {}
    for path in (p for p in pack.rglob("*") if p.is_file()):
        blobs = [path.read_bytes()]
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                blobs = [zf.read(n) for n in zf.namelist()]
        found = [m for m in machine for b in blobs if m.encode() in b or json.dumps(m)[1:-1].encode() in b]
        if found:
            leaks[path.relative_to(pack).as_posix()] = sorted(set(found))
    assert leaks == {}
