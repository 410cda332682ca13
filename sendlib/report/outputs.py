"""The output folder: one run per quarter at a time, and a pack replaced only when complete.

``quarter_lock`` holds an operating-system file lock (the ``filelock`` library, the same on Linux,
macOS and Windows) on ``<output_dir>/.<quarter>.lock``; the OS releases it when the process
ends, however it ends, so a lock left by a crashed run never blocks the next one.
``replace_atomically`` moves a finished pack into place by renames.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from sendlib.core.errors import ReportFailed


@contextlib.contextmanager
def quarter_lock(output_dir: str | Path, quarter: str) -> Iterator[Path]:
    """Hold ``<output_dir>/.<quarter>.lock`` for the run, so two runs cannot write one quarter.

    The lock is the operating system's (:class:`filelock.FileLock`), released when the run ends
    or its process dies; who holds it (process, host, start time) is written beside it in
    ``.<quarter>.lock.json`` for the message a second run prints, and removed at the end. The
    empty lock file itself stays: deleting it could let two later runs lock two different files.
    Raises :class:`ReportFailed` at once when another run holds it.
    """
    import socket

    import filelock

    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / f".{quarter}.lock"
    holder_path = folder / f".{quarter}.lock.json"
    lock = filelock.FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        try:
            held = json.loads(holder_path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            held = {}
        raise ReportFailed(
            f"another report run is writing quarter {quarter} (lock {lock_path} held by process "
            f"{held.get('pid', 'unknown')} on {held.get('host', 'unknown host')} since "
            f"{held.get('started', 'an unknown time')}); wait for it to finish"
        ) from None
    try:
        holder_path.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                }
            ),
            encoding="utf-8",
        )
        yield lock_path
    finally:
        with contextlib.suppress(OSError):
            holder_path.unlink()
        lock.release()


def replace_atomically(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final``; an existing ``final`` is moved aside first, then deleted.

    Both are in the same folder, so each step is a rename. If the second rename fails, the old
    output is moved back.
    """
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{stamp()}")
        os.replace(final, old)
    try:
        os.replace(tmp, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
