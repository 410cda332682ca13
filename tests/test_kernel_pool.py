"""Warm kernels reused across notebooks (sendlib.report.kernel_pool): isolation, failures, replacement."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from sendlib.report.kernel_pool import Job, KernelPool, notebook_imports, warmup_code
from sendlib.kernel_zygote import fork_supported


def _notebook(folder: Path, stem: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('who = ""', metadata={"tags": ["parameters"]}),
                *[nbformat.v4.new_code_cell(c) for c in cells]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{stem}.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_notebook_imports_lists_modules_without_running_anything(tmp_path):
    nb = _notebook(tmp_path, "a", "import json, os.path\nfrom sendlib.publish.plots import kpi as kpi_plots\n"
                                  "from . import nothing\n%matplotlib inline", "raise SystemExit('never run')")
    found = notebook_imports([nb])
    assert {"json", "os.path", "sendlib.publish.plots", "sendlib.publish.plots.kpi", "pandas", "sendlib.notebook"} <= set(found)
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
    # the ordinary path (each kernel its own process, no zygote) is covered here
    with KernelPool(1, tmp_path, dict(os.environ), imports=["json"], fork=False) as pool:
        assert pool._zygote is None
        pool.submit(Job(slow, out / slow.name, {}, timeout=3))
        pool.submit(Job(after, out / after.name, {}, timeout=60))
        outcomes = {job.notebook.stem: outcome for job, outcome in pool.results()}
    assert outcomes["01_slow"].status == "failed" and outcomes["01_slow"].replace_kernel
    assert outcomes["02_after"].status == "ok" and outcomes["02_after"].seconds < 30  # did not wait for the sleep
    assert (tmp_path / "after.txt").read_text() != (tmp_path / "slow.txt").read_text()
    assert (out / "01_slow.ipynb").is_file()  # what ran before the timeout is kept


_WHO_AM_I = ("import os, sys\n"
             "open(f'{os.getpid()}.pid', 'w').write(f\"{os.getppid()} {os.getpgid(0)} {'wave' in sys.modules}\")")


def _processes(folder: Path) -> dict[int, tuple[int, int, bool]]:
    found = {}
    for p in folder.glob("*.pid"):
        ppid, pgid, warm = p.read_text().split()
        found[int(p.stem)] = (int(ppid), int(pgid), warm == "True")
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.skipif(not fork_supported(), reason="kernels are forked only where the OS has fork")
def test_kernels_are_forked_from_one_zygote_that_imported_the_modules(tmp_path):
    import time

    out = tmp_path / "out"
    out.mkdir()
    who = _notebook(tmp_path, "01_who", _WHO_AM_I)
    crash = _notebook(tmp_path, "02_crash", "import os\nos._exit(1)")
    with KernelPool(2, tmp_path, dict(os.environ), imports=["wave"], stderr_dir=tmp_path) as pool:
        for i in range(4):
            pool.submit(Job(who, out / f"who-{i}.ipynb", {}, timeout=120))
        assert all(o.status == "ok" for _, o in pool.results())
        zygote_pid = pool._zygote._proc.pid
        first = _processes(tmp_path)
        pool.submit(Job(crash, out / crash.name, {}, timeout=120))
        pool.submit(Job(crash, out / "crash-2.ipynb", {}, timeout=120))
        list(pool.results())
        for i in range(4, 6):
            pool.submit(Job(who, out / f"who-{i}.ipynb", {}, timeout=120))
        assert all(o.status == "ok" for _, o in pool.results())
        after = _processes(tmp_path)
    assert len(first) == 2  # two kernels, each reused
    # every kernel is a child of the zygote (not of this process), in its own process group,
    # and had the zygote's imports before running anything
    assert all(ppid == zygote_pid and pgid == pid and warm for pid, (ppid, pgid, warm) in first.items())
    assert zygote_pid != os.getpid()
    replaced = set(after) - set(first)
    assert len(replaced) == 2 and all(after[pid][0] == zygote_pid for pid in replaced)  # new forks
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in [zygote_pid, *after]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in [zygote_pid, *after])  # nothing left running


@pytest.mark.skipif(not fork_supported(), reason="kernels are forked only where the OS has fork")
def test_kernels_start_the_ordinary_way_when_the_zygote_cannot_fork(tmp_path, monkeypatch):
    import sendlib.kernel_zygote as kz

    def refuse(self, *args, **kwargs):
        raise kz.ZygoteError("refused in a test")

    monkeypatch.setattr(kz.Zygote, "fork", refuse)
    out = tmp_path / "out"
    out.mkdir()
    who = _notebook(tmp_path, "01_who", _WHO_AM_I)
    with KernelPool(1, tmp_path, dict(os.environ), imports=["wave"]) as pool:
        pool.submit(Job(who, out / who.name, {}, timeout=120))
        assert [o.status for _, o in pool.results()] == ["ok"]
    [(ppid, _pgid, warm)] = _processes(tmp_path).values()
    assert ppid == os.getpid() and warm  # launched by jupyter_client, warmed by its own imports


@pytest.mark.skipif(not fork_supported(), reason="kernels are forked only where the OS has fork")
def test_a_zygote_with_nothing_to_load_refuses_forks_at_once(tmp_path):
    import time

    import sendlib.kernel_zygote as kz

    zygote = kz.Zygote(dict(os.environ), tmp_path, stderr_path=tmp_path / "zygote.stderr")
    try:
        zygote.abandon("listing failed")
        start = time.monotonic()
        with pytest.raises(kz.ZygoteError, match="listing failed"):
            zygote.fork(str(tmp_path / "k.json"), str(tmp_path), dict(os.environ), None)
        assert time.monotonic() - start < 5  # no wait for imports that will never come
    finally:
        zygote.close()
    assert zygote._proc.poll() is not None  # closed: the process has exited


@pytest.mark.skipif(not fork_supported(), reason="kernels are forked only where the OS has fork")
def test_a_prestarted_zygote_is_adopted_only_with_the_same_environment():
    import sendlib.kernel_zygote as kz

    env = {**os.environ, "SENDLIB_TEST": "1"}
    kz.prestart(env)
    first = kz._PRESTARTED
    assert first is not None and first.stderr_path.is_file()
    assert kz.adopt(env) is first and kz._PRESTARTED is None  # now the caller's
    first.close()
    assert not first.stderr_path.exists()  # its own stderr file is removed with it
    kz.prestart(env)
    second = kz._PRESTARTED
    assert kz.adopt({**env, "SENDLIB_TEST": "2"}) is None  # another environment: not adopted...
    assert second._proc.poll() is not None  # ...and closed
    kz.prestart(env)
    third = kz._PRESTARTED
    kz.discard_prestarted()  # e.g. report.fork_kernels: false
    assert kz._PRESTARTED is None and third._proc.poll() is not None
