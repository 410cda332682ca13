"""Warm kernels reused across notebooks (sendlib.report.kernel_pool): isolation, failures, replacement."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

from sendlib.report.kernel_pool import Job, KernelPool, notebook_imports, warmup_code


def _notebook(folder: Path, stem: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('who = ""', metadata={"tags": ["parameters"]}),
        *[nbformat.v4.new_code_cell(c) for c in cells],
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_notebook_imports_lists_modules_without_running_anything(tmp_path):
    nb = _notebook(
        tmp_path,
        "a",
        "import json, os.path\nfrom sendlib.publish.plots import kpi as kpi_plots\n"
        "from . import nothing\n%matplotlib inline",
        "raise SystemExit('never run')",
    )
    found = notebook_imports([nb])
    assert {
        "json",
        "os.path",
        "sendlib.publish.plots",
        "sendlib.publish.plots.kpi",
        "pandas",
        "sendlib.notebook",
    } <= set(found)
    assert found == sorted(found)
    code = warmup_code(["json", "no_such_module_xyz"])
    compile(code, "warmup", "exec")  # valid Python that tolerates names that are not modules
    exec(code, {})


def test_one_kernel_runs_notebooks_in_turn_with_a_fresh_namespace_and_survives_a_crash(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    first = _notebook(tmp_path, "01_first", "import decimal\nsecret = 42")
    second = _notebook(
        tmp_path,
        "02_second",
        "import sys, os\nassert 'secret' not in globals(), 'namespace leaked'\n"
        "assert 'decimal' in sys.modules, 'imports should stay warm'\n"
        "open('second.txt', 'w').write(f'{who} {os.getpid()}')",
    )
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
    slow = _notebook(
        tmp_path, "01_slow", "import os, time\nopen('slow.txt', 'w').write(str(os.getpid()))\ntime.sleep(60)"
    )
    after = _notebook(tmp_path, "02_after", "import os\nopen('after.txt', 'w').write(str(os.getpid()))")
    with KernelPool(1, tmp_path, dict(os.environ), imports=["json"]) as pool:
        pool.submit(Job(slow, out / slow.name, {}, timeout=3))
        pool.submit(Job(after, out / after.name, {}, timeout=60))
        outcomes = {job.notebook.stem: outcome for job, outcome in pool.results()}
    assert outcomes["01_slow"].status == "failed" and outcomes["01_slow"].replace_kernel
    assert outcomes["02_after"].status == "ok" and outcomes["02_after"].seconds < 30  # did not wait for the sleep
    assert (tmp_path / "after.txt").read_text() != (tmp_path / "slow.txt").read_text()
    assert (out / "01_slow.ipynb").is_file()  # what ran before the timeout is kept


def test_every_kernel_of_a_pool_is_warm_and_its_own_process(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    probe = "import os, sys\nopen(f'{who}.txt', 'w').write(f\"{os.getpid()} {'wave' in sys.modules}\")"
    books = [_notebook(tmp_path, f"0{i}_probe", "import time\ntime.sleep(1)", probe) for i in range(2)]
    with KernelPool(2, tmp_path, dict(os.environ), imports=["wave"], stderr_dir=tmp_path) as pool:
        for nb in books:
            pool.submit(Job(nb, out / nb.name, {"who": nb.stem}, timeout=120))
        outcomes = [outcome for _job, outcome in pool.results()]
        assert len(pool.stderr_files()) == 2
    assert all(o.status == "ok" for o in outcomes)
    seen = [(tmp_path / f"{nb.stem}.txt").read_text().split() for nb in books]
    assert all(warm == "True" for _pid, warm in seen)  # the warm-up imported the notebooks' modules
    assert {o.kernel for o in outcomes} == {0, 1} and seen[0][0] != seen[1][0]  # two kernels, two processes
