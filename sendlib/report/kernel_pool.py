"""Warm Jupyter kernels for the report run: started at once, reused for several notebooks.

Starting a kernel and importing pandas, matplotlib, seaborn and sendlib in it costs seconds of
CPU; doing it once per notebook was most of the report's run time. :class:`KernelPool` starts
``size`` kernels as soon as the run begins, and each one imports every module the run's
notebooks import (:func:`notebook_imports`) while the report process loads and validates the
data. When the gate has passed, the report submits the notebooks; each kernel takes the next
one, runs it with papermill, and takes another. Before each notebook the kernel's namespace is
reset (``%reset -f``, figures closed, working folder restored) by a first cell tagged
``remove-cell`` (kept in the executed notebook, dropped from the HTML), so a notebook sees only
its own parameters and the modules already imported.

Kernels are started the standard way, by :class:`jupyter_client.manager.AsyncKernelManager`
(a new ``ipykernel`` process each), so the pool runs alike on Linux, macOS and Windows.

A notebook that fails leaves its kernel usable; a kernel that dies or times out is replaced by a
new warm one, so one bad notebook never takes the others down.
"""

from __future__ import annotations

import ast
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOG = logging.getLogger("sendlib.report")

#: Environment of every report kernel, on top of the report process's own: fixed hash seed (set
#: and dict order in a notebook cannot vary between runs), non-interactive matplotlib, no
#: debugger warning on stderr.
KERNEL_ENV = {
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
}

#: Always imported by the warm-up, whatever the notebooks import.
BASE_IMPORTS = ("pandas", "matplotlib.pyplot", "sendlib.notebook")


def notebook_imports(paths: Iterable[str | Path]) -> list[str]:
    """Top-level modules imported by the code cells of these notebooks (``import a.b`` and
    ``from a.b import c`` give ``a.b``; ``from a import b`` also tries ``a.b``), sorted.

    IPython magics are translated to Python first (as the kernel would); a cell that still does
    not parse is skipped. Nothing is executed.
    """
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    to_python = TransformerManager().transform_cell
    found: set[str] = set(BASE_IMPORTS)
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(to_python(cell.source))
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    return sorted(found)


def warmup_code(modules: Sequence[str]) -> str:
    """Kernel code importing ``modules``; names that are not modules (``from a import f``) are
    skipped silently, a module that fails to import is left for the notebook to report.

    The imported objects are then frozen out of the garbage collector (``gc.freeze``): they live
    as long as the kernel, and every full collection (each namespace reset runs one, and pandas
    work triggers many) would otherwise walk all of them again.
    """
    return (
        "import importlib as _il\n"
        f"for _m in {list(modules)!r}:\n"
        "    try:\n"
        "        _il.import_module(_m)\n"
        "    except Exception:\n"
        "        pass\n"
        "del _il, _m\n"
        "__import__('gc').collect()\n"
        "__import__('gc').freeze()\n"
    )


def reset_code(cwd: str | Path) -> str:
    """Kernel code run before each notebook: empty namespace, no open figures, the notebooks'
    folder as working directory. Imported modules stay imported (that is the point)."""
    return (
        "get_ipython().run_line_magic('reset', '-f')\n"
        "__import__('matplotlib.pyplot').pyplot.close('all')\n"
        f"__import__('os').chdir({str(cwd)!r})\n"
    )


@dataclass
class Job:
    """One notebook to execute: source, where the executed copy goes, its parameters."""

    notebook: Path
    output: Path
    parameters: Mapping[str, Any]
    timeout: float | None = None


@dataclass
class Outcome:
    status: str  # ok | failed
    seconds: float
    error: str | None = None
    kernel: int = 0
    started: float = 0.0  # seconds after the pool started (for the run's timeline)
    replace_kernel: bool = False  # the kernel died, or may still be busy after a cell timed out


class _Kernel:
    """One kernel and its manager; ``boot`` starts it and runs the warm-up."""

    def __init__(
        self,
        index: int,
        kernel_name: str,
        cwd: Path,
        env: Mapping[str, str],
        warmup: Callable[[], str],
        stderr_path: Path | None,
    ) -> None:
        self.index, self.kernel_name, self.cwd, self.env = index, kernel_name, cwd, dict(env)
        self.warmup, self.stderr_path = warmup, stderr_path
        self.km: Any = None
        self._stderr: Any = None
        self.boot_seconds = 0.0

    def boot(self) -> None:
        # nbclient (under papermill) drives kernels asynchronously; with a blocking manager and
        # client its wait for output would block the loop that notices a dead kernel. So the
        # manager is the asynchronous one, driven from this thread's own event loop (run_sync).
        from jupyter_core.utils import run_sync

        start = time.perf_counter()
        if self.stderr_path is not None and self._stderr is None:
            self._stderr = open(self.stderr_path, "ab")
        self._start()
        import papermill  # noqa: F401  (loaded here, while the kernel process starts)

        kc = self.km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=120)
            run_sync(kc.execute_interactive)(self.warmup(), timeout=300, output_hook=lambda _msg: None)
        finally:
            kc.stop_channels()
        self.boot_seconds = time.perf_counter() - start

    def _start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        km = AsyncKernelManager(kernel_name=self.kernel_name)
        try:
            run_sync(km.start_kernel)(cwd=str(self.cwd), env=self.env, stderr=self._stderr)
        except Exception:
            try:
                run_sync(km.cleanup_resources)()  # ports and connection file of the failed start
            except Exception:
                pass
            raise
        self.km = km

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return self.km is not None and bool(run_sync(self.km.is_alive)())

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None:
            try:
                run_sync(self.km.shutdown_kernel)(now=True)
            except Exception:  # already gone
                pass
            self.km = None

    def close(self) -> None:
        self.shutdown()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


class KernelPool:
    """``size`` warm kernels executing submitted notebooks, each in its own thread.

    ``imports`` may be a function, called once in the background as the pool starts (listing
    the notebooks' imports takes a moment of its own).

    Use as a context manager: kernels start (and warm up) on entry, in the background; jobs are
    queued with :meth:`submit`; :meth:`results` yields ``(job, outcome)`` as each finishes; exit
    shuts every kernel down, whether or not anything ran (a failed gate submits nothing).
    """

    def __init__(
        self,
        size: int,
        cwd: str | Path,
        env: Mapping[str, str],
        imports: Sequence[str] | Callable[[], Sequence[str]] = BASE_IMPORTS,
        kernel_name: str = "python3",
        stderr_dir: str | Path | None = None,
    ) -> None:
        self.size = max(1, int(size))
        self.cwd = Path(cwd)
        self.env = dict(env)
        self.kernel_name = kernel_name
        self._imports = imports
        self._modules: list[str] | None = None
        self._modules_lock = threading.Lock()
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._done: queue.Queue[tuple[Job, Outcome]] = queue.Queue()
        self._submitted = 0
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._stderr_dir = Path(stderr_dir) if stderr_dir else None
        self._kernels: list[_Kernel] = []

    def modules(self) -> list[str]:
        """The modules every kernel imports, worked out once."""
        with self._modules_lock:
            if self._modules is None:
                found = self._imports() if callable(self._imports) else self._imports
                self._modules = list(found)
            return self._modules

    def _warmup(self) -> str:
        return warmup_code(self.modules())

    def __enter__(self) -> KernelPool:
        self._kernels = [
            _Kernel(
                i,
                self.kernel_name,
                self.cwd,
                self.env,
                self._warmup,
                self._stderr_dir / f"kernel-{i}.stderr" if self._stderr_dir else None,
            )
            for i in range(self.size)
        ]
        for k in self._kernels:
            t = threading.Thread(target=self._serve, args=(k,), name=f"kernel-{k.index}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, job: Job) -> None:
        self._submitted += 1
        self._jobs.put(job)

    def results(self) -> Iterator[tuple[Job, Outcome]]:
        """``(job, outcome)`` for every submitted job, in the order they finish."""
        for _ in range(self._submitted):
            yield self._done.get()
        self._submitted = 0

    def release(self) -> None:
        """No more jobs: each kernel shuts down in its own thread, in the background, while the
        caller goes on (writing checks and the manifest); :meth:`close` waits for them."""
        if self._stop.is_set():
            return
        self._stop.set()
        for _ in self._threads:
            self._jobs.put(None)

    def close(self) -> None:
        self.release()
        for t in self._threads:
            t.join(timeout=30)
        for k in self._kernels:
            k.close()  # any a thread did not get to

    @property
    def started_at(self) -> float:
        """``time.perf_counter()`` when the pool was created."""
        return self._t0

    @property
    def boot_seconds(self) -> list[float]:
        return [round(k.boot_seconds, 2) for k in self._kernels]

    def stderr_files(self) -> list[Path]:
        return [k.stderr_path for k in self._kernels if k.stderr_path is not None]

    # ----- in each kernel's thread -------------------------------------------------------------

    def _serve(self, kernel: _Kernel) -> None:
        boot_error: str | None = None
        try:
            kernel.boot()
        except Exception as exc:  # reported on every job this kernel would have run
            boot_error = last_line(f"kernel did not start: {type(exc).__name__}: {exc}")
            LOG.error("kernel %d: %s", kernel.index, boot_error)
        while True:
            job = self._jobs.get()
            if job is None or self._stop.is_set():
                kernel.close()
                return
            if boot_error is not None and not kernel.alive():
                try:
                    kernel.shutdown()
                    kernel.boot()
                    boot_error = None
                except Exception as exc:
                    boot_error = last_line(f"kernel did not start: {type(exc).__name__}: {exc}")
                    self._done.put((job, Outcome("failed", 0.0, boot_error, kernel.index)))
                    continue
            began = time.perf_counter() - self._t0
            outcome = self._execute(kernel, job)
            outcome.started = round(began, 2)
            self._done.put((job, outcome))
            if outcome.replace_kernel:  # a fresh warm kernel before the next job
                kernel.shutdown()
                try:
                    kernel.boot()
                except Exception as exc:
                    boot_error = last_line(f"kernel did not restart: {type(exc).__name__}: {exc}")

    def _execute(self, kernel: _Kernel, job: Job) -> Outcome:
        import nbformat
        import papermill as pm

        start = time.perf_counter()
        try:
            nb = nbformat.read(str(job.notebook), as_version=4)
            reset = nbformat.v4.new_code_cell(reset_code(self.cwd), metadata={"tags": ["remove-cell"]})
            nb.cells.insert(0, reset)
            # papermill's client connects to the running kernel (km given) and leaves it running
            # written once at the end, not after every cell: rewriting a notebook full of images
            # at each cell was seconds of the report process's CPU. The engine still writes
            # what ran when a kernel dies or a cell times out.
            pm.execute_notebook(
                nb,
                str(job.output),
                parameters=dict(job.parameters),
                kernel_name=self.kernel_name,
                progress_bar=False,
                log_output=False,
                execution_timeout=job.timeout,
                request_save_on_cell_execute=False,
                engine_name=_engine_name(),
                partial_output=str(job.output),
                km=kernel.km,
            )
        except pm.PapermillExecutionError as exc:
            return Outcome("failed", time.perf_counter() - start, last_line(f"{exc.ename}: {exc.evalue}"), kernel.index)
        except Exception as exc:  # kernel died, timeout, unreadable notebook: the run goes on
            # a timed-out cell (nbclient's CellTimeoutError is a TimeoutError) may still be running
            replace = isinstance(exc, TimeoutError) or not kernel.alive()
            return Outcome(
                "failed",
                time.perf_counter() - start,
                last_line(f"{type(exc).__name__}: {exc}"),
                kernel.index,
                replace_kernel=replace,
            )
        return Outcome("ok", time.perf_counter() - start, None, kernel.index)


@functools.cache
def _engine_name() -> str:
    """Register (once) and name the papermill engine that writes a partial notebook on failure.

    With ``request_save_on_cell_execute=False`` papermill writes the executed notebook only when
    every cell has run or a cell raised; a kernel that dies or a cell that times out would leave
    nothing. This engine is papermill's own nbclient engine plus that one write.
    """
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb

    class PartialOutputEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, partial_output=None, **kwargs):
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except BaseException:
                if partial_output:
                    write_ipynb(nb_man.nb, partial_output)
                raise

    papermill_engines.register("sendlib-partial-output", PartialOutputEngine)
    return "sendlib-partial-output"


def last_line(text: str) -> str:
    """The last non-empty line of an error message (what the log and index show)."""
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else str(text)
