"""A report run's private cache: what one notebook computed, the next one reuses.

``sendlib report`` makes one folder per run (in the system temporary folder, never under
``outputs/``), passes it to every notebook as the ``run_cache`` parameter, and deletes it when the
run ends. Three things go in it:

* ``tables.pkl``: the canonical tables exactly as the report loaded and validated them, so no
  notebook parses the CSVs again (:func:`save_tables`, :func:`load_tables`);
* ``validation.pkl``: the quality gate's :class:`~sendlib.quality.gate.ValidationReport`, which the
  data-quality section shows instead of validating a second time;
* one entry per costly shared result, such as the person-level projection that the forecast,
  sufficiency and finance sections all use (:func:`cached`): the first kernel to ask computes it
  under an exclusive file lock, a second kernel asking at the same time waits and reads it.

Outside a report (an analyst running a notebook in JupyterLab) there is no run cache: every
function here then simply computes or loads as usual. The folder holds pickles written by this
run only (mode 0700), which is why reading them back is safe.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from sendlib.core.fingerprint import cache_key

if TYPE_CHECKING:
    import filelock

T = TypeVar("T")

TABLES_FILE = "tables.pkl"
VALIDATION_FILE = "validation.pkl"
#: names the folder where results may be reused between runs (absent: no reuse, e.g. --fresh)
STORE_FILE = "store.txt"
#: stored results kept per kind (older ones are deleted when a new one is stored)
KEEP_PER_NAME = 3


def new_run_cache(prefix: str = "sendlib-run-") -> Path:
    """Create an empty private run-cache folder (mode 0700) in the system temporary folder."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def _folder(run_cache: str | Path | None) -> Path | None:
    return Path(run_cache) if run_cache not in (None, "") else None


def _write_atomically(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def save_tables(run_cache: str | Path, tables: Mapping[str, pd.DataFrame]) -> Path:
    """Store the run's canonical tables (as loaded and validated) for the notebooks."""
    path = Path(run_cache) / TABLES_FILE
    _write_atomically(path, dict(tables))
    return path


def load_tables(run_cache: str | Path | None, names: list[str] | None = None) -> dict[str, pd.DataFrame] | None:
    """The run's tables (or ``names`` of them, in that order) as fresh copies; ``None`` when there
    is no run cache or it holds no tables, so the caller loads from the files instead."""
    folder = _folder(run_cache)
    if folder is None or not (folder / TABLES_FILE).is_file():
        return None
    if names is not None and not names:
        return {}
    with open(folder / TABLES_FILE, "rb") as fh:
        tables: dict[str, pd.DataFrame] = pickle.load(fh)
    if names is None:
        return tables
    missing = [n for n in names if n not in tables]
    if missing:
        return None
    return {n: tables[n] for n in names}


def save_validation(run_cache: str | Path, report: Any) -> Path:
    """Store the quality gate's result for the data-quality section."""
    path = Path(run_cache) / VALIDATION_FILE
    _write_atomically(path, report)
    return path


def load_validation(run_cache: str | Path | None) -> Any | None:
    """The gate's result stored by the report, or ``None`` outside a report run."""
    folder = _folder(run_cache)
    if folder is None or not (folder / VALIDATION_FILE).is_file():
        return None
    with open(folder / VALIDATION_FILE, "rb") as fh:
        return pickle.load(fh)


def set_store(run_cache: str | Path, store: str | Path | None, reuse: bool = True) -> None:
    """Let :func:`cached` keep results for later runs in ``store`` (None: never) and, when
    ``reuse``, take results earlier runs kept there (``--fresh``: keep, but do not take)."""
    path = Path(run_cache) / STORE_FILE
    if store is None:
        path.unlink(missing_ok=True)
    else:  # the store folder itself is created only when something is kept in it
        path.write_text(f"{'reuse' if reuse else 'keep'}\n{Path(store).resolve()}", encoding="utf-8")


def store_of(run_cache: str | Path | None) -> tuple[Path | None, bool]:
    """The folder where results are kept between runs (None: no keeping), and whether results
    kept there by earlier runs may be taken."""
    folder = _folder(run_cache)
    if folder is None or not (folder / STORE_FILE).is_file():
        return None, False
    mode, _, path = (folder / STORE_FILE).read_text(encoding="utf-8").partition("\n")
    return Path(path.strip()), mode == "reuse"


def _locked(path: Path) -> filelock.FileLock:
    """An exclusive lock on ``path`` between the run's kernels (processes), on every OS."""
    import filelock

    return filelock.FileLock(path)


def cached(
    run_cache: str | Path | None,
    name: str,
    parts: Mapping[str, Any],
    compute: Callable[[], T],
    *,
    reusable: Callable[[], Mapping[str, Any]] | None = None,
) -> T:
    """``compute()`` once per run: stored in the run cache under ``name`` and a key of ``parts``.

    Without a run cache it just returns ``compute()``. With one, the first caller computes under
    an exclusive lock and stores the result; later callers, including other kernels of the same
    run waiting on the lock, read the stored copy. When the report keeps results between runs
    (:func:`store_of`) and ``reusable`` is given, ``reusable()`` adds what identifies the inputs
    completely (table contents, code) to the key; the result is kept under that key, and one an
    earlier run kept is taken instead of computed (unless the run is ``--fresh``).
    """
    folder = _folder(run_cache)
    if folder is None:
        return compute()
    path = folder / f"{name}-{cache_key(parts)}.pkl"
    with _locked(path.with_suffix(".lock")):
        if path.is_file():
            with open(path, "rb") as fh:
                return pickle.load(fh)
        store, take = store_of(folder) if reusable is not None else (None, False)
        kept = store / f"{name}-{cache_key({**parts, **reusable()})}.pkl" if store is not None and reusable else None
        if kept is not None and take and kept.is_file():
            try:
                with open(kept, "rb") as fh:
                    value = pickle.load(fh)
            except Exception:  # an unreadable stored result is computed again
                pass
            else:
                # later callers of this run find it at once, without working out the key again
                with contextlib.suppress(OSError):
                    path.symlink_to(kept.resolve())
                return value
        value = compute()
        _write_atomically(path, value)
        if kept is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(kept, value)
            _prune(kept.parent, name)
        return value


def lookup(store: str | Path | None, name: str, parts: Mapping[str, Any]) -> Any | None:
    """The result an earlier run kept in ``store`` under ``name`` and the key of ``parts``, or
    None (no store, nothing kept, or unreadable)."""
    if store is None:
        return None
    path = Path(store) / f"{name}-{cache_key(parts)}.pkl"
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # an unreadable stored result is simply computed again
        return None


def keep(store: str | Path | None, name: str, parts: Mapping[str, Any], value: Any) -> None:
    """Keep ``value`` in ``store`` for later runs (the newest :data:`KEEP_PER_NAME` of a kind)."""
    if store is None:
        return
    path = Path(store) / f"{name}-{cache_key(parts)}.pkl"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, value)
    _prune(path.parent, name)


def reused(
    store: str | Path | None, name: str, parts: Mapping[str, Any], compute: Callable[[], T], take: bool = True
) -> tuple[T, str | None]:
    """``compute()``, or the result an earlier run kept in ``store`` under the same key.

    Returns ``(value, key)`` with ``key`` set only when the value was reused. ``parts`` must
    identify the inputs completely (contents, code, settings). Nothing is kept when ``compute``
    raises; without a store it just computes; ``take=False`` computes and keeps (``--fresh``).
    """
    found = lookup(store, name, parts) if take else None
    if found is not None:
        return found, cache_key(parts)
    value = compute()
    keep(store, name, parts, value)
    return value, None


def _prune(store: Path, name: str, keep: int = KEEP_PER_NAME) -> None:
    """Keep only the ``keep`` most recent stored results of each kind."""
    entries = sorted(store.glob(f"{name}-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
