"""Warm kernels reused across notebooks (sendlib.kernel_pool): isolation, failures, replacement."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

from sendlib.kernel_pool import Job, KernelPool, notebook_imports, warmup_code


def _notebook(folder: Path, stem: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('who = ""', metadata={"tags": ["parameters"]}),
                *[nbformat.v4.new_code_cell(c) for c in cells]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_notebook_imports_lists_modules_without_running_anything(tmp_path):
    nb = _notebook(tmp_path, "a", "import json, os.path\nfrom sendlib.plots import kpi as kpi_plots\n"
                                  "from . import nothing\n%matplotlib inline", "raise SystemExit('never run')")
    found = notebook_imports([nb])
    assert {"json", "os.path", "sendlib.plots", "sendlib.plots.kpi", "pandas", "sendlib.notebook"} <= set(found)
    assert found == sorted(found)
    code = warmup_code(["json", "no_such_module_xyz"])
    compile(code, "warmup", "exec")  # valid Python that tolerates names that are not modules
    exec(code, {})


def test_one_kernel_runs_notebooks_in_turn_with_a_fresh_namespace_and_survives_a_crash(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    first = _notebook(tmp_path, "01_first", "import decimal\nsecret = 42")
    second = _notebook(tmp_path, "02_second",
                       "import sys, os\nassert 'secret' not in globals(), 'namespace leaked'\n"
                       "assert 'decimal' in sys.modules, 'imports should stay warm'\n"
                       "open('second.txt', 'w').write(f'{who} {os.getpid()}')")
    crash = _notebook(tmp_path, "03_crash", "import os\nos._exit(1)")
    fails = _notebook(tmp_path, "04_fails", "raise ValueError('told to fail')")
    after = _notebook(tmp_path, "05_after", "import os\nopen('after.txt', 'w').write(str(os.getpid()))")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with KernelPool(1, tmp_path, env, imports=["json"], stderr_dir=tmp_path) as pool:
        for nb in (first, second, crash, fails, after):
            pool.submit(Job(nb, out / nb.name, {"who": nb.stem}, timeout=120))
        outcomes = {job.notebook.stem: outcome for job, outcome in pool.results()}
        assert pool.boot_seconds[0] > 0
    assert outcomes["01_first"].status == "ok" and outcomes["02_second"].status == "ok"
    assert outcomes["03_crash"].status == "failed"
    assert outcomes["04_fails"].status == "failed" and "told to fail" in outcomes["04_fails"].error
    assert outcomes["05_after"].status == "ok"
    who, pid = (tmp_path / "second.txt").read_text().split()
    assert who == "02_second"  # parameters injected per notebook
    assert (tmp_path / "after.txt").read_text() != pid  # the crashed kernel was replaced
    executed = nbformat.read(str(out / "02_second.ipynb"), as_version=4)
    assert "remove-cell" in executed.cells[0].metadata.get("tags", [])  # the reset cell, hidden in HTML
    # written once per notebook, and still written when the kernel died or a cell raised
    crashed = nbformat.read(str(out / "03_crash.ipynb"), as_version=4)
    assert crashed.cells[1].metadata.papermill["status"] == "completed"  # the parameters ran
    failed = nbformat.read(str(out / "04_fails.ipynb"), as_version=4)
    assert any(o.get("ename") == "ValueError" for c in failed.cells for o in c.get("outputs", []))


def test_a_cell_that_times_out_gets_its_kernel_replaced_before_the_next_notebook(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    slow = _notebook(tmp_path, "01_slow", "import os, time\nopen('slow.txt', 'w').write(str(os.getpid()))\n"
                                          "time.sleep(60)")
    after = _notebook(tmp_path, "02_after", "import os\nopen('after.txt', 'w').write(str(os.getpid()))")
    with KernelPool(1, tmp_path, dict(os.environ), imports=["json"]) as pool:
        pool.submit(Job(slow, out / slow.name, {}, timeout=3))
        pool.submit(Job(after, out / after.name, {}, timeout=60))
        outcomes = {job.notebook.stem: outcome for job, outcome in pool.results()}
    assert outcomes["01_slow"].status == "failed" and outcomes["01_slow"].replace_kernel
    assert outcomes["02_after"].status == "ok" and outcomes["02_after"].seconds < 30  # did not wait for the sleep
    assert (tmp_path / "after.txt").read_text() != (tmp_path / "slow.txt").read_text()
    assert (out / "01_slow.ipynb").is_file()  # what ran before the timeout is kept
