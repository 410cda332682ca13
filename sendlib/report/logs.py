"""The run's log and progress: ``run.log`` in the pack, a progress bar on a terminal, plain
lines otherwise, and the kernels' stderr copied into the log with identifiers redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sendlib.report.checks import Identifiers, redact
from sendlib.report.notebook_tools import replace_machine_paths

if TYPE_CHECKING:
    from sendlib.report.runner import NotebookResult

LOG = logging.getLogger("sendlib.report")


class Progress:
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


class _NoMachinePaths(logging.Formatter):
    """A formatter that writes each machine folder as its stand-in (``<sendlib>``, ``~``...):
    ``run.log`` is part of the pack, which must name no machine path."""

    def __init__(self, fmt: str, datefmt: str, stand_ins: Mapping[str, str]) -> None:
        super().__init__(fmt, datefmt)
        self.stand_ins = dict(stand_ins)

    def format(self, record: logging.LogRecord) -> str:
        return replace_machine_paths(super().format(record), self.stand_ins)


def attach_log(
    log_file: Path, tty: bool, quiet: bool, stand_ins: Mapping[str, str] | None = None
) -> list[logging.Handler]:
    """Log to ``log_file`` (everything, machine folders written as ``stand_ins``) and, unless
    ``quiet``, steps and failures to the console."""
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)  # run.log also holds the kernels' stderr
    file_fmt = _NoMachinePaths("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z", stand_ins or {})
    handlers: list[logging.Handler] = [file_handler]
    if not quiet:
        console = _TqdmHandler() if tty else logging.StreamHandler(sys.stderr)
        console.setLevel(logging.INFO)
        # nbconvert's accessibility hints ("Alternative text is missing") are for notebook
        # authors: run.log only, so a scheduled run's console shows steps and failures.
        console.addFilter(lambda r: not (r.name.endswith(".nbconvert") and r.levelno < logging.ERROR))
        handlers.append(console)
    for h in handlers:
        h.setFormatter(file_fmt if h is file_handler else fmt)
        LOG.addHandler(h)
    LOG.setLevel(logging.DEBUG)
    LOG.propagate = False
    return handlers


def flush_log() -> None:
    for h in LOG.handlers:
        h.flush()


def log_kernel_stderr(path: Path, identifiers: Identifiers) -> None:
    """Copy a kernel's stderr (start-up messages, warnings, crashes) into run.log, redacted."""
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip():
            LOG.debug("%s: %s", path.stem, redact(line.rstrip(), identifiers))
