"""Warm Jupyter kernels forked from one process that imported the notebooks' modules once.

Every report kernel imports the same modules (pandas, matplotlib, seaborn with scipy.stats,
sendlib): about 3 s of CPU each, paid twice on a two-kernel run, before any notebook can start.
A *zygote* pays it once: a small process started with the report imports the modules, then, for
each kernel the pool wants, forks a child that becomes an ordinary IPython kernel
(``IPKernelApp``) on the connection file jupyter_client wrote. A fork shares the imported
modules copy-on-write, so a kernel is ready in a fraction of a second.

The report side is :class:`Zygote` (starts the process, talks to it) and
:class:`ForkProvisioner`, a jupyter_client ``LocalProvisioner`` whose ``launch_kernel`` asks
the zygote for a fork instead of spawning ``python -m ipykernel_launcher``. Everything else
(connection file, ports, interrupt by SIGINT to the kernel's process group, kill, liveness)
is jupyter_client's own code, driven by the usual ``AsyncKernelManager``.

Each forked kernel starts its own session (``setsid``), so signals for it never reach the
report; the zygote ignores SIGCHLD so the kernels it forked are reaped as they exit, and the
kernels reset SIGCHLD so their own subprocesses behave normally. A kernel whose zygote has gone
exits (ipykernel's parent poller), and the zygote exits when the report closes its stdin.
POSIX only; where ``os.fork`` is missing, or the zygote fails, the pool starts kernels the
ordinary way.

Protocol, one JSON object per line: the report writes ``{"modules": [...]}`` and later
``{"connection_file", "cwd", "env", "stderr"}`` for each kernel; the zygote answers
``{"ready": seconds}`` after the imports and ``{"pid": n}`` (or ``{"error": text}``) per fork.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

#: How long the report waits for the zygote's imports before starting kernels the ordinary way.
READY_TIMEOUT_SECONDS = 300


def fork_supported() -> bool:
    """True where kernels can be forked (POSIX ``os.fork``)."""
    return hasattr(os, "fork") and sys.platform != "win32"


# ----- the zygote process ---------------------------------------------------------------------


def _reply(message: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _import_all(modules: Sequence[str]) -> None:
    """Import each module; names that are not modules and modules that fail are skipped (the
    notebook that imports them reports the error)."""
    import gc
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    if "pandas" in sys.modules:
        # pandas picks display.max_columns at import: 20 inside a Jupyter kernel, 0 (fit the
        # terminal) elsewhere. The zygote is not a kernel yet; its kernels must print as one.
        sys.modules["pandas"].set_option("display.max_columns", 20)
    gc.collect()
    gc.freeze()  # long-lived: kept out of every later collection, and shared copy-on-write


def _become_kernel(request: Mapping[str, Any]) -> None:
    """In the forked child: detach, take the kernel's folder, environment and stderr, and run an
    IPython kernel on the connection file until it is shut down. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDWR)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if request.get("stderr") else null
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(err, 2)
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=["-f", request["connection_file"]])
        code = 0
    except BaseException:  # noqa: BLE001  (reported on the kernel's stderr, then exit)
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def serve(preload: Sequence[str] = ()) -> None:
    """The zygote's main loop (``python -m sendlib.kernel_zygote [module ...]``): ``preload``
    is imported at once, while the report works out the full module list."""
    import importlib
    import time

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked kernels are reaped as they exit
    if sys.path and Path(sys.path[0] or ".").resolve() == Path.cwd():
        del sys.path[0]  # as ipykernel_launcher: the kernel adds its folder back itself
    importlib.import_module("ipykernel.kernelapp")
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # the notebook that imports it reports the error
            pass

    for line in sys.stdin:
        request = json.loads(line)
        if "modules" in request:
            start = time.perf_counter()
            _import_all(request["modules"])
            _reply({"ready": round(time.perf_counter() - start, 3)})
            continue
        try:
            pid = os.fork()
        except OSError as exc:
            _reply({"error": f"fork failed: {exc}"})
            continue
        if pid == 0:
            _become_kernel(request)
        _reply({"pid": pid})


# ----- the report side ------------------------------------------------------------------------


class ZygoteError(RuntimeError):
    """The zygote could not fork a kernel (the pool then starts one the ordinary way)."""


class Zygote:
    """The report's handle on one zygote process: :meth:`load` the modules, :meth:`fork`
    kernels (thread-safe; forks are served one at a time), :meth:`close` at the end."""

    def __init__(self, env: Mapping[str, str], cwd: "str | Path", preload: Sequence[str] = (),
                 stderr_path: "str | Path | None" = None, owns_stderr: bool = False) -> None:
        self.env = dict(env)
        self.stderr_path = Path(stderr_path) if stderr_path else None
        self._owns_stderr = owns_stderr  # a file of its own (prestarted): deleted on close
        stderr = open(self.stderr_path, "ab") if self.stderr_path else None
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "sendlib.kernel_zygote", *preload], cwd=str(cwd), env=dict(env),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1,
            )
        finally:
            if stderr is not None:
                stderr.close()  # the zygote has its own copy
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._failed: str | None = None
        self.import_seconds: float | None = None

    def load(self, modules: Sequence[str]) -> None:
        """Send the module list and wait (in this thread) until the zygote has imported it."""
        try:
            with self._lock:
                self._send({"modules": list(modules)})
                answer = self._receive()
            self.import_seconds = float(answer["ready"])
        except Exception as exc:
            self._failed = f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    def abandon(self, reason: str) -> None:
        """No modules to load after all (working out the list failed): every fork fails at once,
        so kernels start the ordinary way instead of waiting."""
        self._failed = reason
        self._ready.set()

    def fork(self, connection_file: str, cwd: str, env: Mapping[str, str], stderr: "str | None") -> int:
        """Pid of a new kernel forked on ``connection_file``; raises :class:`ZygoteError`."""
        if not self._ready.wait(READY_TIMEOUT_SECONDS):
            raise ZygoteError("the zygote did not finish its imports in time")
        if self._failed:
            raise ZygoteError(self._failed)
        with self._lock:
            try:
                self._send({"connection_file": connection_file, "cwd": cwd, "env": dict(env), "stderr": stderr})
                answer = self._receive()
            except Exception as exc:
                raise ZygoteError(f"{type(exc).__name__}: {exc}") from exc
        if "pid" not in answer:
            raise ZygoteError(str(answer.get("error", answer)))
        return int(answer["pid"])

    def release(self) -> None:
        """No more forks: the zygote exits in the background (:meth:`close` waits for it)."""
        self._ready.set()
        with self._lock:
            if self._proc.stdin and not self._proc.stdin.closed:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()

    def close(self) -> None:
        """End the zygote (its kernels are shut down by their managers)."""
        try:
            self.release()
            self._proc.wait(timeout=10)
        except Exception:
            self._proc.kill()
        if self._proc.stdout:
            self._proc.stdout.close()
        if self._owns_stderr and self.stderr_path is not None:
            self.stderr_path.unlink(missing_ok=True)

    def _send(self, message: Mapping[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise ZygoteError(f"the zygote exited (code {self._proc.poll()})")
        return json.loads(line)


_PRESTARTED: "Zygote | None" = None


def prestart(env: Mapping[str, str], preload: Sequence[str] = ()) -> None:
    """Start a zygote now, for the :class:`~sendlib.kernel_pool.KernelPool` made later in this
    process to :func:`adopt`: ``sendlib report`` calls this first thing, so the zygote imports
    while the report process itself is still importing and loading. Does nothing where kernels
    are not forked or a zygote is already waiting; one never adopted is closed at exit."""
    global _PRESTARTED
    if not fork_supported() or _PRESTARTED is not None:
        return
    import atexit
    import tempfile

    fd, stderr = tempfile.mkstemp(prefix="sendlib-zygote-", suffix=".stderr")
    os.close(fd)
    try:
        _PRESTARTED = Zygote(env, Path.cwd(), preload, stderr_path=stderr, owns_stderr=True)
    except OSError:
        Path(stderr).unlink(missing_ok=True)
        return
    atexit.register(discard_prestarted)


def adopt(env: Mapping[str, str]) -> "Zygote | None":
    """The prestarted zygote if it runs with exactly ``env`` (it is then the caller's to close);
    otherwise None, and a prestarted zygote with another environment is closed."""
    global _PRESTARTED
    zygote, _PRESTARTED = _PRESTARTED, None
    if zygote is not None and zygote.env != dict(env):
        zygote.close()
        return None
    return zygote


def discard_prestarted() -> None:
    """Close a prestarted zygote nobody adopted (kernels not forked after all, or the run
    stopped before starting them)."""
    global _PRESTARTED
    zygote, _PRESTARTED = _PRESTARTED, None
    if zygote is not None:
        zygote.close()


class ForkedProcess:
    """A ``subprocess.Popen`` stand-in for a kernel the zygote forked (not our child, so no
    ``waitpid``: liveness is ``kill(pid, 0)``; the zygote reaps it)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
            except PermissionError:  # the pid was reused by someone else's process
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def fork_provisioner(zygote: Zygote, stderr: "str | Path | None", **traits: Any) -> Any:
    """A jupyter_client provisioner that launches its kernel by forking ``zygote``
    (``traits``: ``kernel_id``, ``kernel_spec``, ``parent``, as for any provisioner)."""
    from jupyter_client.provisioning import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            km = self.parent
            cwd = str(kwargs.get("cwd") or Path.cwd())
            env = kwargs.get("env") or dict(os.environ)
            pid = zygote.fork(km.connection_file, cwd, env, None if stderr is None else str(stderr))
            self.process = ForkedProcess(pid)
            self.pid = pid
            self.pgid = pid  # the child calls setsid: its own process group
            self.cwd = cwd
            return self.connection_info

    return ForkProvisioner(**traits)


if __name__ == "__main__":
    serve(sys.argv[1:])
