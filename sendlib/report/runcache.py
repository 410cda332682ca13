"""A report run's private cache: what one notebook computed, the next one reuses.

``sendlib report`` makes one folder per run (in the system temporary folder, mode 0700, never
under ``outputs/``), passes it to every notebook as the ``run_cache`` parameter, and deletes it
when the run ends. Three things go in it:

* ``tables.zip``: the canonical tables exactly as the report loaded and validated them, so no
  notebook parses the CSVs again (:func:`save_tables`, :func:`load_tables`; a notebook reads only
  the tables it names);
* ``validation.zip``: the quality gate's :class:`~sendlib.quality.gate.ValidationReport`, which the
  data-quality section shows instead of validating a second time;
* one entry per costly shared result, such as the person-level projection that the forecast,
  sufficiency and finance sections all use (:func:`cached`): the first kernel to ask computes it
  under an exclusive file lock, a second kernel asking at the same time waits and reads it.

Results of identical inputs are also kept between runs in the **reuse store**
(:func:`reuse_store`): ``paths.cache_dir`` in the config, else the user's cache folder
(``platformdirs.user_cache_dir("sendlib")``), never under the output folder, created owner-only
(:func:`private_dir`). ``sendlib cache clear`` empties it (:func:`clear_store`).

Every file is written by :mod:`sendlib.report.safe_store`: JSON, Parquet and ``.npy`` in a zip,
never pickle, so reading a file someone else planted cannot run code. Outside a report (an
analyst running a notebook in JupyterLab) there is no run cache: every function here then simply
computes or loads as usual.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from sendlib.core.fingerprint import cache_key
from sendlib.report import safe_store

if TYPE_CHECKING:
    import filelock

    from sendlib.core.config import Config

T = TypeVar("T")
LOG = logging.getLogger("sendlib.report")

#: file suffix of every stored value (a zip written by :mod:`sendlib.report.safe_store`)
SUFFIX = ".zip"
TABLES_FILE = f"tables{SUFFIX}"
VALIDATION_FILE = f"validation{SUFFIX}"
#: names the folder where results may be reused between runs (absent: no reuse, e.g. --fresh)
STORE_FILE = "store.txt"
#: stored results kept per kind (older ones are deleted when a new one is stored)
KEEP_PER_NAME = 3


#: the folder name earlier versions kept pickles in, under the output folder (deleted by a run)
LEGACY_CACHE_DIR = ".cache"
#: names of what this module writes in a reuse store: ``<name>-<24 hex>.zip`` and their locks
_ENTRY = re.compile(r"[A-Za-z0-9_]+-[0-9a-f]{24}(\.zip|\.lock)")


def new_run_cache(prefix: str = "sendlib-run-") -> Path:
    """Create an empty private run-cache folder (mode 0700) in the system temporary folder."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def default_cache_dir() -> Path:
    """The user's own cache folder for sendlib (``platformdirs.user_cache_dir("sendlib")``:
    ``~/.cache/sendlib`` on Linux, ``~/Library/Caches/sendlib`` on macOS,
    ``%LOCALAPPDATA%\\sendlib\\Cache`` on Windows)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("sendlib", appauthor=False))


def cache_dir_of(config: Config) -> Path:
    """Where the reuse store is for ``config``: ``paths.cache_dir`` (resolved from the config
    file's folder), else :func:`default_cache_dir`. Whether reuse is on is :func:`reuse_store`.

    Raises :class:`~sendlib.core.errors.ConfigError` (exit 2) when that folder is the output
    folder or inside it: the store holds person-level data, and the output folder is published.
    """
    from sendlib.core.errors import ConfigError

    store = Path(config.cache_dir) if config.cache_dir is not None else default_cache_dir()
    out = Path(config.output_dir)
    if store.resolve().is_relative_to(out.resolve()):
        what = "paths.cache_dir (or --cache-dir)" if config.cache_dir is not None else "the user's cache folder"
        raise ConfigError(
            f"config file {Path(config.path).name}: {what} is inside paths.output_dir (or --output-dir); "
            "the cache holds person-level data and must never be under the published output folder: "
            "choose a private folder outside it, or leave paths.cache_dir out (the user's cache folder)"
        )
    return store


def reuse_store(config: Config) -> Path | None:
    """Where results are kept for later runs with identical inputs (:func:`cache_dir_of`), or
    None when the config's ``report.reuse`` is false. The folder is created (owner-only) only
    when something is kept in it."""
    if not config.report.reuse:
        return None
    return cache_dir_of(config)


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) if needed and make it owner-only (0700) on POSIX.

    On Windows the user's cache folder is already private to the user (its access list), so
    nothing is changed there. Returns the folder.
    """
    folder = Path(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if os.name == "posix" and mode != 0o700:
        LOG.warning("the cache folder (sendlib cache info) was mode %o; made it owner-only (700)", mode)
        folder.chmod(0o700)
    return folder


def remove_legacy_cache(output_dir: str | Path) -> Path | None:
    """Delete ``<output_dir>/.cache`` where earlier versions kept pickles of the loaded tables
    (every person id) and the projection; returns the folder deleted, or None."""
    legacy = Path(output_dir) / LEGACY_CACHE_DIR
    if legacy.is_symlink():  # the link only, never what it points to
        legacy.unlink()
        return legacy
    if not legacy.is_dir():
        return None
    shutil.rmtree(legacy)
    return legacy


def store_entries(store: str | Path) -> list[Path]:
    """The files this module wrote in a reuse store (stored results, their locks, temporary
    files of an interrupted write), sorted; other files in the folder are not listed."""
    folder = Path(store)
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and (_ENTRY.fullmatch(p.name) or (p.name.startswith(".") and p.name.endswith(".tmp")))
    )


def store_size(store: str | Path) -> tuple[int, int]:
    """``(stored results, bytes of every entry)`` in a reuse store."""
    entries = store_entries(store)
    return sum(1 for p in entries if p.suffix == SUFFIX), sum(p.stat().st_size for p in entries)


def clear_store(store: str | Path) -> tuple[int, int]:
    """Delete every entry of a reuse store (and the folder when that leaves it empty); returns
    ``(stored results deleted, bytes freed)``. Files this module did not write are left alone."""
    results, size = store_size(store)
    for p in store_entries(store):
        p.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        Path(store).rmdir()  # only when empty
    return results, size


def _folder(run_cache: str | Path | None) -> Path | None:
    return Path(run_cache) if run_cache not in (None, "") else None


def _write_atomically(path: Path, obj: Any) -> None:
    """Store ``obj`` (:func:`sendlib.report.safe_store.dump`: owner-only file, atomic rename)."""
    safe_store.dump(obj, path)


def _read(path: Path, only: list[str] | None = None) -> Any:
    return safe_store.load(path, only)


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
    tables: dict[str, pd.DataFrame] = _read(folder / TABLES_FILE, names)
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
    return _read(folder / VALIDATION_FILE)


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
    path = folder / f"{name}-{cache_key(parts)}{SUFFIX}"
    with _locked(path.with_suffix(".lock")):
        if path.is_file():
            return _read(path)
        store, take = store_of(folder) if reusable is not None else (None, False)
        kept = (
            store / f"{name}-{cache_key({**parts, **reusable()})}{SUFFIX}" if store is not None and reusable else None
        )
        if kept is not None and take and kept.is_file():
            try:
                value = _read(kept)
            except Exception as exc:  # an unreadable (or refused) stored result is computed again
                LOG.warning("stored result %s not used (%s); computing it again", kept.name, exc)
            else:
                # later callers of this run find it at once, without working out the key again
                with contextlib.suppress(OSError):
                    path.symlink_to(kept.resolve())
                return value
        value = compute()
        _write_atomically(path, value)
        if kept is not None:
            private_dir(kept.parent)
            _write_atomically(kept, value)
            _prune(kept.parent, name)
        return value


def lookup(store: str | Path | None, name: str, parts: Mapping[str, Any]) -> Any | None:
    """The result an earlier run kept in ``store`` under ``name`` and the key of ``parts``, or
    None (no store, nothing kept, or unreadable)."""
    if store is None:
        return None
    path = Path(store) / f"{name}-{cache_key(parts)}{SUFFIX}"
    if not path.is_file():
        return None
    try:
        return _read(path)
    except Exception as exc:  # an unreadable (or refused) stored result is simply computed again
        LOG.warning("stored result %s not used (%s); computing it again", path.name, exc)
        return None


def keep(store: str | Path | None, name: str, parts: Mapping[str, Any], value: Any) -> None:
    """Keep ``value`` in ``store`` for later runs (the newest :data:`KEEP_PER_NAME` of a kind)."""
    if store is None:
        return
    path = Path(store) / f"{name}-{cache_key(parts)}{SUFFIX}"
    private_dir(path.parent)
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
    entries = sorted(store.glob(f"{name}-*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
